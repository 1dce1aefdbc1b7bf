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

iv_move_status iv_deliver(PGconn *tx, const char *iccid, const char *shop,
                          const char *received_by, long long amount_paid,
                          const char *by, char *errstr, size_t errlen);

/* The stored invoice: JSON (*doc) and, when html is set, the printable
 * page (*html, malloc'd). 1 found, 0 none, -1 error. */
int iv_invoice_get(PGconn *c, const char *series, long long number,
                   json_t **doc, char **html, char *errstr, size_t errlen);

#endif
