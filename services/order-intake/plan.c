/* plan.c - vendor onboarding states and the split of an order into batches. */
#include "plan.h"

#include <stdio.h>
#include <string.h>

#include "order.h"

static const char *const state_names[OI_VENDOR_STATE_COUNT] = {
    [OI_VENDOR_NEW] = "new",
    [OI_VENDOR_AGREEMENT_SIGNED] = "agreement_signed",
    [OI_VENDOR_PILOT_RUNNING] = "pilot_running",
    [OI_VENDOR_CONNECTED] = "connected",
    [OI_VENDOR_BLOCKED] = "blocked",
};

const char *oi_vendor_state_name(oi_vendor_state s) {
  return (unsigned)s < OI_VENDOR_STATE_COUNT ? state_names[s] : "?";
}

int oi_vendor_state_parse(const char *name, oi_vendor_state *out) {
  for (int i = 0; i < OI_VENDOR_STATE_COUNT; i++)
    if (!strcmp(name, state_names[i])) {
      *out = (oi_vendor_state)i;
      return 0;
    }
  return -1;
}

oi_error oi_vendor_next(oi_vendor_state from, oi_vendor_action action,
                        oi_vendor_state *to, char *errstr, size_t errlen) {
  static const struct {
    oi_vendor_state from;
    oi_vendor_action action;
    oi_vendor_state to;
  } legal[] = {
      {OI_VENDOR_NEW, OI_VENDOR_SIGN_AGREEMENT, OI_VENDOR_AGREEMENT_SIGNED},
      {OI_VENDOR_AGREEMENT_SIGNED, OI_VENDOR_START_PILOT,
       OI_VENDOR_PILOT_RUNNING},
      {OI_VENDOR_PILOT_RUNNING, OI_VENDOR_PASS_PILOT, OI_VENDOR_CONNECTED},
      {OI_VENDOR_PILOT_RUNNING, OI_VENDOR_FAIL_PILOT, OI_VENDOR_BLOCKED},
  };
  static const char *const why[] = {
      [OI_VENDOR_SIGN_AGREEMENT] =
          "an agreement is recorded once, for a new vendor",
      [OI_VENDOR_START_PILOT] = "a pilot starts after the agreement, once",
      [OI_VENDOR_PASS_PILOT] = "only a running pilot can be passed",
      [OI_VENDOR_FAIL_PILOT] = "only a running pilot can be failed",
  };
  for (size_t i = 0; i < sizeof legal / sizeof *legal; i++)
    if (legal[i].from == from && legal[i].action == action) {
      *to = legal[i].to;
      return OI_OK;
    }
  snprintf(errstr, errlen, "%s; the vendor is %s", why[action],
           oi_vendor_state_name(from));
  return OI_BAD_STATE;
}

oi_error oi_plan_order(oi_vendor_state vendor, const char *blocked_reason,
                       long quantity, int pilot_quantity, long max_batch,
                       oi_plan *out, char *errstr, size_t errlen) {
  memset(out, 0, sizeof *out);
  int needs_pilot = 0, held = 0;
  switch (vendor) {
  case OI_VENDOR_NEW:
    snprintf(errstr, errlen,
             "the vendor is new to MobiFone and has no confidentiality "
             "agreement yet; record it first (simpkictl vendor agreement)");
    return OI_NO_AGREEMENT;
  case OI_VENDOR_BLOCKED:
    snprintf(errstr, errlen, "the vendor is blocked: %s",
             blocked_reason && *blocked_reason ? blocked_reason
                                               : "its pilot failed");
    return OI_VENDOR_REFUSED;
  case OI_VENDOR_AGREEMENT_SIGNED:
    needs_pilot = held = 1;
    break;
  case OI_VENDOR_PILOT_RUNNING:
    held = 1; /* the pilot of an earlier order decides for this one too */
    break;
  case OI_VENDOR_CONNECTED:
  default:
    break;
  }
  if (pilot_quantity && !needs_pilot) {
    snprintf(errstr, errlen,
             "pilot_quantity is given but the vendor is %s and needs no "
             "pilot",
             oi_vendor_state_name(vendor));
    return OI_BAD_PILOT;
  }
  if (pilot_quantity && (pilot_quantity < OI_PILOT_MIN ||
                         pilot_quantity > OI_PILOT_MAX)) {
    snprintf(errstr, errlen, "a pilot has %d to %d SIMs, not %d",
             OI_PILOT_MIN, OI_PILOT_MAX, pilot_quantity);
    return OI_BAD_PILOT;
  }
  if (quantity <= 0 || max_batch <= 0) {
    snprintf(errstr, errlen, "quantity must be positive, not %ld", quantity);
    return OI_BAD_QUANTITY;
  }
  long n = (quantity + max_batch - 1) / max_batch;
  if (n > OI_MAX_BATCHES) {
    snprintf(errstr, errlen,
             "%ld SIMs in batches of at most %ld would make %ld batches; the "
             "limit is %d",
             quantity, max_batch, n, OI_MAX_BATCHES);
    return OI_BAD_QUANTITY;
  }
  if (needs_pilot)
    out->batches[out->nbatches++] = (oi_batch_plan){
        1, 1, pilot_quantity ? pilot_quantity : OI_PILOT_DEFAULT, 1};
  for (long i = 0; i < n; i++) {
    long left = quantity - i * max_batch;
    out->batches[out->nbatches++] = (oi_batch_plan){
        0, (int)i + 1, left < max_batch ? left : max_batch, !held};
  }
  out->vendor_after = needs_pilot ? OI_VENDOR_PILOT_RUNNING : vendor;
  snprintf(out->order_state, sizeof out->order_state, "%s",
           held ? "waiting_pilot" : "in_production");
  return OI_OK;
}
