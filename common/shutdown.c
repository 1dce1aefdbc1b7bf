/* shutdown.c - turn SIGTERM/SIGINT into a flag the loops poll. */
#include "shutdown.h"

#include <string.h>

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
