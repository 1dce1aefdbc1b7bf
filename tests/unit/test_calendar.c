/* Unit tests for common/calendar: the holiday files and deadlines counted
 * in Vietnamese working days. The real data is data/holidays/; the
 * invented cases are in tests/fixtures/holidays/. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"

static char err[1024];

static const char *src_dir(void) {
  const char *s = getenv("SIMPKI_SOURCE_DIR");
  return s && *s ? s : SIMPKI_SOURCE_DIR;
}

/* sub: a folder under the source tree. */
static sp_cal *load(const char *sub) {
  char dir[1024];
  snprintf(dir, sizeof dir, "%s/%s", src_dir(), sub);
  sp_cal *cal = NULL;
  ck_assert_msg(sp_cal_load_dir(dir, &cal, err, sizeof err) == 0,
                "%s refused: %s", dir, err);
  return cal;
}

static sp_cal *real(void) { return load("data/holidays"); }
static sp_cal *makeup(void) { return load("tests/fixtures/holidays/makeup"); }

static time_t at(const char *s) {
  time_t t;
  ck_assert_msg(sp_cal_parse_time(s, &t, err, sizeof err) == 0, "%s: %s", s,
                err);
  return t;
}

/* The deadline of n working days from `from`, formatted. */
static const char *deadline(const sp_cal *cal, const char *from, int n) {
  static char out[SP_CAL_TIME_LEN + 1];
  time_t d;
  ck_assert_msg(sp_cal_deadline(cal, at(from), n, &d, err, sizeof err) == 0,
                "%s + %d refused: %s", from, n, err);
  sp_cal_format_time(d, out);
  return out;
}

/* The reason a deadline is refused. */
static const char *refused(const sp_cal *cal, const char *from, int n) {
  time_t d = 12345;
  err[0] = '\0';
  ck_assert_msg(sp_cal_deadline(cal, at(from), n, &d, err, sizeof err) == -1,
                "%s + %d accepted", from, n);
  ck_assert(d == 12345);
  return err;
}

typedef struct {
  const char *from;
  int n;
  const char *want;
} case_t;

static void check_cases(const sp_cal *cal, const case_t *c, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const char *got = deadline(cal, c[i].from, c[i].n);
    ck_assert_msg(!strcmp(got, c[i].want), "%s + %d: got %s, want %s",
                  c[i].from, c[i].n, got, c[i].want);
  }
}

/* ---- deadlines ---- */

START_TEST(the_issue_example) {
  sp_cal *cal = real();
  /* Friday before Tết: Sat 14 to Sun 22 February are off; Mon 23, Tue 24,
   * Wed 25 count. */
  ck_assert_str_eq(deadline(cal, "2026-02-13T10:00", 3),
                   "2026-02-25T23:59:59+07:00");
  ck_assert_str_eq(deadline(cal, "2026-02-13T10:00:00+07:00", 3),
                   "2026-02-25T23:59:59+07:00");
  ck_assert_str_eq(deadline(cal, "2026-02-13T03:00:00Z", 3),
                   "2026-02-25T23:59:59+07:00");
  sp_cal_free(cal);
}
END_TEST

START_TEST(across_tet) {
  static const case_t c[] = {
      {"2026-02-10T09:00", 3, "2026-02-13T23:59:59+07:00"}, /* Tue */
      {"2026-02-11T09:00", 3, "2026-02-23T23:59:59+07:00"}, /* Wed */
      {"2026-02-12T09:00", 3, "2026-02-24T23:59:59+07:00"}, /* Thu */
      {"2026-02-13T09:00", 3, "2026-02-25T23:59:59+07:00"}, /* Fri */
      {"2026-02-14T09:00", 3, "2026-02-25T23:59:59+07:00"}, /* Sat */
      {"2026-02-16T09:00", 3, "2026-02-25T23:59:59+07:00"}, /* 29 Chạp */
      {"2026-02-17T09:00", 3, "2026-02-25T23:59:59+07:00"}, /* mùng 1 */
      {"2026-02-20T16:00", 3, "2026-02-25T23:59:59+07:00"}, /* mùng 4 */
      {"2026-02-22T09:00", 3, "2026-02-25T23:59:59+07:00"}, /* Sun */
      {"2026-02-23T09:00", 3, "2026-02-26T23:59:59+07:00"}, /* back */
      {"2026-02-13T09:00", 1, "2026-02-23T23:59:59+07:00"},
      {"2026-02-12T09:00", 10, "2026-03-05T23:59:59+07:00"},
      /* 2027 (provisional): Thu 4 to Mon 8 Tết, Tue 9 and Wed 10 in
       * lieu of the Saturday and Sunday. */
      {"2027-02-03T09:00", 3, "2027-02-15T23:59:59+07:00"},
      {"2027-02-06T09:00", 1, "2027-02-11T23:59:59+07:00"},
  };
  sp_cal *cal = real();
  check_cases(cal, c, sizeof c / sizeof *c);
  sp_cal_free(cal);
}
END_TEST

