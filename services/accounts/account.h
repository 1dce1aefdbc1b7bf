/* account.h - the signing account of a mobile-PKI customer (VCSP):
 * created when the SIM PKI is connected (B9), a login by phone number, a
 * password sent by SMS, and recovery by an OTP sent by SMS.
 *
 * Numbers (documented in README.md):
 *   login   failures 3 and 4 are answered 1 and 2 s late; the 5th locks
 *           the login for 15 minutes.
 *   OTP     6 digits, valid 5 minutes, single use, 5 wrong tries void it.
 *   recovery  asking for an OTP a 4th time in a row (no successful login
 *           or recovery between) locks recovery until an operator unlocks
 *           it (simpkictl account unlock); the customer is told to call
 *           the hotline 19002665.
 * Answers never tell whether an account exists: an unknown number gets
 * the answer a wrong password or wrong details get. Events carry the
 * login, never a password, an OTP or a hash. */
#ifndef AC_ACCOUNT_H
#define AC_ACCOUNT_H

#include <libpq-fe.h>
#include <stddef.h>
#include <time.h>

#include "event.h"
#include "phone.h"

#define AC_PRODUCER "accounts"
#define AC_SOURCE "/simpki/accounts"
#define AC_TOPIC "accounts"
#define AC_HOTLINE "19002665"
#define AC_OTP_TTL 300
#define AC_OTP_TRIES 5
#define AC_LOGIN_LOCK_AFTER 5
#define AC_LOGIN_LOCK_SECONDS 900
#define AC_RECOVERY_MAX 3

/* Sends an SMS: 0 accepted, 1 retry later, -1 refused for good. */
typedef int (*ac_sms_fn)(void *ctx, const char *to, const char *text,
                         char *errstr, size_t errlen);

typedef struct ac_ctx {
  ac_sms_fn sms;
  void *sms_ctx;
} ac_ctx;

typedef enum {
  AC_OK = 0,
  AC_DENIED,    /* wrong password / details / code, or no such account */
  AC_LOCKED,    /* recovery locked: call the hotline */
  AC_EXPIRED,   /* the OTP ran out: ask for a new one */
  AC_BAD_INPUT, /* not a phone number, a bad field */
  AC_RETRY      /* database or SMS trouble: try again later */
} ac_status;

/* The API's requests and their fields, borrowed from the JSON body:
 *   login     {"login", "password"}
 *   recovery  {"login", "cert_type", "id_number", "captcha_id",
 *              "captcha_answer"}
 *   verify    {"login", "otp"} */
typedef enum { AC_REQ_LOGIN, AC_REQ_RECOVERY, AC_REQ_VERIFY } ac_req_kind;

typedef struct ac_request {
  ac_req_kind kind;
  const char *login; /* as typed: any form of the number */
  const char *password;
  const char *cert_type, *id_number, *captcha_id, *captcha_answer;
  const char *otp;
} ac_request;

/* The body's fields for kind (a member absent or not a string is NULL).
 * Pure. */
void ac_request_from_body(json_t *body, ac_req_kind kind, ac_request *r);

/* The checks that need no database: a login that is a Vietnamese mobile
 * number (login: its canonical form, "" when not), the fields the kind
 * needs present, cert_type "personal" or "organization". AC_OK, or
 * AC_BAD_INPUT. Whether a password, an OTP or a captcha answer is right is
 * for ac_login, ac_recovery_verify and the captcha to say. Pure. */
ac_status ac_request_check(const ac_request *r, char login[SP_PHONE_LEN + 1]);

/* sim.connected, inside the consumer's transaction: the account and its
 * first password by SMS. 0 done (or there already), 1 not for an account
 * (errstr), -1 retry (the SMS did not go: nothing is kept). */
int ac_create(PGconn *tx, const ac_ctx *x, const sp_event *ev, char *errstr,
              size_t errlen);

/* *delay_s: how long to hold the answer back (slowing guessing down). */
ac_status ac_login(PGconn *tx, const char *login, const char *password,
                   time_t now, int *delay_s, char *errstr, size_t errlen);

ac_status ac_recovery_request(PGconn *tx, const ac_ctx *x, const char *login,
                              const char *cert_type, const char *id_number,
                              time_t now, char *errstr, size_t errlen);

ac_status ac_recovery_verify(PGconn *tx, const ac_ctx *x, const char *login,
                             const char *otp, time_t now, char *errstr,
                             size_t errlen);

/* An operator reopens recovery (and the login). 1 done, 0 no account. */
int ac_unlock(PGconn *tx, const char *login, const char *by, char *errstr,
              size_t errlen);

#endif
