// Package gateway is the HTTP API of a wactor host: an http.Handler that
// turns requests into asks and tells and their outcomes into answers.
//
//	POST /v1/actors/{type}/{id}/{method}   ask (or, with Prefer: respond-async, tell)
//	GET  /v1/actors                        the live activations
//	GET  /v1/types                         the deployed types and their limits
//	GET  /v1/actors/{type}/{id}/state      an actor's committed state, read only
//	GET  /v1/deadletters                   the tells the host gave up on (and replay, delete)
//	GET  /ui/                              the web dashboard (docs/dashboard.md)
//	GET  /healthz                          the process is up
//	GET  /readyz                           the host takes messages
//
// Calling actors and the two probes are open to every client; every other
// route is the control plane and, when Config.Token is set, needs
// "Authorization: Bearer <token>" (401 unauthorized otherwise), or the
// dashboard's session cookie, which its login form exchanges for the
// token. A route is control unless the gateway's route table marks it
// public.
//
// Bodies are JSON or CBOR. Actors speak CBOR, so a JSON body is converted
// to CBOR before it reaches the actor, and a reply converted back to JSON
// when the caller asked in JSON: integers stay integers (exact, whatever
// their size), byte strings become base64 strings. Errors use the one
// vocabulary of error codes (abi.Code*) and come as
// {"error":{"code":"...","message":"..."}} with the HTTP status of the
// code: 404 for unknown_type, 422 for an actor's own code, and so on.
//
// docs/http.md in the repository is the reference, with curl examples.
package gateway
