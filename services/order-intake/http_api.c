/* http_api.c - the HTTP adapter: decode the request, call intake.c,
 * encode the answer. */
#include "http_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "http_auth.h"
#include "log.h"
#include "order.h"
#include "registration.h"
#include "sigverify.h"

static void reply_error(sp_http_response *resp, oi_error e,
                        const char *reason) {
  sp_http_json(resp, oi_error_http_status(e),
             json_pack("{s:s, s:s}", "error", reason, "code",
                       oi_error_code(e)));
}

/* A token-guarded route: the caller's token, then the rule for op (README,
 * "Access"). 1 go on, with *who; 0 answered (401, 403 or 503). A signed
 * order needs no token: its CMS signature says who sent it. */
static int guard(oi_api *api, const sp_http_request *req,
                 sp_http_response *resp, iv_op op, iv_principal *who) {
  pthread_mutex_lock(&api->lock);
  int ok = iv_http_caller(sp_db_ready(api->db), req, iv_http_bearer(req), resp,
                          who);
  pthread_mutex_unlock(&api->lock);
  return ok && iv_http_allowed(who, op, NULL, NULL, req, resp);
}

static void post_order(const sp_http_request *req, sp_http_response *resp,
                       void *opaque) {
  oi_api *api = opaque;
  char err[1024];
  unsigned char *doc, *sig;
  size_t doclen, siglen;
  if (oi_order_envelope_parse(req->body, req->body_len, &doc, &doclen, &sig,
                              &siglen)) {
    snprintf(err, sizeof err,
             "the body must be JSON {\"document\": base64 of the signed order "
             "document, \"signature\": base64 of its CMS signature}");
    pthread_mutex_lock(&api->lock);
    oi_reject_order(api->db, OI_BAD_DOCUMENT, err, "http");
    pthread_mutex_unlock(&api->lock);
    reply_error(resp, OI_BAD_DOCUMENT, err);
    return;
  }
  /* A missing signature is the intake's refusal to make (with its event).
   * The actor is the channel, not anything the caller says: who ordered is
   * the signer, whom sigverify names once it has checked the signature. */
  oi_result res;
  pthread_mutex_lock(&api->lock);
  oi_error e = oi_submit_order(api->db, api->conf, doc, doclen, sig, siglen,
                               "http", "bcycp-http", &res, err, sizeof err);
  json_t *order = NULL;
  if (e == OI_OK)
    order = oi_order_get(api->db, res.id, &e, err, sizeof err);
  pthread_mutex_unlock(&api->lock);
  free(doc);
  free(sig);
  if (e != OI_OK) {
    reply_error(resp, e, err);
    return;
  }
  json_object_set_new(order, "existing", json_boolean(res.existing));
  sp_http_json(resp, res.existing ? 200 : 201, order);
}

static void get_order(const sp_http_request *req, sp_http_response *resp,
                      void *opaque) {
  oi_api *api = opaque;
  iv_principal who;
  if (!guard(api, req, resp, IV_OP_READ_ORDERS, &who))
    return;
  const char *id = oi_path_id(req->path, "/v1/orders/");
  if (!id) {
    reply_error(resp, OI_NOT_FOUND, "use /v1/orders/{order id or BCYCP ref}");
    return;
  }
  char err[512];
  oi_error e;
  pthread_mutex_lock(&api->lock);
  json_t *o = oi_order_get(api->db, id, &e, err, sizeof err);
  pthread_mutex_unlock(&api->lock);
  if (!o)
    reply_error(resp, e, err);
  else
    sp_http_json(resp, 200, o);
}

static void get_vendor(const sp_http_request *req, sp_http_response *resp,
                       void *opaque) {
  oi_api *api = opaque;
  iv_principal who;
  if (!guard(api, req, resp, IV_OP_READ_ORDERS, &who))
    return;
  const char *id = oi_path_id(req->path, "/v1/vendors/");
  char err[512];
  oi_error e = OI_NOT_FOUND;
  json_t *v = NULL;
  if (id) {
    pthread_mutex_lock(&api->lock);
    v = oi_vendor_get(api->db, id, &e, err, sizeof err);
    pthread_mutex_unlock(&api->lock);
  } else {
    snprintf(err, sizeof err, "use /v1/vendors/{vendor id}");
  }
  if (!v)
    reply_error(resp, e, err);
  else
    sp_http_json(resp, 200, v);
}

static void post_registration(const sp_http_request *req,
                              sp_http_response *resp, void *opaque) {
  oi_api *api = opaque;
  /* A notice names people and their identity numbers, and opens cases
   * with deadlines: only who may send one gets past here. */
  iv_principal who;
  if (!guard(api, req, resp, IV_OP_IMPORT_NOTICE, &who))
    return;
  sp_info("notice received over HTTP", "user", who.user);
  const char *ctype = sp_http_header(req, "Content-Type");
  const char *ref = sp_http_query(req, "ref");
  int json = ctype && !strncmp(ctype, "application/json", 16);
  int csv = ctype && !strncmp(ctype, "text/csv", 8);
  char err[1024];
  oi_notice n;
  oi_error e;
  if (!json && !csv) {
    snprintf(err, sizeof err,
             "send the notice as text/csv (with ?ref=NOTICE_REF) or "
             "application/json");
    e = OI_BAD_FILE;
  } else if (!req->body) {
    snprintf(err, sizeof err, "the notice is empty");
    e = OI_BAD_FILE;
  } else {
    e = json ? oi_notice_parse_json(req->body, req->body_len, &n, err,
                                    sizeof err)
             : oi_notice_parse_csv(req->body, req->body_len, ref, &n, err,
                                   sizeof err);
  }
  oi_result res = {0};
  pthread_mutex_lock(&api->lock);
  if (e != OI_OK) {
    oi_reject_notice(api->db, ref, e, err, "http");
  } else {
    char sha[SP_EVENT_HASH_HEX + 1];
    sp_sha256_hex(req->body, req->body_len, sha);
    e = oi_import_notice(api->db, &n, sha, "http", &res, err, sizeof err);
    oi_notice_clear(&n);
  }
  pthread_mutex_unlock(&api->lock);
  if (e != OI_OK) {
    reply_error(resp, e, err);
    return;
  }
  sp_http_json(resp, res.existing ? 200 : 201,
             json_pack("{s:s, s:I, s:b}", "notice_id", res.id, "persons",
                       (json_int_t)res.count, "existing", res.existing));
}

size_t oi_api_routes(oi_api *api, sp_http_route *routes, size_t cap) {
  const sp_http_route all[] = {
      {"POST", "/v1/orders", post_order, api},
      {"GET", "/v1/orders/*", get_order, api},
      {"GET", "/v1/vendors/*", get_vendor, api},
      {"POST", "/v1/registrations", post_registration, api},
  };
  size_t n = sizeof all / sizeof *all;
  if (n > cap)
    n = cap;
  memcpy(routes, all, n * sizeof *all);
  return n;
}
