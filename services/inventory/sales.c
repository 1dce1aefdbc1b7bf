/* sales.c - B9 connection, B10 sale and invoice, B11 delivery. */
#include "sales.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "invoice.h"
#include "log.h"
#include "outbox.h"
#include "phone.h"
#include "reason.h"

__attribute__((format(printf, 4, 5))) static iv_move_status
status(iv_move_status s, char *errstr, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(errstr, errlen, fmt, ap);
  va_end(ap);
  return s;
}

static int set_state(PGconn *tx, const char *iccid, iv_state s, char *errstr,
                     size_t errlen) {
  const char *p[] = {iccid, iv_state_name(s)};
  return sp_db_exec(tx, "UPDATE sims SET state = $2 WHERE iccid = $1", 2, p,
                    errstr, errlen) == 1
             ? 0
             : -1;
}

static int sim_event(PGconn *tx, const char *type, const char *iccid,
                     const char *order_id, json_t *data, char *errstr,
                     size_t errlen) {
  char subject[48];
  snprintf(subject, sizeof subject, "sim/%s", iccid);
  return sp_outbox_publish(tx, IV_PRODUCER, IV_SOURCE, IV_TOPIC_SIMS, type,
                           subject, *order_id ? order_id : subject, data,
                           errstr, errlen);
}

static const char *field(json_t *b, const char *key) {
  return json_string_value(json_object_get(b, key));
}

/* ---- B9 ---- */

void iv_connect_from_body(json_t *body, iv_connect_req *r) {
  json_t *swap = json_object_get(body, "swap");
  *r = (iv_connect_req){.iccid = field(body, "iccid"),
                        .case_id = field(body, "case_id"),
                        .swap = json_is_boolean(swap) ? json_is_true(swap)
                                                      : -1,
                        .msisdn = field(body, "msisdn"),
                        .package = field(body, "package")};
}

iv_move_status iv_connect_number(int swap, const char *given,
                                 const char *case_id, const char *case_msisdn,
                                 char msisdn[SP_PHONE_LEN + 1], char *errstr,
                                 size_t errlen) {
  msisdn[0] = '\0';
  if (!case_msisdn)
    case_msisdn = "";
  if (swap < 0)
    return status(IV_MOVE_BAD_INPUT, errstr, errlen,
                  "\"swap\" is required without a connection case");
  /* The number: the customer's for a swap, the pool's for a new one. */
  char why[200];
  if (!given && swap && case_msisdn[0])
    given = case_msisdn;
  if (given && sp_phone_normalize_vn(given, msisdn, why, sizeof why))
    return status(IV_MOVE_BAD_INPUT, errstr, errlen, "number: %s", why);
  if (swap && !msisdn[0])
    return status(IV_MOVE_BAD_INPUT, errstr, errlen,
                  "a swap needs the customer's number (\"msisdn\")");
  if (swap && case_msisdn[0] && strcmp(msisdn, case_msisdn))
    return status(IV_MOVE_BAD_INPUT, errstr, errlen,
                  "connection case %s is for number %s, not %s",
                  case_id ? case_id : "", case_msisdn, msisdn);
  return IV_MOVE_OK;
}

