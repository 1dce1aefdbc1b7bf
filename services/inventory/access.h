/* access.h - who may do what in the inventory. Pure, but for the token
 * helpers (OpenSSL).
 *
 * A principal is a user with one role and, for the regional roles, a scope:
 * a ctkv user acts for one CTKV, a shop user for one shop (whose CTKV is
 * known). Writes follow the SIM: Ban KHDN hands SIMs over, the receiving
 * CTKV stocks them in and moves them to its shops, the shop holding a SIM
 * (or its CTKV) connects, sells and delivers it. BCYCP and auditors only
 * read SIMs. Beyond the inventory, the same users and rules guard
 * order-intake's reads and its Cục CTS notices, and the dashboard (README,
 * "Access"). */
#ifndef IV_ACCESS_H
#define IV_ACCESS_H

#include <stddef.h>

#include "sim_state.h"

typedef enum {
  IV_ROLE_BAN_KHDN, /* enterprise customers: BCYCP's orders, handovers */
  IV_ROLE_BAN_KHCN, /* individual customers: the SIM management system */
  IV_ROLE_TT_TCTK,  /* network operations: AuC and HLR */
  IV_ROLE_CTKV,     /* a regional company; scope: its CTKV */
  IV_ROLE_SHOP,     /* a shop; scope: the shop and its CTKV */
  IV_ROLE_BCYCP,    /* read-only: orders and reconciliation */
  IV_ROLE_AUDITOR,  /* read-only: everything */
  IV_ROLE_COUNT
} iv_role;

typedef enum {
  IV_OP_HANDOVER,
  IV_OP_STOCK_IN,
  IV_OP_TRANSFER,
  IV_OP_WALK_IN,
  IV_OP_CONNECT,
  IV_OP_SELL,
  IV_OP_DELIVER,
  IV_OP_MARK_FAULTY,
  IV_OP_RETURN,
  IV_OP_READ_STOCK,
  IV_OP_READ_RECONCILE,
  IV_OP_LOAD_DATA, /* organisation, numbers, tariffs */
  IV_OP_READ_ORDERS,    /* order-intake: BCYCP's orders, the vendors */
  IV_OP_IMPORT_NOTICE,  /* order-intake: a Cục CTS notice (A4) */
  IV_OP_READ_DASHBOARD, /* the operations dashboard's data */
  IV_OP_COUNT
} iv_op;

/* "ban_khdn", "ban_khcn", "tt_tctk", "ctkv", "shop", "bcycp", "auditor". */
const char *iv_role_name(iv_role r);
int iv_role_parse(const char *s); /* the role, or -1 */
/* "handover", ..., "read_stock", "read_reconcile", "load_data",
 * "read_orders", "import_notice", "read_dashboard". */
const char *iv_op_name(iv_op op);
int iv_op_parse(const char *s); /* the operation, or -1 */
/* The operation a person needs for a SIM action, or -1 for the actions
 * only services take (provision, hlr_fail). */
int iv_op_of_action(iv_action_kind k);
/* 1 when op changes SIMs or data. */
int iv_op_is_write(iv_op op);

#define IV_USER_MAX 64

typedef struct iv_principal {
  char user[IV_USER_MAX + 1]; /* login name, quoted in reasons */
  iv_role role;
  char ctkv[IV_ID_MAX + 1]; /* ctkv: its CTKV; shop: the shop's CTKV */
  char shop[IV_ID_MAX + 1]; /* shop only */
} iv_principal;

/* 0 when the scope fits the role (ctkv: a CTKV and no shop; shop: a shop
 * and its CTKV; the others: neither), else -1 with the reason. */
int iv_principal_check(const iv_principal *who, char *why, size_t whylen);

/* May who do op on SIMs (or data) of target_ctkv / target_shop? NULL and
 * "" mean "none" for writes and "everything" for reads. The targets:
 *   handover         ctkv: the CTKV receiving the SIMs
 *   stock_in         ctkv: the CTKV the SIMs were handed over to
 *   transfer         ctkv: the SIMs' CTKV
 *   walk_in          shop: the shop taking the SIM; ctkv: its CTKV
 *   connect, sell,
 *   deliver          shop: the shop holding the SIM; ctkv: its CTKV
 *   mark_faulty,
 *   return           ctkv, shop: where the SIM is ("" before a handover)
 *   read_stock       ctkv: whose stock ("" = all); shop: one shop's
 *                    (give its CTKV too, for its ctkv user)
 *   read_reconcile   ctkv: whose counts ("" = all)
 *   load_data, read_orders, import_notice, read_dashboard: no target (the
 *                    head office's and BCYCP's, never a region's)
 * 1 allowed; 0 refused, with a reason naming who and what ("user
 * shop-hni-001 (shop HNI-001) may not transfer SIMs of CTKV2: ..."). An
 * invalid principal, and a target that is not an id, are refused. */
int iv_may(const iv_principal *who, iv_op op, const char *target_ctkv,
           const char *target_shop, char *why, size_t whylen);

/* API tokens. A token is 32 bytes from OpenSSL's RAND_bytes as 64
 * lower-case hex digits; only its hash is stored. */
#define IV_TOKEN_HEX 64
/* 0, or -1 when the random generator failed (out is then ""). */
int iv_token_new(char out[IV_TOKEN_HEX + 1]);
/* SHA-256 of the token as 64 hex digits. A token carries 256 random bits,
 * so nobody can guess one from its hash whatever the hash costs: a fast
 * hash is right here, unlike for passwords (no salt, no stretching), and
 * lets the lookup be an index probe on the hash. -1 (out "") when token is
 * not 64 lower-case hex digits, so junk never reaches the database. */
int iv_token_hash(const char *token, char out[IV_TOKEN_HEX + 1]);
/* Constant-time comparison of two hashes (or tokens) of 64 characters: 1
 * equal, 0 not (or either is not 64 characters long). */
int iv_token_equal(const char *a, const char *b);

/* A token's life. Every token made or renewed gets an end, default
 * IV_TOKEN_DAYS_DEFAULT days later (`simpkictl user add|renew
 * --token-days N`, 1 to IV_TOKEN_DAYS_MAX). */
#define IV_TOKEN_DAYS_DEFAULT 90
#define IV_TOKEN_DAYS_MAX 3650
/* The days in s: 1 to IV_TOKEN_DAYS_MAX written as plain decimal digits,
 * else -1. */
int iv_token_days_parse(const char *s);
/* Is a token still good at now_us (Unix time in microseconds)? Its end is
 * expires_us, or none when has_end is 0 (a token made before tokens
 * expired, see schemas/sql/0011). 1 good; 0 expired: from its end on. */
int iv_token_live(int has_end, long long expires_us, long long now_us);

#endif
