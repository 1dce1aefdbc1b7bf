/* state.c - the fold of events into the dashboard's state (state.h). */
#include "state.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"
#include "sim_state.h"

/* ---- small helpers ---- */

/* Never end a string inside a UTF-8 sequence. */
static void utf8_trim(char *s) {
  size_t n = strlen(s);
  size_t k = n;
  while (k > 0 && ((unsigned char)s[k - 1] & 0xC0) == 0x80)
    k--;
  if (k == 0)
    return;
  unsigned char lead = (unsigned char)s[k - 1];
  size_t want = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
  if (n - (k - 1) < want)
    s[k - 1] = '\0';
}

static void copy(char *dst, size_t size, const char *src) {
  size_t n = src ? strlen(src) : 0;
  int cut = n >= size;
  if (cut)
    n = size - 1;
  if (n)
    memcpy(dst, src, n);
  dst[n] = '\0';
  if (cut)
    utf8_trim(dst);
}

static const char *str_of(const json_t *data, const char *key) {
  const json_t *v = json_is_object(data) ? json_object_get(data, key) : NULL;
  return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The counts the fold adds up: a number beyond 2^53 in magnitude (past
 * what JSON carries exactly; 1e300 past long long itself) counts as
 * absent, so sums of them cannot overflow. */
#define COUNT_MAX 9007199254740992LL

static long long int_of(const json_t *data, const char *key, long long def) {
  const json_t *v = json_is_object(data) ? json_object_get(data, key) : NULL;
  if (json_is_integer(v) && json_integer_value(v) >= -COUNT_MAX &&
      json_integer_value(v) <= COUNT_MAX)
    return (long long)json_integer_value(v);
  if (json_is_real(v) && json_real_value(v) >= -(double)COUNT_MAX &&
      json_real_value(v) <= (double)COUNT_MAX)
    return (long long)json_real_value(v);
  return def;
}

static double num_of(const json_t *data, const char *key) {
  const json_t *v = json_is_object(data) ? json_object_get(data, key) : NULL;
  return json_is_number(v) ? json_number_value(v) : 0.0;
}

int ds_iccid_serial(const char *iccid, unsigned long long *serial) {
  size_t n = iccid ? strlen(iccid) : 0;
  if (n < 19 || n > 20 || iccid[0] != '8' || iccid[1] != '9')
    return -1;
  unsigned long long v = 0;
  for (size_t i = 0; i + 1 < n; i++) {
    if (!isdigit((unsigned char)iccid[i]))
      return -1;
    v = v * 10 + (unsigned long long)(iccid[i] - '0');
  }
  if (!isdigit((unsigned char)iccid[n - 1]))
    return -1;
  *serial = v;
  return 0;
}

void ds_mask_msisdn(const char *msisdn, char *out, size_t len) {
  size_t n = msisdn ? strlen(msisdn) : 0;
  if (!len)
    return;
  if (n < 7) {
    copy(out, len, n ? "***" : "");
    return;
  }
  snprintf(out, len, "%.4s***%s", msisdn, msisdn + n - 4);
}

/* ---- the SIMs: ranges of ICCID serials with one state each ---- */

/* Every transition of sim_state.h goes to a later state in this order. */
static const signed char state_rank[IV_ST_COUNT] = {
    [IV_ST_PRODUCED] = 0,  [IV_ST_PROVISIONED] = 1, [IV_ST_HLR_FAILED] = 1,
    [IV_ST_HANDED_OVER] = 2, [IV_ST_IN_STOCK] = 3,  [IV_ST_AT_SHOP] = 4,
    [IV_ST_CONNECTED] = 5, [IV_ST_SOLD] = 6,        [IV_ST_DELIVERED] = 7,
    [IV_ST_RETURNED] = 8,  [IV_ST_FAULTY] = 9};

/* How far along the life's main line a state is (0 produced .. 7
 * delivered); -1 off it (hlr_failed, faulty, returned). */
static int life_rank(int st) {
  switch (st) {
  case IV_ST_HLR_FAILED:
  case IV_ST_FAULTY:
  case IV_ST_RETURNED:
    return -1;
  default:
    return state_rank[st];
  }
}

#define LIFE_MAX 8 /* life ranks 0..7 */

typedef struct {
  unsigned long long lo, hi; /* serials, inclusive */
  signed char state;         /* iv_state */
  signed char reached;       /* the furthest life rank reached */
  char ctkv[IV_ID_MAX + 1];
  char shop[IV_ID_MAX + 1];
} span;

/* ---- what the events say ---- */

typedef struct {
  char id[64], order_id[64], kind[16], state[24];
  int state_rank;
  long long state_ms;
  long long quantity, input_qty, output_sims;
  long long seq;
  int have_range;
  unsigned long long lo, hi;
  int have_prov, prov_applied;
  long long loaded, already, failed, prov_ms;
  double duration_s;
  char (*fail_iccid)[24];
  size_t nfail;
} batch;

typedef struct {
  char id[64], bcycp_ref[64], vendor_id[48], profile[24], state[24];
  long long quantity, state_ms, accepted_ms;
} order;

typedef struct {
  char id[48], notice_ref[64], agency[128], ctkv[IV_ID_MAX + 1];
  char msisdn[24], iccid[24];
  long long received_ms, closed_ms;
  time_t deadline;
  int has_deadline, deadline_from_notifier;
  int reminded, breached, contacted, closed, wants_new;
} acase;

typedef struct {
  long long ms, sims;
  double duration_s;
  char batch_id[64];
} hlr_report;

typedef struct {
  long long ms;
  int step;
  char time[32];
  char type[48];
  char subject[96];
  char who[64];
  char order_id[48], batch_id[64], vendor_id[48], case_id[48], corr[64];
  unsigned long long serial;
  int has_serial;
  char summary[200];
} ev_entry;

struct ds_state {
  const sp_cal *cal;
  sp_flow flow;
  unsigned long events, unreadable;
  long long last_ms;

  span *spans;
  size_t nspans, capspans;

  batch *batches;
  size_t nbatches, capbatches;
  order *orders;
  size_t norders, caporders;
  acase *cases;
  size_t ncases, capcases;
  hlr_report *hlr;
  size_t nhlr, caphlr;

  ev_entry *log; /* a ring of DS_EVENTS_MAX */
  size_t nlog, nextlog;
  unsigned long dropped;
};

/* Grow an array of elements of size sz to hold one more. */
static int grow(void **arr, size_t *cap, size_t n, size_t sz) {
  if (n < *cap)
    return 0;
  size_t nc = *cap ? *cap * 2 : 16;
  void *p = realloc(*arr, nc * sz);
  if (!p)
    return -1;
  *arr = p;
  *cap = nc;
  return 0;
}

ds_state *ds_state_new(const sp_cal *cal) {
  ds_state *s = calloc(1, sizeof *s);
  if (!s)
    return NULL;
  s->cal = cal;
  sp_flow_init(&s->flow);
  s->log = calloc(DS_EVENTS_MAX, sizeof *s->log);
  if (!s->log) {
    free(s);
    return NULL;
  }
  return s;
}

void ds_state_free(ds_state *s) {
  if (!s)
    return;
  for (size_t i = 0; i < s->nbatches; i++)
    free(s->batches[i].fail_iccid);
  free(s->batches);
  free(s->orders);
  free(s->cases);
  free(s->hlr);
  free(s->spans);
  free(s->log);
  free(s);
}

unsigned long ds_state_events(const ds_state *s) { return s->events; }

void ds_state_unreadable(ds_state *s) { s->unreadable++; }

/* Merge a state change into one range. */
static void span_merge(span *p, int st, const char *ctkv, const char *shop) {
  if (state_rank[st] >= state_rank[(int)p->state]) {
    p->state = (signed char)st;
    if (ctkv && *ctkv)
      copy(p->ctkv, sizeof p->ctkv, ctkv);
    if (shop && *shop)
      copy(p->shop, sizeof p->shop, shop);
  } else {
    /* An older event read late: it may still say where the SIM is. */
    if (!p->ctkv[0] && ctkv)
      copy(p->ctkv, sizeof p->ctkv, ctkv);
    if (!p->shop[0] && shop)
      copy(p->shop, sizeof p->shop, shop);
  }
  int life = life_rank(st);
  if (life > p->reached)
    p->reached = (signed char)life;
}

static int same_attrs(const span *a, const span *b) {
  return a->state == b->state && a->reached == b->reached &&
         !strcmp(a->ctkv, b->ctkv) && !strcmp(a->shop, b->shop);
}

/* The first span whose hi >= v (nspans when none). */
static size_t span_from(const ds_state *s, unsigned long long v) {
  size_t lo = 0, hi = s->nspans;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (s->spans[mid].hi < v)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* Set the SIMs lo..hi to state st (forward only), at ctkv and shop (may be
 * NULL or ""). Only the spans that meet lo..hi are rebuilt, and spliced
 * back: a single SIM's event costs a binary search and a move of the spans
 * after it. */
static int sims_set(ds_state *s, unsigned long long lo, unsigned long long hi,
                    int st, const char *ctkv, const char *shop) {
  if (lo > hi || st < 0 || st >= IV_ST_COUNT)
    return -1;
  size_t i = span_from(s, lo), j = i;
  while (j < s->nspans && s->spans[j].lo <= hi)
    j++;
  /* spans[i..j) meet lo..hi. Each yields at most three, each gap one more;
   * a neighbour on either side may merge in. */
  size_t start = i > 0 ? i - 1 : i, end = j < s->nspans ? j + 1 : j;
  size_t cap = (end - start) * 3 + 3, n = 0;
  span *out = malloc(cap * sizeof *out);
  if (!out)
    return -1;
  for (size_t k = start; k < i; k++)
    out[n++] = s->spans[k];
  unsigned long long cur = lo;
  int done = 0;
  for (size_t k = i; k < j; k++) {
    span sp = s->spans[k];
    if (sp.lo < cur) { /* the part before lo stays as it was */
      span before = sp;
      before.hi = cur - 1;
      out[n++] = before;
      sp.lo = cur;
    }
    if (sp.lo > cur) { /* a gap: SIMs not seen yet */
      span gap = {.lo = cur, .hi = sp.lo - 1, .state = (signed char)st};
      span_merge(&gap, st, ctkv, shop);
      out[n++] = gap;
    }
    span part = sp;
    if (part.hi > hi)
      part.hi = hi;
    span_merge(&part, st, ctkv, shop);
    out[n++] = part;
    if (sp.hi > hi) {
      span after = sp;
      after.lo = hi + 1;
      out[n++] = after;
    }
    if (sp.hi >= hi) {
      done = 1;
      break;
    }
    cur = sp.hi + 1;
  }
  if (!done) {
    span gap = {.lo = cur, .hi = hi, .state = (signed char)st};
    span_merge(&gap, st, ctkv, shop);
    out[n++] = gap;
  }
  for (size_t k = j; k < end; k++)
    out[n++] = s->spans[k];
  /* Neighbours alike become one. */
  size_t m = 0;
  for (size_t k = 0; k < n; k++) {
    if (m && out[m - 1].hi + 1 == out[k].lo && same_attrs(&out[m - 1], &out[k]))
      out[m - 1].hi = out[k].hi;
    else
      out[m++] = out[k];
  }
  /* Splice out[0..m) in place of spans[start..end). */
  size_t old = end - start, total = s->nspans - old + m;
  if (total > s->capspans) {
    size_t nc = s->capspans ? s->capspans : 64;
    while (nc < total)
      nc *= 2;
    span *np = realloc(s->spans, nc * sizeof *np);
    if (!np) {
      free(out);
      return -1;
    }
    s->spans = np;
    s->capspans = nc;
  }
  memmove(s->spans + start + m, s->spans + end,
          (s->nspans - end) * sizeof *s->spans);
  memcpy(s->spans + start, out, m * sizeof *out);
  s->nspans = total;
  free(out);
  return 0;
}

static int sims_set_iccids(ds_state *s, const char *first, const char *last,
                           int st, const char *ctkv, const char *shop) {
  unsigned long long lo, hi;
  if (ds_iccid_serial(first, &lo) || ds_iccid_serial(last ? last : first, &hi))
    return -1;
  return sims_set(s, lo, hi, st, ctkv, shop);
}

/* ---- orders, batches, cases ---- */

static order *order_get(ds_state *s, const char *id, int add) {
  if (!id || !*id)
    return NULL;
  for (size_t i = 0; i < s->norders; i++)
    if (!strcmp(s->orders[i].id, id))
      return &s->orders[i];
  if (!add || grow((void **)&s->orders, &s->caporders, s->norders,
                   sizeof *s->orders))
    return NULL;
  order *o = &s->orders[s->norders++];
  memset(o, 0, sizeof *o);
  copy(o->id, sizeof o->id, id);
  return o;
}

static batch *batch_get(ds_state *s, const char *id, int add) {
  if (!id || !*id)
    return NULL;
  for (size_t i = 0; i < s->nbatches; i++)
    if (!strcmp(s->batches[i].id, id))
      return &s->batches[i];
  if (!add || grow((void **)&s->batches, &s->capbatches, s->nbatches,
                   sizeof *s->batches))
    return NULL;
  batch *b = &s->batches[s->nbatches++];
  memset(b, 0, sizeof *b);
  b->state_rank = -1;
  copy(b->id, sizeof b->id, id);
  return b;
}

static const batch *batch_of_serial(const ds_state *s, unsigned long long v) {
  for (size_t i = 0; i < s->nbatches; i++)
    if (s->batches[i].have_range && s->batches[i].lo <= v &&
        v <= s->batches[i].hi)
      return &s->batches[i];
  return NULL;
}

static acase *case_get(ds_state *s, const char *id, int add) {
  if (!id || !*id)
    return NULL;
  for (size_t i = 0; i < s->ncases; i++)
    if (!strcmp(s->cases[i].id, id))
      return &s->cases[i];
  if (!add ||
      grow((void **)&s->cases, &s->capcases, s->ncases, sizeof *s->cases))
    return NULL;
  acase *c = &s->cases[s->ncases++];
  memset(c, 0, sizeof *c);
  copy(c->id, sizeof c->id, id);
  return c;
}

/* Which of two values wins, the same whatever the order they are read in:
 * the higher rank, then the later time, then the greater name. */
static int later(int rank, long long ms, const char *name, int cur_rank,
                 long long cur_ms, const char *cur_name) {
  if (rank != cur_rank)
    return rank > cur_rank;
  if (ms != cur_ms)
    return ms > cur_ms;
  return strcmp(name, cur_name) >= 0;
}

/* A batch's stage: the furthest reached (events may be read late); of two
 * at the same stage (an input file failed, then issued), the later. */
static void batch_stage(batch *b, const char *state, int rank, long long ms) {
  if (later(rank, ms, state, b->state_rank, b->state_ms, b->state)) {
    b->state_rank = rank;
    b->state_ms = ms;
    copy(b->state, sizeof b->state, state);
  }
}

static int cmp_ull(const void *a, const void *b) {
  unsigned long long x = *(const unsigned long long *)a;
  unsigned long long y = *(const unsigned long long *)b;
  return x < y ? -1 : x > y;
}

/* The HLR report's effect on the SIMs, once the batch's range is known:
 * the failed SIMs it names (up to 100) hlr_failed, the others loaded. */
static void batch_apply_report(ds_state *s, batch *b) {
  if (!b->have_range || !b->have_prov || b->prov_applied)
    return;
  b->prov_applied = 1;
  if (b->loaded + b->already == 0 && b->failed > 0) {
    sims_set(s, b->lo, b->hi, IV_ST_HLR_FAILED, NULL, NULL);
    return;
  }
  unsigned long long failed[100];
  size_t nf = 0;
  for (size_t i = 0; i < b->nfail && nf < 100; i++)
    if (ds_iccid_serial(b->fail_iccid[i], &failed[nf]) == 0 &&
        failed[nf] >= b->lo && failed[nf] <= b->hi)
      nf++;
  qsort(failed, nf, sizeof *failed, cmp_ull);
  unsigned long long cur = b->lo;
  for (size_t i = 0; i < nf; i++) {
    if (failed[i] < cur)
      continue; /* named twice */
    if (failed[i] > cur)
      sims_set(s, cur, failed[i] - 1, IV_ST_PROVISIONED, NULL, NULL);
    sims_set(s, failed[i], failed[i], IV_ST_HLR_FAILED, NULL, NULL);
    cur = failed[i] + 1;
  }
  if (cur <= b->hi)
    sims_set(s, cur, b->hi, IV_ST_PROVISIONED, NULL, NULL);
}

static void batch_range(ds_state *s, batch *b, const json_t *d) {
  unsigned long long lo, hi;
  if (ds_iccid_serial(str_of(d, "iccid_first"), &lo) ||
      ds_iccid_serial(str_of(d, "iccid_last"), &hi) || lo > hi)
    return;
  b->have_range = 1;
  b->lo = lo;
  b->hi = hi;
  batch_apply_report(s, b);
}

static void apply_batch_event(ds_state *s, const char *type, const json_t *d,
                              long long ms) {
  const char *id = str_of(d, "batch_id");
  if (!strcmp(type, "vendor.pilot_started") ||
      !strcmp(type, "vendor.pilot_passed") ||
      !strcmp(type, "vendor.pilot_failed"))
    id = str_of(d, "pilot_batch_id");
  batch *b = batch_get(s, id, 1);
  if (!b)
    return;
  const char *oid = str_of(d, "order_id");
  if (oid && !b->order_id[0])
    copy(b->order_id, sizeof b->order_id, oid);
  if (!strcmp(type, "batch.released") || !strcmp(type, "batch.held")) {
    copy(b->kind, sizeof b->kind, str_of(d, "kind"));
    b->quantity = int_of(d, "quantity", b->quantity);
    b->seq = int_of(d, "seq", b->seq);
    if (!strcmp(type, "batch.held"))
      batch_stage(b, "held", 0, ms);
    else
      batch_stage(b, "released", 1, ms);
  } else if (!strcmp(type, "vendor.pilot_started")) {
    copy(b->kind, sizeof b->kind, "pilot");
    if (!b->quantity)
      b->quantity = int_of(d, "quantity", 0);
  } else if (!strcmp(type, "batch.input_issued")) {
    b->input_qty = int_of(d, "quantity", 0);
    batch_stage(b, "input_issued", 2, ms);
    batch_range(s, b, d);
  } else if (!strcmp(type, "batch.input_failed")) {
    batch_stage(b, "input_failed", 2, ms);
  } else if (!strcmp(type, "batch.output_accepted")) {
    b->output_sims = int_of(d, "sims", 0);
    batch_stage(b, "output_accepted", 3, ms);
    sims_set_iccids(s, str_of(d, "iccid_first"), str_of(d, "iccid_last"),
                    IV_ST_PRODUCED, NULL, NULL);
    batch_range(s, b, d);
  } else if (!strcmp(type, "batch.output_rejected")) {
    batch_stage(b, "output_rejected", 3, ms);
  } else if (!strcmp(type, "batch.provisioned")) {
    if (b->have_prov)
      return; /* one report per batch */
    b->have_prov = 1;
    b->loaded = int_of(d, "loaded", 0);
    b->already = int_of(d, "already_present", 0);
    b->failed = int_of(d, "failed", 0);
    /* A duration past what a load takes (or below 0) counts as none: it
     * becomes milliseconds as a long long (hlr_json). */
    double dur = num_of(d, "duration_s");
    b->duration_s = dur >= 0 && dur <= 1e7 ? dur : 0;
    b->prov_ms = ms;
    const json_t *f = json_object_get(d, "failures");
    size_t nf = json_is_array(f) ? json_array_size(f) : 0;
    if (nf > 100)
      nf = 100;
    if (nf && (b->fail_iccid = calloc(nf, sizeof *b->fail_iccid))) {
      for (size_t i = 0; i < nf; i++) {
        const char *ic = str_of(json_array_get(f, i), "iccid");
        if (ic)
          copy(b->fail_iccid[b->nfail++], sizeof *b->fail_iccid, ic);
      }
    }
    batch_stage(b, "provisioned", 4, ms);
    if (!grow((void **)&s->hlr, &s->caphlr, s->nhlr, sizeof *s->hlr)) {
      hlr_report *r = &s->hlr[s->nhlr++];
      r->ms = ms;
      r->sims = b->loaded + b->already;
      r->duration_s = b->duration_s;
      copy(r->batch_id, sizeof r->batch_id, b->id);
    }
    batch_apply_report(s, b);
  } else if (!strcmp(type, "batch.passed") ||
             !strcmp(type, "vendor.pilot_passed")) {
    batch_stage(b, "passed", 5, ms);
  } else if (!strcmp(type, "batch.failed") ||
             !strcmp(type, "vendor.pilot_failed")) {
    batch_stage(b, "failed", 5, ms);
  }
}

static void apply_order_event(ds_state *s, const char *type, const json_t *d,
                              long long ms) {
  order *o = order_get(s, str_of(d, "order_id"), 1);
  if (!o)
    return;
  const char *v;
  if ((v = str_of(d, "bcycp_ref")))
    copy(o->bcycp_ref, sizeof o->bcycp_ref, v);
  if ((v = str_of(d, "vendor_id")))
    copy(o->vendor_id, sizeof o->vendor_id, v);
  if ((v = str_of(d, "profile")))
    copy(o->profile, sizeof o->profile, v);
  if (!strcmp(type, "order.accepted")) {
    o->quantity = int_of(d, "quantity", o->quantity);
    o->accepted_ms = ms;
  }
  /* The latest state by the events' own times. */
  if ((v = str_of(d, "state")) && later(0, ms, v, 0, o->state_ms, o->state)) {
    copy(o->state, sizeof o->state, v);
    o->state_ms = ms;
  }
}

static void apply_case_event(ds_state *s, const char *type, const json_t *d,
                             long long ms) {
  acase *c = case_get(s, str_of(d, "case_id"), 1);
  if (!c)
    return;
  const char *v;
  if (!strcmp(type, "case.opened")) {
    copy(c->notice_ref, sizeof c->notice_ref, str_of(d, "notice_ref"));
    copy(c->agency, sizeof c->agency, str_of(d, "agency"));
    if ((v = str_of(d, "ctkv")))
      copy(c->ctkv, sizeof c->ctkv, v);
    if (!c->msisdn[0] && (v = str_of(d, "msisdn")))
      copy(c->msisdn, sizeof c->msisdn, v);
    const json_t *w = json_object_get(d, "wants_new_number");
    c->wants_new = json_is_true(w);
    long long rms;
    if (sp_flow_parse_time(str_of(d, "received_at"), &rms) == 0) {
      c->received_ms = rms;
      time_t dl;
      char err[128];
      if (!c->deadline_from_notifier && s->cal &&
          sp_cal_deadline(s->cal, (time_t)(rms / 1000), 3, &dl, err,
                          sizeof err) == 0) {
        c->deadline = dl;
        c->has_deadline = 1;
      }
    }
  } else if (!strcmp(type, "case.reminded") ||
             !strcmp(type, "case.breached")) {
    if (!strcmp(type, "case.reminded"))
      c->reminded = 1;
    else
      c->breached = 1;
    long long dms;
    if (sp_flow_parse_time(str_of(d, "deadline"), &dms) == 0) {
      c->deadline = (time_t)(dms / 1000);
      c->has_deadline = 1;
      c->deadline_from_notifier = 1;
    }
  } else if (!strcmp(type, "case.contacted")) {
    c->contacted = 1;
  } else if (!strcmp(type, "case.closed")) {
    c->closed = 1;
    c->closed_ms = ms;
    if ((v = str_of(d, "iccid")))
      copy(c->iccid, sizeof c->iccid, v);
    if ((v = str_of(d, "msisdn")))
      copy(c->msisdn, sizeof c->msisdn, v);
  }
}

static void apply_sim_event(ds_state *s, const char *type, const json_t *d) {
  const char *ctkv = str_of(d, "ctkv"), *shop = str_of(d, "shop");
  static const struct {
    const char *type;
    int state;
    int range;
  } map[] = {{"sims.handed_over", IV_ST_HANDED_OVER, 1},
             {"sims.stocked_in", IV_ST_IN_STOCK, 1},
             {"sims.transferred", IV_ST_AT_SHOP, 1},
             {"sims.walked_in", IV_ST_AT_SHOP, 1},
             {"sim.connected", IV_ST_CONNECTED, 0},
             {"sim.sold", IV_ST_SOLD, 0},
             {"sim.delivered", IV_ST_DELIVERED, 0},
             {"sim.faulty", IV_ST_FAULTY, 0},
             {"sim.returned", IV_ST_RETURNED, 0}};
  for (size_t i = 0; i < sizeof map / sizeof *map; i++) {
    if (strcmp(map[i].type, type))
      continue;
    if (map[i].range)
      sims_set_iccids(s, str_of(d, "iccid_first"), str_of(d, "iccid_last"),
                      map[i].state, ctkv, shop);
    else
      sims_set_iccids(s, str_of(d, "iccid"), NULL, map[i].state, ctkv, shop);
    break;
  }
  /* The SIM connected for a case tells the case's order. */
  const char *cid = str_of(d, "case_id");
  if (!strcmp(type, "sim.connected") && cid) {
    acase *c = case_get(s, cid, 1);
    if (c && !c->iccid[0])
      copy(c->iccid, sizeof c->iccid, str_of(d, "iccid"));
  }
}

/* ---- the event log ---- */

static const char *who_of(const sp_event *ev) {
  static const char *keys[] = {"by", "signed_by", "recipient_role"};
  for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
    const char *v = str_of(ev->data, keys[i]);
    if (v && *v)
      return v;
  }
  const json_t *sig = json_object_get(ev->data, "signature");
  const char *signer = str_of(sig, "signer");
  if (signer && *signer)
    return signer;
  const char *src = ev->source;
  const char *slash = strrchr(src, '/');
  return slash ? slash + 1 : src;
}

/* A short line of what the event says, without identity numbers. */
static void summary_of(const sp_event *ev, char *out, size_t len) {
  static const struct {
    const char *key, *label;
  } keys[] = {{"bcycp_ref", ""},      {"kind", ""},
              {"quantity", "SL "},    {"sims", "SIM "},
              {"loaded", "nạp "},     {"already_present", "có sẵn "},
              {"failed", "lỗi "},     {"duration_s", "giây "},
              {"ctkv", ""},           {"shop", ""},
              {"iccid_first", ""},    {"iccid_last", "→ "},
              {"iccid", ""},          {"msisdn", "TB "},
              {"package", "gói "},    {"invoice_number", "HĐ "},
              {"total", "tổng "},     {"case_id", ""},
              {"notice_ref", ""},     {"persons", "người "},
              {"deadline", "hạn "},   {"state", ""},
              {"vendor_id", ""},      {"evidence", ""},
              {"channel", ""},        {"reason", ""}};
  size_t n = 0;
  out[0] = '\0';
  for (size_t i = 0; i < sizeof keys / sizeof *keys && n + 1 < len; i++) {
    const json_t *v = json_object_get(ev->data, keys[i].key);
    char val[96];
    if (json_is_string(v)) {
      if (!strcmp(keys[i].key, "msisdn"))
        ds_mask_msisdn(json_string_value(v), val, sizeof val);
      else
        copy(val, sizeof val, json_string_value(v));
    } else if (json_is_integer(v)) {
      snprintf(val, sizeof val, "%lld", (long long)json_integer_value(v));
    } else if (json_is_real(v)) {
      snprintf(val, sizeof val, "%.3g", json_real_value(v));
    } else {
      continue;
    }
    int w = snprintf(out + n, len - n, "%s%s%s", n ? ", " : "", keys[i].label,
                     val);
    if (w < 0)
      break;
    n += (size_t)w < len - n ? (size_t)w : len - n - 1;
  }
  utf8_trim(out); /* snprintf may have cut a character */
}

static void log_event(ds_state *s, const sp_event *ev, int step,
                      long long ms) {
  ev_entry *e = &s->log[s->nextlog];
  if (s->nlog == DS_EVENTS_MAX)
    s->dropped++;
  memset(e, 0, sizeof *e);
  e->ms = ms;
  e->step = step;
  copy(e->time, sizeof e->time, ev->time);
  copy(e->type, sizeof e->type, ev->type);
  copy(e->subject, sizeof e->subject, ev->subject);
  copy(e->who, sizeof e->who, who_of(ev));
  copy(e->corr, sizeof e->corr, ev->correlationid);
  const json_t *d = ev->data;
  copy(e->order_id, sizeof e->order_id, str_of(d, "order_id"));
  const char *b = str_of(d, "batch_id");
  if (!b)
    b = str_of(d, "pilot_batch_id");
  copy(e->batch_id, sizeof e->batch_id, b);
  copy(e->vendor_id, sizeof e->vendor_id, str_of(d, "vendor_id"));
  copy(e->case_id, sizeof e->case_id, str_of(d, "case_id"));
  const char *ic = str_of(d, "iccid");
  if (!ic)
    ic = str_of(d, "iccid_first");
  e->has_serial = ic && ds_iccid_serial(ic, &e->serial) == 0;
  summary_of(ev, e->summary, sizeof e->summary);
  s->nextlog = (s->nextlog + 1) % DS_EVENTS_MAX;
  if (s->nlog < DS_EVENTS_MAX)
    s->nlog++;
}

static const ev_entry *log_at(const ds_state *s, size_t i) {
  size_t oldest = (s->nextlog + DS_EVENTS_MAX - s->nlog) % DS_EVENTS_MAX;
  return &s->log[(oldest + i) % DS_EVENTS_MAX];
}

int ds_state_apply(ds_state *s, const sp_event *ev) {
  s->events++;
  int step = sp_flow_apply(&s->flow, ev->type, ev->subject, ev->time,
                           ev->data);
  if (step < 0)
    return -1;
  long long ms = 0;
  if (sp_flow_parse_time(ev->time, &ms) != 0)
    ms = 0;
  if (ms > s->last_ms)
    s->last_ms = ms;
  const char *t = ev->type;
  const json_t *d = ev->data;
  if (!strncmp(t, "batch.", 6) || !strncmp(t, "vendor.pilot_", 13))
    apply_batch_event(s, t, d, ms);
  if (!strncmp(t, "order.", 6) && str_of(d, "order_id"))
    apply_order_event(s, t, d, ms);
  if (!strncmp(t, "case.", 5))
    apply_case_event(s, t, d, ms);
  if (!strncmp(t, "sims.", 5) || !strncmp(t, "sim.", 4))
    apply_sim_event(s, t, d);
  log_event(s, ev, step, ms);
  return step;
}

/* ---- drawing the state as JSON ---- */

/* The funnel's steps, in order, and the life rank that completes each
 * (B2, B3, B4 come from the batch events). */
static const struct {
  const char *code;
  int life; /* -1: from the batch's counts */
} funnel_steps[] = {{"B2", -1}, {"B3", -1}, {"B4", -1}, {"B6", 1},
                    {"B7", 2},  {"B8", 3},  {"SHOP", 4}, {"B9", 5},
                    {"B10", 6}, {"B11", 7}};
#define NFUNNEL (sizeof funnel_steps / sizeof *funnel_steps)

typedef struct {
  long long state[IV_ST_COUNT];
  long long reached[LIFE_MAX]; /* SIMs that reached at least rank i */
  long long released, input, output;
} tally;

static void tally_range(const ds_state *s, unsigned long long lo,
                        unsigned long long hi, tally *t) {
  for (size_t i = span_from(s, lo); i < s->nspans; i++) {
    const span *p = &s->spans[i];
    if (p->lo > hi)
      break;
    unsigned long long a = p->lo > lo ? p->lo : lo;
    unsigned long long b = p->hi < hi ? p->hi : hi;
    long long n = (long long)(b - a + 1);
    t->state[(int)p->state] += n;
    for (int r = 0; r <= p->reached && r < LIFE_MAX; r++)
      t->reached[r] += n;
  }
}

static void tally_batch(const ds_state *s, const batch *b, tally *t) {
  memset(t, 0, sizeof *t);
  if (b->state_rank >= 1)
    t->released = b->quantity;
  t->input = b->input_qty;
  t->output = b->output_sims;
  if (b->have_range)
    tally_range(s, b->lo, b->hi, t);
}

static void tally_add(tally *a, const tally *b) {
  for (int i = 0; i < IV_ST_COUNT; i++)
    a->state[i] += b->state[i];
  for (int i = 0; i < LIFE_MAX; i++)
    a->reached[i] += b->reached[i];
  a->released += b->released;
  a->input += b->input;
  a->output += b->output;
}

static json_t *counts_json(const tally *t) {
  json_t *o = json_object();
  for (int i = 0; i < IV_ST_COUNT; i++)
    json_object_set_new(o, iv_state_name((iv_state)i),
                        json_integer(t->state[i]));
  return o;
}

static json_t *funnel_json(const tally *t) {
  json_t *a = json_array();
  for (size_t i = 0; i < NFUNNEL; i++) {
    long long n = funnel_steps[i].life >= 0
                      ? t->reached[funnel_steps[i].life]
                      : i == 0 ? t->released : i == 1 ? t->input : t->output;
    json_array_append_new(a, json_pack("{s:s, s:I}", "code",
                                       funnel_steps[i].code, "sims",
                                       (json_int_t)n));
  }
  return a;
}

static json_t *batch_json(const ds_state *s, const batch *b, tally *t) {
  tally_batch(s, b, t);
  json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:s, s:I}", "batch_id", b->id,
                        "order_id", b->order_id, "kind",
                        b->kind[0] ? b->kind : "production", "seq",
                        (json_int_t)b->seq, "state",
                        b->state[0] ? b->state : "?", "quantity",
                        (json_int_t)b->quantity);
  json_object_set_new(o, "counts", counts_json(t));
  json_object_set_new(o, "funnel", funnel_json(t));
  if (b->have_prov)
    json_object_set_new(
        o, "hlr",
        json_pack("{s:I, s:I, s:I, s:f}", "loaded", (json_int_t)b->loaded,
                  "already_present", (json_int_t)b->already, "failed",
                  (json_int_t)b->failed, "duration_s", b->duration_s));
  return o;
}

