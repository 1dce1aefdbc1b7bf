/* calendar.h - Vietnamese working days and the deadlines counted in them.
 *
 * A working day is Monday to Friday in Asia/Ho_Chi_Minh (UTC+7, no DST),
 * minus the public holidays and the days off in lieu, plus the weekend days
 * the government declares working days in exchange (ngày làm bù). The
 * holidays are data, one file per year (data/holidays/YYYY.txt, format in
 * docs/calendar.md); a year without a file is never guessed: every function
 * that would look at one of its days fails with "no holiday data for YYYY".
 *
 * Everything here is pure (no clock, no TZ variable, no locale) except
 * sp_cal_load_dir, which reads the files. Errors: -1 with a reason in
 * errstr, as everywhere in common/. */
#ifndef SIMPKI_CALENDAR_H
#define SIMPKI_CALENDAR_H

#include <stddef.h>
#include <time.h>

/* Vietnam's offset from UTC, all year. */
#define SP_CAL_UTC_OFFSET (7 * 3600)
/* Years a holiday file may cover. */
#define SP_CAL_YEAR_MIN 2000
#define SP_CAL_YEAR_MAX 2199
/* Longest name or source of an entry, in bytes (UTF-8). */
#define SP_CAL_TEXT_MAX 200
/* Largest holiday file sp_cal_load_dir reads. */
#define SP_CAL_FILE_MAX (64 * 1024)
/* Most working days one deadline may count (about 40 years). */
#define SP_CAL_MAX_WORKING_DAYS 10000
/* "2026-02-25T23:59:59+07:00" */
#define SP_CAL_TIME_LEN 25

typedef enum {
  SP_CAL_HOLIDAY = 1, /* a public holiday (not worked, whatever the weekday) */
  SP_CAL_IN_LIEU,     /* a day off in lieu (nghỉ bù), Monday to Friday */
  SP_CAL_MAKE_UP      /* a make-up working day (làm bù), Saturday or Sunday */
} sp_cal_kind;

typedef struct sp_cal_entry {
  int year, month, day;
  sp_cal_kind kind;
  int provisional; /* not yet officially announced: to be checked */
  int line;        /* where it stands in its file */
  char name[SP_CAL_TEXT_MAX + 1];
  char source[SP_CAL_TEXT_MAX + 1];
} sp_cal_entry;

typedef struct sp_cal sp_cal;

/* An empty calendar: it knows no year yet. NULL when out of memory. */
sp_cal *sp_cal_new(void);
void sp_cal_free(sp_cal *cal);

/* Parses one year's file (buf, len bytes; need not be NUL-terminated) and
 * adds the year, all or nothing. file names the file in reasons, which
 * read "FILE:LINE: what is wrong" (the line counts from 1). Refuses a bad
 * date, a date outside year, an unknown kind, a date listed twice, a
 * missing or extra field, a line that is not UTF-8, a make-up day that is
 * not a weekend day or a day off in lieu that is, a file with no entry,
 * and a year already added. */
int sp_cal_add_year(sp_cal *cal, const char *file, int year, const char *buf,
                    size_t len, char *errstr, size_t errlen);

/* Loads every DIR/YYYY.txt (other names are ignored) into a new calendar.
 * Refuses a folder with no such file, a file it cannot read or that is
 * refused by sp_cal_add_year, and a gap: a year missing between the first
 * and the last file ("no holiday data for 2027"). */
int sp_cal_load_dir(const char *dir, sp_cal **out, char *errstr,
                    size_t errlen);

/* The first and last year the calendar knows; 0 when it knows none. */
int sp_cal_years(const sp_cal *cal, int *first, int *last);
/* The entries of a year, in date order (*out NULL and 0 for an unknown
 * year). */
size_t sp_cal_entries(const sp_cal *cal, int year, const sp_cal_entry **out);

/* 1 when the local date y-m-d is a working day, 0 when it is not, -1 with
 * errstr for an invalid date or a year without data. */
int sp_cal_is_working_day(const sp_cal *cal, int y, int m, int d,
                          char *errstr, size_t errlen);

/* The deadline of a period of working_days working days (Civil Code 2015,
 * art. 147): counting starts on the local day after received_at, and the
 * deadline is the end (23:59:59 local) of the last working day counted.
 * Received on Friday 2026-02-13 at 10:00, 3 working days run out at
 * 2026-02-25T23:59:59+07:00 (the weekend and the Tết days do not count).
 * With 0 working days the deadline is the end of the day of receipt.
 * Every day looked at, the day of receipt included, must be in a year with
 * data. working_days is 0 to SP_CAL_MAX_WORKING_DAYS. */
int sp_cal_deadline(const sp_cal *cal, time_t received_at, int working_days,
                    time_t *out, char *errstr, size_t errlen);

/* The working days left before deadline as seen at now: the working days
 * from now's local day (included) to deadline's local day (included). So on
 * the last working day before its end it is 1, the day before that 2, and
 * once the deadline has passed 0. */
int sp_cal_working_days_left(const sp_cal *cal, time_t now, time_t deadline,
                             int *out, char *errstr, size_t errlen);

/* The provisional entries dated after from's local day up to to's local day
 * (the days a deadline from..to counted): their number, and the first in
 * *first (NULL when none). */
size_t sp_cal_provisional_between(const sp_cal *cal, time_t from, time_t to,
                                  const sp_cal_entry **first);

/* "YYYY-MM-DDTHH:MM[:SS[.fraction]]" alone is Vietnamese local time; with
 * "Z" or "+HH:MM"/"-HH:MM" after it, it is that offset's time (ISO 8601 /
 * RFC 3339). Nothing else is accepted. */
int sp_cal_parse_time(const char *s, time_t *out, char *errstr,
                      size_t errlen);
/* t in Vietnamese local time, "2026-02-25T23:59:59+07:00"; out has
 * SP_CAL_TIME_LEN + 1 bytes. */
void sp_cal_format_time(time_t t, char out[SP_CAL_TIME_LEN + 1]);

#endif
