/* access.c - roles, scopes and the rule for each operation. */
#include "access.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "crypto.h"
#include "event.h"

static const char *const role_names[IV_ROLE_COUNT] = {
    [IV_ROLE_BAN_KHDN] = "ban_khdn", [IV_ROLE_BAN_KHCN] = "ban_khcn",
    [IV_ROLE_TT_TCTK] = "tt_tctk",   [IV_ROLE_CTKV] = "ctkv",
    [IV_ROLE_SHOP] = "shop",         [IV_ROLE_BCYCP] = "bcycp",
    [IV_ROLE_AUDITOR] = "auditor",
};

static const char *const op_names[IV_OP_COUNT] = {
    [IV_OP_HANDOVER] = "handover",       [IV_OP_STOCK_IN] = "stock_in",
    [IV_OP_TRANSFER] = "transfer",       [IV_OP_WALK_IN] = "walk_in",
    [IV_OP_CONNECT] = "connect",         [IV_OP_SELL] = "sell",
    [IV_OP_DELIVER] = "deliver",         [IV_OP_MARK_FAULTY] = "mark_faulty",
    [IV_OP_RETURN] = "return",           [IV_OP_READ_STOCK] = "read_stock",
    [IV_OP_READ_RECONCILE] = "read_reconcile",
    [IV_OP_LOAD_DATA] = "load_data",     [IV_OP_READ_ORDERS] = "read_orders",
    [IV_OP_IMPORT_NOTICE] = "import_notice",
    [IV_OP_READ_DASHBOARD] = "read_dashboard",
};

const char *iv_role_name(iv_role r) {
  return (unsigned)r < IV_ROLE_COUNT ? role_names[r] : "?";
}

int iv_role_parse(const char *s) {
  for (int i = 0; s && i < IV_ROLE_COUNT; i++)
    if (!strcmp(s, role_names[i]))
      return i;
  return -1;
}

const char *iv_op_name(iv_op op) {
  return (unsigned)op < IV_OP_COUNT ? op_names[op] : "?";
}

int iv_op_parse(const char *s) {
  for (int i = 0; s && i < IV_OP_COUNT; i++)
    if (!strcmp(s, op_names[i]))
      return i;
  return -1;
}

int iv_op_of_action(iv_action_kind k) {
  switch (k) {
  case IV_ACT_HANDOVER: return IV_OP_HANDOVER;
  case IV_ACT_STOCK_IN: return IV_OP_STOCK_IN;
  case IV_ACT_TRANSFER: return IV_OP_TRANSFER;
  case IV_ACT_WALK_IN: return IV_OP_WALK_IN;
  case IV_ACT_CONNECT: return IV_OP_CONNECT;
  case IV_ACT_SELL: return IV_OP_SELL;
  case IV_ACT_DELIVER: return IV_OP_DELIVER;
  case IV_ACT_MARK_FAULTY: return IV_OP_MARK_FAULTY;
  case IV_ACT_RETURN: return IV_OP_RETURN;
  default: return -1; /* provision, hlr_fail: hlr-provisioner's results */
  }
}

int iv_op_is_write(iv_op op) {
  return (unsigned)op < IV_OP_COUNT && op != IV_OP_READ_STOCK &&
         op != IV_OP_READ_RECONCILE && op != IV_OP_READ_ORDERS &&
         op != IV_OP_READ_DASHBOARD;
}

