/* Unit tests for what inventory reads from outside before any database:
 * the HTTP bodies, paths and queries (custody.h, sales.h, invoice.h,
 * reconcile.h), the organisation and catalogue files (org.h, catalog.h)
 * and the quoting of outside text in reasons (reason.h). The cases marked
 * "found by fuzz_..." are inputs the fuzz targets broke the parsers with
 * (also in tests/fuzz/corpus/NAME/regress_*). */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "custody.h"
#include "invoice.h"
#include "org.h"
#include "reason.h"
#include "reconcile.h"
#include "sales.h"

static char err[1024];

/* 8984017700000000003 .. 8984017700000000995: ICCIDs with their Luhn
 * digit, the first and the 100th of the sample plan. */
#define FIRST "8984017700000000003"
#define LAST "8984017700000000995"

static json_t *body(const char *text) {
  json_error_t je;
  json_t *b = json_loads(text, JSON_REJECT_DUPLICATES, &je);
  ck_assert_msg(json_is_object(b), "bad test body %s: %s", text, je.text);
  return b;
}

static int utf8(const char *s) {
  json_t *j = json_string(s);
  json_decref(j);
  return j != NULL;
}

START_TEST(move_bodies) {
  iv_move m;
  json_t *b = body("{\"iccid_first\": \"" FIRST "\", \"iccid_last\": \"" LAST
                   "\", \"ctkv\": \"CTKV1\", \"purpose\": \"customers\", "
                   "\"shop\": \"HNI-001\"}");
  ck_assert_int_eq(
      iv_move_from_body(b, IV_ACT_HANDOVER, "CTKV9", &m, err, sizeof err), 0);
  ck_assert_str_eq(m.ctkv, "CTKV1");
  ck_assert_str_eq(m.purpose, "customers");
  ck_assert_ptr_null(m.shop); /* a handover names no shop */
  ck_assert_ptr_null(m.by);
  long sims;
  ck_assert_int_eq(iv_move_check(&m, &sims, err, sizeof err), IV_MOVE_OK);
  ck_assert_int_eq(sims, 100);
  ck_assert_int_eq(
      iv_move_from_body(b, IV_ACT_TRANSFER, "CTKV9", &m, err, sizeof err), 0);
  ck_assert_str_eq(m.shop, "HNI-001");
  ck_assert_ptr_null(m.ctkv); /* the shop's CTKV is looked up */
  json_decref(b);

  /* A stock-in without a CTKV is the caller's own; without one either, or
   * a transfer without a shop, is refused. */
  b = body("{\"iccid\": \"" FIRST "\"}");
  ck_assert_int_eq(
      iv_move_from_body(b, IV_ACT_STOCK_IN, "CTKV9", &m, err, sizeof err), 0);
  ck_assert_str_eq(m.ctkv, "CTKV9");
  ck_assert_int_eq(
      iv_move_from_body(b, IV_ACT_STOCK_IN, "", &m, err, sizeof err), -1);
  ck_assert_str_eq(err, "\"ctkv\" is required");
  ck_assert_int_eq(
      iv_move_from_body(b, IV_ACT_TRANSFER, "CTKV9", &m, err, sizeof err), -1);
  ck_assert_str_eq(err, "\"shop\" is required");
  json_decref(b);
  b = body("{\"iccid\": \"" FIRST "\", \"shop\": \"HNI-002\"}");
  ck_assert_int_eq(
      iv_move_from_body(b, IV_ACT_WALK_IN, "", &m, err, sizeof err), 0);
  ck_assert_str_eq(m.iccid_first, FIRST);
  ck_assert_ptr_eq(m.iccid_first, m.iccid_last);
  ck_assert_int_eq(iv_move_check(&m, &sims, err, sizeof err), IV_MOVE_OK);
  ck_assert_int_eq(sims, 1);
  json_decref(b);
}
END_TEST

