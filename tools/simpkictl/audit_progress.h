/* audit_progress.h - the progress lines of a long audit replay, for the
 * operator watching stderr. By default nothing in the first second (a
 * short replay stays quiet), then at most one line a second,
 *
 *   simpkictl audit replay: replayed 1234567 events, about 30% of the
 *   topics, 312000/s, about 9 s left
 *
 * (one line), and when the read ends, if a line was shown, a last one
 * with the count and the time it took, then one as each later step
 * starts (the chains, the rules, the database). The share is counted in
 * offsets: what the partitions held when the replay started. Transaction
 * markers take offsets but are no events, so it is "about". Pure: the caller
 * passes the clock. */
#ifndef SIMPKICTL_AUDIT_PROGRESS_H
#define SIMPKICTL_AUDIT_PROGRESS_H

#include <stddef.h>

#define AUDIT_PROGRESS_EVERY_MS 1000 /* the default interval */

typedef struct audit_progress {
  long start_ms, last_ms, every_ms;
  int shown;
} audit_progress;

/* every_ms: the interval (the first line comes after it too); 0 a line
 * at each call. */
void audit_progress_start(audit_progress *p, long now_ms, long every_ms);

/* The line due at now_ms after n messages of about expected (0: unknown;
 * last: the read has ended), in buf without a newline; 0 when none is
 * due (buf untouched). */
int audit_progress_line(audit_progress *p, unsigned long n,
                        unsigned long expected, long now_ms, int last,
                        char *buf, size_t len);

/* When a line was shown (a long replay), the one announcing a step after
 * the read: "simpkictl audit replay: " and what; 0 for a short replay,
 * which stays quiet. */
int audit_progress_step(const audit_progress *p, const char *what, char *buf,
                        size_t len);

#endif
