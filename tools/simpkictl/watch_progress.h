/* watch_progress.h - the progress file of `simpkictl watch`: another
 * process (a deploy or test script) appends one line per update,
 *
 *   EPOCH_MS <TAB> STEP <TAB> STATE <TAB> TEXT
 *
 * EPOCH_MS is wall-clock milliseconds, STEP any key of up to 31 bytes
 * without tabs or control characters ("B4", "B3 pilot"), STATE run, ok,
 * fail or info, TEXT the rest of the line. The table keeps one row per
 * STEP, in the order the steps first appeared, with the latest state and
 * text and how long it ran: from its first `run` to its `ok`/`fail`, or to
 * now while it has not ended. Garbage lines are skipped, never fatal: the
 * writer may be a shell script. */
#ifndef SIMPKICTL_WATCH_PROGRESS_H
#define SIMPKICTL_WATCH_PROGRESS_H

#include <stddef.h>
#include <sys/types.h>

#define WP_STEP_MAX 32   /* bytes of a STEP key, NUL included */
#define WP_TEXT_MAX 240  /* bytes of TEXT kept, NUL included */
#define WP_LINE_MAX 4096 /* longer lines are garbage */
#define WP_ROWS_MAX 256  /* further new STEP keys are dropped */

typedef enum { WP_RUN, WP_OK, WP_FAIL, WP_INFO } wp_state;

typedef struct wp_line {
  long long ms;
  char step[WP_STEP_MAX];
  wp_state state;
  char text[WP_TEXT_MAX]; /* control characters replaced by spaces */
} wp_line;

/* One line without its '\n' (a trailing '\r' is dropped). 0, or -1 when it
 * is not a progress line. */
int wp_parse_line(const char *line, size_t len, wp_line *out);
const char *wp_state_name(wp_state s);

typedef struct wp_row {
  char step[WP_STEP_MAX];
  wp_state state;
  char text[WP_TEXT_MAX];
  long long run_ms; /* first `run`, 0 when none */
  long long end_ms; /* `ok`/`fail` after it, 0 while running */
  long long last_ms;
} wp_row;

typedef struct wp_table {
  wp_row *rows;
  size_t n;
  unsigned long garbage; /* lines skipped */
} wp_table;

void wp_table_free(wp_table *t);
/* 0, or -1 when the row limit or memory ran out (the line is dropped). */
int wp_table_apply(wp_table *t, const wp_line *l);
/* How long the row ran, in ms, up to now_ms while it runs; -1 when it
 * never ran. */
long long wp_row_elapsed(const wp_row *r, long long now_ms);

/* Following the file as it grows. */
typedef struct wp_tail {
  const char *path;
  off_t offset;  /* bytes consumed */
  ino_t ino;     /* a new file under the same name starts over */
  char *partial; /* an incomplete last line, kept for the next read */
  size_t npartial;
  int overlong; /* discarding a line longer than WP_LINE_MAX */
} wp_tail;

typedef void (*wp_line_fn)(void *arg, const char *line, size_t len);

/* Read what was appended since the last call and hand each complete line
 * to fn. A missing file is not an error (nothing yet). A file that shrank
 * or was replaced is read again from its start. 0, or -1 with errstr on a
 * read error. */
int wp_tail_read(wp_tail *t, wp_line_fn fn, void *arg, char *errstr,
                 size_t errlen);
void wp_tail_free(wp_tail *t);

#endif
