/* http_api.c - the HTTP adapter: token, scope, body, then custody.c. */
#include "http_api.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "custody.h"
#include "http_auth.h"
#include "log.h"
#include "reconcile.h"
#include "sales.h"
#include "users.h"

static void refuse(sp_http_response *resp, int status, const char *code,
                   const char *why) {
  sp_http_json(resp, status, json_pack("{s:s, s:s}", "error", why, "code", code));
}

/* The caller, from its bearer token: 1 known; 0 refused (answered). */
static int caller(iv_api *api, const sp_http_request *req,
                  sp_http_response *resp, iv_principal *who) {
  return iv_http_caller(sp_db_ready(api->db), req, iv_http_bearer(req), resp,
                        who);
}

static int allowed(const iv_principal *who, iv_op op, const char *ctkv,
                   const char *shop, const sp_http_request *req,
                   sp_http_response *resp) {
  return iv_http_allowed(who, op, ctkv, shop, req, resp);
}

static json_t *body_object(const sp_http_request *req,
                           sp_http_response *resp) {
  json_error_t je;
  json_t *b = req->body ? json_loadb(req->body, req->body_len,
                                     JSON_REJECT_DUPLICATES, &je)
                        : NULL;
  if (!json_is_object(b)) {
    json_decref(b);
    refuse(resp, 400, "bad_request", "the body must be a JSON object");
    return NULL;
  }
  return b;
}

static const char *field(json_t *b, const char *key) {
  return json_string_value(json_object_get(b, key));
}

/* A use case's status as its transaction's end: a refusal rolls back. */
static int tx_result(iv_move_status st) {
  return st == IV_MOVE_OK ? SP_DB_OK : st == IV_MOVE_DB ? SP_DB_ERROR
                                                        : SP_DB_REJECT;
}

typedef struct move_tx {
  const iv_move *m;
  iv_move_result res;
  iv_move_status st;
} move_tx;

static int move_fn(PGconn *c, void *arg, char *errstr, size_t errlen) {
  move_tx *t = arg;
  t->st = iv_move_range(c, t->m, &t->res, errstr, errlen);
  return tx_result(t->st);
}

static void answer_status(sp_http_response *resp, iv_move_status st,
                          const char *err) {
  switch (st) {
  case IV_MOVE_BAD_INPUT:
    refuse(resp, 400, "bad_request", err);
    break;
  case IV_MOVE_UNKNOWN:
    refuse(resp, 404, "not_found", err);
    break;
  case IV_MOVE_REFUSED:
    refuse(resp, 409, "refused", err);
    break;
  default:
    refuse(resp, 503, "unavailable", "the database failed; retry");
  }
}

/* Run one move and answer it. */
static void do_move(iv_api *api, const iv_move *m, sp_http_response *resp) {
  char err[1024];
  move_tx t = {m, {{0}, 0, {0}}, IV_MOVE_DB};
  int rc = sp_db_tx(api->db, move_fn, &t, err, sizeof err);
  if (rc == SP_DB_OK) {
    sp_info("SIMs moved", "move_id", t.res.move_id, "action",
            iv_action_name(m->kind), "by", m->by);
    sp_http_json(resp, 201,
          json_pack("{s:s, s:s, s:I, s:s, s:s}", "move_id", t.res.move_id,
                    "action", iv_action_name(m->kind), "sims",
                    (json_int_t)t.res.sims, "iccid_first", m->iccid_first,
                    "iccid_last", m->iccid_last));
    return;
  }
  if (t.st == IV_MOVE_REFUSED)
    sp_warn("move refused", "action", iv_action_name(m->kind), "by", m->by,
            "reason", err);
  else if (t.st == IV_MOVE_DB)
    sp_error("move failed", "action", iv_action_name(m->kind), "error", err);
  answer_status(resp, t.st, err);
}

typedef struct route_ctx {
  iv_api *api;
  iv_action_kind kind;
} route_ctx;

