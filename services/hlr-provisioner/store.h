/* store.h - hlr-provisioner's PostgreSQL side: the queue of batches to
 * load (hlr_loads), the SIMs still to load with their keys opened, the
 * outcomes as they come, and the report (batch.provisioned) once a batch
 * is done. Each call is one transaction, so a crash loses at most the group
 * in hand, which the next run finds in the HLR ("already present"). */
#ifndef HP_STORE_H
#define HP_STORE_H

#include <stddef.h>

#include "crypto.h"
#include "db.h"
#include "event.h"
#include "load.h"

#define HP_PRODUCER "hlr-provisioner"
#define HP_SOURCE "/simpki/hlr-provisioner"
#define HP_TOPIC_BATCHES "batches"
#define HP_REPORT_FAILURES 100 /* failures listed in batch.provisioned */

typedef struct hp_batch {
  char batch_id[64], order_id[64], profile[24], state[16];
  char iccid_first[21], iccid_last[21];
  char imsi_first[16], imsi_last[16];
  long sims;
} hp_batch;

/* The consumer's part, inside its inbox transaction: queue the batch of a
 * batch.output_accepted event. 0 queued (or queued before), 1 refused (an
 * unknown batch, or one whose output file was not accepted: errstr says
 * which), -1 database trouble (retry). */
int hp_store_enqueue(PGconn *tx, const sp_event *ev, char *errstr,
                     size_t errlen);

/* The batch queued first that is not done: 1 with *b, 0 none, -1 error. */
int hp_store_next(sp_db *db, hp_batch *b, char *errstr, size_t errlen);

/* Up to max SIMs of b still 'produced' with an ICCID above after ("" from
 * the start), in ICCID order, their keys opened into sims[i].want. A SIM
 * whose secrets do not open (a KEK missing, altered bytes) comes back
 * already HP_SIM_FAILED with the reason: it is never sent to the HLR. */
int hp_store_fetch(sp_db *db, sp_keystore *ks, const hp_batch *b,
                   const char *after, hp_sim *sims, size_t max, size_t *n,
                   char *errstr, size_t errlen);

/* Commit the outcomes of sims[0..n) that have one and are not recorded
 * yet (marking them recorded), add them to the batch's counts, and set the
 * batch loading again. */
int hp_store_record(sp_db *db, const hp_batch *b, hp_sim *sims, size_t n,
                    char *errstr, size_t errlen);

/* The batch waits for the HLR: state stalled, with the reason. */
int hp_store_stalled(sp_db *db, const hp_batch *b, const char *reason,
                     char *errstr, size_t errlen);

/* Once no SIM of b is left to load: state done and the event
 * batch.provisioned (counts, the first failures, duration, IMSI range),
 * once. 1 finished now, 0 finished before, 2 SIMs still to load, -1
 * error. */
int hp_store_finish(sp_db *db, const hp_batch *b, char *errstr,
                    size_t errlen);

#endif
