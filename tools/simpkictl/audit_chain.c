/* audit_chain.c - the hash-chain walk of the audit replay (audit_chain.h). */
#include "audit_chain.h"

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit_index.h"
#include "audit_map.h"
#include "event.h"

const char *audit_kind_name(audit_kind k) {
  switch (k) {
  case AUDIT_MALFORMED:
    return "malformed";
  case AUDIT_ALTERED:
    return "altered";
  case AUDIT_REMOVED:
    return "removed";
  case AUDIT_REORDERED:
    return "reordered";
  case AUDIT_FORGED:
    return "forged";
  case AUDIT_UNLINKED:
    return "unlinked";
  case AUDIT_INVARIANT:
    return "invariant";
  case AUDIT_INVALID:
    return "invalid";
  case AUDIT_UNKNOWN_TYPE:
    return "unknown type";
  case AUDIT_DRIFT:
    return "drift";
  }
  return "?";
}

int audit_findings_add(audit_findings *f, audit_kind kind, const char *rule,
                       const audit_event *evs, size_t ev, const char *topic,
                       int32_t partition, int64_t offset, const char *fmt,
                       ...) {
  if (f->n == f->cap) {
    size_t cap = f->cap ? f->cap * 2 : 16;
    audit_finding *v = realloc(f->v, cap * sizeof *v);
    if (!v)
      return -1;
    f->v = v;
    f->cap = cap;
  }
  audit_finding *x = &f->v[f->n++];
  memset(x, 0, sizeof *x);
  x->kind = kind;
  x->rule = rule;
  x->ev = ev;
  if (ev != AUDIT_NONE) {
    x->topic = evs[ev].topic;
    x->partition = evs[ev].partition;
    x->offset = evs[ev].offset;
  } else {
    x->topic = topic;
    x->partition = partition;
    x->offset = offset;
  }
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(x->what, sizeof x->what, fmt, ap);
  va_end(ap);
  return 0;
}

void audit_findings_free(audit_findings *f) {
  free(f->v);
  memset(f, 0, sizeof *f);
}

/* Subjects, types and topics are often one shared copy. */
static int same(const char *a, const char *b) {
  return a == b || !strcmp(a, b);
}

int audit_before(const audit_event *a, const audit_event *b) {
  if (a->pos > 0 && b->pos > 0 && a->subject && b->subject &&
      same(a->subject, b->subject))
    return a->pos < b->pos;
  if (a->time_ms < 0 || b->time_ms < 0)
    return 1;
  return a->time_ms <= b->time_ms;
}

static const char *str(const char *s) { return s ? s : ""; }

uint64_t audit_event_key_hash(const audit_event *e, uint64_t h,
                              const char *key) {
  return e->hashed ? h : audit_map_hash(str(key));
}

/* How many events ahead a loop over events asks for what it will read
 * (map slots, strings): they lie outside the caches. */
#define AHEAD 16

/* An index in two halves by the top bit of the keys' hashes, so that two
 * threads can fill it at once, each its half. */
typedef struct {
  audit_index half[2];
} split_map;

static int half_of(uint64_t h) { return (int)(h >> 63); }

static void split_init(split_map *m, size_t key) {
  audit_index_init(&m->half[0], key);
  audit_index_init(&m->half[1], key);
}

static void split_free(split_map *m) {
  audit_index_free(&m->half[0]);
  audit_index_free(&m->half[1]);
}

/* Room for n keys in all (about half in each). */
static int split_reserve(split_map *m, size_t n) {
  size_t each = n / 2 + n / 16 + 1;
  return audit_index_reserve(&m->half[0], each) ||
                 audit_index_reserve(&m->half[1], each)
             ? -1
             : 0;
}

/* fn on both halves' arguments: the second on a thread of its own when
 * the machine has a second processor (and one can be started). */
static void on_both_halves(void *(*fn)(void *), void *first, void *second,
                           int parallel) {
  pthread_t tid;
  int started = parallel && sysconf(_SC_NPROCESSORS_ONLN) > 1 &&
                pthread_create(&tid, NULL, fn, second) == 0;
  fn(first);
  if (started)
    pthread_join(tid, NULL);
  else
    fn(second);
}

