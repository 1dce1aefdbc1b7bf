/* connect.h - the HLR side of B9: put a customer's number on their SIM PKI.
 *
 * A new number is set on the SIM PKI's subscriber. A SIM swap moves the
 * customer's existing number from the subscriber that holds it (found in
 * the HLR by the number) to the SIM PKI's: OsmoHLR lets a number belong to
 * one subscriber only, so the move is a small saga:
 *
 *   FIND who holds the number -> CLEAR it on the old subscriber
 *   -> SET it on the new one -> VERIFY both by reading them back -> DONE
 *
 * If SET or VERIFY fails, RESTORE puts the number back on the old
 * subscriber and the request ends FAILED with the reason (restored set).
 * Every step is safe to repeat, and the step reached is saved after each
 * one, so a crash resumes the saga where it was; an unavailable HLR leaves
 * it at its step for a later run. */
#ifndef HP_CONNECT_H
#define HP_CONNECT_H

#include <stddef.h>

#include "event.h"
#include "hlr.h"

typedef enum {
  HP_CONN_FIND = 0,
  HP_CONN_CLEAR_OLD,
  HP_CONN_SET_NEW,
  HP_CONN_VERIFY,
  HP_CONN_RESTORE,
  HP_CONN_DONE,
  HP_CONN_FAILED
} hp_conn_step;

typedef struct hp_conn {
  char request_id[64];
  char iccid[21];
  char imsi[HP_HLR_IMSI_MAX + 1];
  char msisdn[HP_HLR_MSISDN_MAX + 1];
  int swap;
  char old_imsi[HP_HLR_IMSI_MAX + 1]; /* swap: who held the number */
  hp_conn_step step;
  int restored;     /* FAILED after the number went back to old_imsi */
  char reason[300]; /* FAILED: why */
} hp_conn;

/* The step's name as stored ("find", "clear_old"...), and back (-1). */
const char *hp_conn_step_name(hp_conn_step s);
int hp_conn_step_parse(const char *name);

/* A connection.requested event (inventory's B9) as a saga to run, at step
 * FIND: request_id (1 to 63 bytes), iccid (at most 20), msisdn (any form
 * sp_phone_normalize_vn takes, kept canonical), swap (a boolean);
 * *case_id is the event's case_id, or NULL. 0, or -1 with the reason
 * (naming the event; dead-letter it). The IMSI is the store's to find.
 * Pure. */
int hp_conn_from_event(const sp_event *ev, hp_conn *c, const char **case_id,
                       char *errstr, size_t errlen);

/* Save the saga's progress; 0 ok. Called after every step taken. */
typedef int (*hp_conn_save_fn)(void *arg, const hp_conn *c);

/* Run c from its step until DONE or FAILED (0), until the HLR is
 * unavailable (1: run again later), or until save fails (-1). Nothing else
 * may be in flight on h. */
int hp_connect_run(hp_hlr *h, hp_conn *c, hp_conn_save_fn save, void *arg);

#endif
