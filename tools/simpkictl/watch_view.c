/* watch_view.c - the layout of `simpkictl watch`, at most 80 columns.
 *
 * Text from outside (subjects, progress texts, labels) is UTF-8 and is cut
 * and padded by characters, not bytes, with control characters replaced:
 * a subject carrying an escape sequence must not drive the terminal. */
#include "watch_view.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WIDTH 80

/* Columns a UTF-8 string takes, approximated by code points less the
 * combining marks (U+0300-U+036F, which Vietnamese may use). */
static int is_combining(const unsigned char *p) {
  /* U+0300..U+036F: CC 80..CD AF */
  return (p[0] == 0xCC && p[1] >= 0x80) ||
         (p[0] == 0xCD && p[1] <= 0xAF && p[1] >= 0x80);
}

static size_t seq_len(unsigned char c) {
  return c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
}

/* Write s in at most cols columns, then pad with spaces to pad columns
 * (0: no padding). Returns the columns written. */
static int put_cols(FILE *out, const char *s, int cols, int pad) {
  const unsigned char *p = (const unsigned char *)(s ? s : "");
  int used = 0;
  while (*p) {
    size_t n = seq_len(*p);
    for (size_t i = 1; i < n; i++)
      if ((p[i] & 0xC0) != 0x80) {
        n = 1; /* broken sequence: shown as '?' */
        break;
      }
    int combining = n == 2 && is_combining(p);
    if (!combining && used >= cols)
      break;
    /* C1 controls (U+0080-U+009F) act like escapes on some terminals. */
    int c1 = n == 2 && p[0] == 0xC2 && p[1] < 0xA0;
    if (n == 1 && (*p < ' ' || *p == 0x7f))
      fputc(' ', out);
    else if ((n == 1 && *p >= 0x80) || c1)
      fputc('?', out);
    else
      fwrite(p, 1, n, out);
    if (!combining)
      used++;
    p += n;
  }
  for (int i = used; i < pad; i++)
    fputc(' ', out);
  return used > pad ? used : pad;
}

static void hhmmss(long long ms, char out[9]) {
  if (ms <= 0) {
    memcpy(out, "--:--:--", 9);
    return;
  }
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  localtime_r(&t, &tm);
  strftime(out, 9, "%H:%M:%S", &tm);
}

static void duration(long long ms, char *out, size_t len) {
  if (ms < 0)
    snprintf(out, len, "-");
  else if (ms < 60000)
    snprintf(out, len, "%.1fs", (double)ms / 1000);
  else if (ms < 3600000)
    snprintf(out, len, "%lldm%02llds", ms / 60000, ms / 1000 % 60);
  else
    snprintf(out, len, "%lldh%02lldm", ms / 3600000, ms / 60000 % 60);
}

static const char *step_code(int step) {
  const sp_flow_step *s = sp_flow_step_at(step);
  return s ? s->code : "-";
}

/* One screen line: its text is cut at WIDTH by the caller's put_cols. */
static void eol(FILE *out, int screen) {
  fputs(screen ? "\033[K\n" : "\n", out);
}

static void heading(FILE *out, const char *title, int screen) {
  fputs("── ", out);
  int n = put_cols(out, title, WIDTH, 0);
  fputc(' ', out);
  for (int i = n + 4; i < WIDTH; i++)
    fputs("─", out);
  eol(out, screen);
}

static void progress_row(FILE *out, const wp_row *r, long long now,
                         int screen) {
  char el[48];
  duration(wp_row_elapsed(r, now), el, sizeof el);
  fputc(' ', out);
  put_cols(out, r->step, 14, 14);
  fprintf(out, " %-4s %8s  ", wp_state_name(r->state), el);
  put_cols(out, r->text, WIDTH - 31, 0);
  eol(out, screen);
}

static void states_lines(FILE *out, const wv_status *s, int screen) {
  if (s->db_error && s->db_error[0]) {
    /* Cut on the screen only: a log or a file keeps the whole reason. */
    fputs(" database: ", out);
    put_cols(out, s->db_error, screen ? WIDTH - 11 : 1 << 20, 0);
    eol(out, screen);
    if (!s->nstates)
      return;
  }
  /* "name count" pairs, wrapped at WIDTH. */
  int col = 0;
  for (size_t i = 0; i < s->nstates; i++) {
    char cell[64];
    snprintf(cell, sizeof cell, " %s %lld", s->states[i].name,
             s->states[i].count);
    int w = (int)strlen(cell) + 1;
    if (col && col + w > WIDTH) {
      eol(out, screen);
      col = 0;
    }
    col += put_cols(out, cell, WIDTH, 0);
    if (i + 1 < s->nstates) {
      fputc(' ', out);
      col++;
    }
  }
  if (!s->nstates)
    fputs(" (no SIMs)", out);
  eol(out, screen);
}