START_TEST(across_the_year_end) {
  static const case_t c[] = {
      /* Thu 31 Dec counts; Fri 1 Jan 2027 is a holiday; Mon 4, Tue 5. */
      {"2026-12-30T10:00", 3, "2027-01-05T23:59:59+07:00"},
      {"2026-12-31T23:59", 1, "2027-01-04T23:59:59+07:00"},
      {"2026-12-31T10:00", 0, "2026-12-31T23:59:59+07:00"},
  };
  sp_cal *cal = real();
  check_cases(cal, c, sizeof c / sizeof *c);
  sp_cal_free(cal);
  /* The same count with only 2026 known is refused, not guessed. */
  cal = makeup();
  ck_assert_ptr_nonnull(strstr(refused(cal, "2026-12-30T10:00", 3),
                               "no holiday data for 2027"));
  ck_assert_str_eq(deadline(cal, "2026-12-29T10:00", 2),
                   "2026-12-31T23:59:59+07:00");
  sp_cal_free(cal);
}
END_TEST

START_TEST(make_up_days_count) {
  sp_cal *cal = makeup();
  /* Thu 8, Fri 9, and Saturday 10 January worked in exchange. */
  ck_assert_str_eq(deadline(cal, "2026-01-07T10:00", 3),
                   "2026-01-10T23:59:59+07:00");
  /* Fri 2 January is the day off it was swapped for. */
  ck_assert_str_eq(deadline(cal, "2026-01-01T10:00", 1),
                   "2026-01-05T23:59:59+07:00");
  /* A make-up Sunday: Fri 6, Sun 8 March. */
  ck_assert_str_eq(deadline(cal, "2026-03-05T10:00", 2),
                   "2026-03-08T23:59:59+07:00");
  ck_assert_int_eq(sp_cal_is_working_day(cal, 2026, 1, 10, err, sizeof err),
                   1);
  ck_assert_int_eq(sp_cal_is_working_day(cal, 2026, 1, 2, err, sizeof err),
                   0);
  ck_assert_int_eq(sp_cal_is_working_day(cal, 2026, 3, 8, err, sizeof err),
                   1);
  sp_cal_free(cal);
  /* Without the swap, the ordinary week. */
  cal = real();
  ck_assert_str_eq(deadline(cal, "2026-01-07T10:00", 3),
                   "2026-01-12T23:59:59+07:00");
  ck_assert_str_eq(deadline(cal, "2026-01-01T10:00", 1),
                   "2026-01-02T23:59:59+07:00");
  ck_assert_int_eq(sp_cal_is_working_day(cal, 2026, 1, 10, err, sizeof err),
                   0);
  sp_cal_free(cal);
}
END_TEST

START_TEST(received_on_a_day_off) {
  static const case_t c[] = {
      {"2026-03-07T10:00", 1, "2026-03-09T23:59:59+07:00"}, /* Saturday */
      {"2026-03-08T10:00", 1, "2026-03-09T23:59:59+07:00"}, /* Sunday */
      /* 30 April (Thu), 1 May (Fri) holidays, then the weekend. */
      {"2026-04-30T10:00", 1, "2026-05-04T23:59:59+07:00"},
      {"2026-04-29T10:00", 1, "2026-05-04T23:59:59+07:00"},
      /* Hùng Kings' day on Sunday 26 April, Monday 27 off in lieu. */
      {"2026-04-25T10:00", 1, "2026-04-28T23:59:59+07:00"},
      {"2026-04-26T10:00", 2, "2026-04-29T23:59:59+07:00"},
      {"2026-01-01T00:00", 1, "2026-01-02T23:59:59+07:00"},
      /* National Day: Tue 1 (provisional) and Wed 2 September. */
      {"2026-08-31T10:00", 1, "2026-09-03T23:59:59+07:00"},
  };
  sp_cal *cal = real();
  check_cases(cal, c, sizeof c / sizeof *c);
  sp_cal_free(cal);
}
END_TEST

