/* Unit tests for services/vendor-exchange/numbering: Luhn, IMSI and ICCID
 * forms, and the numbering plan file with every error it can report. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numbering.h"

static char err[512];

/* An independent check: a full number passes Luhn when its digit sum
 * (every second digit from the right doubled) ends in 0. */
static int luhn_valid(const char *full) {
  int sum = 0;
  size_t n = strlen(full);
  for (size_t i = 0; i < n; i++) {
    int d = full[n - 1 - i] - '0';
    if (i % 2 && (d *= 2) > 9)
      d -= 9;
    sum += d;
  }
  return sum % 10 == 0;
}

START_TEST(luhn_known_numbers) {
  static const struct {
    const char *payload;
    int digit;
  } known[] = {
      {"7992739871", 3},          /* the textbook example */
      {"8901410321111851072", 0}, /* a published US ICCID, 89014103211118510720 */
      {"8944501201142386161", 0}, /* a published UK ICCID */
      {"411111111111111", 1},     /* the usual test card 4111 1111 1111 1111 */
      {"898401770000000000", 3},  /* the sample plan's first ICCID */
      {"898401770000999999", 9},  /* ... and its last */
      {"0", 0},
      {"1", 8},
  };
  for (size_t i = 0; i < sizeof known / sizeof *known; i++)
    ck_assert_msg(vx_luhn_digit(known[i].payload) == known[i].digit,
                  "%s: got %d", known[i].payload,
                  vx_luhn_digit(known[i].payload));
  const char *bad[] = {"", "12a4", "89 84", "-1", "８９"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    ck_assert_int_eq(vx_luhn_digit(bad[i]), -1);
  ck_assert_int_eq(vx_luhn_digit(NULL), -1);
}
END_TEST

START_TEST(luhn_agrees_with_the_rule) {
  char s[24];
  unsigned long long x = 88172645463325252ULL;
  for (int i = 0; i < 2000; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    int len = snprintf(s, sizeof s, "%llu", x % 1000000000000000000ULL);
    int d = vx_luhn_digit(s);
    s[len] = (char)('0' + d), s[len + 1] = '\0';
    ck_assert_msg(luhn_valid(s), "%s", s);
    /* Any single changed digit is caught. */
    s[0] = s[0] == '9' ? '0' : (char)(s[0] + 1);
    ck_assert_msg(!luhn_valid(s), "%s", s);
  }
}
END_TEST

START_TEST(iccid_round_trips) {
  static const struct {
    long long n;
    const char *full;
  } ok[] = {
      {898401770000000000LL, "8984017700000000003"},
      {898401770000999999LL, "8984017700009999999"},
      {8984011234567890123LL, "89840112345678901239"},
      {898400000000000000LL, NULL},
      {8984999999999999999LL, NULL},
  };
  for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
    char out[21];
    ck_assert_int_eq(vx_iccid_format(ok[i].n, out), 0);
    if (ok[i].full)
      ck_assert_str_eq(out, ok[i].full);
    ck_assert(luhn_valid(out));
    long long back = 0;
    ck_assert_msg(vx_iccid_parse(out, strlen(out), &back, err, sizeof err) ==
                      0,
                  "%s: %s", out, err);
    ck_assert(back == ok[i].n);
  }
  /* A run of consecutive serials, as a batch holds them. */
  for (long long n = 898401770000123000LL; n < 898401770000124000LL; n++) {
    char out[21];
    long long back;
    ck_assert_int_eq(vx_iccid_format(n, out), 0);
    ck_assert_int_eq(vx_iccid_parse(out, 19, &back, err, sizeof err), 0);
    ck_assert(back == n);
  }
  const long long bad[] = {0, -898401770000000000LL, 89840177000000000LL,
                           898501770000000000LL, 448401770000000000LL,
                           9184017700000000000LL};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    char out[21] = "x";
    ck_assert_msg(vx_iccid_format(bad[i], out) == -1, "%lld", bad[i]);
    ck_assert_str_eq(out, "");
  }
}
END_TEST

