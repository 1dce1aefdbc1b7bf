/* account.c - accounts, logins, recovery by OTP. */
#include "account.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "crypto.h"
#include "db.h"
#include "log.h"
#include "outbox.h"
#include "phone.h"
#include "secret.h"

#include <openssl/crypto.h>

/* An event about login (never a secret in data). */
static int event(PGconn *tx, const char *type, const char *login,
                 json_t *data, char *errstr, size_t errlen) {
  char subject[48];
  snprintf(subject, sizeof subject, "account/%s", login);
  if (!data)
    data = json_object();
  json_object_set_new(data, "login", json_string(login));
  return sp_outbox_publish(tx, AC_PRODUCER, AC_SOURCE, AC_TOPIC, type,
                           subject, subject, data, errstr, errlen);
}

/* The registered identity number, kept only salted and hashed: it is a
 * detail the customer proves at recovery, never shown again. */
static int id_hash_make(const char *id, const char *login, char *out,
                        size_t outlen) {
  unsigned char salt[16];
  char salt_hex[33], buf[128], h[SP_EVENT_HASH_HEX + 1], why[64];
  if (sp_random_bytes(salt, sizeof salt, why, sizeof why))
    return -1;
  sp_hex_encode(salt, sizeof salt, salt_hex);
  int n = snprintf(buf, sizeof buf, "%s|%s|%s", salt_hex, login, id);
  if (n < 0 || (size_t)n >= sizeof buf)
    return -1;
  sp_sha256_hex(buf, (size_t)n, h);
  sp_wipe(buf, sizeof buf);
  return snprintf(out, outlen, "%s$%s", salt_hex, h) < (int)outlen ? 0 : -1;
}

static int id_hash_check(const char *id, const char *login,
                         const char *stored) {
  const char *dollar = strchr(stored, '$');
  if (!dollar || dollar - stored != 32 || strlen(dollar + 1) != 64)
    return 0;
  char buf[128], h[SP_EVENT_HASH_HEX + 1];
  int n = snprintf(buf, sizeof buf, "%.32s|%s|%s", stored, login, id);
  if (n < 0 || (size_t)n >= sizeof buf)
    return 0;
  sp_sha256_hex(buf, (size_t)n, h);
  sp_wipe(buf, sizeof buf);
  return CRYPTO_memcmp(h, dollar + 1, 64) == 0;
}

static void iso(time_t t, char out[SP_CAL_TIME_LEN + 1]) {
  sp_cal_format_time(t, out);
}

int ac_create(PGconn *tx, const ac_ctx *x, const sp_event *ev, char *errstr,
              size_t errlen) {
  const char *msisdn = json_string_value(json_object_get(ev->data, "msisdn"));
  const char *iccid = json_string_value(json_object_get(ev->data, "iccid"));
  const char *case_id =
      json_string_value(json_object_get(ev->data, "case_id"));
  char login[SP_PHONE_LEN + 1], why[200];
  if (!msisdn || !iccid ||
      sp_phone_normalize_vn(msisdn, login, why, sizeof why)) {
    snprintf(errstr, errlen, "sim.connected %s: no usable msisdn", ev->id);
    return 1;
  }
  const char *pl[] = {login};
  PGresult *r = sp_db_query(tx, "SELECT 1 FROM accounts WHERE login = $1", 1,
                            pl, errstr, errlen);
  if (!r)
    return -1;
  int exists = PQntuples(r) == 1;
  PQclear(r);
  if (exists)
    return 0; /* a redelivery, or a new SIM for a known customer */
  /* The registered identity number, for recovery, when a case names it. */
  char id_hash[160] = "";
  if (case_id) {
    const char *pc[] = {case_id};
    r = sp_db_query(tx,
                    "SELECT id_number FROM connection_cases WHERE case_id = $1",
                    1, pc, errstr, errlen);
    if (!r)
      return -1;
    if (PQntuples(r) == 1 &&
        id_hash_make(PQgetvalue(r, 0, 0), login, id_hash, sizeof id_hash))
      id_hash[0] = '\0';
    PQclear(r);
  }
  char pw[AC_PASSWORD_LEN + 1], hash[AC_PASSWORD_HASH_MAX];
  if (ac_password_new(pw) ||
      ac_password_hash(pw, hash, sizeof hash, errstr, errlen)) {
    sp_wipe(pw, sizeof pw);
    return -1;
  }
  const char *pi[] = {login, iccid, id_hash[0] ? id_hash : NULL, hash};
  long added = sp_db_exec(tx,
                          "INSERT INTO accounts (login, iccid, id_number_hash, "
                          "password_hash) VALUES ($1, $2, $3, $4)",
                          4, pi, errstr, errlen);
  char text[320];
  snprintf(text, sizeof text,
           "MobiFone: tai khoan ky so SIM PKI cua Quy khach da duoc tao. Ten "
           "dang nhap: %s, mat khau: %s. Vui long doi mat khau sau lan dang "
           "nhap dau.",
           login, pw);
  sp_wipe(pw, sizeof pw);
  if (added != 1) {
    sp_wipe(text, sizeof text);
    return -1;
  }
  /* Sent inside the transaction: if the SMS does not go, nothing is kept
   * and the redelivered event makes a new password. */
  int sent = x->sms(x->sms_ctx, login, text, why, sizeof why);
  sp_wipe(text, sizeof text);
  if (sent != 0) {
    snprintf(errstr, errlen, "the password SMS did not go: %s", why);
    return sent > 0 ? -1 : 1;
  }
  sp_info("account created", "login", login);
  return event(tx, "account.created", login,
               json_pack("{s:s}", "iccid", iccid), errstr, errlen)
             ? -1
             : 0;
}