START_TEST(receipt_at_the_edges_of_a_day) {
  static const case_t c[] = {
      {"2026-03-05T23:59", 1, "2026-03-06T23:59:59+07:00"}, /* Thu night */
      {"2026-03-05T23:59:59", 1, "2026-03-06T23:59:59+07:00"},
      {"2026-03-06T00:00", 1, "2026-03-09T23:59:59+07:00"}, /* Fri 0:00 */
      /* The same instants from UTC: the day is Vietnam's. */
      {"2026-03-05T16:59:59Z", 1, "2026-03-06T23:59:59+07:00"},
      {"2026-03-05T17:00:00Z", 1, "2026-03-09T23:59:59+07:00"},
      {"2026-03-05T12:00:00-05:00", 1, "2026-03-09T23:59:59+07:00"},
      {"2026-03-05T23:59:59.999+07:00", 1, "2026-03-06T23:59:59+07:00"},
      /* 1 January 00:00 local is still 31 December in UTC. */
      {"2026-12-31T17:00:00Z", 1, "2027-01-04T23:59:59+07:00"},
  };
  sp_cal *cal = real();
  check_cases(cal, c, sizeof c / sizeof *c);
  sp_cal_free(cal);
}
END_TEST

START_TEST(zero_and_large_counts) {
  sp_cal *cal = real();
  /* 0: due the day of receipt, working day or not. */
  ck_assert_str_eq(deadline(cal, "2026-02-13T10:00", 0),
                   "2026-02-13T23:59:59+07:00");
  ck_assert_str_eq(deadline(cal, "2026-02-14T10:00", 0),
                   "2026-02-14T23:59:59+07:00");
  /* 2026 has 250 working days, and so (provisionally) has 2027: 365 days,
   * 104 weekend days, 11 weekdays off each. */
  ck_assert_str_eq(deadline(cal, "2026-01-01T08:00", 250),
                   "2026-12-31T23:59:59+07:00");
  ck_assert_str_eq(deadline(cal, "2026-01-01T08:00", 251),
                   "2027-01-04T23:59:59+07:00");
  ck_assert_str_eq(deadline(cal, "2026-01-01T08:00", 500),
                   "2027-12-31T23:59:59+07:00");
  ck_assert_ptr_nonnull(strstr(refused(cal, "2026-01-01T08:00", 501),
                               "no holiday data for 2028"));
  ck_assert_ptr_nonnull(
      strstr(refused(cal, "2026-01-01T08:00", SP_CAL_MAX_WORKING_DAYS),
             "no holiday data for 2028"));
  ck_assert_ptr_nonnull(strstr(refused(cal, "2026-01-01T08:00", -1),
                               "expected 0 to"));
  ck_assert_ptr_nonnull(
      strstr(refused(cal, "2026-01-01T08:00", SP_CAL_MAX_WORKING_DAYS + 1),
             "expected 0 to"));
  sp_cal_free(cal);
}
END_TEST

