/* dashboard.h - what the dashboard's threads share: the state folded from
 * the topics (reader.c writes it), the services' health (health.c writes
 * it), both read by the HTTP API (http_api.c), under one lock. version
 * moves, and changed is broadcast, whenever either changes, which wakes the
 * server-sent event streams. */
#ifndef DASHBOARD_H
#define DASHBOARD_H

#include <pthread.h>

#include "health.h"
#include "state.h"

typedef struct ds_shared {
  pthread_mutex_t lock;
  pthread_cond_t changed; /* CLOCK_MONOTONIC */
  unsigned long version;
  ds_state *state;
  ds_service *services;
  size_t nservices;
  int caught_up;         /* the reader has read what was there at start */
  char kafka_error[256]; /* the reader's latest trouble, "" when none */
  volatile int stop;
} ds_shared;

int ds_shared_init(ds_shared *sh, ds_state *state);
void ds_shared_destroy(ds_shared *sh);
/* Under the lock: something changed. */
void ds_shared_changed(ds_shared *sh);
/* Ask every thread to end, and wake them. */
void ds_shared_stop(ds_shared *sh);

#endif
