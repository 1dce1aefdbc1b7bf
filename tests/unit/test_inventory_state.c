/* Unit tests for inventory's SIM life (sim_state.c): every legal move,
 * every illegal one refused with a reason, the CTKV and shop scope rules,
 * and the SQL lists agreeing with the pure function. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "sim_state.h"

static char why[256];

static iv_sim sim(iv_state s, const char *ctkv, const char *shop) {
  iv_sim v;
  memset(&v, 0, sizeof v);
  v.state = s;
  snprintf(v.ctkv, sizeof v.ctkv, "%s", ctkv);
  snprintf(v.shop, sizeof v.shop, "%s", shop);
  return v;
}

/* Every legal move with fitting ids, and where the SIM ends up. */
static const struct {
  iv_state from;
  iv_action_kind kind;
  const char *ctkv, *shop; /* the SIM's before */
  const char *a_ctkv, *a_shop;
  iv_state to;
  const char *ctkv_after, *shop_after;
} legal[] = {
    {IV_ST_PRODUCED, IV_ACT_PROVISION, "", "", NULL, NULL, IV_ST_PROVISIONED,
     "", ""},
    {IV_ST_PRODUCED, IV_ACT_HLR_FAIL, "", "", NULL, NULL, IV_ST_HLR_FAILED, "",
     ""},
    {IV_ST_PROVISIONED, IV_ACT_HANDOVER, "", "", "CTKV3", NULL,
     IV_ST_HANDED_OVER, "CTKV3", ""},
    {IV_ST_HANDED_OVER, IV_ACT_STOCK_IN, "CTKV3", "", "CTKV3", NULL,
     IV_ST_IN_STOCK, "CTKV3", ""},
    {IV_ST_IN_STOCK, IV_ACT_TRANSFER, "CTKV3", "", "CTKV3", "DNG-002",
     IV_ST_AT_SHOP, "CTKV3", "DNG-002"},
    {IV_ST_HANDED_OVER, IV_ACT_WALK_IN, "CTKV1", "", "CTKV1", "HNI-001",
     IV_ST_AT_SHOP, "CTKV1", "HNI-001"},
    {IV_ST_IN_STOCK, IV_ACT_WALK_IN, "CTKV1", "", "CTKV1", "HNI-001",
     IV_ST_AT_SHOP, "CTKV1", "HNI-001"},
    {IV_ST_AT_SHOP, IV_ACT_CONNECT, "CTKV1", "HNI-001", NULL, "HNI-001",
     IV_ST_CONNECTED, "CTKV1", "HNI-001"},
    {IV_ST_CONNECTED, IV_ACT_SELL, "CTKV1", "HNI-001", NULL, "HNI-001",
     IV_ST_SOLD, "CTKV1", "HNI-001"},
    {IV_ST_SOLD, IV_ACT_DELIVER, "CTKV1", "HNI-001", NULL, "HNI-001",
     IV_ST_DELIVERED, "CTKV1", "HNI-001"},
    {IV_ST_PROVISIONED, IV_ACT_MARK_FAULTY, "", "", NULL, NULL, IV_ST_FAULTY,
     "", ""},
    {IV_ST_HANDED_OVER, IV_ACT_MARK_FAULTY, "CTKV2", "", NULL, NULL,
     IV_ST_FAULTY, "CTKV2", ""},
    {IV_ST_IN_STOCK, IV_ACT_MARK_FAULTY, "CTKV2", "", NULL, NULL, IV_ST_FAULTY,
     "CTKV2", ""},
    {IV_ST_AT_SHOP, IV_ACT_MARK_FAULTY, "CTKV2", "HCM-004", NULL, NULL,
     IV_ST_FAULTY, "CTKV2", "HCM-004"},
    {IV_ST_RETURNED, IV_ACT_MARK_FAULTY, "CTKV2", "HCM-004", NULL, NULL,
     IV_ST_FAULTY, "CTKV2", "HCM-004"},
    {IV_ST_CONNECTED, IV_ACT_RETURN, "CTKV2", "HCM-004", NULL, NULL,
     IV_ST_RETURNED, "CTKV2", "HCM-004"},
    {IV_ST_SOLD, IV_ACT_RETURN, "CTKV2", "HCM-004", NULL, NULL,
     IV_ST_RETURNED, "CTKV2", "HCM-004"},
    {IV_ST_DELIVERED, IV_ACT_RETURN, "CTKV2", "HCM-004", NULL, NULL,
     IV_ST_RETURNED, "CTKV2", "HCM-004"},
};
#define NLEGAL ((int)(sizeof legal / sizeof *legal))

