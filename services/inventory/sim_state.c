/* sim_state.c - one table of the SIM's legal moves, read by the pure
 * function and by the SQL side alike. */
#include "sim_state.h"

#include <stdio.h>
#include <string.h>

static const char *const state_names[IV_ST_COUNT] = {
    [IV_ST_PRODUCED] = "produced",       [IV_ST_PROVISIONED] = "provisioned",
    [IV_ST_HLR_FAILED] = "hlr_failed",   [IV_ST_HANDED_OVER] = "handed_over",
    [IV_ST_IN_STOCK] = "in_stock",       [IV_ST_AT_SHOP] = "at_shop",
    [IV_ST_CONNECTED] = "connected",     [IV_ST_SOLD] = "sold",
    [IV_ST_DELIVERED] = "delivered",     [IV_ST_FAULTY] = "faulty",
    [IV_ST_RETURNED] = "returned",
};

#define B(s) (1u << (s))

/* from_sql is written out rather than built so that it can be a constant;
 * the unit test checks it against the from mask. */
static const struct {
  const char *name;
  unsigned from;
  iv_state to;
  iv_scope scope;
  const char *from_sql;
} actions[IV_ACT_COUNT] = {
    [IV_ACT_PROVISION] = {"provision", B(IV_ST_PRODUCED), IV_ST_PROVISIONED,
                          IV_SCOPE_NONE, "'produced'"},
    [IV_ACT_HLR_FAIL] = {"hlr_fail", B(IV_ST_PRODUCED), IV_ST_HLR_FAILED,
                         IV_SCOPE_NONE, "'produced'"},
    [IV_ACT_HANDOVER] = {"handover", B(IV_ST_PROVISIONED), IV_ST_HANDED_OVER,
                         IV_SCOPE_SET_CTKV, "'provisioned'"},
    [IV_ACT_STOCK_IN] = {"stock_in", B(IV_ST_HANDED_OVER), IV_ST_IN_STOCK,
                         IV_SCOPE_CTKV, "'handed_over'"},
    [IV_ACT_TRANSFER] = {"transfer", B(IV_ST_IN_STOCK), IV_ST_AT_SHOP,
                         IV_SCOPE_SHOP_CTKV, "'in_stock'"},
    /* Flow A: a customer at a shop; the CTKV stocks in and transfers at
     * once, so a handed-over SIM may skip the stock. */
    [IV_ACT_WALK_IN] = {"walk_in", B(IV_ST_HANDED_OVER) | B(IV_ST_IN_STOCK),
                        IV_ST_AT_SHOP, IV_SCOPE_SHOP_CTKV,
                        "'handed_over','in_stock'"},
    [IV_ACT_CONNECT] = {"connect", B(IV_ST_AT_SHOP), IV_ST_CONNECTED,
                        IV_SCOPE_SHOP, "'at_shop'"},
    [IV_ACT_SELL] = {"sell", B(IV_ST_CONNECTED), IV_ST_SOLD, IV_SCOPE_SHOP,
                     "'connected'"},
    [IV_ACT_DELIVER] = {"deliver", B(IV_ST_SOLD), IV_ST_DELIVERED,
                        IV_SCOPE_SHOP, "'sold'"},
    /* Broken before it reached a customer, or after coming back. */
    [IV_ACT_MARK_FAULTY] = {"mark_faulty",
                            B(IV_ST_PROVISIONED) | B(IV_ST_HANDED_OVER) |
                                B(IV_ST_IN_STOCK) | B(IV_ST_AT_SHOP) |
                                B(IV_ST_RETURNED),
                            IV_ST_FAULTY, IV_SCOPE_NONE,
                            "'provisioned','handed_over','in_stock',"
                            "'at_shop','returned'"},
    [IV_ACT_RETURN] = {"return",
                       B(IV_ST_CONNECTED) | B(IV_ST_SOLD) | B(IV_ST_DELIVERED),
                       IV_ST_RETURNED, IV_SCOPE_NONE,
                       "'connected','sold','delivered'"},
};

const char *iv_state_name(iv_state s) {
  return (unsigned)s < IV_ST_COUNT ? state_names[s] : "?";
}

int iv_state_parse(const char *s) {
  for (int i = 0; s && i < IV_ST_COUNT; i++)
    if (!strcmp(s, state_names[i]))
      return i;
  return -1;
}

const char *iv_action_name(iv_action_kind k) {
  return (unsigned)k < IV_ACT_COUNT ? actions[k].name : "?";
}

int iv_action_parse(const char *s) {
  for (int i = 0; s && i < IV_ACT_COUNT; i++)
    if (!strcmp(s, actions[i].name))
      return i;
  return -1;
}

int iv_action_allowed_from(iv_action_kind k, iv_state s) {
  return (unsigned)k < IV_ACT_COUNT && (unsigned)s < IV_ST_COUNT &&
         (actions[k].from & B(s)) != 0;
}

const char *iv_action_from_states_sql(iv_action_kind k) {
  return (unsigned)k < IV_ACT_COUNT ? actions[k].from_sql : NULL;
}

iv_state iv_action_target(iv_action_kind k) {
  return (unsigned)k < IV_ACT_COUNT ? actions[k].to : IV_ST_COUNT;
}