START_TEST(missing_years_refused) {
  sp_cal *cal = real();
  const char *e = refused(cal, "2028-03-02T10:00", 3);
  ck_assert_msg(strstr(e, "no holiday data for 2028 (no 2028.txt in ") &&
                    strstr(e, "data/holidays)"),
                "got %s", e);
  /* Even a period of no day needs the year it was received in. */
  ck_assert_ptr_nonnull(
      strstr(refused(cal, "2025-12-31T10:00", 0), "no holiday data for 2025"));
  /* Receipt in a known year, counting into an unknown one. */
  ck_assert_ptr_nonnull(
      strstr(refused(cal, "2027-12-30T10:00", 2), "no holiday data for 2028"));
  ck_assert_int_eq(sp_cal_is_working_day(cal, 2028, 1, 3, err, sizeof err),
                   -1);
  ck_assert_ptr_nonnull(strstr(err, "no holiday data for 2028"));
  ck_assert_int_eq(sp_cal_is_working_day(cal, 2026, 2, 29, err, sizeof err),
                   -1);
  ck_assert_ptr_nonnull(strstr(err, "is not a date"));
  int first, last;
  ck_assert(sp_cal_years(cal, &first, &last));
  ck_assert_int_eq(first, 2026);
  ck_assert_int_eq(last, 2027);
  sp_cal_free(cal);

  /* A calendar built by hand says which year, without a folder. */
  cal = sp_cal_new();
  ck_assert_int_eq(sp_cal_years(cal, &first, &last), 0);
  time_t d;
  ck_assert_int_eq(sp_cal_deadline(cal, at("2026-02-13T10:00"), 3, &d, err,
                                   sizeof err),
                   -1);
  ck_assert_str_eq(err, "no holiday data for 2026");
  sp_cal_free(cal);
}
END_TEST

/* sub: a fixture folder; the load's reason must hold every want. */
static void load_refused(const char *sub, const char *want1,
                         const char *want2) {
  char dir[1024];
  snprintf(dir, sizeof dir, "%s/tests/fixtures/holidays/%s", src_dir(), sub);
  sp_cal *cal = (sp_cal *)1;
  err[0] = '\0';
  ck_assert_msg(sp_cal_load_dir(dir, &cal, err, sizeof err) == -1,
                "%s accepted", sub);
  ck_assert(cal == (sp_cal *)1);
  ck_assert_msg(strstr(err, want1) != NULL, "%s: \"%s\" not in \"%s\"", sub,
                want1, err);
  ck_assert_msg(!want2 || strstr(err, want2) != NULL,
                "%s: \"%s\" not in \"%s\"", sub, want2, err);
}

START_TEST(folders_refused) {
  load_refused("gap", "no holiday data for 2027 (no 2027.txt in ",
               "fixtures/holidays/gap)");
  load_refused("no-years", "no holiday data in ", "(files named YYYY.txt)");
  load_refused("does-not-exist", "cannot open the holiday folder ",
               "No such file");
  load_refused("bad-kind", "fixtures/holidays/bad-kind/2026.txt:4: ",
               "unknown kind \"holliday\"");
  load_refused("not-utf8", "fixtures/holidays/not-utf8/2026.txt:3: ",
               "not UTF-8 (byte 25 of the line)");
}
END_TEST

/* ---- the file format ---- */

static int add(sp_cal *cal, int year, const char *text) {
  return sp_cal_add_year(cal, "t/2026.txt", year, text, strlen(text), err,
                         sizeof err);
}

START_TEST(format_accepted) {
  sp_cal *cal = sp_cal_new();
  const char *text =
      "\xEF\xBB\xBF# a comment\r\n"
      "\r\n"
      "   # an indented comment\n"
      "2026-09-02|holiday|Quốc khánh|Bộ luật Lao động 2019, Điều 112\n"
      "\t2026-01-10 \t|  make-up | Làm bù | thông báo của Chính phủ  \r\n"
      "2026-01-02 | in-lieu | Nghỉ hoán đổi | thông báo | provisional\n"
      "2026-01-01 | holiday | Tết Dương lịch | BLLĐ"; /* no final newline */
  ck_assert_msg(add(cal, 2026, text) == 0, "refused: %s", err);
  const sp_cal_entry *e;
  size_t n = sp_cal_entries(cal, 2026, &e);
  ck_assert_uint_eq(n, 4);
  /* Date order, whatever the file's order. */
  ck_assert_int_eq(e[0].day, 1);
  ck_assert_int_eq(e[0].line, 7);
  ck_assert_int_eq(e[1].day, 2);
  ck_assert_int_eq(e[1].kind, SP_CAL_IN_LIEU);
  ck_assert_int_eq(e[1].provisional, 1);
  ck_assert_str_eq(e[1].source, "thông báo");
  ck_assert_int_eq(e[2].kind, SP_CAL_MAKE_UP);
  ck_assert_str_eq(e[2].name, "Làm bù");
  ck_assert_str_eq(e[2].source, "thông báo của Chính phủ");
  ck_assert_int_eq(e[2].provisional, 0);
  ck_assert_int_eq(e[3].month, 9);
  ck_assert_str_eq(e[3].name, "Quốc khánh");
  ck_assert_int_eq(e[3].line, 4);
  ck_assert_uint_eq(sp_cal_entries(cal, 2027, &e), 0);
  ck_assert_ptr_null(e);
  /* A holiday on a weekend is allowed: it explains its day off in lieu. */
  ck_assert_int_eq(
      add(cal, 2027, "2027-05-01 | holiday | Quốc tế Lao động | BLLĐ\n"
                     "2027-05-03 | in-lieu | Nghỉ bù | BLLĐ\n"),
      0);
  sp_cal_free(cal);
}
END_TEST