START_TEST(legal_moves) {
  iv_sim in = sim(legal[_i].from, legal[_i].ctkv, legal[_i].shop), out;
  iv_action a = {legal[_i].kind, legal[_i].a_ctkv, legal[_i].a_shop};
  why[0] = '\0';
  ck_assert_msg(iv_sim_apply(&in, &a, &out, why, sizeof why) == 0,
                "%s from %s: %s", iv_action_name(a.kind),
                iv_state_name(in.state), why);
  ck_assert_int_eq(out.state, legal[_i].to);
  ck_assert_int_eq(out.state, iv_action_target(a.kind));
  ck_assert_str_eq(out.ctkv, legal[_i].ctkv_after);
  ck_assert_str_eq(out.shop, legal[_i].shop_after);
  ck_assert(iv_action_allowed_from(a.kind, in.state));
}
END_TEST

/* All states x all actions: exactly the table above is allowed; the rest is
 * refused with a reason naming the SIM's state, and out is left alone.
 * The ids given fit, so only the state can be the cause. */
START_TEST(illegal_moves) {
  int refused = 0;
  for (int s = 0; s < IV_ST_COUNT; s++)
    for (int k = 0; k < IV_ACT_COUNT; k++) {
      int is_legal = 0;
      for (int i = 0; i < NLEGAL; i++)
        is_legal |= legal[i].from == (iv_state)s &&
                    legal[i].kind == (iv_action_kind)k;
      ck_assert_int_eq(iv_action_allowed_from(k, s), is_legal);
      if (is_legal)
        continue;
      iv_sim in = sim(s, "CTKV1", s == IV_ST_AT_SHOP ? "HNI-001" : ""), out;
      memset(&out, 0x5a, sizeof out);
      iv_action a = {k, "CTKV1", "HNI-001"};
      why[0] = '\0';
      ck_assert_int_eq(iv_sim_apply(&in, &a, &out, why, sizeof why), -1);
      ck_assert_msg(why[0] != '\0', "%s from %s", iv_action_name(k),
                    iv_state_name(s));
      char want[64];
      snprintf(want, sizeof want, "SIM is %s", iv_state_name(s));
      ck_assert_msg(strstr(why, want) == why, "reason \"%s\"", why);
      ck_assert_int_eq(out.state, 0x5a5a5a5a);
      refused++;
    }
  ck_assert_int_eq(refused, IV_ST_COUNT * IV_ACT_COUNT - NLEGAL);
}
END_TEST

