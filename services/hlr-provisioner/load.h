/* load.h - B5: load a group of SIMs into the HLR, many requests in flight.
 *
 * Each SIM walks a small state machine, its next request submitted as soon
 * as the previous one is answered, while the adapter keeps up to its
 * window of requests in flight across all the SIMs of the group:
 *
 *   CREATE ok            -> SET auth data -> READ back -> compare: loaded
 *   CREATE exists        -> READ -> same data: already present
 *                                -> no auth data at all: ours, created by
 *                                   a run that stopped before setting it
 *                                   (the IMSI block is ours alone): SET,
 *                                   READ back, compare
 *                                -> other data: failed, a conflict; it is
 *                                   never overwritten
 *   any refusal          -> failed with the HLR's reason
 *   HLR unavailable      -> the run stops; the SIMs without an outcome
 *                           stay pending and a later run takes them again
 *                           (CREATE then answers "exists": no SIM is
 *                           loaded twice).
 *
 * Pure over the hp_hlr interface: no database, no clock but the adapter's
 * timeouts, so the unit tests drive it with an in-memory HLR. */
#ifndef HP_LOAD_H
#define HP_LOAD_H

#include <stddef.h>

#include "hlr.h"

typedef enum {
  HP_SIM_PENDING = 0,
  HP_SIM_LOADED,  /* created and verified by this run */
  HP_SIM_ALREADY, /* was there with the same auth data */
  HP_SIM_FAILED   /* see reason */
} hp_sim_outcome;

typedef struct hp_sim {
  char iccid[21];
  char imsi[HP_HLR_IMSI_MAX + 1];
  hp_aud want; /* the auth data to load: key material */
  hp_sim_outcome outcome;
  char reason[200]; /* when failed; never key material */
  int step;         /* load.c's */
  int recorded;     /* store.c: the outcome is committed */
} hp_sim;

typedef struct hp_load_stats {
  long loaded, already, failed, pending;
  long requests; /* sent to the HLR */
} hp_load_stats;

/* Run sims[0..n) (outcome HP_SIM_PENDING) until each has an outcome or the
 * HLR becomes unavailable. 0: all done; 1: stopped, the HLR unavailable
 * (errstr says why; hp_hlr_reconnect before the next run); -1: a local
 * failure (errstr). poll_ms bounds each wait for a reply. stats may be
 * NULL. */
int hp_load_run(hp_hlr *h, hp_sim *sims, size_t n, int poll_ms,
                hp_load_stats *stats, char *errstr, size_t errlen);

/* Wipe the keys of sims[0..n). */
void hp_load_wipe(hp_sim *sims, size_t n);

#endif
