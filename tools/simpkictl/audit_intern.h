/* audit_intern.h - one pointer per distinct string among those a replay
 * holds (subjects, types), so that the checks after the read compare them
 * by pointer: tens of thousands of events name each subject, and each
 * worker keeps its own copy of it. Pure, no I/O; one thread. */
#ifndef SIMPKICTL_AUDIT_INTERN_H
#define SIMPKICTL_AUDIT_INTERN_H

#include <stdint.h>

#include "audit_map.h"

#define AUDIT_INTERN_CACHE 4096

typedef struct audit_intern {
  audit_map map; /* string -> its first pointer */
  /* The last answers by pointer: a worker's copy maps to the same one
   * again and again, without hashing or comparing its bytes. */
  struct {
    const char *from, *to;
  } cache[AUDIT_INTERN_CACHE];
} audit_intern;

void audit_intern_init(audit_intern *t);
void audit_intern_free(audit_intern *t);

/* The first pointer given for a string equal to s (s itself the first
 * time); s must outlive t and what uses the answers. NULL when out of
 * memory; s NULL gives NULL. */
const char *audit_intern_get(audit_intern *t, const char *s);

#endif
