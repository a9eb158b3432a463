package manifest

import (
	"fmt"
	"os"

	"github.com/goccy/go-yaml/ast"
)

// Bounds of the control plane's bearer token, wherever it comes from (the
// manifest, a token file, $WACTOR_TOKEN).
const (
	// MinTokenLen is the shortest token accepted, in bytes: 16 random
	// bytes of hex or base64 are beyond guessing over HTTP.
	MinTokenLen = 16
	// MaxTokenLen is the longest token accepted, in bytes.
	MaxTokenLen = 4096
)

// CheckToken explains what is wrong with a bearer token, or returns "". A
// token is MinTokenLen to MaxTokenLen bytes of visible ASCII (no spaces),
// which an HTTP header carries unchanged. The explanation never contains
// the token.
func CheckToken(tok string) string {
	const hint = "make one with: openssl rand -hex 32"
	switch {
	case tok == "":
		return "the token is empty; " + hint
	case len(tok) < MinTokenLen:
		return fmt.Sprintf("the token is %d bytes, too short to resist guessing; use at least %d (%s)", len(tok), MinTokenLen, hint)
	case len(tok) > MaxTokenLen:
		return fmt.Sprintf("the token is %d bytes; the most is %d", len(tok), MaxTokenLen)
	}
	for i := 0; i < len(tok); i++ {
		if c := tok[i]; c <= ' ' || c > '~' {
			return fmt.Sprintf("byte %d of the token is a space, a control character or not ASCII; "+
				"a token is visible ASCII only, as an HTTP header carries it (%s)", i+1, hint)
		}
	}
	return ""
}

// token reads http.token: the token itself, in the manifest.
func (d *decoder) token(v ast.Node, p string, h *HTTP) {
	s, site, ok := d.str(v, p, "the control plane's bearer token")
	if !ok {
		return
	}
	if msg := CheckToken(s); msg != "" {
		d.errAt(site, p, "%s", msg)
		return
	}
	h.Token = s
}

// tokenFile reads http.token_file: a file that holds the token. The file
// is read when wactor starts; here it must exist and be a regular file.
func (d *decoder) tokenFile(v ast.Node, p string, h *HTTP) {
	s, site, ok := d.str(v, p, "the path of a file that holds the token")
	if !ok {
		return
	}
	if s == "" {
		d.errAt(site, p, "empty path; name the file that holds the token, relative to the manifest's folder")
		return
	}
	path := d.abs(s)
	fi, err := os.Stat(path)
	switch {
	case err != nil && os.IsNotExist(err):
		d.errAt(site, p, "token file %s does not exist; create it (e.g. openssl rand -hex 32 > %s; chmod 600 %s) or fix the path", path, path, path)
	case err != nil:
		d.errAt(site, p, "cannot use token file %s: %v", path, err)
	case !fi.Mode().IsRegular():
		d.errAt(site, p, "token file %s is not a regular file", path)
	default:
		h.TokenFile = path
	}
}
