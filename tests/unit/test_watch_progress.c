/* test_watch_progress.c - the progress file of `simpkictl watch`
 * (tools/simpkictl/watch_progress.c): lines, the table of steps, following
 * the file as it grows.
 *
 * The unit-test build links the libraries only, so the file is compiled in
 * here directly, as test_migrate_plan.c does with migrate.c. */
#include "../../tools/simpkictl/watch_progress.c"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int parse(const char *s, wp_line *l) {
  return wp_parse_line(s, strlen(s), l);
}

START_TEST(good_lines) {
  wp_line l;
  ck_assert_int_eq(parse("1795627800123\tB4\trun\tingesting out.out", &l), 0);
  ck_assert(l.ms == 1795627800123LL);
  ck_assert_str_eq(l.step, "B4");
  ck_assert_int_eq(l.state, WP_RUN);
  ck_assert_str_eq(l.text, "ingesting out.out");
  ck_assert_int_eq(parse("1\tstack\tok\t\r", &l), 0);
  ck_assert_int_eq(l.state, WP_OK);
  ck_assert_str_eq(l.text, "");
  ck_assert_int_eq(parse("2\tx\tfail\ta\tb\x1b[2Jc", &l), 0);
  ck_assert_int_eq(l.state, WP_FAIL);
  ck_assert_str_eq(l.text, "a b [2Jc"); /* tab and ESC made spaces */
  ck_assert_int_eq(parse("3\tB5 pilot\tinfo\tđã nạp 500/1000", &l), 0);
  ck_assert_str_eq(l.step, "B5 pilot");
  ck_assert_str_eq(l.text, "đã nạp 500/1000");
  ck_assert_str_eq(wp_state_name(WP_INFO), "info");
}
END_TEST

START_TEST(garbage_lines) {
  static const char *const bad[] = {
      "",
      "hello world",
      "123",
      "123\tB4",
      "123\tB4\trun", /* no tab before TEXT */
      "\tB4\trun\tx", /* no time */
      "12a\tB4\trun\tx",
      "1234567890123456\tB4\trun\tx", /* 16 digits */
      "123\t\trun\tx",                /* no step */
      "123\t  \trun\tx",              /* blank step */
      "123\tB\x1b"
      "4\trun\tx",
      "123\tB4\tRUN\tx",
      "123\tB4\trunning\tx",
      "123\tB4\t\tx",
      "123\tabcdefghijabcdefghijabcdefghijab\tok\tx", /* step too long */
  };
  wp_line l;
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    ck_assert_msg(parse(bad[i], &l) == -1, "accepted \"%s\"", bad[i]);
}
END_TEST

START_TEST(long_text_cut_on_a_character) {
  char line[WP_TEXT_MAX + 64];
  int n = snprintf(line, sizeof line, "1\tB1\tinfo\t");
  while (n + 2 < (int)sizeof line - 1) {
    memcpy(line + n, "\xc4\x91", 2); /* đ */
    n += 2;
  }
  line[n] = '\0';
  wp_line l;
  ck_assert_int_eq(parse(line, &l), 0);
  size_t len = strlen(l.text);
  ck_assert_uint_le(len, WP_TEXT_MAX - 1);
  ck_assert_uint_eq(len % 2, 0);
  ck_assert_int_eq((unsigned char)l.text[len - 1], 0x91);
}
END_TEST

static void apply(wp_table *t, const char *s) {
  wp_line l;
  ck_assert_msg(parse(s, &l) == 0, "bad test line %s", s);
  ck_assert_int_eq(wp_table_apply(t, &l), 0);
}

START_TEST(table_rows_and_elapsed) {
  wp_table t = {0};
  apply(&t, "1000\tstack\trun\tstarting");
  apply(&t, "1100\tB3\tinfo\tinput file written");
  apply(&t, "2500\tstack\tok\tup");
  apply(&t, "3000\tB4\trun\tingesting");
  apply(&t, "3500\tB4\tinfo\t500 of 1000");
  ck_assert_uint_eq(t.n, 3);
  ck_assert_str_eq(t.rows[0].step, "stack");
  ck_assert_str_eq(t.rows[1].step, "B3");
  ck_assert_str_eq(t.rows[2].step, "B4");
  /* Ended: from the first run to ok, whatever now is. */
  ck_assert_int_eq(t.rows[0].state, WP_OK);
  ck_assert_str_eq(t.rows[0].text, "up");
  ck_assert(wp_row_elapsed(&t.rows[0], 99999) == 1500);
  /* Never ran. */
  ck_assert(wp_row_elapsed(&t.rows[1], 99999) == -1);
  /* Running: up to now, the latest state and text shown. */
  ck_assert_int_eq(t.rows[2].state, WP_INFO);
  ck_assert_str_eq(t.rows[2].text, "500 of 1000");
  ck_assert(wp_row_elapsed(&t.rows[2], 4000) == 1000);
  apply(&t, "7000\tB4\tfail\tline 17: bad Luhn");
  ck_assert(wp_row_elapsed(&t.rows[2], 99999) == 4000);
  /* Run again: elapsed from the first run, running again. */
  apply(&t, "8000\tB4\trun\tretry");
  ck_assert(wp_row_elapsed(&t.rows[2], 9000) == 6000);
  apply(&t, "8500\tB4\tok\tdone");
  ck_assert(wp_row_elapsed(&t.rows[2], 99999) == 5500);
  /* ok before any run: no elapsed. */
  apply(&t, "9000\tlate\tok\tno run seen");
  ck_assert(wp_row_elapsed(&t.rows[3], 99999) == -1);
  wp_table_free(&t);
  ck_assert_uint_eq(t.n, 0);
}
END_TEST

