/* audit_invariants.c - the workflow rules of the audit replay
 * (audit_invariants.h). */
#include "audit_invariants.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "audit_map.h"

enum {
  R_CONNECTED,
  R_HANDOVER,
  R_SOLD,
  R_PILOT,
  R_COUNTS,
};

static const char *const rule_names[AUDIT_RULES] = {
    "connected-after-provisioned", "range-handed-over-once",
    "sold-after-connected", "pilot-before-production", "batch-counts"};

static const char *istr(const char *s) { return s ? s : ""; }

static int digits(const char *s) {
  if (!s || !*s)
    return 0;
  for (; *s; s++)
    if (!isdigit((unsigned char)*s))
      return 0;
  return 1;
}

int audit_iccid_cmp(const char *a, const char *b) {
  while (*a == '0' && a[1])
    a++;
  while (*b == '0' && b[1])
    b++;
  size_t la = strlen(a), lb = strlen(b);
  if (la != lb)
    return la < lb ? -1 : 1;
  int c = strcmp(a, b);
  return c < 0 ? -1 : c > 0;
}

static const char *dstr(const audit_event *e, const char *key) {
  return audit_data_get_str(e->data, key);
}

static int dint(const audit_event *e, const char *key, long long *out) {
  return audit_data_get_int(e->data, key, out);
}

/* The event types the rules read. */
enum kind {
  K_OTHER,
  K_PROVISIONED,
  K_RELEASED,
  K_OUTPUT,
  K_CONNECTED,
  K_PASSED,
  K_REGISTERED,
  K_HANDED,
  K_SOLD,
  K_INPUT,
  K_COUNT
};

static const char *const kind_types[K_COUNT] = {
    [K_PROVISIONED] = "batch.provisioned", [K_RELEASED] = "batch.released",
    [K_OUTPUT] = "batch.output_accepted",  [K_CONNECTED] = "sim.connected",
    [K_PASSED] = "vendor.pilot_passed",    [K_REGISTERED] = "vendor.registered",
    [K_HANDED] = "sims.handed_over",       [K_SOLD] = "sim.sold",
    [K_INPUT] = "batch.input_issued"};

/* The last types met, by address: a replay keeps one copy of each type
 * (audit_intern.h), so most events are settled without a comparison. */
#define KIND_CACHE 8
struct kind_cache {
  const char *type[KIND_CACHE];
  unsigned char kind[KIND_CACHE];
  unsigned next;
};

static enum kind kind_of(struct kind_cache *c, const char *type) {
  for (int k = 0; k < KIND_CACHE; k++)
    if (c->type[k] == type && type)
      return (enum kind)c->kind[k];
  enum kind kd = K_OTHER;
  for (int k = 1; type && k < K_COUNT && kd == K_OTHER; k++)
    if (!strcmp(type, kind_types[k]))
      kd = (enum kind)k;
  c->type[c->next] = type;
  c->kind[c->next] = (unsigned char)kd;
  c->next = (c->next + 1) % KIND_CACHE;
  return kd;
}

struct range {
  const char *first, *last;
  size_t ev;
};

static int by_first(const void *a, const void *b) {
  const struct range *x = a, *y = b;
  int c = audit_iccid_cmp(x->first, y->first);
  if (c)
    return c;
  return x->ev < y->ev ? -1 : x->ev > y->ev;
}