static const struct {
  iv_action_kind kind;
  const char *first, *last, *purpose, *reason;
} bad_moves[] = {
    {IV_ACT_HANDOVER, FIRST, LAST, "gifts",
     "a handover's purpose is \"testing\" or \"customers\""},
    {IV_ACT_TRANSFER, LAST, FIRST, NULL,
     "the range " LAST ".." FIRST " is empty or mixes ICCID lengths"},
    {IV_ACT_TRANSFER, FIRST, "89840177000000000004", NULL,
     "last ICCID 89840177000000000004: bad Luhn digit 4 (expected 0)"},
    {IV_ACT_CONNECT, FIRST, FIRST, NULL, "connect is not a range move"},
    /* found by fuzz_http_inventory: the ICCID was quoted with "%.24s",
     * which cut "ồ" in two; the reason was no longer UTF-8, so the JSON
     * answer could not be made and the client got a 500 */
    {IV_ACT_WALK_IN, "89840177fals000000000đồng", "89840177fals000000000đồng",
     NULL,
     "first ICCID 89840177fals000000000đ: an ICCID has 19 or 20 digits, not "
     "28"},
    /* found by fuzz_http_inventory: without the ICCID the reason quoted a
     * buffer never written (stack bytes) */
    {IV_ACT_TRANSFER, NULL, LAST, NULL, "first ICCID (none): it is required"},
    {IV_ACT_TRANSFER, FIRST, NULL, NULL, "last ICCID (none): it is required"},
};

START_TEST(move_refusals) {
  iv_move m = {.kind = bad_moves[_i].kind,
               .iccid_first = bad_moves[_i].first,
               .iccid_last = bad_moves[_i].last,
               .purpose = bad_moves[_i].purpose};
  long sims = 7;
  ck_assert_int_eq(iv_move_check(&m, &sims, err, sizeof err),
                   IV_MOVE_BAD_INPUT);
  ck_assert_str_eq(err, bad_moves[_i].reason);
  ck_assert(utf8(err));
  ck_assert_int_eq(sims, 0);
}
END_TEST

START_TEST(connect_numbers) {
  char msisdn[SP_PHONE_LEN + 1];
  json_t *b = body("{\"iccid\": \"" FIRST "\", \"swap\": true, \"msisdn\": "
                   "\"0901 234 567\", \"package\": \"PKI-1Y\"}");
  iv_connect_req r;
  iv_connect_from_body(b, &r);
  ck_assert_int_eq(r.swap, 1);
  ck_assert_str_eq(r.package, "PKI-1Y");
  ck_assert_int_eq(
      iv_connect_number(r.swap, r.msisdn, NULL, "", msisdn, err, sizeof err),
      IV_MOVE_OK);
  ck_assert_str_eq(msisdn, "84901234567");
  /* The case's number is the one a swap keeps. */
  ck_assert_int_eq(iv_connect_number(1, NULL, "CASE-1", "84901234567", msisdn,
                                     err, sizeof err),
                   IV_MOVE_OK);
  ck_assert_str_eq(msisdn, "84901234567");
  ck_assert_int_eq(iv_connect_number(1, "0911111111", "CASE-1", "84901234567",
                                     msisdn, err, sizeof err),
                   IV_MOVE_BAD_INPUT);
  ck_assert_str_eq(err, "connection case CASE-1 is for number 84901234567, "
                        "not 84911111111");
  /* A new number: the given one, or the pool's next. */
  ck_assert_int_eq(
      iv_connect_number(0, NULL, NULL, "", msisdn, err, sizeof err),
      IV_MOVE_OK);
  ck_assert_str_eq(msisdn, "");
  ck_assert_int_eq(
      iv_connect_number(1, NULL, NULL, "", msisdn, err, sizeof err),
      IV_MOVE_BAD_INPUT);
  ck_assert_str_eq(err, "a swap needs the customer's number (\"msisdn\")");
  json_decref(b);
  b = body("{\"swap\": \"yes\"}");
  iv_connect_from_body(b, &r);
  ck_assert_int_eq(r.swap, -1);
  ck_assert_int_eq(
      iv_connect_number(r.swap, NULL, NULL, "", msisdn, err, sizeof err),
      IV_MOVE_BAD_INPUT);
  ck_assert_str_eq(err, "\"swap\" is required without a connection case");
  json_decref(b);
}
END_TEST