/* hash -> the first event read with it (of the first copies, idx[0..nu)).
 * When every first copy's hash is its content's, no two share a hash (the
 * hash covers the id), and a walk finds a predecessor among its subject's
 * own events: the map is then built only when a walk looks beyond its
 * subject (a removed event, a stranger), once, by the first walk that
 * needs it. Otherwise it is built before the walks. */
struct hash_index {
  pthread_mutex_t mu;
  int built; /* read without the lock once set */
  int rc;    /* -1: out of memory building it */
  int local_first;
  split_map map;
  const audit_event *evs;
  const size_t *idx;
  size_t nu;
};

/* Fills half t of the map, idx in reading order. */
struct hash_fill {
  struct hash_index *x;
  int t, rc;
};

static void *hash_fill(void *arg) {
  struct hash_fill *f = arg;
  const audit_event *evs = f->x->evs;
  audit_index *half = &f->x->map.half[f->t];
  for (size_t k = 0; k < f->x->nu; k++) {
    const audit_event *e = &evs[f->x->idx[k]];
    uint64_t h = audit_event_key_hash(e, e->h_hash, e->hash);
    if (half_of(h) == f->t &&
        audit_index_put(half, evs, str(e->hash), h, f->x->idx[k], NULL) < 0) {
      f->rc = -1;
      return NULL;
    }
  }
  f->rc = 0;
  return NULL;
}

/* Builds the map, on a second thread too when parallel. 0, or -1 when out
 * of memory. */
static int hash_index_build(struct hash_index *x, int parallel) {
  if (split_reserve(&x->map, x->nu))
    return -1;
  struct hash_fill f[2] = {{x, 0, 0}, {x, 1, 0}};
  on_both_halves(hash_fill, &f[0], &f[1], parallel);
  return f[0].rc || f[1].rc ? -1 : 0;
}

/* The first event read with hash key (h its hash): 1 and *at, 0 none, -1
 * out of memory. */
