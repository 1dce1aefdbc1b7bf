/* audit_state.c - the database's state rebuilt from the events, and the
 * comparison with the rows (audit_state.h). */
#include "audit_state.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_map.h"

/* SIM states, as services/inventory/sim_state.c names them. */
enum {
  ST_NONE,
  ST_PRODUCED,
  ST_PROVISIONED,
  ST_HLR_FAILED,
  ST_HANDED_OVER,
  ST_IN_STOCK,
  ST_AT_SHOP,
  ST_CONNECTED,
  ST_SOLD,
  ST_DELIVERED,
  ST_FAULTY,
  ST_RETURNED,
  ST_COUNT
};

static const char *const st_names[ST_COUNT] = {
    "",         "produced", "provisioned", "hlr_failed", "handed_over",
    "in_stock", "at_shop",  "connected",   "sold",       "delivered",
    "faulty",   "returned"};

static const char *const table_names[AUDIT_TABLES] = {
    "sims", "orders", "batches", "connection_cases"};

const char *audit_table_name(audit_table t) {
  return (unsigned)t < AUDIT_TABLES ? table_names[t] : "?";
}

/* One SIM: a few bytes. ctkv and shop index s->names (0: none). */
typedef struct sim_cell {
  uint8_t state, seen;
  uint16_t ctkv, shop;
} sim_cell;

/* The SIMs of one batch.output_accepted: ICCIDs of len digits whose
 * numbers without the Luhn digit run from first for n. */
typedef struct lot {
  const char *batch_id;
  size_t ev; /* its batch.output_accepted */
  int len;
  uint64_t first;
  uint64_t n;
  int failures_incomplete;
  sim_cell *sims;
} lot;

typedef struct row {
  const char *key, *state;
  int seen;
} row;

typedef struct rows {
  row *v;
  size_t n, cap;
  audit_map idx;
} rows;

struct audit_state {
  lot *lots;
  size_t nlots, caplots;
  int sorted;
  audit_map lot_of_batch;
  const char **names; /* interned ctkv and shop ids; [0] = "" */
  size_t nnames, capnames;
  audit_map name_idx;
  rows tables[AUDIT_TABLES]; /* [AUDIT_T_SIMS] unused */
  audit_state_stats st;
  unsigned long unlisted[AUDIT_TABLES];
};

#define MAX_LOT 20000000ULL /* SIMs in one output file: more is not real */

audit_state *audit_state_new(void) {
  audit_state *s = calloc(1, sizeof *s);
  if (!s)
    return NULL;
  audit_map_init(&s->lot_of_batch);
  audit_map_init(&s->name_idx);
  for (int t = 0; t < AUDIT_TABLES; t++)
    audit_map_init(&s->tables[t].idx);
  s->names = malloc(8 * sizeof *s->names);
  if (!s->names) {
    free(s);
    return NULL;
  }
  s->names[0] = "";
  s->nnames = 1;
  s->capnames = 8;
  return s;
}

void audit_state_free(audit_state *s) {
  if (!s)
    return;
  for (size_t i = 0; i < s->nlots; i++)
    free(s->lots[i].sims);
  free(s->lots);
  audit_map_free(&s->lot_of_batch);
  audit_map_free(&s->name_idx);
  free(s->names);
  for (int t = 0; t < AUDIT_TABLES; t++) {
    free(s->tables[t].v);
    audit_map_free(&s->tables[t].idx);
  }
  free(s);
}

/* ---- ICCIDs ---- */

/* An ICCID (19 or 20 digits) -> its length and its number without the
 * Luhn digit. -1 when not one. */
static int iccid_parse(const char *s, int *len, uint64_t *num) {
  size_t l = s ? strlen(s) : 0;
  if (l < 19 || l > 20)
    return -1;
  uint64_t v = 0;
  for (size_t i = 0; i < l; i++) {
    if (s[i] < '0' || s[i] > '9')
      return -1;
    if (i + 1 < l)
      v = v * 10 + (uint64_t)(s[i] - '0');
  }
  *len = (int)l;
  *num = v;
  return 0;
}

/* The written ICCID of a number without its Luhn digit. */
static void iccid_format(int len, uint64_t num, char out[24]) {
  char d[24];
  snprintf(d, sizeof d, "%0*llu", len - 1, (unsigned long long)num);
  int sum = 0;
  for (int i = len - 2, k = 0; i >= 0; i--, k++) {
    int x = d[i] - '0';
    if (k % 2 == 0) {
      x *= 2;
      if (x > 9)
        x -= 9;
    }
    sum += x;
  }
  size_t l = strlen(d);
  if (l > 22)
    l = 22;
  memcpy(out, d, l);
  out[l] = (char)('0' + (10 - sum % 10) % 10);
  out[l + 1] = '\0';
}

