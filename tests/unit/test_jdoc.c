/* Unit tests for common/jdoc: what it reads it reads as jansson does, what
 * it refuses jansson decides, and its canonical form is jansson's
 * JSON_COMPACT | JSON_SORT_KEYS byte for byte. Hand-picked cases, then the
 * same claims over many mutations of real events. */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "jdoc.h"

typedef struct {
  char *p;
  size_t n, cap;
} buf;

static void collect(void *ctx, const void *bytes, size_t n) {
  buf *b = ctx;
  if (b->n + n + 1 > b->cap) {
    b->cap = (b->n + n + 1) * 2;
    b->p = realloc(b->p, b->cap);
    ck_assert_ptr_nonnull(b->p);
  }
  memcpy(b->p + b->n, bytes, n);
  b->n += n;
  b->p[b->n] = '\0';
}

/* The canonical form of d's root, leaving out skip; NULL when refused. */
static char *canonical(const sp_jdoc *d, const char *skip) {
  buf b = {0};
  collect(&b, "", 0);
  if (sp_jdoc_canonical(d, sp_jdoc_root(d), skip, collect, &b)) {
    free(b.p);
    return NULL;
  }
  return b.p;
}

/* Inputs read whose canonical form was their own text (copied), and
 * inputs read whose canonical form had to be written anew. */
static long n_text, n_rebuilt;

/* An event's members in the order it is written (sorted), as the audit
 * replay hints them to sp_jdoc_parse_keyed; and a hint that is not in
 * order. */
static const char *event_names[SP_EVENT_NATTRS + 2];
static sp_jdoc_keys event_keys, unordered_keys;
static long n_keyed, n_unkeyed;

