/* Unit tests for common/redfa: on every pattern of schemas/ and on patterns
 * chosen for their corners, the DFA says what regexec says, on strings that
 * match (generated from the pattern) and on their mutations. */
#include <check.h>
#include <dirent.h>
#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "jschema.h"
#include "redfa.h"

static unsigned seed = 12345;
static unsigned rnd(unsigned n) {
  seed = seed * 1103515245u + 12345u;
  return n ? (seed >> 8) % n : 0;
}

/* ---- strings that match: a random walk over the ERE ---- */

typedef struct {
  const char *p;
  char *out;
  size_t n, cap;
} gen;

static void put(gen *g, char c) {
  if (g->n + 2 > g->cap) {
    g->cap = g->cap ? g->cap * 2 : 64;
    g->out = realloc(g->out, g->cap);
    ck_assert_ptr_nonnull(g->out);
  }
  g->out[g->n++] = c;
  g->out[g->n] = '\0';
}

static const char *skip_alt(const char *p);

/* End of the atom at p. */
static const char *atom_end(const char *p) {
  if (*p == '(') {
    p = skip_alt(p + 1);
    return p + 1;
  }
  if (*p == '[') {
    p += 2; /* ']' may be the first member */
    while (*p != ']')
      p++;
    return p + 1;
  }
  if (*p == '\\')
    return p + 2;
  return p + 1;
}

/* End of an alternation at p (on ')' or the end). */
static const char *skip_alt(const char *p) {
  while (*p && *p != ')')
    p = *p == '|' ? p + 1 : atom_end(p);
  return p;
}

/* The quantifier after an atom: bounds, and its end. */
static const char *quant(const char *p, int *lo, int *hi) {
  *lo = *hi = 1;
  if (*p == '*' || *p == '+' || *p == '?') {
    *lo = *p == '+';
    *hi = *p == '?' ? 1 : -1;
    return p + 1;
  }
  if (*p != '{')
    return p;
  *lo = (int)strtol(p + 1, (char **)&p, 10);
  *hi = *lo;
  if (*p == ',') {
    p++;
    *hi = *p == '}' ? -1 : (int)strtol(p, (char **)&p, 10);
  }
  return p + 1;
}

static void gen_alt(gen *g, const char *p, const char *end);

static void gen_atom(gen *g, const char *p) {
  if (*p == '(') {
    gen_alt(g, p + 1, skip_alt(p + 1));
  } else if (*p == '[') {
    const char *q = p + 2;
    while (*q != ']')
      q++;
    size_t n = (size_t)(q - (p + 1));
    put(g, p[1 + rnd((unsigned)n)]);
  } else if (*p == '\\') {
    put(g, p[1]);
  } else if (*p != '^' && *p != '$') {
    put(g, *p);
  }
}

/* One random alternative of [p, end), each atom repeated within bounds. */
static void gen_alt(gen *g, const char *p, const char *end) {
  const char *alts[64];
  int na = 0;
  alts[na++] = p;
  for (const char *q = p; q < end;) {
    if (*q == '|') {
      alts[na++] = ++q;
      continue;
    }
    q = atom_end(q);
    int lo, hi;
    q = quant(q, &lo, &hi);
  }
  const char *q = alts[rnd((unsigned)na)];
  while (q < end && *q != '|') {
    const char *a = q;
    q = atom_end(q);
    int lo, hi;
    q = quant(q, &lo, &hi);
    int times = lo + (int)rnd((unsigned)((hi < 0 ? lo + 3 : hi) - lo + 1));
    for (int k = 0; k < times; k++)
      gen_atom(g, a);
  }
}

/* ---- the comparison ---- */

static long compared, matched;

/* s[n] must be a NUL: ASan's regexec reads up to one even with
 * REG_STARTEND (jschema's strings always end in one). */
static void same(const sp_redfa *d, const regex_t *re, const char *ere,
                 char *s, size_t n) {
  s[n] = '\0';
  regmatch_t m[1] = {{.rm_so = 0, .rm_eo = (regoff_t)n}};
  int want = regexec(re, s, 1, m, REG_STARTEND) == 0;
  int got = sp_redfa_match(d, s, n);
  ck_assert_msg(got == want, "ERE %s on \"%.*s\" (%zu bytes): DFA %d, regexec %d",
                ere, (int)n, s, n, got, want);
  compared++;
  matched += want;
}

/* Patterns checked place by place: of one length (sp_redfa_fixed_length),
 * and all of them (sp_redfa_linear). */
static int fixed, linear;

