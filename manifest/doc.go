// Package manifest reads and validates wactor.yaml, the file in which an
// operator names the actor types a wactor host runs, the WebAssembly module
// of each, and their limits.
//
// Parsing is strict: an unknown key, a value of the wrong type, a missing
// required field, an invalid value, a duplicate actor type, a missing module
// file or a file that is not a WebAssembly module are all errors. Every
// problem is reported at once, each with the place it was found and what to
// do about it, in the form
//
//	wactor.yaml:7:5: actors[0].modul: unknown field "modul" (did you mean "module"?)
//
// The result of [Load] or [Parse] is a [Manifest] with every default applied
// (see the Default constants) and every relative path resolved against the
// manifest's folder, so its users never have to interpret the file again.
//
// The package depends only on the standard library and
// github.com/goccy/go-yaml. The format is documented in docs/manifest.md and
// described for editors by the JSON Schema docs/wactor.schema.json.
package manifest
