/* audit_select.h - what `simpkictl audit replay --order/--batch/--sim/
 * --from/--to` reports. Pure: no I/O, no clock. The chains are checked on
 * every event; a filter only chooses the events whose findings and counts
 * are reported. Filters combine with "and".
 *
 *   order  MobiFone's order id or BCYCP's reference: events whose
 *          correlationid or data.order_id is the order (the reference
 *          resolved to its order ids through the events' data.bcycp_ref),
 *          or whose data.bcycp_ref is the reference;
 *   batch  the batch's events (subject batch/ID, data.batch_id or
 *          pilot_batch_id) and those of its SIMs: an ICCID (data.iccid) or
 *          range (iccid_first..iccid_last) within the batch's range, from
 *          its batch.output_accepted (else batch.input_issued);
 *   sim    subject sim/ICCID, data.iccid, or a range holding the ICCID;
 *   from, to  the event time in [from, to). */
#ifndef SIMPKICTL_AUDIT_SELECT_H
#define SIMPKICTL_AUDIT_SELECT_H

#include "audit_chain.h"

typedef struct audit_filter {
  const char *order, *batch, *sim; /* NULL: no such filter */
  long long from_ms, to_ms;        /* -1: open */
  /* Set by audit_filter_resolve. */
  const char **orders;
  size_t norders;
  const char *batch_first, *batch_last;
} audit_filter;

/* No filter at all. */
void audit_filter_init(audit_filter *f);
void audit_filter_free(audit_filter *f);
/* 1 when some filter is set. */
int audit_filter_any(const audit_filter *f);
/* --from/--to: YYYY-MM-DD, a day in Asia/Ho_Chi_Minh (its start, or with
 * end set the start of the next day, so that --to includes the day), or an
 * RFC 3339 time. -1 when malformed. */
int audit_filter_time(const char *s, int end, long long *ms);
/* Resolves a reference to order ids and a batch to its ICCID range over the
 * events (which must outlive the filter). -1 when out of memory. */
int audit_filter_resolve(audit_filter *f, const audit_event *evs, size_t n);
/* 1 when the event is selected. */
int audit_filter_match(const audit_filter *f, const audit_event *e);

/* data[key] when a string, else NULL. */
const char *audit_data_str(const audit_event *e, const char *key);

#endif
