/* audit_arena.h - where the audit replay keeps what it holds of each event
 * until the report: bump allocation in large blocks, freed all at once.
 *
 * A replay holds a few hundred bytes of every event it read, hundreds of
 * thousands of them, and frees them only at its end: two mallocs per event
 * from the workers' arenas (which glibc grows by mprotect, a system call
 * every few events) and two frees per event at the end cost more than
 * this. The blocks ask for transparent huge pages (fewer faults; measured
 * no faster nor slower here). One arena per thread: no locking. */
#ifndef SIMPKICTL_AUDIT_ARENA_H
#define SIMPKICTL_AUDIT_ARENA_H

#include <stddef.h>

typedef struct audit_arena audit_arena;

/* NULL when out of memory. */
audit_arena *audit_arena_new(void);
/* n bytes aligned for any type; NULL when out of memory. They stay valid
 * until audit_arena_free. */
void *audit_arena_alloc(audit_arena *a, size_t n);
/* The same, for small strings many events share (a subject, a type):
 * they are kept together, apart from the rest. */
void *audit_arena_alloc_shared(audit_arena *a, size_t n);
/* The same, with the arena as a void * (for allocation callbacks). */
void *audit_arena_alloc_cb(void *arena, size_t n);
/* Bytes taken from the system so far. */
size_t audit_arena_size(const audit_arena *a);
void audit_arena_free(audit_arena *a);

#endif
