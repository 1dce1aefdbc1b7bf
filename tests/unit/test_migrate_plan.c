/* test_migrate_plan.c - migration planning (tools/simpkictl/migrate.c):
 * file names, ordering, duplicates, changed files, pending computation.
 *
 * The unit-test build links simpki_common only, so the pure planning file
 * is compiled in here directly; it has no I/O and no other dependency. */
#include "../../tools/simpkictl/migrate.c"

#include <check.h>
#include <stdlib.h>

static char err[512];

/* Files as sp_mig_collect gives them, with made-up checksums. */
static sp_mig_file *files_of(const char *const *names, size_t n,
                             size_t *nout) {
  sp_mig_file *f = NULL;
  ck_assert_int_eq(sp_mig_collect(names, n, &f, nout, err, sizeof(err)), 0);
  for (size_t i = 0; i < *nout; i++) {
    char body[64];
    snprintf(body, sizeof(body), "-- %s", f[i].name);
    ck_assert_int_eq(sp_mig_sha256_hex(body, strlen(body), f[i].sha256), 0);
  }
  return f;
}

START_TEST(test_parse_good) {
  long v = -1;
  ck_assert_int_eq(sp_mig_parse_name("0001_outbox_inbox.sql", &v, err,
                                     sizeof(err)), 1);
  ck_assert_int_eq(v, 1);
  ck_assert_int_eq(sp_mig_parse_name("12345_add-index.sql", &v, err,
                                     sizeof(err)), 1);
  ck_assert_int_eq(v, 12345);
  ck_assert_int_eq(sp_mig_parse_name("0010_A_b9.sql", &v, err, sizeof(err)),
                   1);
  ck_assert_int_eq(v, 10);
  ck_assert_int_eq(sp_mig_parse_name("2147483647_max.sql", &v, err,
                                     sizeof(err)), 1);
  ck_assert_int_eq(v, 2147483647L);
}
END_TEST

START_TEST(test_parse_ignored) {
  static const char *ignored[] = {"README.md", "0001_a.sql~", "0001_a.sql.bak",
                                  "notes.txt", "sql", "0001_a"};
  for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++) {
    long v = -7;
    ck_assert_msg(sp_mig_parse_name(ignored[i], &v, err, sizeof(err)) == 0,
                  "%s should be ignored", ignored[i]);
    ck_assert_int_eq(v, -7);
  }
}
END_TEST

START_TEST(test_parse_bad) {
  static const char *bad[] = {
      "1_a.sql",      "001_a.sql",     "0001a.sql",   "0001_.sql",
      "0001_a b.sql", "abcd_x.sql",    "0001_a.SQL",  "0000_zero.sql",
      ".sql",         "0001_a.sql.sql", "2147483648_big.sql",
      "99999999999999999999999_x.sql", "0001-a.sql", "x0001_a.sql"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    long v = -7;
    err[0] = '\0';
    ck_assert_msg(sp_mig_parse_name(bad[i], &v, err, sizeof(err)) == -1,
                  "%s should be refused", bad[i]);
    ck_assert_int_eq(v, -7);
    ck_assert_msg(strstr(err, bad[i]) != NULL, "error names the file: %s",
                  err);
  }
}
END_TEST

START_TEST(test_collect_orders_numerically) {
  /* "01000" sorts before "0900" as text: the order must be numeric. */
  const char *names[] = {"01000_e.sql", "README.md", "0900_d.sql",
                         "0002_b.sql", "0001_a.sql"};
  size_t n = 0;
  sp_mig_file *f = NULL;
  ck_assert_int_eq(sp_mig_collect(names, 5, &f, &n, err, sizeof(err)), 0);
  ck_assert_uint_eq(n, 4);
  ck_assert_int_eq(f[0].version, 1);
  ck_assert_str_eq(f[0].name, "0001_a.sql");
  ck_assert_int_eq(f[1].version, 2);
  ck_assert_int_eq(f[2].version, 900);
  ck_assert_str_eq(f[2].name, "0900_d.sql");
  ck_assert_int_eq(f[3].version, 1000);
  sp_mig_files_free(f, n);
}
END_TEST

START_TEST(test_collect_bad_name) {
  const char *names[] = {"0001_a.sql", "2_bad.sql", "0003_c.sql"};
  size_t n = 99;
  sp_mig_file *f = (sp_mig_file *)1;
  ck_assert_int_eq(sp_mig_collect(names, 3, &f, &n, err, sizeof(err)), -1);
  ck_assert_ptr_null(f);
  ck_assert_uint_eq(n, 0);
  ck_assert_ptr_nonnull(strstr(err, "\"2_bad.sql\""));
}
END_TEST

START_TEST(test_collect_duplicate) {
  const char *names[] = {"0002_b.sql", "0001_a.sql", "00002_again.sql"};
  size_t n = 99;
  sp_mig_file *f = (sp_mig_file *)1;
  ck_assert_int_eq(sp_mig_collect(names, 3, &f, &n, err, sizeof(err)), -1);
  ck_assert_ptr_null(f);
  ck_assert_uint_eq(n, 0);
  ck_assert_ptr_nonnull(strstr(err, "duplicate migration version 2"));
  ck_assert_ptr_nonnull(strstr(err, "0002_b.sql"));
  ck_assert_ptr_nonnull(strstr(err, "00002_again.sql"));
}
END_TEST