/* All steps, or (compact, for a short terminal) only those with events
 * and one line naming the others. */
static void steps_table(FILE *out, const sp_flow *f, int compact, int screen) {
  fprintf(out, " %-4s %7s %9s %-8s  %s", "step", "events", "SIMs", "last",
          "bước (step)");
  eol(out, screen);
  char idle[WIDTH * 2] = "";
  for (int i = 0; i < sp_flow_step_count(); i++) {
    const sp_flow_step *st = sp_flow_step_at(i);
    const sp_flow_counts *c = &f->step[i];
    if (compact && !c->events) {
      size_t n = strlen(idle);
      snprintf(idle + n, sizeof idle - n, " %s", st->code);
      continue;
    }
    char last[9], label[128];
    hhmmss(c->events ? c->last_ms : 0, last);
    if (!c->events)
      memcpy(last, "        ", 9);
    snprintf(label, sizeof label, "%s (%s)", st->label, st->term);
    fprintf(out, " %-4s %7lu %9lld %s  ", st->code, c->events, c->sims, last);
    put_cols(out, label, WIDTH - 34, 0);
    eol(out, screen);
  }
  if (compact) {
    fputs(" no events:", out);
    put_cols(out, idle, WIDTH - 11, 0);
    eol(out, screen);
  }
}

static int active_steps(const sp_flow *f) {
  int n = 0;
  for (int i = 0; i < sp_flow_step_count(); i++)
    n += f->step[i].events > 0;
  return n;
}

static void recent_rows(FILE *out, const sp_flow *f, size_t max, int screen) {
  size_t n = f->nrecent < max ? f->nrecent : max;
  for (size_t i = f->nrecent - n; i < f->nrecent; i++) {
    const sp_flow_recent *r = sp_flow_recent_at(f, i);
    char t[9];
    hhmmss(r->time_ms, t);
    fprintf(out, " %s %-4s ", t, step_code(r->step));
    int used = 15 + put_cols(out, r->type, 25, 25);
    fputc(' ', out);
    put_cols(out, r->subject, WIDTH - used - 1, 0);
    eol(out, screen);
  }
  if (!f->nrecent) {
    fputs(" (none yet)", out);
    eol(out, screen);
  }
}

/* The progress section with at most max rows (the latest ones). */
static void progress_section(FILE *out, const wv_status *s, size_t max) {
  const wp_table *t = s->progress;
  size_t show = t->n < max ? t->n : max;
  heading(out, "Tiến trình (progress)", 1);
  if (show < t->n) {
    fprintf(out, " (%zu earlier step(s) not shown)", t->n - show);
    eol(out, 1);
  }
  for (size_t i = t->n - show; i < t->n; i++)
    progress_row(out, &t->rows[i], s->now_ms, 1);
  if (!t->n) {
    fputs(" (nothing yet)", out);
    eol(out, 1);
  }
  if (s->progress_error && s->progress_error[0]) {
    fputc(' ', out);
    put_cols(out, s->progress_error, WIDTH - 1, 0);
    eol(out, 1);
  }
}

static void header_lines(FILE *out, const wv_status *s) {
  char now[9];
  hhmmss(s->now_ms, now);
  char head[200], unreadable[40] = "";
  if (s->unreadable)
    snprintf(unreadable, sizeof unreadable, ", %lu unreadable", s->unreadable);
  snprintf(head, sizeof head,
           "simpki watch %s  %lu event(s)%s  topics %zu/%zu, %zu "
           "partition(s)",
           now, s->flow->events + s->flow->ignored, unreadable, s->topics_found,
           s->topics_wanted, s->partitions);
  put_cols(out, head, WIDTH, 0);
  eol(out, 1);
  if (s->kafka_error && s->kafka_error[0]) {
    fputs("Kafka: ", out);
    put_cols(out, s->kafka_error, WIDTH - 7, 0);
    eol(out, 1);
  }
  if (s->until_note && s->until_note[0]) {
    put_cols(out, s->until_note, WIDTH, 0);
    eol(out, 1);
  }
}

static int count_lines(const char *buf, size_t len) {
  int n = 0;
  for (size_t i = 0; i < len; i++)
    n += buf[i] == '\n';
  return n;
}

/* Renders one section into memory, to know its height before placing. */
typedef struct section {
  char *buf;
  size_t len;
  int lines;
} section;

static void section_end(section *sec, FILE *fp) {
  if (fp && fclose(fp) == 0)
    sec->lines = count_lines(sec->buf, sec->len);
}

