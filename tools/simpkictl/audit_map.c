/* audit_map.c - open addressing, FNV-1a, linear probing. */
#include "audit_map.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t fnv1a(const char *s) {
  uint64_t h = 1469598103934665603ULL;
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 1099511628211ULL;
  }
  return h;
}

void audit_map_init(audit_map *m) { memset(m, 0, sizeof *m); }

void audit_map_free(audit_map *m) {
  free(m->keys);
  free(m->vals);
  memset(m, 0, sizeof *m);
}

static size_t slot_of(const audit_map *m, const char *key) {
  size_t i = (size_t)fnv1a(key) & (m->cap - 1);
  while (m->keys[i] && strcmp(m->keys[i], key))
    i = (i + 1) & (m->cap - 1);
  return i;
}

static int grow(audit_map *m) {
  size_t cap = m->cap ? m->cap * 2 : 64;
  audit_map n = {calloc(cap, sizeof *n.keys), calloc(cap, sizeof *n.vals), cap,
                 0};
  if (!n.keys || !n.vals) {
    free(n.keys);
    free(n.vals);
    return -1;
  }
  for (size_t i = 0; i < m->cap; i++)
    if (m->keys[i]) {
      size_t s = slot_of(&n, m->keys[i]);
      n.keys[s] = m->keys[i];
      n.vals[s] = m->vals[i];
      n.n++;
    }
  free(m->keys);
  free(m->vals);
  *m = n;
  return 0;
}

int audit_map_put(audit_map *m, const char *key, size_t val, size_t *old) {
  if ((m->n + 1) * 2 > m->cap && grow(m))
    return -1;
  size_t s = slot_of(m, key);
  if (m->keys[s]) {
    if (old)
      *old = m->vals[s];
    return 0;
  }
  m->keys[s] = key;
  m->vals[s] = val;
  m->n++;
  return 1;
}

int audit_map_get(const audit_map *m, const char *key, size_t *val) {
  if (!m->cap)
    return 0;
  size_t s = slot_of(m, key);
  if (!m->keys[s])
    return 0;
  *val = m->vals[s];
  return 1;
}