START_TEST(reasons_name_place_and_need) {
  iv_sim in = sim(IV_ST_AT_SHOP, "CTKV1", "HNI-001"), out;
  iv_action a = {IV_ACT_TRANSFER, "CTKV1", "HNI-002"};
  ck_assert_int_eq(iv_sim_apply(&in, &a, &out, why, sizeof why), -1);
  ck_assert_ptr_eq(strstr(why, "SIM is at_shop HNI-001, not in_stock"), why);
  in = sim(IV_ST_SOLD, "CTKV1", "HNI-001");
  a = (iv_action){IV_ACT_MARK_FAULTY, NULL, NULL};
  ck_assert_int_eq(iv_sim_apply(&in, &a, &out, why, sizeof why), -1);
  ck_assert_ptr_nonnull(strstr(
      why, "not provisioned, handed_over, in_stock, at_shop or returned"));
  in = sim(IV_ST_PROVISIONED, "", "");
  a = (iv_action){IV_ACT_WALK_IN, "CTKV1", "HNI-001"};
  ck_assert_int_eq(iv_sim_apply(&in, &a, &out, why, sizeof why), -1);
  ck_assert_ptr_nonnull(strstr(why, "SIM is provisioned, not handed_over or "
                                    "in_stock (walk_in needs that)"));
  in = sim(IV_ST_HANDED_OVER, "CTKV2", "");
  a = (iv_action){IV_ACT_SELL, NULL, "HNI-001"};
  ck_assert_int_eq(iv_sim_apply(&in, &a, &out, why, sizeof why), -1);
  ck_assert_ptr_nonnull(strstr(why, "SIM is handed_over to CTKV2"));
}
END_TEST

START_TEST(scope_rules) {
  iv_sim in, out;
  iv_action a;
  /* Stock-in only by the CTKV it was handed to. */
  in = sim(IV_ST_HANDED_OVER, "CTKV2", "");
  a = (iv_action){IV_ACT_STOCK_IN, "CTKV3", NULL};
  ck_assert_int_eq(iv_sim_apply(&in, &a, &out, why, sizeof why), -1);
  ck_assert_str_eq(why, "handed over to CTKV2, not CTKV3");
  /* A shop of another CTKV takes neither a transfer nor a walk-in. */
  in = sim(IV_ST_IN_STOCK, "CTKV1", "");
  a = (iv_action){IV_ACT_TRANSFER, "CTKV2", "HCM-004"};
  ck_assert_int_eq(iv_sim_apply(&in, &a, &out, why, sizeof why), -1);
  ck_assert_str_eq(why, "shop HCM-004 belongs to CTKV2, the SIM to CTKV1");
  a.kind = IV_ACT_WALK_IN;
  ck_assert_int_eq(iv_sim_apply(&in, &a, &out, why, sizeof why), -1);
  ck_assert_str_eq(why, "shop HCM-004 belongs to CTKV2, the SIM to CTKV1");
  in = sim(IV_ST_HANDED_OVER, "CTKV1", "");
  ck_assert_int_eq(iv_sim_apply(&in, &a, &out, why, sizeof why), -1);
  /* Connect, sell and deliver only at the shop holding the SIM. */
  static const struct {
    iv_state s;
    iv_action_kind k;
  } at_shop[] = {{IV_ST_AT_SHOP, IV_ACT_CONNECT},
                 {IV_ST_CONNECTED, IV_ACT_SELL},
                 {IV_ST_SOLD, IV_ACT_DELIVER}};
  for (size_t i = 0; i < sizeof at_shop / sizeof *at_shop; i++) {
    in = sim(at_shop[i].s, "CTKV1", "HNI-001");
    a = (iv_action){at_shop[i].k, "CTKV1", "HNI-002"};
    ck_assert_int_eq(iv_sim_apply(&in, &a, &out, why, sizeof why), -1);
    ck_assert_str_eq(why, "SIM is held by shop HNI-001, not HNI-002");
    a.shop = NULL;
    ck_assert_int_eq(iv_sim_apply(&in, &a, &out, why, sizeof why), -1);
    ck_assert_ptr_nonnull(strstr(why, "needs a shop id"));
    a.shop = "HNI-001";
    ck_assert_int_eq(iv_sim_apply(&in, &a, &out, why, sizeof why), 0);
  }
  /* Missing or malformed ids are refused before anything is compared. */
  in = sim(IV_ST_PROVISIONED, "", "");
  a = (iv_action){IV_ACT_HANDOVER, NULL, NULL};
  ck_assert_int_eq(iv_sim_apply(&in, &a, &out, why, sizeof why), -1);
  ck_assert_ptr_nonnull(strstr(why, "the CTKV receiving the SIM"));
  a.ctkv = "";
  ck_assert_int_eq(iv_sim_apply(&in, &a, &out, why, sizeof why), -1);
  a.ctkv = "CTKV 1";
  ck_assert_int_eq(iv_sim_apply(&in, &a, &out, why, sizeof why), -1);
  a.ctkv = "CTKV1-0123456789012345678901234567"; /* 33 characters */
  ck_assert_int_eq(iv_sim_apply(&in, &a, &out, why, sizeof why), -1);
  in = sim(IV_ST_IN_STOCK, "CTKV1", "");
  a = (iv_action){IV_ACT_TRANSFER, NULL, "HNI-001"};
  ck_assert_int_eq(iv_sim_apply(&in, &a, &out, why, sizeof why), -1);
  ck_assert_ptr_nonnull(strstr(why, "the CTKV the shop belongs to"));
  a = (iv_action){IV_ACT_TRANSFER, "CTKV1", "HNI<001>"};
  ck_assert_int_eq(iv_sim_apply(&in, &a, &out, why, sizeof why), -1);
  ck_assert_ptr_null(strstr(why, "HNI<001>")); /* never echoed */
  /* A SIM without a CTKV (bad data) matches no CTKV. */
  in = sim(IV_ST_HANDED_OVER, "", "");
  a = (iv_action){IV_ACT_STOCK_IN, "CTKV1", NULL};
  ck_assert_int_eq(iv_sim_apply(&in, &a, &out, why, sizeof why), -1);
  ck_assert_str_eq(why, "handed over to no CTKV, not CTKV1");
  /* Mark-faulty and return carry no scope here (access.c decides who). */
  in = sim(IV_ST_AT_SHOP, "CTKV1", "HNI-001");
  a = (iv_action){IV_ACT_MARK_FAULTY, "CTKV9", "XYZ-9"};
  ck_assert_int_eq(iv_sim_apply(&in, &a, &out, why, sizeof why), 0);
  ck_assert_str_eq(out.shop, "HNI-001");
}
END_TEST