START_TEST(format_refused) {
  static const struct {
    const char *text;
    int line; /* 0: the reason names the file only */
    const char *reason;
  } bad[] = {
      {"2026-1-01 | holiday | Tết | BLLĐ\n", 1, "bad date \"2026-1-01\""},
      {"# x\n01/01/2026 | holiday | Tết | BLLĐ\n", 2, "bad date"},
      {"2026-02-30 | holiday | Tết | BLLĐ\n", 1, "(no such day)"},
      {"2026-13-01 | holiday | Tết | BLLĐ\n", 1, "(no such day)"},
      {"2026-01-00 | holiday | Tết | BLLĐ\n", 1, "(no such day)"},
      {"2027-01-01 | holiday | Tết | BLLĐ\n", 1,
       "date 2027-01-01 is not in 2026"},
      {"2026-01-01 | holliday | Tết | BLLĐ\n", 1,
       "unknown kind \"holliday\" (expected holiday, in-lieu or make-up)"},
      {"2026-01-01 | Holiday | Tết | BLLĐ\n", 1, "unknown kind"},
      {"2026-01-01 | | Tết | BLLĐ\n", 1, "unknown kind \"\""},
      {"2026-01-01 | holiday | Tết | BLLĐ\n\n2026-01-01 | holiday | x | y\n",
       3, "2026-01-01 is listed twice (first on line 1)"},
      {"2026-01-01 | holiday | Tết\n", 1,
       "missing field: expected DATE | KIND | NAME | SOURCE"},
      {"2026-01-01\n", 1, "found 1 field"},
      {"2026-01-01 | holiday |  | BLLĐ\n", 1, "the name is empty"},
      {"2026-01-01 | holiday | Tết | \n", 1, "the source is empty"},
      {"2026-01-01 | holiday | Tết | BLLĐ | provisional | x\n", 1,
       "too many fields"},
      {"2026-01-01 | holiday | Tết | BLLĐ | draft\n", 1,
       "unknown mark \"draft\""},
      {"2026-01-01 | holiday | Tết | BLLĐ | Provisional\n", 1,
       "unknown mark"},
      {"2026-01-01 | holiday | T\xeat | BLLĐ\n", 1,
       "not UTF-8 (byte 25 of the line)"},
      {"ok\xc3\n", 1, "not UTF-8 (byte 3"},
      {"# \xed\xa0\x80 a surrogate\n", 1, "not UTF-8"},
      {"# \xc0\xaf overlong\n", 1, "not UTF-8"},
      {"2026-01-01 | holiday | T\x01t | BLLĐ\n", 1, "control character 0x01"},
      {"2026-01-01 | holiday | Tết | BLLĐ\x7f\n", 1, "control character 0x7F"},
      {"2026-01-01 | holiday | Tết | BLLĐ\rx\n", 1, "control character 0x0D"},
      {"2026-01-05 | make-up | Làm bù | x\n", 1,
       "2026-01-05 is a make-up working day but not a Saturday or Sunday"},
      {"2026-01-03 | in-lieu | Nghỉ bù | x\n", 1,
       "2026-01-03 is a day off in lieu but a Saturday or Sunday"},
      {"", 0, "no entries"},
      {"# only comments\n\n", 0, "no entries"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    sp_cal *cal = sp_cal_new();
    err[0] = '\0';
    ck_assert_msg(add(cal, 2026, bad[i].text) == -1, "case %zu accepted", i);
    char where[64];
    if (bad[i].line)
      snprintf(where, sizeof where, "t/2026.txt:%d: ", bad[i].line);
    else
      snprintf(where, sizeof where, "t/2026.txt: ");
    ck_assert_msg(!strncmp(err, where, strlen(where)),
                  "case %zu: \"%s\" does not start with \"%s\"", i, err,
                  where);
    ck_assert_msg(strstr(err, bad[i].reason) != NULL,
                  "case %zu: \"%s\" not in \"%s\"", i, bad[i].reason, err);
    /* All or nothing: the year is not half there. */
    int first, last;
    ck_assert_int_eq(sp_cal_years(cal, &first, &last), 0);
    ck_assert_int_eq(add(cal, 2026, "2026-01-01 | holiday | Tết | BLLĐ\n"),
                     0);
    sp_cal_free(cal);
  }
}
END_TEST

START_TEST(format_refused_bytes) {
  sp_cal *cal = sp_cal_new();
  /* A NUL in the middle of a line (the buffer has a length). */
  static const char nul[] = "2026-01-01 | holiday | T\0t | BLLĐ\n";
  ck_assert_int_eq(sp_cal_add_year(cal, "t/2026.txt", 2026, nul,
                                   sizeof nul - 1, err, sizeof err),
                   -1);
  ck_assert_ptr_nonnull(strstr(err, "t/2026.txt:1: control character 0x00"));
  /* Too long a name. */
  char line[512];
  snprintf(line, sizeof line, "2026-01-01 | holiday | %0*d | BLLĐ\n",
           SP_CAL_TEXT_MAX + 1, 0);
  ck_assert_int_eq(add(cal, 2026, line), -1);
  ck_assert_ptr_nonnull(strstr(err, "t/2026.txt:1: the name is longer than"));
  snprintf(line, sizeof line, "2026-01-01 | holiday | %0*d | BLLĐ\n",
           SP_CAL_TEXT_MAX, 0);
  ck_assert_int_eq(add(cal, 2026, line), 0);
  /* A year once, and only years the calendar holds. */
  ck_assert_int_eq(add(cal, 2026, "2026-01-01 | holiday | Tết | BLLĐ\n"), -1);
  ck_assert_str_eq(err, "t/2026.txt: holiday data for 2026 is already loaded");
  ck_assert_int_eq(add(cal, 1999, "1999-01-01 | holiday | Tết | BLLĐ\n"), -1);
  ck_assert_ptr_nonnull(strstr(err, "year 1999 is outside"));
  /* A long bad field is quoted short, never cut inside a character. */
  ck_assert_int_eq(add(cal, 2027,
                       "2027-01-01 | ăăăăăăăăăăăăăăăăăăăăăăăăăăăăăăăăăăăăă | "
                       "x | y\n"),
                   -1);
  ck_assert_ptr_nonnull(
      strstr(err, "unknown kind \"ăăăăăăăăăăăăăăăăăăăă\" (expected"));
  sp_cal_free(cal);
}
END_TEST

/* ---- the shipped data ---- */

START_TEST(shipped_2026) {
  sp_cal *cal = real();
  const sp_cal_entry *e;
  size_t n = sp_cal_entries(cal, 2026, &e);
  ck_assert_uint_eq(n, 12);
  for (size_t i = 0; i < n; i++) {
    int sept1 = e[i].month == 9 && e[i].day == 1;
    ck_assert_msg(e[i].provisional == sept1, "2026-%02d-%02d provisional=%d",
                  e[i].month, e[i].day, e[i].provisional);
  }
  static const struct {
    int m, d, working;
  } days[] = {
      {1, 1, 0},  {1, 2, 1},  {2, 13, 1}, {2, 14, 0}, {2, 16, 0},
      {2, 17, 0}, {2, 20, 0}, {2, 22, 0}, {2, 23, 1}, {4, 24, 1},
      {4, 26, 0}, {4, 27, 0}, {4, 28, 1}, {4, 29, 1}, {4, 30, 0},
      {5, 1, 0},  {5, 4, 1},  {8, 31, 1}, {9, 1, 0},  {9, 2, 0},
      {9, 3, 1},  {12, 31, 1},
  };
  for (size_t i = 0; i < sizeof days / sizeof *days; i++)
    ck_assert_msg(sp_cal_is_working_day(cal, 2026, days[i].m, days[i].d, err,
                                        sizeof err) == days[i].working,
                  "2026-%02d-%02d", days[i].m, days[i].d);
  sp_cal_free(cal);
}
END_TEST

START_TEST(shipped_2027) {
  sp_cal *cal = real();
  const sp_cal_entry *e;
  size_t n = sp_cal_entries(cal, 2027, &e);
  ck_assert_uint_eq(n, 14);
  for (size_t i = 0; i < n; i++)
    ck_assert_msg(e[i].provisional, "2027-%02d-%02d is not provisional",
                  e[i].month, e[i].day);
  static const struct {
    int m, d, working;
  } days[] = {
      {1, 1, 0},  {1, 4, 1},  {2, 3, 1},  {2, 4, 0},  {2, 8, 0},
      {2, 9, 0},  {2, 10, 0}, {2, 11, 1}, {4, 15, 1}, {4, 16, 0},
      {4, 30, 0}, {5, 3, 0},  {5, 4, 1},  {9, 2, 0},  {9, 3, 0},
      {9, 6, 1},
  };
  for (size_t i = 0; i < sizeof days / sizeof *days; i++)
    ck_assert_msg(sp_cal_is_working_day(cal, 2027, days[i].m, days[i].d, err,
                                        sizeof err) == days[i].working,
                  "2027-%02d-%02d", days[i].m, days[i].d);
  sp_cal_free(cal);
}
END_TEST

START_TEST(provisional_entries_crossed) {
  sp_cal *cal = real();
  const sp_cal_entry *e;
  ck_assert_uint_eq(sp_cal_provisional_between(cal, at("2026-02-13T10:00"),
                                               at("2026-02-25T23:59:59"), &e),
                    0);
  ck_assert_ptr_null(e);
  ck_assert_uint_eq(sp_cal_provisional_between(cal, at("2026-08-31T10:00"),
                                               at("2026-09-03T23:59:59"), &e),
                    1);
  ck_assert_int_eq(e->day, 1);
  /* The day of receipt is not counted, so not crossed. */
  ck_assert_uint_eq(sp_cal_provisional_between(cal, at("2026-09-01T10:00"),
                                               at("2026-09-03T23:59:59"), &e),
                    0);
  ck_assert_uint_eq(sp_cal_provisional_between(cal, at("2026-12-30T10:00"),
                                               at("2027-02-15T23:59:59"), &e),
                    8);
  ck_assert_int_eq(e->year, 2027);
  sp_cal_free(cal);
}
END_TEST

/* ---- working days left ---- */

START_TEST(working_days_left) {
  sp_cal *cal = real();
  time_t dl = at("2026-02-25T23:59:59");
  static const struct {
    const char *now;
    int left;
  } c[] = {
      {"2026-02-13T10:00", 4}, /* Friday itself, then 23, 24, 25 */
      {"2026-02-14T10:00", 3}, {"2026-02-20T10:00", 3},
      {"2026-02-23T08:00", 3}, {"2026-02-24T08:00", 2},
      {"2026-02-25T00:00", 1}, {"2026-02-25T23:59:59", 1},
      {"2026-02-26T00:00", 0}, {"2026-03-10T00:00", 0},
  };
  for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
    int n = -1;
    ck_assert_msg(sp_cal_working_days_left(cal, at(c[i].now), dl, &n, err,
                                           sizeof err) == 0,
                  "%s: %s", c[i].now, err);
    ck_assert_msg(n == c[i].left, "%s: %d left, want %d", c[i].now, n,
                  c[i].left);
  }
  int n;
  ck_assert_int_eq(sp_cal_working_days_left(cal, at("2027-12-30T10:00"),
                                            at("2028-01-04T23:59:59"), &n,
                                            err, sizeof err),
                   -1);
  ck_assert_ptr_nonnull(strstr(err, "no holiday data for 2028"));
  sp_cal_free(cal);
}
END_TEST