static void post_move(const sp_http_request *req, sp_http_response *resp,
                      void *opaque) {
  route_ctx *rc = opaque;
  iv_api *api = rc->api;
  iv_principal who;
  pthread_mutex_lock(&api->lock);
  if (!caller(api, req, resp, &who)) {
    pthread_mutex_unlock(&api->lock);
    return;
  }
  json_t *b = body_object(req, resp);
  if (!b) {
    pthread_mutex_unlock(&api->lock);
    return;
  }
  iv_move m;
  char shop_ctkv[IV_ID_MAX + 1] = "", err[512];
  iv_op op = (iv_op)iv_op_of_action(rc->kind);
  if (iv_move_from_body(b, rc->kind, who.ctkv, &m, err, sizeof err)) {
    refuse(resp, 400, "bad_request", err);
    goto out;
  }
  m.by = who.user;
  const char *tctkv = m.ctkv, *tshop = m.shop;
  if (m.shop) { /* transfer, walk_in: the shop's CTKV */
    int found = iv_shop_ctkv(sp_db_conn(api->db), m.shop, shop_ctkv, err,
                             sizeof err);
    if (found < 0) {
      refuse(resp, 503, "unavailable", "the database is unreachable");
      goto out;
    }
    if (!found) {
      refuse(resp, 404, "not_found", "no such shop");
      goto out;
    }
    tctkv = shop_ctkv;
  }
  if (!allowed(&who, op, tctkv, tshop, req, resp))
    goto out;
  do_move(api, &m, resp);
out:
  json_decref(b);
  pthread_mutex_unlock(&api->lock);
}

static void get_stock(const sp_http_request *req, sp_http_response *resp,
                      void *opaque) {
  iv_api *api = ((route_ctx *)opaque)->api;
  iv_principal who;
  pthread_mutex_lock(&api->lock);
  if (!caller(api, req, resp, &who))
    goto out;
  const char *ctkv = sp_http_query(req, "ctkv");
  const char *shop = sp_http_query(req, "shop");
  /* Regional users see their own stock when they name none. */
  if (!ctkv && !shop && who.role == IV_ROLE_SHOP)
    shop = who.shop;
  else if (!ctkv && !shop && who.role == IV_ROLE_CTKV)
    ctkv = who.ctkv;
  char sctkv[IV_ID_MAX + 1] = "", err[512];
  if (shop) {
    int found = iv_shop_ctkv(sp_db_conn(api->db), shop, sctkv, err,
                             sizeof err);
    if (found <= 0) {
      refuse(resp, found < 0 ? 503 : 404, found < 0 ? "unavailable"
                                                    : "not_found",
             found < 0 ? "the database is unreachable" : "no such shop");
      goto out;
    }
    ctkv = sctkv;
  }
  if (!allowed(&who, IV_OP_READ_STOCK, ctkv, shop, req, resp))
    goto out;
  const char *p[] = {ctkv ? ctkv : "", shop ? shop : ""};
  PGresult *r = sp_db_query(
      sp_db_conn(api->db),
      "SELECT state, count(*) FROM sims WHERE ($1 = '' OR ctkv_id = $1) AND "
      "($2 = '' OR shop_id = $2) GROUP BY state ORDER BY state",
      2, p, err, sizeof err);
  if (!r) {
    refuse(resp, 503, "unavailable", "the database failed; retry");
    goto out;
  }
  json_t *states = json_object();
  for (int i = 0; i < PQntuples(r); i++)
    json_object_set_new(states, PQgetvalue(r, i, 0),
                        json_integer(atoll(PQgetvalue(r, i, 1))));
  PQclear(r);
  json_t *body = json_pack("{s:o}", "states", states);
  if (ctkv)
    json_object_set_new(body, "ctkv", json_string(ctkv));
  if (shop)
    json_object_set_new(body, "shop", json_string(shop));
  sp_http_json(resp, 200, body);
out:
  pthread_mutex_unlock(&api->lock);
}

/* ---- one SIM at a shop: connect, sell, deliver ---- */

typedef struct shop_call {
  iv_principal who;
  json_t *body;
  const char *shop;
  char ctkv[IV_ID_MAX + 1];
} shop_call;

/* Token, body, the shop (the body's, or the caller's own) and the right
 * to do op there: 1 go on (api->lock held), 0 answered. */
