// Package e2e tests wactor end to end: it builds the wactor binary and real
// guest modules, starts the binary on a free port of 127.0.0.1 with a
// temporary manifest and data folder, and talks to it over HTTP and with
// "wactor call", as an operator would. It has tests only.
package e2e
