/* flow.h - which workflow step each event type belongs to, and counters
 * folded from a stream of events. Pure: no I/O, no clock.
 *
 * One definition for every reader of the topics (simpkictl watch, the
 * operations dashboard), so that they agree on what "B7" counts.
 *
 * The steps, in workflow order, with the event types they hold (flow.c has
 * the Vietnamese labels and English terms):
 *
 *   A4    notices      registration.imported/rejected, case.opened
 *   A5    contact      case.contacted/closed/reminded/breached
 *   B1    order        order.submitted/accepted/rejected
 *   B2    batches      vendor.*, batch.released/held/passed/failed,
 *                      order.blocked/in_production
 *   B3    input file   batch.input_issued/input_failed
 *   B4    output file  batch.output_accepted/output_rejected
 *   B5    HLR loading  none: the load publishes no event of its own (it is
 *                      followed in hlr_loads: simpkictl batch show --watch)
 *   B6    HLR report   batch.provisioned
 *   B7    handover     sims.handed_over
 *   B8    stock-in     sims.stocked_in
 *   SHOP  to a shop    sims.transferred, sims.walked_in (between B8 and B9:
 *                      a range moved to a shop, or a walk-in customer's SIM)
 *   B9    connection   connection.requested/hlr_done/hlr_failed,
 *                      sim.connected, sim.connect_failed
 *   B10   sale         sim.sold
 *   B11   delivery     sim.delivered
 *   INC   incidents    sim.faulty, sim.returned
 *   VCSP  accounts     account.created, login.*, otp.*, password.reset,
 *                      recovery.*
 *   MSG   messages     notification.sent/failed
 *
 * Types with no step: sig.verify.* (a signature check is a service call
 * that B1 and A4 make, not a step of its own) and test.* (test programs).
 * Folding them is a no-op.
 *
 * SIMs of a step count each SIM once per step: only the event that
 * completes the step for its SIMs counts them (sims of a range move,
 * batch.released's quantity, loaded + already_present of batch.provisioned,
 * 1 for sim.connected but 0 for connection.requested, which comes before
 * it for the same SIM). A4 counts the persons of a notice, each of whom is
 * to get one SIM PKI. */
#ifndef SIMPKI_FLOW_H
#define SIMPKI_FLOW_H

#include <jansson.h>
#include <stddef.h>

#define SP_FLOW_MAX_STEPS 24
#define SP_FLOW_RECENT 12 /* events kept in the ring */

typedef struct sp_flow_step {
  const char *code;  /* "B7" */
  const char *label; /* Vietnamese, "Bàn giao cho CTKV" */
  const char *term;  /* English, "handover" */
} sp_flow_step;

/* Number of steps, and step i (0 <= i < count) in workflow order. */
int sp_flow_step_count(void);
const sp_flow_step *sp_flow_step_at(int i);
/* Index of the step an event type belongs to, or -1. */
int sp_flow_step_of(const char *type);
/* Index of the step with that code, or -1. */
int sp_flow_step_by_code(const char *code);
/* SIMs one event of that type counts for its step (0 when none or the
 * data lacks the field; never negative). */
long long sp_flow_sims_of(const char *type, const json_t *data);
/* The same with the data read through get: a field's integer value, or -1
 * when it has none (for readers that keep no JSON). */
long long sp_flow_sims_by(const char *type,
                          long long (*get)(void *ctx, const char *field),
                          void *ctx);
/* An event type's place in the flow: for a reader that folds many events
 * of few types (the audit replay keeps one copy of each type's name) and
 * looks each type up once. NULL for a type of no step. */
typedef struct sp_flow_type sp_flow_type;
const sp_flow_type *sp_flow_type_of(const char *type);
/* sp_flow_sims_by for a type looked up already (0 for NULL). */
long long sp_flow_type_sims(const sp_flow_type *t,
                            long long (*get)(void *ctx, const char *field),
                            void *ctx);
/* The step that brings a SIM into a stored state (sim_state.h's names):
 * produced B4, provisioned and hlr_failed B6, handed_over B7, in_stock B8,
 * at_shop SHOP, connected B9, sold B10, delivered B11, faulty and returned
 * INC; -1 for anything else. The dashboard's funnels count with it. */
int sp_flow_step_of_sim_state(const char *state);
/* RFC 3339 ("2026-11-25T17:30:00.123Z", "...+07:00") to milliseconds since
 * the epoch; -1 when malformed. */
int sp_flow_parse_time(const char *iso, long long *ms);

typedef struct sp_flow_counts {
  unsigned long events;
  long long sims;
  long long first_ms, last_ms; /* event times; 0 before the first event */
  char last_type[128];
} sp_flow_counts;

typedef struct sp_flow_recent {
  long long time_ms; /* 0 when the event's time was malformed */
  int step;
  char type[128];
  char subject[256];
} sp_flow_recent;

typedef struct sp_flow {
  sp_flow_counts step[SP_FLOW_MAX_STEPS];
  unsigned long events;                  /* folded into a step */
  unsigned long ignored;                 /* types with no step */
  sp_flow_recent recent[SP_FLOW_RECENT]; /* a ring; see sp_flow_recent_at */
  size_t nrecent, next_recent;
} sp_flow;

void sp_flow_init(sp_flow *f);
/* Fold one event. Returns its step, or -1 when the type has none (then
 * only f->ignored changes). time_iso may be malformed: the event still
 * counts, without a time. data may be NULL. */
int sp_flow_apply(sp_flow *f, const char *type, const char *subject,
                  const char *time_iso, const json_t *data);
/* sp_flow_apply for an event whose time is read already (milliseconds
 * since the epoch, 0 or less when unknown) and whose SIMs are counted
 * (sp_flow_sims_by). */
int sp_flow_apply_counted(sp_flow *f, const char *type, const char *subject,
                          long long time_ms, long long sims);
/* sp_flow_apply_counted for a type looked up already (NULL: ignored). */
int sp_flow_apply_type(sp_flow *f, const sp_flow_type *t, const char *subject,
                       long long time_ms, long long sims);
/* The same, counts and times only: neither the last events (recent) nor
 * each step's last type, for a reader that shows neither (the audit
 * replay's counts per order). */
int sp_flow_count_type(sp_flow *f, const sp_flow_type *t, long long time_ms,
                       long long sims);
/* The i-th of the last events kept, 0 the oldest, i < f->nrecent. */
const sp_flow_recent *sp_flow_recent_at(const sp_flow *f, size_t i);

#endif