START_TEST(test_collect_empty) {
  size_t n = 99;
  sp_mig_file *f = NULL;
  ck_assert_int_eq(sp_mig_collect(NULL, 0, &f, &n, err, sizeof(err)), 0);
  ck_assert_uint_eq(n, 0);
  sp_mig_plan plan;
  ck_assert_int_eq(sp_mig_plan_build(f, n, NULL, 0, &plan, err, sizeof(err)),
                   0);
  ck_assert_uint_eq(plan.nsteps, 0);
  ck_assert_uint_eq(plan.npending, 0);
  ck_assert_int_eq(plan.applied_version, 0);
  sp_mig_plan_free(&plan);
  sp_mig_files_free(f, n);
}
END_TEST

START_TEST(test_plan_fresh_all_pending) {
  const char *names[] = {"0003_c.sql", "0001_a.sql", "0002_b.sql"};
  size_t n;
  sp_mig_file *f = files_of(names, 3, &n);
  sp_mig_plan plan;
  ck_assert_int_eq(sp_mig_plan_build(f, n, NULL, 0, &plan, err, sizeof(err)),
                   0);
  ck_assert_int_eq(plan.consistent, 1);
  ck_assert_uint_eq(plan.nsteps, 3);
  ck_assert_uint_eq(plan.npending, 3);
  ck_assert_int_eq(plan.applied_version, 0);
  for (size_t i = 0; i < 3; i++) {
    ck_assert_int_eq(plan.steps[i].state, SP_MIG_PENDING);
    ck_assert_int_eq(plan.steps[i].version, (long)i + 1);
    ck_assert_ptr_eq(plan.steps[i].file, &f[i]);
    ck_assert_ptr_null(plan.steps[i].applied);
  }
  sp_mig_plan_free(&plan);
  sp_mig_files_free(f, n);
}
END_TEST

START_TEST(test_plan_partly_applied) {
  const char *names[] = {"0001_a.sql", "0002_b.sql", "0003_c.sql",
                         "0004_d.sql"};
  size_t n;
  sp_mig_file *f = files_of(names, 4, &n);
  /* Rows in any order; checksum comparison ignores case. */
  char upper[SP_MIG_SHA256_HEX + 1];
  snprintf(upper, sizeof(upper), "%s", f[0].sha256);
  for (char *p = upper; *p; p++)
    *p = (char)toupper((unsigned char)*p);
  sp_mig_applied ap[] = {{2, "0002_b.sql", f[1].sha256},
                         {1, "0001_a.sql", upper}};
  sp_mig_plan plan;
  ck_assert_int_eq(sp_mig_plan_build(f, n, ap, 2, &plan, err, sizeof(err)),
                   0);
  ck_assert_uint_eq(plan.nsteps, 4);
  ck_assert_uint_eq(plan.npending, 2);
  ck_assert_int_eq(plan.applied_version, 2);
  ck_assert_int_eq(plan.steps[0].state, SP_MIG_APPLIED);
  ck_assert_ptr_eq(plan.steps[0].applied, &ap[1]);
  ck_assert_int_eq(plan.steps[1].state, SP_MIG_APPLIED);
  ck_assert_int_eq(plan.steps[2].state, SP_MIG_PENDING);
  ck_assert_int_eq(plan.steps[2].version, 3);
  ck_assert_int_eq(plan.steps[3].state, SP_MIG_PENDING);
  sp_mig_plan_free(&plan);

  /* Everything applied: nothing pending. */
  sp_mig_applied all[] = {{1, "0001_a.sql", f[0].sha256},
                          {2, "0002_b.sql", f[1].sha256},
                          {3, "0003_c.sql", f[2].sha256},
                          {4, "0004_d.sql", f[3].sha256}};
  ck_assert_int_eq(sp_mig_plan_build(f, n, all, 4, &plan, err, sizeof(err)),
                   0);
  ck_assert_uint_eq(plan.npending, 0);
  ck_assert_int_eq(plan.applied_version, 4);
  sp_mig_plan_free(&plan);
  sp_mig_files_free(f, n);
}
END_TEST

