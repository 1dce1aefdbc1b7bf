/* audit_chain.h - the hash-chain check of `simpkictl audit replay`. Pure:
 * no I/O, no clock; the caller reads the topics and hands in the events.
 *
 * Every event names its subject's previous event by prevhash (the genesis
 * hash for the first one) and carries its own hash over its canonical
 * bytes (common/event.h). Over all the events of a replay, across topics,
 * each subject's events must form one chain from the genesis: no gap, no
 * fork, no stranger; within one topic-partition a subject's events must
 * come in chain order. Redelivered copies (the same id and the same
 * content) are not findings; the same id with other content is.
 *
 * Finding kinds:
 *   altered    the event's hash does not match its content, or another
 *              copy of the same event id has other content;
 *   removed    the event links onto a hash no event has: the event(s)
 *              between the last one before it and this one are missing
 *              (or the subject's first events are);
 *   reordered  within its topic-partition it comes before an event that
 *              precedes it in the chain;
 *   forged     it links onto a predecessor that already has a successor
 *              (a fork: the branch that carries the rest of the chain is
 *              kept, the other one named), or onto another subject's event;
 *   unlinked   it is reachable from no start: its predecessors form a loop.
 * An event that is not one (not JSON, an attribute missing) is malformed;
 * the caller names those (audit_findings_add with AUDIT_NONE). */
#ifndef SIMPKICTL_AUDIT_CHAIN_H
#define SIMPKICTL_AUDIT_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "audit_data.h"

#define AUDIT_NONE ((size_t)-1)

typedef enum audit_kind {
  AUDIT_MALFORMED,
  AUDIT_ALTERED,
  AUDIT_REMOVED,
  AUDIT_REORDERED,
  AUDIT_FORGED,
  AUDIT_UNLINKED,
  AUDIT_INVARIANT,
  AUDIT_INVALID,      /* fails its type's JSON Schema */
  AUDIT_UNKNOWN_TYPE, /* no JSON Schema for its type */
  AUDIT_DRIFT,        /* a database row differs from the events' state */
} audit_kind;

/* "malformed", "altered", ... "invariant", "invalid", "unknown type",
 * "drift". */
const char *audit_kind_name(audit_kind k);

typedef struct audit_event {
  /* Given by the caller (not copied, not freed). The ints sit in pairs:
   * a replay holds one of these per event. */
  const char *topic;
  int32_t partition;
  int in_arena; /* 1: the strings (id first) are not the event's to free */
  int64_t offset;
  const char *id, *subject, *type, *time, *correlationid;
  const char *prevhash, *hash; /* as stated in the event */
  const char *content_hash;    /* computed over its canonical bytes */
  long long time_ms;           /* the event time; -1 when unknown */
  const audit_data *data;      /* its kept fields; may be NULL */
  /* audit_map_hash of id, subject, hash and prevhash, when hashed is 1
   * (the replay's workers compute them); else the check does. */
  uint64_t h_id, h_subject, h_hash, h_prev;
  int hashed;
  /* Set by audit_chain_check. */
  int linked;     /* 1 when on the chain that starts at the genesis */
  size_t copy_of; /* AUDIT_NONE, or the first copy of the same id */
  long pos;       /* place in its subject's chain walk, from 1; 0 none */
} audit_event;

typedef struct audit_finding {
  audit_kind kind;
  const char *rule; /* an invariant's name; NULL for the chain check */
  size_t ev;        /* the event, or AUDIT_NONE (a malformed message) */
  const char *topic;
  int32_t partition;
  int64_t offset;
  const char *table; /* drift: the table (static), row its key */
  char row[72];
  char what[480];
} audit_finding;

typedef struct audit_findings {
  audit_finding *v;
  size_t n, cap;
} audit_findings;

/* Adds a finding on evs[ev] (topic, partition, offset from it), or, when
 * ev is AUDIT_NONE, at topic/partition/offset. -1 when out of memory. */
int audit_findings_add(audit_findings *f, audit_kind kind, const char *rule,
                       const audit_event *evs, size_t ev, const char *topic,
                       int32_t partition, int64_t offset, const char *fmt, ...)
    __attribute__((format(printf, 9, 10)));
void audit_findings_free(audit_findings *f);

typedef struct audit_chain_stats {
  size_t events;   /* all given */
  size_t unique;   /* distinct event ids */
  size_t copies;   /* redelivered identical copies */
  size_t subjects; /* distinct subjects of the unique events */
} audit_chain_stats;

/* Checks evs[0..n) given in reading order (an earlier index = read first),
 * sets their copy_of, pos and linked, and appends findings. Returns -1
 * when out of memory, else 0. */
int audit_chain_check(audit_event *evs, size_t n, audit_findings *out,
                      audit_chain_stats *st);

/* 1 when a is before b: earlier in the chain when both are placed in the
 * same subject's chain, otherwise by event time. Equal times, and an
 * unknown time on either side, count as before: nothing is proved. */
int audit_before(const audit_event *a, const audit_event *b);

/* The audit_map_hash of key, one of e's strings whose hash is h: h when
 * e is hashed, else computed now (NULL hashes as ""). */
uint64_t audit_event_key_hash(const audit_event *e, uint64_t h,
                              const char *key);

#endif