iv_move_status iv_connect_request(PGconn *tx, const iv_connect_req *r,
                                  iv_connect_res *res, char *errstr,
                                  size_t errlen) {
  memset(res, 0, sizeof *res);
  iv_sim_row sr;
  iv_move_status st = iv_sim_take(tx, r->iccid, IV_ACT_CONNECT, r->shop, &sr,
                               errstr, errlen);
  if (st != IV_MOVE_OK)
    return st;
  const char *p1[] = {r->iccid};
  PGresult *q = sp_db_query(tx,
                            "SELECT request_id FROM connections WHERE iccid "
                            "= $1 AND state = 'requested'",
                            1, p1, errstr, errlen);
  if (!q)
    return IV_MOVE_DB;
  if (PQntuples(q) > 0) {
    st = status(IV_MOVE_REFUSED, errstr, errlen,
                "SIM %s has connection %s in flight already", r->iccid,
                PQgetvalue(q, 0, 0));
    PQclear(q);
    return st;
  }
  PQclear(q);

  int swap = r->swap;
  char case_msisdn[16] = "";
  if (r->case_id) {
    const char *pc[] = {r->case_id};
    q = sp_db_query(tx,
                    "SELECT state, coalesce(msisdn, ''), wants_new_number, "
                    "(SELECT request_id FROM connections WHERE case_id = $1 "
                    "AND state = 'requested') FROM connection_cases WHERE "
                    "case_id = $1 FOR UPDATE",
                    1, pc, errstr, errlen);
    if (!q)
      return IV_MOVE_DB;
    if (PQntuples(q) != 1) {
      PQclear(q);
      char q[41];
      return status(IV_MOVE_UNKNOWN, errstr, errlen, "no connection case %s",
                    iv_clip(r->case_id, 40, q));
    }
    char cstate[16], inflight[32];
    snprintf(cstate, sizeof cstate, "%s", PQgetvalue(q, 0, 0));
    snprintf(case_msisdn, sizeof case_msisdn, "%s", PQgetvalue(q, 0, 1));
    int wants_new = PQgetvalue(q, 0, 2)[0] == 't';
    snprintf(inflight, sizeof inflight, "%s", PQgetvalue(q, 0, 3));
    PQclear(q);
    if (strcmp(cstate, "open"))
      return status(IV_MOVE_REFUSED, errstr, errlen,
                    "connection case %s is %s already", r->case_id, cstate);
    if (inflight[0])
      return status(IV_MOVE_REFUSED, errstr, errlen,
                    "connection case %s has connection %s in flight",
                    r->case_id, inflight);
    if (swap < 0)
      swap = !wants_new;
    if (swap == wants_new)
      return status(IV_MOVE_BAD_INPUT, errstr, errlen,
                    "connection case %s asks for %s", r->case_id,
                    wants_new ? "a new number" : "a swap keeping the number");
  }
  char msisdn[SP_PHONE_LEN + 1];
  st = iv_connect_number(swap, r->msisdn, r->case_id, case_msisdn, msisdn,
                         errstr, errlen);
  if (st != IV_MOVE_OK)
    return st;
  const char *pp[] = {r->package ? r->package : ""};
  q = sp_db_query(tx, "SELECT 1 FROM tariffs WHERE package_id = $1", 1, pp,
                  errstr, errlen);
  if (!q)
    return IV_MOVE_DB;
  int has_package = PQntuples(q) == 1;
  PQclear(q);
  if (!has_package) {
    char q[41];
    return status(IV_MOVE_UNKNOWN, errstr, errlen, "no tariff package %s",
                  r->package ? iv_clip(r->package, 40, q) : "(none given)");
  }
  if (!swap) {
    const char *pn[] = {msisdn};
    q = sp_db_query(
        tx,
        msisdn[0]
            ? "UPDATE numbers SET state = 'reserved', changed_at = now() "
              "WHERE msisdn = $1 AND state = 'free' RETURNING msisdn"
            : "UPDATE numbers SET state = 'reserved', changed_at = now() "
              "WHERE msisdn = (SELECT msisdn FROM numbers WHERE state = "
              "'free' AND $1 = '' ORDER BY msisdn LIMIT 1 FOR UPDATE SKIP "
              "LOCKED) RETURNING msisdn",
        1, pn, errstr, errlen);
    if (!q)
      return IV_MOVE_DB;
    int got = PQntuples(q) == 1;
    if (got)
      snprintf(msisdn, sizeof msisdn, "%s", PQgetvalue(q, 0, 0));
    PQclear(q);
    if (!got)
      return msisdn[0] ? status(IV_MOVE_REFUSED, errstr, errlen,
                                "number %s is not free in the pool", msisdn)
                       : status(IV_MOVE_REFUSED, errstr, errlen,
                                "no free number left in the pool");
  }
  const char *pi[] = {r->iccid,   r->shop, sr.sim.ctkv, r->case_id,
                      swap ? "true" : "false", msisdn, r->package, r->by};
  q = sp_db_query(
      tx,
      "INSERT INTO connections (request_id, iccid, shop_id, ctkv_id, case_id, "
      "swap, msisdn, package_id, by_user) VALUES ('CN-' || to_char(now() AT "
      "TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY') || '-' || "
      "lpad(nextval('custody_move_number')::text, 8, '0'), $1, $2, $3, $4, "
      "$5::boolean, $6, $7, $8) RETURNING request_id",
      8, pi, errstr, errlen);
  if (!q)
    return IV_MOVE_DB;
  snprintf(res->request_id, sizeof res->request_id, "%s", PQgetvalue(q, 0, 0));
  PQclear(q);
  snprintf(res->msisdn, sizeof res->msisdn, "%s", msisdn);
  res->swap = swap;
  char subject[64];
  snprintf(subject, sizeof subject, "connection/%s", res->request_id);
  json_t *data = json_pack("{s:s, s:s, s:s, s:b, s:s, s:s}", "request_id",
                           res->request_id, "iccid", r->iccid, "msisdn",
                           msisdn, "swap", swap, "ctkv", sr.sim.ctkv, "shop",
                           r->shop);
  if (r->case_id)
    json_object_set_new(data, "case_id", json_string(r->case_id));
  if (sp_outbox_publish(tx, IV_PRODUCER, IV_SOURCE, IV_TOPIC_CONNECTIONS,
                        "connection.requested", subject,
                        sr.order_id[0] ? sr.order_id : subject, data, errstr,
                        errlen))
    return IV_MOVE_DB;
  return IV_MOVE_OK;
}

