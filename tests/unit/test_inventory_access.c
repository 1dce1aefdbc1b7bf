/* Unit tests for inventory's access rules (access.c): the whole role x
 * operation x scope matrix, principal scopes, and the token helpers. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "access.h"

static char why[512];

static iv_principal pr(const char *user, iv_role role, const char *ctkv,
                       const char *shop) {
  iv_principal p;
  memset(&p, 0, sizeof p);
  snprintf(p.user, sizeof p.user, "%s", user);
  p.role = role;
  snprintf(p.ctkv, sizeof p.ctkv, "%s", ctkv);
  snprintf(p.shop, sizeof p.shop, "%s", shop);
  return p;
}

/* The columns of the matrix, in this order. */
enum { KHDN, KHCN, TCTK, BCYCP, AUDITOR, CTKV1, CTKV2, SHOP1, SHOP1B, SHOP2,
       NWHO };
static iv_principal who[NWHO];

static void setup(void) {
  who[KHDN] = pr("khdn-an", IV_ROLE_BAN_KHDN, "", "");
  who[KHCN] = pr("khcn-binh", IV_ROLE_BAN_KHCN, "", "");
  who[TCTK] = pr("tctk-chi", IV_ROLE_TT_TCTK, "", "");
  who[BCYCP] = pr("bcycp-dung", IV_ROLE_BCYCP, "", "");
  who[AUDITOR] = pr("audit-em", IV_ROLE_AUDITOR, "", "");
  who[CTKV1] = pr("ctkv1-giang", IV_ROLE_CTKV, "CTKV1", "");
  who[CTKV2] = pr("ctkv2-ha", IV_ROLE_CTKV, "CTKV2", "");
  who[SHOP1] = pr("shop-hni-001", IV_ROLE_SHOP, "CTKV1", "HNI-001");
  who[SHOP1B] = pr("shop-hni-002", IV_ROLE_SHOP, "CTKV1", "HNI-002");
  who[SHOP2] = pr("shop-hcm-004", IV_ROLE_SHOP, "CTKV2", "HCM-004");
}

/* One row per (operation, target): who may, as a string of NWHO digits in
 * the column order above. */
static const struct {
  iv_op op;
  const char *ctkv, *shop;
  const char *may;
} matrix[] = {
    /*                                        KKTBA CC SSS */
    {IV_OP_HANDOVER, "CTKV1", "", "1000000000"},
    {IV_OP_HANDOVER, "CTKV2", "", "1000000000"},
    {IV_OP_HANDOVER, "", "", "1000000000"},
    {IV_OP_STOCK_IN, "CTKV1", "", "0000010000"},
    {IV_OP_STOCK_IN, "CTKV2", "", "0000001000"},
    {IV_OP_STOCK_IN, "", "", "0000000000"},
    {IV_OP_TRANSFER, "CTKV1", "HNI-001", "0000010000"},
    {IV_OP_TRANSFER, "CTKV2", "HCM-004", "0000001000"},
    {IV_OP_TRANSFER, "", "", "0000000000"},
    {IV_OP_WALK_IN, "CTKV1", "HNI-001", "0000010100"},
    {IV_OP_WALK_IN, "CTKV1", "HNI-002", "0000010010"},
    {IV_OP_WALK_IN, "CTKV2", "HCM-004", "0000001001"},
    {IV_OP_WALK_IN, "CTKV2", "HNI-001", "0000001000"}, /* inconsistent */
    {IV_OP_WALK_IN, "", "", "0000000000"},
    {IV_OP_CONNECT, "CTKV1", "HNI-001", "0000010100"},
    {IV_OP_CONNECT, "CTKV2", "HCM-004", "0000001001"},
    {IV_OP_CONNECT, "", "HNI-001", "0000000100"},
    {IV_OP_CONNECT, "", "", "0000000000"},
    {IV_OP_SELL, "CTKV1", "HNI-002", "0000010010"},
    {IV_OP_SELL, "CTKV2", "HCM-004", "0000001001"},
    {IV_OP_SELL, "", "", "0000000000"},
    {IV_OP_DELIVER, "CTKV1", "HNI-001", "0000010100"},
    {IV_OP_DELIVER, "CTKV2", "HCM-004", "0000001001"},
    {IV_OP_DELIVER, "", "", "0000000000"},
    {IV_OP_MARK_FAULTY, "CTKV1", "HNI-001", "0000010100"},
    {IV_OP_MARK_FAULTY, "CTKV1", "", "0000010000"},
    {IV_OP_MARK_FAULTY, "CTKV2", "HCM-004", "0000001001"},
    {IV_OP_MARK_FAULTY, "", "", "1000000000"}, /* not yet handed over */
    {IV_OP_MARK_FAULTY, "", "HNI-001", "0000000000"}, /* inconsistent */
    {IV_OP_RETURN, "CTKV1", "HNI-001", "0000010100"},
    {IV_OP_RETURN, "CTKV2", "", "0000001000"},
    {IV_OP_RETURN, "CTKV2", "HCM-004", "0000001001"},
    {IV_OP_RETURN, "", "", "1000000000"},
    {IV_OP_READ_STOCK, "", "", "1110100000"},
    {IV_OP_READ_STOCK, "CTKV1", "", "1110110000"},
    {IV_OP_READ_STOCK, "CTKV2", "", "1110101000"},
    {IV_OP_READ_STOCK, "CTKV1", "HNI-001", "1110110100"},
    {IV_OP_READ_STOCK, "", "HNI-001", "1110100100"},
    {IV_OP_READ_STOCK, "CTKV2", "HCM-004", "1110101001"},
    {IV_OP_READ_RECONCILE, "", "", "1111100000"},
    {IV_OP_READ_RECONCILE, "CTKV1", "", "1111110000"},
    {IV_OP_READ_RECONCILE, "CTKV1", "HNI-001", "1111110000"},
    {IV_OP_READ_RECONCILE, "CTKV2", "", "1111101000"},
    {IV_OP_LOAD_DATA, "", "", "1100000000"},
    {IV_OP_LOAD_DATA, "CTKV1", "HNI-001", "1100000000"},
    {IV_OP_READ_ORDERS, "", "", "1111100000"},
    {IV_OP_READ_ORDERS, "CTKV1", "HNI-001", "1111100000"},
    {IV_OP_IMPORT_NOTICE, "", "", "1001000000"},
    {IV_OP_IMPORT_NOTICE, "CTKV1", "", "1001000000"},
    {IV_OP_READ_DASHBOARD, "", "", "1000100000"},
    {IV_OP_READ_DASHBOARD, "CTKV2", "HCM-004", "1000100000"},
};
#define NMATRIX ((int)(sizeof matrix / sizeof *matrix))