static int shop_begin(iv_api *api, const sp_http_request *req,
                      sp_http_response *resp, iv_op op, shop_call *sc) {
  memset(sc, 0, sizeof *sc);
  pthread_mutex_lock(&api->lock);
  if (!caller(api, req, resp, &sc->who) || !(sc->body = body_object(req, resp)))
    goto refused;
  sc->shop = field(sc->body, "shop");
  if (!sc->shop && sc->who.shop[0])
    sc->shop = sc->who.shop;
  if (!sc->shop) {
    refuse(resp, 400, "bad_request", "\"shop\" is required");
    goto refused;
  }
  char err[512];
  int found = iv_shop_ctkv(sp_db_conn(api->db), sc->shop, sc->ctkv, err,
                           sizeof err);
  if (found <= 0) {
    refuse(resp, found < 0 ? 503 : 404, found < 0 ? "unavailable" : "not_found",
           found < 0 ? "the database is unreachable" : "no such shop");
    goto refused;
  }
  if (!allowed(&sc->who, op, sc->ctkv, sc->shop, req, resp))
    goto refused;
  return 1;
refused:
  json_decref(sc->body);
  pthread_mutex_unlock(&api->lock);
  return 0;
}

static void shop_end(iv_api *api, shop_call *sc) {
  json_decref(sc->body);
  pthread_mutex_unlock(&api->lock);
}

typedef struct connect_tx {
  const iv_connect_req *r;
  iv_connect_res res;
  iv_move_status st;
} connect_tx;

static int connect_fn(PGconn *c, void *arg, char *errstr, size_t errlen) {
  connect_tx *t = arg;
  t->st = iv_connect_request(c, t->r, &t->res, errstr, errlen);
  return tx_result(t->st);
}

static void post_connection(const sp_http_request *req,
                            sp_http_response *resp, void *opaque) {
  iv_api *api = ((route_ctx *)opaque)->api;
  shop_call sc;
  if (!shop_begin(api, req, resp, IV_OP_CONNECT, &sc))
    return;
  iv_connect_req r;
  iv_connect_from_body(sc.body, &r);
  r.shop = sc.shop;
  r.by = sc.who.user;
  connect_tx t = {&r, {{0}, {0}, 0}, IV_MOVE_DB};
  char err[1024];
  if (sp_db_tx(api->db, connect_fn, &t, err, sizeof err) == SP_DB_OK) {
    sp_info("connection requested", "request_id", t.res.request_id, "iccid",
            r.iccid, "by", sc.who.user);
    sp_http_json(resp, 202,
          json_pack("{s:s, s:s, s:s, s:b, s:s}", "request_id",
                    t.res.request_id, "iccid", r.iccid, "msisdn",
                    t.res.msisdn, "swap", t.res.swap, "state", "requested"));
  } else {
    if (t.st != IV_MOVE_DB)
      sp_warn("connection refused", "iccid", r.iccid ? r.iccid : "", "by",
              sc.who.user, "reason", err);
    answer_status(resp, t.st, err);
  }
  shop_end(api, &sc);
}