/* Compares on generated matches, their mutations and random strings. */
static void compare_on(const char *ere, int rounds) {
  regex_t re;
  ck_assert_int_eq(regcomp(&re, ere, REG_EXTENDED | REG_NOSUB), 0);
  sp_redfa *d = sp_redfa_compile(ere);
  ck_assert_msg(d != NULL, "no DFA for %s", ere);
  fixed += sp_redfa_fixed_length(d) >= 0;
  linear += sp_redfa_linear(d);
  ck_assert(sp_redfa_fixed_length(d) < 0 || sp_redfa_linear(d));
  const char alphabet[] = "09afAFZ_-./:T \n\0\xc3\xa9";
  for (int r = 0; r < rounds; r++) {
    gen g = {ere, NULL, 0, 0};
    put(&g, 'x');
    g.n = 0;
    gen_alt(&g, ere, ere + strlen(ere));
    same(d, &re, ere, g.out, g.n);
    char *m = malloc(g.n + 3);
    for (int k = 0; k < 4; k++) {
      size_t n = g.n, at = rnd((unsigned)(n + 1));
      memcpy(m, g.out, n);
      char c = alphabet[rnd(sizeof alphabet - 1)];
      switch (k) {
      case 0: if (at < n) m[at] = c; break;
      case 1: memmove(m + at + 1, m + at, n - at); m[at] = c; n++; break;
      case 2: if (at < n) { memmove(m + at, m + at + 1, n - at - 1); n--; } break;
      case 3: n = at; break;
      }
      same(d, &re, ere, m, n);
    }
    free(m);
    char rs[41];
    size_t rn = rnd(sizeof rs - 1);
    for (size_t i = 0; i < rn; i++)
      rs[i] = alphabet[rnd(sizeof alphabet - 1)];
    same(d, &re, ere, rs, rn);
    free(g.out);
  }
  sp_redfa_free(d);
  regfree(&re);
}

static void compare_ecma(const char *ecma, int rounds) {
  char why[200];
  char *ere = sp_jschema_ere(ecma, why, sizeof why);
  ck_assert_msg(ere != NULL, "%s: %s", ecma, why);
  compare_on(ere, rounds);
  free(ere);
}

/* Every "pattern" under a JSON value. */
static int walk(const json_t *j, int rounds) {
  int n = 0;
  if (json_is_object(j)) {
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)j, k, v) {
      if (!strcmp(k, "pattern") && json_is_string(v)) {
        compare_ecma(json_string_value(v), rounds);
        n++;
      } else {
        n += walk(v, rounds);
      }
    }
  } else if (json_is_array(j)) {
    for (size_t i = 0; i < json_array_size(j); i++)
      n += walk(json_array_get(j, i), rounds);
  }
  return n;
}

static int walk_dir(const char *dir) {
  DIR *dh = opendir(dir);
  ck_assert_msg(dh != NULL, "%s", dir);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(dh))) {
    if (e->d_name[0] == '.')
      continue;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    if (S_ISDIR(st.st_mode)) {
      n += walk_dir(path);
    } else if (strlen(e->d_name) > 5 &&
               !strcmp(e->d_name + strlen(e->d_name) - 5, ".json")) {
      json_t *j = json_load_file(path, 0, NULL);
      ck_assert_msg(j != NULL, "%s", path);
      n += walk(j, 300);
      json_decref(j);
    }
  }
  closedir(dh);
  return n;
}

START_TEST(every_schema_pattern) {
  const char *src = getenv("SIMPKI_SOURCE_DIR");
  char dir[1024];
  snprintf(dir, sizeof dir, "%s/schemas", src ? src : ".");
  compared = matched = fixed = linear = 0;
  int n = walk_dir(dir);
  ck_assert_int_gt(n, 20);
  /* Hashes and ids: place by place, and compared like the rest; so are
   * ICCIDs, shop codes and the like (lengths in a range, a final run). */
  ck_assert_int_gt(fixed, 3);
  ck_assert_int_gt(linear, fixed + 10);
  ck_assert_int_lt(linear, n);
  /* Not blind: many strings match, many do not. */
  ck_assert_int_gt(matched, compared / 10);
  ck_assert_int_lt(matched, compared - compared / 10);
}
END_TEST

START_TEST(corners) {
  const char *ecma[] = {
      "^$",          "",           "a",          "^a",        "a$",
      "^a|b$",       "(^a|b)c",    "a(b$|c)",    "x^y",       "a$b",
      "(|a)b",       "(a*)*b",     "(a|b)*abb",  "^(ab|a)(bc|c)$",
      "a{2,3}$",     "^a{0,2}b{2}$", "^(a{1,3}){2}$", "[a-c]+x?",
      "^[\\]a]$",    "^[-^]+$",    "\\.\\*\\$",  "^\\d{4}-\\d{2}$",
      "^\\w+$",      "\\n|\\t",    "^(0[1-9]|1[0-2])$", "a+$|^b+",
      "^([0-9a-f]{2}){2,4}$", "b*", "(a|)+$",
  };
  compared = matched = 0;
  for (size_t i = 0; i < sizeof ecma / sizeof *ecma; i++)
    compare_ecma(ecma[i], 400);
  ck_assert_int_gt(matched, 1000);
}
END_TEST

/* Which patterns are checked place by place: one length, a set per place
 * that does not depend on the other places. */