static json_t *order_head_json(const ds_state *s, const order *o,
                               tally *total) {
  json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "order_id", o->id,
                        "bcycp_ref", o->bcycp_ref, "vendor_id", o->vendor_id,
                        "profile", o->profile, "state",
                        o->state[0] ? o->state : "?", "quantity",
                        (json_int_t)o->quantity);
  json_t *bs = json_array();
  memset(total, 0, sizeof *total);
  for (size_t i = 0; i < s->nbatches; i++) {
    const batch *b = &s->batches[i];
    if (strcmp(b->order_id, o->id))
      continue;
    tally t;
    json_array_append_new(bs, batch_json(s, b, &t));
    tally_add(total, &t);
  }
  json_object_set_new(j, "batches", bs);
  json_object_set_new(j, "counts", counts_json(total));
  json_object_set_new(j, "funnel", funnel_json(total));
  return j;
}

static void iso_of_ms(long long ms, char out[32]) {
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[96]; /* roomy: the compiler cannot bound tm's fields */
  snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
           tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
           (int)(ms % 1000));
  copy(out, 32, buf);
}

static const char *order_of_serial(const ds_state *s, unsigned long long v) {
  const batch *b = batch_of_serial(s, v);
  return b && b->order_id[0] ? b->order_id : NULL;
}

