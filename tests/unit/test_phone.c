/* Unit tests for common/phone: Vietnamese mobile numbers to 84xxxxxxxxx. */
#include <check.h>
#include <string.h>

#include "phone.h"

static char err[256];

START_TEST(accepted_forms) {
  static const struct {
    const char *in, *want;
  } ok[] = {
      {"0901234567", "84901234567"},     {"84901234567", "84901234567"},
      {"+84901234567", "84901234567"},   {"+84 90 123 4567", "84901234567"},
      {"090.123.4567", "84901234567"},   {"0912-345-678", "84912345678"},
      {" 0389999999", "84389999999"},    {"0701234567", "84701234567"},
      {"0561234567", "84561234567"},     {"0891234567", "84891234567"},
  };
  for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
    char out[SP_PHONE_LEN + 1] = "";
    ck_assert_msg(sp_phone_normalize_vn(ok[i].in, out, err, sizeof err) == 0,
                  "%s refused: %s", ok[i].in, err);
    ck_assert_str_eq(out, ok[i].want);
  }
}
END_TEST

START_TEST(refused_forms) {
  static const struct {
    const char *in, *reason;
  } bad[] = {
      {"", "must start with 0, 84 or +84"},
      {"090123456", "must have 10 digits"},
      {"09012345678", "must have 10 digits"},
      {"0241234567", "is not a mobile number"},   /* Hà Nội landline */
      {"0101234567", "is not a mobile number"},
      {"+1 202 555 0100", "is not a Vietnamese number"},
      {"090123456a", "is not a digit"},
      {"0901234567x", "is not a digit"},
      {"901234567", "must start with 0, 84 or +84"},
      {"8490123456", "must start with 0, 84 or +84"},
      {"849012345678", "must start with 0, 84 or +84"},
      {"+8490123456", "must have 10 digits"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    char out[SP_PHONE_LEN + 1] = "untouched";
    err[0] = '\0';
    ck_assert_msg(sp_phone_normalize_vn(bad[i].in, out, err, sizeof err) == -1,
                  "%s accepted", bad[i].in);
    ck_assert_msg(strstr(err, bad[i].reason) != NULL, "%s: got \"%s\"",
                  bad[i].in, err);
    ck_assert_str_eq(out, "untouched");
  }
}
END_TEST

/* The reason quotes at most 40 bytes of the input, and never half a UTF-8
 * character: it goes into JSON (found by tests/fuzz/fuzz_phone). */
START_TEST(reason_cut_on_a_character) {
  const char *in = "000000000000000000000000000000000000000\xc4\x83";
  char out[SP_PHONE_LEN + 1];
  ck_assert_int_eq(sp_phone_normalize_vn(in, out, err, sizeof err), -1);
  ck_assert_msg(strstr(err, "\"000000000000000000000000000000000000000\" ") !=
                    NULL,
                "got \"%s\"", err);
}
END_TEST

int main(void) {
  Suite *s = suite_create("phone");
  TCase *tc = tcase_create("normalize");
  tcase_add_test(tc, accepted_forms);
  tcase_add_test(tc, refused_forms);
  tcase_add_test(tc, reason_cut_on_a_character);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