START_TEST(fixed_length) {
  static const struct {
    const char *ere;
    int len;
  } cases[] = {
      {"^[0123456789abcdef]{64}$", 64},
      {"^[0123456789abcdef]{8}-[0123456789abcdef]{4}-4[0123456789abcdef]{3}-"
       "[89ab][0123456789abcdef]{3}-[0123456789abcdef]{12}$",
       36},
      {"^[ab][cd]$", 2},
      {"^$", 0},
      {"^(ab|cd)$", -1},  /* the second place depends on the first */
      {"^a{3,4}$", -1},   /* two lengths */
      {"^[ab]+$", -1},    /* a loop */
      {"[0123456789]{3}$", -1}, /* a search */
      {"^ab", -1},        /* any end */
      {"^(a|b)(a|b)$", 2},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    sp_redfa *d = sp_redfa_compile(cases[i].ere);
    ck_assert_ptr_nonnull(d);
    ck_assert_msg(sp_redfa_fixed_length(d) == cases[i].len, "%s: %d",
                  cases[i].ere, sp_redfa_fixed_length(d));
    sp_redfa_free(d);
    compared = matched = 0;
    compare_on(cases[i].ere, 300);
    ck_assert_int_gt(compared, 0);
  }
}
END_TEST

/* Which patterns are checked place by place with some lengths taken and
 * maybe a final run; and, on each, strings around the lengths taken (the
 * DFA and regexec compared there too). */
START_TEST(linear_patterns) {
  static const struct {
    const char *ere;
    int linear;
    const char *yes[3], *no[4];
  } cases[] = {
      {"^89[0123456789]{2,3}$",
       1,
       {"8912", "89123"},
       {"891", "891234", "8812", "89a2"}},
      {"^[AB][AB-]{1,3}$", 1, {"AB", "A-B-"}, {"A", "-A", "AB-B-", "Ab"}},
      {"^/s/[ab][ab._]*$", 1, {"/s/a", "/s/b._a"}, {"/s/", "/s/.a", "/t/a"}},
      {"^a{3,4}$", 1, {"aaa", "aaaa"}, {"aa", "aaaaa", ""}},
      {"^[ab]+$", 1, {"a", "abba"}, {"", "abc"}},
      {"^x[ab]*y$", 0, {"xy", "xaby"}, {"x", "xa"}}, /* the run ends */
      {"^[ab]+(\\.[ab]+)+$", 0, {"a.b", "ab.a.b"}, {"a", "a."}}, /* fork */
      {"^(ab|cd)$", 0, {"ab", "cd"}, {"ad", "cb"}},
      {"[0123456789]{3}$", 0, {"123", "x123"}, {"12"}}, /* a search */
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    sp_redfa *d = sp_redfa_compile(cases[i].ere);
    ck_assert_ptr_nonnull(d);
    ck_assert_msg(sp_redfa_linear(d) == cases[i].linear, "%s: %d", cases[i].ere,
                  sp_redfa_linear(d));
    for (int k = 0; k < 3 && cases[i].yes[k]; k++) {
      const char *y = cases[i].yes[k];
      ck_assert_msg(sp_redfa_match(d, y, strlen(y)) == 1, "%s should take %s",
                    cases[i].ere, y);
    }
    for (int k = 0; k < 4 && cases[i].no[k]; k++) {
      const char *x = cases[i].no[k];
      ck_assert_msg(sp_redfa_match(d, x, strlen(x)) == 0,
                    "%s should refuse %s", cases[i].ere, x);
    }
    sp_redfa_free(d);
    compared = matched = 0;
    compare_on(cases[i].ere, 300);
    ck_assert_int_gt(compared, 0);
  }
}
END_TEST

START_TEST(too_large_gives_up) {
  /* 3000 copies of a set: beyond the program's limit, regexec remains. */
  ck_assert_ptr_null(sp_redfa_compile("[ab]{1000}[cd]{1000}[ef]{1000}"));
  ck_assert_ptr_null(sp_redfa_compile("a{1000}b{1000}c{1000}"));
  /* Not the translator's form. */
  ck_assert_ptr_null(sp_redfa_compile("a)"));
  ck_assert_ptr_null(sp_redfa_compile("(a"));
  ck_assert_ptr_null(sp_redfa_compile("a{2"));
  ck_assert_ptr_null(sp_redfa_compile("a{3,2}"));
  ck_assert_ptr_null(sp_redfa_compile("[ab"));
  ck_assert_ptr_null(sp_redfa_compile("a."));
  ck_assert_ptr_null(sp_redfa_compile(NULL));
}
END_TEST

int main(void) {
  Suite *s = suite_create("redfa");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, every_schema_pattern);
  tcase_add_test(tc, corners);
  tcase_add_test(tc, fixed_length);
  tcase_add_test(tc, linear_patterns);
  tcase_add_test(tc, too_large_gives_up);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
