/* calendar.c - Vietnamese working days: the holiday files and the
 * deadlines counted in working days (calendar.h, docs/calendar.md). */
#include "calendar.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NYEARS (SP_CAL_YEAR_MAX - SP_CAL_YEAR_MIN + 1)

struct cal_year {
  sp_cal_entry *entries; /* date order */
  size_t n;
  unsigned char kind[366]; /* by day of the year; 0: no entry */
};

struct sp_cal {
  struct cal_year *years[NYEARS];
  char *dir; /* the folder it was loaded from, for "no data" reasons */
};

/* ---- dates as day numbers (days since 1970-01-01, proleptic Gregorian;
 * H. Hinnant's algorithms), so that no function depends on TZ ---- */

static long days_from_civil(long y, int m, int d) {
  y -= m <= 2;
  long era = (y >= 0 ? y : y - 399) / 400;
  long yoe = y - era * 400;
  long doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static void civil_from_days(long z, long *y, int *m, int *d) {
  z += 719468;
  long era = (z >= 0 ? z : z - 146096) / 146097;
  long doe = z - era * 146097;
  long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  long mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

static int leap(long y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int days_in_month(long y, int m) {
  static const int n[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : n[m - 1];
}

/* 0 Sunday ... 6 Saturday; 1970-01-01 was a Thursday. */
static int weekday(long z) {
  long w = (z + 4) % 7;
  return (int)(w < 0 ? w + 7 : w);
}

static int weekend(long z) {
  int w = weekday(z);
  return w == 0 || w == 6;
}

/* The local (UTC+7) day of t, without overflow for any time_t. */
static long local_day(time_t t) {
  long long day = t / 86400, sec = t % 86400;
  if (sec < 0)
    sec += 86400, day--;
  return (long)(day + (sec + SP_CAL_UTC_OFFSET >= 86400));
}

static time_t end_of_day(long z) {
  return (time_t)(z + 1) * 86400 - SP_CAL_UTC_OFFSET - 1;
}

/* ---- the calendar ---- */

sp_cal *sp_cal_new(void) { return calloc(1, sizeof(sp_cal)); }

void sp_cal_free(sp_cal *cal) {
  if (!cal)
    return;
  for (int i = 0; i < NYEARS; i++)
    if (cal->years[i]) {
      free(cal->years[i]->entries);
      free(cal->years[i]);
    }
  free(cal->dir);
  free(cal);
}

static const struct cal_year *year_of(const sp_cal *cal, long y) {
  if (y < SP_CAL_YEAR_MIN || y > SP_CAL_YEAR_MAX)
    return NULL;
  return cal->years[y - SP_CAL_YEAR_MIN];
}

static void no_data(const sp_cal *cal, long y, char *errstr, size_t errlen) {
  if (cal->dir)
    snprintf(errstr, errlen, "no holiday data for %ld (no %ld.txt in %s)", y,
             y, cal->dir);
  else
    snprintf(errstr, errlen, "no holiday data for %ld", y);
}

/* 1 working, 0 not, -1 when its year has no data. */
static int day_working(const sp_cal *cal, long z, char *errstr,
                       size_t errlen) {
  long y;
  int m, d;
  civil_from_days(z, &y, &m, &d);
  const struct cal_year *cy = year_of(cal, y);
  if (!cy) {
    no_data(cal, y, errstr, errlen);
    return -1;
  }
  switch (cy->kind[z - days_from_civil(y, 1, 1)]) {
  case SP_CAL_HOLIDAY:
  case SP_CAL_IN_LIEU:
    return 0;
  case SP_CAL_MAKE_UP:
    return 1;
  default:
    return !weekend(z);
  }
}

int sp_cal_years(const sp_cal *cal, int *first, int *last) {
  int f = 0, l = 0;
  for (int i = 0; i < NYEARS; i++)
    if (cal->years[i]) {
      if (!f)
        f = SP_CAL_YEAR_MIN + i;
      l = SP_CAL_YEAR_MIN + i;
    }
  *first = f;
  *last = l;
  return f != 0;
}

size_t sp_cal_entries(const sp_cal *cal, int year, const sp_cal_entry **out) {
  const struct cal_year *cy = year_of(cal, year);
  *out = cy ? cy->entries : NULL;
  return cy ? cy->n : 0;
}

int sp_cal_is_working_day(const sp_cal *cal, int y, int m, int d,
                          char *errstr, size_t errlen) {
  if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) {
    snprintf(errstr, errlen, "%04d-%02d-%02d is not a date", y, m, d);
    return -1;
  }
  return day_working(cal, days_from_civil(y, m, d), errstr, errlen);
}

int sp_cal_deadline(const sp_cal *cal, time_t received_at, int working_days,
                    time_t *out, char *errstr, size_t errlen) {
  if (working_days < 0 || working_days > SP_CAL_MAX_WORKING_DAYS) {
    snprintf(errstr, errlen, "a period of %d working days: expected 0 to %d",
             working_days, SP_CAL_MAX_WORKING_DAYS);
    return -1;
  }
  long z = local_day(received_at);
  /* The day of receipt counts for nothing, but a receipt in a year the
   * calendar does not know is as unknown as the days after it. */
  if (day_working(cal, z, errstr, errlen) < 0)
    return -1;
  for (int left = working_days; left > 0;) {
    int w = day_working(cal, ++z, errstr, errlen);
    if (w < 0)
      return -1;
    left -= w;
  }
  *out = end_of_day(z);
  return 0;
}

int sp_cal_working_days_left(const sp_cal *cal, time_t now, time_t deadline,
                             int *out, char *errstr, size_t errlen) {
  int n = 0;
  if (deadline >= now)
    for (long z = local_day(now), last = local_day(deadline); z <= last;
         z++) {
      int w = day_working(cal, z, errstr, errlen);
      if (w < 0)
        return -1;
      n += w;
    }
  *out = n;
  return 0;
}

size_t sp_cal_provisional_between(const sp_cal *cal, time_t from, time_t to,
                                  const sp_cal_entry **first) {
  long zf = local_day(from), zt = local_day(to), yf, yt;
  int m, d;
  size_t count = 0;
  *first = NULL;
  if (zt <= zf)
    return 0;
  civil_from_days(zf + 1, &yf, &m, &d);
  civil_from_days(zt, &yt, &m, &d);
  if (yf < SP_CAL_YEAR_MIN)
    yf = SP_CAL_YEAR_MIN;
  for (long y = yf; y <= yt && y <= SP_CAL_YEAR_MAX; y++) {
    const struct cal_year *cy = year_of(cal, y);
    for (size_t i = 0; cy && i < cy->n; i++) {
      const sp_cal_entry *e = &cy->entries[i];
      long z = days_from_civil(e->year, e->month, e->day);
      if (e->provisional && z > zf && z <= zt) {
        if (!count++)
          *first = e;
      }
    }
  }
  return count;
}

/* ---- the holiday file (format: docs/calendar.md) ---- */

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 when there is
 * none: overlongs, surrogates and code points past U+10FFFF are refused,
 * as jansson refuses them. */
static size_t utf8_seq(const unsigned char *s, size_t n) {
  unsigned c = s[0], cp, min;
  size_t len;
  if (c < 0x80)
    return 1;
  if (c >= 0xC2 && c <= 0xDF)
    len = 2, cp = c & 0x1F, min = 0x80;
  else if ((c & 0xF0) == 0xE0)
    len = 3, cp = c & 0x0F, min = 0x800;
  else if (c >= 0xF0 && c <= 0xF4)
    len = 4, cp = c & 0x07, min = 0x10000;
  else
    return 0;
  if (n < len)
    return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80)
      return 0;
    cp = cp << 6 | (s[i] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return len;
}

/* How much of a field a reason quotes: 40 bytes at most, never half a
 * character (the line is UTF-8 by then; reasons end up in JSON). */
static int quote_len(const char *s, size_t n) {
  if (n > 40) {
    n = 40;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
      n--;
  }
  return (int)n;
}

typedef struct field {
  const char *p;
  size_t n;
} field;

static int field_is(field f, const char *word) {
  return f.n == strlen(word) && !memcmp(f.p, word, f.n);
}

static field trim(const char *p, size_t n) {
  while (n && (*p == ' ' || *p == '\t'))
    p++, n--;
  while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
    n--;
  return (field){p, n};
}

/* A reason for line `line` of the file being parsed. */
typedef struct parse_ctx {
  const char *file;
  int line;
  char *errstr;
  size_t errlen;
} parse_ctx;

#define FAIL(ctx, fmt, ...)                                                  \
  (snprintf((ctx)->errstr, (ctx)->errlen, "%s:%d: " fmt, (ctx)->file,        \
            (ctx)->line, __VA_ARGS__),                                       \
   -1)

/* Refuses bytes that are not UTF-8 and control characters (tab aside). */
static int check_text(parse_ctx *c, const char *s, size_t n) {
  for (size_t i = 0; i < n;) {
    unsigned char b = (unsigned char)s[i];
    size_t k = utf8_seq((const unsigned char *)s + i, n - i);
    if (!k)
      return FAIL(c, "not UTF-8 (byte %zu of the line)", i + 1);
    if ((b < 0x20 && b != '\t') || b == 0x7F)
      return FAIL(c, "control character 0x%02X (byte %zu of the line)", b,
                  i + 1);
    i += k;
  }
  return 0;
}

static int digits(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] < '0' || s[i] > '9')
      return 0;
  return 1;
}

static int num(const char *s, size_t n) {
  int v = 0;
  for (size_t i = 0; i < n; i++)
    v = v * 10 + (s[i] - '0');
  return v;
}

static int parse_date(parse_ctx *c, field f, int year, sp_cal_entry *e) {
  if (f.n != 10 || f.p[4] != '-' || f.p[7] != '-' || !digits(f.p, 4) ||
      !digits(f.p + 5, 2) || !digits(f.p + 8, 2))
    return FAIL(c, "bad date \"%.*s\" (expected YYYY-MM-DD)",
                quote_len(f.p, f.n), f.p);
  e->year = num(f.p, 4);
  e->month = num(f.p + 5, 2);
  e->day = num(f.p + 8, 2);
  if (e->month < 1 || e->month > 12 || e->day < 1 ||
      e->day > days_in_month(e->year, e->month))
    return FAIL(c, "bad date \"%.*s\" (no such day)", (int)f.n, f.p);
  if (e->year != year)
    return FAIL(c, "date %.*s is not in %d, the year of this file",
                (int)f.n, f.p, year);
  return 0;
}

static int parse_kind(parse_ctx *c, field f, sp_cal_entry *e) {
  if (field_is(f, "holiday"))
    e->kind = SP_CAL_HOLIDAY;
  else if (field_is(f, "in-lieu"))
    e->kind = SP_CAL_IN_LIEU;
  else if (field_is(f, "make-up"))
    e->kind = SP_CAL_MAKE_UP;
  else
    return FAIL(c,
                "unknown kind \"%.*s\" (expected holiday, in-lieu or "
                "make-up)",
                quote_len(f.p, f.n), f.p);
  return 0;
}

static int copy_text(parse_ctx *c, field f, const char *what, char *out) {
  if (!f.n)
    return FAIL(c, "missing field: the %s is empty", what);
  if (f.n > SP_CAL_TEXT_MAX)
    return FAIL(c, "the %s is longer than %d bytes", what, SP_CAL_TEXT_MAX);
  memcpy(out, f.p, f.n);
  out[f.n] = '\0';
  return 0;
}

/* One entry line, already checked to be UTF-8 and trimmed, not a comment. */
static int parse_entry(parse_ctx *c, field line, int year, sp_cal_entry *e) {
  field f[6];
  int nf = 0;
  const char *p = line.p, *end = line.p + line.n;
  for (;;) {
    const char *bar = memchr(p, '|', (size_t)(end - p));
    const char *stop = bar ? bar : end;
    if (nf == 6)
      return FAIL(c, "%s", "too many fields: expected DATE | KIND | NAME | "
                           "SOURCE [| provisional]");
    f[nf++] = trim(p, (size_t)(stop - p));
    if (!bar)
      break;
    p = bar + 1;
  }
  if (nf < 4)
    return FAIL(c,
                "missing field: expected DATE | KIND | NAME | SOURCE "
                "[| provisional], found %d field%s",
                nf, nf == 1 ? "" : "s");
  if (nf > 5)
    return FAIL(c, "%s", "too many fields: expected DATE | KIND | NAME | "
                         "SOURCE [| provisional]");
  memset(e, 0, sizeof *e);
  e->line = c->line;
  if (parse_date(c, f[0], year, e) || parse_kind(c, f[1], e) ||
      copy_text(c, f[2], "name", e->name) ||
      copy_text(c, f[3], "source", e->source))
    return -1;
  if (nf == 5) {
    if (!field_is(f[4], "provisional"))
      return FAIL(c,
                  "unknown mark \"%.*s\" (the fifth field can only be "
                  "provisional)",
                  quote_len(f[4].p, f[4].n), f[4].p);
    e->provisional = 1;
  }
  int we = weekend(days_from_civil(e->year, e->month, e->day));
  if (e->kind == SP_CAL_MAKE_UP && !we)
    return FAIL(c, "%.10s is a make-up working day but not a Saturday or "
                   "Sunday", f[0].p);
  if (e->kind == SP_CAL_IN_LIEU && we)
    return FAIL(c, "%.10s is a day off in lieu but a Saturday or Sunday",
                f[0].p);
  return 0;
}

static int by_date(const void *a, const void *b) {
  const sp_cal_entry *x = a, *y = b;
  if (x->month != y->month)
    return x->month - y->month;
  return x->day - y->day;
}

int sp_cal_add_year(sp_cal *cal, const char *file, int year, const char *buf,
                    size_t len, char *errstr, size_t errlen) {
  if (year < SP_CAL_YEAR_MIN || year > SP_CAL_YEAR_MAX) {
    snprintf(errstr, errlen, "%s: year %d is outside %d-%d", file, year,
             SP_CAL_YEAR_MIN, SP_CAL_YEAR_MAX);
    return -1;
  }
  if (cal->years[year - SP_CAL_YEAR_MIN]) {
    snprintf(errstr, errlen, "%s: holiday data for %d is already loaded",
             file, year);
    return -1;
  }
  struct cal_year *cy = calloc(1, sizeof *cy);
  /* Dates are unique, so a year has at most 366 entries. */
  sp_cal_entry *ent = malloc(366 * sizeof *ent);
  int *lines = malloc(366 * sizeof *lines); /* by day: first line */
  if (!cy || !ent || !lines) {
    free(cy), free(ent), free(lines);
    snprintf(errstr, errlen, "%s: out of memory", file);
    return -1;
  }
  parse_ctx c = {file, 0, errstr, errlen};
  long jan1 = days_from_civil(year, 1, 1);
  size_t n = 0, pos = 0;
  /* A byte order mark some editors write is no content. */
  if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3))
    pos = 3;
  int rc = 0;
  while (pos < len && !rc) {
    const char *nl = memchr(buf + pos, '\n', len - pos);
    size_t n_line = (nl ? (size_t)(nl - buf) : len) - pos;
    const char *s = buf + pos;
    pos += n_line + (nl != NULL);
    c.line++;
    if (n_line && s[n_line - 1] == '\r') /* CRLF */
      n_line--;
    if ((rc = check_text(&c, s, n_line)))
      break;
    field line = trim(s, n_line);
    if (!line.n || line.p[0] == '#')
      continue;
    sp_cal_entry *e = &ent[n];
    if ((rc = parse_entry(&c, line, year, e)))
      break;
    long doy = days_from_civil(e->year, e->month, e->day) - jan1;
    if (cy->kind[doy]) {
      rc = FAIL(&c, "%04d-%02d-%02d is listed twice (first on line %d)",
                e->year, e->month, e->day, lines[doy]);
      break;
    }
    cy->kind[doy] = (unsigned char)e->kind;
    lines[doy] = c.line;
    n++;
  }
  if (!rc && !n) {
    snprintf(errstr, errlen,
             "%s: no entries (every year has public holidays: is the file "
             "complete?)",
             file);
    rc = -1;
  }
  free(lines);
  if (rc) {
    free(ent);
    free(cy);
    return -1;
  }
  qsort(ent, n, sizeof *ent, by_date);
  cy->entries = ent;
  cy->n = n;
  cal->years[year - SP_CAL_YEAR_MIN] = cy;
  return 0;
}