static void get_connection(const sp_http_request *req, sp_http_response *resp,
                           void *opaque) {
  iv_api *api = ((route_ctx *)opaque)->api;
  iv_principal who;
  pthread_mutex_lock(&api->lock);
  if (!caller(api, req, resp, &who))
    goto out;
  const char *id = req->path + strlen("/v1/connections/");
  char err[512];
  const char *p[] = {id};
  PGresult *r = sp_db_query(
      sp_db_conn(api->db),
      "SELECT request_id, iccid, msisdn, swap, state, coalesce(reason, ''), "
      "shop_id, ctkv_id, coalesce(case_id, '') FROM connections WHERE "
      "request_id = $1",
      1, p, err, sizeof err);
  if (!r) {
    refuse(resp, 503, "unavailable", "the database failed; retry");
    goto out;
  }
  if (PQntuples(r) != 1) {
    PQclear(r);
    refuse(resp, 404, "not_found", "no such connection");
    goto out;
  }
  if (allowed(&who, IV_OP_READ_STOCK, PQgetvalue(r, 0, 7), PQgetvalue(r, 0, 6),
              req, resp)) {
    json_t *b = json_pack("{s:s, s:s, s:s, s:b, s:s, s:s}", "request_id",
                          PQgetvalue(r, 0, 0), "iccid", PQgetvalue(r, 0, 1),
                          "msisdn", PQgetvalue(r, 0, 2), "swap",
                          PQgetvalue(r, 0, 3)[0] == 't', "state",
                          PQgetvalue(r, 0, 4), "shop", PQgetvalue(r, 0, 6));
    if (*PQgetvalue(r, 0, 5))
      json_object_set_new(b, "reason", json_string(PQgetvalue(r, 0, 5)));
    if (*PQgetvalue(r, 0, 8))
      json_object_set_new(b, "case_id", json_string(PQgetvalue(r, 0, 8)));
    sp_http_json(resp, 200, b);
  }
  PQclear(r);
out:
  pthread_mutex_unlock(&api->lock);
}

typedef struct sale_tx {
  const iv_sale_req *r;
  json_t *invoice;
  iv_move_status st;
} sale_tx;

static int sale_fn(PGconn *c, void *arg, char *errstr, size_t errlen) {
  sale_tx *t = arg;
  json_decref(t->invoice); /* a retried transaction starts over */
  t->invoice = NULL;
  t->st = iv_sell(c, t->r, &t->invoice, errstr, errlen);
  return tx_result(t->st);
}

static void post_sale(const sp_http_request *req, sp_http_response *resp,
                      void *opaque) {
  iv_api *api = ((route_ctx *)opaque)->api;
  shop_call sc;
  if (!shop_begin(api, req, resp, IV_OP_SELL, &sc))
    return;
  iv_sale_req r;
  iv_sale_from_body(sc.body, &r);
  r.shop = sc.shop;
  r.by = sc.who.user;
  sale_tx t = {&r, NULL, IV_MOVE_DB};
  char err[1024];
  if (sp_db_tx(api->db, sale_fn, &t, err, sizeof err) == SP_DB_OK) {
    sp_info("SIM sold", "iccid", r.iccid, "by", sc.who.user);
    sp_http_json(resp, 201, t.invoice);
  } else {
    json_decref(t.invoice);
    if (t.st != IV_MOVE_DB)
      sp_warn("sale refused", "iccid", r.iccid ? r.iccid : "", "by",
              sc.who.user, "reason", err);
    answer_status(resp, t.st, err);
  }
  shop_end(api, &sc);
}

typedef struct deliver_tx {
  const char *iccid, *shop, *received_by, *by;
  long long paid;
  iv_move_status st;
} deliver_tx;

static int deliver_fn(PGconn *c, void *arg, char *errstr, size_t errlen) {
  deliver_tx *t = arg;
  t->st = iv_deliver(c, t->iccid, t->shop, t->received_by, t->paid, t->by,
                     errstr, errlen);
  return tx_result(t->st);
}

static void post_delivery(const sp_http_request *req, sp_http_response *resp,
                          void *opaque) {
  iv_api *api = ((route_ctx *)opaque)->api;
  shop_call sc;
  if (!shop_begin(api, req, resp, IV_OP_DELIVER, &sc))
    return;
  iv_delivery_req d;
  iv_delivery_from_body(sc.body, &d);
  deliver_tx t = {d.iccid, sc.shop, d.received_by, sc.who.user,
                  d.amount_paid, IV_MOVE_DB};
  char err[1024];
  if (sp_db_tx(api->db, deliver_fn, &t, err, sizeof err) == SP_DB_OK)
    sp_http_json(resp, 201, json_pack("{s:s, s:s}", "iccid", t.iccid, "state",
                               "delivered"));
  else
    answer_status(resp, t.st, err);
  shop_end(api, &sc);
}