/* Same id rule as sim_state's, so a scope can be compared with a SIM's. */
static int id_ok(const char *id) {
  size_t n = strnlen(id, IV_ID_MAX + 1);
  if (n == 0 || n > IV_ID_MAX)
    return 0;
  for (const char *p = id; *p; p++)
    if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
          (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
      return 0;
  return 1;
}

int iv_principal_check(const iv_principal *who, char *why, size_t whylen) {
  size_t n = strnlen(who->user, sizeof who->user);
  int user_ok = n > 0 && n <= IV_USER_MAX;
  for (size_t i = 0; user_ok && i < n; i++) /* no blanks or controls */
    user_ok = (unsigned char)who->user[i] > 0x20 && who->user[i] != 0x7f;
  if (!user_ok) {
    snprintf(why, whylen, "the user name must be 1 to %d characters without "
             "blanks", IV_USER_MAX);
    return -1;
  }
  if ((unsigned)who->role >= IV_ROLE_COUNT) {
    snprintf(why, whylen, "user %s has no known role", who->user);
    return -1;
  }
  int has_ctkv = who->ctkv[0] != '\0', has_shop = who->shop[0] != '\0';
  const char *need = NULL;
  if (who->role == IV_ROLE_CTKV) {
    if (!has_ctkv || has_shop || !id_ok(who->ctkv))
      need = "a ctkv user needs one CTKV id (e.g. CTKV3) and no shop";
  } else if (who->role == IV_ROLE_SHOP) {
    if (!has_ctkv || !has_shop || !id_ok(who->ctkv) || !id_ok(who->shop))
      need = "a shop user needs its shop id and the shop's CTKV id";
  } else if (has_ctkv || has_shop) {
    need = "only ctkv and shop users have a CTKV or shop scope";
  }
  if (need) {
    snprintf(why, whylen, "user %s (%s): %s", who->user,
             role_names[who->role], need);
    return -1;
  }
  return 0;
}

static int eq(const char *a, const char *b) { return *a && !strcmp(a, b); }

/* The target as words: "of CTKV2", "at shop HNI-001", or none. */
static void target_words(const char *tc, const char *ts, const char *none,
                         char *buf, size_t n) {
  if (*ts)
    snprintf(buf, n, "at shop %s", ts);
  else if (*tc)
    snprintf(buf, n, "of %s", tc);
  else
    snprintf(buf, n, "%s", none);
}

int iv_may(const iv_principal *who, iv_op op, const char *target_ctkv,
           const char *target_shop, char *why, size_t whylen) {
  if (iv_principal_check(who, why, whylen))
    return 0;
  if ((unsigned)op >= IV_OP_COUNT) {
    snprintf(why, whylen, "user %s: unknown operation %d", who->user, (int)op);
    return 0;
  }
  const char *tc = target_ctkv ? target_ctkv : "";
  const char *ts = target_shop ? target_shop : "";
  /* A malformed target matches no scope; refused without echoing it, as it
   * may come straight from a request. */
  if ((*tc && !id_ok(tc)) || (*ts && !id_ok(ts))) {
    snprintf(why, whylen, "user %s may not %s: the target %s id is malformed",
             who->user, op_names[op], *tc && !id_ok(tc) ? "CTKV" : "shop");
    return 0;
  }
  iv_role r = who->role;
  int is_ctkv = r == IV_ROLE_CTKV && eq(who->ctkv, tc);
  /* A shop acts for itself; a target CTKV, when given, must be its own. */
  int is_shop = r == IV_ROLE_SHOP && eq(who->shop, ts) &&
                (!*tc || !strcmp(who->ctkv, tc));
  int head_office = r == IV_ROLE_BAN_KHDN || r == IV_ROLE_BAN_KHCN ||
                    r == IV_ROLE_TT_TCTK || r == IV_ROLE_AUDITOR;
  char where[2 * IV_ID_MAX + 32], what[2 * IV_ID_MAX + 96];
  const char *rule = "";
  int ok = 0;
  switch (op) {
  case IV_OP_HANDOVER:
    ok = r == IV_ROLE_BAN_KHDN;
    snprintf(what, sizeof what, "hand SIMs over to %s", *tc ? tc : "a CTKV");
    rule = "only Ban KHDN (ban_khdn) hands SIMs over";
    break;
  case IV_OP_STOCK_IN:
    ok = is_ctkv;
    snprintf(what, sizeof what, "stock in SIMs handed over to %s",
             *tc ? tc : "no CTKV");
    rule = "only the CTKV the SIMs were handed over to stocks them in";
    break;
  case IV_OP_TRANSFER:
    ok = is_ctkv;
    snprintf(what, sizeof what, "transfer SIMs of %s", *tc ? tc : "no CTKV");
    rule = "only the SIMs' CTKV moves them to its shops";
    break;
  case IV_OP_WALK_IN:
  case IV_OP_CONNECT:
  case IV_OP_SELL:
  case IV_OP_DELIVER:
    ok = is_shop || is_ctkv;
    target_words(tc, ts, "without a shop", where, sizeof where);
    snprintf(what, sizeof what, "%s SIMs %s",
             op == IV_OP_WALK_IN   ? "take walk-in"
             : op == IV_OP_CONNECT ? "connect"
             : op == IV_OP_SELL    ? "sell"
                                   : "deliver",
             where);
    rule = op == IV_OP_WALK_IN ? "only that shop or its CTKV takes them"
                               : "only the shop holding the SIM or its CTKV";
    break;
  case IV_OP_MARK_FAULTY:
  case IV_OP_RETURN:
    /* Before the handover a SIM is Ban KHDN's; after it, its CTKV's and,
     * at a shop, that shop's too. */
    ok = *tc ? is_ctkv || is_shop : r == IV_ROLE_BAN_KHDN && !*ts;
    target_words(tc, ts, "not yet handed over", where, sizeof where);
    snprintf(what, sizeof what, "%s SIMs %s",
             op == IV_OP_RETURN ? "take back" : "mark faulty", where);
    rule = *tc ? "only the SIM's CTKV or the shop holding it"
               : "SIMs not yet handed over are Ban KHDN's";
    break;
  case IV_OP_READ_STOCK:
    ok = head_office || (r == IV_ROLE_CTKV && eq(who->ctkv, tc)) ||
         (r == IV_ROLE_SHOP && is_shop);
    target_words(tc, ts, "of every CTKV", where, sizeof where);
    snprintf(what, sizeof what, "read the stock %s", where);
    rule = r == IV_ROLE_BCYCP ? "BCYCP reads orders and reconciliation only"
                              : "a CTKV reads its own stock, a shop its own";
    break;
  case IV_OP_READ_RECONCILE:
    ok = head_office || r == IV_ROLE_BCYCP ||
         (r == IV_ROLE_CTKV && eq(who->ctkv, tc));
    target_words(tc, ts, "of every CTKV", where, sizeof where);
    snprintf(what, sizeof what, "read the reconciliation %s", where);
    rule = "a CTKV reads its own counts; shops read none";
    break;
  case IV_OP_READ_ORDERS:
    /* An order names BCYCP's contact person: not for the regions. */
    ok = head_office || r == IV_ROLE_BCYCP;
    snprintf(what, sizeof what, "read BCYCP's orders or the vendors");
    rule = "orders and vendors are read by the head office, BCYCP and "
           "auditors";
    break;
  case IV_OP_IMPORT_NOTICE:
    /* Cục CTS (BCYCP) sends its notices; Ban KHDN enters one received
     * otherwise. They name people and their identity numbers. */
    ok = r == IV_ROLE_BCYCP || r == IV_ROLE_BAN_KHDN;
    snprintf(what, sizeof what, "import a Cục CTS notice");
    rule = "only BCYCP (bcycp) and Ban KHDN (ban_khdn) import notices";
    break;
  case IV_OP_READ_DASHBOARD:
    ok = r == IV_ROLE_AUDITOR || r == IV_ROLE_BAN_KHDN;
    snprintf(what, sizeof what, "read the operations dashboard");
    rule = "the dashboard is for the roles auditor and ban_khdn";
    break;
  case IV_OP_LOAD_DATA:
  default:
    ok = r == IV_ROLE_BAN_KHDN || r == IV_ROLE_BAN_KHCN;
    snprintf(what, sizeof what, "load organisation, numbering or tariff "
             "data");
    rule = "only Ban KHDN and Ban KHCN load data";
    break;
  }
  if (ok)
    return 1;
  char scope[IV_ID_MAX + 16];
  if (r == IV_ROLE_SHOP)
    snprintf(scope, sizeof scope, "shop %s", who->shop);
  else if (r == IV_ROLE_CTKV)
    snprintf(scope, sizeof scope, "ctkv %s", who->ctkv);
  else
    snprintf(scope, sizeof scope, "%s", role_names[r]);
  snprintf(why, whylen, "user %s (%s) may not %s: %s", who->user, scope, what,
           rule);
  return 0;
}

int iv_token_new(char out[IV_TOKEN_HEX + 1]) {
  unsigned char raw[IV_TOKEN_HEX / 2];
  char err[80];
  out[0] = '\0';
  if (sp_random_bytes(raw, sizeof raw, err, sizeof err))
    return -1;
  sp_hex_encode(raw, sizeof raw, out);
  sp_wipe(raw, sizeof raw);
  return 0;
}

int iv_token_hash(const char *token, char out[IV_TOKEN_HEX + 1]) {
  out[0] = '\0';
  if (!token || strnlen(token, IV_TOKEN_HEX + 1) != IV_TOKEN_HEX)
    return -1;
  for (int i = 0; i < IV_TOKEN_HEX; i++)
    if (!((token[i] >= '0' && token[i] <= '9') ||
          (token[i] >= 'a' && token[i] <= 'f')))
      return -1;
  sp_sha256_hex(token, IV_TOKEN_HEX, out);
  return 0;
}

int iv_token_days_parse(const char *s) {
  if (!s || !*s || strlen(s) > 4 || strspn(s, "0123456789") != strlen(s))
    return -1;
  int n = 0;
  for (const char *p = s; *p; p++)
    n = n * 10 + (*p - '0');
  return n >= 1 && n <= IV_TOKEN_DAYS_MAX ? n : -1;
}

int iv_token_live(int has_end, long long expires_us, long long now_us) {
  return !has_end || now_us < expires_us;
}

int iv_token_equal(const char *a, const char *b) {
  /* The lengths are public (always 64); only the content is secret. */
  if (!a || !b || strnlen(a, IV_TOKEN_HEX + 1) != IV_TOKEN_HEX ||
      strnlen(b, IV_TOKEN_HEX + 1) != IV_TOKEN_HEX)
    return 0;
  return CRYPTO_memcmp(a, b, IV_TOKEN_HEX) == 0;
}