int iv_connect_answer(PGconn *tx, const sp_event *ev, char *errstr,
                      size_t errlen) {
  int done = !strcmp(ev->type, "connection.hlr_done");
  if (!done && strcmp(ev->type, "connection.hlr_failed"))
    return 0; /* not an answer */
  const char *rid = json_string_value(json_object_get(ev->data, "request_id"));
  if (!rid) {
    snprintf(errstr, errlen, "%s %s has no request_id", ev->type, ev->id);
    return 1;
  }
  const char *p[] = {rid};
  PGresult *q = sp_db_query(
      tx,
      "SELECT c.state, c.iccid, c.msisdn, c.swap, coalesce(c.case_id, ''), "
      "c.shop_id, c.ctkv_id, coalesce(b.order_id, ''), (SELECT t.name FROM "
      "tariffs t WHERE t.package_id = c.package_id) FROM connections c "
      "JOIN sims s USING (iccid) LEFT JOIN batches b ON b.batch_id = "
      "s.batch_id WHERE c.request_id = $1 FOR UPDATE OF c",
      1, p, errstr, errlen);
  if (!q)
    return -1;
  if (PQntuples(q) != 1) {
    PQclear(q);
    snprintf(errstr, errlen, "%s %s: no connection %s here", ev->type, ev->id,
             rid);
    return 1;
  }
  char state[16], iccid[24], msisdn[16], case_id[40], shop[40], ctkv[16],
      order_id[64];
  snprintf(state, sizeof state, "%s", PQgetvalue(q, 0, 0));
  snprintf(iccid, sizeof iccid, "%s", PQgetvalue(q, 0, 1));
  snprintf(msisdn, sizeof msisdn, "%s", PQgetvalue(q, 0, 2));
  int swap = PQgetvalue(q, 0, 3)[0] == 't';
  snprintf(case_id, sizeof case_id, "%s", PQgetvalue(q, 0, 4));
  snprintf(shop, sizeof shop, "%s", PQgetvalue(q, 0, 5));
  snprintf(ctkv, sizeof ctkv, "%s", PQgetvalue(q, 0, 6));
  snprintf(order_id, sizeof order_id, "%s", PQgetvalue(q, 0, 7));
  char package[256];
  snprintf(package, sizeof package, "%s", PQgetvalue(q, 0, 8));
  PQclear(q);
  if (strcmp(state, "requested"))
    return 0; /* answered before */
  const char *reason =
      done ? NULL : json_string_value(json_object_get(ev->data, "reason"));
  if (done) {
    iv_sim_row sr;
    char why[512];
    if (iv_sim_take(tx, iccid, IV_ACT_CONNECT, shop, &sr, why, sizeof why) !=
        IV_MOVE_OK) {
      /* The number is on the SIM in the HLR, but the SIM moved here:
       * an operator must look. Kept as failed with the reason. */
      done = 0;
      reason = why;
      sp_error("HLR connected a SIM that is no longer at the shop",
               "request_id", rid, "reason", why);
    }
  }
  const char *pu[] = {rid, done ? "done" : "failed", reason};
  if (sp_db_exec(tx,
                 "UPDATE connections SET state = $2, reason = $3, "
                 "finished_at = now() WHERE request_id = $1",
                 3, pu, errstr, errlen) != 1)
    return -1;
  const char *pn[] = {msisdn, done ? "assigned" : "free", iccid};
  if (!swap && sp_db_exec(tx,
                          "UPDATE numbers SET state = $2, iccid = CASE WHEN "
                          "$2 = 'assigned' THEN $3 END, changed_at = now() "
                          "WHERE msisdn = $1",
                          3, pn, errstr, errlen) < 0)
    return -1;
  json_t *data;
  if (done) {
    if (set_state(tx, iccid, IV_ST_CONNECTED, errstr, errlen))
      return -1;
    data = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s}", "iccid", iccid,
                     "msisdn", msisdn, "ctkv", ctkv, "shop", shop, "swap",
                     swap, "package", package);
    if (case_id[0])
      json_object_set_new(data, "case_id", json_string(case_id));
  } else {
    data = json_pack("{s:s, s:s, s:s, s:s}", "iccid", iccid, "request_id",
                     rid, "shop", shop, "reason",
                     reason ? reason : "the HLR refused");
  }
  return sim_event(tx, done ? "sim.connected" : "sim.connect_failed", iccid,
                   order_id, data, errstr, errlen)
             ? -1
             : 0;
}

