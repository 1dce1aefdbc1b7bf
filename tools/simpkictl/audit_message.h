/* audit_message.h - one message of the audit replay: parsed as an event,
 * its hash recomputed over its canonical bytes, checked against its type's
 * JSON Schema, and reduced to what the later checks need. Pure: no I/O.
 *
 * A checker holds what one thread reuses from message to message; make one
 * per thread. The schema set is shared (read-only). */
#ifndef SIMPKICTL_AUDIT_MESSAGE_H
#define SIMPKICTL_AUDIT_MESSAGE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "audit_arena.h"
#include "audit_data.h"
#include "jschema.h"

typedef struct audit_checker audit_checker;

/* What a message is, once checked. The strings are one allocation (strs)
 * from malloc, handed over to the replay's audit_event with data; or, when
 * the checker has an arena (in_arena), they are the arena's, subject and
 * type as one copy shared by all the checker's events that name them. */
typedef struct audit_parsed {
  int status;    /* 0 an event, 1 empty, 2 not an event (why says why) */
  int schema_rc; /* 0 valid, 1 invalid (why), -1 no schema for its type */
  char *strs;
  int in_arena;
  const char *id, *subject, *type, *time, *correlationid, *prevhash, *hash,
      *content_hash;
  long long time_ms; /* -1 when the time cannot be read */
  uint64_t h_id, h_subject, h_hash, h_prev; /* audit_map_hash of each */
  audit_data *data;  /* the kept fields of data */
  char *why;         /* malloc'd: the parse error or the schema's reason */
} audit_parsed;

#ifdef SIMPKI_AUDIT_STAGES
/* The benchmark's build only (simpkictl_stages, never installed): where
 * the replay stops, to measure what each step costs beside the bare
 * consume (bench/audit). A message the check stops at is given status
 * AUDIT_PARSED_SKIPPED and is counted, nothing more. */
typedef enum audit_stage {
  AUDIT_STAGE_ALL,    /* the whole replay */
  AUDIT_STAGE_READ,   /* read and handed to the workers, not checked */
  AUDIT_STAGE_HASH,   /* parsed, attributes checked, hash recomputed */
  AUDIT_STAGE_SCHEMA, /* and validated against its schema */
  AUDIT_STAGE_KEPT,   /* and kept: the whole read phase, no chains */
} audit_stage;
#define AUDIT_PARSED_SKIPPED 3
extern audit_stage audit_stage_stop;
/* "all", "read", "hash", "schema" or "kept"; -1 for another name. */
int audit_stage_parse(const char *name, audit_stage *out);
#endif

/* schemas: NULL for no schema check. NULL when out of memory. */
audit_checker *audit_checker_new(const sp_jschema_set *schemas);
void audit_checker_free(audit_checker *c);

/* The ways c may check a message before jansson's, which takes the rest:
 * AUDIT_PATH_FLAT, an event as the services write it, read in one pass
 * (audit_flat.h); AUDIT_PATH_TREE, any message jdoc can read
 * (common/jdoc.h). Both by default; 0: jansson for every message. All give
 * the same results; tests compare them. */
enum { AUDIT_PATH_FLAT = 1, AUDIT_PATH_TREE = 2 };
void audit_checker_paths(audit_checker *c, int paths);

/* How many events c checked by the flat path, by the tree path, and how
 * many of the latter were written in sp_event_serialize's member order
 * (their names matched rather than read): where a replay's events went
 * (tests, the debug log). */
void audit_checker_counts(const audit_checker *c, long *flat, long *tree,
                          long *keyed);

/* What is kept of each event (strs, data) comes from arena, which must
 * outlive the results; NULL (the default) takes it from malloc. */
void audit_checker_set_arena(audit_checker *c, audit_arena *arena);

/* Checks one message (payload may be NULL or empty: status 1). -1 when
 * out of memory (p cleared), else 0 with p filled. */
int audit_message_check(audit_checker *c, const void *payload, size_t len,
                        audit_parsed *p);
void audit_parsed_clear(audit_parsed *p);

#endif
