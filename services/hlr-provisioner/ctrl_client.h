/* ctrl_client.h - an Osmocom CTRL client (OsmoHLR's port 4259) over TCP,
 * pipelined: many requests in flight on one connection, replies matched
 * to their requests by id.
 *
 *   hp_ctrl *c = hp_ctrl_connect("127.0.0.2:4259", 2000, err, sizeof err);
 *   hp_ctrl_set_window(c, 32, err, sizeof err);
 *   while (work left || hp_ctrl_outstanding(c)) {
 *     while (work left && hp_ctrl_submit(c, HP_CTRL_SET, var, value, tag,
 *                                        err, sizeof err) == 0)
 *       ...next...;
 *     hp_ctrl_reply r;
 *     if (hp_ctrl_poll(c, 1000, &r) == 1)
 *       ...r.tag, r.status, r.value...;
 *   }
 *
 * Every submitted request completes exactly once through hp_ctrl_poll:
 * with the HLR's reply, with its ERROR, or - when no reply came within the
 * request timeout, or the connection failed - with HP_CTRL_TIMEOUT or
 * HP_CTRL_BROKEN. The first timeout or failure breaks the connection for
 * good (a late reply would no longer be trusted); the requests still in
 * flight then complete as HP_CTRL_BROKEN one per poll, and the caller
 * closes and connects again. For TIMEOUT and BROKEN the HLR may or may not
 * have applied the request: the caller must find out (read it back) or
 * repeat an idempotent one.
 *
 * Request values are key material (Ki, K, OPc in hex): they are never
 * logged and never quoted in an error, the bytes sent are wiped as soon as
 * the kernel has them, and all buffers live in sp_secure_alloc memory.
 * Replies may hold keys too (info-aud): a reply's value is wiped at the
 * next poll. Error reasons from the HLR pass through hp_ctrl_redact.
 *
 * One connection is for one thread. Nothing here blocks longer than the
 * timeout given; the socket is non-blocking. Ids start at 1 and increase
 * per connection. The client ignores TRAPs and answers IPA PINGs. */
#ifndef HP_CTRL_CLIENT_H
#define HP_CTRL_CLIENT_H

#include <stddef.h>

#include "ctrl_proto.h"

#define HP_CTRL_DEFAULT_WINDOW 32
#define HP_CTRL_MAX_WINDOW 1024

typedef struct hp_ctrl hp_ctrl;

typedef enum {
  HP_CTRL_OK = 0,  /* GET_REPLY / SET_REPLY: value is the reply value */
  HP_CTRL_ERROR,   /* the HLR answered ERROR: value is its reason */
  HP_CTRL_TIMEOUT, /* no reply within the request timeout: retryable */
  HP_CTRL_BROKEN,  /* the connection failed or the HLR broke the protocol
                      (value says how): retryable after a reconnect */
  HP_CTRL_INVALID  /* refused before sending (hp_ctrl_call only): a bad
                      variable or value, requests in flight, a reply too
                      long for the buffer */
} hp_ctrl_status;

const char *hp_ctrl_status_name(hp_ctrl_status s);

/* One completed request. value is NUL-terminated, valid (and then wiped)
 * until the next hp_ctrl_poll, hp_ctrl_call or hp_ctrl_close. */
typedef struct hp_ctrl_reply {
  void *tag; /* as given to hp_ctrl_submit */
  hp_ctrl_status status;
  unsigned long long id;
  const char *value;
  size_t len;
} hp_ctrl_reply;

/* addr: "HOST:PORT" ("127.0.0.2:4259", "[::1]:4259", "hlr.local:4259").
 * timeout_ms bounds the connect and is the first request timeout.
 * NULL with the reason on failure. */
hp_ctrl *hp_ctrl_connect(const char *addr, int timeout_ms, char *errstr,
                         size_t errlen);
/* Wipes and frees everything; requests in flight are dropped. */
void hp_ctrl_close(hp_ctrl *c);

/* The most requests in flight, 1..HP_CTRL_MAX_WINDOW (default 32). Only
 * while none is in flight. 0, or -1 with the reason. */
int hp_ctrl_set_window(hp_ctrl *c, int window, char *errstr, size_t errlen);
int hp_ctrl_window(const hp_ctrl *c);
/* Per-request timeout in ms (>= 1), counted from hp_ctrl_submit. */
void hp_ctrl_set_timeout(hp_ctrl *c, int timeout_ms);
/* Requests submitted and not yet returned by hp_ctrl_poll. */
int hp_ctrl_outstanding(const hp_ctrl *c);
/* 1 once the connection has failed (the reason in hp_ctrl_error). */
int hp_ctrl_broken(const hp_ctrl *c);
const char *hp_ctrl_error(const hp_ctrl *c);
const char *hp_ctrl_addr(const hp_ctrl *c);

/* Queue a request and send what the socket takes at once. value: SET only
 * (NULL for GET); hp_ctrl_encode's rules. 0, or -1 with the reason and
 * nothing queued: the window is full (poll first), the connection is
 * broken (hp_ctrl_broken: drain with poll, then reconnect), or var/value
 * break the rules. Never quotes the value. */
int hp_ctrl_submit(hp_ctrl *c, hp_ctrl_type type, const char *var,
                   const char *value, void *tag, char *errstr, size_t errlen);

/* Wait up to timeout_ms (0: just look) for a completion. 1 with *out; 0
 * when none came in time or nothing is outstanding. Sends queued bytes,
 * reads replies, expires requests past their timeout. */
int hp_ctrl_poll(hp_ctrl *c, int timeout_ms, hp_ctrl_reply *out);

/* One request, waited for: only with nothing else in flight. Returns
 * HP_CTRL_OK with the reply value in reply (NUL-terminated; the caller
 * wipes it when it is secret), or another status with the reason in
 * errstr (the HLR's redacted ERROR text for HP_CTRL_ERROR). */
hp_ctrl_status hp_ctrl_call(hp_ctrl *c, hp_ctrl_type type, const char *var,
                            const char *value, char *reply, size_t replylen,
                            char *errstr, size_t errlen);

#endif
