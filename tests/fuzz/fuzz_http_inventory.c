/* fuzz_http_inventory - the bodies, paths and queries of inventory's HTTP
 * API, through the pure functions the handlers call before any database:
 * the first byte picks the request, the rest is its body (JSON, loaded as
 * the handlers load it) or its path or query text.
 *
 *   0-3  POST /v1/handovers, /v1/stock-ins, /v1/transfers, /v1/walk-ins:
 *        iv_move_from_body, then iv_move_check
 *   4    POST /v1/connections: iv_connect_from_body, iv_connect_number
 *        without a case and with one
 *   5    POST /v1/sales: iv_sale_from_body, iv_sale_check, iv_sale_invoice
 *        with fixed terms, then the invoice's JSON and HTML
 *   6    POST /v1/deliveries and /v1/faulty, /v1/returns:
 *        iv_delivery_from_body, iv_mark_check
 *   7    GET /v1/invoices/{series}/{number}: iv_invoice_path_parse; and
 *        GET /v1/reports/reconcile?from=&to=: iv_reconcile_filter_check
 *
 * Invariants: every reason is UTF-8 (it goes into a JSON body: jansson
 * refuses anything else, and the client would get a 500); an accepted
 * move names two good ICCIDs of one length, a CTKV or a shop as its kind
 * needs and 1 to IV_MAX_RANGE SIMs; an accepted number is canonical (a
 * swap's is the case's); an accepted sale gives an invoice whose amounts
 * add up and that renders; a parsed invoice path has a series without '/'
 * and a number an invoice can have; an accepted date is a real one. */
#include <ctype.h>

#include "custody.h"
#include "fuzz.h"
#include "invoice.h"
#include "numbering.h"
#include "reconcile.h"
#include "sales.h"

#define OWN_CTKV "CTKV3"
#define CASE_ID "CASE-2026-000001"
#define CASE_MSISDN "84901234567"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  json_object_seed(1);
  return 0;
}

static void reason_ok(const char *err, size_t cap) {
  FZ_CHECK(fz_errstr_ok(err, cap), "no reason");
  FZ_CHECK(fz_utf8(err, strlen(err)), err);
}

static void iccid_ok(const char *s) {
  long long n;
  char why[200];
  FZ_CHECK(s && vx_iccid_parse(s, strlen(s), &n, why, sizeof why) == 0, s);
}

static void moves(json_t *body, iv_action_kind kind) {
  iv_move m;
  char err[512];
  memset(err, 'U', sizeof err);
  if (iv_move_from_body(body, kind, OWN_CTKV, &m, err, sizeof err)) {
    reason_ok(err, sizeof err);
    return;
  }
  FZ_CHECK(m.kind == kind && m.by == NULL, "kind, by");
  if (kind == IV_ACT_HANDOVER || kind == IV_ACT_STOCK_IN)
    FZ_CHECK(m.ctkv && *m.ctkv && !m.shop, "a CTKV, no shop");
  else
    FZ_CHECK(m.shop && !m.ctkv, "a shop, no CTKV");
  if (kind == IV_ACT_WALK_IN)
    FZ_CHECK(m.iccid_first == m.iccid_last, "a walk-in is one SIM");
  long sims = -1;
  memset(err, 'U', sizeof err);
  iv_move_status st = iv_move_check(&m, &sims, err, sizeof err);
  if (st != IV_MOVE_OK) {
    FZ_CHECK(st == IV_MOVE_BAD_INPUT && sims == 0, "status");
    reason_ok(err, sizeof err);
    return;
  }
  iccid_ok(m.iccid_first);
  iccid_ok(m.iccid_last);
  FZ_CHECK(strlen(m.iccid_first) == strlen(m.iccid_last), "lengths");
  FZ_CHECK(strcmp(m.iccid_first, m.iccid_last) <= 0, "first after last");
  FZ_CHECK(sims >= 1 && sims <= IV_MAX_RANGE, "range size");
  FZ_CHECK(kind != IV_ACT_WALK_IN || sims == 1, "a walk-in of many");
  FZ_CHECK(kind != IV_ACT_HANDOVER || !strcmp(m.purpose, "testing") ||
               !strcmp(m.purpose, "customers"),
           "purpose");
}

static void number(int swap, const char *given, const char *case_id,
                   const char *case_msisdn) {
  char msisdn[SP_PHONE_LEN + 1], err[512];
  memset(err, 'U', sizeof err);
  iv_move_status st = iv_connect_number(swap, given, case_id, case_msisdn,
                                        msisdn, err, sizeof err);
  if (st != IV_MOVE_OK) {
    FZ_CHECK(st == IV_MOVE_BAD_INPUT, "status");
    reason_ok(err, sizeof err);
    return;
  }
  FZ_CHECK(swap == 0 || swap == 1, "swap unresolved");
  FZ_CHECK(msisdn[0] ? fz_phone_canonical(msisdn) : !swap && !given, msisdn);
  if (swap && case_msisdn && case_msisdn[0])
    FZ_CHECK(!strcmp(msisdn, case_msisdn), "not the case's number");
}

static void connection(json_t *body) {
  iv_connect_req r;
  iv_connect_from_body(body, &r);
  FZ_CHECK(r.swap >= -1 && r.swap <= 1 && !r.shop && !r.by, "request");
  number(r.swap, r.msisdn, NULL, "");
  /* A case resolves swap: a swap keeping its number, or a new number. */
  number(r.swap < 0 ? 1 : r.swap, r.msisdn, CASE_ID, CASE_MSISDN);
  number(0, r.msisdn, CASE_ID, "");
}

