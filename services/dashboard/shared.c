/* shared.c - the lock and the wake-up of dashboard.h. */
#include "dashboard.h"

#include <string.h>

int ds_shared_init(ds_shared *sh, ds_state *state) {
  memset(sh, 0, sizeof *sh);
  sh->state = state;
  pthread_condattr_t ca;
  if (pthread_condattr_init(&ca) ||
      pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) ||
      pthread_cond_init(&sh->changed, &ca))
    return -1;
  pthread_condattr_destroy(&ca);
  if (pthread_mutex_init(&sh->lock, NULL)) {
    pthread_cond_destroy(&sh->changed);
    return -1;
  }
  return 0;
}

void ds_shared_destroy(ds_shared *sh) {
  pthread_cond_destroy(&sh->changed);
  pthread_mutex_destroy(&sh->lock);
}

void ds_shared_changed(ds_shared *sh) {
  sh->version++;
  pthread_cond_broadcast(&sh->changed);
}

void ds_shared_stop(ds_shared *sh) {
  pthread_mutex_lock(&sh->lock);
  sh->stop = 1;
  pthread_cond_broadcast(&sh->changed);
  pthread_mutex_unlock(&sh->lock);
}