static const char *case_order(const ds_state *s, const acase *c) {
  unsigned long long v;
  if (c->iccid[0] && ds_iccid_serial(c->iccid, &v) == 0)
    return order_of_serial(s, v);
  return NULL;
}

static const char *case_status(const acase *c, long long now_ms) {
  if (c->closed)
    return "closed";
  if (c->contacted)
    return "contacted";
  if (c->breached ||
      (c->has_deadline && now_ms / 1000 > (long long)c->deadline))
    return "breached";
  if (c->reminded || (c->has_deadline &&
                      (long long)c->deadline - now_ms / 1000 < 86400))
    return "due";
  return "open";
}

static json_t *case_json(const ds_state *s, const acase *c, long long now_ms) {
  char dl[SP_CAL_TIME_LEN + 1] = "", rec[32] = "", ms[24];
  if (c->has_deadline)
    sp_cal_format_time(c->deadline, dl);
  if (c->received_ms)
    iso_of_ms(c->received_ms, rec);
  ds_mask_msisdn(c->msisdn, ms, sizeof ms);
  const char *oid = case_order(s, c);
  json_t *j = json_pack(
      "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:b}", "case_id", c->id,
      "notice_ref", c->notice_ref, "agency", c->agency, "ctkv", c->ctkv,
      "msisdn", ms, "received_at", rec, "deadline", dl, "status",
      case_status(c, now_ms), "reminded", c->reminded, "new_number",
      c->wants_new);
  if (!j)
    return json_object();
  json_object_set_new(j, "order_id", oid ? json_string(oid) : json_null());
  if (c->has_deadline)
    json_object_set_new(
        j, "seconds_left",
        json_integer((json_int_t)((long long)c->deadline - now_ms / 1000)));
  return j;
}

