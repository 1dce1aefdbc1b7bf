/* audit_flat.h - an event as the services write it, read in one pass
 * without a tree: the audit replay's first path for each message.
 *
 * sp_event_serialize writes an event compact, its members sorted, its data
 * (for every type but a few) an object of strings, integers and booleans.
 * Such a text is its own canonical form but for the "hash" member, so its
 * content hash needs no rewriting; audit_flat_read recognises it by its
 * bytes. Anything else (another order, whitespace, an escape, a character
 * past ASCII, an array or an object in data, a real) is "not flat", and the
 * replay reads it with jdoc, then jansson, whose verdicts are the ones
 * that count. Pure, no I/O. */
#ifndef SIMPKICTL_AUDIT_FLAT_H
#define SIMPKICTL_AUDIT_FLAT_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "jdoc.h"

/* An event's members in the order sp_event_serialize writes them (keys
 * sorted), and which attribute each is (AUDIT_M_DATA, AUDIT_M_VERSION:
 * the two that are no string attribute). Set before main. */
#define AUDIT_EVENT_MEMBERS (SP_EVENT_NATTRS + 2)
enum { AUDIT_M_DATA = -1, AUDIT_M_VERSION = -2 };
extern const char *audit_written_name[AUDIT_EVENT_MEMBERS];
extern int audit_written_attr[AUDIT_EVENT_MEMBERS];

/* Data members a flat event may have; one with more is not flat. */
#define AUDIT_FLAT_MAX_DATA 32

typedef struct audit_flat {
  /* The string attributes (sp_event_attr_names' order) as C strings in
   * text, with their lengths; schemaversion. */
  const char *attr[SP_EVENT_NATTRS];
  size_t attr_len[SP_EVENT_NATTRS];
  long long schemaversion;
  /* The event as sp_jflat (members in written order), its data among
   * them, data's members. */
  sp_jflat event, member[AUDIT_EVENT_MEMBERS], data[AUDIT_FLAT_MAX_DATA];
  const sp_jflat *data_obj;
  /* The content hash covers the text but [hash_at, hash_end): the "hash"
   * member and the comma after it. */
  size_t hash_at, hash_end;
  char *text; /* a copy of the message, each string's closing quote a NUL */
  size_t cap;
  uint64_t *quotes; /* where text's quotes were, a bit a byte */
  size_t qcap;
} audit_flat;

void audit_flat_init(audit_flat *f);
void audit_flat_free(audit_flat *f);

/* 0: buf is a flat event, f holds it (until the next read); 1: it is not
 * (f holds nothing useful); -1: out of memory. */
int audit_flat_read(audit_flat *f, const char *buf, size_t len);

#endif
