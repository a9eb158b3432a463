package manifest

import (
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/goccy/go-yaml/ast"
)

// DirMode says whether a guest may write to a granted folder.
type DirMode string

// The modes of a granted folder.
const (
	// DirReadOnly lets the guest read the folder; writes fail.
	DirReadOnly DirMode = "ro"
	// DirReadWrite lets the guest read and write the folder.
	DirReadWrite DirMode = "rw"
)

// DefaultDirMode is the mode of a dirs entry that gives none.
const DefaultDirMode = DirReadOnly

// Dir grants the guests of a type one folder of the host (a WASI
// preopened directory).
type Dir struct {
	// Host is the absolute path of the host folder; the manifest may give
	// it relative to its own folder. It must exist and be a folder.
	Host string `yaml:"host"`
	// Guest is where the guest sees the folder: an absolute path such as
	// /data.
	Guest string `yaml:"guest"`
	// Mode is [DirReadOnly] or [DirReadWrite]. Default [DefaultDirMode].
	Mode DirMode `yaml:"mode"`
}

var dirSection = newSection[Dir]("in a dirs entry", map[string]string{
	"host":  "add host: <folder of this machine, relative to the manifest's folder>",
	"guest": "add guest: <absolute path the actor opens it as, e.g. /data>",
})

// env reads the env mapping of an actor: names to string values.
func (d *decoder) env(v ast.Node, p string) map[string]string {
	mm, _, ok := d.mapping(v, p, "a mapping of environment variable names to values, e.g. {LOG_LEVEL: debug}")
	if !ok || mm == nil {
		return nil
	}
	env := map[string]string{}
	for _, e := range d.entries(mm, p, 0) {
		ep := join(p, e.key)
		if e.key == "" || strings.ContainsAny(e.key, "=\x00") {
			d.errAt(e.keyNode, ep, "environment variable name %s must be non-empty without '=' or NUL", quote(e.key))
			continue
		}
		s, site, ok := d.str(e.value, ep, "the variable's value")
		if !ok {
			continue
		}
		if strings.ContainsRune(s, 0) {
			d.errAt(site, ep, "the value of %s contains a NUL byte, which an environment variable cannot hold", e.key)
			continue
		}
		env[e.key] = s
	}
	return env
}

// dirs reads the dirs list of an actor.
func (d *decoder) dirs(v ast.Node, p string) []Dir {
	n, site, ok := d.value(v, p)
	if !ok {
		return nil
	}
	if _, null := n.(*ast.NullNode); null || isNil(n) {
		return nil
	}
	seq, isSeq := n.(*ast.SequenceNode)
	if !isSeq {
		d.wrongType(site, p, "a list of folders, e.g. [{host: ./files, guest: /data, mode: ro}]", n, "")
		return nil
	}
	var out []Dir
	seen := map[string]ast.Node{}
	for i, item := range seq.Values {
		ip := fmt.Sprintf("%s[%d]", p, i)
		dir, guestSite, ok := d.dirEntry(item, ip)
		if !ok {
			continue
		}
		if first, dup := seen[dir.Guest]; dup {
			line, _ := position(first)
			d.errAt(guestSite, join(ip, "guest"), "guest path %s is already granted at line %d; give each folder its own guest path", dir.Guest, line)
			continue
		}
		seen[dir.Guest] = guestSite
		out = append(out, dir)
	}
	return out
}

// dirEntry reads one entry of a dirs list.
func (d *decoder) dirEntry(v ast.Node, p string) (Dir, ast.Node, bool) {
	dir := Dir{Mode: DefaultDirMode}
	mm, site, ok := d.mapping(v, p, "a mapping giving host, guest and mode")
	if !ok {
		return dir, nil, false
	}
	if mm == nil {
		d.errAt(site, p, "empty entry; give host and guest")
		return dir, nil, false
	}
	var guestSite ast.Node
	valid := true
	present := d.fields(mm, site, p, dirSection, func(key string, v ast.Node, fp string) {
		switch key {
		case "host":
			s, site, ok := d.str(v, fp, "a folder of this machine")
			if !ok {
				valid = false
				return
			}
			if s == "" {
				d.errAt(site, fp, "empty path; give the folder to grant, relative to the manifest's folder")
				valid = false
				return
			}
			dir.Host = d.abs(s)
			fi, err := os.Stat(dir.Host)
			switch {
			case err != nil && os.IsNotExist(err):
				d.errAt(site, fp, "folder %s does not exist; create it or fix the path (relative paths start at the manifest's folder %s)", dir.Host, d.dir)
				valid = false
			case err != nil:
				d.errAt(site, fp, "cannot use %s: %v", dir.Host, err)
				valid = false
			case !fi.IsDir():
				d.errAt(site, fp, "%s is not a folder; dirs grants folders, not single files", dir.Host)
				valid = false
			}
		case "guest":
			s, site, ok := d.str(v, fp, "an absolute path such as /data")
			if !ok {
				valid = false
				return
			}
			switch {
			case !strings.HasPrefix(s, "/"):
				d.errAt(site, fp, "guest path %s must be absolute, e.g. /data", quote(s))
				valid = false
			case s == "/":
				d.errAt(site, fp, "guest path / would shadow every other path; mount the folder under a name such as /data")
				valid = false
			case path.Clean(s) != s:
				d.errAt(site, fp, "guest path %s is not clean; write %s", quote(s), path.Clean(s))
				valid = false
			}
			dir.Guest, guestSite = s, site
		case "mode":
			s, site, ok := d.str(v, fp, "ro or rw")
			if !ok {
				valid = false
				return
			}
			switch DirMode(s) {
			case DirReadOnly, DirReadWrite:
				dir.Mode = DirMode(s)
			default:
				d.errAt(site, fp, "mode must be ro (read-only) or rw (read-write), got %s", quote(s))
				valid = false
			}
		}
	})
	_, hasHost := present["host"]
	_, hasGuest := present["guest"]
	return dir, guestSite, valid && hasHost && hasGuest
}