static void sale(json_t *body) {
  iv_sale_req r;
  iv_sale_from_body(body, &r);
  char err[512];
  memset(err, 'U', sizeof err);
  if (iv_sale_check(&r, err, sizeof err) != IV_MOVE_OK) {
    reason_ok(err, sizeof err);
    FZ_CHECK(!r.buyer_name || !*r.buyer_name, "a name refused");
    return;
  }
  static const iv_sale_terms terms = {
      .ctkv = OWN_CTKV,
      .series = "1C26TK3",
      .name = "Công ty Dịch vụ MobiFone Khu vực 3",
      .address = "Số 1 Đường 2/9, Hải Châu, Đà Nẵng",
      .tax_code = "0100686209-003",
      .issued_at = "2026-11-25T14:05:09+07:00",
      .number = 42,
      .msisdn = CASE_MSISDN,
      .package = "PKI Một năm",
      .fee = 50000,
      .price = 600000,
      .vat = 10};
  iv_invoice inv;
  char line[IV_SALE_LINE_MAX];
  memset(err, 'U', sizeof err);
  if (iv_sale_invoice(&r, &terms, &inv, line, err, sizeof err) != IV_MOVE_OK) {
    reason_ok(err, sizeof err);
    return;
  }
  FZ_CHECK(inv.subtotal == 650000 && inv.vat == 65000 && inv.total == 715000,
           "amounts");
  FZ_CHECK(inv.buyer.name == r.buyer_name, "buyer");
  json_t *doc = iv_invoice_json(&inv);
  char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
  FZ_CHECK(text, "an accepted invoice is not JSON");
  char *html = iv_invoice_html(&inv);
  FZ_CHECK(html && fz_utf8(html, strlen(html)), "no HTML page");
  FZ_CHECK(!strstr(html, "<script"), "a script on the page");
  free(html);
  free(text);
  json_decref(doc);
}

static void delivery_and_mark(json_t *body) {
  iv_delivery_req d;
  iv_delivery_from_body(body, &d);
  json_t *paid = json_object_get(body, "amount_paid");
  FZ_CHECK(json_is_integer(paid) ? d.amount_paid == json_integer_value(paid)
                                 : d.amount_paid == -1,
           "amount_paid");
  const char *reason = json_string_value(json_object_get(body, "reason"));
  char err[512];
  memset(err, 'U', sizeof err);
  for (int k = IV_ACT_MARK_FAULTY; k <= IV_ACT_RETURN; k++) {
    iv_move_status st =
        iv_mark_check((iv_action_kind)k, reason, err, sizeof err);
    if (st != IV_MOVE_OK) {
      FZ_CHECK(st == IV_MOVE_BAD_INPUT, "status");
      reason_ok(err, sizeof err);
      FZ_CHECK(!reason || !*reason || strlen(reason) > 500, "refused");
    } else {
      FZ_CHECK(reason && *reason && strlen(reason) <= 500, "accepted");
    }
  }
}

/* YYYY-MM-DD, and a day the month has (PostgreSQL has no year 0). */
static int real_date(const char *s) {
  if (strlen(s) != 10 || !fz_digits(s, 4) || s[4] != '-' ||
      !fz_digits(s + 5, 2) || s[7] != '-' || !fz_digits(s + 8, 2))
    return 0;
  int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
  static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return y >= 1 && m >= 1 && m <= 12 && d >= 1 &&
         d <= mdays[m - 1] + (m == 2 && leap);
}

static void path_and_query(const char *text) {
  char series[IV_SERIES_PATH_MAX + 1];
  long long n;
  memset(series, 'U', sizeof series);
  if (iv_invoice_path_parse(text, series, &n) == 0) {
    size_t len = strlen(series);
    FZ_CHECK(len >= 1 && len <= IV_SERIES_PATH_MAX && !strchr(series, '/'),
             series);
    FZ_CHECK(!strncmp(text, series, len) && text[len] == '/', "series");
    FZ_CHECK(n >= 1 && n <= IV_INVOICE_NUMBER_MAX, "invoice number");
    FZ_CHECK(fz_digits(text + len + 1, strlen(text + len + 1)), "digits");
    char num[8];
    FZ_CHECK(iv_invoice_number_format(n, num) == 0, "number format");
  } else {
    FZ_CHECK(series[0] == '\0' && n == 0, "refused path left values");
  }
  char err[512];
  memset(err, 'U', sizeof err);
  iv_reconcile_filter f = {NULL, text, NULL, NULL};
  if (iv_reconcile_filter_check(&f, err, sizeof err))
    reason_ok(err, sizeof err);
  else
    FZ_CHECK(real_date(text), text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  int which = data[0] % 8;
  if (which == 7) {
    char *text = fz_cstr(data + 1, size - 1);
    path_and_query(text);
    free(text);
    return 0;
  }
  json_error_t je;
  json_t *body =
      json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, &je);
  if (!json_is_object(body)) { /* the handlers answer 400 themselves */
    json_decref(body);
    return 0;
  }
  static const iv_action_kind kinds[] = {IV_ACT_HANDOVER, IV_ACT_STOCK_IN,
                                         IV_ACT_TRANSFER, IV_ACT_WALK_IN};
  if (which < 4)
    moves(body, kinds[which]);
  else if (which == 4)
    connection(body);
  else if (which == 5)
    sale(body);
  else
    delivery_and_mark(body);
  json_decref(body);
  return 0;
}
