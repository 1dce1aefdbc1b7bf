/* event.h - the event envelope (CloudEvents 1.0, structured JSON mode).
 *
 * Attributes: id, source, type, specversion, time, subject, datacontenttype,
 * data, plus extensions partitionkey, correlationid, schemaversion,
 * prevhash and hash.
 *
 * Hash chain: every event of a subject carries the hash of the subject's
 * previous event (prevhash; SP_EVENT_GENESIS for the first one) and its own
 * hash = SHA-256 over the canonical bytes of the event without "hash"
 * (compact JSON, keys sorted, prevhash included). Removing, changing or
 * reordering an event therefore breaks a link an auditor can name. */
#ifndef SIMPKI_EVENT_H
#define SIMPKI_EVENT_H

#include <jansson.h>
#include <stddef.h>

#define SP_EVENT_SPECVERSION "1.0"
#define SP_EVENT_CONTENT_TYPE "application/cloudevents+json"
#define SP_EVENT_HASH_HEX 64
#define SP_EVENT_GENESIS \
  "0000000000000000000000000000000000000000000000000000000000000000"

typedef struct sp_event {
  char id[40];            /* UUID v4, lower-case */
  char source[128];       /* e.g. "/simpki/vendor-exchange" */
  char type[128];         /* e.g. "batch.input_issued" */
  char time[40];          /* RFC 3339 UTC with milliseconds */
  char subject[256];      /* e.g. "batch/B-2026-0001" */
  char partitionkey[256]; /* Kafka message key; defaults to subject */
  char correlationid[128];/* ties the event to a BCYCP order */
  long schemaversion;     /* version of the type's JSON Schema */
  char prevhash[SP_EVENT_HASH_HEX + 1];
  char hash[SP_EVENT_HASH_HEX + 1];
  json_t *data;           /* owned; a JSON object */
} sp_event;

/* Fill a new event: fresh id, current time, schemaversion 1, partitionkey =
 * subject when NULL. Steals the reference to data (NULL -> {}). Returns -1
 * with errstr when an attribute is empty, too long or data is not an object. */
int sp_event_init(sp_event *ev, const char *source, const char *type,
                  const char *subject, const char *partitionkey,
                  const char *correlationid, json_t *data, char *errstr,
                  size_t errlen);
void sp_event_clear(sp_event *ev);

/* Canonical bytes (malloc'd, NUL-terminated): every attribute but "hash". */
char *sp_event_canonical(const sp_event *ev);
/* Set prevhash and compute hash. */
int sp_event_seal(sp_event *ev, const char *prevhash);
/* 1 when ev->hash matches the canonical bytes, else 0. */
int sp_event_hash_ok(const sp_event *ev);

/* Structured-mode JSON (malloc'd). */
char *sp_event_serialize(const sp_event *ev, size_t *len);
/* Parse and validate required attributes and their shape. On error, ev is
 * left cleared and errstr says which attribute is wrong. */
int sp_event_parse(const char *buf, size_t len, sp_event *ev, char *errstr,
                   size_t errlen);

/* The string attributes, in the order sp_event_parse checks them. */
enum {
  SP_EVENT_A_SPECVERSION,
  SP_EVENT_A_ID,
  SP_EVENT_A_SOURCE,
  SP_EVENT_A_TYPE,
  SP_EVENT_A_TIME,
  SP_EVENT_A_SUBJECT,
  SP_EVENT_A_DATACONTENTTYPE,
  SP_EVENT_A_PARTITIONKEY,
  SP_EVENT_A_CORRELATIONID,
  SP_EVENT_A_PREVHASH,
  SP_EVENT_A_HASH,
  SP_EVENT_NATTRS
};
extern const char *const sp_event_attr_names[SP_EVENT_NATTRS];
/* Marks an attribute that is present but not a string. */
extern const char sp_event_not_string[];

/* sp_event_parse's checks on attributes a caller read with its own JSON
 * reader (which refused unknown attributes itself): v[i] the value of
 * sp_event_attr_names[i], NULL when missing, sp_event_not_string when not a
 * string; schemaversion NULL when missing or not an integer. Fills ev but
 * its data (NULL). Same errors as sp_event_parse. */
int sp_event_parse_attrs(const char *const v[SP_EVENT_NATTRS],
                         const long long *schemaversion, sp_event *ev,
                         char *errstr, size_t errlen);
/* The same checks and errors, without filling an event: for a reader that
 * keeps the values where it read them. */
int sp_event_check_attrs(const char *const v[SP_EVENT_NATTRS],
                         const long long *schemaversion, char *errstr,
                         size_t errlen);

/* For attributes sp_event_check_attrs accepted: 1 when they also meet
 * the narrower rules of schemas/events/envelope.json (a version-4 id,
 * source /simpki/<service>, a dotted type, a UTC time with milliseconds).
 * Then the attributes are valid against that envelope.json: the two
 * checks together are its every rule (lengths hold in bytes, so in
 * characters too), and a validator need not walk them again (the audit
 * replay). The contract stays wider: it takes any RFC 3339 time.
 * SP_EVENT_ENVELOPE_ID and _SHA256 name the envelope.json meant: its $id,
 * and the SHA-256 of its compact JSON with keys sorted. A unit test fails
 * when the file changes: then review these rules against it. */
int sp_event_attrs_strict(const char *const v[SP_EVENT_NATTRS]);
#define SP_EVENT_ENVELOPE_ID                                                   \
  "https://simpki.invalid/schemas/events/envelope.json"
#define SP_EVENT_ENVELOPE_SHA256                                               \
  "1b65f48ba70528748f9e89bafb3d5e7fbe95bc40634ba342655135e209d4b795"

/* Helpers also used elsewhere. */
void sp_uuid4(char out[40]);
void sp_time_rfc3339(char out[40]);
/* SHA-256 of buf as 64 lower-case hex digits + NUL. */
void sp_sha256_hex(const void *buf, size_t len, char out[SP_EVENT_HASH_HEX + 1]);

#endif