static int lot_cmp(const void *a, const void *b) {
  const lot *x = a, *y = b;
  if (x->len != y->len)
    return x->len < y->len ? -1 : 1;
  return x->first < y->first ? -1 : x->first > y->first;
}

/* The lot holding (len, num) and its index in it; NULL when none. The
 * lots do not overlap (an overlapping output file is refused at build). */
static lot *lot_find(const audit_state *s, int len, uint64_t num,
                     uint64_t *at) {
  size_t lo = 0, hi = s->nlots;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    const lot *l = &s->lots[mid];
    if (l->len < len || (l->len == len && l->first + l->n <= num))
      lo = mid + 1;
    else if (l->len > len || num < l->first)
      hi = mid;
    else {
      *at = num - l->first;
      return (lot *)l;
    }
  }
  return NULL;
}

/* ---- names and rows ---- */

static int name_of(audit_state *s, const char *name, uint16_t *out) {
  if (!name || !*name) {
    *out = 0;
    return 0;
  }
  size_t v;
  if (audit_map_get(&s->name_idx, name, &v)) {
    *out = (uint16_t)v;
    return 0;
  }
  if (s->nnames >= 65535)
    return -1;
  if (s->nnames == s->capnames) {
    const char **n = realloc(s->names, s->capnames * 2 * sizeof *n);
    if (!n)
      return -1;
    s->names = n;
    s->capnames *= 2;
  }
  if (audit_map_put(&s->name_idx, name, s->nnames, NULL) < 0)
    return -1;
  s->names[s->nnames] = name;
  *out = (uint16_t)s->nnames++;
  return 0;
}

static int row_set(rows *r, const char *key, const char *state) {
  size_t i;
  if (audit_map_get(&r->idx, key, &i)) {
    r->v[i].state = state;
    return 0;
  }
  if (r->n == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 64;
    row *v = realloc(r->v, cap * sizeof *v);
    if (!v)
      return -1;
    r->v = v;
    r->cap = cap;
  }
  if (audit_map_put(&r->idx, key, r->n, NULL) < 0)
    return -1;
  r->v[r->n++] = (row){key, state, 0};
  return 0;
}

/* ---- the events ---- */

static const char *dstr(const audit_event *e, const char *key) {
  return audit_data_get_str(e->data, key);
}

/* What an event does, and its place among the steps for ties. */
typedef enum kind {
  K_NONE,
  K_OUTPUT,
  K_PROVISIONED,
  K_RANGE,
  K_SIM,
  K_ORDER,
  K_BATCH,
  K_CASE,
} kind;

typedef struct effect {
  const char *type;
  kind k;
  int rank;
  int state; /* SIM state, for K_RANGE and K_SIM */
  const char
      *value; /* row state, for K_ORDER/K_BATCH/K_CASE (NULL: data.state) */
} effect;

static const effect effects[] = {
    {"batch.output_accepted", K_OUTPUT, 0, ST_PRODUCED, NULL},
    {"batch.provisioned", K_PROVISIONED, 1, ST_PROVISIONED, NULL},
    {"sims.handed_over", K_RANGE, 2, ST_HANDED_OVER, NULL},
    {"sims.stocked_in", K_RANGE, 3, ST_IN_STOCK, NULL},
    {"sims.transferred", K_RANGE, 4, ST_AT_SHOP, NULL},
    {"sims.walked_in", K_RANGE, 4, ST_AT_SHOP, NULL},
    {"sim.connected", K_SIM, 5, ST_CONNECTED, NULL},
    {"sim.sold", K_SIM, 6, ST_SOLD, NULL},
    {"sim.delivered", K_SIM, 7, ST_DELIVERED, NULL},
    {"sim.returned", K_SIM, 8, ST_RETURNED, NULL},
    {"sim.faulty", K_SIM, 9, ST_FAULTY, NULL},
    {"order.accepted", K_ORDER, 0, 0, NULL},
    {"order.in_production", K_ORDER, 1, 0, "in_production"},
    {"order.blocked", K_ORDER, 1, 0, "blocked"},
    {"batch.held", K_BATCH, 0, 0, "held"},
    {"batch.released", K_BATCH, 1, 0, "released"},
    {"batch.passed", K_BATCH, 2, 0, "passed"},
    {"batch.failed", K_BATCH, 2, 0, "failed"},
    {"case.opened", K_CASE, 0, 0, "open"},
    {"case.closed", K_CASE, 1, 0, "connected"},
};

