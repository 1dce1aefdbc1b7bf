/* Unit tests for common/log: JSON lines, levels, escaping. */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static char buf[8192];

/* Run one logging call into a memory stream and return the text. */
static const char *capture_info(const char *msg, const char *k, const char *v) {
  memset(buf, 0, sizeof buf);
  FILE *fp = fmemopen(buf, sizeof buf - 1, "w");
  sp_log_set_stream(fp);
  sp_info(msg, k, v);
  fclose(fp);
  sp_log_set_stream(NULL);
  return buf;
}

START_TEST(line_is_json_with_fields) {
  char err[128];
  unsetenv("SIMPKI_LOG_LEVEL");
  ck_assert_int_eq(sp_log_init("test-svc", err, sizeof err), 0);
  const char *out = capture_info("batch released", "batch_id", "B-1");
  ck_assert_int_eq((int)strlen(out) > 0, 1);
  ck_assert_int_eq(out[strlen(out) - 1], '\n');
  ck_assert_ptr_eq(strchr(out, '\n'), out + strlen(out) - 1);
  json_error_t je;
  json_t *o = json_loads(out, 0, &je);
  ck_assert_ptr_nonnull(o);
  ck_assert_str_eq(json_string_value(json_object_get(o, "level")), "info");
  ck_assert_str_eq(json_string_value(json_object_get(o, "service")), "test-svc");
  ck_assert_str_eq(json_string_value(json_object_get(o, "msg")), "batch released");
  ck_assert_str_eq(json_string_value(json_object_get(o, "batch_id")), "B-1");
  ck_assert_int_eq(strlen(json_string_value(json_object_get(o, "time"))), 24);
  json_decref(o);
}
END_TEST

START_TEST(escaping_keeps_one_line) {
  const char *out = capture_info("quote \" and\nnewline", "note", "tab\there \\ ok");
  ck_assert_ptr_eq(strchr(out, '\n'), out + strlen(out) - 1);
  json_t *o = json_loads(out, 0, NULL);
  ck_assert_ptr_nonnull(o);
  ck_assert_str_eq(json_string_value(json_object_get(o, "msg")), "quote \" and\nnewline");
  ck_assert_str_eq(json_string_value(json_object_get(o, "note")), "tab\there \\ ok");
  json_decref(o);
  /* Invalid UTF-8 is replaced, the line survives. */
  out = capture_info("bytes", "raw", "\xff\xfe");
  o = json_loads(out, 0, NULL);
  ck_assert_ptr_nonnull(o);
  ck_assert_str_eq(json_string_value(json_object_get(o, "raw")), "(invalid utf-8)");
  json_decref(o);
}
END_TEST

START_TEST(level_filters_and_env) {
  char err[128];
  setenv("SIMPKI_LOG_LEVEL", "warn", 1);
  ck_assert_int_eq(sp_log_init("t", err, sizeof err), 0);
  ck_assert_int_eq(sp_log_get_level(), SP_LOG_WARN);
  ck_assert_str_eq(capture_info("hidden", "k", "v"), "");
  setenv("SIMPKI_LOG_LEVEL", "loud", 1);
  ck_assert_int_eq(sp_log_init("t", err, sizeof err), -1);
  ck_assert_ptr_nonnull(strstr(err, "SIMPKI_LOG_LEVEL"));
  sp_log_level l;
  ck_assert_int_eq(sp_log_parse_level("DEBUG", &l), 0);
  ck_assert_int_eq(l, SP_LOG_DEBUG);
  ck_assert_int_eq(sp_log_parse_level("verbose", &l), -1);
  sp_log_set_level(SP_LOG_INFO);
}
END_TEST

int main(void) {
  Suite *s = suite_create("log");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, line_is_json_with_fields);
  tcase_add_test(tc, escaping_keeps_one_line);
  tcase_add_test(tc, level_filters_and_env);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
