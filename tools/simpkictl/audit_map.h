/* audit_map.h - a string -> index hash map for the audit replay (pure, no
 * I/O). Keys are not copied: they must outlive the map. */
#ifndef SIMPKICTL_AUDIT_MAP_H
#define SIMPKICTL_AUDIT_MAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct audit_map_slot {
  const char *key; /* NULL: empty */
  uint64_t hash;   /* kept: a probe compares it before the key */
  size_t val;
} audit_map_slot;

typedef struct audit_map {
  audit_map_slot *slots;
  size_t cap, n;
} audit_map;

void audit_map_init(audit_map *m);
void audit_map_free(audit_map *m);
/* Room for n keys without growing (a hint: 0 ok, -1 out of memory). */
int audit_map_reserve(audit_map *m, size_t n);
/* Adds key -> val unless key is there already. Returns 1 when added, 0
 * when the key was there (*old, when not NULL, gets its value), -1 when
 * out of memory. */
int audit_map_put(audit_map *m, const char *key, size_t val, size_t *old);
/* 1 and *val when the key is there, else 0. */
int audit_map_get(const audit_map *m, const char *key, size_t *val);

/* The hash the map gives key. The _h calls take it from the caller (h
 * must be audit_map_hash(key)): threads that hold a key while it is in
 * their cache hash it for a map filled elsewhere. */
uint64_t audit_map_hash(const char *key);
/* audit_map_hash of key, whose strlen is len (known to the caller). */
uint64_t audit_map_hash_n(const char *key, size_t len);
/* Asks the processor for the slot of hash h ahead of a put or get: a map
 * of millions of keys lives outside the caches, and a loop that knows its
 * next keys waits for one memory read at a time otherwise. */
static inline void audit_map_prefetch(const audit_map *m, uint64_t h) {
  if (m->cap)
    __builtin_prefetch(&m->slots[(size_t)h & (m->cap - 1)]);
}
int audit_map_put_h(audit_map *m, const char *key, uint64_t h, size_t val,
                    size_t *old);
int audit_map_get_h(const audit_map *m, const char *key, uint64_t h,
                    size_t *val);

/* Zeroed memory for a table of bytes (huge pages asked for from 2 MiB:
 * probes land anywhere in it), and its release. NULL when out of memory. */
void *audit_map_table_new(size_t bytes);
void audit_map_table_free(void *p, size_t bytes);

#endif