/* ---- times ---- */

START_TEST(times) {
  static const struct {
    const char *in, *out;
  } ok[] = {
      {"2026-02-13T10:00", "2026-02-13T10:00:00+07:00"},
      {"2026-02-13t10:00:05", "2026-02-13T10:00:05+07:00"},
      {"2026-02-13T03:00:00Z", "2026-02-13T10:00:00+07:00"},
      {"2026-02-13T03:00:00.123z", "2026-02-13T10:00:00+07:00"},
      {"2026-02-13T10:00+07:00", "2026-02-13T10:00:00+07:00"},
      {"2026-02-13T10:00:00+09:00", "2026-02-13T08:00:00+07:00"},
      {"2026-02-13T20:30:00-05:30", "2026-02-14T09:00:00+07:00"},
      {"2026-12-31T17:00:00Z", "2027-01-01T00:00:00+07:00"},
      {"2028-02-29T00:00", "2028-02-29T00:00:00+07:00"},
      {"1970-01-01T06:59:59", "1970-01-01T06:59:59+07:00"},
  };
  for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
    char out[SP_CAL_TIME_LEN + 1];
    sp_cal_format_time(at(ok[i].in), out);
    ck_assert_msg(!strcmp(out, ok[i].out), "%s: got %s", ok[i].in, out);
  }
  ck_assert(at("1970-01-01T07:00") == 0);
  ck_assert(at("2026-02-13T10:00") == 1770951600);
  static const struct {
    const char *in, *reason;
  } bad[] = {
      {"", "is not a date and time"},
      {"2026-02-13", "is not a date and time"},
      {"2026-02-13 10:00", "is not a date and time"},
      {"2026-02-13T10", "is not a date and time"},
      {"2026-02-13T10:00:", "is not a date and time"},
      {"2026-02-13T10:00:0", "is not a date and time"},
      {"2026-02-13T10:00:00.", "is not a date and time"},
      {"2026-02-13T10:00+07", "is not a date and time"},
      {"2026-02-13T10:00+0700", "is not a date and time"},
      {"2026-02-13T10:00+24:00", "is not a date and time"},
      {"2026-02-13T10:00Zjunk", "is not a date and time"},
      {"2026-02-13T10:00 ", "is not a date and time"},
      {"26-02-13T10:00", "is not a date and time"},
      {"2026-02-30T10:00", "no such date or time"},
      {"2026-02-13T24:00", "no such date or time"},
      {"2026-02-13T10:60", "no such date or time"},
      {"2026-02-13T10:00:60", "no such date or time"},
      {"0000-01-01T00:00", "no such date or time"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    time_t t = 42;
    err[0] = '\0';
    ck_assert_msg(sp_cal_parse_time(bad[i].in, &t, err, sizeof err) == -1,
                  "%s accepted", bad[i].in);
    ck_assert(t == 42);
    ck_assert_msg(strstr(err, bad[i].reason) != NULL, "%s: got %s",
                  bad[i].in, err);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("calendar");
  TCase *tc = tcase_create("deadline");
  tcase_add_test(tc, the_issue_example);
  tcase_add_test(tc, across_tet);
  tcase_add_test(tc, across_the_year_end);
  tcase_add_test(tc, make_up_days_count);
  tcase_add_test(tc, received_on_a_day_off);
  tcase_add_test(tc, receipt_at_the_edges_of_a_day);
  tcase_add_test(tc, zero_and_large_counts);
  tcase_add_test(tc, missing_years_refused);
  tcase_add_test(tc, folders_refused);
  tcase_add_test(tc, working_days_left);
  tcase_add_test(tc, provisional_entries_crossed);
  suite_add_tcase(s, tc);
  tc = tcase_create("files");
  tcase_add_test(tc, format_accepted);
  tcase_add_test(tc, format_refused);
  tcase_add_test(tc, format_refused_bytes);
  tcase_add_test(tc, shipped_2026);
  tcase_add_test(tc, shipped_2027);
  suite_add_tcase(s, tc);
  tc = tcase_create("times");
  tcase_add_test(tc, times);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
