/* Unit tests for audit_map.c: the hash (every byte of every length counts,
 * keys with long common prefixes spread like random ones, the two entry
 * points agree) and the map (puts, gets, growth, a key found by its
 * content as well as by its pointer). */
#include "../../tools/simpkictl/audit_map.c"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int by_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* Changing any one byte of a key of any length up to 48 changes its
 * hash, and no two of all these keys share one. */
START_TEST(every_byte_counts) {
  enum { MAXLEN = 48 };
  size_t cap = 0, n = 0;
  for (size_t len = 0; len <= MAXLEN; len++)
    cap += 1 + len * 3;
  uint64_t *seen = malloc(cap * sizeof *seen);
  ck_assert_ptr_nonnull(seen);
  char key[MAXLEN + 1];
  for (size_t len = 0; len <= MAXLEN; len++) {
    for (size_t i = 0; i < len; i++)
      key[i] = (char)('0' + (i * 7 + len) % 43);
    key[len] = '\0';
    uint64_t h = audit_map_hash(key);
    ck_assert(h == audit_map_hash_n(key, len));
    seen[n++] = h;
    for (size_t at = 0; at < len; at++) {
      char was = key[at];
      static const char other[] = {'x', '~', (char)0xc3};
      for (int k = 0; k < 3; k++) {
        key[at] = other[k] == was ? 'y' : other[k];
        uint64_t g = audit_map_hash(key);
        ck_assert_msg(g != h, "length %zu: byte %zu changed, same hash", len,
                      at);
        seen[n++] = g;
      }
      key[at] = was;
    }
  }
  qsort(seen, n, sizeof *seen, by_u64);
  for (size_t i = 1; i < n; i++)
    ck_assert_msg(seen[i] != seen[i - 1], "two keys share hash %llx",
                  (unsigned long long)seen[i]);
  free(seen);
}
END_TEST

/* Subjects that differ only in their last digits, and order numbers, in
 * tables of 2^10 to 2^20 slots: the slots' loads spread as a random
 * hash's would (their sum of squares within 5% of its expectation). */
START_TEST(sequential_keys_spread) {
  enum { N = 300000 };
  char key[64];
  for (int bits = 10; bits <= 20; bits += 5) {
    size_t slots = (size_t)1 << bits;
    unsigned *load = calloc(slots, sizeof *load);
    ck_assert_ptr_nonnull(load);
    for (int i = 0; i < N; i++) {
      int len = i % 2 ? snprintf(key, sizeof key, "sim/89840177%011d", i)
                      : snprintf(key, sizeof key, "ORD-2026-%06d", i);
      load[audit_map_hash_n(key, (size_t)len) & (slots - 1)]++;
    }
    double sq = 0, expected = N + (double)N * (N - 1) / (double)slots;
    for (size_t s = 0; s < slots; s++)
      sq += (double)load[s] * load[s];
    ck_assert_msg(sq / expected < 1.05 && sq / expected > 0.95,
                  "%d bits: %.3f of a random hash's sum of squares", bits,
                  sq / expected);
    free(load);
  }
}
END_TEST

START_TEST(puts_and_gets) {
  audit_map m;
  audit_map_init(&m);
  enum { N = 5000 };
  static char keys[N][32];
  for (int i = 0; i < N; i++) {
    snprintf(keys[i], sizeof keys[i], "sim/%d", i);
    ck_assert_int_eq(audit_map_put(&m, keys[i], (size_t)i, NULL), 1);
  }
  size_t old = 0, val = 0;
  char copy[32];
  for (int i = 0; i < N; i++) {
    snprintf(copy, sizeof copy, "sim/%d", i); /* another pointer */
    ck_assert_int_eq(audit_map_get(&m, copy, &val), 1);
    ck_assert_uint_eq(val, (size_t)i);
    ck_assert_int_eq(audit_map_put(&m, copy, 99, &old), 0);
    ck_assert_uint_eq(old, (size_t)i); /* the first value stays */
  }
  ck_assert_int_eq(audit_map_get(&m, "sim/-1", &val), 0);
  ck_assert_int_eq(audit_map_get(&m, "", &val), 0);
  audit_map_free(&m);
}
END_TEST

int main(void) {
  Suite *s = suite_create("audit_map");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, every_byte_counts);
  tcase_add_test(tc, sequential_keys_spread);
  tcase_add_test(tc, puts_and_gets);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
