/* watch_view.h - what `simpkictl watch` prints: the whole screen on a
 * terminal, or one line per event / progress line and a final summary.
 * Only formatting; the caller gathers the numbers. */
#ifndef SIMPKICTL_WATCH_VIEW_H
#define SIMPKICTL_WATCH_VIEW_H

#include <stdio.h>

#include "flow.h"
#include "watch_progress.h"

#define WV_STATES_MAX 24

typedef struct wv_sim_state {
  char name[32];
  long long count;
} wv_sim_state;

typedef struct wv_status {
  const sp_flow *flow;
  const wp_table *progress;   /* NULL without --progress */
  const char *progress_error; /* "" when fine */
  int db_enabled;             /* SIMPKI_DB_URL set */
  const char *db_error;       /* "" when the counts below are current */
  const wv_sim_state *states;
  size_t nstates;
  const char *kafka_error; /* "" when the broker answers */
  size_t topics_found, topics_wanted, partitions;
  unsigned long unreadable; /* messages that are not events */
  const char *until_note;   /* "" or what --until is waiting for */
  long long now_ms;         /* wall clock, for the progress elapsed times */
  int rows;                 /* terminal height; 0 unknown (no limit) */
  int final;                /* the last drawing before exit */
} wv_status;

/* The whole screen: cursor home, each line cleared to its end, the rest of
 * the screen cleared. */
void wv_draw_screen(FILE *out, const wv_status *s);
/* Plain mode: "HH:MM:SS STEP type subject" (STEP "-" for a type with no
 * step). */
void wv_print_event(FILE *out, long long time_ms, int step, const char *type,
                    const char *subject);
/* Plain mode: "HH:MM:SS [STEP] STATE TEXT". */
void wv_print_progress(FILE *out, const wp_line *l);
/* Plain mode, at exit: the progress rows, SIM states and the steps table. */
void wv_print_summary(FILE *out, const wv_status *s);

#endif