void wv_draw_screen(FILE *out, const wv_status *s) {
  section head = {0}, states = {0};
  FILE *fp = open_memstream(&head.buf, &head.len);
  if (fp)
    header_lines(fp, s);
  section_end(&head, fp);
  if (s->db_enabled && (fp = open_memstream(&states.buf, &states.len))) {
    heading(fp, "SIM theo trạng thái (SIMs by state)", 1);
    states_lines(fp, s, 1);
    section_end(&states, fp);
  }

  /* On a short terminal, room goes first to the header, the SIM states and
   * the steps (all of them if they fit, else those with events), then at
   * least three of the last events; the progress rows and more events
   * share the rest. The last line stays free so that nothing scrolls. */
  int nrecent = s->flow->nrecent ? (int)s->flow->nrecent : 1;
  int nprog = s->progress ? (int)(s->progress->n ? s->progress->n : 1) : 0;
  int prog_extra = s->progress ? 1 + (s->progress_error[0] != 0) : 0;
  int steps_full = 1 + 1 + sp_flow_step_count();
  int steps_compact = 1 + 1 + active_steps(s->flow) + 1;
  int budget = s->rows > 0 ? s->rows - 1 : 1 << 20;
  int fixed = head.lines + states.lines + 1 + s->final;
  int min_recent = nrecent < 3 ? nrecent : 3;
  int min_prog = nprog < 3 ? nprog : 3;
  int compact =
      fixed + steps_full + prog_extra + min_prog + min_recent > budget;
  int left = budget - fixed - (compact ? steps_compact : steps_full);
  int prog_rows = 0;
  if (s->progress) {
    left -= prog_extra + 1; /* a possible "earlier steps" line */
    prog_rows = left - min_recent;
    if (prog_rows > nprog)
      prog_rows = nprog;
    if (prog_rows < 1)
      prog_rows = 1;
    left -= prog_rows;
  }
  int recent_rows_n = left < 1 ? 1 : left > nrecent ? nrecent : left;

  char *frame = NULL;
  size_t frame_len = 0;
  if (!(fp = open_memstream(&frame, &frame_len))) {
    free(head.buf);
    free(states.buf);
    return;
  }
  fwrite(head.buf, 1, head.len, fp);
  if (s->progress)
    progress_section(fp, s, (size_t)prog_rows);
  fwrite(states.buf, 1, states.len, fp);
  heading(fp, "Các bước (steps)", 1);
  steps_table(fp, s->flow, compact, 1);
  heading(fp, "Sự kiện gần nhất (last events)", 1);
  recent_rows(fp, s->flow, (size_t)recent_rows_n, 1);
  if (s->final) {
    fputs("(final)", fp);
    eol(fp, 1);
  }
  fclose(fp);

  /* Whatever the plan missed, never more lines than the terminal has. */
  size_t cut = frame_len;
  int lines = 0;
  for (size_t i = 0; i < frame_len; i++)
    if (frame[i] == '\n' && ++lines == budget) {
      cut = i + 1;
      break;
    }
  fputs("\033[H", out);
  fwrite(frame, 1, cut, out);
  fputs("\033[J", out);
  free(frame);
  free(head.buf);
  free(states.buf);
}

void wv_print_event(FILE *out, long long time_ms, int step, const char *type,
                    const char *subject) {
  char t[9];
  hhmmss(time_ms, t);
  fprintf(out, "%s %-4s ", t, step_code(step));
  put_cols(out, type, 128, 0);
  fputc(' ', out);
  put_cols(out, subject, 256, 0);
  fputc('\n', out);
}

void wv_print_progress(FILE *out, const wp_line *l) {
  char t[9];
  hhmmss(l->ms, t);
  fprintf(out, "%s [", t);
  put_cols(out, l->step, WP_STEP_MAX, 0);
  fprintf(out, "] %s ", wp_state_name(l->state));
  put_cols(out, l->text, WP_TEXT_MAX, 0);
  fputc('\n', out);
}

void wv_print_summary(FILE *out, const wv_status *s) {
  fputs("\n", out);
  if (s->progress && s->progress->n) {
    heading(out, "Tiến trình (progress)", 0);
    for (size_t i = 0; i < s->progress->n; i++)
      progress_row(out, &s->progress->rows[i], s->now_ms, 0);
  }
  if (s->db_enabled) {
    heading(out, "SIM theo trạng thái (SIMs by state)", 0);
    states_lines(out, s, 0);
  }
  heading(out, "Các bước (steps)", 0);
  steps_table(out, s->flow, 0, 0);
  fprintf(out,
          "total %lu event(s) in steps, %lu without a step, %lu "
          "unreadable message(s)",
          s->flow->events, s->flow->ignored, s->unreadable);
  if (s->progress)
    fprintf(out, ", %lu garbage progress line(s)", s->progress->garbage);
  fputc('\n', out);
}