/* ---- B10 ---- */

void iv_sale_from_body(json_t *body, iv_sale_req *r) {
  json_t *buyer = json_object_get(body, "buyer");
  *r = (iv_sale_req){.iccid = field(body, "iccid"),
                     .buyer_name = field(buyer, "name"),
                     .buyer_id = field(buyer, "id_number"),
                     .buyer_phone = field(buyer, "phone")};
}

iv_move_status iv_sale_check(const iv_sale_req *r, char *errstr,
                             size_t errlen) {
  if (!r->buyer_name || !*r->buyer_name)
    return status(IV_MOVE_BAD_INPUT, errstr, errlen,
                  "the buyer's name is required");
  return IV_MOVE_OK;
}

iv_move_status iv_sale_invoice(const iv_sale_req *r, const iv_sale_terms *t,
                               iv_invoice *inv, char line[IV_SALE_LINE_MAX],
                               char *errstr, size_t errlen) {
  snprintf(line, IV_SALE_LINE_MAX, "Gói cước %s (thuê bao %s)", t->package,
           t->msisdn);
  iv_invoice_init(inv);
  inv->series = t->series;
  inv->number = t->number;
  inv->issued_at = t->issued_at;
  inv->seller.ctkv = t->ctkv;
  inv->seller.name = t->name;
  inv->seller.address = t->address;
  inv->seller.tax_code = t->tax_code;
  inv->buyer.name = r->buyer_name;
  inv->buyer.id_number = r->buyer_id;
  inv->buyer.phone = r->buyer_phone ? r->buyer_phone : t->msisdn;
  inv->nlines = 2;
  inv->lines[0] = (iv_invoice_line){"Phí hòa mạng SIM PKI", "lần", 1, t->fee, 0};
  inv->lines[1] = (iv_invoice_line){line, "gói", 1, t->price, 0};
  inv->vat_rate = t->vat;
  char why[256];
  if (iv_invoice_compute(inv, why, sizeof why))
    return status(IV_MOVE_BAD_INPUT, errstr, errlen, "invoice: %s", why);
  return IV_MOVE_OK;
}