static const char *field(json_t *b, const char *key) {
  return json_string_value(json_object_get(b, key));
}

void ac_request_from_body(json_t *body, ac_req_kind kind, ac_request *r) {
  *r = (ac_request){.kind = kind, .login = field(body, "login")};
  switch (kind) {
  case AC_REQ_LOGIN:
    r->password = field(body, "password");
    break;
  case AC_REQ_RECOVERY:
    r->cert_type = field(body, "cert_type");
    r->id_number = field(body, "id_number");
    r->captcha_id = field(body, "captcha_id");
    r->captcha_answer = field(body, "captcha_answer");
    break;
  case AC_REQ_VERIFY:
    r->otp = field(body, "otp");
  }
}

ac_status ac_request_check(const ac_request *r, char login[SP_PHONE_LEN + 1]) {
  char why[200];
  login[0] = '\0';
  int present = r->kind == AC_REQ_LOGIN      ? r->password != NULL
                : r->kind == AC_REQ_RECOVERY ? r->cert_type && r->id_number
                                             : r->otp != NULL;
  if (!r->login || !present ||
      sp_phone_normalize_vn(r->login, login, why, sizeof why))
    return AC_BAD_INPUT;
  if (r->kind == AC_REQ_RECOVERY && strcmp(r->cert_type, "personal") &&
      strcmp(r->cert_type, "organization")) {
    login[0] = '\0';
    return AC_BAD_INPUT;
  }
  return AC_OK;
}

ac_status ac_login(PGconn *tx, const char *login_in, const char *password,
                   time_t now, int *delay_s, char *errstr, size_t errlen) {
  *delay_s = 0;
  char login[SP_PHONE_LEN + 1], why[200];
  const ac_request q = {.kind = AC_REQ_LOGIN, .login = login_in,
                        .password = password};
  if (ac_request_check(&q, login) != AC_OK)
    return AC_BAD_INPUT;
  const char *p[] = {login};
  PGresult *r = sp_db_query(
      tx,
      "SELECT password_hash, failed_logins, coalesce(extract(epoch FROM "
      "locked_until)::bigint, 0) FROM accounts WHERE login = $1 FOR UPDATE",
      1, p, errstr, errlen);
  if (!r)
    return AC_RETRY;
  if (PQntuples(r) == 0) {
    PQclear(r);
    /* As long as a real check: the answer's time tells nothing either. */
    char dummy[AC_PASSWORD_HASH_MAX];
    ac_password_hash(password, dummy, sizeof dummy, why, sizeof why);
    return AC_DENIED;
  }
  char stored[AC_PASSWORD_HASH_MAX];
  snprintf(stored, sizeof stored, "%s", PQgetvalue(r, 0, 0));
  int failed = atoi(PQgetvalue(r, 0, 1));
  time_t locked = (time_t)atoll(PQgetvalue(r, 0, 2));
  PQclear(r);
  if (locked > now)
    return AC_DENIED;
  int ok = ac_password_verify(password, stored) == 1;
  char until[SP_CAL_TIME_LEN + 1] = "";
  if (ok) {
    failed = 0;
  } else if (++failed >= AC_LOGIN_LOCK_AFTER) {
    iso(now + AC_LOGIN_LOCK_SECONDS, until);
    failed = 0;
  } else if (failed >= 3) {
    *delay_s = failed - 2;
  }
  char f[16];
  snprintf(f, sizeof f, "%d", failed);
  const char *pu[] = {login, f, until[0] ? until : NULL, ok ? "t" : "f"};
  if (sp_db_exec(tx,
                 "UPDATE accounts SET failed_logins = $2::int, locked_until = "
                 "CASE WHEN $3::timestamptz IS NOT NULL THEN $3::timestamptz "
                 "WHEN $4::boolean THEN NULL ELSE locked_until END, "
                 "recovery_requests = CASE WHEN $4::boolean THEN 0 ELSE "
                 "recovery_requests END, updated_at = now() WHERE login = $1",
                 4, pu, errstr, errlen) != 1)
    return AC_RETRY;
  if (ok)
    return event(tx, "login.succeeded", login, NULL, errstr, errlen)
               ? AC_RETRY
               : AC_OK;
  if (event(tx, until[0] ? "login.locked" : "login.failed", login,
            until[0] ? json_pack("{s:s}", "until", until)
                     : json_pack("{s:i}", "failures", failed),
            errstr, errlen))
    return AC_RETRY;
  return AC_DENIED;
}

