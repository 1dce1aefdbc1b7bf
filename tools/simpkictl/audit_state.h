/* audit_state.h - `simpkictl audit replay --against-db`: the state the
 * database also holds, rebuilt from the events alone, and its comparison
 * with the database's rows. Pure: no I/O, no clock; the caller reads the
 * rows (audit_db.c) and hands each one in.
 *
 * Rebuilt, from the events in time order (ties: the step's order, then
 * reading order; redelivered copies skipped):
 *   sims (state, ctkv_id, shop_id), per ICCID:
 *     batch.output_accepted     its range iccid_first..iccid_last: produced
 *     batch.provisioned         the batch's produced SIMs: provisioned, those
 *                               in its failures hlr_failed
 *     sims.handed_over          the range: handed_over, ctkv_id = ctkv
 *     sims.stocked_in           the range: in_stock
 *     sims.transferred          the range: at_shop, shop_id = shop
 *     sims.walked_in            the range: at_shop, shop_id = shop
 *     sim.connected, sim.sold, sim.delivered, sim.faulty, sim.returned
 *                               that ICCID: connected, sold, delivered,
 *                               faulty, returned
 *   orders.state      order.accepted (its data.state), order.in_production,
 *                     order.blocked
 *   batches.state     batch.held, batch.released, batch.passed, batch.failed
 *   connection_cases.state  case.opened: open; case.closed: connected
 *                     (case.contacted changes no state)
 * The SIMs of a batch are kept as one array over its ICCID range (ICCIDs
 * are consecutive numbers plus their Luhn digit), a few bytes per SIM; the
 * ranges of the moves are applied to those arrays.
 *
 * A batch.provisioned lists at most 100 failures: when it counts more
 * failed SIMs than it lists, a SIM the events have as provisioned may be
 * hlr_failed in the database without drift.
 *
 * Drift findings (kind AUDIT_DRIFT, table set, no event): a row whose
 * columns differ ("state in the database 'in_stock', from the events
 * 'delivered'"), a row the events never made, a row the events made that
 * the database lacks. At most AUDIT_DRIFT_MAX rows per table are listed;
 * audit_state_finish adds one finding counting the rest. */
#ifndef SIMPKICTL_AUDIT_STATE_H
#define SIMPKICTL_AUDIT_STATE_H

#include "audit_chain.h"

#define AUDIT_DRIFT_MAX 1000

typedef enum audit_table {
  AUDIT_T_SIMS,
  AUDIT_T_ORDERS,
  AUDIT_T_BATCHES,
  AUDIT_T_CASES,
  AUDIT_TABLES
} audit_table;

/* "sims", "orders", "batches", "connection_cases". */
const char *audit_table_name(audit_table t);

typedef struct audit_state audit_state;

typedef struct audit_state_stats {
  unsigned long rows[AUDIT_TABLES];    /* rebuilt from the events */
  unsigned long checked[AUDIT_TABLES]; /* database rows compared */
  unsigned long drift[AUDIT_TABLES];   /* rows that drift */
} audit_state_stats;

audit_state *audit_state_new(void);
void audit_state_free(audit_state *s);

/* Rebuilds the state from evs[0..n) (after audit_chain_check, which sets
 * copy_of). The events' data must outlive s. -1 when out of memory. */
int audit_state_build(audit_state *s, const audit_event *evs, size_t n);

/* Compares one database row: for sims, key is the ICCID and ctkv, shop
 * the columns (NULL or "" when NULL); for the other tables ctkv and shop
 * are NULL. Appends a drift finding when it differs. -1 when out of
 * memory. */
int audit_state_check_row(audit_state *s, audit_table t, const char *key,
                          const char *state, const char *ctkv, const char *shop,
                          audit_findings *out);

/* After every row of every table was checked: the rows the events made
 * that the database lacks, and the counts of drift not listed. -1 when
 * out of memory. */
int audit_state_finish(audit_state *s, audit_findings *out);

void audit_state_stats_get(const audit_state *s, audit_state_stats *st);

/* The expected state of a SIM (for tests): 1 and the columns ("" when
 * none), 0 when the events never made it. */
int audit_state_sim(const audit_state *s, const char *iccid, const char **state,
                    const char **ctkv, const char **shop);
/* The expected state of an order, batch or case; NULL when unknown. */
const char *audit_state_row(const audit_state *s, audit_table t,
                            const char *key);

#endif