static const effect *effect_of(const char *type) {
  for (size_t i = 0; i < sizeof effects / sizeof *effects; i++)
    if (!strcmp(effects[i].type, type))
      return &effects[i];
  return NULL;
}

typedef struct step {
  size_t ev;
  long long time_ms;
  const effect *ef;
} step;

static int step_cmp(const void *a, const void *b) {
  const step *x = a, *y = b;
  if (x->time_ms != y->time_ms)
    return x->time_ms < y->time_ms ? -1 : 1;
  if (x->ef->rank != y->ef->rank)
    return x->ef->rank < y->ef->rank ? -1 : 1;
  return x->ev < y->ev ? -1 : x->ev > y->ev;
}

/* A lot per batch.output_accepted, made before the steps are applied (its
 * SIMs have no state until its event's step). */
static int add_lot(audit_state *s, const audit_event *evs, size_t ev) {
  const audit_event *e = &evs[ev];
  const char *batch = dstr(e, "batch_id");
  int l1, l2;
  uint64_t f, t;
  if (!batch || iccid_parse(dstr(e, "iccid_first"), &l1, &f) ||
      iccid_parse(dstr(e, "iccid_last"), &l2, &t) || l1 != l2 || t < f ||
      t - f >= MAX_LOT)
    return 0; /* the schema check names a malformed range */
  for (size_t i = 0; i < s->nlots; i++)
    if (!strcmp(s->lots[i].batch_id, batch) ||
        (s->lots[i].len == l1 && f < s->lots[i].first + s->lots[i].n &&
         s->lots[i].first <= t))
      return 0; /* accepted once; the table refuses overlapping SIMs */
  if (s->nlots == s->caplots) {
    size_t cap = s->caplots ? s->caplots * 2 : 16;
    lot *v = realloc(s->lots, cap * sizeof *v);
    if (!v)
      return -1;
    s->lots = v;
    s->caplots = cap;
  }
  lot *L = &s->lots[s->nlots];
  memset(L, 0, sizeof *L);
  L->batch_id = batch;
  L->ev = ev;
  L->len = l1;
  L->first = f;
  L->n = t - f + 1;
  L->sims = calloc(L->n, sizeof *L->sims);
  if (!L->sims)
    return -1;
  s->nlots++;
  return 0;
}

static void set_range(audit_state *s, int len, uint64_t f, uint64_t t,
                      int state, int set_ctkv, uint16_t ctkv, int set_shop,
                      uint16_t shop) {
  for (size_t i = 0; i < s->nlots; i++) {
    lot *L = &s->lots[i];
    if (L->len != len || t < L->first || f >= L->first + L->n)
      continue;
    uint64_t a = f > L->first ? f - L->first : 0;
    uint64_t b = t - L->first < L->n ? t - L->first : L->n - 1;
    for (uint64_t k = a; k <= b; k++) {
      sim_cell *c = &L->sims[k];
      if (c->state == ST_NONE)
        continue; /* not produced (yet): no row to move */
      c->state = (uint8_t)state;
      if (set_ctkv)
        c->ctkv = ctkv;
      if (set_shop)
        c->shop = shop;
    }
  }
}

