// Package grantfs is the file system a folder grant gives a guest: a
// wazero sys.FS in which every path is resolved beneath the granted folder
// by the operating system, through Go's os.Root, never by comparing
// strings.
//
// os.Root holds a descriptor of the folder and walks each path one
// component at a time with openat and O_NOFOLLOW, following a symbolic link
// only when its target stays beneath the root. So nothing a guest names,
// whether through "..", a symbolic link it made, one already there, or a
// folder swapped for a link between two of its calls, reaches a file
// outside: such a path fails with EPERM, a chain of more than 8 links with
// ELOOP. Operations on the last component that must not follow it (unlink,
// rmdir, open with O_NOFOLLOW) run with the *at system calls on a
// descriptor of the parent folder, itself opened beneath the root.
//
// Symbolic links a guest creates must have a relative target that, read
// from the link's folder, stays beneath the root; others are refused with
// EPERM, so that a guest cannot plant a link out of the folder for the
// host's own tools to follow. The guarantee does not rest on that check: a
// link that points out however it got there (made by the host, or moved by
// a rename) is refused when followed. A hard link names an existing file
// beneath the root on both sides and never follows a symbolic link, so a
// guest cannot link a file from outside in.
//
// A read-only FS refuses every create, write, delete, rename, link and
// change of mode or times with EROFS, and opens files for reading only.
// Modes a guest sets are masked to the permission bits (no setuid, setgid
// or sticky bit).
package grantfs
