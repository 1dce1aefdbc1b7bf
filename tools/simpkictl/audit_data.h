/* audit_data.h - the few fields of an event's data that the audit replay's
 * checks, filters and counts read, packed in one allocation. A replay holds
 * every event of years of work, so the rest of each event's data is not
 * kept, and what is kept is not a jansson object (hundreds of bytes and a
 * dozen allocations each). Pure, no I/O. */
#ifndef SIMPKICTL_AUDIT_DATA_H
#define SIMPKICTL_AUDIT_DATA_H

#include <jansson.h>
#include <string.h>

#include "jdoc.h"

typedef struct audit_data audit_data;

/* The kept fields: strings and integers only (a field of another type is
 * left out), and "failures" (batch.provisioned's SIMs left out of the HLR,
 * kept as JSON). */
#define AUDIT_DATA_FIELDS                                                      \
  X(order_id)                                                                  \
  X(bcycp_ref) X(batch_id) X(pilot_batch_id) X(iccid) X(iccid_first)           \
      X(iccid_last) X(vendor_id) X(kind) X(sims) X(quantity) X(loaded)         \
          X(already_present) X(failed) X(persons) X(ctkv) X(shop) X(state)     \
              X(case_id)

/* From a data object (jansson or jdoc). NULL when out of memory; a value
 * that is no object gives an empty one. from_jv takes its bytes from alloc
 * (ctx its first argument) when not NULL, else from malloc; free releases
 * what the fields hold either way, and the bytes only when malloc's. */
typedef void *(*audit_data_alloc)(void *ctx, size_t n);
audit_data *audit_data_from_json(const json_t *data);
audit_data *audit_data_from_jv(const sp_jdoc *d, const sp_jv *data,
                               audit_data_alloc alloc, void *ctx);
/* The same from a flat object (audit_flat.h), which holds no failures. */
audit_data *audit_data_from_flat(const sp_jflat *data, audit_data_alloc alloc,
                                 void *ctx);
void audit_data_free(audit_data *d);
/* 1 when audit_data_free has something to free (malloc's memory, the
 * failures), 0 when d is wholly its allocator's (or NULL). */
int audit_data_owns(const audit_data *d);

/* The string field named key (n bytes), or NULL (absent, not a string,
 * not kept). */
const char *audit_data_get_strn(const audit_data *d, const char *key, size_t n);
/* 1 and *v when the field is an integer, else 0. */
int audit_data_get_intn(const audit_data *d, const char *key, size_t n,
                        long long *v);
/* The same with key a C string: its length known where key is a literal,
 * as in the checks that read these fields per event. */
static inline const char *audit_data_get_str(const audit_data *d,
                                             const char *key) {
  return key ? audit_data_get_strn(d, key, strlen(key)) : NULL;
}
static inline int audit_data_get_int(const audit_data *d, const char *key,
                                     long long *v) {
  return key ? audit_data_get_intn(d, key, strlen(key), v) : 0;
}
/* The failures array, or NULL. */
const json_t *audit_data_failures(const audit_data *d);

/* The same as jansson, for comparisons in tests (new reference). */
json_t *audit_data_to_json(const audit_data *d);

#endif
