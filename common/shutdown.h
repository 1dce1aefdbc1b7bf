/* shutdown.h - graceful stop on SIGTERM/SIGINT.
 *
 * Long loops poll sp_shutdown_requested() and finish the work in hand
 * (current transaction, producer flush, offset commit) before returning. */
#ifndef SIMPKI_SHUTDOWN_H
#define SIMPKI_SHUTDOWN_H

#include <signal.h>

extern volatile sig_atomic_t sp_shutdown_flag;

void sp_shutdown_install(void);
static inline int sp_shutdown_requested(void) { return sp_shutdown_flag != 0; }
void sp_shutdown_request(void);
/* Sleep up to ms in short steps, waking early when the process is asked to
 * stop or *stop (may be NULL) is set: 1 when it should stop, else 0. For
 * loops that wait between rounds of work (timers, retries, polling). */
int sp_shutdown_sleep(long ms, volatile int *stop);

#endif
