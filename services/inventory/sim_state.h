/* sim_state.h - the life of one SIM PKI, from the vendor's output file to
 * the customer (B5-B11, and Flow A's walk-in at a shop). Pure.
 *
 *   produced --provision--> provisioned --handover(CTKV)--> handed_over
 *   produced --hlr_fail---> hlr_failed
 *   handed_over --stock_in--> in_stock --transfer(shop)--> at_shop
 *   handed_over, in_stock --walk_in(shop)--> at_shop
 *   at_shop --connect--> connected --sell--> sold --deliver--> delivered
 *   provisioned, handed_over, in_stock, at_shop, returned --mark_faulty-->
 *       faulty
 *   connected, sold, delivered --return--> returned
 *
 * A SIM belongs to the CTKV it was handed over to, and once at a shop to
 * that shop; only they act on it (the scope rules below). The same table
 * drives iv_sim_apply() for one SIM and the set-based UPDATEs over serial
 * ranges (iv_action_from_states_sql, iv_action_target), so the two cannot
 * disagree. */
#ifndef IV_SIM_STATE_H
#define IV_SIM_STATE_H

#include <stddef.h>

/* CTKV and shop ids ("CTKV3", "HNI-001") fit in this many bytes. */
#define IV_ID_MAX 32

typedef enum {
  IV_ST_PRODUCED,
  IV_ST_PROVISIONED,
  IV_ST_HLR_FAILED,
  IV_ST_HANDED_OVER,
  IV_ST_IN_STOCK,
  IV_ST_AT_SHOP,
  IV_ST_CONNECTED,
  IV_ST_SOLD,
  IV_ST_DELIVERED,
  IV_ST_FAULTY,
  IV_ST_RETURNED,
  IV_ST_COUNT
} iv_state;

typedef enum {
  IV_ACT_PROVISION,
  IV_ACT_HLR_FAIL,
  IV_ACT_HANDOVER,
  IV_ACT_STOCK_IN,
  IV_ACT_TRANSFER,
  IV_ACT_WALK_IN,
  IV_ACT_CONNECT,
  IV_ACT_SELL,
  IV_ACT_DELIVER,
  IV_ACT_MARK_FAULTY,
  IV_ACT_RETURN,
  IV_ACT_COUNT
} iv_action_kind;

/* Which of the action's ids must fit the SIM (for WHERE clauses too). */
typedef enum {
  IV_SCOPE_NONE,      /* provision, hlr_fail, mark_faulty, return */
  IV_SCOPE_SET_CTKV,  /* handover: a.ctkv becomes the SIM's CTKV */
  IV_SCOPE_CTKV,      /* stock_in: a.ctkv = the SIM's ctkv */
  IV_SCOPE_SHOP_CTKV, /* transfer, walk_in: a.ctkv (the shop's CTKV) = the
                         SIM's ctkv; a.shop becomes the SIM's shop */
  IV_SCOPE_SHOP       /* connect, sell, deliver: a.shop = the SIM's shop */
} iv_scope;

/* The stored state names ("produced", ...); "?" when out of range. */
const char *iv_state_name(iv_state s);
/* The state, or -1 when s is not a state name. */
int iv_state_parse(const char *s);

/* "provision", "hlr_fail", "handover", "stock_in", "transfer", "walk_in",
 * "connect", "sell", "deliver", "mark_faulty", "return". */
const char *iv_action_name(iv_action_kind k);
int iv_action_parse(const char *s); /* -1 when unknown */

/* 1 when k may start from state s. */
int iv_action_allowed_from(iv_action_kind k, iv_state s);
/* The states k may start from as a SQL list of literals, for
 * "state IN (%s)": "'provisioned'" or "'handed_over','in_stock'". NULL when
 * k is out of range. Constant strings, safe to paste into SQL. */
const char *iv_action_from_states_sql(iv_action_kind k);
/* The state k leads to (IV_ST_COUNT when k is out of range). */
iv_state iv_action_target(iv_action_kind k);
iv_scope iv_action_scope(iv_action_kind k);

/* What the inventory knows of one SIM. ctkv is "" until the handover, shop
 * "" until the SIM reaches a shop. */
typedef struct iv_sim {
  iv_state state;
  char ctkv[IV_ID_MAX + 1];
  char shop[IV_ID_MAX + 1];
} iv_sim;

/* One action on a SIM. ctkv: handover, the CTKV receiving the SIM;
 * stock_in, the CTKV stocking it in; transfer and walk_in, the CTKV the
 * target shop belongs to. shop: transfer and walk_in, the target shop;
 * connect, sell and deliver, the shop doing it. NULL counts as "". */
typedef struct iv_action {
  iv_action_kind kind;
  const char *ctkv;
  const char *shop;
} iv_action;

/* 0 with *out the SIM after the action (handover sets ctkv; transfer and
 * walk_in set shop; the rest keep both), or -1 with a reason an operator
 * can act on ("SIM is at_shop HNI-001, not in_stock", "handed over to
 * CTKV2, not CTKV3") and *out untouched. out may be in. */
int iv_sim_apply(const iv_sim *in, const iv_action *a, iv_sim *out,
                 char *why, size_t whylen);

#endif
