/* audit_progress.c - the progress lines of a long audit replay
 * (audit_progress.h). */
#include "audit_progress.h"

#include <stdio.h>

void audit_progress_start(audit_progress *p, long now_ms, long every_ms) {
  p->start_ms = p->last_ms = now_ms;
  p->every_ms = every_ms;
  p->shown = 0;
}

int audit_progress_line(audit_progress *p, unsigned long n,
                        unsigned long expected, long now_ms, int last,
                        char *buf, size_t len) {
  if (last ? !p->shown
           : now_ms - p->start_ms < p->every_ms ||
                 now_ms - p->last_ms < p->every_ms)
    return 0;
  double s = (double)(now_ms - p->start_ms) / 1000.0;
  double rate = s > 0 ? (double)n / s : 0;
  p->last_ms = now_ms;
  p->shown = 1;
  if (last) {
    snprintf(buf, len,
             "simpkictl audit replay: replayed %lu events in %.1f s, %.0f/s", n,
             s, rate);
    return 1;
  }
  char share[48] = "", left[48] = "";
  /* Below expected until the end: the last offsets may be markers. */
  if (expected && n < expected) {
    unsigned long pct = (unsigned long)((double)n * 100.0 / (double)expected);
    snprintf(share, sizeof share, ", about %lu%% of the topics", pct);
    double eta = rate > 0 ? (double)(expected - n) / rate : -1;
    /* Seconds are noise past two minutes. */
    if (eta >= 120)
      snprintf(left, sizeof left, ", about %.0f min left", eta / 60);
    else if (eta >= 0)
      snprintf(left, sizeof left, ", about %.0f s left", eta < 1 ? 1 : eta);
  }
  char per_s[32] = ""; /* no rate yet at the very start */
  if (s > 0)
    snprintf(per_s, sizeof per_s, ", %.0f/s", rate);
  snprintf(buf, len, "simpkictl audit replay: replayed %lu events%s%s%s", n,
           share, per_s, left);
  return 1;
}

int audit_progress_step(const audit_progress *p, const char *what, char *buf,
                        size_t len) {
  if (!p->shown)
    return 0;
  snprintf(buf, len, "simpkictl audit replay: %s", what);
  return 1;
}