iv_scope iv_action_scope(iv_action_kind k) {
  return (unsigned)k < IV_ACT_COUNT ? actions[k].scope : IV_SCOPE_NONE;
}

/* Where the SIM is, for reasons: "at_shop HNI-001", "in_stock at CTKV2". */
static void where(const iv_sim *s, char *buf, size_t n) {
  const char *name = iv_state_name(s->state);
  if (s->state == IV_ST_AT_SHOP && *s->shop)
    snprintf(buf, n, "%s %s", name, s->shop);
  else if (s->state == IV_ST_HANDED_OVER && *s->ctkv)
    snprintf(buf, n, "%s to %s", name, s->ctkv);
  else if (*s->shop || *s->ctkv)
    snprintf(buf, n, "%s at %s", name, *s->shop ? s->shop : s->ctkv);
  else
    snprintf(buf, n, "%s", name);
}

/* "provisioned, handed_over or in_stock". */
static void from_list(unsigned mask, char *buf, size_t n) {
  int total = 0, seen = 0;
  for (int i = 0; i < IV_ST_COUNT; i++)
    total += (mask & B(i)) != 0;
  buf[0] = '\0';
  for (int i = 0; i < IV_ST_COUNT; i++) {
    if (!(mask & B(i)))
      continue;
    size_t len = strlen(buf);
    snprintf(buf + len, n - len, "%s%s",
             seen == 0 ? "" : seen == total - 1 ? " or " : ", ",
             state_names[i]);
    seen++;
  }
}

/* An id the action names: present, short, plain ASCII (so that a reason
 * quoting it stays readable). */
static int id_ok(const char *id) {
  size_t n = strlen(id);
  if (n == 0 || n > IV_ID_MAX)
    return 0;
  for (const char *p = id; *p; p++)
    if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
          (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
      return 0;
  return 1;
}

int iv_sim_apply(const iv_sim *in, const iv_action *a, iv_sim *out,
                 char *why, size_t whylen) {
  if ((unsigned)in->state >= IV_ST_COUNT) {
    snprintf(why, whylen, "the SIM's state (%d) is unknown", (int)in->state);
    return -1;
  }
  if ((unsigned)a->kind >= IV_ACT_COUNT) {
    snprintf(why, whylen, "unknown action %d", (int)a->kind);
    return -1;
  }
  const char *actx = a->ctkv ? a->ctkv : "", *ashop = a->shop ? a->shop : "";
  const char *name = actions[a->kind].name;
  if (!(actions[a->kind].from & B(in->state))) {
    char w[2 * IV_ID_MAX + 32], f[128];
    where(in, w, sizeof w);
    from_list(actions[a->kind].from, f, sizeof f);
    snprintf(why, whylen, "SIM is %s, not %s (%s needs that)", w, f, name);
    return -1;
  }
  iv_scope scope = actions[a->kind].scope;
  int needs_ctkv = scope == IV_SCOPE_SET_CTKV || scope == IV_SCOPE_CTKV ||
                   scope == IV_SCOPE_SHOP_CTKV;
  int needs_shop = scope == IV_SCOPE_SHOP_CTKV || scope == IV_SCOPE_SHOP;
  if (needs_shop && !id_ok(ashop)) {
    snprintf(why, whylen, "%s needs a shop id (1 to %d of A-Z, a-z, 0-9, "
             "-, _ and .)", name, IV_ID_MAX);
    return -1;
  }
  if (needs_ctkv && !id_ok(actx)) {
    snprintf(why, whylen, "%s needs %s (an id such as CTKV3)", name,
             scope == IV_SCOPE_SET_CTKV   ? "the CTKV receiving the SIM"
             : scope == IV_SCOPE_CTKV     ? "the CTKV stocking it in"
                                          : "the CTKV the shop belongs to");
    return -1;
  }
  const char *sim_ctkv = *in->ctkv ? in->ctkv : "no CTKV";
  switch (scope) {
  case IV_SCOPE_CTKV:
    if (strcmp(in->ctkv, actx)) {
      snprintf(why, whylen, "handed over to %s, not %s", sim_ctkv, actx);
      return -1;
    }
    break;
  case IV_SCOPE_SHOP_CTKV:
    if (strcmp(in->ctkv, actx)) {
      snprintf(why, whylen, "shop %s belongs to %s, the SIM to %s", ashop,
               actx, sim_ctkv);
      return -1;
    }
    break;
  case IV_SCOPE_SHOP:
    if (strcmp(in->shop, ashop)) {
      snprintf(why, whylen, "SIM is held by shop %s, not %s",
               *in->shop ? in->shop : "(none)", ashop);
      return -1;
    }
    break;
  default:
    break;
  }
  iv_sim next = *in;
  next.state = actions[a->kind].to;
  if (scope == IV_SCOPE_SET_CTKV) {
    snprintf(next.ctkv, sizeof next.ctkv, "%s", actx);
    next.shop[0] = '\0';
  } else if (scope == IV_SCOPE_SHOP_CTKV) {
    snprintf(next.shop, sizeof next.shop, "%s", ashop);
  }
  *out = next;
  return 0;
}