START_TEST(role_op_scope_matrix) {
  for (int w = 0; w < NWHO; w++) {
    int want = matrix[_i].may[w] == '1';
    why[0] = '\0';
    int got = iv_may(&who[w], matrix[_i].op, matrix[_i].ctkv, matrix[_i].shop,
                     why, sizeof why);
    ck_assert_msg(got == want, "%s (%s %s/%s) %s on %s/%s: got %d (%s)",
                  who[w].user, iv_role_name(who[w].role), who[w].ctkv,
                  who[w].shop, iv_op_name(matrix[_i].op), matrix[_i].ctkv,
                  matrix[_i].shop, got, why);
    if (!got) {
      /* The reason names the user and the operation's target. */
      ck_assert_ptr_nonnull(strstr(why, who[w].user));
      ck_assert_ptr_nonnull(strstr(why, " may not "));
    }
  }
  /* NULL targets mean the same as "". */
  if (!*matrix[_i].ctkv && !*matrix[_i].shop)
    for (int w = 0; w < NWHO; w++)
      ck_assert_int_eq(iv_may(&who[w], matrix[_i].op, NULL, NULL, why,
                              sizeof why),
                       matrix[_i].may[w] == '1');
}
END_TEST

/* Every operation has rows in the matrix. */
START_TEST(matrix_covers_every_op) {
  for (int op = 0; op < IV_OP_COUNT; op++) {
    int rows = 0;
    for (int i = 0; i < NMATRIX; i++)
      rows += matrix[i].op == (iv_op)op;
    ck_assert_msg(rows >= 2, "%s", iv_op_name(op));
  }
}
END_TEST

/* Read-only roles are refused every write, whatever the target (but BCYCP
 * sends its own Cục CTS notices); the departments other than Ban KHDN
 * touch no SIM. */