static json_t *event_json(const ev_entry *e) {
  const sp_flow_step *st = sp_flow_step_at(e->step);
  return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "time",
                   e->time, "step", st ? st->code : "", "label",
                   st ? st->label : "", "term", st ? st->term : "", "type",
                   e->type, "subject", e->subject, "who", e->who, "summary",
                   e->summary);
}

/* The order an event belongs to, when the page is drawn. */
static const char *event_order(const ds_state *s, const ev_entry *e) {
  if (e->order_id[0])
    return e->order_id;
  const batch *b = batch_get((ds_state *)s, e->batch_id, 0);
  if (b && b->order_id[0])
    return b->order_id;
  if (e->has_serial) {
    const char *o = order_of_serial(s, e->serial);
    if (o)
      return o;
  }
  if (e->case_id[0]) {
    const acase *c = case_get((ds_state *)s, e->case_id, 0);
    const char *o = c ? case_order(s, c) : NULL;
    if (o)
      return o;
  }
  if (e->corr[0] && order_get((ds_state *)s, e->corr, 0))
    return e->corr;
  return NULL;
}

static json_t *steps_json(const ds_state *s) {
  json_t *a = json_array();
  for (int i = 0; i < sp_flow_step_count(); i++) {
    const sp_flow_step *st = sp_flow_step_at(i);
    const sp_flow_counts *c = &s->flow.step[i];
    json_array_append_new(
        a, json_pack("{s:s, s:s, s:s, s:I, s:I}", "code", st->code, "label",
                     st->label, "term", st->term, "events",
                     (json_int_t)c->events, "sims", (json_int_t)c->sims));
  }
  return a;
}

