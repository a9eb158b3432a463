/*
 * wactortest.h - run a C actor natively, without WebAssembly, for unit
 * tests: compile the actor with wactor.c and wactortest.c for the build
 * machine (cc, not clang --target=wasm32-wasi) and call its methods.
 *
 *   wactortest_init("counter/a");
 *   wactor_buf reply = WACTOR_BUF_INIT;
 *   if (wactortest_call("add", payload, n, &reply) != WACTOR_OK) ...
 *
 * The in-memory host keeps the runtime's turn semantics (state writes and
 * tells buffered, committed only if the turn succeeds; reads see the turn's
 * own writes) and its limits (wactor_limits.h, the numbers of the Go
 * host's abi package): a state key over WACTOR_MAX_KEY_LEN, a value over
 * WACTOR_DEFAULT_MAX_MESSAGE, an empty or too long method, too many tells,
 * a bad timer or reminder name are refused with the host's codes. An ask
 * to the actor itself fails with deadlock; any other ask with
 * unknown_type (there is no other actor). Cron expressions are not parsed.
 */
#ifndef WACTORTEST_H
#define WACTORTEST_H

#include "wactor.h"

/* Forgets everything (state, tells, logs, timers, reminders) and makes
 * self ("type/id") the actor under test. */
void wactortest_init(const char *self);
/* Delivers a message from outside to method and runs its turn. On
 * WACTOR_OK, reply holds the reply's payload (replaced); on WACTOR_ERR,
 * wactortest_code and wactortest_message say why. */
int wactortest_call(const char *method, const void *payload, size_t n, wactor_buf *reply);
/* The code and message of the last failed call; "" after a success. */
const char *wactortest_code(void);
const char *wactortest_message(void);
/* The committed value of key: WACTOR_OK with *value and *n (valid until the
 * next call), or WACTOR_NOT_FOUND. */
int wactortest_state(const char *key, const uint8_t **value, size_t *n);
/* How many tells, timers and reminders committed turns sent or set. */
size_t wactortest_tells(void);
/* How many asks committed turns forwarded (wactor_forward); the kit does
 * not run the actor forwarded to, and the call's reply is the handler's. */
size_t wactortest_forwards(void);
size_t wactortest_timers(void);
size_t wactortest_reminders(void);
/* How many actors committed turns watch. A lifecycle message is delivered
 * with wactortest_call(WACTOR_METHOD_DEACTIVATED, payload, ...), payload
 * {"ref": "type/id", "reason": text}. */
size_t wactortest_watching(void);
/* How many messages committed turns published, and how many topics they
 * left the actor subscribed to. */
size_t wactortest_published(void);
size_t wactortest_subscriptions(void);

#endif