START_TEST(read_only_roles_never_write) {
  static const char *const targets[][2] = {
      {"", ""}, {"CTKV1", ""}, {"CTKV1", "HNI-001"}, {"CTKV2", "HCM-004"}};
  int writes = 0;
  for (int op = 0; op < IV_OP_COUNT; op++) {
    if (!iv_op_is_write(op))
      continue;
    writes++;
    for (size_t t = 0; t < sizeof targets / sizeof *targets; t++) {
      ck_assert_int_eq(iv_may(&who[BCYCP], op, targets[t][0], targets[t][1],
                              why, sizeof why),
                       op == IV_OP_IMPORT_NOTICE);
      ck_assert_int_eq(iv_may(&who[AUDITOR], op, targets[t][0], targets[t][1],
                              why, sizeof why),
                       0);
      if (op != IV_OP_LOAD_DATA && op != IV_OP_IMPORT_NOTICE) {
        ck_assert_int_eq(iv_may(&who[KHCN], op, targets[t][0], targets[t][1],
                                why, sizeof why),
                         0);
        ck_assert_int_eq(iv_may(&who[TCTK], op, targets[t][0], targets[t][1],
                                why, sizeof why),
                         0);
      }
    }
  }
  ck_assert_int_eq(writes, IV_OP_COUNT - 4);
  ck_assert(!iv_op_is_write(IV_OP_READ_STOCK));
  ck_assert(!iv_op_is_write(IV_OP_READ_RECONCILE));
  ck_assert(!iv_op_is_write(IV_OP_READ_ORDERS));
  ck_assert(!iv_op_is_write(IV_OP_READ_DASHBOARD));
  ck_assert(iv_op_is_write(IV_OP_IMPORT_NOTICE));
  ck_assert(!iv_op_is_write(IV_OP_COUNT));
}
END_TEST

START_TEST(reasons) {
  ck_assert_int_eq(
      iv_may(&who[SHOP1], IV_OP_TRANSFER, "CTKV2", "", why, sizeof why), 0);
  ck_assert_ptr_eq(
      strstr(why, "user shop-hni-001 (shop HNI-001) may not transfer SIMs of "
                  "CTKV2"),
      why);
  ck_assert_int_eq(
      iv_may(&who[CTKV1], IV_OP_HANDOVER, "CTKV1", "", why, sizeof why), 0);
  ck_assert_str_eq(why, "user ctkv1-giang (ctkv CTKV1) may not hand SIMs over "
                        "to CTKV1: only Ban KHDN (ban_khdn) hands SIMs over");
  ck_assert_int_eq(
      iv_may(&who[SHOP1B], IV_OP_CONNECT, "CTKV1", "HNI-001", why, sizeof why),
      0);
  ck_assert_str_eq(why, "user shop-hni-002 (shop HNI-002) may not connect "
                        "SIMs at shop HNI-001: only the shop holding the SIM "
                        "or its CTKV");
  ck_assert_int_eq(
      iv_may(&who[BCYCP], IV_OP_READ_STOCK, "", "", why, sizeof why), 0);
  ck_assert_ptr_nonnull(strstr(why, "(bcycp) may not read the stock of every "
                                    "CTKV: BCYCP reads orders and "
                                    "reconciliation only"));
  /* A malformed target is refused, even for who may read everything, and
   * never echoed. */
  ck_assert_int_eq(iv_may(&who[AUDITOR], IV_OP_READ_STOCK, "CTKV1\xff<", "",
                          why, sizeof why),
                   0);
  ck_assert_str_eq(why, "user audit-em may not read_stock: the target CTKV id "
                        "is malformed");
  ck_assert_int_eq(iv_may(&who[SHOP1], IV_OP_CONNECT, "CTKV1", "HNI 001", why,
                          sizeof why),
                   0);
  ck_assert_ptr_null(strstr(why, "HNI 001"));
  ck_assert_int_eq(
      iv_may(&who[CTKV1], IV_OP_MARK_FAULTY, "", "", why, sizeof why), 0);
  ck_assert_ptr_nonnull(
      strstr(why, "not yet handed over: SIMs not yet handed over are Ban "
                  "KHDN's"));
}
END_TEST