static json_t *states_json(void) {
  static const char *labels[IV_ST_COUNT] = {
      [IV_ST_PRODUCED] = "Đã sản xuất",
      [IV_ST_PROVISIONED] = "Đã nạp AuC/HLR",
      [IV_ST_HLR_FAILED] = "Nạp HLR lỗi",
      [IV_ST_HANDED_OVER] = "Đã bàn giao CTKV",
      [IV_ST_IN_STOCK] = "Trong kho CTKV",
      [IV_ST_AT_SHOP] = "Tại cửa hàng",
      [IV_ST_CONNECTED] = "Đã đấu nối",
      [IV_ST_SOLD] = "Đã bán",
      [IV_ST_DELIVERED] = "Đã giao khách",
      [IV_ST_FAULTY] = "Hỏng",
      [IV_ST_RETURNED] = "Trả lại"};
  json_t *a = json_array();
  for (int i = 0; i < IV_ST_COUNT; i++) {
    const char *name = iv_state_name((iv_state)i);
    const sp_flow_step *st = sp_flow_step_at(sp_flow_step_of_sim_state(name));
    json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "state", name,
                                       "label", labels[i], "step",
                                       st ? st->code : ""));
  }
  return a;
}

static json_t *funnel_steps_json(void) {
  json_t *a = json_array();
  for (size_t i = 0; i < NFUNNEL; i++) {
    const sp_flow_step *st =
        sp_flow_step_at(sp_flow_step_by_code(funnel_steps[i].code));
    json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "code",
                                       funnel_steps[i].code, "label",
                                       st ? st->label : "", "term",
                                       st ? st->term : ""));
  }
  return a;
}