START_TEST(table_row_limit) {
  wp_table t = {0};
  wp_line l;
  for (int i = 0; i < WP_ROWS_MAX + 5; i++) {
    char s[64];
    snprintf(s, sizeof s, "%d\tstep%d\tinfo\tx", i + 1, i);
    ck_assert_int_eq(parse(s, &l), 0);
    ck_assert_int_eq(wp_table_apply(&t, &l), i < WP_ROWS_MAX ? 0 : -1);
  }
  ck_assert_uint_eq(t.n, WP_ROWS_MAX);
  /* Known steps still update. */
  ck_assert_int_eq(parse("9\tstep0\tok\tdone", &l), 0);
  ck_assert_int_eq(wp_table_apply(&t, &l), 0);
  wp_table_free(&t);
}
END_TEST

/* Collects the lines wp_tail_read hands over. */
static char got[8][WP_LINE_MAX + 1];
static size_t ngot;

static void collect(void *arg, const char *line, size_t len) {
  (void)arg;
  ck_assert_uint_lt(ngot, 8);
  memcpy(got[ngot], line, len);
  got[ngot++][len] = '\0';
}

static void append(const char *path, const char *s) {
  FILE *fp = fopen(path, "a");
  ck_assert_ptr_nonnull(fp);
  fputs(s, fp);
  fclose(fp);
}

START_TEST(tail_follows_the_file) {
  char path[] = "/tmp/test_watch_progress.XXXXXX";
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  close(fd);
  unlink(path);
  char err[256];
  wp_tail t = {.path = path};
  ngot = 0;
  /* Missing: nothing yet, no error. */
  ck_assert_int_eq(wp_tail_read(&t, collect, NULL, err, sizeof err), 0);
  ck_assert_uint_eq(ngot, 0);

  append(path, "1\ta\trun\tone\n2\tb\tru");
  ck_assert_int_eq(wp_tail_read(&t, collect, NULL, err, sizeof err), 0);
  ck_assert_uint_eq(ngot, 1);
  ck_assert_str_eq(got[0], "1\ta\trun\tone");
  /* The half line waits for its end. */
  ck_assert_int_eq(wp_tail_read(&t, collect, NULL, err, sizeof err), 0);
  ck_assert_uint_eq(ngot, 1);
  append(path, "n\ttwo\n");
  ck_assert_int_eq(wp_tail_read(&t, collect, NULL, err, sizeof err), 0);
  ck_assert_uint_eq(ngot, 2);
  ck_assert_str_eq(got[1], "2\tb\trun\ttwo");

  /* A line longer than WP_LINE_MAX is handed over empty (garbage), and
   * the next line is intact. */
  char *big = malloc(WP_LINE_MAX * 2 + 1);
  memset(big, 'x', WP_LINE_MAX * 2);
  big[WP_LINE_MAX * 2] = '\0';
  append(path, big);
  ck_assert_int_eq(wp_tail_read(&t, collect, NULL, err, sizeof err), 0);
  append(path, big);
  append(path, "\n3\tc\tok\tthree\n");
  free(big);
  ck_assert_int_eq(wp_tail_read(&t, collect, NULL, err, sizeof err), 0);
  ck_assert_uint_eq(ngot, 4);
  ck_assert_str_eq(got[2], "");
  ck_assert_str_eq(got[3], "3\tc\tok\tthree");

  /* Replaced by a shorter file: read from its start. */
  ck_assert_int_eq(truncate(path, 0), 0);
  append(path, "4\td\tinfo\tfour\n");
  ck_assert_int_eq(wp_tail_read(&t, collect, NULL, err, sizeof err), 0);
  ck_assert_uint_eq(ngot, 5);
  ck_assert_str_eq(got[4], "4\td\tinfo\tfour");

  /* Unreadable (a directory): an error, not a crash. */
  unlink(path);
  ck_assert_int_eq(mkdir(path, 0700), 0);
  ck_assert_int_eq(wp_tail_read(&t, collect, NULL, err, sizeof err), -1);
  ck_assert_msg(strstr(err, path) != NULL, "error: %s", err);
  rmdir(path);
  wp_tail_free(&t);
}
END_TEST

int main(void) {
  Suite *s = suite_create("watch_progress");
  TCase *tc = tcase_create("progress");
  tcase_add_test(tc, good_lines);
  tcase_add_test(tc, garbage_lines);
  tcase_add_test(tc, long_text_cut_on_a_character);
  tcase_add_test(tc, table_rows_and_elapsed);
  tcase_add_test(tc, table_row_limit);
  tcase_add_test(tc, tail_follows_the_file);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
