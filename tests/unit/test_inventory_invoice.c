/* Unit tests for B10's invoice (invoice.c): checks, integer amounts and VAT
 * rounding, overflow, number and word formatting, JSON and HTML. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "invoice.h"

static char err[512];

/* A connection at a shop: the fee and six months of a package. */
static void sample(iv_invoice *inv) {
  iv_invoice_init(inv);
  inv->series = "1C26TKV";
  inv->number = 42;
  inv->issued_at = "2026-11-25T14:05:09+07:00";
  inv->seller.ctkv = "CTKV1";
  inv->seller.name = "Công ty Dịch vụ MobiFone Khu vực 1";
  inv->seller.address = "Số 1 Phạm Văn Bạch, Cầu Giấy, Hà Nội";
  inv->seller.tax_code = "0100686209-001";
  inv->buyer.name = "Nguyễn Văn An";
  inv->buyer.id_number = "001190000001";
  inv->buyer.phone = "0901234567";
  inv->nlines = 2;
  inv->lines[0] = (iv_invoice_line){"Phí hòa mạng (Connection fee)", "lần", 1,
                                    25000, 0};
  inv->lines[1] = (iv_invoice_line){"Gói cước PKI6 (6 tháng)", "tháng", 6,
                                    90000, 0};
}

START_TEST(compute_sample) {
  iv_invoice inv;
  sample(&inv);
  ck_assert_int_eq(inv.vat_rate, IV_VAT_DEFAULT);
  ck_assert_msg(iv_invoice_compute(&inv, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(inv.lines[0].amount, 25000);
  ck_assert_int_eq(inv.lines[1].amount, 540000);
  ck_assert_int_eq(inv.subtotal, 565000);
  ck_assert_int_eq(inv.vat, 56500);
  ck_assert_int_eq(inv.total, 621500);
  /* A free SIM line and a 0% rate are fine. */
  inv.lines[0].unit_price = 0;
  inv.vat_rate = 0;
  ck_assert_int_eq(iv_invoice_compute(&inv, err, sizeof err), 0);
  ck_assert_int_eq(inv.total, 540000);
}
END_TEST

START_TEST(vat_rounding) {
  static const struct {
    long long sub;
    int rate;
    long long vat;
  } cases[] = {
      {0, 10, 0},     {4, 10, 0},      {5, 10, 1},     /* 0.5 up */
      {14, 10, 1},    {15, 10, 2},     {105, 10, 11},  /* 10.5 up */
      {104, 10, 10},  {1234, 8, 99},   /* 98.72 */
      {1, 5, 0},      {9, 5, 0},       {10, 5, 1},     /* 0.5 up */
      {30, 5, 2},     /* 1.5 up */     {565000, 10, 56500},
      {99, 100, 99},  {123457, 0, 0},  {1, 50, 1},     /* 0.5 up */
      {IV_AMOUNT_MAX, 100, IV_AMOUNT_MAX},
      {IV_AMOUNT_MAX, 10, 900719925474099LL},
      {IV_AMOUNT_MAX, 8, 720575940379279LL},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
    ck_assert_msg(iv_vat_amount(cases[i].sub, cases[i].rate) == cases[i].vat,
                  "%lld at %d%%: %lld", cases[i].sub, cases[i].rate,
                  iv_vat_amount(cases[i].sub, cases[i].rate));
  /* Against the plain formula in wide integers. */
  unsigned long long x = 88172645463325252ULL;
  for (int i = 0; i < 100000; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    long long sub = (long long)(x % (unsigned long long)IV_AMOUNT_MAX);
    if (i % 2)
      sub %= 10000000;
    int rate = (int)(x >> 40) % 101;
    __int128 want = ((__int128)sub * rate + 50) / 100;
    ck_assert_msg(iv_vat_amount(sub, rate) == (long long)want, "%lld %d", sub,
                  rate);
  }
}
END_TEST

START_TEST(overflow_refused) {
  iv_invoice inv;
  sample(&inv);
  inv.lines[1].quantity = 1000000000LL;
  inv.lines[1].unit_price = 10000000000LL; /* 10^19 đồng */
  ck_assert_int_eq(iv_invoice_compute(&inv, err, sizeof err), -1);
  ck_assert_ptr_nonnull(strstr(err, "line 2"));
  ck_assert_ptr_nonnull(strstr(err, "more than"));
  /* Each line fits, the sum does not. */
  sample(&inv);
  inv.lines[0].unit_price = IV_AMOUNT_MAX;
  ck_assert_int_eq(iv_invoice_compute(&inv, err, sizeof err), -1);
  ck_assert_ptr_nonnull(strstr(err, "subtotal"));
  /* The subtotal fits, the VAT on top does not. */
  sample(&inv);
  inv.nlines = 1;
  inv.lines[0].unit_price = IV_AMOUNT_MAX - 1;
  ck_assert_int_eq(iv_invoice_compute(&inv, err, sizeof err), -1);
  ck_assert_ptr_nonnull(strstr(err, "total"));
  inv.vat_rate = 0;
  ck_assert_int_eq(iv_invoice_compute(&inv, err, sizeof err), 0);
  ck_assert_int_eq(inv.total, IV_AMOUNT_MAX - 1);
  /* Values that would overflow a long long outright. */
  inv.lines[0].quantity = 4;
  inv.lines[0].unit_price = 0x3fffffffffffffffLL;
  ck_assert_int_eq(iv_invoice_compute(&inv, err, sizeof err), -1);
  inv.lines[0].quantity = 0x7fffffffffffffffLL;
  inv.lines[0].unit_price = 2;
  ck_assert_int_eq(iv_invoice_compute(&inv, err, sizeof err), -1);
  /* No renderer shows an invoice that does not add up. */
  ck_assert_ptr_null(iv_invoice_json(&inv));
  ck_assert_ptr_null(iv_invoice_html(&inv));
}
END_TEST

/* Each change to the sample and a phrase of the reason it gets. */
static void bad_0(iv_invoice *v) { v->lines[0].unit_price = -1; }
static void bad_1(iv_invoice *v) { v->lines[1].quantity = 0; }
static void bad_2(iv_invoice *v) { v->lines[1].quantity = -3; }
static void bad_3(iv_invoice *v) { v->lines[0].description = ""; }
static void bad_4(iv_invoice *v) { v->lines[0].description = "   "; }
static void bad_5(iv_invoice *v) { v->lines[1].description = NULL; }
static void bad_6(iv_invoice *v) { v->lines[0].unit = ""; }
static void bad_7(iv_invoice *v) { v->nlines = 0; }
static void bad_8(iv_invoice *v) {
  for (int i = 0; i < IV_INVOICE_MAX_LINES; i++)
    v->lines[i] = (iv_invoice_line){"Phí", "lần", 1, 1000, 0};
  v->nlines = IV_INVOICE_MAX_LINES + 1;
}
static void bad_9(iv_invoice *v) { v->series = "1c26tkv"; }
static void bad_10(iv_invoice *v) { v->series = ""; }
static void bad_11(iv_invoice *v) { v->number = 0; }
static void bad_12(iv_invoice *v) { v->number = 10000000; }
static void bad_13(iv_invoice *v) { v->issued_at = "2026-11-25T14:05:09Z"; }
static void bad_14(iv_invoice *v) { v->issued_at = "2026-02-29T10:00:00+07:00"; }
static void bad_15(iv_invoice *v) { v->issued_at = "2026-11-25 14:05:09+07:00"; }
static void bad_16(iv_invoice *v) { v->issued_at = "2026-11-25T24:00:00+07:00"; }
static void bad_17(iv_invoice *v) { v->seller.tax_code = "MST 0100686209"; }
static void bad_18(iv_invoice *v) { v->seller.name = NULL; }
static void bad_19(iv_invoice *v) { v->buyer.name = ""; }
static void bad_20(iv_invoice *v) { v->buyer.phone = "0241234567"; }
static void bad_21(iv_invoice *v) { v->buyer.phone = NULL; }
static void bad_22(iv_invoice *v) { v->buyer.id_number = "0011-9000"; }
static void bad_23(iv_invoice *v) { v->vat_rate = 101; }
static void bad_24(iv_invoice *v) { v->vat_rate = -1; }
static void bad_25(iv_invoice *v) { v->buyer.name = "Nguy\xe1\xbb"; }
static void bad_26(iv_invoice *v) { v->lines[0].description = "Ph\xc3\xad\n"; }
static void bad_27(iv_invoice *v) { v->seller.address = "\xc0\xaf"; }
static void bad_28(iv_invoice *v) { v->seller.tax_code = "-0100686209"; }

static const struct {
  void (*change)(iv_invoice *);
  const char *reason;
} bad[] = {
    {bad_0, "line 1: unit price must be 0"},
    {bad_1, "line 2: quantity must be at least 1, not 0"},
    {bad_2, "not -3"},
    {bad_3, "line 1 description is empty"},
    {bad_4, "line 1 description is empty"},
    {bad_5, "line 2 description is empty"},
    {bad_6, "line 1 unit is empty"},
    {bad_7, "1 to 20 lines, not 0"},
    {bad_8, "1 to 20 lines, not 21"},
    {bad_9, "series"},
    {bad_10, "series"},
    {bad_11, "number must be 1 to 9999999, not 0"},
    {bad_12, "not 10000000"},
    {bad_13, "issued_at"},
    {bad_14, "issued_at"},
    {bad_15, "issued_at"},
    {bad_16, "issued_at"},
    {bad_17, "seller.tax_code"},
    {bad_18, "seller.name is empty"},
    {bad_19, "buyer.name is empty"},
    {bad_20, "buyer.phone"},
    {bad_21, "buyer.phone: missing"},
    {bad_22, "buyer.id_number"},
    {bad_23, "vat_rate must be 0 to 100 percent, not 101"},
    {bad_24, "not -1"},
    {bad_25, "buyer.name must be at most"},
    {bad_26, "line 1 description must be"},
    {bad_27, "seller.address must be"},
    {bad_28, "seller.tax_code"},
};

START_TEST(refusals) {
  iv_invoice inv;
  sample(&inv);
  bad[_i].change(&inv);
  err[0] = '\0';
  ck_assert_int_eq(iv_invoice_compute(&inv, err, sizeof err), -1);
  ck_assert_msg(strstr(err, bad[_i].reason) != NULL, "case %d: \"%s\"", _i,
                err);
  ck_assert_ptr_null(iv_invoice_json(&inv));
  ck_assert_ptr_null(iv_invoice_html(&inv));
}
END_TEST

START_TEST(edges_accepted) {
  iv_invoice inv;
  sample(&inv);
  inv.buyer.id_number = NULL; /* optional */
  inv.buyer.phone = "+84 90 123 4567";
  inv.issued_at = "2028-02-29T23:59:59+07:00";
  inv.number = IV_INVOICE_NUMBER_MAX;
  inv.seller.tax_code = "0100686209";
  for (int i = 0; i < IV_INVOICE_MAX_LINES; i++)
    inv.lines[i] = (iv_invoice_line){"Phí", "lần", 1, 1000, 0};
  inv.nlines = IV_INVOICE_MAX_LINES;
  ck_assert_msg(iv_invoice_compute(&inv, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(inv.subtotal, 20000);
  ck_assert_int_eq(inv.total, 22000);
}
END_TEST

START_TEST(number_and_amount_text) {
  char n[8], t[IV_AMOUNT_TEXT];
  ck_assert_int_eq(iv_invoice_number_format(42, n), 0);
  ck_assert_str_eq(n, "0000042");
  ck_assert_int_eq(iv_invoice_number_format(1, n), 0);
  ck_assert_str_eq(n, "0000001");
  ck_assert_int_eq(iv_invoice_number_format(9999999, n), 0);
  ck_assert_str_eq(n, "9999999");
  ck_assert_int_eq(iv_invoice_number_format(0, n), -1);
  ck_assert_int_eq(iv_invoice_number_format(10000000, n), -1);
  ck_assert_int_eq(iv_invoice_number_format(-5, n), -1);
  static const struct {
    long long v;
    const char *s;
  } amounts[] = {{0, "0"},
                 {7, "7"},
                 {999, "999"},
                 {1000, "1.000"},
                 {25000, "25.000"},
                 {621500, "621.500"},
                 {1234000, "1.234.000"},
                 {100000000, "100.000.000"},
                 {IV_AMOUNT_MAX, "9.007.199.254.740.991"},
                 {-1500, "-1.500"},
                 {-9223372036854775807LL - 1, "-9.223.372.036.854.775.808"}};
  for (size_t i = 0; i < sizeof amounts / sizeof *amounts; i++) {
    iv_amount_format(amounts[i].v, t);
    ck_assert_str_eq(t, amounts[i].s);
  }
}
END_TEST

START_TEST(words) {
  static const struct {
    long long v;
    const char *s;
  } cases[] = {
      {0, "Không đồng"},
      {1, "Một đồng"},
      {5, "Năm đồng"},
      {10, "Mười đồng"},
      {11, "Mười một đồng"},
      {14, "Mười bốn đồng"},
      {15, "Mười lăm đồng"},
      {20, "Hai mươi đồng"},
      {21, "Hai mươi mốt đồng"},
      {24, "Hai mươi tư đồng"},
      {25, "Hai mươi lăm đồng"},
      {100, "Một trăm đồng"},
      {101, "Một trăm linh một đồng"},
      {105, "Một trăm linh năm đồng"},
      {110, "Một trăm mười đồng"},
      {115, "Một trăm mười lăm đồng"},
      {1000, "Một nghìn đồng"},
      {1005, "Một nghìn không trăm linh năm đồng"},
      {1050, "Một nghìn không trăm năm mươi đồng"},
      {15000, "Mười lăm nghìn đồng"},
      {621500, "Sáu trăm hai mươi mốt nghìn năm trăm đồng"},
      {1000000, "Một triệu đồng"},
      {1000500, "Một triệu năm trăm đồng"},
      {1050000, "Một triệu không trăm năm mươi nghìn đồng"},
      {1234000, "Một triệu hai trăm ba mươi tư nghìn đồng"},
      {1000000000, "Một tỷ đồng"},
      {2000000015, "Hai tỷ không trăm mười lăm đồng"},
      {IV_AMOUNT_MAX,
       "Chín triệu tỷ không trăm linh bảy nghìn tỷ một trăm chín mươi chín "
       "tỷ hai trăm năm mươi tư triệu bảy trăm bốn mươi nghìn chín trăm chín "
       "mươi mốt đồng"},
  };
  char out[512];
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    ck_assert_int_eq(iv_amount_words_vi(cases[i].v, out, sizeof out), 0);
    ck_assert_str_eq(out, cases[i].s);
  }
  ck_assert_int_eq(iv_amount_words_vi(-1, out, sizeof out), -1);
  ck_assert_int_eq(iv_amount_words_vi(IV_AMOUNT_MAX + 1, out, sizeof out),
                   -1);
  ck_assert_int_eq(iv_amount_words_vi(1234000, out, 10), -1);
  ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(json_fields) {
  iv_invoice inv;
  sample(&inv);
  json_t *j = iv_invoice_json(&inv);
  ck_assert_ptr_nonnull(j);
  ck_assert_str_eq(json_string_value(json_object_get(j, "series")), "1C26TKV");
  ck_assert_str_eq(json_string_value(json_object_get(j, "number")), "0000042");
  ck_assert_str_eq(json_string_value(json_object_get(j, "issued_at")),
                   "2026-11-25T14:05:09+07:00");
  json_t *seller = json_object_get(j, "seller");
  ck_assert_str_eq(json_string_value(json_object_get(seller, "ctkv")),
                   "CTKV1");
  ck_assert_str_eq(json_string_value(json_object_get(seller, "tax_code")),
                   "0100686209-001");
  ck_assert_int_eq(json_object_size(seller), 4);
  json_t *buyer = json_object_get(j, "buyer");
  ck_assert_str_eq(json_string_value(json_object_get(buyer, "name")),
                   "Nguyễn Văn An");
  ck_assert_str_eq(json_string_value(json_object_get(buyer, "phone")),
                   "84901234567"); /* normalized */
  ck_assert_str_eq(json_string_value(json_object_get(buyer, "id_number")),
                   "001190000001");
  json_t *lines = json_object_get(j, "lines");
  ck_assert_int_eq(json_array_size(lines), 2);
  json_t *l2 = json_array_get(lines, 1);
  ck_assert_int_eq(json_integer_value(json_object_get(l2, "no")), 2);
  ck_assert_str_eq(json_string_value(json_object_get(l2, "unit")), "tháng");
  ck_assert_int_eq(json_integer_value(json_object_get(l2, "quantity")), 6);
  ck_assert_int_eq(json_integer_value(json_object_get(l2, "unit_price")),
                   90000);
  ck_assert_int_eq(json_integer_value(json_object_get(l2, "amount")), 540000);
  ck_assert_str_eq(json_string_value(json_object_get(j, "currency")), "VND");
  ck_assert_int_eq(json_integer_value(json_object_get(j, "subtotal")), 565000);
  ck_assert_int_eq(json_integer_value(json_object_get(j, "vat_rate")), 10);
  ck_assert_int_eq(json_integer_value(json_object_get(j, "vat")), 56500);
  ck_assert_int_eq(json_integer_value(json_object_get(j, "total")), 621500);
  ck_assert_str_eq(json_string_value(json_object_get(j, "total_words")),
                   "Sáu trăm hai mươi mốt nghìn năm trăm đồng");
  ck_assert_int_eq(json_object_size(j), 12);
  json_decref(j);
  /* Without an ID number the field is left out. */
  inv.buyer.id_number = "";
  j = iv_invoice_json(&inv);
  ck_assert_ptr_null(json_object_get(json_object_get(j, "buyer"),
                                     "id_number"));
  json_decref(j);
}
END_TEST

static int contains(const char *hay, const char *needle) {
  return strstr(hay, needle) != NULL;
}

START_TEST(html_page) {
  iv_invoice inv;
  sample(&inv);
  inv.buyer.name = "Tr\xe1\xba\xa7n \"T\xc3\xad\" <b>O'Neil</b> & Co";
  inv.seller.name = "CTKV1 <script>alert(1)</script>";
  inv.lines[0].description = "Phí <hòa> mạng & \"SIM\"";
  char *h = iv_invoice_html(&inv);
  ck_assert_ptr_nonnull(h);
  ck_assert(contains(h, "<!DOCTYPE html>"));
  ck_assert(contains(h, "<meta charset=\"utf-8\">"));
  ck_assert(contains(h, "HÓA ĐƠN GIÁ TRỊ GIA TĂNG"));
  ck_assert(contains(h, "(VAT invoice)"));
  ck_assert(contains(h, "Thành tiền <span class=\"en\">(Amount)</span>"));
  ck_assert(contains(h, "Ký hiệu"));
  ck_assert(contains(h, "<b>1C26TKV</b>"));
  ck_assert(contains(h, "<b>0000042</b>"));
  ck_assert(contains(h, "Ngày 25 tháng 11 năm 2026"));
  ck_assert(contains(h, "25.000 ₫"));
  ck_assert(contains(h, "540.000 ₫"));
  ck_assert(contains(h, "565.000 ₫"));
  ck_assert(contains(h, "56.500 ₫"));
  ck_assert(contains(h, "621.500 ₫"));
  ck_assert(contains(h, "10%"));
  ck_assert(contains(h, "Sáu trăm hai mươi mốt nghìn năm trăm đồng"));
  ck_assert(contains(h, "84901234567"));
  ck_assert(contains(h, "001190000001"));
  ck_assert(contains(h, "@media print"));
  /* Every text from the data is escaped. */
  ck_assert(contains(h, "Trần &quot;Tí&quot; &lt;b&gt;O&#39;Neil&lt;/b&gt; "
                        "&amp; Co"));
  ck_assert(contains(h, "CTKV1 &lt;script&gt;alert(1)&lt;/script&gt;"));
  ck_assert(contains(h, "Phí &lt;hòa&gt; mạng &amp; &quot;SIM&quot;"));
  ck_assert(!contains(h, "<script"));
  ck_assert(!contains(h, "<b>O'Neil"));
  ck_assert(!contains(h, "<hòa>"));
  /* Self-contained. */
  ck_assert(!contains(h, "http:"));
  ck_assert(!contains(h, "https:"));
  ck_assert(!contains(h, "<link"));
  ck_assert(!contains(h, "src="));
  ck_assert(!contains(h, "url("));
  free(h);
  /* Without an ID number its line is left out. */
  inv.buyer.id_number = NULL;
  h = iv_invoice_html(&inv);
  ck_assert_ptr_nonnull(h);
  ck_assert(!contains(h, "ID number"));
  free(h);
}
END_TEST

int main(void) {
  Suite *s = suite_create("inventory_invoice");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, compute_sample);
  tcase_add_test(tc, vat_rounding);
  tcase_add_test(tc, overflow_refused);
  tcase_add_loop_test(tc, refusals, 0, (int)(sizeof bad / sizeof *bad));
  tcase_add_test(tc, edges_accepted);
  tcase_add_test(tc, number_and_amount_text);
  tcase_add_test(tc, words);
  tcase_add_test(tc, json_fields);
  tcase_add_test(tc, html_page);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