static json_t *ctkv_json(const ds_state *s) {
  /* The nine CTKVs always, and any other region the events name. */
  char names[64][IV_ID_MAX + 1];
  long long v[64][3];
  size_t n = 0;
  for (int i = 1; i <= 9; i++) {
    snprintf(names[n], sizeof names[n], "CTKV%d", i);
    memset(v[n++], 0, sizeof v[0]);
  }
  for (size_t i = 0; i < s->nspans; i++) {
    const span *p = &s->spans[i];
    if (!p->ctkv[0])
      continue;
    int col;
    switch (p->state) {
    case IV_ST_HANDED_OVER:
    case IV_ST_IN_STOCK:
    case IV_ST_AT_SHOP:
      col = 0;
      break;
    case IV_ST_CONNECTED:
      col = 1;
      break;
    case IV_ST_SOLD:
    case IV_ST_DELIVERED:
      col = 2;
      break;
    default:
      continue;
    }
    size_t k = 0;
    while (k < n && strcmp(names[k], p->ctkv))
      k++;
    if (k == n) {
      if (n == 64)
        continue;
      copy(names[n], sizeof names[n], p->ctkv);
      memset(v[n++], 0, sizeof v[0]);
    }
    v[k][col] += (long long)(p->hi - p->lo + 1);
  }
  json_t *a = json_array();
  for (size_t k = 0; k < n; k++)
    json_array_append_new(
        a, json_pack("{s:s, s:I, s:I, s:I}", "ctkv", names[k], "stock",
                     (json_int_t)v[k][0], "connected", (json_int_t)v[k][1],
                     "sold", (json_int_t)v[k][2]));
  return a;
}