/* ---- loading a folder: the only I/O here ---- */

static int year_file(const struct dirent *de) {
  const char *s = de->d_name;
  return strlen(s) == 8 && digits(s, 4) && !strcmp(s + 4, ".txt");
}

static char *read_file(const char *path, size_t *len, char *errstr,
                       size_t errlen) {
  FILE *fp = fopen(path, "rb");
  if (!fp) {
    snprintf(errstr, errlen, "cannot open %s: %s", path, strerror(errno));
    return NULL;
  }
  char *buf = malloc(SP_CAL_FILE_MAX + 1);
  size_t n = buf ? fread(buf, 1, SP_CAL_FILE_MAX + 1, fp) : 0;
  int bad = !buf || ferror(fp);
  fclose(fp);
  if (bad || n > SP_CAL_FILE_MAX) {
    if (bad)
      snprintf(errstr, errlen, "cannot read %s", path);
    else
      snprintf(errstr, errlen, "%s is larger than %d bytes", path,
               SP_CAL_FILE_MAX);
    free(buf);
    return NULL;
  }
  *len = n;
  return buf;
}

int sp_cal_load_dir(const char *dir, sp_cal **out, char *errstr,
                    size_t errlen) {
  struct dirent **names;
  int nn = scandir(dir, &names, year_file, alphasort);
  if (nn < 0) {
    snprintf(errstr, errlen, "cannot open the holiday folder %s: %s", dir,
             strerror(errno));
    return -1;
  }
  sp_cal *cal = sp_cal_new();
  int rc = cal && (cal->dir = strdup(dir)) ? 0 : -1;
  if (rc)
    snprintf(errstr, errlen, "out of memory");
  for (int i = 0; i < nn; i++) {
    char path[4096];
    size_t len;
    char *buf = NULL;
    if (!rc && snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name) >=
                   (int)sizeof path) {
      snprintf(errstr, errlen, "holiday folder path too long: %s", dir);
      rc = -1;
    }
    if (!rc && !(buf = read_file(path, &len, errstr, errlen)))
      rc = -1;
    if (!rc)
      rc = sp_cal_add_year(cal, path, atoi(names[i]->d_name), buf, len,
                           errstr, errlen);
    free(buf);
    free(names[i]);
  }
  free(names);
  int first = 0, last = 0;
  if (!rc && !sp_cal_years(cal, &first, &last)) {
    snprintf(errstr, errlen, "no holiday data in %s (files named YYYY.txt)",
             dir);
    rc = -1;
  }
  /* Counting runs through every year between, so a gap is refused now
   * rather than when a deadline first crosses it. */
  for (int y = first; !rc && y <= last; y++)
    if (!cal->years[y - SP_CAL_YEAR_MIN]) {
      no_data(cal, y, errstr, errlen);
      rc = -1;
    }
  if (rc) {
    sp_cal_free(cal);
    return -1;
  }
  *out = cal;
  return 0;
}

