/* audit_index.h - events by one of their strings (the id, the hash), for
 * the chain check of the audit replay. Pure: no I/O.
 *
 * A slot is eight bytes: the top half of the key's 64-bit hash beside 1 +
 * the event's index; the key itself is read from the event (at the
 * offset given) when the halves match. That is a third of an audit_map's
 * slot (key, hash, value): a replay's maps are fresh memory, and the
 * kernel clearing it was most of the time they took. */
#ifndef SIMPKICTL_AUDIT_INDEX_H
#define SIMPKICTL_AUDIT_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "audit_chain.h"

typedef struct audit_index {
  uint64_t *slots; /* 0: empty */
  size_t cap, n;   /* cap: a power of two */
  size_t key;      /* offsetof(audit_event, the string) */
} audit_index;

/* key: offsetof(audit_event, id) or another const char * member. */
void audit_index_init(audit_index *x, size_t key);
void audit_index_free(audit_index *x);
/* Room for n keys without growing: 0, or -1 out of memory. */
int audit_index_reserve(audit_index *x, size_t n);

/* Adds event i (of evs) under key, h its audit_map_hash, unless the key
 * is there: 1 added, 0 there (*first its event, when first is not NULL),
 * -1 out of memory (or an index past 2^32 - 2). */
int audit_index_put(audit_index *x, const audit_event *evs, const char *key,
                    uint64_t h, size_t i, size_t *first);
/* 1 and *at when key is there, else 0. */
int audit_index_get(const audit_index *x, const audit_event *evs,
                    const char *key, uint64_t h, size_t *at);

/* Asks the processor for the slot of hash h ahead of a put or get. */
static inline void audit_index_prefetch(const audit_index *x, uint64_t h) {
  if (x->cap)
    __builtin_prefetch(&x->slots[(size_t)(h >> 32) & (x->cap - 1)]);
}

#endif