static int hash_index_get(struct hash_index *x, const char *key, uint64_t h,
                          size_t *at) {
  if (!__atomic_load_n(&x->built, __ATOMIC_ACQUIRE)) {
    pthread_mutex_lock(&x->mu);
    if (!x->built) {
      x->rc = hash_index_build(x, 0);
      __atomic_store_n(&x->built, 1, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&x->mu);
  }
  if (x->rc)
    return -1;
  return audit_index_get(&x->map.half[half_of(h)], x->evs, key, h, at);
}

/* Where a subject's event links. */
enum link { L_PARENT, L_GENESIS, L_MISSING, L_STRANGER, L_SELF };

struct walk {
  audit_event *evs;
  audit_findings *out;
  size_t *g;    /* the subject's events, global indices, reading order */
  size_t m;     /* how many */
  long *parent; /* local index of the predecessor, or -1 */
  enum link *link;
  long *first_child, *next_sibling;
  size_t *size; /* events in the subtree */
  char *visited, *placed;
  long next_pos;
  size_t *order; /* the chain's events in walk order (reorder check) */
  size_t norder;
  size_t *queue;      /* breadth-first order of the reachable events */
  size_t *local;      /* per global index: its place in g (this subject's) */
  uint64_t genesis_h; /* audit_map_hash(SP_EVENT_GENESIS) */
  /* The subject's events by hash (local_first): 1 + place in g; 0 none.
   * Filled at the first predecessor that is not the event read before. */
  uint32_t *by_hash;
  size_t by_hash_cap; /* a power of two over 2 m, for this subject */
  int by_hash_filled;
};

static audit_event *ev_at(struct walk *w, long i) { return &w->evs[w->g[i]]; }

static int add(struct walk *w, audit_kind kind, long i, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int add(struct walk *w, audit_kind kind, long i, const char *fmt, ...) {
  char what[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  return audit_findings_add(w->out, kind, NULL, w->evs, w->g[i], NULL, 0, 0,
                            "%s", what);
}

/* Among the children of a node (list from first), the one that carries the
 * chain on: the largest subtree, then the one read first. */
static long best_child(struct walk *w, long first) {
  long best = -1;
  for (long c = first; c >= 0; c = w->next_sibling[c])
    if (best < 0 || w->size[c] > w->size[best])
      best = c;
  return best;
}

/* Follows the chain from start (its first event), placing each event and
 * naming the other branches of each fork. */
static int follow(struct walk *w, long start) {
  for (long cur = start; cur >= 0;) {
    ev_at(w, cur)->pos = ++w->next_pos;
    w->placed[cur] = 1;
    w->order[w->norder++] = (size_t)cur;
    long best = best_child(w, w->first_child[cur]);
    for (long c = w->first_child[cur]; c >= 0; c = w->next_sibling[c])
      if (c != best &&
          add(w, AUDIT_FORGED, c,
              "links onto a predecessor that already has a successor: event "
              "%s (%s) follows %s (%s) in the chain of %s",
              str(ev_at(w, best)->id), str(ev_at(w, best)->type),
              str(ev_at(w, cur)->id), str(ev_at(w, cur)->type),
              str(ev_at(w, cur)->subject)))
        return -1;
    cur = best;
  }
  return 0;
}

/* The reorder check: along the chain, per topic-partition, an event must
 * come after every event before it in the chain. */
struct tp {
  const char *topic;
  int32_t partition;
  long at; /* local index of the chain's event furthest in the partition */
};

static int check_order(struct walk *w) {
  struct tp *tps = calloc(w->norder ? w->norder : 1, sizeof *tps);
  size_t ntp = 0;
  if (!tps)
    return -1;
  for (size_t k = 0; k < w->norder; k++) {
    long i = (long)w->order[k];
    audit_event *e = ev_at(w, i);
    struct tp *t = NULL;
    for (size_t j = 0; j < ntp; j++)
      if (tps[j].partition == e->partition &&
          same(str(tps[j].topic), str(e->topic)))
        t = &tps[j];
    if (!t) {
      tps[ntp] = (struct tp){e->topic, e->partition, i};
      ntp++;
      continue;
    }
    audit_event *p = ev_at(w, t->at);
    if (p->offset > e->offset) {
      if (add(w, AUDIT_REORDERED, i,
              "comes before its predecessor: event %s (%s), earlier in the "
              "chain of %s, is at offset %lld of %s/%d, this one at %lld",
              str(p->id), str(p->type), str(e->subject), (long long)p->offset,
              str(e->topic), (int)e->partition, (long long)e->offset)) {
        free(tps);
        return -1;
      }
    } else {
      t->at = i;
    }
  }
  free(tps);
  return 0;
}

/* The place in g of this subject's event with hash key (h its hash), -1
 * none: the event read before i first (a chain read in order), else the
 * subject's table. */
static long local_pred(struct walk *w, size_t i, const char *key, uint64_t h) {
  if (i > 0) {
    const audit_event *p = ev_at(w, (long)i - 1);
    /* The workers point a prevhash at the predecessor's hash they kept. */
    if (p->hash == key || (audit_event_key_hash(p, p->h_hash, p->hash) == h &&
                           !strcmp(str(p->hash), key)))
      return (long)i - 1;
  }
  size_t mask = w->by_hash_cap - 1;
  if (!w->by_hash_filled) {
    memset(w->by_hash, 0, w->by_hash_cap * sizeof *w->by_hash);
    for (size_t j = 0; j < w->m; j++) {
      const audit_event *e = ev_at(w, (long)j);
      size_t k = (size_t)audit_event_key_hash(e, e->h_hash, e->hash) & mask;
      while (w->by_hash[k])
        k = (k + 1) & mask;
      w->by_hash[k] = (uint32_t)(j + 1);
    }
    w->by_hash_filled = 1;
  }
  /* Hashes are unique here (local_first): the first match is the one. */
  for (size_t k = (size_t)h & mask; w->by_hash[k]; k = (k + 1) & mask) {
    const audit_event *e = ev_at(w, (long)w->by_hash[k] - 1);
    if (e->hash == key || (audit_event_key_hash(e, e->h_hash, e->hash) == h &&
                           !strcmp(str(e->hash), key)))
      return (long)w->by_hash[k] - 1;
  }
  return -1;
}

static int check_subject(struct walk *w, struct hash_index *x) {
  size_t m = w->m;
  for (size_t i = 0; i < m; i++) {
    w->parent[i] = -1;
    w->first_child[i] = w->next_sibling[i] = -1;
    w->size[i] = 1;
    w->visited[i] = w->placed[i] = 0;
  }
  w->next_pos = 0;
  w->norder = 0;
  for (size_t i = 0; i < m; i++)
    w->local[w->g[i]] = i;
  int local_first = x->local_first && m < UINT32_MAX;
  if (local_first) {
    w->by_hash_cap = 16;
    while (w->by_hash_cap < 2 * m)
      w->by_hash_cap *= 2;
    w->by_hash_filled = 0;
  }
  /* Links. The map holds global indices; local ones are found in local
   * (set above for this subject's events). */
  for (size_t i = 0; i < m; i++) {
    audit_event *e = ev_at(w, (long)i);
    /* A subject's events lie apart in evs: ask for the events two steps
     * ahead, and half a step ahead for the strings a lookup compares. */
    if (i + 2 * AHEAD < m)
      __builtin_prefetch(ev_at(w, (long)(i + 2 * AHEAD)));
    if (!local_first && i + AHEAD < m && ev_at(w, (long)(i + AHEAD))->hashed) {
      uint64_t h = ev_at(w, (long)(i + AHEAD))->h_prev;
      audit_index_prefetch(&x->map.half[half_of(h)], h);
    }
    if (i + AHEAD / 2 < m) {
      const audit_event *a = ev_at(w, (long)(i + AHEAD / 2));
      __builtin_prefetch(a->prevhash);
      __builtin_prefetch(a->hash);
    }
    size_t gi;
    uint64_t hp = audit_event_key_hash(e, e->h_prev, e->prevhash);
    /* The genesis by its hash first: the string is then read only for
     * the first event of each chain. */
    if (hp == w->genesis_h && !strcmp(str(e->prevhash), SP_EVENT_GENESIS)) {
      w->link[i] = L_GENESIS;
      continue;
    }
    long j = local_first ? local_pred(w, i, str(e->prevhash), hp) : -1;
    if (j >= 0) {
      w->link[i] = (size_t)j == i ? L_SELF : L_PARENT;
      if (w->link[i] == L_PARENT)
        w->parent[i] = j;
      continue;
    }
    int r = hash_index_get(x, str(e->prevhash), hp, &gi);
    if (r < 0)
      return -1;
    if (!r)
      w->link[i] = L_MISSING;
    else if (gi == w->g[i])
      w->link[i] = L_SELF;
    else if (!same(str(w->evs[gi].subject), str(e->subject))) {
      w->link[i] = L_STRANGER;
      if (add(w, AUDIT_FORGED, (long)i,
              "links onto a predecessor of another subject: event %s (%s) "
              "of %s",
              str(w->evs[gi].id), str(w->evs[gi].type),
              str(w->evs[gi].subject)))
        return -1;
    } else {
      /* Of this subject, so set above; checked all the same. */
      size_t li = w->local[gi];
      long found = li < m && w->g[li] == gi ? (long)li : -1;
      w->link[i] = found >= 0 ? L_PARENT : L_MISSING;
      w->parent[i] = found;
    }
  }
  /* Children lists, in reading order. */
  long genesis_first = -1;
  for (long i = (long)m - 1; i >= 0; i--) {
    if (w->link[i] == L_PARENT) {
      w->next_sibling[i] = w->first_child[w->parent[i]];
      w->first_child[w->parent[i]] = i;
    } else if (w->link[i] == L_GENESIS) {
      w->next_sibling[i] = genesis_first;
      genesis_first = i;
    }
  }
  /* Reachable events from every start, breadth first, then subtree sizes
   * bottom up. */
  size_t *q = w->queue;
  size_t nq = 0;
  for (size_t i = 0; i < m; i++)
    if (w->link[i] != L_PARENT && w->link[i] != L_SELF) {
      w->visited[i] = 1;
      q[nq++] = i;
    }
  for (size_t k = 0; k < nq; k++)
    for (long c = w->first_child[q[k]]; c >= 0; c = w->next_sibling[c])
      if (!w->visited[c]) {
        w->visited[c] = 1;
        q[nq++] = (size_t)c;
      }
  for (size_t k = nq; k-- > 0;)
    if (w->parent[q[k]] >= 0)
      w->size[w->parent[q[k]]] += w->size[q[k]];
  for (size_t i = 0; i < m; i++)
    if (!w->visited[i] &&
        add(w, AUDIT_UNLINKED, (long)i,
            "does not link into the chain of %s: its predecessors form a "
            "loop",
            str(ev_at(w, (long)i)->subject)))
      return -1;

  /* The chain from the genesis. */
  long start = best_child(w, genesis_first);
  for (long c = genesis_first; c >= 0; c = w->next_sibling[c])
    if (c != start &&
        add(w, AUDIT_FORGED, c,
            "links onto the genesis, but the chain of %s already starts with "
            "event %s (%s)",
            str(ev_at(w, c)->subject), str(ev_at(w, start)->id),
            str(ev_at(w, start)->type)))
      return -1;
  w->norder = 0;
  if (start >= 0 && follow(w, start))
    return -1;
  for (size_t k = 0; k < w->norder; k++)
    ev_at(w, (long)w->order[k])->linked = 1;
  /* The pieces after a gap, in reading order of their first events. */
  for (size_t i = 0; i < m; i++) {
    if (w->link[i] != L_MISSING)
      continue;
    if (w->norder) {
      audit_event *t = ev_at(w, (long)w->order[w->norder - 1]);
      if (add(w, AUDIT_REMOVED, (long)i,
              "the event after %s (%s) is missing: this one links onto hash "
              "%.16s..., which no event has",
              str(t->id), str(t->type), str(ev_at(w, (long)i)->prevhash)))
        return -1;
    } else if (add(w, AUDIT_REMOVED, (long)i,
                   "the first event(s) of %s are missing: this one links "
                   "onto hash %.16s..., which no event has",
                   str(ev_at(w, (long)i)->subject),
                   str(ev_at(w, (long)i)->prevhash))) {
      return -1;
    }
    if (follow(w, (long)i))
      return -1;
  }
  if (check_order(w))
    return -1;
  /* Events on a forged branch or after a stranger: placed after their
   * predecessor, for the invariants' "before". */
  for (size_t k = 0; k < nq; k++) {
    long i = (long)q[k], p = w->parent[i];
    if (!w->placed[i])
      ev_at(w, i)->pos =
          p >= 0 && ev_at(w, p)->pos > 0 ? ev_at(w, p)->pos + 1 : 0;
  }
  return 0;
}

/* idx[0..n) grouped by subject, each group in reading order (a counting
 * sort over the subjects' first appearance: no string comparisons but the
 * map's). bounds[k]..bounds[k+1] is group k; *ngroups groups. */
static int group_by_subject(const audit_event *evs, size_t *idx, size_t n,
                            size_t **bounds, size_t *ngroups) {
  audit_map subj;
  audit_map_init(&subj);
  size_t *group = malloc((n ? n : 1) * sizeof *group);
  size_t *count = calloc(n + 2, sizeof *count);
  size_t *out = malloc((n ? n : 1) * sizeof *out);
  size_t ng = 0;
  int rc = -1;
  /* No room reserved: subjects are far fewer than events (a SIM has tens
   * of them), and a small map stays in the cache. */
  if (!group || !count || !out)
    goto done;
  for (size_t k = 0; k < n; k++) {
    size_t g;
    const audit_event *e = &evs[idx[k]];
    if (k + AHEAD < n) /* the subject the map will compare */
      __builtin_prefetch(evs[idx[k + AHEAD]].subject);
    int r = audit_map_put_h(&subj, str(e->subject),
                            audit_event_key_hash(e, e->h_subject, e->subject),
                            ng, &g);
    if (r < 0)
      goto done;
    if (r == 1)
      g = ng++;
    group[k] = g;
    count[g + 1]++;
  }
  for (size_t g = 0; g < ng; g++)
    count[g + 1] += count[g];
  /* count[g] is now group g's first place; count[ng] == n. */
  size_t *next = malloc((ng ? ng : 1) * sizeof *next);
  if (!next)
    goto done;
  memcpy(next, count, (ng ? ng : 1) * sizeof *next);
  for (size_t k = 0; k < n; k++)
    out[next[group[k]]++] = idx[k];
  free(next);
  memcpy(idx, out, n * sizeof *idx);
  *bounds = count;
  count = NULL;
  *ngroups = ng;
  rc = 0;
done:
  audit_map_free(&subj);
  free(group);
  free(count);
  free(out);
  return rc;
}

/* The walk's arrays, for subjects of at most cap events in all. */
static int walk_alloc(struct walk *w, audit_event *evs, audit_findings *out,
                      size_t cap) {
  memset(w, 0, sizeof *w);
  w->evs = evs;
  w->out = out;
  w->genesis_h = audit_map_hash(SP_EVENT_GENESIS);
  cap = cap ? cap : 1;
  w->parent = malloc(cap * sizeof *w->parent);
  w->link = malloc(cap * sizeof *w->link);
  w->first_child = malloc(cap * sizeof *w->first_child);
  w->next_sibling = malloc(cap * sizeof *w->next_sibling);
  w->size = malloc(cap * sizeof *w->size);
  w->visited = malloc(cap);
  w->placed = malloc(cap);
  w->order = malloc(cap * sizeof *w->order);
  w->queue = malloc(cap * sizeof *w->queue);
  size_t tab = 16;
  while (tab < 2 * cap)
    tab *= 2;
  w->by_hash = malloc(tab * sizeof *w->by_hash);
  return w->by_hash && w->queue && w->parent && w->link && w->first_child &&
                 w->next_sibling && w->size && w->visited && w->placed &&
                 w->order
             ? 0
             : -1;
}

static void walk_free(struct walk *w) {
  free(w->parent);
  free(w->link);
  free(w->first_child);
  free(w->next_sibling);
  free(w->size);
  free(w->visited);
  free(w->placed);
  free(w->order);
  free(w->queue);
  free(w->by_hash);
}

/* Subject groups g0..g1, walked by one thread with findings of its own:
 * a walk writes only its own subjects' events. */
struct walk_part {
  struct walk w;
  audit_findings out;
  struct hash_index *by_hash;
  const size_t *idx, *bounds;
  size_t g0, g1, subjects;
  int rc;
};

static void *walk_groups(void *arg) {
  struct walk_part *p = arg;
  for (size_t k = p->g0; k < p->g1 && !p->rc; k++) {
    p->w.g = (size_t *)p->idx + p->bounds[k];
    p->w.m = p->bounds[k + 1] - p->bounds[k];
    if (check_subject(&p->w, p->by_hash))
      p->rc = -1;
    else
      p->subjects++;
  }
  return NULL;
}

static int findings_append(audit_findings *dst, const audit_findings *src) {
  if (dst->n + src->n > dst->cap) {
    size_t cap = dst->n + src->n;
    audit_finding *v = realloc(dst->v, cap * sizeof *v);
    if (!v)
      return -1;
    dst->v = v;
    dst->cap = cap;
  }
  if (src->n)
    memcpy(dst->v + dst->n, src->v, src->n * sizeof *src->v);
  dst->n += src->n;
  return 0;
}

/* The subjects' walks: the second half of them (by events) on a second
 * thread when the machine has one; its findings follow the first half's,
 * as if one thread had walked them all in turn. */
static int walk_all(audit_event *evs, size_t n, size_t nu, const size_t *idx,
                    const size_t *bounds, size_t ngroups,
                    struct hash_index *by_hash, audit_findings *out,
                    size_t *subjects) {
  size_t split = ngroups;
  if (ngroups >= 2 && sysconf(_SC_NPROCESSORS_ONLN) > 1)
    for (split = 1; split < ngroups && bounds[split] < nu / 2; split++)
      ;
  struct walk_part a = {
      .by_hash = by_hash, .idx = idx, .bounds = bounds, .g0 = 0, .g1 = split};
  struct walk_part b = {.by_hash = by_hash,
                        .idx = idx,
                        .bounds = bounds,
                        .g0 = split,
                        .g1 = ngroups};
  int rc = -1;
  pthread_t tid;
  int started = 0;
  /* Shared: each walk writes and reads its own subjects' places only. */
  size_t *local = calloc(n ? n : 1, sizeof *local);
  if (!local || walk_alloc(&a.w, evs, out, bounds[split]) ||
      walk_alloc(&b.w, evs, &b.out, nu - bounds[split]))
    goto done;
  a.w.local = b.w.local = local;
  if (split < ngroups && pthread_create(&tid, NULL, walk_groups, &b) == 0)
    started = 1;
  walk_groups(&a);
  if (started)
    pthread_join(tid, NULL);
  else
    walk_groups(&b);
  if (a.rc || b.rc || findings_append(out, &b.out))
    goto done;
  *subjects = a.subjects + b.subjects;
  rc = 0;
done:
  walk_free(&a.w);
  walk_free(&b.w);
  free(local);
  audit_findings_free(&b.out);
  return rc;
}

/* The first pass over the events, for half t of the ids: the copies of an
 * id (copy_of, and differs[i] when one is not the same as the first read).
 * An id is in one half only, and each half is filled in reading order:
 * two threads give what one pass would. */
struct first_pass {
  audit_event *evs;
  size_t n;
  int t;
  split_map *by_id;
  unsigned char *differs;
  int rc;
};

static void *first_pass(void *arg) {
  struct first_pass *p = arg;
  audit_event *evs = p->evs;
  audit_index *ids = &p->by_id->half[p->t];
  p->rc = 0;
  for (size_t i = 0; i < p->n; i++) {
    audit_event *e = &evs[i];
    if (i + AHEAD < p->n && evs[i + AHEAD].hashed &&
        half_of(evs[i + AHEAD].h_id) == p->t)
      audit_index_prefetch(ids, evs[i + AHEAD].h_id);
    uint64_t hid = audit_event_key_hash(e, e->h_id, e->id);
    if (half_of(hid) != p->t)
      continue;
    e->copy_of = AUDIT_NONE;
    e->pos = 0;
    e->linked = 0;
    size_t first;
    int r = audit_index_put(ids, evs, str(e->id), hid, i, &first);
    if (r < 0) {
      p->rc = -1;
      return NULL;
    }
    if (r == 0) {
      const audit_event *f = &evs[first];
      e->copy_of = first;
      p->differs[i] = strcmp(str(f->hash), str(e->hash)) ||
                      strcmp(str(f->content_hash), str(e->content_hash)) ||
                      strcmp(str(f->subject), str(e->subject));
    }
  }
  return NULL;
}

int audit_chain_check(audit_event *evs, size_t n, audit_findings *out,
                      audit_chain_stats *st) {
  audit_chain_stats s = {0};
  split_map by_id;
  split_init(&by_id, offsetof(audit_event, id));
  struct hash_index by_hash = {.evs = evs};
  pthread_mutex_init(&by_hash.mu, NULL);
  split_init(&by_hash.map, offsetof(audit_event, hash));
  size_t *idx = malloc((n ? n : 1) * sizeof *idx);
  unsigned char *differs = calloc(n ? n : 1, 1);
  size_t *bounds = NULL, ngroups = 0;
  int rc = -1;
  if (!idx || !differs || split_reserve(&by_id, n))
    goto done;
  struct first_pass half[2];
  for (int t = 0; t < 2; t++)
    half[t] = (struct first_pass){evs, n, t, &by_id, differs, 0};
  on_both_halves(first_pass, &half[0], &half[1], 1);
  if (half[0].rc || half[1].rc)
    goto done;
  /* The findings in reading order. */
  size_t nu = 0, not_intact = 0;
  s.events = n;
  for (size_t i = 0; i < n; i++) {
    audit_event *e = &evs[i];
    if (e->copy_of != AUDIT_NONE) {
      const audit_event *f = &evs[e->copy_of];
      if (!differs[i]) {
        s.copies++;
        continue;
      }
      if (audit_findings_add(out, AUDIT_ALTERED, NULL, evs, i, NULL, 0, 0,
                             "a second copy of event %s differs from the "
                             "one at offset %lld of %s/%d",
                             str(e->id), (long long)f->offset, str(f->topic),
                             (int)f->partition))
        goto done;
      continue;
    }
    idx[nu++] = i;
    if (e->hash != e->content_hash &&
        strcmp(str(e->hash), str(e->content_hash))) {
      not_intact++;
      if (audit_findings_add(out, AUDIT_ALTERED, NULL, evs, i, NULL, 0, 0,
                             "hash does not match its content (it says "
                             "%.16s..., its content hashes to %.16s...)",
                             str(e->hash), str(e->content_hash)))
        goto done;
    }
  }
  s.unique = nu;
  by_hash.idx = idx;
  by_hash.nu = nu;
  by_hash.local_first = !not_intact;
  if (not_intact) {
    /* Two events may state one hash: the walks look in the whole map. */
    if (hash_index_build(&by_hash, 1))
      goto done;
    by_hash.built = 1;
  }
  if (group_by_subject(evs, idx, nu, &bounds, &ngroups))
    goto done;
  if (walk_all(evs, n, nu, idx, bounds, ngroups, &by_hash, out, &s.subjects))
    goto done;
  rc = 0;
done:
  free(idx);
  free(differs);
  free(bounds);
  split_free(&by_id);
  split_free(&by_hash.map);
  pthread_mutex_destroy(&by_hash.mu);
  if (st)
    *st = s;
  return rc;
}