/* ---- times, as the CLI and the notifier read and write them ---- */

int sp_cal_parse_time(const char *s, time_t *out, char *errstr,
                      size_t errlen) {
  size_t n = strlen(s), i = 16;
  int q = quote_len(s, n);
  /* YYYY-MM-DDTHH:MM */
  if (n < 16 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) ||
      s[7] != '-' || !digits(s + 8, 2) || (s[10] != 'T' && s[10] != 't') ||
      !digits(s + 11, 2) || s[13] != ':' || !digits(s + 14, 2))
    goto bad;
  int y = num(s, 4), mo = num(s + 5, 2), d = num(s + 8, 2);
  int h = num(s + 11, 2), mi = num(s + 14, 2), sec = 0;
  if (s[i] == ':') {
    if (n < i + 3 || !digits(s + i + 1, 2))
      goto bad;
    sec = num(s + i + 1, 2);
    i += 3;
    if (s[i] == '.') {
      size_t k = 0;
      while (s[i + 1 + k] >= '0' && s[i + 1 + k] <= '9')
        k++;
      if (!k || k > 9)
        goto bad;
      i += 1 + k; /* a fraction never moves the second */
    }
  }
  long offset = SP_CAL_UTC_OFFSET;
  if (s[i] == 'Z' || s[i] == 'z') {
    offset = 0;
    i++;
  } else if (s[i] == '+' || s[i] == '-') {
    if (n < i + 6 || !digits(s + i + 1, 2) || s[i + 3] != ':' ||
        !digits(s + i + 4, 2) || num(s + i + 1, 2) > 23 ||
        num(s + i + 4, 2) > 59)
      goto bad;
    offset = (num(s + i + 1, 2) * 3600L + num(s + i + 4, 2) * 60L) *
             (s[i] == '-' ? -1 : 1);
    i += 6;
  }
  if (i != n)
    goto bad;
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
      h > 23 || mi > 59 || sec > 59) {
    snprintf(errstr, errlen, "\"%.*s\": no such date or time", q, s);
    return -1;
  }
  *out = (time_t)days_from_civil(y, mo, d) * 86400 + h * 3600L + mi * 60L +
         sec - offset;
  return 0;
bad:
  snprintf(errstr, errlen,
           "\"%.*s\" is not a date and time: expected YYYY-MM-DDTHH:MM "
           "(Vietnamese time) or ISO 8601 with an offset, e.g. "
           "2026-02-13T10:00:00+07:00",
           q, s);
  return -1;
}

void sp_cal_format_time(time_t t, char out[SP_CAL_TIME_LEN + 1]) {
  long z = local_day(t), y;
  int m, d;
  long long sec = t % 86400;
  sec = (sec + SP_CAL_UTC_OFFSET + 86400) % 86400;
  civil_from_days(z, &y, &m, &d);
  char buf[64];
  snprintf(buf, sizeof buf, "%04ld-%02d-%02dT%02d:%02d:%02d+07:00", y, m, d,
           (int)(sec / 3600), (int)(sec / 60 % 60), (int)(sec % 60));
  memcpy(out, buf, SP_CAL_TIME_LEN);
  out[SP_CAL_TIME_LEN] = '\0';
}
