/* Unit tests for audit_progress.c: a replay shorter than a second prints
 * nothing; a long one a line a second at most, with the share of the
 * topics and the time left, and a last line with the count and the time
 * taken, then the steps after the read; the share never reaches 100%
 * before the end, and an unknown total leaves it out. */
#include "../../tools/simpkictl/audit_progress.c"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#define START 5000000L /* any monotonic clock value */

START_TEST(short_replay_is_quiet) {
  audit_progress p;
  char buf[160] = "untouched";
  audit_progress_start(&p, START, AUDIT_PROGRESS_EVERY_MS);
  ck_assert_int_eq(
      audit_progress_line(&p, 4096, 10000, START + 999, 0, buf, sizeof buf), 0);
  /* The end of a quiet replay prints nothing either. */
  ck_assert_int_eq(
      audit_progress_line(&p, 10000, 10000, START + 999, 1, buf, sizeof buf),
      0);
  ck_assert_str_eq(buf, "untouched");
}
END_TEST

START_TEST(a_line_a_second_with_share_and_time_left) {
  audit_progress p;
  char buf[160];
  audit_progress_start(&p, START, AUDIT_PROGRESS_EVERY_MS);
  ck_assert_int_eq(audit_progress_line(&p, 300000, 1200000, START + 1000, 0,
                                       buf, sizeof buf),
                   1);
  ck_assert_str_eq(buf, "simpkictl audit replay: replayed 300000 events, "
                        "about 25% of the topics, 300000/s, about 3 s left");
  /* Not again within the second after it. */
  ck_assert_int_eq(audit_progress_line(&p, 450000, 1200000, START + 1999, 0,
                                       buf, sizeof buf),
                   0);
  ck_assert_int_eq(audit_progress_line(&p, 600000, 1200000, START + 2000, 0,
                                       buf, sizeof buf),
                   1);
  ck_assert_str_eq(buf, "simpkictl audit replay: replayed 600000 events, "
                        "about 50% of the topics, 300000/s, about 2 s left");
  /* The last line: count and time, however soon after the one before. */
  ck_assert_int_eq(audit_progress_line(&p, 1199990, 1200000, START + 2100, 1,
                                       buf, sizeof buf),
                   1);
  ck_assert_str_eq(buf, "simpkictl audit replay: replayed 1199990 events in "
                        "2.1 s, 571424/s");
}
END_TEST

START_TEST(steps_after_the_read_only_when_long) {
  audit_progress p;
  char buf[160] = "untouched";
  audit_progress_start(&p, START, AUDIT_PROGRESS_EVERY_MS);
  ck_assert_int_eq(audit_progress_step(&p, "checking", buf, sizeof buf), 0);
  ck_assert_str_eq(buf, "untouched");
  ck_assert_int_eq(
      audit_progress_line(&p, 9000, 0, START + 1500, 0, buf, sizeof buf), 1);
  ck_assert_int_eq(
      audit_progress_step(&p, "checking each subject's chain", buf, sizeof buf),
      1);
  ck_assert_str_eq(buf,
                   "simpkictl audit replay: checking each subject's chain");
}
END_TEST

START_TEST(minutes_when_far_from_the_end) {
  audit_progress p;
  char buf[160];
  audit_progress_start(&p, START, AUDIT_PROGRESS_EVERY_MS);
  ck_assert_int_eq(audit_progress_line(&p, 100000, 100000000, START + 1000, 0,
                                       buf, sizeof buf),
                   1);
  /* 99,900,000 left at 100,000/s: 999 s. */
  ck_assert_ptr_nonnull(strstr(buf, ", about 0% of the topics, 100000/s, "
                                    "about 17 min left"));
  ck_assert_ptr_null(strstr(buf, " s left"));
}
END_TEST

START_TEST(unknown_or_passed_total_gives_count_and_rate) {
  audit_progress p;
  char buf[160];
  audit_progress_start(&p, START, AUDIT_PROGRESS_EVERY_MS);
  ck_assert_int_eq(
      audit_progress_line(&p, 5000, 0, START + 2000, 0, buf, sizeof buf), 1);
  ck_assert_str_eq(buf, "simpkictl audit replay: replayed 5000 events, 2500/s");
  /* At or past the total (markers counted, a cap) no "100%" before the
   * end, nor a time left of nothing. */
  ck_assert_int_eq(
      audit_progress_line(&p, 7000, 7000, START + 3000, 0, buf, sizeof buf), 1);
  ck_assert_str_eq(buf, "simpkictl audit replay: replayed 7000 events, 2333/s");
}
END_TEST

START_TEST(a_short_buffer_is_cut_not_overrun) {
  audit_progress p;
  char buf[24 + 8];
  /* Not a constant: the compiler would refuse the cut it can foresee. */
  volatile size_t cut = 24;
  memset(buf, 'x', sizeof buf);
  audit_progress_start(&p, START, AUDIT_PROGRESS_EVERY_MS);
  ck_assert_int_eq(
      audit_progress_line(&p, 300000, 1200000, START + 1000, 0, buf, cut), 1);
  ck_assert_uint_eq(strlen(buf), 23);
  for (size_t i = 24; i < sizeof buf; i++)
    ck_assert_int_eq(buf[i], 'x');
}
END_TEST

START_TEST(interval_given) {
  audit_progress p;
  char buf[160];
  audit_progress_start(&p, START, 0); /* a line at each call */
  ck_assert_int_eq(
      audit_progress_line(&p, 256, 1000, START, 0, buf, sizeof buf), 1);
  ck_assert_str_eq(buf, "simpkictl audit replay: replayed 256 events, "
                        "about 25% of the topics");
  ck_assert_int_eq(
      audit_progress_line(&p, 512, 1000, START + 1, 0, buf, sizeof buf), 1);
  audit_progress_start(&p, START, 10000); /* one every 10 s */
  ck_assert_int_eq(
      audit_progress_line(&p, 500, 1000, START + 9999, 0, buf, sizeof buf), 0);
  ck_assert_int_eq(
      audit_progress_line(&p, 600, 1000, START + 10000, 0, buf, sizeof buf), 1);
  ck_assert_int_eq(
      audit_progress_line(&p, 700, 1000, START + 19999, 0, buf, sizeof buf), 0);
}
END_TEST

int main(void) {
  Suite *s = suite_create("audit_progress");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, short_replay_is_quiet);
  tcase_add_test(tc, a_line_a_second_with_share_and_time_left);
  tcase_add_test(tc, minutes_when_far_from_the_end);
  tcase_add_test(tc, steps_after_the_read_only_when_long);
  tcase_add_test(tc, unknown_or_passed_total_gives_count_and_rate);
  tcase_add_test(tc, a_short_buffer_is_cut_not_overrun);
  tcase_add_test(tc, interval_given);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
