/* state.h - the dashboard's own state, folded from the events alone. Pure:
 * no I/O, no clock (the caller passes "now").
 *
 * What it keeps, all rebuilt from the topics at start:
 *   - per workflow step the events and SIMs (common/flow.h's fold);
 *   - the BCYCP orders and their batches (B1, B2), each batch's ICCID range
 *     (B3/B4) and HLR report (B6);
 *   - where every SIM is in its life (sim_state.h's states), as a sorted
 *     map of ICCID serial ranges with one state, CTKV and shop each, moved
 *     by the range events (B7, B8, to a shop) and the single-SIM ones (B9
 *     to B11, incidents);
 *   - the A5 connection cases and their deadlines;
 *   - the HLR loading reports, for the loading rate;
 *   - the last events, for the timeline of each order.
 *
 * The fold does not depend on the order the topics are read in (a
 * restart reads the partitions interleaved differently): a SIM's state only
 * moves forward in its life (every transition of sim_state.h goes to a
 * later state), and an event is tied to its order when the page is drawn,
 * not when it is read. */
#ifndef DASHBOARD_STATE_H
#define DASHBOARD_STATE_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

#include "calendar.h"
#include "event.h"

/* Events kept for the timelines; older ones are dropped (the step counts
 * keep them). */
#define DS_EVENTS_MAX 20000
/* Latest events on the main page. */
#define DS_RECENT 40

typedef struct ds_state ds_state;

/* cal (may be NULL) counts the A5 deadline of a case before the notifier
 * has named it (case.reminded/breached carry it); it must outlive s. */
ds_state *ds_state_new(const sp_cal *cal);
void ds_state_free(ds_state *s);

/* Fold one event. Returns its workflow step (flow.h), or -1 when the type
 * has none (then it is only counted). */
int ds_state_apply(ds_state *s, const sp_event *ev);
/* A message on a topic that is not an event. */
void ds_state_unreadable(ds_state *s);
/* Events folded so far (with or without a step). */
unsigned long ds_state_events(const ds_state *s);

/* The main page: steps, SIMs per state, orders and batches with their
 * counts and funnels, CTKVs, A5 cases, the HLR rate over the hour before
 * now_ms, the latest events. A new reference; NULL when out of memory. */
json_t *ds_state_json(const ds_state *s, long long now_ms);
/* One order's drill-down: the order, its batches, its timeline of events
 * in time order with who did each step, the A5 cases connected with its
 * SIMs and the open ones. NULL when the order is unknown. */
json_t *ds_state_order_json(const ds_state *s, const char *order_id,
                            long long now_ms);

/* The ICCID "89..." (19 or 20 digits, the last the Luhn digit) as its
 * serial number: the digits before the Luhn digit. -1 when malformed. */
int ds_iccid_serial(const char *iccid, unsigned long long *serial);

/* A phone number with its middle hidden: "8490***4567". */
void ds_mask_msisdn(const char *msisdn, char *out, size_t len);

#endif
