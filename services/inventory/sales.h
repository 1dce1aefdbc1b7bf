/* sales.h - one SIM at a shop, from connection to payment:
 *
 *   B9   iv_connect_request: the shop connects a SIM at the shop to a
 *        customer (a Cục CTS case, or a walk-in): a swap keeping the
 *        customer's number, or a new number from the pool, with a tariff
 *        package. It asks hlr-provisioner (connection.requested); the SIM
 *        becomes connected, and the case done, only when the HLR answers
 *        connection.hlr_done (iv_connect_answer); a failure leaves the SIM
 *        at the shop with the reason and frees the number.
 *   B10  iv_sell: the sale (xuất bán) with its VAT invoice, numbered from
 *        the CTKV's gap-free series in the same transaction.
 *   B11  iv_deliver: the customer received the SIM PKI; paid, or owing.
 *
 * Each runs inside the caller's transaction and writes its event through
 * the outbox; a refusal changes nothing. */
#ifndef IV_SALES_H
#define IV_SALES_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>

#include "custody.h"
#include "event.h"
#include "invoice.h"
#include "phone.h"

#define IV_TOPIC_CONNECTIONS "connections"

typedef struct iv_connect_req {
  const char *iccid, *shop, *by;
  const char *case_id; /* NULL for a walk-in customer */
  int swap;            /* -1: as the case says */
  const char *msisdn;  /* swap: the customer's number (default: the
                          case's); new: a free number of the pool, or NULL
                          to take the next free one */
  const char *package; /* tariff package id */
} iv_connect_req;

typedef struct iv_connect_res {
  char request_id[32];
  char msisdn[16];
  int swap;
} iv_connect_res;

iv_move_status iv_connect_request(PGconn *tx, const iv_connect_req *r,
                                  iv_connect_res *res, char *errstr,
                                  size_t errlen);

/* POST /v1/connections' body as a request (strings borrowed from body):
 * "iccid", "case_id", "swap" (a boolean; -1 when absent or not one),
 * "msisdn", "package". shop and by are the caller's to set. Pure. */
void iv_connect_from_body(json_t *body, iv_connect_req *r);

/* The number a connection takes, once its case is read (case_id NULL and
 * case_msisdn "" without one; swap already resolved from the case): for a
 * swap the customer's (given, else the case's, and then it must be the
 * case's), for a new number the given one or "" (the pool's next free).
 * IV_MOVE_OK with msisdn canonical or "", else IV_MOVE_BAD_INPUT with the
 * reason (also when swap is still -1). Pure. */
iv_move_status iv_connect_number(int swap, const char *given,
                                 const char *case_id, const char *case_msisdn,
                                 char msisdn[SP_PHONE_LEN + 1], char *errstr,
                                 size_t errlen);

/* The consumer's part: connection.hlr_done / connection.hlr_failed from
 * hlr-provisioner. 0 applied (or applied before, or not ours), 1 refused
 * (dead-letter: errstr), -1 retry. */
int iv_connect_answer(PGconn *tx, const sp_event *ev, char *errstr,
                      size_t errlen);

typedef struct iv_sale_req {
  const char *iccid, *shop, *by;
  const char *buyer_name, *buyer_id, *buyer_phone; /* phone: default the
                                                      connected number */
} iv_sale_req;

/* *invoice: the invoice document (the caller owns it). */
iv_move_status iv_sell(PGconn *tx, const iv_sale_req *r, json_t **invoice,
                       char *errstr, size_t errlen);

/* POST /v1/sales' body as a request (strings borrowed from body): "iccid"
 * and the "buyer" object's "name", "id_number" and "phone". shop and by
 * are the caller's to set. Pure. */
void iv_sale_from_body(json_t *body, iv_sale_req *r);

/* The check of a sale that needs no database: the buyer's name.
 * IV_MOVE_OK, or IV_MOVE_BAD_INPUT with the reason. Pure. */
iv_move_status iv_sale_check(const iv_sale_req *r, char *errstr,
                             size_t errlen);

/* What the database gives a sale's invoice: the CTKV's series, the next
 * number and the seller, the connected number, the package. */
typedef struct iv_sale_terms {
  const char *ctkv, *series, *name, *address, *tax_code, *issued_at;
  long long number;
  const char *msisdn, *package;
  long long fee, price;
  int vat;
} iv_sale_terms;

/* The sale's invoice (iv_invoice_init, then filled and computed): the
 * connection fee and the package as its two lines, the buyer from r (the
 * phone defaulting to the connected number). Its strings point into r, t
 * and line (which holds the package line's text), so they must outlive
 * it. IV_MOVE_OK, or IV_MOVE_BAD_INPUT with the reason. Pure. */
#define IV_SALE_LINE_MAX 300
iv_move_status iv_sale_invoice(const iv_sale_req *r, const iv_sale_terms *t,
                               iv_invoice *inv, char line[IV_SALE_LINE_MAX],
                               char *errstr, size_t errlen);

/* POST /v1/deliveries' body (strings borrowed from body). */
typedef struct iv_delivery_req {
  const char *iccid, *received_by;
  long long amount_paid; /* -1 when absent or not a whole number */
} iv_delivery_req;
void iv_delivery_from_body(json_t *body, iv_delivery_req *r);

iv_move_status iv_deliver(PGconn *tx, const char *iccid, const char *shop,
                          const char *received_by, long long amount_paid,
                          const char *by, char *errstr, size_t errlen);

/* The stored invoice: JSON (*doc) and, when html is set, the printable
 * page (*html, malloc'd). 1 found, 0 none, -1 error. */
int iv_invoice_get(PGconn *c, const char *series, long long number,
                   json_t **doc, char **html, char *errstr, size_t errlen);

#endif
