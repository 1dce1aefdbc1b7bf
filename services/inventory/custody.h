/* custody.h - moving SIMs between Ban KHDN, the CTKVs and their shops
 * (B7 handover, B8 stock-in, transfers to shops, Flow A's walk-in) as
 * set-based statements over ICCID ranges: one UPDATE moves a range of any
 * size, under the rules of sim_state.h, or refuses it whole with the reason
 * of its first SIM that may not move. Each move is a custody_moves row and
 * one event on the topic sims, in the same transaction. */
#ifndef IV_CUSTODY_H
#define IV_CUSTODY_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>

#include "sim_state.h"

#define IV_PRODUCER "inventory"
#define IV_SOURCE "/simpki/inventory"
#define IV_TOPIC_SIMS "sims"
#define IV_MAX_RANGE 1000000 /* SIMs in one move */

typedef struct iv_move {
  iv_action_kind kind; /* handover, stock_in, transfer, walk_in */
  const char *ctkv;    /* handover: the receiving CTKV; stock_in: the CTKV
                          stocking in (transfer, walk_in: looked up) */
  const char *shop;    /* transfer, walk_in: the shop */
  const char *purpose; /* handover: "testing" or "customers" */
  const char *iccid_first, *iccid_last; /* full ICCIDs with Luhn digit */
  const char *by;      /* the acting user */
} iv_move;

typedef struct iv_move_result {
  char move_id[32];
  long sims;
  char ctkv[IV_ID_MAX + 1]; /* the shop's CTKV for transfer, walk_in */
} iv_move_result;

typedef enum {
  IV_MOVE_OK = 0,
  IV_MOVE_BAD_INPUT,  /* ICCIDs, range size, purpose: 400 */
  IV_MOVE_UNKNOWN,    /* no such CTKV or shop: 404 */
  IV_MOVE_REFUSED,    /* the SIMs may not move (state, scope): 409 */
  IV_MOVE_DB = -1     /* database trouble: retry */
} iv_move_status;

/* The body of POST /v1/handovers, /v1/stock-ins, /v1/transfers and
 * /v1/walk-ins as a move of kind (its strings borrowed from body): the
 * ICCIDs ("iccid" alone for a walk-in), a handover's CTKV and purpose, a
 * stock-in's CTKV (own_ctkv, the caller's, when the body names none), a
 * transfer's or walk-in's shop. 0, or -1 with the reason when the CTKV or
 * the shop is missing. Pure; m->by is the caller's to set, and so are the
 * lookups of the shop's CTKV and of the caller's rights. */
int iv_move_from_body(json_t *body, iv_action_kind kind, const char *own_ctkv,
                      iv_move *m, char *errstr, size_t errlen);

/* The checks of a move that need no database: a range move's kind, both
 * ICCIDs well formed (19 or 20 digits, 8984..., Luhn) and of one length,
 * first <= last, at most IV_MAX_RANGE SIMs, a handover's purpose.
 * IV_MOVE_OK with *sims, else IV_MOVE_BAD_INPUT with the reason. Pure. */
iv_move_status iv_move_check(const iv_move *m, long *sims, char *errstr,
                             size_t errlen);

/* The check of a mark (mark_faulty, return) that needs no database: the
 * kind, and a reason of 1 to 500 bytes. IV_MOVE_OK or IV_MOVE_BAD_INPUT
 * with the reason. Pure. */
iv_move_status iv_mark_check(iv_action_kind kind, const char *reason,
                             char *errstr, size_t errlen);

/* The CTKV of shop: 1 found (ctkv filled), 0 unknown, -1 error. */
int iv_shop_ctkv(PGconn *c, const char *shop, char ctkv[IV_ID_MAX + 1],
                 char *errstr, size_t errlen);

/* Inside the caller's transaction. On a refusal nothing is changed. */
iv_move_status iv_move_range(PGconn *tx, const iv_move *m,
                             iv_move_result *res, char *errstr,
                             size_t errlen);

/* One SIM, locked, and the order it was made for. */
typedef struct iv_sim_row {
  iv_sim sim;
  char order_id[64];
} iv_sim_row;

/* Lock the SIM (inside the caller's transaction) and check that action k,
 * done by shop (NULL: wherever the SIM is), may happen to it: IV_MOVE_OK
 * with *out, or a refusal with the first reason, nothing changed. */
iv_move_status iv_sim_take(PGconn *tx, const char *iccid, iv_action_kind k,
                           const char *shop, iv_sim_row *out, char *errstr,
                           size_t errlen);

/* One SIM found broken (mark_faulty) or brought back by its customer
 * (return), with the reason; a custody_moves row and sim.faulty /
 * sim.returned. Inside the caller's transaction. */
iv_move_status iv_mark_sim(PGconn *tx, const char *iccid,
                           iv_action_kind kind, const char *reason,
                           const char *by, char *errstr, size_t errlen);

#endif
