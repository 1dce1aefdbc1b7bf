/* watch_progress.c - parse progress lines, keep one row per step, follow
 * the file as it grows. */
#include "watch_progress.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const state_names[] = {
    [WP_RUN] = "run", [WP_OK] = "ok", [WP_FAIL] = "fail", [WP_INFO] = "info"};

const char *wp_state_name(wp_state s) {
  return (unsigned)s <= WP_INFO ? state_names[s] : "?";
}

/* The next tab-separated field of [*p, end); NULL when no tab follows. */
static const char *field(const char **p, const char *end, size_t *len) {
  const char *start = *p;
  const char *tab = memchr(start, '\t', (size_t)(end - start));
  if (!tab)
    return NULL;
  *len = (size_t)(tab - start);
  *p = tab + 1;
  return start;
}

int wp_parse_line(const char *line, size_t len, wp_line *out) {
  if (len && line[len - 1] == '\r')
    len--;
  const char *p = line, *end = line + len;
  size_t n;
  const char *f = field(&p, end, &n);
  if (!f || n == 0 || n > 15)
    return -1;
  long long ms = 0;
  for (size_t i = 0; i < n; i++) {
    if (f[i] < '0' || f[i] > '9')
      return -1;
    ms = ms * 10 + (f[i] - '0');
  }
  const char *step = field(&p, end, &n);
  if (!step || n == 0 || n >= WP_STEP_MAX)
    return -1;
  /* Spaces are fine ("B3 pilot"); controls and blank keys are not. */
  int blank = 1;
  for (size_t i = 0; i < n; i++) {
    if ((unsigned char)step[i] < ' ' || step[i] == 0x7f)
      return -1;
    blank &= step[i] == ' ';
  }
  if (blank)
    return -1;
  size_t step_len = n;
  const char *st = field(&p, end, &n);
  if (!st)
    return -1;
  int state = -1;
  for (int i = WP_RUN; i <= WP_INFO; i++)
    if (strlen(state_names[i]) == n && !memcmp(st, state_names[i], n))
      state = i;
  if (state < 0)
    return -1;

  memset(out, 0, sizeof *out);
  out->ms = ms;
  memcpy(out->step, step, step_len);
  out->state = (wp_state)state;
  /* TEXT is the rest, tabs included. Controls (an escape sequence in a
   * message would redraw the operator's terminal) become spaces; a cut
   * UTF-8 sequence at the end is dropped whole. */
  size_t tn = (size_t)(end - p);
  if (tn >= WP_TEXT_MAX) {
    tn = WP_TEXT_MAX - 1;
    while (tn > 0 && ((unsigned char)p[tn] & 0xC0) == 0x80)
      tn--;
  }
  for (size_t i = 0; i < tn; i++) {
    unsigned char c = (unsigned char)p[i];
    out->text[i] = c < ' ' || c == 0x7f ? ' ' : (char)c;
  }
  return 0;
}

void wp_table_free(wp_table *t) {
  free(t->rows);
  memset(t, 0, sizeof *t);
}

int wp_table_apply(wp_table *t, const wp_line *l) {
  wp_row *r = NULL;
  for (size_t i = 0; i < t->n && !r; i++)
    if (!strcmp(t->rows[i].step, l->step))
      r = &t->rows[i];
  if (!r) {
    if (t->n == WP_ROWS_MAX)
      return -1;
    wp_row *nr = realloc(t->rows, (t->n + 1) * sizeof *nr);
    if (!nr)
      return -1;
    t->rows = nr;
    r = &t->rows[t->n++];
    memset(r, 0, sizeof *r);
    snprintf(r->step, sizeof r->step, "%s", l->step);
  }
  r->state = l->state;
  snprintf(r->text, sizeof r->text, "%s", l->text);
  r->last_ms = l->ms;
  if (l->state == WP_RUN) {
    if (!r->run_ms)
      r->run_ms = l->ms ? l->ms : 1;
    r->end_ms = 0; /* running (again) */
  } else if ((l->state == WP_OK || l->state == WP_FAIL) && r->run_ms) {
    r->end_ms = l->ms > r->run_ms ? l->ms : r->run_ms;
  }
  return 0;
}

long long wp_row_elapsed(const wp_row *r, long long now_ms) {
  if (!r->run_ms)
    return -1;
  long long end = r->end_ms ? r->end_ms : now_ms;
  return end > r->run_ms ? end - r->run_ms : 0;
}

void wp_tail_free(wp_tail *t) {
  free(t->partial);
  t->partial = NULL;
  t->npartial = 0;
}

static void restart(wp_tail *t) {
  t->offset = 0;
  t->npartial = 0;
  t->overlong = 0;
}

/* Split buf into lines; the tail without '\n' waits in t->partial. */
static void feed(wp_tail *t, const char *buf, size_t n, wp_line_fn fn,
                 void *arg) {
  while (n) {
    const char *nl = memchr(buf, '\n', n);
    size_t chunk = nl ? (size_t)(nl - buf) : n;
    if (!t->overlong) {
      if (t->npartial + chunk > WP_LINE_MAX) {
        t->overlong = 1; /* garbage: drop up to the next '\n' */
        t->npartial = 0;
      } else {
        memcpy(t->partial + t->npartial, buf, chunk);
        t->npartial += chunk;
      }
    }
    if (!nl)
      return;
    if (!t->overlong)
      fn(arg, t->partial, t->npartial);
    else
      fn(arg, "", 0); /* counted as garbage by the caller's parse */
    t->npartial = 0;
    t->overlong = 0;
    buf = nl + 1;
    n -= chunk + 1;
  }
}

int wp_tail_read(wp_tail *t, wp_line_fn fn, void *arg, char *errstr,
                 size_t errlen) {
  if (!t->partial && !(t->partial = malloc(WP_LINE_MAX))) {
    snprintf(errstr, errlen, "out of memory");
    return -1;
  }
  int fd = open(t->path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT)
      return 0;
    snprintf(errstr, errlen, "cannot open %s: %s", t->path, strerror(errno));
    return -1;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    snprintf(errstr, errlen, "cannot stat %s: %s", t->path, strerror(errno));
    close(fd);
    return -1;
  }
  if (st.st_ino != t->ino || st.st_size < t->offset) {
    if (t->ino || t->offset)
      restart(t);
    t->ino = st.st_ino;
  }
  char buf[8192];
  int rc = 0;
  for (;;) {
    ssize_t got = pread(fd, buf, sizeof buf, t->offset);
    if (got < 0) {
      if (errno == EINTR)
        continue;
      snprintf(errstr, errlen, "cannot read %s: %s", t->path, strerror(errno));
      rc = -1;
      break;
    }
    if (got == 0)
      break;
    t->offset += got;
    feed(t, buf, (size_t)got, fn, arg);
  }
  close(fd);
  return rc;
}
