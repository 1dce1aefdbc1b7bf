/* audit_index.c - events by one of their strings (audit_index.h): open
 * addressing, linear probing; a key's place is its half hash modulo the
 * size, so growing needs no other hash than the one in the slot. */
#include "audit_index.h"

#include <string.h>

#include "audit_map.h"

void audit_index_init(audit_index *x, size_t key) {
  memset(x, 0, sizeof *x);
  x->key = key;
}

void audit_index_free(audit_index *x) {
  audit_map_table_free(x->slots, x->cap * sizeof *x->slots);
  x->slots = NULL;
  x->cap = x->n = 0;
}

static const char *index_key(const audit_index *x, const audit_event *evs,
                             uint64_t slot) {
  const audit_event *e = &evs[(uint32_t)slot - 1];
  const char *k = *(const char *const *)((const char *)e + x->key);
  return k ? k : "";
}

static int index_resize(audit_index *x, size_t cap) {
  uint64_t *s = audit_map_table_new(cap * sizeof *s);
  if (!s)
    return -1;
  for (size_t i = 0; i < x->cap; i++)
    if (x->slots[i]) {
      size_t k = (size_t)(x->slots[i] >> 32) & (cap - 1);
      while (s[k])
        k = (k + 1) & (cap - 1);
      s[k] = x->slots[i];
    }
  audit_map_table_free(x->slots, x->cap * sizeof *x->slots);
  x->slots = s;
  x->cap = cap;
  return 0;
}

int audit_index_reserve(audit_index *x, size_t n) {
  size_t cap = x->cap ? x->cap : 64;
  while (cap < 2 * n)
    cap *= 2;
  return cap == x->cap ? 0 : index_resize(x, cap);
}

/* The slot holding key, or the empty one where it would go. */
static size_t index_slot(const audit_index *x, const audit_event *evs,
                         const char *key, uint64_t h, int *found) {
  uint32_t half = (uint32_t)(h >> 32);
  size_t k = half & (x->cap - 1);
  for (; x->slots[k]; k = (k + 1) & (x->cap - 1))
    if ((uint32_t)(x->slots[k] >> 32) == half) {
      const char *at = index_key(x, evs, x->slots[k]);
      if (at == key || !strcmp(at, key)) {
        *found = 1;
        return k;
      }
    }
  *found = 0;
  return k;
}

int audit_index_put(audit_index *x, const audit_event *evs, const char *key,
                    uint64_t h, size_t i, size_t *first) {
  if (i >= UINT32_MAX - 1)
    return -1;
  if ((x->n + 1) * 2 > x->cap && index_resize(x, x->cap ? 2 * x->cap : 64))
    return -1;
  int found;
  size_t k = index_slot(x, evs, key, h, &found);
  if (found) {
    if (first)
      *first = (uint32_t)x->slots[k] - 1;
    return 0;
  }
  x->slots[k] = (h >> 32) << 32 | (uint64_t)(i + 1);
  x->n++;
  return 1;
}

int audit_index_get(const audit_index *x, const audit_event *evs,
                    const char *key, uint64_t h, size_t *at) {
  if (!x->cap)
    return 0;
  int found;
  size_t k = index_slot(x, evs, key, h, &found);
  if (found)
    *at = (uint32_t)x->slots[k] - 1;
  return found;
}