ac_status ac_recovery_request(PGconn *tx, const ac_ctx *x,
                              const char *login_in, const char *cert_type,
                              const char *id_number, time_t now,
                              char *errstr, size_t errlen) {
  char login[SP_PHONE_LEN + 1], why[200];
  const ac_request q = {.kind = AC_REQ_RECOVERY, .login = login_in,
                        .cert_type = cert_type, .id_number = id_number};
  if (ac_request_check(&q, login) != AC_OK)
    return AC_BAD_INPUT;
  const char *p[] = {login};
  PGresult *r = sp_db_query(
      tx,
      "SELECT cert_type, coalesce(id_number_hash, ''), recovery_requests, "
      "recovery_locked FROM accounts WHERE login = $1 FOR UPDATE",
      1, p, errstr, errlen);
  if (!r)
    return AC_RETRY;
  if (PQntuples(r) == 0) {
    PQclear(r);
    return AC_OK; /* the same answer as a known number */
  }
  int details = !strcmp(PQgetvalue(r, 0, 0), cert_type) &&
                *PQgetvalue(r, 0, 1) &&
                id_hash_check(id_number, login, PQgetvalue(r, 0, 1));
  int asked = atoi(PQgetvalue(r, 0, 2));
  int locked = PQgetvalue(r, 0, 3)[0] == 't';
  PQclear(r);
  if (locked)
    return AC_LOCKED;
  if (!details)
    return AC_OK; /* wrong details: the same answer, nothing sent */
  if (++asked > AC_RECOVERY_MAX) {
    if (sp_db_exec(tx,
                   "UPDATE accounts SET recovery_locked = true, "
                   "recovery_requests = $2::int, updated_at = now() WHERE "
                   "login = $1",
                   2, (const char *[]){login, "4"}, errstr, errlen) != 1 ||
        sp_db_exec(tx, "DELETE FROM account_otps WHERE login = $1", 1, p,
                   errstr, errlen) < 0 ||
        event(tx, "recovery.locked", login, NULL, errstr, errlen))
      return AC_RETRY;
    sp_warn("account recovery locked", "login", login);
    return AC_LOCKED;
  }
  char otp[AC_OTP_LEN + 1], hash[AC_PASSWORD_HASH_MAX], exp[SP_CAL_TIME_LEN + 1],
      n[16], text[200];
  if (ac_otp_new(otp) || ac_otp_hash(otp, login, hash, sizeof hash)) {
    sp_wipe(otp, sizeof otp);
    return AC_RETRY;
  }
  iso(now + AC_OTP_TTL, exp);
  snprintf(n, sizeof n, "%d", asked);
  const char *pu[] = {login, hash, exp, n};
  if (sp_db_exec(tx,
                 "INSERT INTO account_otps (login, otp_hash, expires_at) "
                 "VALUES ($1, $2, $3::timestamptz) ON CONFLICT (login) DO "
                 "UPDATE SET otp_hash = excluded.otp_hash, expires_at = "
                 "excluded.expires_at, attempts = 0, used = false, "
                 "created_at = now()",
                 3, pu, errstr, errlen) != 1 ||
      sp_db_exec(tx,
                 "UPDATE accounts SET recovery_requests = $2::int, "
                 "updated_at = now() WHERE login = $1",
                 2, (const char *[]){login, n}, errstr, errlen) != 1) {
    sp_wipe(otp, sizeof otp);
    return AC_RETRY;
  }
  snprintf(text, sizeof text,
           "MobiFone: ma OTP khoi phuc mat khau SIM PKI cua Quy khach la %s, "
           "co hieu luc 5 phut. Khong cung cap ma nay cho bat ky ai.",
           otp);
  sp_wipe(otp, sizeof otp);
  int sent = x->sms(x->sms_ctx, login, text, why, sizeof why);
  sp_wipe(text, sizeof text);
  if (sent != 0) {
    snprintf(errstr, errlen, "the OTP SMS did not go: %s", why);
    return AC_RETRY; /* rolled back: the request does not count */
  }
  return event(tx, "otp.sent", login,
               json_pack("{s:s, s:i}", "expires_at", exp, "in_a_row", asked),
               errstr, errlen)
             ? AC_RETRY
             : AC_OK;
}

