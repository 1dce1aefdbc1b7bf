/* order.h - a BCYCP order document (B1): parse and check it.
 *
 * The document is the JSON BCYCP's officer signed; its exact bytes are what
 * the CMS signature covers, so they are kept as received. The schema is
 * schemas/documents/bcycp-order.json. */
#ifndef OI_ORDER_H
#define OI_ORDER_H

#include <jansson.h>
#include <stddef.h>

#include "intake_error.h"

#define OI_PILOT_MIN 5
#define OI_PILOT_MAX 10
#define OI_PILOT_DEFAULT 5

typedef enum { OI_PROFILE_2G_COMP128, OI_PROFILE_USIM_MILENAGE } oi_profile;

typedef struct oi_order {
  char bcycp_ref[65];
  char vendor_id[33];
  char issued_on[11];   /* YYYY-MM-DD */
  long quantity;
  oi_profile profile;
  int pilot_quantity;   /* 0: not given (default applies to new vendors) */
  char contact_name[201];
  char contact_email[201];
  char contact_phone[16];/* canonical 84xxxxxxxxx */
  json_t *document;     /* the parsed document, owned */
} oi_order;

/* Parse and check the document. max_quantity is the configured limit.
 * Returns OI_OK, or OI_BAD_DOCUMENT / OI_BAD_QUANTITY / OI_BAD_PILOT with
 * a reason naming the field in errstr; out is cleared on error. */
oi_error oi_order_parse(const char *doc, size_t len, long max_quantity,
                        oi_order *out, char *errstr, size_t errlen);
void oi_order_clear(oi_order *o);

/* POST /v1/orders' body: the JSON object {"document": base64 of the signed
 * document's exact bytes, "signature": base64 of its CMS signature}. 0
 * with *doc and *sig (malloc'd; *sig NULL when the signature is absent or
 * not base64: the intake refuses an unsigned order itself, with its
 * event), else -1 (nothing to free): not a JSON object, or no document in
 * strict base64 of at most OI_ENVELOPE_B64_MAX characters. Pure. */
#define OI_ENVELOPE_B64_MAX (2 * 1024 * 1024)
int oi_order_envelope_parse(const char *body, size_t len, unsigned char **doc,
                            size_t *doclen, unsigned char **sig,
                            size_t *siglen);

/* The last path segment after prefix ("/v1/orders/ORD-1", "/v1/orders/"
 * gives "ORD-1"), or NULL when path does not start with prefix, or the
 * segment is empty or has a '/'. Pure. */
const char *oi_path_id(const char *path, const char *prefix);

const char *oi_profile_name(oi_profile p);
/* A calendar date YYYY-MM-DD (years 2000-2999). */
int oi_date_ok(const char *s);
/* A vendor id: 2 to 32 of A-Z 0-9 - _, starting with a letter or digit. */
int oi_vendor_id_ok(const char *s);

#endif
