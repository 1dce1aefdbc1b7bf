/* Unit tests for common/config: defaults, required, malformed values. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static char err[256];

START_TEST(str_default_and_required) {
  const char *v = NULL;
  unsetenv("SIMPKI_T_STR");
  ck_assert_int_eq(sp_config_str("SIMPKI_T_STR", "dflt", &v, err, sizeof err), 0);
  ck_assert_str_eq(v, "dflt");
  ck_assert_int_eq(sp_config_str("SIMPKI_T_STR", SP_CONFIG_REQUIRED, &v, err,
                                 sizeof err), -1);
  ck_assert_str_eq(err, "SIMPKI_T_STR is not set (required)");
  setenv("SIMPKI_T_STR", "", 1); /* empty counts as unset */
  ck_assert_int_eq(sp_config_str("SIMPKI_T_STR", NULL, &v, err, sizeof err), -1);
  setenv("SIMPKI_T_STR", "value", 1);
  ck_assert_int_eq(sp_config_str("SIMPKI_T_STR", NULL, &v, err, sizeof err), 0);
  ck_assert_str_eq(v, "value");
}
END_TEST

START_TEST(long_parsing) {
  long v = 0;
  unsetenv("SIMPKI_T_N");
  ck_assert_int_eq(sp_config_long("SIMPKI_T_N", 0, 42, 0, 100, &v, err, sizeof err), 0);
  ck_assert_int_eq(v, 42);
  ck_assert_int_eq(sp_config_long("SIMPKI_T_N", 1, 42, 0, 100, &v, err, sizeof err), -1);
  ck_assert_ptr_nonnull(strstr(err, "SIMPKI_T_N"));
  setenv("SIMPKI_T_N", "17", 1);
  ck_assert_int_eq(sp_config_long("SIMPKI_T_N", 1, 0, 0, 100, &v, err, sizeof err), 0);
  ck_assert_int_eq(v, 17);
  const char *bad[] = {"12abc", "abc", "1.5", " ", "99999999999999999999999"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    setenv("SIMPKI_T_N", bad[i], 1);
    v = -7;
    ck_assert_int_eq(sp_config_long("SIMPKI_T_N", 0, 5, 0, 100, &v, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "SIMPKI_T_N must be a whole number"));
    ck_assert_int_eq(v, -7); /* untouched on error */
  }
  setenv("SIMPKI_T_N", "101", 1);
  ck_assert_int_eq(sp_config_long("SIMPKI_T_N", 0, 5, 0, 100, &v, err, sizeof err), -1);
  ck_assert_str_eq(err, "SIMPKI_T_N must be between 0 and 100, not 101");
  setenv("SIMPKI_T_N", "-1", 1);
  ck_assert_int_eq(sp_config_long("SIMPKI_T_N", 0, 5, 0, 100, &v, err, sizeof err), -1);
}
END_TEST

START_TEST(bool_parsing) {
  int v = -1;
  unsetenv("SIMPKI_T_B");
  ck_assert_int_eq(sp_config_bool("SIMPKI_T_B", 1, &v, err, sizeof err), 0);
  ck_assert_int_eq(v, 1);
  const char *yes[] = {"1", "true", "YES", "On"}, *no[] = {"0", "false", "No", "OFF"};
  for (int i = 0; i < 4; i++) {
    setenv("SIMPKI_T_B", yes[i], 1);
    ck_assert_int_eq(sp_config_bool("SIMPKI_T_B", 0, &v, err, sizeof err), 0);
    ck_assert_int_eq(v, 1);
    setenv("SIMPKI_T_B", no[i], 1);
    ck_assert_int_eq(sp_config_bool("SIMPKI_T_B", 1, &v, err, sizeof err), 0);
    ck_assert_int_eq(v, 0);
  }
  setenv("SIMPKI_T_B", "maybe", 1);
  ck_assert_int_eq(sp_config_bool("SIMPKI_T_B", 1, &v, err, sizeof err), -1);
  ck_assert_str_eq(err, "SIMPKI_T_B must be true or false, not \"maybe\"");
}
END_TEST

int main(void) {
  Suite *s = suite_create("config");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, str_default_and_required);
  tcase_add_test(tc, long_parsing);
  tcase_add_test(tc, bool_parsing);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