START_TEST(whole_life_in_place) {
  static const iv_action steps[] = {
      {IV_ACT_PROVISION, NULL, NULL},  {IV_ACT_HANDOVER, "CTKV4", NULL},
      {IV_ACT_STOCK_IN, "CTKV4", NULL}, {IV_ACT_TRANSFER, "CTKV4", "NAN-01"},
      {IV_ACT_CONNECT, NULL, "NAN-01"}, {IV_ACT_SELL, NULL, "NAN-01"},
      {IV_ACT_DELIVER, NULL, "NAN-01"}, {IV_ACT_RETURN, NULL, NULL},
      {IV_ACT_MARK_FAULTY, NULL, NULL},
  };
  iv_sim s = sim(IV_ST_PRODUCED, "", "");
  for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
    ck_assert_msg(iv_sim_apply(&s, &steps[i], &s, why, sizeof why) == 0,
                  "step %zu: %s", i, why);
    ck_assert_int_eq(s.state, iv_action_target(steps[i].kind));
  }
  ck_assert_int_eq(s.state, IV_ST_FAULTY);
  ck_assert_str_eq(s.ctkv, "CTKV4");
  ck_assert_str_eq(s.shop, "NAN-01");
  /* A faulty or hlr_failed SIM goes nowhere. */
  for (int k = 0; k < IV_ACT_COUNT; k++) {
    ck_assert(!iv_action_allowed_from(k, IV_ST_FAULTY));
    ck_assert(!iv_action_allowed_from(k, IV_ST_HLR_FAILED));
  }
}
END_TEST