START_TEST(principal_scopes) {
  static const struct {
    const char *user;
    iv_role role;
    const char *ctkv, *shop;
    int ok;
  } cases[] = {
      {"a", IV_ROLE_BAN_KHDN, "", "", 1},
      {"a", IV_ROLE_BAN_KHDN, "CTKV1", "", 0},
      {"a", IV_ROLE_AUDITOR, "", "HNI-001", 0},
      {"a", IV_ROLE_BCYCP, "", "", 1},
      {"a", IV_ROLE_CTKV, "CTKV1", "", 1},
      {"a", IV_ROLE_CTKV, "", "", 0},
      {"a", IV_ROLE_CTKV, "CTKV1", "HNI-001", 0},
      {"a", IV_ROLE_CTKV, "CTKV 1", "", 0},
      {"a", IV_ROLE_SHOP, "CTKV1", "HNI-001", 1},
      {"a", IV_ROLE_SHOP, "", "HNI-001", 0},
      {"a", IV_ROLE_SHOP, "CTKV1", "", 0},
      {"a", IV_ROLE_SHOP, "CTKV1", "HNI<001>", 0},
      {"", IV_ROLE_BAN_KHDN, "", "", 0},
      {"an nguyen", IV_ROLE_BAN_KHDN, "", "", 0},
      {"an\n", IV_ROLE_BAN_KHDN, "", "", 0},
      {"an@mobifone.vn", IV_ROLE_BAN_KHDN, "", "", 1},
      {"a", IV_ROLE_COUNT, "", "", 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    iv_principal p = pr(cases[i].user, cases[i].role, cases[i].ctkv,
                        cases[i].shop);
    why[0] = '\0';
    int rc = iv_principal_check(&p, why, sizeof why);
    ck_assert_msg(rc == (cases[i].ok ? 0 : -1), "case %zu: %d (%s)", i, rc,
                  why);
    if (!cases[i].ok) {
      ck_assert_msg(why[0] != '\0', "case %zu", i);
      /* An invalid principal may do nothing, not even read. */
      for (int op = 0; op < IV_OP_COUNT; op++)
        ck_assert_int_eq(iv_may(&p, op, p.ctkv, p.shop, why, sizeof why), 0);
    }
  }
  iv_principal p = pr("x", IV_ROLE_CTKV, "", "");
  ck_assert_int_eq(iv_principal_check(&p, why, sizeof why), -1);
  ck_assert_str_eq(why, "user x (ctkv): a ctkv user needs one CTKV id (e.g. "
                        "CTKV3) and no shop");
  /* A user name filling the whole buffer without its NUL is refused. */
  memset(p.user, 'u', sizeof p.user);
  ck_assert_int_eq(iv_principal_check(&p, why, sizeof why), -1);
  ck_assert_int_eq(iv_may(&who[KHDN], IV_OP_COUNT, "", "", why, sizeof why),
                   0);
}
END_TEST

START_TEST(names) {
  static const char *const roles[] = {"ban_khdn", "ban_khcn", "tt_tctk",
                                      "ctkv",     "shop",     "bcycp",
                                      "auditor"};
  ck_assert_int_eq(sizeof roles / sizeof *roles, IV_ROLE_COUNT);
  for (int r = 0; r < IV_ROLE_COUNT; r++) {
    ck_assert_str_eq(iv_role_name(r), roles[r]);
    ck_assert_int_eq(iv_role_parse(roles[r]), r);
  }
  ck_assert_int_eq(iv_role_parse("admin"), -1);
  ck_assert_int_eq(iv_role_parse("BAN_KHDN"), -1);
  ck_assert_int_eq(iv_role_parse(NULL), -1);
  ck_assert_str_eq(iv_role_name(IV_ROLE_COUNT), "?");
  for (int op = 0; op < IV_OP_COUNT; op++)
    ck_assert_int_eq(iv_op_parse(iv_op_name(op)), op);
  ck_assert_int_eq(iv_op_parse("read_reconcile"), IV_OP_READ_RECONCILE);
  ck_assert_int_eq(iv_op_parse("delete"), -1);
  /* Every person's SIM action has its operation of the same name. */
  for (int k = 0; k < IV_ACT_COUNT; k++) {
    int op = iv_op_of_action(k);
    if (k == IV_ACT_PROVISION || k == IV_ACT_HLR_FAIL) {
      ck_assert_int_eq(op, -1);
      continue;
    }
    ck_assert_int_ge(op, 0);
    ck_assert_str_eq(iv_op_name(op), iv_action_name(k));
  }
}
END_TEST

START_TEST(tokens) {
  char a[IV_TOKEN_HEX + 1], b[IV_TOKEN_HEX + 1], h[IV_TOKEN_HEX + 1],
      h2[IV_TOKEN_HEX + 1];
  ck_assert_int_eq(iv_token_new(a), 0);
  ck_assert_int_eq(iv_token_new(b), 0);
  ck_assert_int_eq(strlen(a), IV_TOKEN_HEX);
  ck_assert_int_eq(strspn(a, "0123456789abcdef"), IV_TOKEN_HEX);
  ck_assert_str_ne(a, b);
  ck_assert_int_eq(iv_token_hash(a, h), 0);
  ck_assert_int_eq(iv_token_hash(a, h2), 0);
  ck_assert_str_eq(h, h2);
  ck_assert_str_ne(h, a);
  /* Known answers: SHA-256 of the 64 characters. */
  ck_assert_int_eq(
      iv_token_hash(
          "0000000000000000000000000000000000000000000000000000000000000000",
          h),
      0);
  ck_assert_str_eq(
      h, "60e05bd1b195af2f94112fa7197a5c88289058840ce7c6df9693756bc6250f55");
  ck_assert_int_eq(
      iv_token_hash(
          "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789",
          h),
      0);
  ck_assert_str_eq(
      h, "aa23e893b52d03b02bf174650b65a913289dfaa6cce7ec7d48cae141325f7036");
  /* Junk is refused before any lookup. */
  static const char *const junk[] = {
      "", "abc",
      "ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789",
      "abcdef0123456789abcdef0123456789abcdef0123456789abcdef012345678",
      "abcdef0123456789abcdef0123456789abcdef0123456789abcdef01234567890",
      "abcdef0123456789abcdef0123456789abcdef0123456789abcdef012345678g",
      "Bearer abcdef0123456789abcdef0123456789abcdef0123456789abcdef01"};
  for (size_t i = 0; i < sizeof junk / sizeof *junk; i++) {
    strcpy(h, "x");
    ck_assert_int_eq(iv_token_hash(junk[i], h), -1);
    ck_assert_str_eq(h, "");
  }
  ck_assert_int_eq(iv_token_hash(NULL, h), -1);
  /* Comparison. */
  ck_assert_int_eq(iv_token_equal(h2, h2), 1);
  strcpy(b, h2);
  b[IV_TOKEN_HEX - 1] = b[IV_TOKEN_HEX - 1] == '0' ? '1' : '0';
  ck_assert_int_eq(iv_token_equal(h2, b), 0);
  b[0] = '\0';
  ck_assert_int_eq(iv_token_equal(b, b), 0); /* empty is never a match */
  ck_assert_int_eq(iv_token_equal(h2, "abc"), 0);
  ck_assert_int_eq(iv_token_equal(NULL, h2), 0);
}
END_TEST

/* --token-days: whole days, 1 to IV_TOKEN_DAYS_MAX, nothing else. */
START_TEST(token_days) {
  ck_assert_int_eq(iv_token_days_parse("1"), 1);
  ck_assert_int_eq(iv_token_days_parse("90"), 90);
  ck_assert_int_eq(iv_token_days_parse("0090"), 90);
  ck_assert_int_eq(iv_token_days_parse("3650"), IV_TOKEN_DAYS_MAX);
  static const char *const bad[] = {"", "0", "3651", "9999", "-1", "+5",
                                    " 5", "5 ", "5d", "1.5", "0x10", "0000",
                                    "12345"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    ck_assert_msg(iv_token_days_parse(bad[i]) == -1, "\"%s\" accepted",
                  bad[i]);
  ck_assert_int_eq(iv_token_days_parse(NULL), -1);
  ck_assert_int_eq(IV_TOKEN_DAYS_DEFAULT, 90);
}
END_TEST

/* A token is good until its end, not at it; one made before tokens
 * expired (no end) stays good. */
START_TEST(token_life) {
  const long long end = 1780000000LL * 1000000; /* microseconds */
  ck_assert_int_eq(iv_token_live(1, end, end - 60LL * 1000000), 1);
  ck_assert_int_eq(iv_token_live(1, end, end - 1), 1); /* about to expire */
  ck_assert_int_eq(iv_token_live(1, end, end), 0);     /* its end */
  ck_assert_int_eq(iv_token_live(1, end, end + 1), 0);
  ck_assert_int_eq(iv_token_live(1, end, end + 86400LL * 1000000), 0);
  ck_assert_int_eq(iv_token_live(0, 0, end), 1); /* no end */
  ck_assert_int_eq(iv_token_live(0, end, end + 1), 1);
  ck_assert_int_eq(iv_token_live(1, 0, end), 0); /* an end long past */
}
END_TEST

int main(void) {
  Suite *s = suite_create("inventory_access");
  TCase *tc = tcase_create("core");
  tcase_add_checked_fixture(tc, setup, NULL);
  tcase_add_loop_test(tc, role_op_scope_matrix, 0, NMATRIX);
  tcase_add_test(tc, matrix_covers_every_op);
  tcase_add_test(tc, read_only_roles_never_write);
  tcase_add_test(tc, reasons);
  tcase_add_test(tc, principal_scopes);
  tcase_add_test(tc, names);
  tcase_add_test(tc, tokens);
  tcase_add_test(tc, token_days);
  tcase_add_test(tc, token_life);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