START_TEST(sale_invoice) {
  json_t *b = body("{\"iccid\": \"" FIRST "\", \"buyer\": {\"name\": "
                   "\"<b>Nguyễn Văn An</b>\", \"id_number\": "
                   "\"001190000001\"}}");
  iv_sale_req r;
  iv_sale_from_body(b, &r);
  ck_assert_int_eq(iv_sale_check(&r, err, sizeof err), IV_MOVE_OK);
  ck_assert_ptr_null(r.buyer_phone);
  iv_sale_terms t = {.ctkv = "CTKV1",
                     .series = "1C26TK1",
                     .name = "Công ty Dịch vụ MobiFone Khu vực 1",
                     .address = "Số 1 Phạm Văn Bạch, Hà Nội",
                     .tax_code = "0100686209-001",
                     .issued_at = "2026-11-25T14:05:09+07:00",
                     .number = 7,
                     .msisdn = "84901234567",
                     .package = "PKI 1 năm",
                     .fee = 50000,
                     .price = 600000,
                     .vat = 10};
  iv_invoice inv;
  char line[IV_SALE_LINE_MAX];
  ck_assert_int_eq(iv_sale_invoice(&r, &t, &inv, line, err, sizeof err),
                   IV_MOVE_OK);
  ck_assert_str_eq(line, "Gói cước PKI 1 năm (thuê bao 84901234567)");
  ck_assert_str_eq(inv.buyer.phone, "84901234567"); /* the connected number */
  ck_assert_int_eq(inv.total, 715000);
  char *html = iv_invoice_html(&inv);
  ck_assert_ptr_nonnull(strstr(html, "&lt;b&gt;Nguyễn Văn An&lt;/b&gt;"));
  free(html);
  json_decref(b);
  b = body("{\"buyer\": {\"name\": \"\"}}");
  iv_sale_from_body(b, &r);
  ck_assert_int_eq(iv_sale_check(&r, err, sizeof err), IV_MOVE_BAD_INPUT);
  ck_assert_str_eq(err, "the buyer's name is required");
  json_decref(b);
}
END_TEST

START_TEST(delivery_and_marks) {
  json_t *b = body("{\"iccid\": \"" FIRST "\", \"received_by\": \"An\", "
                   "\"amount_paid\": 715000}");
  iv_delivery_req d;
  iv_delivery_from_body(b, &d);
  ck_assert_int_eq(d.amount_paid, 715000);
  ck_assert_str_eq(d.received_by, "An");
  json_decref(b);
  b = body("{\"amount_paid\": 715000.0}");
  iv_delivery_from_body(b, &d);
  ck_assert_int_eq(d.amount_paid, -1);
  json_decref(b);
  ck_assert_int_eq(
      iv_mark_check(IV_ACT_RETURN, "card cracked", err, sizeof err),
      IV_MOVE_OK);
  char long_reason[502];
  memset(long_reason, 'x', 501);
  long_reason[501] = '\0';
  ck_assert_int_eq(
      iv_mark_check(IV_ACT_MARK_FAULTY, long_reason, err, sizeof err),
      IV_MOVE_BAD_INPUT);
  ck_assert_str_eq(err, "a reason (up to 500 bytes) is required");
  ck_assert_int_eq(iv_mark_check(IV_ACT_SELL, "x", err, sizeof err),
                   IV_MOVE_BAD_INPUT);
  ck_assert_str_eq(err, "not a single-SIM mark");
}
END_TEST

START_TEST(invoice_paths) {
  char series[IV_SERIES_PATH_MAX + 1];
  long long n;
  ck_assert_int_eq(iv_invoice_path_parse("1C26TK1/42", series, &n), 0);
  ck_assert_str_eq(series, "1C26TK1");
  ck_assert_int_eq(n, 42);
  ck_assert_int_eq(iv_invoice_path_parse("1C26TK1/0000042", series, &n), 0);
  ck_assert_int_eq(n, 42);
  ck_assert_int_eq(iv_invoice_path_parse("1C26TK1/9999999", series, &n), 0);
  static const char *const bad[] = {
      "1C26TK1", "/42", "1C26TK1/", "1C26TK1/0", "1C26TK1/-1", "1C26TK1/4x",
      "1C26TK1/42/html", "0123456789012345678901234567890123/1",
      /* strtoll took these (seen writing fuzz_http_inventory's invariant),
       * and a number past PostgreSQL's int made the lookup a database
       * error (503), not a 404 */
      "1C26TK1/10000000", "1C26TK1/99999999999999999999", "1C26TK1/+42",
      "1C26TK1/ 42"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    ck_assert_msg(iv_invoice_path_parse(bad[i], series, &n) == -1, "%s",
                  bad[i]);
    ck_assert_str_eq(series, "");
    ck_assert_int_eq(n, 0);
  }
}
END_TEST

