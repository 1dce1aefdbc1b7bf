/* Unit tests for audit_intern.c: equal strings get one pointer, the first
 * given, however many copies and whatever their addresses; different
 * strings keep their own; past the pointer cache's size as well. */
#include "../../tools/simpkictl/audit_intern.c"
#include "../../tools/simpkictl/audit_map.c"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

START_TEST(one_pointer_per_string) {
  audit_intern *t = malloc(sizeof *t);
  ck_assert_ptr_nonnull(t);
  audit_intern_init(t);
  char a[] = "sim/8984017710000000001", b[] = "sim/8984017710000000001",
       c[] = "sim/8984017710000000002";
  ck_assert_ptr_eq(audit_intern_get(t, a), a);
  ck_assert_ptr_eq(audit_intern_get(t, b), a); /* a copy: the first one */
  ck_assert_ptr_eq(audit_intern_get(t, b), a); /* again, from the cache */
  ck_assert_ptr_eq(audit_intern_get(t, c), c);
  ck_assert_ptr_eq(audit_intern_get(t, a), a);
  ck_assert_ptr_null(audit_intern_get(t, NULL));
  audit_intern_free(t);
  free(t);
}
END_TEST

/* 20,000 strings in three copies each, at addresses that share cache
 * slots: each copy maps to the first, and distinct strings stay apart. */
START_TEST(many_copies) {
  enum { N = 20000, W = 32 };
  audit_intern *t = malloc(sizeof *t);
  char *copies[3];
  for (int k = 0; k < 3; k++) {
    copies[k] = malloc((size_t)N * W);
    ck_assert_ptr_nonnull(copies[k]);
    for (int i = 0; i < N; i++)
      snprintf(copies[k] + (size_t)i * W, W, "sim/89840177%011d", i);
  }
  audit_intern_init(t);
  for (int round = 0; round < 2; round++)
    for (int k = 0; k < 3; k++)
      for (int i = 0; i < N; i++) {
        const char *got = audit_intern_get(t, copies[k] + (size_t)i * W);
        ck_assert_ptr_eq(got, copies[0] + (size_t)i * W);
      }
  ck_assert_uint_eq(t->map.n, N);
  audit_intern_free(t);
  for (int k = 0; k < 3; k++)
    free(copies[k]);
  free(t);
}
END_TEST

int main(void) {
  Suite *s = suite_create("audit_intern");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, one_pointer_per_string);
  tcase_add_test(tc, many_copies);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