/* The range holding iccid (ranges sorted by first), or NULL. */
static const struct range *find_range(const struct range *r, size_t n,
                                      const char *iccid) {
  size_t lo = 0, hi = n;
  while (lo < hi) { /* first range whose first > iccid */
    size_t mid = (lo + hi) / 2;
    if (audit_iccid_cmp(r[mid].first, iccid) <= 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  /* Ranges should not overlap; look back a little in case they do. */
  for (size_t k = lo; k-- > 0 && lo - k <= 8;)
    if (audit_iccid_cmp(iccid, r[k].last) <= 0)
      return &r[k];
  return NULL;
}

/* key -> the first event (in "before" order) with that key: the map
 * gives a place in slots, which holds the event. */
struct idx {
  audit_map m;
  size_t *slots;
  size_t n, cap;
};

static int idx_put(struct idx *x, const audit_event *evs, const char *key,
                   size_t i) {
  if (!key)
    return 0;
  size_t old;
  int r = audit_map_put(&x->m, key, x->n, &old);
  if (r < 0)
    return -1;
  if (r == 0) {
    if (!audit_before(&evs[x->slots[old]], &evs[i]))
      x->slots[old] = i;
    return 0;
  }
  if (x->n == x->cap) {
    size_t cap = x->cap ? 2 * x->cap : 64;
    size_t *s = realloc(x->slots, cap * sizeof *s);
    if (!s)
      return -1;
    x->slots = s;
    x->cap = cap;
  }
  x->slots[x->n++] = i;
  return 0;
}

static int get_ev(const struct idx *x, const char *key, size_t *ev) {
  size_t s;
  if (!key || !audit_map_get(&x->m, key, &s))
    return 0;
  *ev = x->slots[s];
  return 1;
}

static void idx_free(struct idx *x) {
  audit_map_free(&x->m);
  free(x->slots);
}

#define FIND(...)                                                              \
  do {                                                                         \
    if (audit_findings_add(out, AUDIT_INVARIANT, __VA_ARGS__))                 \
      goto oom;                                                                \
  } while (0)

int audit_invariants_check(const audit_event *evs, size_t n,
                           audit_findings *out, audit_rule_stats *stats) {
  audit_rule_stats st[AUDIT_RULES];
  for (int r = 0; r < AUDIT_RULES; r++)
    st[r] = (audit_rule_stats){rule_names[r], 0, 0, 0, NULL};
  size_t before_n = out->n;
  struct idx provisioned = {0}, released = {0}, output = {0}, connected = {0},
             passed = {0}, newvendor = {0};
  audit_map_init(&provisioned.m);
  audit_map_init(&released.m);
  audit_map_init(&output.m);
  audit_map_init(&connected.m);
  audit_map_init(&passed.m);
  audit_map_init(&newvendor.m);
  struct range *out_ranges = NULL, *handed = NULL;
  size_t nout = 0, nhanded = 0;
  int rc = -1;
  struct kind_cache kc = {{0}, {0}, 0};
  unsigned char *kinds = malloc(n ? n : 1);
  out_ranges = malloc((n ? n : 1) * sizeof *out_ranges);
  handed = malloc((n ? n : 1) * sizeof *handed);
  if (!kinds || !out_ranges || !handed)
    goto oom;

  /* The indexes. */
  for (size_t i = 0; i < n; i++) {
    const audit_event *e = &evs[i];
    if (i + 8 < n && evs[i + 8].data) { /* what the next events' rules read */
      __builtin_prefetch(evs[i + 8].data);
      __builtin_prefetch((const char *)evs[i + 8].data + 64);
    }
    kinds[i] = (unsigned char)kind_of(&kc, e->type);
    if (e->copy_of != AUDIT_NONE)
      continue;
    /* The fields read only for the types that have them: most events are
     * a SIM's, and have neither. */
    enum kind kd = (enum kind)kinds[i];
    if (kd == K_PROVISIONED) {
      if (idx_put(&provisioned, evs, dstr(e, "batch_id"), i))
        goto oom;
    } else if (kd == K_RELEASED) {
      if (idx_put(&released, evs, dstr(e, "batch_id"), i))
        goto oom;
      const char *kind = dstr(e, "kind");
      if (kind && !strcmp(kind, "pilot") &&
          idx_put(&newvendor, evs, dstr(e, "vendor_id"), i))
        goto oom;
    } else if (kd == K_OUTPUT) {
      if (idx_put(&output, evs, dstr(e, "batch_id"), i))
        goto oom;
      const char *f = dstr(e, "iccid_first"), *l = dstr(e, "iccid_last");
      if (digits(f) && digits(l))
        out_ranges[nout++] = (struct range){f, l, i};
    } else if (kd == K_CONNECTED) {
      if (idx_put(&connected, evs, dstr(e, "iccid"), i))
        goto oom;
    } else if (kd == K_PASSED) {
      if (idx_put(&passed, evs, dstr(e, "vendor_id"), i))
        goto oom;
    } else if (kd == K_REGISTERED) {
      if (idx_put(&newvendor, evs, dstr(e, "vendor_id"), i))
        goto oom;
    } else if (kd == K_HANDED) {
      const char *f = dstr(e, "iccid_first"), *l = dstr(e, "iccid_last");
      if (digits(f) && digits(l))
        handed[nhanded++] = (struct range){f, l, i};
    }
  }
  qsort(out_ranges, nout, sizeof *out_ranges, by_first);
  qsort(handed, nhanded, sizeof *handed, by_first);

  for (size_t i = 0; i < n; i++) {
    const audit_event *e = &evs[i];
    if (i + 8 < n && kinds[i + 8] != K_OTHER && evs[i + 8].data) {
      __builtin_prefetch(evs[i + 8].data);
      __builtin_prefetch((const char *)evs[i + 8].data + 64);
    }
    if (e->copy_of != AUDIT_NONE)
      continue;
    size_t j;
    if (kinds[i] == K_CONNECTED && !nout) {
      st[R_CONNECTED].not_judged++;
    } else if (kinds[i] == K_CONNECTED) {
      /* connected-after-provisioned */
      const char *iccid = dstr(e, "iccid");
      st[R_CONNECTED].checked++;
      const struct range *r =
          digits(iccid) ? find_range(out_ranges, nout, iccid) : NULL;
      const char *batch = r ? dstr(&evs[r->ev], "batch_id") : NULL;
      if (!r)
        FIND(rule_names[R_CONNECTED], evs, i, NULL, 0, 0,
             "SIM %s connected, but no accepted output file "
             "(batch.output_accepted) holds it",
             istr(iccid));
      else if (!get_ev(&provisioned, batch, &j))
        FIND(rule_names[R_CONNECTED], evs, i, NULL, 0, 0,
             "SIM %s connected, but its batch %s was never provisioned "
             "(no batch.provisioned)",
             istr(iccid), istr(batch));
      else if (!audit_before(&evs[j], e))
        FIND(rule_names[R_CONNECTED], evs, i, NULL, 0, 0,
             "SIM %s connected at %s, before its batch %s was provisioned "
             "(event %s at %s)",
             istr(iccid), istr(e->time), istr(batch), istr(evs[j].id),
             istr(evs[j].time));
    } else if (kinds[i] == K_SOLD) {
      /* sold-after-connected */
      const char *iccid = dstr(e, "iccid");
      st[R_SOLD].checked++;
      if (!get_ev(&connected, iccid, &j))
        FIND(rule_names[R_SOLD], evs, i, NULL, 0, 0,
             "SIM %s sold, but never connected (no sim.connected)",
             istr(iccid));
      else if (!audit_before(&evs[j], e))
        FIND(rule_names[R_SOLD], evs, i, NULL, 0, 0,
             "SIM %s sold at %s, before it was connected (event %s at %s)",
             istr(iccid), istr(e->time), istr(evs[j].id), istr(evs[j].time));
    } else if (kinds[i] == K_INPUT) {
      /* pilot-before-production */
      const char *batch = dstr(e, "batch_id"), *vendor = dstr(e, "vendor_id");
      const char *kind = NULL;
      if (get_ev(&released, batch, &j)) {
        kind = dstr(&evs[j], "kind");
        if (!vendor)
          vendor = dstr(&evs[j], "vendor_id");
      }
      if (!kind && batch) {
        const char *dash = strrchr(batch, '-');
        kind = dash && dash[1] == 'P'   ? "pilot"
               : dash && dash[1] == 'B' ? "production"
                                        : NULL;
      }
      size_t nv;
      if (!kind || strcmp(kind, "production") || !vendor ||
          !get_ev(&newvendor, vendor, &nv))
        continue;
      st[R_PILOT].checked++;
      if (!get_ev(&passed, vendor, &j))
        FIND(rule_names[R_PILOT], evs, i, NULL, 0, 0,
             "production batch %s of %s got its input file, but the "
             "vendor's pilot never passed (no vendor.pilot_passed)",
             istr(batch), vendor);
      else if (!audit_before(&evs[j], e))
        FIND(rule_names[R_PILOT], evs, i, NULL, 0, 0,
             "production batch %s of %s got its input file at %s, before "
             "the vendor's pilot passed (event %s at %s)",
             istr(batch), vendor, istr(e->time), istr(evs[j].id),
             istr(evs[j].time));
    } else if (kinds[i] == K_PROVISIONED) {
      /* batch-counts */
      const char *batch = dstr(e, "batch_id");
      long long loaded = 0, present = 0, failed = 0, sims = 0, osims = 0,
                qty = 0;
      st[R_COUNTS].checked++;
      int ok = dint(e, "loaded", &loaded) &
               dint(e, "already_present", &present) &
               dint(e, "failed", &failed) & dint(e, "sims", &sims);
      if (!ok) {
        FIND(rule_names[R_COUNTS], evs, i, NULL, 0, 0,
             "batch %s: loaded, already_present, failed or sims missing",
             istr(batch));
        continue;
      }
      long long sum = loaded + present + failed;
      if (sum != sims)
        FIND(rule_names[R_COUNTS], evs, i, NULL, 0, 0,
             "batch %s: loaded %lld + already_present %lld + failed %lld = "
             "%lld, not its %lld SIMs",
             istr(batch), loaded, present, failed, sum, sims);
      if (get_ev(&output, batch, &j) && dint(&evs[j], "sims", &osims) &&
          osims != sum)
        FIND(rule_names[R_COUNTS], evs, i, NULL, 0, 0,
             "batch %s: loaded %lld + already_present %lld + failed %lld = "
             "%lld, but its output file had %lld SIMs (event %s)",
             istr(batch), loaded, present, failed, sum, osims, istr(evs[j].id));
      if (get_ev(&released, batch, &j) && dint(&evs[j], "quantity", &qty) &&
          qty != sum)
        FIND(rule_names[R_COUNTS], evs, i, NULL, 0, 0,
             "batch %s: loaded %lld + already_present %lld + failed %lld = "
             "%lld, but it was released for %lld SIMs (event %s)",
             istr(batch), loaded, present, failed, sum, qty, istr(evs[j].id));
    }
  }

  if (st[R_CONNECTED].not_judged)
    st[R_CONNECTED].not_judged_why = "no batch.output_accepted read";

  /* range-handed-over-once: sweep the ranges by their first ICCID; the
   * later of two overlapping hand-overs is named. */
  st[R_HANDOVER].checked = nhanded;
  size_t holder = AUDIT_NONE; /* the range reaching furthest so far */
  for (size_t k = 0; k < nhanded; k++) {
    const struct range *c = &handed[k];
    if (holder != AUDIT_NONE &&
        audit_iccid_cmp(c->first, handed[holder].last) <= 0) {
      const struct range *h = &handed[holder];
      int c_later = audit_before(&evs[h->ev], &evs[c->ev]);
      const struct range *later = c_later ? c : h, *earlier = c_later ? h : c;
      FIND(rule_names[R_HANDOVER], evs, later->ev, NULL, 0, 0,
           "ICCIDs %s-%s handed over again: they overlap %s-%s, handed over "
           "by event %s (%s)",
           later->first, later->last, earlier->first, earlier->last,
           istr(evs[earlier->ev].id), istr(evs[earlier->ev].subject));
    }
    if (holder == AUDIT_NONE ||
        audit_iccid_cmp(c->last, handed[holder].last) > 0)
      holder = k;
  }

  for (size_t k = before_n; k < out->n; k++)
    for (int r = 0; r < AUDIT_RULES; r++)
      if (out->v[k].rule == rule_names[r])
        st[r].violations++;
  rc = 0;
oom:
  if (stats)
    memcpy(stats, st, sizeof st);
  idx_free(&provisioned);
  idx_free(&released);
  idx_free(&output);
  idx_free(&connected);
  idx_free(&passed);
  idx_free(&newvendor);
  free(kinds);
  free(out_ranges);
  free(handed);
  return rc;
}
