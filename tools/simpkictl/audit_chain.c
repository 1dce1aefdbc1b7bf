/* audit_chain.c - the hash-chain walk of the audit replay (audit_chain.h). */
#include "audit_chain.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* A map in two halves by the top bit of the keys' hashes, so that two
 * threads can fill it at once, each its half. */
typedef struct {
  audit_map half[2];
} split_map;

static int half_of(uint64_t h) { return (int)(h >> 63); }

static void split_init(split_map *m) {
  audit_map_init(&m->half[0]);
  audit_map_init(&m->half[1]);
}

static void split_free(split_map *m) {
  audit_map_free(&m->half[0]);
  audit_map_free(&m->half[1]);
}

/* Room for n keys in all (about half in each). */
static int split_reserve(split_map *m, size_t n) {
  size_t each = n / 2 + n / 16 + 1;
  return audit_map_reserve(&m->half[0], each) ||
                 audit_map_reserve(&m->half[1], each)
             ? -1
             : 0;
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

static int check_subject(struct walk *w, const split_map *by_hash) {
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
  /* Links. by_hash holds global indices; local ones are found in local
   * (set above for this subject's events). */
  for (size_t i = 0; i < m; i++) {
    audit_event *e = ev_at(w, (long)i);
    /* A subject's events lie apart in evs: ask for the events two steps
     * ahead, for their predecessors' slots one step ahead, and half a step
     * ahead for the two strings the lookup compares (the slot's key and
     * the event's prevhash). */
    if (i + 2 * AHEAD < m)
      __builtin_prefetch(ev_at(w, (long)(i + 2 * AHEAD)));
    if (i + AHEAD < m && ev_at(w, (long)(i + AHEAD))->hashed) {
      uint64_t h = ev_at(w, (long)(i + AHEAD))->h_prev;
      audit_map_prefetch(&by_hash->half[half_of(h)], h);
    }
    if (i + AHEAD / 2 < m && ev_at(w, (long)(i + AHEAD / 2))->hashed) {
      const audit_event *a = ev_at(w, (long)(i + AHEAD / 2));
      const audit_map *hm = &by_hash->half[half_of(a->h_prev)];
      if (hm->cap)
        __builtin_prefetch(hm->slots[a->h_prev & (hm->cap - 1)].key);
      __builtin_prefetch(a->prevhash);
    }
    size_t gi;
    uint64_t hp = audit_event_key_hash(e, e->h_prev, e->prevhash);
    /* The genesis by its hash first: the string is then read only for
     * the first event of each chain. */
    if (hp == w->genesis_h && !strcmp(str(e->prevhash), SP_EVENT_GENESIS))
      w->link[i] = L_GENESIS;
    else if (!audit_map_get_h(&by_hash->half[half_of(hp)], str(e->prevhash), hp,
                              &gi))
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
  return w->queue && w->parent && w->link && w->first_child &&
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
}

/* Subject groups g0..g1, walked by one thread with findings of its own:
 * a walk writes only its own subjects' events. */
struct walk_part {
  struct walk w;
  audit_findings out;
  const split_map *by_hash;
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
                    const split_map *by_hash, audit_findings *out,
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

/* The first pass over the events, for half t of the ids and of the
 * hashes: the copies of an id (copy_of, and differs[i] when one is not
 * the same as the first read), and hash -> the first event read with it.
 * A key is in one half only, and each half is filled in reading order:
 * two threads give what one pass would. */
struct first_pass {
  audit_event *evs;
  size_t n;
  int t;
  split_map *by_id, *by_hash;
  unsigned char *differs;
  int rc;
};

static void *first_pass(void *arg) {
  struct first_pass *p = arg;
  audit_event *evs = p->evs;
  audit_map *ids = &p->by_id->half[p->t], *hashes = &p->by_hash->half[p->t];
  p->rc = 0;
  for (size_t i = 0; i < p->n; i++) {
    audit_event *e = &evs[i];
    if (i + AHEAD < p->n && evs[i + AHEAD].hashed) {
      const audit_event *a = &evs[i + AHEAD];
      if (half_of(a->h_id) == p->t)
        audit_map_prefetch(ids, a->h_id);
      if (half_of(a->h_hash) == p->t)
        audit_map_prefetch(hashes, a->h_hash);
    }
    uint64_t hid = audit_event_key_hash(e, e->h_id, e->id);
    if (half_of(hid) == p->t) {
      e->copy_of = AUDIT_NONE;
      e->pos = 0;
      e->linked = 0;
      size_t first;
      int r = audit_map_put_h(ids, str(e->id), hid, i, &first);
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
    uint64_t hh = audit_event_key_hash(e, e->h_hash, e->hash);
    if (half_of(hh) == p->t &&
        audit_map_put_h(hashes, str(e->hash), hh, i, NULL) < 0) {
      p->rc = -1;
      return NULL;
    }
  }
  return NULL;
}

/* by_hash from the first copies only (idx[0..nu)), when a later copy
 * differs from its first. */
static int index_first_copies(const audit_event *evs, const size_t *idx,
                              size_t nu, split_map *by_hash) {
  split_free(by_hash);
  if (split_reserve(by_hash, nu))
    return -1;
  for (size_t k = 0; k < nu; k++) {
    const audit_event *e = &evs[idx[k]];
    uint64_t h = audit_event_key_hash(e, e->h_hash, e->hash);
    if (audit_map_put_h(&by_hash->half[half_of(h)], str(e->hash), h, idx[k],
                        NULL) < 0)
      return -1;
  }
  return 0;
}

int audit_chain_check(audit_event *evs, size_t n, audit_findings *out,
                      audit_chain_stats *st) {
  audit_chain_stats s = {0};
  split_map by_id, by_hash;
  split_init(&by_id);
  split_init(&by_hash);
  size_t *idx = malloc((n ? n : 1) * sizeof *idx);
  unsigned char *differs = calloc(n ? n : 1, 1);
  size_t *bounds = NULL, ngroups = 0;
  int rc = -1;
  if (!idx || !differs || split_reserve(&by_id, n) ||
      split_reserve(&by_hash, n))
    goto done;
  struct first_pass half[2];
  for (int t = 0; t < 2; t++)
    half[t] = (struct first_pass){evs, n, t, &by_id, &by_hash, differs, 0};
  pthread_t tid;
  int started = sysconf(_SC_NPROCESSORS_ONLN) > 1 &&
                pthread_create(&tid, NULL, first_pass, &half[1]) == 0;
  first_pass(&half[0]);
  if (started)
    pthread_join(tid, NULL);
  else
    first_pass(&half[1]);
  if (half[0].rc || half[1].rc)
    goto done;
  /* The findings in reading order. */
  size_t differing = 0, nu = 0;
  s.events = n;
  for (size_t i = 0; i < n; i++) {
    audit_event *e = &evs[i];
    if (e->copy_of != AUDIT_NONE) {
      const audit_event *f = &evs[e->copy_of];
      if (!differs[i]) {
        s.copies++;
        continue;
      }
      differing++;
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
        strcmp(str(e->hash), str(e->content_hash)) &&
        audit_findings_add(out, AUDIT_ALTERED, NULL, evs, i, NULL, 0, 0,
                           "hash does not match its content (it says "
                           "%.16s..., its content hashes to %.16s...)",
                           str(e->hash), str(e->content_hash)))
      goto done;
  }
  s.unique = nu;
  /* Every event read went into by_hash: the same as the first copies
   * only, unless a later copy differs (its hash may be new). */
  if (differing && index_first_copies(evs, idx, nu, &by_hash))
    goto done;
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
  split_free(&by_hash);
  if (st)
    *st = s;
  return rc;
}