/* The SQL lists say what the table says, in state order. */
START_TEST(sql_lists_agree) {
  for (int k = 0; k < IV_ACT_COUNT; k++) {
    char want[256] = "";
    for (int s = 0; s < IV_ST_COUNT; s++)
      if (iv_action_allowed_from(k, s)) {
        size_t n = strlen(want);
        snprintf(want + n, sizeof want - n, "%s'%s'", n ? "," : "",
                 iv_state_name(s));
      }
    ck_assert_str_eq(iv_action_from_states_sql(k), want);
  }
  ck_assert_str_eq(iv_action_from_states_sql(IV_ACT_TRANSFER), "'in_stock'");
  ck_assert_str_eq(iv_action_from_states_sql(IV_ACT_WALK_IN),
                   "'handed_over','in_stock'");
  ck_assert_ptr_null(iv_action_from_states_sql(IV_ACT_COUNT));
  ck_assert_int_eq(iv_action_target(IV_ACT_COUNT), IV_ST_COUNT);
  ck_assert_int_eq(iv_action_scope(IV_ACT_HANDOVER), IV_SCOPE_SET_CTKV);
  ck_assert_int_eq(iv_action_scope(IV_ACT_STOCK_IN), IV_SCOPE_CTKV);
  ck_assert_int_eq(iv_action_scope(IV_ACT_WALK_IN), IV_SCOPE_SHOP_CTKV);
  ck_assert_int_eq(iv_action_scope(IV_ACT_DELIVER), IV_SCOPE_SHOP);
  ck_assert_int_eq(iv_action_scope(IV_ACT_RETURN), IV_SCOPE_NONE);
}
END_TEST

START_TEST(names) {
  static const char *const states[] = {
      "produced", "provisioned", "hlr_failed", "handed_over",
      "in_stock", "at_shop",     "connected",  "sold",
      "delivered", "faulty",     "returned"};
  ck_assert_int_eq(sizeof states / sizeof *states, IV_ST_COUNT);
  for (int s = 0; s < IV_ST_COUNT; s++) {
    ck_assert_str_eq(iv_state_name(s), states[s]);
    ck_assert_int_eq(iv_state_parse(states[s]), s);
  }
  for (int k = 0; k < IV_ACT_COUNT; k++)
    ck_assert_int_eq(iv_action_parse(iv_action_name(k)), k);
  ck_assert_int_eq(iv_action_parse("return"), IV_ACT_RETURN);
  ck_assert_int_eq(iv_state_parse("IN_STOCK"), -1);
  ck_assert_int_eq(iv_state_parse(""), -1);
  ck_assert_int_eq(iv_state_parse(NULL), -1);
  ck_assert_int_eq(iv_action_parse("steal"), -1);
  ck_assert_str_eq(iv_state_name(IV_ST_COUNT), "?");
  ck_assert_str_eq(iv_action_name(IV_ACT_COUNT), "?");
  /* Out-of-range values from a caller are refused, not read past. */
  iv_sim in = sim(IV_ST_COUNT, "", ""), out;
  iv_action a = {IV_ACT_PROVISION, NULL, NULL};
  ck_assert_int_eq(iv_sim_apply(&in, &a, &out, why, sizeof why), -1);
  in.state = IV_ST_PRODUCED;
  a.kind = IV_ACT_COUNT;
  ck_assert_int_eq(iv_sim_apply(&in, &a, &out, why, sizeof why), -1);
  ck_assert_ptr_nonnull(strstr(why, "unknown action"));
}
END_TEST

int main(void) {
  Suite *s = suite_create("inventory_state");
  TCase *tc = tcase_create("core");
  tcase_add_loop_test(tc, legal_moves, 0, NLEGAL);
  tcase_add_test(tc, illegal_moves);
  tcase_add_test(tc, reasons_name_place_and_need);
  tcase_add_test(tc, scope_rules);
  tcase_add_test(tc, whole_life_in_place);
  tcase_add_test(tc, sql_lists_agree);
  tcase_add_test(tc, names);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