iv_move_status iv_sell(PGconn *tx, const iv_sale_req *r, json_t **invoice,
                       char *errstr, size_t errlen) {
  *invoice = NULL;
  iv_sim_row sr;
  iv_move_status st =
      iv_sim_take(tx, r->iccid, IV_ACT_SELL, r->shop, &sr, errstr, errlen);
  if (st != IV_MOVE_OK)
    return st;
  if ((st = iv_sale_check(r, errstr, errlen)) != IV_MOVE_OK)
    return st;
  const char *p[] = {r->iccid, sr.sim.ctkv};
  /* The CTKV's row is locked: the next number is ours alone until commit,
   * and a sale that rolls back gives it back (no gap). */
  PGresult *q = sp_db_query(
      tx,
      "SELECT k.invoice_series, k.next_invoice_no, k.name, k.address, "
      "k.tax_code, c.msisdn, t.name, t.connection_fee, t.package_price, "
      "t.vat_percent, to_char(now() AT TIME ZONE 'Asia/Ho_Chi_Minh', "
      "'YYYY-MM-DD\"T\"HH24:MI:SS\"+07:00\"') FROM ctkvs k, connections c "
      "JOIN tariffs t USING (package_id) WHERE k.ctkv_id = $2 AND c.iccid = "
      "$1 AND c.state = 'done' FOR UPDATE OF k",
      2, p, errstr, errlen);
  if (!q)
    return IV_MOVE_DB;
  if (PQntuples(q) != 1) {
    PQclear(q);
    return status(IV_MOVE_REFUSED, errstr, errlen,
                  "SIM %s has no finished connection to invoice", r->iccid);
  }
  char series[24], name[256], address[320], tax[32], msisdn[16], pkg[256],
      issued[40], pkg_line[IV_SALE_LINE_MAX];
  snprintf(series, sizeof series, "%s", PQgetvalue(q, 0, 0));
  long long number = atoll(PQgetvalue(q, 0, 1));
  snprintf(name, sizeof name, "%s", PQgetvalue(q, 0, 2));
  snprintf(address, sizeof address, "%s", PQgetvalue(q, 0, 3));
  snprintf(tax, sizeof tax, "%s", PQgetvalue(q, 0, 4));
  snprintf(msisdn, sizeof msisdn, "%s", PQgetvalue(q, 0, 5));
  snprintf(pkg, sizeof pkg, "%s", PQgetvalue(q, 0, 6));
  iv_sale_terms terms = {.ctkv = sr.sim.ctkv,
                         .series = series,
                         .name = name,
                         .address = address,
                         .tax_code = tax,
                         .issued_at = issued,
                         .number = number,
                         .msisdn = msisdn,
                         .package = pkg,
                         .fee = atoll(PQgetvalue(q, 0, 7)),
                         .price = atoll(PQgetvalue(q, 0, 8)),
                         .vat = atoi(PQgetvalue(q, 0, 9))};
  snprintf(issued, sizeof issued, "%s", PQgetvalue(q, 0, 10));
  PQclear(q);
  iv_invoice inv;
  if ((st = iv_sale_invoice(r, &terms, &inv, pkg_line, errstr, errlen)) !=
      IV_MOVE_OK)
    return st;
  json_t *doc = iv_invoice_json(&inv);
  char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
  if (!text) {
    json_decref(doc);
    return status(IV_MOVE_DB, errstr, errlen, "cannot build the invoice");
  }
  char num[24], sub[24], v[24], tot[24];
  snprintf(num, sizeof num, "%lld", number);
  snprintf(sub, sizeof sub, "%lld", inv.subtotal);
  snprintf(v, sizeof v, "%lld", inv.vat);
  snprintf(tot, sizeof tot, "%lld", inv.total);
  const char *pi[] = {series, num,  sr.sim.ctkv, r->shop, r->iccid,
                      sub,    v,    tot,         text,    r->by};
  long added = sp_db_exec(
      tx,
      "INSERT INTO invoices (series, number, ctkv_id, shop_id, iccid, "
      "subtotal, vat, total, document, by_user) VALUES ($1, $2::int, $3, $4, "
      "$5, $6::bigint, $7::bigint, $8::bigint, $9::jsonb, $10)",
      10, pi, errstr, errlen);
  free(text);
  const char *pk[] = {sr.sim.ctkv};
  if (added != 1 ||
      sp_db_exec(tx,
                 "UPDATE ctkvs SET next_invoice_no = next_invoice_no + 1 "
                 "WHERE ctkv_id = $1",
                 1, pk, errstr, errlen) != 1 ||
      set_state(tx, r->iccid, IV_ST_SOLD, errstr, errlen)) {
    json_decref(doc);
    return IV_MOVE_DB;
  }
  json_t *data = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s}", "iccid",
                           r->iccid, "ctkv", sr.sim.ctkv, "shop", r->shop,
                           "invoice_series", series, "invoice_number",
                           (json_int_t)number, "total", (json_int_t)inv.total,
                           "msisdn", msisdn);
  if (sim_event(tx, "sim.sold", r->iccid, sr.order_id, data, errstr,
                errlen)) {
    json_decref(doc);
    return IV_MOVE_DB;
  }
  *invoice = doc;
  return IV_MOVE_OK;
}

/* ---- B11 ---- */

void iv_delivery_from_body(json_t *body, iv_delivery_req *r) {
  json_t *paid = json_object_get(body, "amount_paid");
  *r = (iv_delivery_req){field(body, "iccid"), field(body, "received_by"),
                         json_is_integer(paid) ? json_integer_value(paid)
                                               : -1};
}

