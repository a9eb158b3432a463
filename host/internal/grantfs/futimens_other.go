//go:build unix && !linux

package grantfs

import experimentalsys "github.com/tetratelabs/wazero/experimental/sys"

// futimens is not offered here: wazero then sets the times by the file's
// path, which FS.Utimens resolves beneath the root.
func futimens(int, int64, int64) error { return experimentalsys.ENOSYS }
