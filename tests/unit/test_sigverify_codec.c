/* Unit tests for services/sigverify/codec.c: RFC 3339 times (the CLI's
 * --at, the report) and the strict base64 of service requests. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "sigverify.h"

START_TEST(parse_times) {
  time_t t = 0;
  char buf[32];
  ck_assert_int_eq(sp_sig_parse_time("2026-11-25T17:30:00Z", &t), 0);
  sp_sig_format_time(t, buf);
  ck_assert_str_eq(buf, "2026-11-25T17:30:00Z");
  ck_assert_int_eq(sp_sig_parse_time("2026-11-25T17:30:00.123Z", &t), 0);
  sp_sig_format_time(t, buf);
  ck_assert_str_eq(buf, "2026-11-25T17:30:00Z");
  ck_assert_int_eq(sp_sig_parse_time("2026-11-26T00:30:00+07:00", &t), 0);
  sp_sig_format_time(t, buf);
  ck_assert_str_eq(buf, "2026-11-25T17:30:00Z");
  ck_assert_int_eq(sp_sig_parse_time("2026-11-25T10:30:00-07:00", &t), 0);
  sp_sig_format_time(t, buf);
  ck_assert_str_eq(buf, "2026-11-25T17:30:00Z");
  ck_assert_int_eq(sp_sig_parse_time("2024-02-29T00:00:00Z", &t), 0);
  ck_assert_int_eq(sp_sig_parse_time("1970-01-01T00:00:00Z", &t), 0);
  ck_assert_int_eq(t, 0);
  const char *bad[] = {"",
                       "2026-11-25",
                       "2026-11-25T17:30:00",      /* no zone */
                       "2026-11-25 17:30:00Z",     /* space */
                       "2026-13-01T00:00:00Z",
                       "2026-02-29T00:00:00Z",     /* not a leap year */
                       "2026-04-31T00:00:00Z",
                       "2026-11-25T24:00:00Z",
                       "2026-11-25T17:30:00.Z",
                       "2026-11-25T17:30:00Zjunk",
                       "2026-11-25T17:30:00+7:00",
                       "26-11-25T17:30:00Z",
                       "now"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    ck_assert_msg(sp_sig_parse_time(bad[i], &t) == -1, "accepted \"%s\"",
                  bad[i]);
  ck_assert_int_eq(sp_sig_parse_time(NULL, &t), -1);
}
END_TEST

static void expect_b64(const char *in, const char *want, size_t wantlen) {
  unsigned char *out = NULL;
  size_t n = 0;
  ck_assert_msg(sp_sig_b64_decode(in, strlen(in), &out, &n) == 0,
                "refused \"%s\"", in);
  ck_assert_uint_eq(n, wantlen);
  ck_assert(memcmp(out, want, wantlen) == 0);
  free(out);
}

START_TEST(base64) {
  expect_b64("", "", 0);
  expect_b64("Zg==", "f", 1);
  expect_b64("Zg", "f", 1);
  expect_b64("Zm8=", "fo", 2);
  expect_b64("Zm9v", "foo", 3);
  expect_b64("Zm9vYmFy", "foobar", 6);
  expect_b64("Zm9vYmFy\n", "foobar", 6);
  expect_b64("AP8A/w==", "\x00\xff\x00\xff", 4);
  expect_b64("+/+/", "\xfb\xff\xbf", 3);
  const char *bad[] = {"Z",     "Zg=",   "Zg===",   "Zm9v\nYmFy", "Zm 9v",
                       "Zm9v!", "Zh==",  /* non-zero spare bits */
                       "Zm9=v", "=Zm9", "Zm9vY"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    unsigned char *out = (unsigned char *)"x";
    size_t n = 7;
    ck_assert_msg(sp_sig_b64_decode(bad[i], strlen(bad[i]), &out, &n) == -1,
                  "accepted \"%s\"", bad[i]);
    ck_assert_ptr_null(out);
    ck_assert_uint_eq(n, 0);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("sigverify_codec");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, parse_times);
  tcase_add_test(tc, base64);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