/* SIMs loaded per minute over the hour before now, each report spread
 * evenly over its duration. */
static json_t *hlr_json(const ds_state *s, long long now_ms) {
  double per_min[60] = {0};
  long long start = now_ms - 3600 * 1000LL;
  json_t *reports = json_array();
  for (size_t i = 0; i < s->nhlr; i++) {
    const hlr_report *r = &s->hlr[i];
    long long dur = (long long)(r->duration_s * 1000.0);
    long long a = r->ms - dur, b = r->ms;
    for (int m = 0; m < 60; m++) {
      long long m0 = start + m * 60000LL, m1 = m0 + 60000LL;
      if (dur <= 0) {
        if (b >= m0 && b < m1)
          per_min[m] += (double)r->sims;
        continue;
      }
      long long lo = a > m0 ? a : m0, hi = b < m1 ? b : m1;
      if (hi > lo)
        per_min[m] += (double)r->sims * (double)(hi - lo) / (double)dur;
    }
    char t[32];
    iso_of_ms(r->ms, t);
    json_array_append_new(
        reports,
        json_pack("{s:s, s:s, s:I, s:f, s:f}", "batch_id", r->batch_id,
                  "time", t, "sims", (json_int_t)r->sims, "duration_s",
                  r->duration_s, "per_s",
                  r->duration_s > 0 ? (double)r->sims / r->duration_s : 0.0));
  }
  json_t *pm = json_array();
  for (int m = 0; m < 60; m++)
    json_array_append_new(pm, json_real(per_min[m]));
  char t0[32];
  iso_of_ms(start, t0);
  return json_pack("{s:s, s:o, s:o}", "from", t0, "per_minute", pm,
                   "reports", reports);
}

