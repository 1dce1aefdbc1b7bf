/* audit_intern.c - one pointer per distinct string (audit_intern.h). */
#include "audit_intern.h"

#include <string.h>

void audit_intern_init(audit_intern *t) {
  memset(t, 0, sizeof *t);
  audit_map_init(&t->map);
}

void audit_intern_free(audit_intern *t) { audit_map_free(&t->map); }

const char *audit_intern_get(audit_intern *t, const char *s) {
  if (!s)
    return NULL;
  /* A multiplicative hash of the address: copies lie 16 or 32 bytes apart
   * in a few blocks, and the bits above those spread them. */
  uint64_t a = (uint64_t)(uintptr_t)s;
  size_t i = (size_t)(((a >> 4) * 0x9e3779b97f4a7c15ULL) >> 52) &
             (AUDIT_INTERN_CACHE - 1);
  if (t->cache[i].from == s)
    return t->cache[i].to;
  size_t first;
  int rc = audit_map_put(&t->map, s, (size_t)a, &first);
  if (rc < 0)
    return NULL;
  const char *to = rc ? s : (const char *)(uintptr_t)first;
  t->cache[i].from = s;
  t->cache[i].to = to;
  return to;
}
