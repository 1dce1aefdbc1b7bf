/* captcha.h - a captcha in front of the accounts service's public forms
 * (password reset, OTP requests), behind a small interface so a real
 * captcha service can replace the local one without touching the callers.
 *
 * A challenge has an id and a question shown to the person; the answer
 * comes back with the id. Each challenge is checked at most once, whether
 * the answer was right or wrong, so one challenge cannot be used to try
 * many answers. */
#ifndef AC_CAPTCHA_H
#define AC_CAPTCHA_H

#include <stddef.h>
#include <time.h>

/* Enough for the ids and questions of any backend. */
#define AC_CAPTCHA_ID_MAX 128
#define AC_CAPTCHA_QUESTION_MAX 256

typedef struct ac_captcha_ops {
  const char *name; /* "local", later e.g. a hosted service */
  /* A new challenge: its id and its question (NUL-terminated). 0 ok, -1
   * with errstr. */
  int (*challenge)(void *impl, char *id, size_t idlen, char *question,
                   size_t qlen, char *errstr, size_t errlen);
  /* 1 when answer is right for challenge id; 0 when wrong, expired,
   * unknown or already checked. Uses the challenge up either way. */
  int (*check)(void *impl, const char *id, const char *answer);
  void (*close)(void *impl);
} ac_captcha_ops;

typedef struct ac_captcha {
  const ac_captcha_ops *ops;
  void *impl;
} ac_captcha;

/* Wraps a backend; takes ownership of impl (ops->close runs on failure
 * too). NULL when out of memory. */
ac_captcha *ac_captcha_new(const ac_captcha_ops *ops, void *impl);
int ac_captcha_challenge(ac_captcha *c, char *id, size_t idlen, char *question,
                         size_t qlen, char *errstr, size_t errlen);
int ac_captcha_check(ac_captcha *c, const char *id, const char *answer);
void ac_captcha_close(ac_captcha *c); /* NULL is fine */

/* The local backend: small arithmetic in Vietnamese words, e.g.
 *
 *   "Bảy cộng năm bằng mấy?"  (7 + 5)   answer "12"
 *
 * Operands one to nine ("một" .. "chín"), the operation "cộng" (+), "trừ"
 * (-, never negative) or "nhân" (x); the answer is typed in digits
 * (surrounding spaces ignored). Words rather than "7 + 5 = ?" because the
 * form's users read Vietnamese and a generic bot that evaluates digit
 * expressions does not parse them; it is a speed bump against scripts, not
 * a defence against a targeted attack (the attempt limits are that).
 *
 * Answers are kept in memory (the service's instances do not share them,
 * so a deployment with several needs sticky sessions or a real backend):
 * at most AC_CAPTCHA_LOCAL_MAX challenges, the oldest dropped when a new one
 * needs room; each expires ttl_seconds after it was made, by the clock now
 * (NULL: the system clock; tests inject their own). Thread-safe. NULL when
 * ttl_seconds < 1 or out of memory. */
#define AC_CAPTCHA_LOCAL_MAX 10000
ac_captcha *ac_captcha_local_new(int ttl_seconds, time_t (*now)(void));

/* For tests only: the answer to a local question, or -1 when question is
 * not one. A real deployment must not use it (it is what a bot would do). */
int ac_captcha_local_solve(const char *question);

#endif