START_TEST(iccid_parse_refusals) {
  static const struct {
    const char *s, *reason;
  } bad[] = {
      {"898401770000000003", "has 19 or 20 digits, not 18"},
      {"898401770000000000034", "has 19 or 20 digits, not 21"},
      {"", "has 19 or 20 digits, not 0"},
      {"89840177000000000O3", "character 18 is not a digit"},
      {"8984017700000000 03", "character 17 is not a digit"},
      {"89445012011423861610", "does not start with 8984"},
      {"8984017700000000004", "bad Luhn digit 4 (expected 3)"},
      {"8984017700000000030", "bad Luhn digit 0 (expected 7)"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    long long n = 42;
    err[0] = '\0';
    ck_assert_msg(vx_iccid_parse(bad[i].s, strlen(bad[i].s), &n, err,
                                 sizeof err) == -1,
                  "%s accepted", bad[i].s);
    ck_assert_msg(strstr(err, bad[i].reason) != NULL, "%s: got \"%s\"",
                  bad[i].s, err);
    ck_assert(n == 42);
  }
  /* The length given is what counts, not a NUL. */
  long long n;
  ck_assert_int_eq(
      vx_iccid_parse("8984017700000000003XYZ", 19, &n, err, sizeof err), 0);
  ck_assert(n == 898401770000000000LL);
}
END_TEST

START_TEST(imsi_round_trips_and_refusals) {
  char out[16];
  long long n = 0;
  ck_assert_int_eq(vx_imsi_format(452019100000000LL, out), 0);
  ck_assert_str_eq(out, "452019100000000");
  ck_assert_int_eq(vx_imsi_parse(out, 15, &n, err, sizeof err), 0);
  ck_assert(n == 452019100000000LL);
  ck_assert_int_eq(vx_imsi_parse("452019100999999", 15, &n, err, sizeof err),
                   0);
  ck_assert(n == 452019100999999LL);
  const long long badn[] = {45201910000000LL, 4520191000000000LL,
                            310150123456789LL, 0, -452019100000000LL};
  for (size_t i = 0; i < sizeof badn / sizeof *badn; i++) {
    ck_assert_int_eq(vx_imsi_format(badn[i], out), -1);
    ck_assert_str_eq(out, "");
  }
  static const struct {
    const char *s, *reason;
  } bad[] = {
      {"45201910000000", "has 15 digits, not 14"},
      {"4520191000000000", "has 15 digits, not 16"},
      {"45201910000000a", "character 15 is not a digit"},
      {"+45201910000000", "character 1 is not a digit"},
      {"310150123456789", "MCC is 310, not 452 (Vietnam)"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    n = 42;
    ck_assert_int_eq(
        vx_imsi_parse(bad[i].s, strlen(bad[i].s), &n, err, sizeof err), -1);
    ck_assert_msg(strstr(err, bad[i].reason) != NULL, "%s: got \"%s\"",
                  bad[i].s, err);
    ck_assert(n == 42);
  }
}
END_TEST

/* ---- the plan file ---- */

static vx_block *parse_ok(const char *text, size_t *n) {
  vx_block *b = NULL;
  int rc = vx_numbering_parse(text, strlen(text), &b, n, err, sizeof err);
  ck_assert_msg(rc == 0, "refused: %s\n%s", err, text);
  ck_assert_ptr_nonnull(b);
  return b;
}

START_TEST(sample_plan) {
  const char *src = getenv("SIMPKI_SOURCE_DIR");
  char path[1024];
  snprintf(path, sizeof path, "%s/deploy/local/numbering.sample",
           src && *src ? src : SIMPKI_SOURCE_DIR);
  FILE *fp = fopen(path, "rb");
  ck_assert_msg(fp != NULL, "cannot open %s", path);
  static char text[8192];
  size_t len = fread(text, 1, sizeof text - 1, fp);
  fclose(fp);
  text[len] = '\0';
  size_t n;
  vx_block *b = parse_ok(text, &n);
  ck_assert_uint_eq(n, 2);
  ck_assert_str_eq(b[0].block_id, "PKI-IMSI-1");
  ck_assert_int_eq(b[0].is_iccid, 0);
  ck_assert_str_eq(b[0].prefix, "45201");
  ck_assert_int_eq(b[0].digits, 15);
  ck_assert(b[0].first == 452019100000000LL);
  ck_assert(b[0].last == 452019100999999LL);
  ck_assert(vx_block_size(&b[0]) == 1000000);
  ck_assert_str_eq(b[1].block_id, "PKI-ICCID-1");
  ck_assert_int_eq(b[1].is_iccid, 1);
  ck_assert_str_eq(b[1].prefix, "89840177");
  ck_assert_int_eq(b[1].digits, 18);
  ck_assert(b[1].first == 898401770000000000LL);
  ck_assert(b[1].last == 898401770000999999LL);
  ck_assert(vx_block_size(&b[1]) == 1000000);
  for (size_t i = 0; i < n; i++)
    ck_assert_int_eq(vx_block_check(&b[i], err, sizeof err), 0);
  free(b);
}
END_TEST

START_TEST(plan_layout_variants) {
  /* CRLF, tabs, trailing comments, blank lines, no final newline, a
   * 19-digit ICCID, an IMSI prefix with leading MSIN digits, a block of
   * one number, UTF-8 in a comment. */
  const char *text =
      "# kế hoạch đánh số\r\n"
      "\r\n"
      "imsi\tA-1\t45201\t0000000000\t0000000099   # the first hundred\r\n"
      "   imsi B_2 452019100 000000 000000\r\n"
      "iccid C.3 898401 0000000000000 0000000000009\r\n"
      "iccid D4 89840177 0000000000 0000000000";
  size_t n;
  vx_block *b = parse_ok(text, &n);
  ck_assert_uint_eq(n, 4);
  ck_assert_str_eq(b[0].block_id, "A-1");
  ck_assert(b[0].first == 452010000000000LL && b[0].last == 452010000000099LL);
  ck_assert_str_eq(b[1].prefix, "452019100");
  ck_assert(vx_block_size(&b[1]) == 1);
  ck_assert_int_eq(b[2].digits, 19);
  ck_assert(b[2].first == 8984010000000000000LL);
  ck_assert(b[2].last == 8984010000000000009LL);
  ck_assert_int_eq(b[3].digits, 18);
  /* The 19- and 18-digit ICCIDs differ although their digits start alike. */
  char out[21];
  ck_assert_int_eq(vx_iccid_format(b[2].first, out), 0);
  ck_assert_uint_eq(strlen(out), 20);
  free(b);
}
END_TEST

static const char *const IMSI_OK = "imsi A 45201 9100000000 9100999999\n";
static const char *const ICCID_OK =
    "iccid B 89840177 0000000000 0000999999\n";

static const struct {
  const char *text, *reason;
} plan_errors[] = {
    /* digit counts */
    {"imsi A 45201 910000000 910099999\n",
     "line 1: an IMSI has 15 digits: prefix 45201 (5) + MSIN width 9 = 14"},
    {"# c\nimsi A 45201 91000000000 91009999999\n",
     "line 2: an IMSI has 15 digits: prefix 45201 (5) + MSIN width 11 = 16"},
    {"iccid B 89840177 000000000 000999999\n",
     "line 1: an ICCID without its Luhn digit has 18 or 19 digits: prefix "
     "89840177 (8) + serial width 9 = 17"},
    {"iccid B 89840177 000000000000 000000999999\n",
     "line 1: an ICCID without its Luhn digit has 18 or 19 digits: prefix "
     "89840177 (8) + serial width 12 = 20"},
    {"imsi A 45201 9100000000 910099999\n",
     "line 1: first and last MSIN must be written at the same width (10 and "
     "9 digits)"},
    /* operator prefixes */
    {"imsi A 45401 9100000000 9100999999\n",
     "line 1: IMSI prefix 45401 must start with MCC 452 (Vietnam)"},
    {"imsi A 45202 9100000000 9100999999\n",
     "line 1: IMSI prefix 45202 must continue with MNC 01 (MobiFone)"},
    {"imsi A 452 019100000000 019100999999\n",
     "line 1: IMSI prefix 452 must continue with MNC 01"},
    {"iccid B 88840177 0000000000 0000999999\n",
     "line 1: ICCID prefix 88840177 must start with 89 (telecom)"},
    {"iccid B 89850177 0000000000 0000999999\n",
     "line 1: ICCID prefix 89850177 must continue with country code 84"},
    {"iccid B 89840277 0000000000 0000999999\n",
     "line 1: ICCID prefix 89840277 must continue with issuer 01 (MobiFone)"},
    {"iccid B 8984 01770000000000 01770000999999\n",
     "line 1: ICCID prefix 8984 must continue with issuer 01"},
    {"imsi A 4520l 9100000000 9100999999\n",
     "line 1: prefix \"4520l\" is not all digits"},
    {"imsi A 45201000000000000000 1 2\n",
     "line 1: prefix \"45201000000000000000\" is too long"},
    /* found by fuzz_numbering: the prefix was quoted as it was, bytes that
     * are not ASCII (here not even UTF-8) included */
    {"iccid A 89840177 0000500000 0000600000\n"
     "iccid B 8\xff\xff""98401770000 500000 500001\n",
     "line 2: prefix \"8??98401770000\" is not all digits"},
    /* numbers */
    {"imsi A 45201 9100999999 9100000000\n",
     "line 1: first MSIN 9100999999 is after last MSIN 9100000000"},
    {"imsi A 45201 9100O00000 9100999999\n",
     "line 1: first MSIN \"9100O00000\" is not all digits"},
    {"iccid B 89840177 0000000000 00009999x9\n",
     "line 1: last serial \"00009999x9\" is not all digits"},
    {"iccid B 89840177 -000000000 0000999999\n",
     "line 1: first serial \"-000000000\" is not all digits"},
    /* shape of the line */
    {"msisdn A 84 901234567 901234999\n",
     "line 1: unknown kind \"msisdn\" (imsi or iccid)"},
    {"IMSI A 45201 9100000000 9100999999\n", "line 1: unknown kind \"IMSI\""},
    {"imsi A 45201 9100000000\n",
     "line 1: expected 5 fields (kind block-id prefix first last), found 4"},
    {"imsi A 45201 9100000000 9100999999 extra\n",
     "line 1: expected 5 fields (kind block-id prefix first last), found 6"},
    {"imsi -A 45201 9100000000 9100999999\n",
     "line 1: block id \"-A\": must be 1-32 of"},
    {"imsi A/B 45201 9100000000 9100999999\n",
     "line 1: block id \"A/B\": must be"},
    {"imsi ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456 45201 9100000000 9100999999\n",
     "line 1: block id \"ABCDEFGHIJKLMNOPQRSTUVWX...\": must be"},
    {"imsi KHỐI 45201 9100000000 9100999999\n",
     "line 1: block id \"KH???I\": must be"},
    {"# ok\n\x7f" "ELF\x02\x01\n", "line 2: control character 0x7f at column 1"},
    {"imsi A 45201 9100000000\r9100999999\n",
     "line 1: control character 0x0d at column 24"},
    /* the file as a whole */
    {"# ok\r\nimsi A 45201 9100000000 9100999999\r\n\r\n"
     "imsi A 45201 9200000000 9200999999\r\n",
     "line 4: block id A is already used on line 2"},
    {"imsi A 45201 9100000000 9100999999\n"
     "iccid B 89840177 0000000000 0000999999\n"
     "imsi C 45201 9100500000 9101499999\n",
     "line 3: block C (452019100500000-452019101499999) overlaps block A on "
     "line 1"},
    /* the same numbers written with another prefix */
    {"iccid B 89840177 0000000000 0000999999\n"
     "iccid C 898401770000 500000 999999\n",
     "line 2: block C (8984017700005000008-8984017700009999999) overlaps "
     "block B on line 1"},
    {"imsi A 45201 9100000000 9100999999\n"
     "imsi C 45201 9100999999 9100999999\n",
     "line 2: block C (452019100999999-452019100999999) overlaps block A"},
};

START_TEST(plan_error) {
  const char *text = plan_errors[_i].text;
  size_t len = strlen(text);
  vx_block *b = (vx_block *)1;
  size_t n = 7;
  err[0] = '\0';
  ck_assert_int_eq(vx_numbering_parse(text, len, &b, &n, err, sizeof err),
                   -1);
  ck_assert_msg(strstr(err, plan_errors[_i].reason) == err,
                "case %d: got \"%s\", expected \"%s...\"", _i, err,
                plan_errors[_i].reason);
  ck_assert_ptr_null(b);
  ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(plan_nul_byte) {
  /* The length counts, so a NUL byte is seen, not taken for the end. */
  static const char text[] = "imsi A 45201 9100000000 9100999999\0\n";
  vx_block *b;
  size_t n;
  ck_assert_int_eq(
      vx_numbering_parse(text, sizeof text - 1, &b, &n, err, sizeof err), -1);
  ck_assert_str_eq(err, "line 1: control character 0x00 at column 35");
  ck_assert_ptr_null(b);
}
END_TEST

START_TEST(plan_errors_after_good_lines) {
  /* A good plan with one bad line anywhere is refused whole, at that
   * line. */
  char text[512];
  snprintf(text, sizeof text, "%s%s# comment\n\nimsi X 45202 1 2\n%s",
           IMSI_OK, ICCID_OK, IMSI_OK);
  vx_block *b;
  size_t n;
  ck_assert_int_eq(
      vx_numbering_parse(text, strlen(text), &b, &n, err, sizeof err), -1);
  ck_assert_msg(strstr(err, "line 5: IMSI prefix 45202") == err, "%s", err);
  ck_assert_ptr_null(b);
}
END_TEST

START_TEST(plan_empty) {
  const char *texts[] = {"", "\n\n", "# only a comment\n   \t\n"};
  for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
    vx_block *b = (vx_block *)1;
    size_t n = 3;
    ck_assert_int_eq(vx_numbering_parse(texts[i], strlen(texts[i]), &b, &n,
                                        err, sizeof err),
                     -1);
    ck_assert_str_eq(err, "the plan holds no blocks");
    ck_assert_ptr_null(b);
    ck_assert_uint_eq(n, 0);
  }
}
END_TEST

START_TEST(plan_too_many_blocks) {
  size_t cap = (VX_PLAN_MAX_BLOCKS + 2) * 48, at = 0, at_max = 0;
  char *text = malloc(cap);
  for (int i = 0; i <= VX_PLAN_MAX_BLOCKS; i++) {
    if (i == VX_PLAN_MAX_BLOCKS)
      at_max = at;
    at += (size_t)snprintf(text + at, cap - at,
                           "imsi I%d 45201 %010d %010d\n", i, i, i);
  }
  vx_block *b;
  size_t n;
  ck_assert_int_eq(vx_numbering_parse(text, at_max, &b, &n, err, sizeof err),
                   0);
  ck_assert_uint_eq(n, VX_PLAN_MAX_BLOCKS);
  free(b);
  ck_assert_int_eq(vx_numbering_parse(text, at, &b, &n, err, sizeof err), -1);
  ck_assert_str_eq(err, "line 1001: more than 1000 blocks");
  free(text);
}
END_TEST

START_TEST(block_check_rules) {
  vx_block ok = {"PKI-IMSI-1", 0, "45201", 15, 452019100000000LL,
                 452019100999999LL};
  ck_assert_int_eq(vx_block_check(&ok, err, sizeof err), 0);
  static const struct {
    const char *what, *reason;
  } cases[] = {
      {"id", "block id must be"},
      {"digits", "16 digits do not fit an IMSI (15)"},
      {"first outside", "must have 15 digits and start with 45201"},
      {"order", "first 452019100999999 is after last 452019100000000"},
      {"kind", "ICCID prefix 45201 must start with 89"},
      {"iccid digits", "20 digits do not fit an ICCID"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    vx_block b = ok;
    switch (i) {
    case 0: strcpy(b.block_id, "no spaces"); break;
    case 1: b.digits = 16; break;
    case 2: b.first = 452029100000000LL; break;
    case 3: b.first = ok.last, b.last = ok.first; break;
    case 4: b.is_iccid = 1; break;
    case 5:
      b = (vx_block){"B", 1, "89840177", 20, 898401770000000000LL,
                     898401770000999999LL};
      break;
    }
    ck_assert_int_eq(vx_block_check(&b, err, sizeof err), -1);
    ck_assert_msg(strstr(err, cases[i].reason) != NULL, "%s: got \"%s\"",
                  cases[i].what, err);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("numbering");
  TCase *tc = tcase_create("numbers");
  tcase_add_test(tc, luhn_known_numbers);
  tcase_add_test(tc, luhn_agrees_with_the_rule);
  tcase_add_test(tc, iccid_round_trips);
  tcase_add_test(tc, iccid_parse_refusals);
  tcase_add_test(tc, imsi_round_trips_and_refusals);
  suite_add_tcase(s, tc);
  TCase *plan = tcase_create("plan");
  tcase_add_test(plan, sample_plan);
  tcase_add_test(plan, plan_layout_variants);
  tcase_add_loop_test(plan, plan_error, 0,
                      (int)(sizeof plan_errors / sizeof *plan_errors));
  tcase_add_test(plan, plan_nul_byte);
  tcase_add_test(plan, plan_errors_after_good_lines);
  tcase_add_test(plan, plan_empty);
  tcase_add_test(plan, plan_too_many_blocks);
  tcase_add_test(plan, block_check_rules);
  suite_add_tcase(s, plan);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