static int apply(audit_state *s, const audit_event *e, const effect *ef) {
  switch (ef->k) {
  case K_NONE:
    return 0;
  case K_OUTPUT:
  case K_PROVISIONED: {
    const char *batch = dstr(e, "batch_id");
    size_t li;
    if (!batch || !audit_map_get(&s->lot_of_batch, batch, &li))
      return 0;
    lot *L = &s->lots[li];
    if (ef->k == K_OUTPUT) {
      for (uint64_t k = 0; k < L->n; k++)
        if (L->sims[k].state == ST_NONE)
          L->sims[k].state = ST_PRODUCED;
      return 0;
    }
    const json_t *fl = audit_data_failures(e->data);
    size_t listed = 0, i;
    const json_t *it;
    json_array_foreach(fl, i, it) {
      const json_t *ic = json_object_get(it, "iccid");
      int len;
      uint64_t num, at;
      if (json_is_string(ic) &&
          !iccid_parse(json_string_value(ic), &len, &num) && len == L->len &&
          num >= L->first && (at = num - L->first) < L->n &&
          L->sims[at].state == ST_PRODUCED) {
        L->sims[at].state = ST_HLR_FAILED;
        listed++;
      }
    }
    long long failed;
    if (audit_data_get_int(e->data, "failed", &failed) && failed > 0 &&
        (size_t)failed > json_array_size(fl))
      L->failures_incomplete = 1;
    (void)listed;
    for (uint64_t k = 0; k < L->n; k++)
      if (L->sims[k].state == ST_PRODUCED)
        L->sims[k].state = ST_PROVISIONED;
    return 0;
  }
  case K_RANGE: {
    int l1, l2;
    uint64_t f, t;
    if (iccid_parse(dstr(e, "iccid_first"), &l1, &f) ||
        iccid_parse(dstr(e, "iccid_last"), &l2, &t) || l1 != l2 || t < f)
      return 0;
    uint16_t ctkv = 0, shop = 0;
    int is_handover = ef->state == ST_HANDED_OVER,
        is_shop = ef->state == ST_AT_SHOP;
    if ((is_handover && name_of(s, dstr(e, "ctkv"), &ctkv)) ||
        (is_shop && name_of(s, dstr(e, "shop"), &shop)))
      return -1;
    set_range(s, l1, f, t, ef->state, is_handover, ctkv, is_shop, shop);
    return 0;
  }
  case K_SIM: {
    const char *iccid = dstr(e, "iccid");
    if (!iccid && e->subject && !strncmp(e->subject, "sim/", 4))
      iccid = e->subject + 4;
    int len;
    uint64_t num, at;
    if (iccid_parse(iccid, &len, &num))
      return 0;
    lot *L = lot_find(s, len, num, &at);
    if (L && L->sims[at].state != ST_NONE)
      L->sims[at].state = (uint8_t)ef->state;
    return 0;
  }
  case K_ORDER:
  case K_BATCH:
  case K_CASE: {
    audit_table t = ef->k == K_ORDER   ? AUDIT_T_ORDERS
                    : ef->k == K_BATCH ? AUDIT_T_BATCHES
                                       : AUDIT_T_CASES;
    const char *key = dstr(e, t == AUDIT_T_ORDERS    ? "order_id"
                              : t == AUDIT_T_BATCHES ? "batch_id"
                                                     : "case_id");
    const char *v = ef->value ? ef->value : dstr(e, "state");
    if (!key || !v)
      return 0;
    return row_set(&s->tables[t], key, v);
  }
  }
  return 0;
}

int audit_state_build(audit_state *s, const audit_event *evs, size_t n) {
  step *steps = malloc((n ? n : 1) * sizeof *steps);
  if (!steps)
    return -1;
  size_t ns = 0;
  for (size_t i = 0; i < n; i++) {
    const audit_event *e = &evs[i];
    if (e->copy_of != AUDIT_NONE || !e->type)
      continue;
    const effect *ef = effect_of(e->type);
    if (!ef)
      continue;
    if (ef->k == K_OUTPUT && add_lot(s, evs, i)) {
      free(steps);
      return -1;
    }
    steps[ns++] = (step){i, e->time_ms, ef};
  }
  /* The lots in ICCID order, and each batch's lot. */
  qsort(s->lots, s->nlots, sizeof *s->lots, lot_cmp);
  for (size_t i = 0; i < s->nlots; i++) {
    if (audit_map_put(&s->lot_of_batch, s->lots[i].batch_id, i, NULL) < 0) {
      free(steps);
      return -1;
    }
    s->st.rows[AUDIT_T_SIMS] += s->lots[i].n;
  }
  qsort(steps, ns, sizeof *steps, step_cmp);
  for (size_t i = 0; i < ns; i++)
    if (apply(s, &evs[steps[i].ev], steps[i].ef)) {
      free(steps);
      return -1;
    }
  free(steps);
  for (int t = AUDIT_T_ORDERS; t < AUDIT_TABLES; t++)
    s->st.rows[t] = s->tables[t].n;
  return 0;
}

/* ---- the comparison ---- */