START_TEST(reconcile_dates) {
  iv_reconcile_filter f = {NULL, "2026-01-01", "2028-02-29", NULL};
  ck_assert_int_eq(iv_reconcile_filter_check(&f, err, sizeof err), 0);
  /* found by fuzz_http_inventory: strptime took a day the month does not
   * have, which PostgreSQL then refused (a 503 instead of a 400) */
  static const char *const bad[] = {"2026-02-29",    "2026-04-31", "2026-13-01",
                                    "2026- 1- 1",    "0000-01-01", "2026-1-01",
                                    "2026-01-01T00", "26-01-01"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    f.to = bad[i];
    ck_assert_msg(iv_reconcile_filter_check(&f, err, sizeof err) == -1, "%s",
                  bad[i]);
    ck_assert_str_eq(err, "dates are YYYY-MM-DD");
  }
}
END_TEST

START_TEST(reason_quotes) {
  char q[8];
  ck_assert_str_eq(iv_clip("abcdefghij", 7, q), "abcdefg");
  ck_assert_str_eq(iv_clip("abcdeđồ", 7, q), "abcdeđ");
  ck_assert_str_eq(iv_clip("abcdđ", 5, q), "abcd");
  ck_assert_str_eq(iv_clip("đ", 7, q), "đ");
  ck_assert_str_eq(iv_clip(NULL, 7, q), "(none)");
  char s[] = "a\xc3\x28 \xe1\xbb \xf0\x9f\x98\x80 \xed\xa0\x80 ố";
  iv_utf8_scrub(s);
  ck_assert_str_eq(s, "a?( ?? \xf0\x9f\x98\x80 ??? ố");
}
END_TEST

#define CTKV(id, series, tax, email)                                               \
  "{\"id\": \"" id "\", \"name\": \"Công ty Dịch vụ MobiFone Khu vực 1\", " \
  "\"address\": \"Số 1 Phạm Văn Bạch, Hà Nội\", \"tax_code\": \"" tax              \
  "\", \"invoice_series\": \"" series "\"" email ", \"shops\": [{\"id\": "         \
  "\"HNI-001\", \"name\": \"Cửa hàng\", \"province\": \"Hà Nội\"}]}"

