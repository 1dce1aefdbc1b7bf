/* shutdown.c - turn SIGTERM/SIGINT into a flag the loops poll. */
#include "shutdown.h"

#include <string.h>
#include <time.h>

volatile sig_atomic_t sp_shutdown_flag = 0;

static void on_signal(int sig) {
  (void)sig;
  sp_shutdown_flag = 1;
}

void sp_shutdown_install(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  /* A closed peer must be an error return, not a dead process. */
  signal(SIGPIPE, SIG_IGN);
}

void sp_shutdown_request(void) { sp_shutdown_flag = 1; }

int sp_shutdown_sleep(long ms, volatile int *stop) {
  for (long waited = 0; waited < ms; waited += 50) {
    if (sp_shutdown_flag || (stop && *stop))
      return 1;
    long step = ms - waited < 50 ? ms - waited : 50;
    nanosleep(&(struct timespec){0, step * 1000000L}, NULL);
  }
  return sp_shutdown_flag || (stop && *stop);
}