static int drift(audit_state *s, audit_table t, const char *key,
                 audit_findings *out, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int drift(audit_state *s, audit_table t, const char *key,
                 audit_findings *out, const char *fmt, ...) {
  s->st.drift[t]++;
  if (s->st.drift[t] > AUDIT_DRIFT_MAX) {
    s->unlisted[t]++;
    return 0;
  }
  char what[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  if (audit_findings_add(out, AUDIT_DRIFT, NULL, NULL, AUDIT_NONE, NULL, -1, -1,
                         "%s", what))
    return -1;
  audit_finding *f = &out->v[out->n - 1];
  f->table = table_names[t];
  snprintf(f->row, sizeof f->row, "%s", key);
  return 0;
}

static const char *nz(const char *s) { return s ? s : ""; }

/* "state in the database 'x', from the events 'y'" for each column that
 * differs, joined with "; ". */
static void diff_col(char *buf, size_t n, const char *col, const char *db,
                     const char *ev) {
  if (!strcmp(nz(db), nz(ev)))
    return;
  size_t l = strlen(buf);
  snprintf(buf + l, n - l,
           "%s%s in the database %s%s%s, from the events %s%s%s", l ? "; " : "",
           col, *nz(db) ? "'" : "", *nz(db) ? db : "NULL", *nz(db) ? "'" : "",
           *nz(ev) ? "'" : "", *nz(ev) ? ev : "NULL", *nz(ev) ? "'" : "");
}

int audit_state_check_row(audit_state *s, audit_table t, const char *key,
                          const char *state, const char *ctkv, const char *shop,
                          audit_findings *out) {
  if ((unsigned)t >= AUDIT_TABLES || !key)
    return 0;
  s->st.checked[t]++;
  char what[400] = "";
  if (t == AUDIT_T_SIMS) {
    int len;
    uint64_t num, at;
    lot *L = iccid_parse(key, &len, &num) ? NULL : lot_find(s, len, num, &at);
    if (!L || L->sims[at].state == ST_NONE)
      return drift(s, t, key, out,
                   "in the database (state '%s'), but no "
                   "batch.output_accepted made it",
                   nz(state));
    sim_cell *c = &L->sims[at];
    c->seen = 1;
    const char *es = st_names[c->state];
    /* A failure not listed in a report that lists only the first 100. */
    if (L->failures_incomplete && c->state == ST_PROVISIONED && state &&
        !strcmp(state, "hlr_failed"))
      es = "hlr_failed";
    diff_col(what, sizeof what, "state", state, es);
    diff_col(what, sizeof what, "ctkv_id", ctkv, s->names[c->ctkv]);
    diff_col(what, sizeof what, "shop_id", shop, s->names[c->shop]);
  } else {
    rows *r = &s->tables[t];
    size_t i;
    if (!audit_map_get(&r->idx, key, &i))
      return drift(s, t, key, out,
                   "in the database (state '%s'), but no event made it",
                   nz(state));
    r->v[i].seen = 1;
    diff_col(what, sizeof what, "state", state, r->v[i].state);
  }
  return *what ? drift(s, t, key, out, "%s", what) : 0;
}

int audit_state_finish(audit_state *s, audit_findings *out) {
  for (size_t i = 0; i < s->nlots; i++) {
    lot *L = &s->lots[i];
    for (uint64_t k = 0; k < L->n; k++)
      if (L->sims[k].state != ST_NONE && !L->sims[k].seen) {
        char iccid[24];
        iccid_format(L->len, L->first + k, iccid);
        if (drift(s, AUDIT_T_SIMS, iccid, out,
                  "not in the database, from the events '%s' (batch %s)",
                  st_names[L->sims[k].state], L->batch_id))
          return -1;
      }
  }
  for (int t = AUDIT_T_ORDERS; t < AUDIT_TABLES; t++)
    for (size_t i = 0; i < s->tables[t].n; i++)
      if (!s->tables[t].v[i].seen &&
          drift(s, (audit_table)t, s->tables[t].v[i].key, out,
                "not in the database, from the events '%s'",
                s->tables[t].v[i].state))
        return -1;
  for (int t = 0; t < AUDIT_TABLES; t++)
    if (s->unlisted[t]) {
      if (audit_findings_add(out, AUDIT_DRIFT, NULL, NULL, AUDIT_NONE, NULL, -1,
                             -1,
                             "%lu more rows drift (the first %d are listed)",
                             s->unlisted[t], AUDIT_DRIFT_MAX))
        return -1;
      out->v[out->n - 1].table = table_names[t];
      s->unlisted[t] = 0;
    }
  return 0;
}

void audit_state_stats_get(const audit_state *s, audit_state_stats *st) {
  *st = s->st;
}

int audit_state_sim(const audit_state *s, const char *iccid, const char **state,
                    const char **ctkv, const char **shop) {
  int len;
  uint64_t num, at;
  lot *L = iccid_parse(iccid, &len, &num) ? NULL : lot_find(s, len, num, &at);
  if (!L || L->sims[at].state == ST_NONE)
    return 0;
  *state = st_names[L->sims[at].state];
  *ctkv = s->names[L->sims[at].ctkv];
  *shop = s->names[L->sims[at].shop];
  return 1;
}

const char *audit_state_row(const audit_state *s, audit_table t,
                            const char *key) {
  size_t i;
  if ((unsigned)t >= AUDIT_TABLES || t == AUDIT_T_SIMS ||
      !audit_map_get(&s->tables[t].idx, key, &i))
    return NULL;
  return s->tables[t].v[i].state;
}
