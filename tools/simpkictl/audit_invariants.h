/* audit_invariants.h - the workflow rules the audit replay checks on the
 * events' data (schemas/events/). Pure: no I/O, no clock.
 *
 * Run after audit_chain_check (it uses copy_of, to skip redelivered copies,
 * and pos, for "before": earlier in the subject's chain when both events
 * are on the same subject, otherwise by event time; audit_before).
 *
 * The rules, by name:
 *   connected-after-provisioned  no sim.connected before batch.provisioned
 *       of the batch that holds its ICCID (the ranges iccid_first..
 *       iccid_last of batch.output_accepted);
 *   range-handed-over-once       no two sims.handed_over ranges overlap;
 *   sold-after-connected         no sim.sold without an earlier
 *       sim.connected of that ICCID;
 *   pilot-before-production      a vendor new to MobiFone (a
 *       vendor.registered of it, or a pilot batch of it, was read) has its
 *       vendor.pilot_passed before the batch.input_issued of any of its
 *       production batches (kind from batch.released, else the batch id:
 *       -P1 pilot, -B001 production);
 *   batch-counts                 batch.provisioned's loaded +
 *       already_present + failed == its sims == the sims of the batch's
 *       batch.output_accepted == the quantity of its batch.released.
 * A rule is checked only when the events it starts from were read (e.g.
 * connected-after-provisioned needs some batch.output_accepted); its
 * "checked" count says on how many events it was, and "not_judged" on how
 * many it would have been. ICCIDs compare as numbers: by length, then digit
 * by digit. */
#ifndef SIMPKICTL_AUDIT_INVARIANTS_H
#define SIMPKICTL_AUDIT_INVARIANTS_H

#include "audit_chain.h"

#define AUDIT_RULES 5

typedef struct audit_rule_stats {
  const char *rule;
  unsigned long checked;    /* events the rule was checked on */
  unsigned long violations; /* findings */
  /* Events the rule applies to but could not judge, because what it
   * starts from was not read (a replay of some topics only), and why;
   * why is NULL when not_judged is 0. An auditor told "0 checked" alone
   * could take it for "nothing to check". */
  unsigned long not_judged;
  const char *not_judged_why;
} audit_rule_stats;

/* Appends the findings (kind AUDIT_INVARIANT, rule set) and fills
 * stats[AUDIT_RULES] (may be NULL). -1 when out of memory, else 0. */
int audit_invariants_check(const audit_event *evs, size_t n,
                           audit_findings *out, audit_rule_stats *stats);

/* -1, 0, 1: ICCIDs (digit strings) as numbers. */
int audit_iccid_cmp(const char *a, const char *b);

#endif
