/* http_api.c - the accounts API (on the common HTTP server):
 *
 *   POST /v1/accounts/login             {"login", "password"}
 *   GET  /v1/captcha                    {"id", "question"}
 *   POST /v1/accounts/recovery          {"login", "cert_type", "id_number",
 *                                        "captcha_id", "captcha_answer"}
 *   POST /v1/accounts/recovery/verify   {"login", "otp"}
 *
 * The answers never say whether a number has an account. */
#include "http_api.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "account.h"
#include "clock.h"
#include "log.h"

static void answer(sp_http_response *resp, int status, const char *code,
                   const char *msg) {
  sp_http_json(resp, status, json_pack("{s:s, s:s}", "code", code, "message", msg));
}

static json_t *body(const sp_http_request *req) {
  json_error_t je;
  json_t *b = req->body ? json_loadb(req->body, req->body_len,
                                     JSON_REJECT_DUPLICATES, &je)
                        : NULL;
  if (!json_is_object(b)) {
    json_decref(b);
    return NULL;
  }
  return b;
}

static void answer_status(sp_http_response *resp, ac_status st) {
  switch (st) {
  case AC_OK:
    answer(resp, 200, "ok", "ok");
    break;
  case AC_DENIED:
    answer(resp, 401, "denied",
           "Thông tin không đúng hoặc mã đã hết hiệu lực (the details or the "
           "code are not right, or no longer valid)");
    break;
  case AC_LOCKED:
    answer(resp, 423, "locked",
           "Chức năng khôi phục mật khẩu đã bị khóa. Vui lòng gọi tổng đài "
           AC_HOTLINE " (recovery is locked: call the hotline " AC_HOTLINE
           ")");
    break;
  case AC_EXPIRED:
    answer(resp, 410, "expired",
           "Mã OTP đã hết hạn, vui lòng yêu cầu mã mới (the code has "
           "expired: ask for a new one)");
    break;
  case AC_BAD_INPUT:
    answer(resp, 400, "bad_request",
           "the body must give a Vietnamese mobile number and the fields "
           "asked for");
    break;
  default:
    answer(resp, 503, "unavailable", "try again in a moment");
  }
}

typedef struct call_tx {
  ac_api *api;
  const ac_request *r;
  time_t now;
  int delay;
  ac_status st;
} call_tx;

static int call_fn(PGconn *c, void *arg, char *errstr, size_t errlen) {
  call_tx *t = arg;
  const ac_request *r = t->r;
  switch (r->kind) {
  case AC_REQ_LOGIN:
    t->st = ac_login(c, r->login, r->password, t->now, &t->delay, errstr,
                     errlen);
    break;
  case AC_REQ_RECOVERY:
    t->st = ac_recovery_request(c, &t->api->ctx, r->login, r->cert_type,
                                r->id_number, t->now, errstr, errlen);
    break;
  default:
    t->st = ac_recovery_verify(c, &t->api->ctx, r->login, r->otp, t->now,
                               errstr, errlen);
  }
  /* A refusal that wrote its counters and events commits; trouble does
   * not. */
  return t->st == AC_RETRY ? SP_DB_REJECT : SP_DB_OK;
}

static void run(ac_api *api, ac_req_kind kind, const sp_http_request *req,
                sp_http_response *resp) {
  json_t *b = body(req);
  if (!b) {
    answer_status(resp, AC_BAD_INPUT);
    return;
  }
  ac_request r;
  ac_request_from_body(b, kind, &r);
  if (kind == AC_REQ_RECOVERY) {
    const char *id = r.captcha_id, *ans = r.captcha_answer;
    if (!id || !ans || ac_captcha_check(api->captcha, id, ans) != 1) {
      json_decref(b);
      answer(resp, 400, "captcha", "Mã xác nhận không đúng (the captcha "
                                   "answer is wrong); ask for a new one");
      return;
    }
  }
  call_tx t = {api, &r, sp_clock_now(), 0, AC_RETRY};
  char err[512];
  pthread_mutex_lock(&api->lock);
  int rc = sp_db_tx(api->db, call_fn, &t, err, sizeof err);
  pthread_mutex_unlock(&api->lock);
  if (rc != SP_DB_OK && t.st != AC_RETRY)
    t.st = AC_RETRY;
  if (t.st == AC_RETRY)
    sp_warn("account request failed", "error", err);
  json_decref(b);
  if (t.delay > 0)
    sleep((unsigned)t.delay); /* slows guessing down */
  if (kind == AC_REQ_RECOVERY && t.st == AC_OK)
    answer(resp, 202, "sent",
           "Nếu thông tin khớp với tài khoản, mã OTP đã được gửi qua SMS "
           "(if the details match an account, a code was sent by SMS)");
  else if (kind == AC_REQ_VERIFY && t.st == AC_OK)
    answer(resp, 200, "reset",
           "Mật khẩu mới đã được gửi qua SMS (a new password was sent by "
           "SMS)");
  else
    answer_status(resp, t.st);
}

static void post_login(const sp_http_request *req, sp_http_response *resp,
                       void *opaque) {
  run(opaque, AC_REQ_LOGIN, req, resp);
}
static void post_recovery(const sp_http_request *req, sp_http_response *resp,
                          void *opaque) {
  run(opaque, AC_REQ_RECOVERY, req, resp);
}
static void post_verify(const sp_http_request *req, sp_http_response *resp,
                        void *opaque) {
  run(opaque, AC_REQ_VERIFY, req, resp);
}

static void get_captcha(const sp_http_request *req, sp_http_response *resp,
                        void *opaque) {
  (void)req;
  ac_api *api = opaque;
  char id[64], q[256], err[256];
  if (ac_captcha_challenge(api->captcha, id, sizeof id, q, sizeof q, err,
                           sizeof err)) {
    answer(resp, 503, "unavailable", "no captcha now; try again");
    return;
  }
  sp_http_json(resp, 200, json_pack("{s:s, s:s}", "id", id, "question", q));
}

size_t ac_api_routes(ac_api *api, sp_http_route *routes, size_t cap) {
  const sp_http_route r[] = {
      {"POST", "/v1/accounts/login", post_login, api},
      {"GET", "/v1/captcha", get_captcha, api},
      {"POST", "/v1/accounts/recovery", post_recovery, api},
      {"POST", "/v1/accounts/recovery/verify", post_verify, api}};
  size_t n = sizeof r / sizeof *r < cap ? sizeof r / sizeof *r : cap;
  memcpy(routes, r, n * sizeof *r);
  return n;
}