/* GET /v1/invoices/{series}/{number}[?format=html] */
static void get_invoice(const sp_http_request *req, sp_http_response *resp,
                        void *opaque) {
  iv_api *api = ((route_ctx *)opaque)->api;
  iv_principal who;
  pthread_mutex_lock(&api->lock);
  if (!caller(api, req, resp, &who))
    goto out;
  char series[IV_SERIES_PATH_MAX + 1];
  long long number;
  if (iv_invoice_path_parse(req->path + strlen("/v1/invoices/"), series,
                            &number)) {
    refuse(resp, 400, "bad_request", "use /v1/invoices/SERIES/NUMBER");
    goto out;
  }
  const char *fmt = sp_http_query(req, "format");
  int html = fmt && !strcmp(fmt, "html");
  json_t *doc;
  char *page = NULL, err[512];
  int found = iv_invoice_get(sp_db_conn(api->db), series, number, &doc,
                             html ? &page : NULL, err, sizeof err);
  if (found <= 0) {
    refuse(resp, found < 0 ? 503 : 404, found < 0 ? "unavailable" : "not_found",
           found < 0 ? "the invoice cannot be read" : "no such invoice");
    goto out;
  }
  const char *ctkv = json_string_value(
      json_object_get(json_object_get(doc, "seller"), "ctkv"));
  /* A shop reads the invoices of its own sales. */
  char num[24], shop[IV_ID_MAX + 1] = "";
  snprintf(num, sizeof num, "%lld", number);
  const char *ps[] = {series, num};
  PGresult *r = sp_db_query(sp_db_conn(api->db),
                            "SELECT shop_id FROM invoices WHERE series = $1 "
                            "AND number = $2::int",
                            2, ps, err, sizeof err);
  if (r && PQntuples(r) == 1)
    snprintf(shop, sizeof shop, "%s", PQgetvalue(r, 0, 0));
  PQclear(r);
  if (!allowed(&who, IV_OP_READ_STOCK, ctkv,
               who.role == IV_ROLE_SHOP ? shop : NULL, req, resp)) {
    json_decref(doc);
    free(page);
    goto out;
  }
  if (html) {
    json_decref(doc);
    resp->status = 200;
    resp->content_type = "text/html; charset=utf-8";
    resp->body = page;
    resp->body_len = strlen(page);
  } else {
    sp_http_json(resp, 200, doc);
  }
out:
  pthread_mutex_unlock(&api->lock);
}

typedef struct mark_tx {
  const char *iccid, *reason, *by;
  iv_action_kind kind;
  iv_move_status st;
} mark_tx;

static int mark_fn(PGconn *c, void *arg, char *errstr, size_t errlen) {
  mark_tx *t = arg;
  t->st = iv_mark_sim(c, t->iccid, t->kind, t->reason, t->by, errstr, errlen);
  return tx_result(t->st);
}

/* POST /v1/faulty, /v1/returns {"iccid", "reason"}: allowed to whoever
 * holds the SIM (access.h), so its place is read first. */
static void post_mark(const sp_http_request *req, sp_http_response *resp,
                      void *opaque) {
  route_ctx *rc = opaque;
  iv_api *api = rc->api;
  iv_principal who;
  pthread_mutex_lock(&api->lock);
  json_t *b = NULL;
  if (!caller(api, req, resp, &who) || !(b = body_object(req, resp)))
    goto out;
  const char *iccid = field(b, "iccid");
  char err[1024];
  const char *p[] = {iccid ? iccid : ""};
  PGresult *r = sp_db_query(sp_db_conn(api->db),
                            "SELECT coalesce(ctkv_id, ''), coalesce(shop_id, "
                            "'') FROM sims WHERE iccid = $1",
                            1, p, err, sizeof err);
  if (!r) {
    refuse(resp, 503, "unavailable", "the database failed; retry");
    goto out;
  }
  if (PQntuples(r) != 1) {
    PQclear(r);
    refuse(resp, 404, "not_found", "no such SIM");
    goto out;
  }
  char ctkv[IV_ID_MAX + 1], shop[IV_ID_MAX + 1];
  snprintf(ctkv, sizeof ctkv, "%s", PQgetvalue(r, 0, 0));
  snprintf(shop, sizeof shop, "%s", PQgetvalue(r, 0, 1));
  PQclear(r);
  if (!allowed(&who, (iv_op)iv_op_of_action(rc->kind), ctkv, shop, req, resp))
    goto out;
  mark_tx t = {iccid, field(b, "reason"), who.user, rc->kind, IV_MOVE_DB};
  if (sp_db_tx(api->db, mark_fn, &t, err, sizeof err) == SP_DB_OK)
    sp_http_json(resp, 201, json_pack("{s:s, s:s}", "iccid", iccid, "state",
                               rc->kind == IV_ACT_MARK_FAULTY ? "faulty"
                                                              : "returned"));
  else
    answer_status(resp, t.st, err);
out:
  json_decref(b);
  pthread_mutex_unlock(&api->lock);
}