iv_move_status iv_deliver(PGconn *tx, const char *iccid, const char *shop,
                          const char *received_by, long long amount_paid,
                          const char *by, char *errstr, size_t errlen) {
  iv_sim_row sr;
  iv_move_status st =
      iv_sim_take(tx, iccid, IV_ACT_DELIVER, shop, &sr, errstr, errlen);
  if (st != IV_MOVE_OK)
    return st;
  if (!received_by || !*received_by)
    return status(IV_MOVE_BAD_INPUT, errstr, errlen,
                  "who received the SIM (\"received_by\") is required");
  const char *p[] = {iccid};
  PGresult *q = sp_db_query(tx, "SELECT total FROM invoices WHERE iccid = $1",
                            1, p, errstr, errlen);
  if (!q)
    return IV_MOVE_DB;
  long long total = PQntuples(q) == 1 ? atoll(PQgetvalue(q, 0, 0)) : 0;
  PQclear(q);
  if (amount_paid < 0 || amount_paid > total)
    return status(IV_MOVE_BAD_INPUT, errstr, errlen,
                  "amount paid must be 0 to the invoice's %lld đồng", total);
  char paid[24], debt[24];
  snprintf(paid, sizeof paid, "%lld", amount_paid);
  snprintf(debt, sizeof debt, "%lld", total - amount_paid);
  const char *pi[] = {iccid, received_by, paid, debt, by};
  if (sp_db_exec(tx,
                 "INSERT INTO deliveries (iccid, received_by, amount_paid, "
                 "debt, by_user) VALUES ($1, $2, $3::bigint, $4::bigint, $5)",
                 5, pi, errstr, errlen) != 1 ||
      set_state(tx, iccid, IV_ST_DELIVERED, errstr, errlen))
    return IV_MOVE_DB;
  json_t *data = json_pack("{s:s, s:s, s:I, s:I}", "iccid", iccid, "shop",
                           shop, "amount_paid", (json_int_t)amount_paid,
                           "debt", (json_int_t)(total - amount_paid));
  return sim_event(tx, "sim.delivered", iccid, sr.order_id, data, errstr,
                   errlen)
             ? IV_MOVE_DB
             : IV_MOVE_OK;
}

/* ---- reading invoices back ---- */

int iv_invoice_get(PGconn *c, const char *series, long long number,
                   json_t **doc, char **html, char *errstr, size_t errlen) {
  *doc = NULL;
  if (html)
    *html = NULL;
  char num[24];
  snprintf(num, sizeof num, "%lld", number);
  const char *p[] = {series, num};
  PGresult *q = sp_db_query(c,
                            "SELECT document::text FROM invoices WHERE "
                            "series = $1 AND number = $2::int",
                            2, p, errstr, errlen);
  if (!q)
    return -1;
  int found = PQntuples(q) == 1;
  if (found) {
    json_error_t je;
    *doc = json_loads(PQgetvalue(q, 0, 0), 0, &je);
  }
  PQclear(q);
  if (!found)
    return 0;
  if (!*doc) {
    snprintf(errstr, errlen, "invoice %s-%s: its stored document is broken",
             series, num);
    return -1;
  }
  if (!html)
    return 1;
  /* The page is rendered again from the stored document: the same figures
   * the customer's JSON has, checked once more by the renderer. */
  iv_invoice inv;
  iv_invoice_init(&inv);
  json_t *d = *doc, *s = json_object_get(d, "seller"),
         *b = json_object_get(d, "buyer");
  inv.series = json_string_value(json_object_get(d, "series"));
  inv.number = number;
  inv.issued_at = json_string_value(json_object_get(d, "issued_at"));
  inv.seller.ctkv = json_string_value(json_object_get(s, "ctkv"));
  inv.seller.name = json_string_value(json_object_get(s, "name"));
  inv.seller.address = json_string_value(json_object_get(s, "address"));
  inv.seller.tax_code = json_string_value(json_object_get(s, "tax_code"));
  inv.buyer.name = json_string_value(json_object_get(b, "name"));
  inv.buyer.id_number = json_string_value(json_object_get(b, "id_number"));
  inv.buyer.phone = json_string_value(json_object_get(b, "phone"));
  inv.vat_rate = (int)json_integer_value(json_object_get(d, "vat_rate"));
  size_t i;
  json_t *l;
  json_array_foreach(json_object_get(d, "lines"), i, l) {
    if (i >= IV_INVOICE_MAX_LINES)
      break;
    inv.lines[i].description =
        json_string_value(json_object_get(l, "description"));
    inv.lines[i].unit = json_string_value(json_object_get(l, "unit"));
    inv.lines[i].quantity = json_integer_value(json_object_get(l, "quantity"));
    inv.lines[i].unit_price =
        json_integer_value(json_object_get(l, "unit_price"));
    inv.nlines = (int)i + 1;
  }
  char why[256];
  if (iv_invoice_compute(&inv, why, sizeof why) ||
      !(*html = iv_invoice_html(&inv))) {
    snprintf(errstr, errlen, "invoice %s-%s cannot be rendered: %s", series,
             num, why);
    return -1;
  }
  return 1;
}
