/* fuzz_holidays - sp_cal_add_year, the parser of the holiday files
 * (data/holidays/YYYY.txt) every working-day deadline is counted with.
 *
 * Invariants: a refusal adds no year and gives a UTF-8 reason naming the
 * file, and the line when it names one, inside the input. An accepted file
 * gives 1 to 366 entries of the file's year in strictly increasing date
 * order, each with a known kind, a make-up day only on a weekend and a day
 * in lieu only on a weekday, a trimmed UTF-8 name and source without '|';
 * is_working_day agrees with them; written back in the file format they
 * parse to the same entries; and a deadline from 1 January counting every
 * working day of the year ends on the year's last one, one more is refused
 * for want of the next year. */
#include "calendar.h"
#include "fuzz.h"

#define FILE_NAME "fuzz/2026.txt"
#define YEAR 2026

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  return 0;
}

static int trimmed_text(const char *s) {
  size_t n = strlen(s);
  return n > 0 && n <= SP_CAL_TEXT_MAX && fz_utf8(s, n) && !strchr(s, '|') &&
         s[0] != ' ' && s[0] != '\t' && s[n - 1] != ' ' && s[n - 1] != '\t';
}

static void refused(const sp_cal *cal, const char *err, size_t cap,
                    size_t nlines) {
  int first, last;
  FZ_CHECK(!sp_cal_years(cal, &first, &last), "a year added on refusal");
  FZ_CHECK(fz_errstr_ok(err, cap), "no reason");
  FZ_CHECK(fz_utf8(err, strlen(err)), err);
  FZ_CHECK(!strncmp(err, FILE_NAME ":", strlen(FILE_NAME) + 1), err);
  const char *p = err + strlen(FILE_NAME) + 1;
  if (*p >= '0' && *p <= '9') {
    long line = strtol(p, NULL, 10);
    FZ_CHECK(line >= 1 && (size_t)line <= nlines, err);
  }
}

/* The entries written back as a file. */
static char *write_back(const sp_cal_entry *e, size_t n, size_t *len) {
  size_t cap = n * (2 * SP_CAL_TEXT_MAX + 64) + 1, off = 0;
  char *buf = malloc(cap);
  FZ_CHECK(buf != NULL, "out of memory");
  static const char *kinds[] = {"", "holiday", "in-lieu", "make-up"};
  for (size_t i = 0; i < n; i++)
    off += (size_t)snprintf(buf + off, cap - off,
                            "%04d-%02d-%02d | %s | %s | %s%s\n", e[i].year,
                            e[i].month, e[i].day, kinds[e[i].kind],
                            e[i].name, e[i].source,
                            e[i].provisional ? " | provisional" : "");
  *len = off;
  return buf;
}

static void accepted(sp_cal *cal, size_t nlines) {
  const sp_cal_entry *e;
  size_t n = sp_cal_entries(cal, YEAR, &e);
  char err[512];
  FZ_CHECK(n >= 1 && n <= 366, "entry count");
  for (size_t i = 0; i < n; i++) {
    FZ_CHECK(e[i].year == YEAR, "an entry of another year");
    FZ_CHECK(i == 0 || e[i].month * 100 + e[i].day >
                           e[i - 1].month * 100 + e[i - 1].day,
             "entries not in strictly increasing date order");
    FZ_CHECK(e[i].kind >= SP_CAL_HOLIDAY && e[i].kind <= SP_CAL_MAKE_UP,
             "unknown kind");
    FZ_CHECK(e[i].provisional == 0 || e[i].provisional == 1, "provisional");
    FZ_CHECK(e[i].line >= 1 && (size_t)e[i].line <= nlines, "line");
    FZ_CHECK(trimmed_text(e[i].name), e[i].name);
    FZ_CHECK(trimmed_text(e[i].source), e[i].source);
    int w = sp_cal_is_working_day(cal, YEAR, e[i].month, e[i].day, err,
                                  sizeof err);
    FZ_CHECK(w == (e[i].kind == SP_CAL_MAKE_UP), "is_working_day");
  }
  /* Round trip. */
  size_t len;
  char *text = write_back(e, n, &len);
  sp_cal *again = sp_cal_new();
  FZ_CHECK(again != NULL, "out of memory");
  FZ_CHECK(sp_cal_add_year(again, FILE_NAME, YEAR, text, len, err,
                           sizeof err) == 0,
           err);
  const sp_cal_entry *e2;
  FZ_CHECK(sp_cal_entries(again, YEAR, &e2) == n, "round trip: count");
  for (size_t i = 0; i < n; i++) {
    FZ_CHECK(e2[i].month == e[i].month && e2[i].day == e[i].day &&
                 e2[i].kind == e[i].kind &&
                 e2[i].provisional == e[i].provisional &&
                 !strcmp(e2[i].name, e[i].name) &&
                 !strcmp(e2[i].source, e[i].source),
             "round trip: an entry changed");
    FZ_CHECK(e2[i].line == (int)i + 1, "round trip: line");
  }
  sp_cal_free(again);
  free(text);
  /* The year counted through: received 1 January, every working day after
   * it, and one more. */
  int days = 0, last_m = 0, last_d = 0;
  for (int m = 1; m <= 12; m++)
    for (int d = 1; d <= 31; d++) {
      int w = sp_cal_is_working_day(cal, YEAR, m, d, err, sizeof err);
      if (w < 0)
        break; /* past the month's end */
      if (w == 1 && (m > 1 || d > 1)) {
        days++;
        last_m = m, last_d = d;
      }
    }
  time_t from, dl;
  FZ_CHECK(sp_cal_parse_time("2026-01-01T12:00", &from, err, sizeof err) == 0,
           err);
  FZ_CHECK(sp_cal_deadline(cal, from, days, &dl, err, sizeof err) == 0, err);
  char got[SP_CAL_TIME_LEN + 1], want[64];
  sp_cal_format_time(dl, got);
  if (days)
    snprintf(want, sizeof want, "%04d-%02d-%02dT23:59:59+07:00", YEAR, last_m,
             last_d);
  else
    snprintf(want, sizeof want, "%04d-01-01T23:59:59+07:00", YEAR);
  FZ_CHECK(!strcmp(got, want), got);
  FZ_CHECK(sp_cal_deadline(cal, from, days + 1, &dl, err, sizeof err) == -1 &&
               !strcmp(err, "no holiday data for 2027"),
           err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sp_cal *cal = sp_cal_new();
  FZ_CHECK(cal != NULL, "out of memory");
  /* Exactly size bytes, not NUL-terminated: ASan sees a read past them. */
  char *buf = malloc(size ? size : 1);
  FZ_CHECK(buf != NULL, "out of memory");
  memcpy(buf, data, size);
  size_t nlines = 1;
  for (size_t i = 0; i < size; i++)
    nlines += buf[i] == '\n';
  char err[512];
  memset(err, 'U', sizeof err);
  if (sp_cal_add_year(cal, FILE_NAME, YEAR, buf, size, err, sizeof err))
    refused(cal, err, sizeof err, nlines);
  else
    accepted(cal, nlines);
  sp_cal_free(cal);
  free(buf);
  return 0;
}
