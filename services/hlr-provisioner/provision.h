/* provision.h - B5 and B6 end to end: take the queued batches one by one,
 * load their SIMs a group at a time (load.c) and commit each group's
 * outcomes (store.c), ride out HLR outages (the batch is 'stalled' with the
 * reason, retried with backoff, resumed by itself), and report each batch
 * when it is done. */
#ifndef HP_PROVISION_H
#define HP_PROVISION_H

#include <stddef.h>

#include "crypto.h"
#include "db.h"
#include "hlr.h"
#include "metrics.h"

typedef struct hp_provision_conf {
  const char *hlr_addr; /* SIMPKI_HLR_CTRL, "127.0.0.2:4259" */
  long window;          /* SIMPKI_HLR_WINDOW: requests in flight */
  long timeout_ms;      /* SIMPKI_HLR_TIMEOUT_MS: for one reply */
  long group;           /* SIMPKI_HLR_GROUP: SIMs per committed group */
  long backoff_max_ms;  /* SIMPKI_HLR_BACKOFF_MAX_MS */
  long idle_ms;         /* how often to look for queued batches */
} hp_provision_conf;

/* Read the settings above from the environment (defaults: window 32,
 * timeout 5000 ms, group 1000 SIMs, backoff up to 30000 ms, idle 500 ms). */
int hp_provision_conf_load(hp_provision_conf *c, char *errstr, size_t errlen);

typedef struct hp_provisioner hp_provisioner;

/* db is the provisioner's own connection; ks opens the SIMs' secrets. */
hp_provisioner *hp_provisioner_new(const hp_provision_conf *conf, sp_db *db,
                                   sp_keystore *ks, char *errstr,
                                   size_t errlen);
/* Load queued batches until *stop is set or the process is asked to stop.
 * Returns 0 then; -1 only on a failure it cannot ride out. */
int hp_provisioner_run(hp_provisioner *p, volatile int *stop);
/* One pass: every batch queued now, loaded to the end (or until the HLR
 * stalls it and stop is set). Returns batches finished, or -1. */
int hp_provisioner_drain(hp_provisioner *p, volatile int *stop);
/* 1 when the HLR connection is up (for /healthz). */
int hp_provisioner_hlr_up(hp_provisioner *p);
void hp_provisioner_free(hp_provisioner *p);

#endif
