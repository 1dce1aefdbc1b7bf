/* clock.h - "now", injectable for tests.
 *
 * Deadlines counted in working days take days to come due; a test cannot
 * wait for them. With SIMPKI_CLOCK_FILE set, sp_clock_now() reads the time
 * from that file instead (one ISO 8601 date-time with offset, e.g.
 * 2026-02-25T23:59:59+07:00), read again at every call so a test moves
 * time by rewriting it. Never set it in production. */
#ifndef SP_CLOCK_H
#define SP_CLOCK_H

#include <time.h>

/* The time now; from SIMPKI_CLOCK_FILE when set (the real time when the
 * file cannot be read or parsed, with a warning logged once). */
time_t sp_clock_now(void);
/* 1 when the clock is the test clock (callers then poll more often). */
int sp_clock_is_fake(void);

#endif
