/* audit_select.c - the audit replay's filters (audit_select.h). */
#include "audit_select.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_invariants.h"
#include "flow.h"

const char *audit_data_str(const audit_event *e, const char *key) {
  return audit_data_get_str(e->data, key);
}

static int eq(const char *a, const char *b) { return a && b && !strcmp(a, b); }

void audit_filter_init(audit_filter *f) {
  memset(f, 0, sizeof *f);
  f->from_ms = f->to_ms = -1;
}

void audit_filter_free(audit_filter *f) {
  free(f->orders);
  f->orders = NULL;
  f->norders = 0;
}

int audit_filter_any(const audit_filter *f) {
  return f->order || f->batch || f->sim || f->from_ms >= 0 || f->to_ms >= 0;
}

int audit_filter_time(const char *s, int end, long long *ms) {
  char buf[64];
  if (!s)
    return -1;
  if (strlen(s) == 10 && s[4] == '-' && s[7] == '-') {
    snprintf(buf, sizeof buf, "%sT00:00:00+07:00", s);
    if (sp_flow_parse_time(buf, ms))
      return -1;
    if (end)
      *ms += 86400000LL;
    return 0;
  }
  return sp_flow_parse_time(s, ms);
}

static int add_order(audit_filter *f, const char *id) {
  for (size_t i = 0; i < f->norders; i++)
    if (!strcmp(f->orders[i], id))
      return 0;
  const char **v = realloc(f->orders, (f->norders + 1) * sizeof *v);
  if (!v)
    return -1;
  f->orders = v;
  v[f->norders++] = id;
  return 0;
}

int audit_filter_resolve(audit_filter *f, const audit_event *evs, size_t n) {
  if (!f->order && !f->batch)
    return 0; /* nothing to resolve */
  if (f->order && add_order(f, f->order))
    return -1;
  for (size_t i = 0; i < n; i++) {
    const audit_event *e = &evs[i];
    const char *oid = audit_data_str(e, "order_id");
    if (f->order && oid && eq(audit_data_str(e, "bcycp_ref"), f->order) &&
        add_order(f, oid))
      return -1;
    if (f->batch && eq(audit_data_str(e, "batch_id"), f->batch) &&
        (eq(e->type, "batch.output_accepted") ||
         (!f->batch_first && eq(e->type, "batch.input_issued")))) {
      f->batch_first = audit_data_str(e, "iccid_first");
      f->batch_last = audit_data_str(e, "iccid_last");
    }
  }
  return 0;
}

/* Does the event name an ICCID in [first, last]? */
static int names_iccids(const audit_event *e, const char *first,
                        const char *last) {
  if (!first || !last)
    return 0;
  const char *i = audit_data_str(e, "iccid");
  if (i && audit_iccid_cmp(i, first) >= 0 && audit_iccid_cmp(i, last) <= 0)
    return 1;
  const char *a = audit_data_str(e, "iccid_first"),
             *b = audit_data_str(e, "iccid_last");
  return a && b && audit_iccid_cmp(a, last) <= 0 &&
         audit_iccid_cmp(b, first) >= 0;
}

static int subject_is(const audit_event *e, const char *kind, const char *id) {
  size_t k = strlen(kind);
  return e->subject && !strncmp(e->subject, kind, k) && e->subject[k] == '/' &&
         !strcmp(e->subject + k + 1, id);
}

int audit_filter_match(const audit_filter *f, const audit_event *e) {
  if (f->from_ms >= 0 && (e->time_ms < 0 || e->time_ms < f->from_ms))
    return 0;
  if (f->to_ms >= 0 && (e->time_ms < 0 || e->time_ms >= f->to_ms))
    return 0;
  if (f->order) {
    int hit = eq(audit_data_str(e, "bcycp_ref"), f->order);
    for (size_t i = 0; !hit && i < f->norders; i++)
      hit = eq(e->correlationid, f->orders[i]) ||
            eq(audit_data_str(e, "order_id"), f->orders[i]);
    if (!hit)
      return 0;
  }
  if (f->batch && !subject_is(e, "batch", f->batch) &&
      !eq(audit_data_str(e, "batch_id"), f->batch) &&
      !eq(audit_data_str(e, "pilot_batch_id"), f->batch) &&
      !names_iccids(e, f->batch_first, f->batch_last))
    return 0;
  if (f->sim && !subject_is(e, "sim", f->sim) &&
      !names_iccids(e, f->sim, f->sim))
    return 0;
  return 1;
}