/* GET /v1/reports/reconcile[?order=&from=&to=&ctkv=&format=csv] */
static void get_reconcile(const sp_http_request *req, sp_http_response *resp,
                          void *opaque) {
  iv_api *api = ((route_ctx *)opaque)->api;
  iv_principal who;
  pthread_mutex_lock(&api->lock);
  if (!caller(api, req, resp, &who))
    goto out;
  iv_reconcile_filter f = {sp_http_query(req, "order"),
                           sp_http_query(req, "from"), sp_http_query(req, "to"),
                           sp_http_query(req, "ctkv")};
  if (!f.ctkv && who.role == IV_ROLE_CTKV)
    f.ctkv = who.ctkv; /* a CTKV reconciles its own region */
  if (!allowed(&who, IV_OP_READ_RECONCILE, f.ctkv, NULL, req, resp))
    goto out;
  char err[512];
  int bad = 0;
  json_t *report = iv_reconcile(sp_db_conn(api->db), &f, &bad, err, sizeof err);
  if (!report) {
    refuse(resp, bad ? 400 : 503, bad ? "bad_request" : "unavailable",
           bad ? err : "the database failed; retry");
    goto out;
  }
  const char *fmt = sp_http_query(req, "format");
  if (fmt && !strcmp(fmt, "csv")) {
    resp->status = 200;
    resp->content_type = "text/csv; charset=utf-8";
    resp->body = iv_reconcile_csv(report);
    resp->body_len = resp->body ? strlen(resp->body) : 0;
    json_decref(report);
  } else {
    sp_http_json(resp, 200, report);
  }
out:
  pthread_mutex_unlock(&api->lock);
}

size_t iv_api_routes(iv_api *api, sp_http_route *routes, size_t cap) {
  static route_ctx ctx[13];
  static const struct {
    const char *method, *path;
    iv_action_kind kind;
    sp_http_handler handler;
  } table[] = {{"POST", "/v1/handovers", IV_ACT_HANDOVER, post_move},
               {"POST", "/v1/stock-ins", IV_ACT_STOCK_IN, post_move},
               {"POST", "/v1/transfers", IV_ACT_TRANSFER, post_move},
               {"POST", "/v1/walk-ins", IV_ACT_WALK_IN, post_move},
               {"GET", "/v1/stock", IV_ACT_COUNT, get_stock},
               {"POST", "/v1/connections", IV_ACT_CONNECT, post_connection},
               {"GET", "/v1/connections/*", IV_ACT_CONNECT, get_connection},
               {"POST", "/v1/sales", IV_ACT_SELL, post_sale},
               {"POST", "/v1/deliveries", IV_ACT_DELIVER, post_delivery},
               {"GET", "/v1/invoices/*", IV_ACT_SELL, get_invoice},
               {"GET", "/v1/reports/reconcile", IV_ACT_COUNT, get_reconcile},
               {"POST", "/v1/faulty", IV_ACT_MARK_FAULTY, post_mark},
               {"POST", "/v1/returns", IV_ACT_RETURN, post_mark}};
  size_t n = sizeof table / sizeof *table;
  if (n > cap)
    n = cap;
  for (size_t i = 0; i < n; i++) {
    ctx[i] = (route_ctx){api, table[i].kind};
    routes[i] = (sp_http_route){table[i].method, table[i].path,
                                table[i].handler, &ctx[i]};
  }
  return n;
}
