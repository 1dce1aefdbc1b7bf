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

#endif