ac_status ac_recovery_verify(PGconn *tx, const ac_ctx *x, const char *login_in,
                             const char *otp, time_t now, char *errstr,
                             size_t errlen) {
  char login[SP_PHONE_LEN + 1], why[200];
  const ac_request q = {.kind = AC_REQ_VERIFY, .login = login_in, .otp = otp};
  if (ac_request_check(&q, login) != AC_OK)
    return AC_BAD_INPUT;
  const char *p[] = {login};
  /* Locked: two recoveries at once for one account take turns here, and
   * the second finds the code used. */
  PGresult *r = sp_db_query(
      tx,
      "SELECT o.otp_hash, o.attempts, o.used, extract(epoch FROM "
      "o.expires_at)::bigint, a.recovery_locked FROM account_otps o JOIN "
      "accounts a USING (login) WHERE o.login = $1 FOR UPDATE",
      1, p, errstr, errlen);
  if (!r)
    return AC_RETRY;
  if (PQntuples(r) == 0) {
    PQclear(r);
    return AC_DENIED;
  }
  char stored[AC_PASSWORD_HASH_MAX];
  snprintf(stored, sizeof stored, "%s", PQgetvalue(r, 0, 0));
  int attempts = atoi(PQgetvalue(r, 0, 1));
  int used = PQgetvalue(r, 0, 2)[0] == 't';
  time_t expires = (time_t)atoll(PQgetvalue(r, 0, 3));
  int locked = PQgetvalue(r, 0, 4)[0] == 't';
  PQclear(r);
  if (locked)
    return AC_LOCKED;
  if (used || attempts >= AC_OTP_TRIES)
    return AC_DENIED;
  if (now > expires)
    return AC_EXPIRED;
  if (ac_otp_verify(otp, login, stored) != 1) {
    const char *pa[] = {login};
    if (sp_db_exec(tx,
                   "UPDATE account_otps SET attempts = attempts + 1, used = "
                   "attempts + 1 >= 5 WHERE login = $1",
                   1, pa, errstr, errlen) != 1 ||
        event(tx, "otp.failed", login,
              json_pack("{s:i}", "attempts", attempts + 1), errstr, errlen))
      return AC_RETRY;
    return AC_DENIED;
  }
  char pw[AC_PASSWORD_LEN + 1], hash[AC_PASSWORD_HASH_MAX], text[320];
  if (ac_password_new(pw) ||
      ac_password_hash(pw, hash, sizeof hash, errstr, errlen)) {
    sp_wipe(pw, sizeof pw);
    return AC_RETRY;
  }
  const char *pu[] = {login, hash};
  if (sp_db_exec(tx, "UPDATE account_otps SET used = true WHERE login = $1",
                 1, pu, errstr, errlen) != 1 ||
      sp_db_exec(tx,
                 "UPDATE accounts SET password_hash = $2, recovery_requests = "
                 "0, failed_logins = 0, locked_until = NULL, updated_at = "
                 "now() WHERE login = $1",
                 2, pu, errstr, errlen) != 1) {
    sp_wipe(pw, sizeof pw);
    return AC_RETRY;
  }
  snprintf(text, sizeof text,
           "MobiFone: mat khau moi cho tai khoan ky so SIM PKI %s la: %s. "
           "Vui long doi mat khau sau khi dang nhap.",
           login, pw);
  sp_wipe(pw, sizeof pw);
  int sent = x->sms(x->sms_ctx, login, text, why, sizeof why);
  sp_wipe(text, sizeof text);
  if (sent != 0) {
    snprintf(errstr, errlen, "the new password SMS did not go: %s", why);
    return AC_RETRY; /* rolled back: the code is still good */
  }
  sp_info("password reset by OTP", "login", login);
  return event(tx, "password.reset", login, NULL, errstr, errlen) ? AC_RETRY
                                                                  : AC_OK;
}

int ac_unlock(PGconn *tx, const char *login_in, const char *by, char *errstr,
              size_t errlen) {
  char login[SP_PHONE_LEN + 1], why[200];
  if (sp_phone_normalize_vn(login_in, login, why, sizeof why)) {
    snprintf(errstr, errlen, "%s", why);
    return 0;
  }
  const char *p[] = {login};
  long n = sp_db_exec(tx,
                      "UPDATE accounts SET recovery_locked = false, "
                      "recovery_requests = 0, failed_logins = 0, "
                      "locked_until = NULL, updated_at = now() WHERE login = "
                      "$1",
                      1, p, errstr, errlen);
  if (n < 0)
    return -1;
  if (n == 0) {
    snprintf(errstr, errlen, "no account %s", login);
    return 0;
  }
  return event(tx, "recovery.unlocked", login, json_pack("{s:s}", "by", by),
               errstr, errlen)
             ? -1
             : 1;
}
