/* intake.h - order-intake's use cases over PostgreSQL: each runs in one
 * transaction that changes the tables and writes its events to the outbox,
 * so an input is either taken whole, with its events, or not at all. A
 * refused input writes only the event saying so.
 *
 * The same calls serve the HTTP API, the inbound topic and simpkictl. */
#ifndef OI_INTAKE_H
#define OI_INTAKE_H

#include <jansson.h>
#include <stddef.h>

#include "db.h"
#include "intake_error.h"
#include "registration.h"

#define OI_PRODUCER "order-intake"
#define OI_SOURCE "/simpki/order-intake"
#define OI_TOPIC_ORDERS "orders"
#define OI_TOPIC_VENDORS "vendors"
#define OI_TOPIC_BATCHES "batches"
#define OI_TOPIC_REGISTRATIONS "registrations"

/* Checks a detached CMS signature over doc. Returns 1 when it passed, 0
 * when not (with the report), -1 when it could not run. *report (owned by
 * the caller) describes the signer and the verdict, never key material. */
typedef int (*oi_verify_fn)(void *ctx, const void *doc, size_t doclen,
                            const void *sig, size_t siglen, json_t **report,
                            char *errstr, size_t errlen);

typedef struct oi_conf {
  long max_quantity; /* SIMPKI_ORDER_MAX_QUANTITY */
  long max_batch;    /* SIMPKI_ORDER_MAX_BATCH */
  oi_verify_fn verify;
  void *verify_ctx;
} oi_conf;

/* Read the limits from the environment (verify is left to the caller). */
int oi_conf_load(oi_conf *conf, char *errstr, size_t errlen);

typedef struct oi_result {
  char id[64];      /* order / notice id */
  char state[32];
  int existing;     /* 1: the same input was taken before; nothing new */
  long count;       /* batches planned / cases opened */
} oi_result;

/* B1: a signed order document (exact bytes) and its detached CMS. via is
 * "http", "topic" or "cli"; actor names who sent it (for the timeline). */
oi_error oi_submit_order(sp_db *db, const oi_conf *conf, const void *doc,
                         size_t doclen, const void *sig, size_t siglen,
                         const char *via, const char *actor, oi_result *res,
                         char *errstr, size_t errlen);

/* Record an order refused before it could be read (the event only). */
void oi_reject_order(sp_db *db, oi_error why, const char *reason,
                     const char *via);

/* The same inside the caller's transaction (the inbound topic's inbox
 * transaction): OI_INTERNAL means roll back and retry; any other refusal
 * has written its order.rejected event into tx. */
oi_error oi_submit_order_tx(PGconn *tx, const oi_conf *conf, const void *doc,
                            size_t doclen, const void *sig, size_t siglen,
                            const char *via, const char *actor,
                            oi_result *res, char *errstr, size_t errlen);

/* B2: the vendor registry and pilots. */
oi_error oi_vendor_add(sp_db *db, const char *vendor_id, const char *name,
                       const char *actor, char *errstr, size_t errlen);
oi_error oi_vendor_agreement(sp_db *db, const char *vendor_id,
                             const char *ref, const char *date,
                             const char *signed_by, const char *actor,
                             char *errstr, size_t errlen);
/* passed: 1 pass (evidence required), 0 fail (the reason in evidence). */
oi_error oi_vendor_pilot_result(sp_db *db, const char *vendor_id, int passed,
                                const char *evidence, const char *actor,
                                oi_result *res, char *errstr, size_t errlen);

/* A4: import a notice (already parsed); file_sha256 identifies the file so
 * a resubmission of the same file is recognised. */
oi_error oi_import_notice(sp_db *db, const oi_notice *notice,
                          const char *file_sha256, const char *via,
                          oi_result *res, char *errstr, size_t errlen);
/* Record a refused notice file (the event only). */
void oi_reject_notice(sp_db *db, const char *notice_ref, oi_error why,
                      const char *reason, const char *via);

/* B9: inventory connected iccid to msisdn for case_id, so the case is
 * closed and its A5 deadline stops. Runs inside the caller's transaction and
 * writes case.closed there; *closed is 1 only when this call closed it (a
 * case already connected is OI_OK with *closed 0). OI_NOT_FOUND and
 * OI_BAD_STATE write nothing; OI_INTERNAL means roll back and retry. */
oi_error oi_close_case_tx(PGconn *tx, const char *case_id, const char *iccid,
                          const char *msisdn, int *closed, char *errstr,
                          size_t errlen);

/* Read models: the order with its batches and timeline; a vendor. NULL with
 * OI_NOT_FOUND / OI_INTERNAL in *err. */
json_t *oi_order_get(sp_db *db, const char *id_or_ref, oi_error *err,
                     char *errstr, size_t errlen);
json_t *oi_vendor_get(sp_db *db, const char *vendor_id, oi_error *err,
                      char *errstr, size_t errlen);

#endif
