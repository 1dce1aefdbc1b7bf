/* plan.h - vendors, pilots and batch planning (B2.1, B2.2). Pure.
 *
 * A vendor new to MobiFone signs a confidentiality agreement, then runs one
 * pilot of 5-10 SIMs through B3-B9. Until an operator marks the pilot
 * passed, the vendor's production batches are held; a failed pilot blocks
 * the vendor. A connected vendor's batches are released at once. */
#ifndef OI_PLAN_H
#define OI_PLAN_H

#include <stddef.h>

#include "intake_error.h"

typedef enum {
  OI_VENDOR_NEW,
  OI_VENDOR_AGREEMENT_SIGNED,
  OI_VENDOR_PILOT_RUNNING,
  OI_VENDOR_CONNECTED,
  OI_VENDOR_BLOCKED,
  OI_VENDOR_STATE_COUNT
} oi_vendor_state;

typedef enum {
  OI_VENDOR_SIGN_AGREEMENT,
  OI_VENDOR_START_PILOT,
  OI_VENDOR_PASS_PILOT,
  OI_VENDOR_FAIL_PILOT
} oi_vendor_action;

const char *oi_vendor_state_name(oi_vendor_state s);
/* -1 when the name is not a state. */
int oi_vendor_state_parse(const char *name, oi_vendor_state *out);

/* The state after action, or OI_BAD_STATE with the reason. */
oi_error oi_vendor_next(oi_vendor_state from, oi_vendor_action action,
                        oi_vendor_state *to, char *errstr, size_t errlen);

#define OI_MAX_BATCHES 1000

typedef struct oi_batch_plan {
  int is_pilot;
  int seq;        /* 1-based within its kind */
  long quantity;
  int released;   /* 0: held until the vendor's pilot passes */
} oi_batch_plan;

typedef struct oi_plan {
  oi_vendor_state vendor_after;
  int nbatches;
  oi_batch_plan batches[OI_MAX_BATCHES + 1];
  char order_state[24]; /* "in_production" or "waiting_pilot" */
} oi_plan;

/* Plan an order of quantity SIMs for a vendor in state vendor: production
 * batches of at most max_batch SIMs, preceded by a pilot (pilot_quantity,
 * 0 = default) when the vendor has only signed its agreement. Refuses a
 * vendor without agreement, a blocked vendor (with blocked_reason), a pilot
 * size given for a vendor that needs none, and an order that would need more
 * than OI_MAX_BATCHES batches. */
oi_error oi_plan_order(oi_vendor_state vendor, const char *blocked_reason,
                       long quantity, int pilot_quantity, long max_batch,
                       oi_plan *out, char *errstr, size_t errlen);

#endif