json_t *ds_state_json(const ds_state *s, long long now_ms) {
  json_t *root = json_object();
  if (!root)
    return NULL;
  char now[32], last[32] = "";
  iso_of_ms(now_ms, now);
  if (s->last_ms)
    iso_of_ms(s->last_ms, last);
  json_object_set_new(root, "generated_at", json_string(now));
  json_object_set_new(root, "events", json_integer((json_int_t)s->events));
  json_object_set_new(root, "unreadable",
                      json_integer((json_int_t)s->unreadable));
  json_object_set_new(root, "last_event_at", json_string(last));
  json_object_set_new(root, "steps", steps_json(s));
  json_object_set_new(root, "states", states_json());
  json_object_set_new(root, "funnel_steps", funnel_steps_json());

  tally all;
  memset(&all, 0, sizeof all);
  tally_range(s, 0, ~0ULL, &all);
  json_object_set_new(root, "sims", counts_json(&all));

  json_t *orders = json_array();
  for (size_t i = 0; i < s->norders; i++) {
    tally t;
    json_array_append_new(orders, order_head_json(s, &s->orders[i], &t));
  }
  /* Batches whose order never showed (its events are gone). */
  json_t *loose = json_array();
  for (size_t i = 0; i < s->nbatches; i++)
    if (!order_get((ds_state *)s, s->batches[i].order_id, 0)) {
      tally t;
      json_array_append_new(loose, batch_json(s, &s->batches[i], &t));
    }
  json_object_set_new(root, "orders", orders);
  json_object_set_new(root, "other_batches", loose);
  json_object_set_new(root, "ctkv", ctkv_json(s));

  json_t *cases = json_array();
  long long n_open = 0, n_due = 0, n_breached = 0, n_closed = 0,
            n_contacted = 0;
  for (size_t i = 0; i < s->ncases; i++) {
    const char *st = case_status(&s->cases[i], now_ms);
    n_open += !strcmp(st, "open");
    n_due += !strcmp(st, "due");
    n_breached += !strcmp(st, "breached");
    n_closed += !strcmp(st, "closed");
    n_contacted += !strcmp(st, "contacted");
    json_array_append_new(cases, case_json(s, &s->cases[i], now_ms));
  }
  json_object_set_new(
      root, "cases",
      json_pack("{s:I, s:I, s:I, s:I, s:I, s:o}", "open", (json_int_t)n_open,
                "due", (json_int_t)n_due, "breached", (json_int_t)n_breached,
                "contacted", (json_int_t)n_contacted, "closed",
                (json_int_t)n_closed, "list", cases));
  json_object_set_new(root, "hlr", hlr_json(s, now_ms));

  json_t *recent = json_array();
  size_t from = s->nlog > DS_RECENT ? s->nlog - DS_RECENT : 0;
  for (size_t i = s->nlog; i-- > from;) /* newest first */
    json_array_append_new(recent, event_json(log_at(s, i)));
  json_object_set_new(root, "recent", recent);
  return root;
}

static int by_time(const void *a, const void *b) {
  const ev_entry *x = *(const ev_entry *const *)a;
  const ev_entry *y = *(const ev_entry *const *)b;
  if (x->ms != y->ms)
    return x->ms < y->ms ? -1 : 1;
  return x < y ? -1 : x > y; /* stable: as read */
}

json_t *ds_state_order_json(const ds_state *s, const char *order_id,
                            long long now_ms) {
  const order *o = order_get((ds_state *)s, order_id, 0);
  if (!o)
    return NULL;
  tally t;
  json_t *j = order_head_json(s, o, &t);
  json_object_set_new(j, "funnel_steps", funnel_steps_json());
  json_object_set_new(j, "states", states_json());

  const ev_entry **mine = malloc((s->nlog + 1) * sizeof *mine);
  size_t n = 0;
  for (size_t i = 0; mine && i < s->nlog; i++) {
    const ev_entry *e = log_at(s, i);
    const char *oid = event_order(s, e);
    /* The vendor's registration and agreement come before its order. */
    if ((oid && !strcmp(oid, o->id)) ||
        (!oid && !strncmp(e->type, "vendor.", 7) && e->vendor_id[0] &&
         !strcmp(e->vendor_id, o->vendor_id)))
      mine[n++] = e;
  }
  json_t *tl = json_array();
  if (mine) {
    qsort(mine, n, sizeof *mine, by_time);
    for (size_t i = 0; i < n; i++)
      json_array_append_new(tl, event_json(mine[i]));
  }
  free(mine);
  json_object_set_new(j, "timeline", tl);
  json_object_set_new(j, "timeline_complete", json_boolean(s->dropped == 0));

  json_t *cases = json_array(), *open = json_array();
  for (size_t i = 0; i < s->ncases; i++) {
    const acase *c = &s->cases[i];
    const char *oid = case_order(s, c);
    if (oid && !strcmp(oid, o->id))
      json_array_append_new(cases, case_json(s, c, now_ms));
    else if (!oid && !c->closed && !c->contacted)
      json_array_append_new(open, case_json(s, c, now_ms));
  }
  json_object_set_new(j, "cases", cases);
  json_object_set_new(j, "cases_waiting", open);
  return j;
}