START_TEST(test_plan_changed_checksum) {
  const char *names[] = {"0001_x.sql", "0002_y.sql"};
  size_t n;
  sp_mig_file *f = files_of(names, 2, &n);
  char other[SP_MIG_SHA256_HEX + 1];
  ck_assert_int_eq(sp_mig_sha256_hex("-- the old text", 15, other), 0);
  sp_mig_applied ap[] = {{1, "0001_x.sql", other}};
  sp_mig_plan plan;
  ck_assert_int_eq(sp_mig_plan_build(f, n, ap, 1, &plan, err, sizeof(err)),
                   -1);
  ck_assert_str_eq(err, "migration 0001_x.sql was changed after it was "
                        "applied");
  ck_assert_int_eq(plan.consistent, 0);
  ck_assert_int_eq(plan.steps[0].state, SP_MIG_CHANGED);
  ck_assert_int_eq(plan.steps[1].state, SP_MIG_PENDING);
  sp_mig_plan_free(&plan);

  /* A one-byte edit is enough. */
  char edited[SP_MIG_SHA256_HEX + 1];
  ck_assert_int_eq(sp_mig_sha256_hex("-- 0001_x.sql ", 14, edited), 0);
  sp_mig_applied ap2[] = {{1, "0001_x.sql", edited}};
  ck_assert_int_eq(sp_mig_plan_build(f, n, ap2, 1, &plan, err, sizeof(err)),
                   -1);
  ck_assert_int_eq(plan.steps[0].state, SP_MIG_CHANGED);
  sp_mig_plan_free(&plan);
  sp_mig_files_free(f, n);
}
END_TEST

START_TEST(test_plan_renamed_missing_out_of_order) {
  const char *names[] = {"0001_a.sql", "0002_b.sql", "0004_d.sql"};
  size_t n;
  sp_mig_file *f = files_of(names, 3, &n);
  sp_mig_plan plan;

  sp_mig_applied renamed[] = {{1, "0001_old.sql", f[0].sha256}};
  ck_assert_int_eq(
      sp_mig_plan_build(f, n, renamed, 1, &plan, err, sizeof(err)), -1);
  ck_assert_int_eq(plan.steps[0].state, SP_MIG_RENAMED);
  ck_assert_ptr_nonnull(strstr(err, "0001_old.sql"));
  sp_mig_plan_free(&plan);

  /* Version 3 applied but its file is gone; 4 is still pending. */
  char h3[SP_MIG_SHA256_HEX + 1];
  ck_assert_int_eq(sp_mig_sha256_hex("-- 0003_c.sql", 13, h3), 0);
  sp_mig_applied missing[] = {{1, "0001_a.sql", f[0].sha256},
                              {2, "0002_b.sql", f[1].sha256},
                              {3, "0003_c.sql", h3}};
  ck_assert_int_eq(
      sp_mig_plan_build(f, n, missing, 3, &plan, err, sizeof(err)), -1);
  ck_assert_uint_eq(plan.nsteps, 4);
  ck_assert_int_eq(plan.steps[2].state, SP_MIG_MISSING);
  ck_assert_ptr_null(plan.steps[2].file);
  ck_assert_int_eq(plan.steps[3].state, SP_MIG_PENDING);
  ck_assert_ptr_nonnull(strstr(err, "0003_c.sql"));
  sp_mig_plan_free(&plan);

  /* 1 and 4 applied, 2 is new: it would run after 4, so refuse. */
  sp_mig_applied gap[] = {{1, "0001_a.sql", f[0].sha256},
                          {4, "0004_d.sql", f[2].sha256}};
  ck_assert_int_eq(sp_mig_plan_build(f, n, gap, 2, &plan, err, sizeof(err)),
                   -1);
  ck_assert_int_eq(plan.steps[1].state, SP_MIG_OUT_OF_ORDER);
  ck_assert_uint_eq(plan.npending, 0);
  ck_assert_ptr_nonnull(strstr(err, "0002_b.sql"));
  ck_assert_ptr_nonnull(strstr(err, "out of order"));
  sp_mig_plan_free(&plan);
  sp_mig_files_free(f, n);
}
END_TEST

START_TEST(test_sha256_vector) {
  char hex[SP_MIG_SHA256_HEX + 1];
  ck_assert_int_eq(sp_mig_sha256_hex("abc", 3, hex), 0);
  ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223"
                        "b00361a396177a9cb410ff61f20015ad");
  ck_assert_int_eq(sp_mig_sha256_hex("", 0, hex), 0);
  ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb924"
                        "27ae41e4649b934ca495991b7852b855");
}
END_TEST

START_TEST(test_state_names) {
  ck_assert_str_eq(sp_mig_state_name(SP_MIG_PENDING), "pending");
  ck_assert_str_eq(sp_mig_state_name(SP_MIG_CHANGED), "changed");
  ck_assert_str_eq(sp_mig_state_name(SP_MIG_OUT_OF_ORDER), "out-of-order");
}
END_TEST

int main(void) {
  Suite *s = suite_create("migrate_plan");
  TCase *tc = tcase_create("plan");
  tcase_add_test(tc, test_parse_good);
  tcase_add_test(tc, test_parse_ignored);
  tcase_add_test(tc, test_parse_bad);
  tcase_add_test(tc, test_collect_orders_numerically);
  tcase_add_test(tc, test_collect_bad_name);
  tcase_add_test(tc, test_collect_duplicate);
  tcase_add_test(tc, test_collect_empty);
  tcase_add_test(tc, test_plan_fresh_all_pending);
  tcase_add_test(tc, test_plan_partly_applied);
  tcase_add_test(tc, test_plan_changed_checksum);
  tcase_add_test(tc, test_plan_renamed_missing_out_of_order);
  tcase_add_test(tc, test_sha256_vector);
  tcase_add_test(tc, test_state_names);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