START_TEST(org_file) {
  iv_org org;
  const char *good =
      "{\"departments\": {\"ban_khdn\": {\"name\": \"Ban KHDN\", \"email\": "
      "\"ban.khdn@mobifone.example\"}}, \"ctkvs\": [" CTKV(
          "CTKV1", "1C26TK1", "0100686209-001",
          ", \"email\": \"ctkv1@mobifone.example\"") "]}";
  ck_assert_msg(iv_org_parse(good, strlen(good), &org, err, sizeof err) == 0,
                "%s", err);
  ck_assert_uint_eq(org.nctkvs, 1);
  ck_assert_uint_eq(org.nshops, 1);
  ck_assert_str_eq(org.shops[0].ctkv, "CTKV1");
  iv_org_free(&org);

  static const struct {
    const char *text, *reason;
  } bad[] = {
      /* found by fuzz_org: accepted, then refused by the notifier at every
       * message to the CTKV */
      {"{\"ctkvs\": [" CTKV("CTKV1", "1C26TK1", "0100686209-001",
                            ", \"email\": \"ctkv1@mobi\"") "]}",
       "CTKV1: \"email\" is not an e-mail address"},
      {"{\"departments\": {\"ban_khdn\": {\"name\": \"x\", \"email\": "
       "\"a@b\"}}, \"ctkvs\": [" CTKV("CTKV1", "1C26TK1", "0100686209-001",
                                      "") "]}",
       "department ban_khdn: a name and an e-mail address are required"},
      /* fixed with it (fuzz_org's invariant): accepted, then every sale of
       * the CTKV failed on its invoice */
      {"{\"ctkvs\": [" CTKV("CTKV1", "1c26tk1", "0100686209-001", "") "]}",
       "CTKV1: series must be 1 to 20 of A-Z and 0-9 (e.g. 1C26TKV) (the "
       "CTKV's invoices carry it)"},
      {"{\"ctkvs\": [" CTKV("CTKV1", "1C26TK1", "MST 0100686209", "") "]}",
       "CTKV1: seller.tax_code must be digits, with a dash before a branch "
       "suffix (e.g. 0100686209-001) (the CTKV's invoices carry it)"},
      /* found by fuzz_org: jansson's error text cut "ố" in two */
      {"{\"ctkvs\": [{\"address\": \"\\ố\"}]}", "not JSON: invalid escape "
                                                "near '\"\\?' (line 1)"},
      /* the key was quoted with "%.32s", which could cut a character */
      {"{\"departments\": {\"ban_khdn_0123456789012345678901đồng\": {}}, "
       "\"ctkvs\": [" CTKV("CTKV1", "1C26TK1", "0100686209-001", "") "]}",
       "departments: \"ban_khdn_0123456789012345678901\" is not ban_khdn, "
       "ban_khcn or tt_tctk"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    ck_assert_msg(iv_org_parse(bad[i].text, strlen(bad[i].text), &org, err,
                               sizeof err) == -1,
                  "case %zu", i);
    ck_assert_str_eq(err, bad[i].reason);
    ck_assert(utf8(err));
    ck_assert_ptr_null(org.shops);
  }
}
END_TEST

START_TEST(tariff_file) {
  iv_tariff *t;
  size_t n;
  const char *good = "[{\"id\": \"PKI-1Y\", \"name\": \"SIM PKI 12 tháng\", "
                     "\"connection_fee\": 50000, \"package_price\": 600000}]";
  ck_assert_int_eq(
      iv_tariffs_parse(good, strlen(good), &t, &n, err, sizeof err), 0);
  ck_assert_uint_eq(n, 1);
  ck_assert_str_eq(t[0].name, "SIM PKI 12 tháng");
  ck_assert_int_eq(t[0].vat, 10);
  ck_assert_int_eq(t[0].price, 600000);
  free(t);
  /* found by fuzz_catalog: a name with a control character was taken, and
   * every sale of the package failed on its invoice line */
  const char *ctl = "[{\"id\": \"PKI-1Y\", \"name\": \"SIM PKI\\tký số\", "
                    "\"connection_fee\": 50000, \"package_price\": 600000}]";
  ck_assert_int_eq(iv_tariffs_parse(ctl, strlen(ctl), &t, &n, err, sizeof err),
                   -1);
  ck_assert_ptr_null(t);
  ck_assert_ptr_nonnull(strstr(err, "package 1: id"));
  ck_assert_ptr_nonnull(strstr(err, "no control characters"));
}
END_TEST

START_TEST(numbers_file) {
  iv_msisdn *m;
  size_t n;
  const char *good = "# pool\n0901234567\n84901234568  # note\n\n+84 90 123 "
                     "4569\r\n";
  ck_assert_int_eq(
      iv_numbers_parse(good, strlen(good), &m, &n, err, sizeof err), 0);
  ck_assert_uint_eq(n, 3);
  ck_assert_str_eq(m[0], "84901234567");
  ck_assert_str_eq(m[2], "84901234569");
  free(m);
  const char *bad = "0901234567\n02438251234\n";
  ck_assert_int_eq(iv_numbers_parse(bad, strlen(bad), &m, &n, err, sizeof err),
                   -1);
  ck_assert_ptr_null(m);
  ck_assert_uint_eq(n, 0);
  ck_assert_ptr_nonnull(strstr(err, "line 2: "));
  ck_assert_int_eq(iv_numbers_parse("# none\n", 7, &m, &n, err, sizeof err),
                   -1);
  ck_assert_str_eq(err, "no number in the file");
}
END_TEST

int main(void) {
  Suite *s = suite_create("inventory_input");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, move_bodies);
  tcase_add_loop_test(tc, move_refusals, 0,
                      (int)(sizeof bad_moves / sizeof *bad_moves));
  tcase_add_test(tc, connect_numbers);
  tcase_add_test(tc, sale_invoice);
  tcase_add_test(tc, delivery_and_marks);
  tcase_add_test(tc, invoice_paths);
  tcase_add_test(tc, reconcile_dates);
  tcase_add_test(tc, reason_quotes);
  tcase_add_test(tc, org_file);
  tcase_add_test(tc, tariff_file);
  tcase_add_test(tc, numbers_file);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