static int by_name(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void keys_setup(void) {
  for (int i = 0; i < SP_EVENT_NATTRS; i++)
    event_names[i] = sp_event_attr_names[i];
  event_names[SP_EVENT_NATTRS] = "data";
  event_names[SP_EVENT_NATTRS + 1] = "schemaversion";
  qsort(event_names, SP_EVENT_NATTRS + 2, sizeof *event_names, by_name);
  sp_jdoc_keys_init(&event_keys, event_names, SP_EVENT_NATTRS + 2);
  ck_assert_uint_eq(event_keys.n, SP_EVENT_NATTRS + 2);
  ck_assert_int_eq(event_keys.ascending, 1);
  static const char *const unordered[] = {"b", "a", "a"};
  sp_jdoc_keys_init(&unordered_keys, unordered, 3);
  ck_assert_uint_eq(unordered_keys.n, 3);
  ck_assert_int_eq(unordered_keys.ascending, 0);
}

/* sp_jdoc_parse_keyed makes d's tree, whatever the keys: the same nodes,
 * text, order and canonical flag, byte for byte. */
static void same_tree_keyed(const sp_jdoc *d, int rc, const char *in,
                            size_t len, const sp_jdoc_keys *k) {
  sp_jdoc e;
  sp_jdoc_init(&e);
  int keyed = -1;
  ck_assert_int_eq(sp_jdoc_parse_keyed(&e, in, len, k, &keyed), rc);
  ck_assert_uint_eq(e.n, d->n);
  ck_assert_uint_eq(e.tlen, d->tlen);
  ck_assert_uint_eq(e.olen, d->olen);
  ck_assert_int_eq(e.src_canon, d->src_canon);
  if (d->n) {
    ck_assert_msg(!memcmp(e.v, d->v, d->n * sizeof *d->v),
                  "keyed nodes differ for %.*s", (int)len, in);
    ck_assert(!memcmp(e.text, d->text, d->tlen));
  }
  if (d->olen)
    ck_assert(!memcmp(e.order, d->order, d->olen * sizeof *d->order));
  /* Keyed: the root's members are k's names, in k's order. */
  if (keyed) {
    const sp_jv *root = sp_jdoc_root(&e);
    ck_assert_int_eq(root->type, SP_JV_OBJ);
    ck_assert_uint_eq(root->count, k->n);
    uint32_t i = 0;
    for (const sp_jv *m = sp_jv_first(&e, root); m; m = sp_jv_next(&e, m))
      ck_assert_str_eq(sp_jv_key(&e, m), k->name[i++]);
    if (k == &event_keys)
      n_keyed++;
  } else if (k == &event_keys && rc == 0) {
    n_unkeyed++;
  }
  sp_jdoc_free(&e);
}

/* The claim for one input: refused (1), or read as jansson reads it. */
static int agrees(const char *in, size_t len) {
  sp_jdoc d;
  sp_jdoc_init(&d);
  int rc = sp_jdoc_parse(&d, in, len);
  ck_assert_int_ge(rc, 0);
  same_tree_keyed(&d, rc, in, len, &event_keys);
  same_tree_keyed(&d, rc, in, len, &unordered_keys);
  if (rc == 1) {
    ck_assert_uint_eq(d.n, 0);
    sp_jdoc_free(&d);
    return 1;
  }
  if (d.src_canon)
    n_text++;
  else
    n_rebuilt++;
  json_error_t je;
  json_t *j =
      json_loadb(in, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
  ck_assert_msg(j != NULL, "jdoc read what jansson refuses: %.*s (%s)",
                (int)len, in, je.text);
  json_t *mine = sp_jv_to_json(&d, sp_jdoc_root(&d));
  ck_assert_msg(json_equal(mine, j), "different values for %.*s", (int)len, in);
  char *want = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
  char *got = canonical(&d, NULL);
  ck_assert_ptr_nonnull(got);
  ck_assert_str_eq(got, want);
  free(got);
  free(want);
  if (json_is_object(j) && json_object_get(j, "hash")) {
    json_object_del(j, "hash");
    want = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    got = canonical(&d, "hash");
    ck_assert_str_eq(got, want);
    free(got);
    free(want);
  }
  json_decref(mine);
  json_decref(j);
  sp_jdoc_free(&d);
  return 0;
}

static int agrees_s(const char *in) { return agrees(in, strlen(in)); }

START_TEST(reads_the_subset) {
  ck_assert_int_eq(agrees_s("{}"), 0);
  ck_assert_int_eq(agrees_s("[]"), 0);
  ck_assert_int_eq(agrees_s("{\"b\":1,\"a\":[true,false,null,\"x\"]}"), 0);
  ck_assert_int_eq(agrees_s("{\"z\":{\"y\":{\"x\":-42}},\"a\":\"\"}"), 0);
  ck_assert_int_eq(agrees_s("-0"), 0); /* jansson: the integer 0 */
  ck_assert_int_eq(agrees_s("9223372036854775807"), 0);
  ck_assert_int_eq(agrees_s("-9223372036854775808"), 0);
  /* Escapes decode; the canonical form escapes as jansson does. */
  ck_assert_int_eq(agrees_s("\"a\\/b\\u00e9\\u20ac\\t\\n\\\"\\\\\""), 0);
  ck_assert_int_eq(agrees_s("\"\\u0001\\u001f\\u007f\\b\\f\\r\""), 0);
  ck_assert_int_eq(
      agrees_s("\"Nguy\xe1\xbb\x85n V\xc4\x83n \xf0\x9f\x98\x80\""), 0);
  /* Keys sort bytewise, shorter first, also past ASCII. */
  ck_assert_int_eq(
      agrees_s(
          "{\"ab\":1,\"a\":2,\"\xc3\xa9\":3,\"B\":4,\"\":5,\"a\\u0000\":6}"),
      1); /* \u0000: left to jansson */
  ck_assert_int_eq(agrees_s("{\"ab\":1,\"a\":2,\"\xc3\xa9\":3,\"B\":4,\"\":5}"),
                   0);
}
END_TEST

/* Strings are scanned eight bytes at a time: a byte that ends a plain
 * run is found at every place of a word, and after it. */
START_TEST(stops_at_every_place) {
  static const char *const special[] = {"\\\"", "\\\\", "\\u00e9",
                                        "\\n",  "\x01", "\xc3\xa9",
                                        "\x7f", "\\/",  "\xe2\x82\xac"};
  static const char a40[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                    b40[] = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
  char in[160];
  /* Past two blocks of sixteen, and up to the input's last byte (the
   * string alone): where the scan stops, and where it runs out. */
  for (size_t k = 0; k < sizeof special / sizeof *special; k++)
    for (int at = 0; at < 40; at++) {
      int n = snprintf(in, sizeof in, "[\"%.*s%s%.*s\",\"%.*s\"]", at, a40,
                       special[k], 17, b40, at, b40);
      /* The raw control byte is outside the subset, the rest is read. */
      ck_assert_int_eq(agrees(in, (size_t)n), special[k][0] == '\x01');
      n = snprintf(in, sizeof in, "\"%.*s%s%.*s\"", at, a40, special[k],
                   39 - at, b40);
      ck_assert_int_eq(agrees(in, (size_t)n), special[k][0] == '\x01');
    }
}
END_TEST

/* A text already canonical is its own canonical form, less the member
 * left out wherever it stands; anything else is written anew. */
START_TEST(canonical_text_as_read) {
  static const struct {
    const char *in, *without_hash;
    int as_read;
  } cases[] = {
      {"{\"hash\":\"x\"}", "{}", 1},
      {"{\"hash\":\"x\",\"z\":1}", "{\"z\":1}", 1},
      {"{\"a\":1,\"hash\":\"x\"}", "{\"a\":1}", 1},
      {"{\"a\":{\"hash\":2},\"hash\":\"x\",\"z\":[1,{}]}",
       "{\"a\":{\"hash\":2},\"z\":[1,{}]}", 1},
      {"{\"a\":1,\"b\":2}", "{\"a\":1,\"b\":2}", 1},
      {"[{\"hash\":1}]", "[{\"hash\":1}]", 1},
      {"{\"b\":1,\"a\":2,\"hash\":\"x\"}", "{\"a\":2,\"b\":1}", 0},
      {"{\"a\":{\"d\":1,\"c\":2},\"hash\":\"x\"}", "{\"a\":{\"c\":2,\"d\":1}}",
       0},
      {"{\"a\":\"\\/\",\"hash\":\"x\"}", "{\"a\":\"/\"}", 0},
      {"{\"a\":-0,\"hash\":\"x\"}", "{\"a\":0}", 0},
      {"{\"ab\":1,\"a\":2}", "{\"a\":2,\"ab\":1}", 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    sp_jdoc d;
    sp_jdoc_init(&d);
    ck_assert_int_eq(sp_jdoc_parse(&d, cases[i].in, strlen(cases[i].in)), 0);
    ck_assert_msg(d.src_canon == cases[i].as_read, "%s: as read %d",
                  cases[i].in, d.src_canon);
    char *got = canonical(&d, "hash");
    ck_assert_str_eq(got, cases[i].without_hash);
    free(got);
    sp_jdoc_free(&d);
    ck_assert_int_eq(agrees_s(cases[i].in), 0);
  }
}
END_TEST

START_TEST(refuses_the_rest) {
  const char *outside[] = {
      "{ }",
      "{\"a\": 1}",
      "[1, 2]",
      " {}",
      "{}\n",
      "1.5",
      "1e3",
      "-1E2",
      "01",
      "-",
      "9223372036854775808",
      "-9223372036854775809",
      "{\"a\":1,\"a\":2}", /* duplicate key */
      "\"\\u0000\"",
      "\"\\ud83d\\ude00\"", /* NUL, a surrogate pair */
      "\"\\x\"",
      "\"\\u12\"",
      "\"a\x01\"",
      "\"\xc0\x80\"",
      "\"\xed\xa0\x80\"",
      "\"\xf4\x90\x80\x80\"",
      "\"\xe2\x82\"",
      "\"abc",
      "{\"a\"}",
      "{\"a\":}",
      "[1,]",
      "{,}",
      "tru",
      "nul",
      "{\"a\":1}x",
      "",
      "\xff",
  };
  for (size_t i = 0; i < sizeof outside / sizeof *outside; i++)
    ck_assert_msg(agrees_s(outside[i]) == 1, "read: %s", outside[i]);
  /* Nesting: SP_JDOC_MAX_DEPTH levels read, one more refused. */
  char deep[2 * SP_JDOC_MAX_DEPTH + 3];
  for (int extra = 0; extra <= 1; extra++) {
    int n = SP_JDOC_MAX_DEPTH + extra;
    memset(deep, '[', (size_t)n);
    memset(deep + n, ']', (size_t)n);
    deep[2 * n] = '\0';
    ck_assert_int_eq(agrees_s(deep), extra);
  }
}
END_TEST

START_TEST(from_jansson_and_back) {
  json_t *j = json_loads(
      "{\"r\":1.25,\"i\":-3,\"s\":\"x\\u0000y\",\"a\":[{},[],null,true]}",
      JSON_ALLOW_NUL, NULL);
  ck_assert_ptr_nonnull(j);
  sp_jdoc d;
  sp_jdoc_init(&d);
  ck_assert_int_eq(sp_jdoc_from_json(&d, j), 0);
  const sp_jv *r = sp_jdoc_root(&d);
  ck_assert_int_eq(sp_jv_get(&d, r, "r")->type, SP_JV_REAL);
  ck_assert_int_eq(sp_jv_get(&d, r, "s")->slen, 3);
  ck_assert_ptr_null(sp_jv_get(&d, r, "missing"));
  json_t *back = sp_jv_to_json(&d, r);
  ck_assert(json_equal(back, j));
  /* A real has no canonical form here: the caller uses jansson. */
  ck_assert_ptr_null(canonical(&d, NULL));
  json_decref(back);
  json_decref(j);
  sp_jdoc_free(&d);
  /* Empty objects placed first, before any key order was kept: clang's
   * UBSan named the sum of a null pointer and 0 there (the fuzz corpus'
   * regress_empty_object_first replays it; gcc's does not check it). */
  j = json_loads("{\"data\":{},\"z\":{}}", 0, NULL);
  ck_assert_ptr_nonnull(j);
  sp_jdoc_init(&d);
  ck_assert_int_eq(sp_jdoc_from_json(&d, j), 0);
  char *text = canonical(&d, NULL);
  ck_assert_str_eq(text, "{\"data\":{},\"z\":{}}");
  free(text);
  ck_assert_uint_eq(sp_jv_get(&d, sp_jdoc_root(&d), "data")->count, 0);
  json_decref(j);
  sp_jdoc_free(&d);
}
END_TEST

/* A sealed event of each shape the producers make. */
static char *event_text(int k, size_t *len) {
  json_t *data =
      json_pack("{s:s,s:i,s:s,s:[{s:s,s:s}],s:{s:b,s:n},s:s}", "iccid",
                "8984017710000000001", "sims", 1000 + k, "name",
                k % 2 ? "Tr\xe1\xba\xa7n Th\xe1\xbb\x8b B" : "a/b \"q\" \\ \t",
                "failures", "iccid", "8984017710000000002", "error", "timeout",
                "meta", "swap", k % 3 == 0, "note", "ctkv", "CTKV1");
  sp_event ev;
  char err[256];
  ck_assert_int_eq(sp_event_init(&ev, "/simpki/inventory", "sim.connected",
                                 "sim/8984017710000000001", NULL,
                                 "ORD-2026-000001", data, err, sizeof err),
                   0);
  ck_assert_int_eq(sp_event_seal(&ev, SP_EVENT_GENESIS), 0);
  char *s = sp_event_serialize(&ev, len);
  sp_event_clear(&ev);
  return s;
}

/* Every byte of real events changed, dropped, doubled: each result is
 * read as jansson reads it, or refused. */
START_TEST(mutations_of_events) {
  unsigned seed = 7;
  long read = 0, refused = 0;
  const char repl[] = "{}[]\",:\\u0aA-9. \x01\xc3\xa9";
  for (int k = 0; k < 6; k++) {
    size_t len;
    char *ev = event_text(k, &len);
    ck_assert_int_eq(agrees(ev, len), 0);
    char *m = malloc(len + 2);
    for (size_t at = 0; at < len; at++) {
      for (int op = 0; op < 3; op++) {
        size_t n;
        if (op == 0) { /* replace */
          memcpy(m, ev, len);
          seed = seed * 1103515245u + 12345u;
          m[at] = repl[(seed >> 16) % (sizeof repl - 1)];
          n = len;
        } else if (op == 1) { /* drop */
          memcpy(m, ev, at);
          memcpy(m + at, ev + at + 1, len - at - 1);
          n = len - 1;
        } else { /* double */
          memcpy(m, ev, at + 1);
          memcpy(m + at + 1, ev + at, len - at);
          n = len + 1;
        }
        if (agrees(m, n))
          refused++;
        else
          read++;
      }
    }
    free(m);
    free(ev);
  }
  /* Not blind: both outcomes happen often, and of the inputs read both
   * ways to the canonical form. */
  ck_assert_int_gt(read, 1000);
  ck_assert_int_gt(refused, 1000);
  ck_assert_int_gt(n_text, 500);
  ck_assert_int_gt(n_rebuilt, 500);
  /* The hint matched often, and was refused often by texts jdoc read. */
  ck_assert_int_gt(n_keyed, 500);
  ck_assert_int_gt(n_unkeyed, 500);
}
END_TEST

/* The hint is off for names that would not be read as written, and for
 * more names than it holds; the parse is then sp_jdoc_parse's. */
START_TEST(keys_hint_only_plain_names) {
  static const char *const bad[][2] = {{"a", "b\\"},
                                       {"a", "b\""},
                                       {"a", "\xc3\xa9"},
                                       {"a", "b\n"},
                                       {"a", "\x7f"}};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    sp_jdoc_keys k;
    sp_jdoc_keys_init(&k, bad[i], 2);
    ck_assert_uint_eq(k.n, 0);
  }
  const char *many[SP_JDOC_KEYS_MAX + 1];
  for (int i = 0; i <= SP_JDOC_KEYS_MAX; i++)
    many[i] = "k";
  sp_jdoc_keys k;
  sp_jdoc_keys_init(&k, many, SP_JDOC_KEYS_MAX + 1);
  ck_assert_uint_eq(k.n, 0);
  /* Shorter first, as the canonical form sorts: ascending. */
  static const char *const sorted[] = {"", "a", "ab", "b"};
  sp_jdoc_keys_init(&k, sorted, 4);
  ck_assert_int_eq(k.ascending, 1);
  static const char *const twice[] = {"a", "a"};
  sp_jdoc_keys_init(&k, twice, 2);
  ck_assert_int_eq(k.ascending, 0);
  /* Off, the keyed parse reads as the plain one and says not keyed. */
  sp_jdoc_keys_init(&k, bad[0], 2);
  sp_jdoc d;
  sp_jdoc_init(&d);
  int keyed = -1;
  ck_assert_int_eq(sp_jdoc_parse_keyed(&d, "{\"a\":1}", 7, &k, &keyed), 0);
  ck_assert_int_eq(keyed, 0);
  ck_assert_uint_eq(sp_jdoc_root(&d)->count, 1);
  /* Named twice: the duplicate is refused as the plain parse refuses it. */
  sp_jdoc_keys_init(&k, twice, 2);
  ck_assert_int_eq(sp_jdoc_parse_keyed(&d, "{\"a\":1,\"a\":2}", 13, &k, &keyed),
                   1);
  ck_assert_int_eq(keyed, 0);
  ck_assert_uint_eq(d.n, 0);
  /* Keyed only when every member is there, in order, and nothing more. */
  static const char *const ab[] = {"a", "b"};
  sp_jdoc_keys_init(&k, ab, 2);
  static const struct {
    const char *in;
    int keyed;
  } cases[] = {{"{\"a\":1,\"b\":[2]}", 1},
               {"{\"a\":1}", 0},
               {"{\"a\":1,\"b\":2,\"c\":3}", 0},
               {"{\"b\":1,\"a\":2}", 0},
               {"{}", 0},
               {"[\"a\",\"b\"]", 0},
               {"{\"\\u0061\":1,\"b\":2}", 0},
               {"{ \"a\":1,\"b\":2}", 0},
               {"{\"a\" :1,\"b\":2}", 0},
               {"{\"a\":{\"a\":1,\"b\":2},\"b\":2}", 1}};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    int rc =
        sp_jdoc_parse_keyed(&d, cases[i].in, strlen(cases[i].in), &k, &keyed);
    ck_assert_msg(keyed == cases[i].keyed, "%s: keyed %d", cases[i].in, keyed);
    if (rc == 0) {
      sp_jdoc e;
      sp_jdoc_init(&e);
      ck_assert_int_eq(sp_jdoc_parse(&e, cases[i].in, strlen(cases[i].in)), 0);
      ck_assert_uint_eq(e.n, d.n);
      ck_assert(!memcmp(e.v, d.v, d.n * sizeof *d.v));
      sp_jdoc_free(&e);
    }
  }
  sp_jdoc_free(&d);
}
END_TEST

/* Names of every length up to 40 (compared and copied a word at a time):
 * keyed when the name is the same, whichever byte differs otherwise, and
 * the same tree either way. */
START_TEST(keyed_names_of_every_length) {
  char name[41], in[160];
  sp_jdoc d;
  sp_jdoc_init(&d);
  for (int n = 0; n <= 40; n++) {
    for (int i = 0; i < n; i++)
      name[i] = (char)('a' + (i * 7) % 26);
    name[n] = '\0';
    const char *names[] = {name, "~"};
    sp_jdoc_keys k;
    sp_jdoc_keys_init(&k, names, 2);
    ck_assert_uint_eq(k.n, 2);
    for (int at = -1; at < n + 2; at++) {
      /* at -1: as named; at < n: byte at changed; n: one byte more;
       * n + 1: the last byte less. */
      char text[48];
      memcpy(text, name, (size_t)n + 1);
      if (at >= 0 && at < n)
        text[at] = text[at] == 'z' ? 'y' : 'z';
      else if (at == n)
        strcat(text, "q");
      else if (at == n + 1 && n > 0)
        text[n - 1] = '\0';
      else if (at == n + 1)
        continue;
      int len =
          snprintf(in, sizeof in, "{\"%s\":[1,\"%s\"],\"~\":2}", text, name);
      ck_assert_int_lt(len, (int)sizeof in);
      ck_assert_int_eq(sp_jdoc_parse(&d, in, (size_t)len), 0);
      same_tree_keyed(&d, 0, in, (size_t)len, &k);
      int keyed = -1;
      sp_jdoc e;
      sp_jdoc_init(&e);
      ck_assert_int_eq(sp_jdoc_parse_keyed(&e, in, (size_t)len, &k, &keyed), 0);
      ck_assert_msg(keyed == (at == -1),
                    "name %d bytes, change at %d: keyed %d", n, at, keyed);
      sp_jdoc_free(&e);
    }
  }
  sp_jdoc_free(&d);
}
END_TEST

int main(void) {
  Suite *s = suite_create("jdoc");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 120);
  tcase_add_checked_fixture(tc, keys_setup, NULL);
  tcase_add_test(tc, reads_the_subset);
  tcase_add_test(tc, refuses_the_rest);
  tcase_add_test(tc, canonical_text_as_read);
  tcase_add_test(tc, stops_at_every_place);
  tcase_add_test(tc, from_jansson_and_back);
  tcase_add_test(tc, mutations_of_events);
  tcase_add_test(tc, keys_hint_only_plain_names);
  tcase_add_test(tc, keyed_names_of_every_length);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
