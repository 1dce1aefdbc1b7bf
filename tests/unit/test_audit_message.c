/* Unit tests for audit_message.c: its three paths (the flat one,
 * audit_flat.c; the tree one, common/jdoc; jansson's) give the same result
 * for every message: the same verdict, hash, schema finding with its
 * words, attributes and kept data. Over real-shaped events, the fixtures,
 * and every one-byte mutation. The default checker (flat, then tree) keeps
 * its results in an arena (as the replay's workers do), the others in
 * malloc'd memory. And the arena itself. */
#include "../../tools/simpkictl/audit_arena.c"
#include "../../tools/simpkictl/audit_data.c"
#include "../../tools/simpkictl/audit_flat.c"
#include "../../tools/simpkictl/audit_map.c"
#include "../../tools/simpkictl/audit_message.c"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sp_jschema_set *schemas;
static audit_checker *fast, *tree, *slow;
static audit_arena *arena;
static long n_fast_events, n_events, n_not_events, n_invalid, n_altered;

static int str_eq(const char *a, const char *b) {
  return (!a && !b) || (a && b && !strcmp(a, b));
}

static void same_result(const audit_parsed *pa, const audit_parsed *pb,
                        const char *msg, size_t len) {
  audit_parsed a = *pa, b = *pb;
  ck_assert_msg(a.status == b.status, "status %d vs %d: %.*s", a.status,
                b.status, (int)len, msg);
  ck_assert_msg(a.schema_rc == b.schema_rc, "schema %d vs %d: %.*s",
                a.schema_rc, b.schema_rc, (int)len, msg);
  ck_assert_msg(str_eq(a.why, b.why), "why \"%s\" vs \"%s\"", a.why, b.why);
  const char *const *fa[] = {&a.id,   &a.subject,       &a.type,
                             &a.time, &a.correlationid, &a.prevhash,
                             &a.hash, &a.content_hash};
  const char *const *fb[] = {&b.id,   &b.subject,       &b.type,
                             &b.time, &b.correlationid, &b.prevhash,
                             &b.hash, &b.content_hash};
  for (size_t i = 0; i < sizeof fa / sizeof *fa; i++)
    ck_assert_msg(str_eq(*fa[i], *fb[i]), "attribute %zu: %s vs %s: %.*s", i,
                  *fa[i], *fb[i], (int)len, msg);
  ck_assert(a.time_ms == b.time_ms);
  /* The map hashes, from the lengths the parse gave or counted. */
  if (a.status == 0) {
    const audit_parsed *ab[] = {&a, &b};
    for (int k = 0; k < 2; k++) {
      ck_assert(ab[k]->h_id == audit_map_hash(ab[k]->id));
      ck_assert(ab[k]->h_subject == audit_map_hash(ab[k]->subject));
      ck_assert(ab[k]->h_hash == audit_map_hash(ab[k]->hash));
      ck_assert(ab[k]->h_prev == audit_map_hash(ab[k]->prevhash));
    }
  }
  json_t *ja = a.data ? audit_data_to_json(a.data) : NULL,
         *jb = b.data ? audit_data_to_json(b.data) : NULL;
  ck_assert_msg((!ja && !jb) || json_equal(ja, jb), "kept data differs: %.*s",
                (int)len, msg);
  json_decref(ja);
  json_decref(jb);
}

/* The same message each way; the results must be the same. */
static void both(const char *msg, size_t len) {
  audit_parsed a, t, b;
  ck_assert_int_eq(audit_message_check(fast, msg, len, &a), 0);
  ck_assert_int_eq(audit_message_check(tree, msg, len, &t), 0);
  ck_assert_int_eq(audit_message_check(slow, msg, len, &b), 0);
  ck_assert_int_eq(b.in_arena, 0);
  ck_assert(a.status != 0 || a.in_arena == 1);
  same_result(&a, &b, msg, len);
  same_result(&t, &b, msg, len);
  if (a.status == 0) {
    n_events++;
    n_invalid += a.schema_rc != 0;
    n_altered += strcmp(a.hash, a.content_hash) != 0;
    /* Did the fast path take it? Same input through jdoc alone. */
    sp_jdoc d;
    sp_jdoc_init(&d);
    n_fast_events += sp_jdoc_parse(&d, msg, len) == 0;
    sp_jdoc_free(&d);
  } else {
    n_not_events++;
  }
  audit_parsed_clear(&a);
  audit_parsed_clear(&t);
  audit_parsed_clear(&b);
}

static char *sealed_after(const char *type, const char *subject, json_t *data,
                          const char *prev, size_t *len) {
  sp_event ev;
  char err[256];
  ck_assert_int_eq(sp_event_init(&ev, "/simpki/inventory", type, subject, NULL,
                                 "ORD-2026-000001", data, err, sizeof err),
                   0);
  ck_assert_int_eq(sp_event_seal(&ev, prev), 0);
  char *s = sp_event_serialize(&ev, len);
  sp_event_clear(&ev);
  return s;
}

static char *sealed(const char *type, const char *subject, json_t *data,
                    size_t *len) {
  return sealed_after(type, subject, data, SP_EVENT_GENESIS, len);
}

/* Events of real types (valid), one with a Vietnamese text, one of a type
 * without schema, one whose data breaks its schema. */
static char *sample(int k, size_t *len) {
  const char *ic = "8984017710000000001";
  switch (k) {
  case 0:
    return sealed("sim.connected", "sim/8984017710000000001",
                  json_pack("{s:s,s:s,s:s,s:s,s:b,s:s}", "iccid", ic, "msisdn",
                            "84901234567", "ctkv", "CTKV1", "shop", "HNI-001",
                            "swap", 0, "package", "MF-70"),
                  len);
  case 1:
    return sealed("sim.sold", "sim/8984017710000000001",
                  json_pack("{s:s,s:s,s:s,s:s,s:i,s:i,s:s}", "iccid", ic,
                            "ctkv", "CTKV1", "shop", "HNI-001",
                            "invoice_series", "C26TMF", "invoice_number", 7,
                            "total", 125000, "msisdn", "84901234567"),
                  len);
  case 2:
    return sealed("sim.returned", "sim/8984017710000000001",
                  json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "iccid", ic, "from",
                            "delivered", "reason",
                            "kh\xc3\xa1\x63h tr\xe1\xba\xa3 l\xe1\xba\xa1i "
                            "\"SIM\" \\ /",
                            "by", "shop-hni-001", "ctkv", "CTKV1", "shop",
                            "HNI-001"),
                  len);
  case 3:
    return sealed("no.such_type", "x/1", json_pack("{s:i}", "n", 1), len);
  default:
    return sealed("sim.delivered", "sim/8984017710000000001",
                  json_pack("{s:s,s:s,s:i,s:i,s:[i]}", "iccid", ic, "shop",
                            "hni-001", "amount_paid", -5, "debt", 0, "failures",
                            1),
                  len);
  }
}

static void setup(void) {
  const char *src = getenv("SIMPKI_SOURCE_DIR");
  char dir[1024], err[512];
  snprintf(dir, sizeof dir, "%s/schemas", src ? src : ".");
  schemas = sp_jschema_load_dir(dir, err, sizeof err);
  ck_assert_msg(schemas != NULL, "%s", err);
  fast = audit_checker_new(schemas);
  tree = audit_checker_new(schemas);
  slow = audit_checker_new(schemas);
  arena = audit_arena_new();
  ck_assert(fast && tree && slow && arena);
  audit_checker_set_arena(fast, arena);
  audit_checker_paths(tree, AUDIT_PATH_TREE);
  audit_checker_paths(slow, 0);
  n_fast_events = n_events = n_not_events = n_invalid = n_altered = 0;
}

static void teardown(void) {
  audit_checker_free(fast);
  audit_checker_free(tree);
  audit_checker_free(slow);
  audit_arena_free(arena);
  sp_jschema_free(schemas);
}

START_TEST(samples_and_fixtures) {
  for (int k = 0; k < 5; k++) {
    size_t len;
    char *s = sample(k, &len);
    both(s, len);
    free(s);
  }
  ck_assert_int_eq(n_events, 5);
  ck_assert_int_eq(n_fast_events, 5);
  /* The two plain valid events went the flat way; the other three (an
   * escape and Vietnamese, a type without schema, an array and invalid
   * data) the tree's, their names matched as written. The tree checker
   * took all five that way, the jansson one none. */
  long nl, nt, nk;
  audit_checker_counts(fast, &nl, &nt, &nk);
  ck_assert_int_eq(nl, 2);
  ck_assert_int_eq(nt, 3);
  ck_assert_int_eq(nk, 3);
  audit_checker_counts(tree, &nl, &nt, &nk);
  ck_assert_int_eq(nl, 0);
  ck_assert_int_eq(nt, 5);
  ck_assert_int_eq(nk, 5);
  audit_checker_counts(slow, &nl, &nt, &nk);
  ck_assert_int_eq(nl + nt, 0);
  ck_assert_int_eq(n_invalid, 2); /* the unknown type, the broken data */
  const char *src = getenv("SIMPKI_SOURCE_DIR");
  char path[1024];
  snprintf(path, sizeof path, "%s/tests/fixtures/events/good.jsonl",
           src ? src : ".");
  FILE *f = fopen(path, "r");
  ck_assert_ptr_nonnull(f);
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  while ((n = getline(&line, &cap, f)) > 0)
    both(line, (size_t)n - (line[n - 1] == '\n'));
  free(line);
  fclose(f);
  ck_assert_int_eq(n_events, 13);
  /* Empty messages and other shapes of the same event. */
  both("", 0);
  both(NULL, 0);
  size_t len;
  char *s = sample(0, &len);
  json_t *j = json_loadb(s, len, 0, NULL);
  const size_t flags[] = {JSON_INDENT(1), JSON_SORT_KEYS | JSON_COMPACT,
                          JSON_ENSURE_ASCII | JSON_COMPACT,
                          JSON_ESCAPE_SLASH | JSON_COMPACT};
  for (size_t i = 0; i < sizeof flags / sizeof *flags; i++) {
    char *t = json_dumps(j, flags[i]);
    both(t, strlen(t));
    free(t);
  }
  json_object_set_new(json_object_get(j, "data"), "total", json_real(1.0));
  char *t = json_dumps(j, JSON_COMPACT);
  both(t, strlen(t)); /* a real: the jansson path only */
  free(t);
  json_decref(j);
  free(s);
}
END_TEST

/* Every byte of each sample replaced, dropped and doubled. */
START_TEST(every_one_byte_mutation) {
  const char repl[] = "{}[]\",:\\u0aA-9. \x01\xc3\xa9";
  unsigned seed = 99;
  for (int k = 0; k < 5; k++) {
    size_t len;
    char *s = sample(k, &len);
    char *m = malloc(len + 2);
    for (size_t at = 0; at < len; at++)
      for (int op = 0; op < 3; op++) {
        size_t n = len;
        if (op == 0) {
          memcpy(m, s, len);
          seed = seed * 1103515245u + 12345u;
          m[at] = repl[(seed >> 16) % (sizeof repl - 1)];
        } else if (op == 1) {
          memcpy(m, s, at);
          memcpy(m + at, s + at + 1, len - at - 1);
          n = len - 1;
        } else {
          memcpy(m, s, at + 1);
          memcpy(m + at + 1, s + at, len - at);
          n = len + 1;
        }
        both(m, n);
      }
    free(m);
    free(s);
  }
  /* Not blind: the fast path took most events, most of them with their
   * names matched as written; every outcome occurred. */
  ck_assert_int_gt(n_fast_events, n_events / 2);
  long nl, nt, nk;
  audit_checker_counts(fast, &nl, &nt, &nk);
  ck_assert_int_gt(nl + nt, n_events / 2);
  ck_assert_int_gt(nl, n_events / 8); /* mutated values that stay plain */
  audit_checker_counts(tree, &nl, &nt, &nk);
  ck_assert_int_eq(nl, 0);
  ck_assert_int_gt(nt, n_events / 2);
  ck_assert_int_gt(nk, nt / 2);
  ck_assert_int_gt(n_not_events, 500);
  ck_assert_int_gt(n_invalid, 300);
  ck_assert_int_gt(n_altered, 300);
}
END_TEST

/* With an arena, a checker keeps one copy of each subject and type: the
 * events of one SIM share it; a new arena starts new copies (the old
 * arena's may be gone). */
/* Members in another order than the written one (a hand-made event, an
 * other writer): the fast path still takes them, reading the names, with
 * the same results as the jansson path. */
START_TEST(members_in_another_order) {
  for (int k = 0; k < 5; k++) {
    size_t len;
    char *s = sample(k, &len);
    json_t *ev = json_loadb(s, len, 0, NULL);
    ck_assert_ptr_nonnull(ev);
    /* Reversed: jansson keeps the order members were set in. */
    const char *names[32];
    size_t n = 0;
    const char *key;
    json_t *val;
    json_object_foreach(ev, key, val) names[n++] = key;
    json_t *rev = json_object();
    for (size_t i = n; i-- > 0;)
      json_object_set(rev, names[i], json_object_get(ev, names[i]));
    char *r = json_dumps(rev, JSON_COMPACT | JSON_PRESERVE_ORDER);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_ne(strcmp(r, s), 0);
    long l0, t0, k0, l1, t1, k1;
    audit_checker_counts(fast, &l0, &t0, &k0);
    both(r, strlen(r));
    audit_checker_counts(fast, &l1, &t1, &k1);
    ck_assert_int_eq(l1, l0); /* not as written: not flat */
    ck_assert_int_eq(t1, t0 + 1);
    ck_assert_int_eq(k1, k0);
    free(r);
    json_decref(rev);
    json_decref(ev);
    free(s);
  }
  ck_assert_int_eq(n_events, 5);
}
END_TEST

START_TEST(shared_subject_and_type) {
  size_t l0, l1;
  char *s0 = sample(0, &l0), *s1 = sample(1, &l1);
  audit_parsed a, b, c;
  ck_assert_int_eq(audit_message_check(fast, s0, l0, &a), 0);
  ck_assert_int_eq(audit_message_check(fast, s1, l1, &b), 0);
  ck_assert_int_eq(a.status, 0);
  ck_assert_int_eq(b.status, 0);
  ck_assert_str_eq(a.subject, "sim/8984017710000000001");
  ck_assert_ptr_eq(a.subject, b.subject);
  ck_assert_str_eq(a.type, "sim.connected");
  ck_assert_str_eq(b.type, "sim.sold");
  ck_assert_ptr_ne(a.id, b.id);
  audit_arena *other = audit_arena_new();
  audit_checker_set_arena(fast, other);
  ck_assert_int_eq(audit_message_check(fast, s0, l0, &c), 0);
  ck_assert_ptr_ne(c.subject, a.subject);
  ck_assert_str_eq(c.subject, a.subject);
  /* Without an arena: the event's own copies, as before. */
  audit_checker_set_arena(slow, NULL);
  audit_parsed d;
  ck_assert_int_eq(audit_message_check(slow, s0, l0, &d), 0);
  ck_assert_int_eq(d.in_arena, 0);
  ck_assert_ptr_ne(d.subject, a.subject);
  ck_assert_str_eq(d.subject, a.subject);
  audit_parsed_clear(&a);
  audit_parsed_clear(&b);
  audit_parsed_clear(&c);
  audit_parsed_clear(&d);
  audit_checker_set_arena(fast, arena);
  audit_arena_free(other);
  free(s0);
  free(s1);
}
END_TEST

/* The envelope's schema is skipped only when it is the envelope.json
 * sp_event_attrs_strict was reviewed against: a changed one (here a
 * narrower source) is walked in full, fast path and all. */
START_TEST(envelope_shortcut_only_for_the_reviewed_envelope) {
  ck_assert_ptr_nonnull(fast->envelope);
  const char *src = getenv("SIMPKI_SOURCE_DIR");
  char dir[] = "/tmp/test_audit_message.XXXXXX", cmd[2048], err[512];
  ck_assert_ptr_nonnull(mkdtemp(dir));
  snprintf(
      cmd, sizeof cmd,
      "cp -r '%s/schemas' '%s/' && sed -i "
      "'s|\\^/simpki/\\[a-z0-9\\]\\[a-z0-9._-\\]\\*\\$|^/simpki/[a-z]{1,3}$|' "
      "'%s/schemas/events/envelope.json' && grep -q '{1,3}' "
      "'%s/schemas/events/envelope.json'",
      src ? src : ".", dir, dir, dir);
  ck_assert_int_eq(system(cmd), 0);
  snprintf(cmd, sizeof cmd, "%s/schemas", dir);
  sp_jschema_set *narrow = sp_jschema_load_dir(cmd, err, sizeof err);
  ck_assert_msg(narrow != NULL, "%s", err);
  audit_checker *ck = audit_checker_new(narrow);
  ck_assert_ptr_nonnull(ck);
  ck_assert_ptr_null(ck->envelope);
  size_t len;
  char *m = sealed("sim.connected", "sim/8984017710000000001",
                   json_pack("{s:s,s:s}", "iccid", "8984017710000000001",
                             "msisdn", "84901234567"),
                   &len);
  audit_parsed p;
  ck_assert_int_eq(audit_message_check(ck, m, len, &p), 0);
  ck_assert_int_eq(p.status, 0);
  ck_assert_int_eq(p.schema_rc, 1);
  ck_assert_msg(p.why && !strncmp(p.why, "/source: ", 9), "why: %s", p.why);
  audit_parsed_clear(&p);
  /* The reviewed envelope takes the same event. */
  ck_assert_int_eq(audit_message_check(fast, m, len, &p), 0);
  ck_assert_int_eq(p.schema_rc, 0);
  audit_parsed_clear(&p);
  free(m);
  audit_checker_free(ck);
  sp_jschema_free(narrow);
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* With an arena, a prevhash that is the hash of an event kept lately is
 * that event's copy; any other is the event's own; without an arena each
 * event has its own. */
START_TEST(prevhash_shares_its_predecessors_hash) {
  audit_arena *ar = audit_arena_new();
  audit_checker *ck = audit_checker_new(schemas);
  ck_assert(ar && ck);
  audit_checker_set_arena(ck, ar);
  const char *subject = "sim/8984017710000000001";
  char *m[4];
  size_t l[4];
  audit_parsed p[4];
  m[0] = sealed("sim.connected", subject,
                json_pack("{s:s,s:s}", "iccid", "8984017710000000001", "msisdn",
                          "84901234567"),
                &l[0]);
  for (int i = 0; i < 3; i++) {
    if (i > 0)
      m[i] = sealed_after("sim.connected", subject,
                          json_pack("{s:s,s:s}", "iccid", "8984017710000000001",
                                    "msisdn", "84901234567"),
                          p[i - 1].hash, &l[i]);
    ck_assert_int_eq(audit_message_check(ck, m[i], l[i], &p[i]), 0);
    ck_assert_int_eq(p[i].status, 0);
  }
  ck_assert_str_eq(p[0].prevhash, SP_EVENT_GENESIS);
  ck_assert_ptr_eq(p[1].prevhash, p[0].hash);
  ck_assert_ptr_eq(p[2].prevhash, p[1].hash);
  ck_assert_ptr_ne(p[2].prevhash, p[0].hash);
  /* Onto a hash never kept: a copy of its own, equal. */
  char other[SP_EVENT_HASH_HEX + 1];
  memset(other, 'c', SP_EVENT_HASH_HEX);
  other[SP_EVENT_HASH_HEX] = '\0';
  m[3] = sealed_after("sim.connected", subject,
                      json_pack("{s:s,s:s}", "iccid", "8984017710000000001",
                                "msisdn", "84901234567"),
                      other, &l[3]);
  ck_assert_int_eq(audit_message_check(ck, m[3], l[3], &p[3]), 0);
  ck_assert_str_eq(p[3].prevhash, other);
  for (int i = 0; i < 3; i++)
    ck_assert_ptr_ne(p[3].prevhash, p[i].hash);
  /* Without an arena: its own, though equal. */
  audit_parsed q;
  audit_checker_set_arena(ck, NULL);
  ck_assert_int_eq(audit_message_check(ck, m[1], l[1], &q), 0);
  ck_assert_str_eq(q.prevhash, p[0].hash);
  ck_assert_ptr_ne(q.prevhash, p[0].hash);
  audit_parsed_clear(&q);
  for (int i = 0; i < 4; i++) {
    audit_parsed_clear(&p[i]);
    free(m[i]);
  }
  audit_checker_free(ck);
  audit_arena_free(ar);
}
END_TEST

/* The kept fields, packed: strings and integers read back as given, in
 * any order and mix, the others left out; the same from an arena. */
START_TEST(kept_data_packing) {
  json_t *in =
      json_pack("{s:s,s:I,s:s,s:s,s:I,s:s,s:i,s:[i,i],s:f,s:b,s:s}", "case_id",
                "C-9", "sims", (json_int_t)5000, "iccid", "", "order_id",
                "ORD-2026-000042", "quantity", (json_int_t)-7, "not_kept", "x",
                "loaded", 0, "failures", 1, 2, "failed", 1.5, "kind", 1,
                "state", "kh\xc3\xa1\x63h tr\xe1\xba\xa3 l\xe1\xba\xa1i");
  audit_data *d = audit_data_from_json(in);
  ck_assert_ptr_nonnull(d);
  long long v = 0;
  ck_assert_str_eq(audit_data_get_str(d, "case_id"), "C-9");
  ck_assert_str_eq(audit_data_get_str(d, "iccid"), "");
  ck_assert_str_eq(audit_data_get_str(d, "order_id"), "ORD-2026-000042");
  ck_assert_str_eq(audit_data_get_str(d, "state"),
                   "kh\xc3\xa1\x63h tr\xe1\xba\xa3 l\xe1\xba\xa1i");
  ck_assert(audit_data_get_int(d, "sims", &v) && v == 5000);
  ck_assert(audit_data_get_int(d, "quantity", &v) && v == -7);
  ck_assert(audit_data_get_int(d, "loaded", &v) && v == 0);
  /* A string is no integer, an integer no string; a real, a boolean and
   * an unknown field are not kept. */
  ck_assert(!audit_data_get_int(d, "case_id", &v));
  ck_assert_ptr_null(audit_data_get_str(d, "sims"));
  ck_assert(!audit_data_get_int(d, "failed", &v));
  ck_assert_ptr_null(audit_data_get_str(d, "kind"));
  ck_assert_ptr_null(audit_data_get_str(d, "not_kept"));
  ck_assert_ptr_null(audit_data_get_str(d, "batch_id"));
  ck_assert_int_eq(json_array_size(audit_data_failures(d)), 2);
  json_t *back = audit_data_to_json(d), *want = json_deep_copy(in);
  json_object_del(want, "not_kept");
  json_object_del(want, "failed");
  json_object_del(want, "kind");
  ck_assert(json_equal(back, want));
  json_decref(back);
  json_decref(want);
  ck_assert(audit_data_owns(d)); /* malloc's, and its failures */
  audit_data_free(d);
  /* From an arena: nothing of its own unless it holds failures. */
  audit_arena *a = audit_arena_new();
  ck_assert_ptr_nonnull(a);
  sp_jdoc jd;
  sp_jdoc_init(&jd);
  static const char plain[] = "{\"iccid\":\"89840177000000000017\",\"sims\":5}",
                    failing[] = "{\"failures\":[{\"iccid\":\"x\"}],\"sims\":5}";
  ck_assert_int_eq(sp_jdoc_parse(&jd, plain, strlen(plain)), 0);
  d = audit_data_from_jv(&jd, sp_jdoc_root(&jd), audit_arena_alloc_cb, a);
  ck_assert_ptr_nonnull(d);
  ck_assert_str_eq(audit_data_get_str(d, "iccid"), "89840177000000000017");
  ck_assert(!audit_data_owns(d));
  audit_data_free(d);
  ck_assert_int_eq(sp_jdoc_parse(&jd, failing, strlen(failing)), 0);
  d = audit_data_from_jv(&jd, sp_jdoc_root(&jd), audit_arena_alloc_cb, a);
  ck_assert_ptr_nonnull(d);
  ck_assert_int_eq(json_array_size(audit_data_failures(d)), 1);
  ck_assert(audit_data_owns(d));
  audit_data_free(d);
  ck_assert(!audit_data_owns(NULL));
  sp_jdoc_free(&jd);
  audit_arena_free(a);
  /* No field at all; no object. */
  json_t *empty = json_object();
  d = audit_data_from_json(empty);
  ck_assert_ptr_nonnull(d);
  ck_assert_ptr_null(audit_data_get_str(d, "iccid"));
  ck_assert_ptr_null(audit_data_failures(d));
  audit_data_free(d);
  json_decref(empty);
  d = audit_data_from_json(NULL);
  ck_assert_ptr_nonnull(d);
  ck_assert_ptr_null(audit_data_get_str(d, "iccid"));
  ck_assert_ptr_null(audit_data_get_str(NULL, "iccid"));
  audit_data_free(d);
  json_decref(in);
}
END_TEST

/* A key is found among fixed names by its length, then its bytes: every
 * name at its index, anything else (a prefix, a longer key, one byte off,
 * too long) nowhere. */
START_TEST(names_by_length) {
  for (int i = 0; i < SP_EVENT_NATTRS; i++) {
    const char *a = sp_event_attr_names[i];
    ck_assert_int_eq(
        audit_names_find(attr_by_len, sp_event_attr_names, a, strlen(a)), i);
    char k[64];
    snprintf(k, sizeof k, "%sx", a);
    ck_assert_int_eq(
        audit_names_find(attr_by_len, sp_event_attr_names, k, strlen(k)), -1);
    ck_assert_int_eq(
        audit_names_find(attr_by_len, sp_event_attr_names, a, strlen(a) - 1),
        -1);
    snprintf(k, sizeof k, "%s", a);
    k[strlen(k) - 1] ^= 1;
    ck_assert_int_eq(
        audit_names_find(attr_by_len, sp_event_attr_names, k, strlen(k)), -1);
  }
  /* Names of one length: "type", "time", "hash". */
  ck_assert_int_eq(
      audit_names_find(attr_by_len, sp_event_attr_names, "time", 4),
      SP_EVENT_A_TIME);
  ck_assert_int_eq(
      audit_names_find(attr_by_len, sp_event_attr_names, "hash", 4),
      SP_EVENT_A_HASH);
  char longer[40];
  memset(longer, 'a', sizeof longer);
  ck_assert_int_eq(
      audit_names_find(attr_by_len, sp_event_attr_names, longer, sizeof longer),
      -1);
  const char *const few[] = {"ab", "cd", "abc"};
  uint32_t by_len[AUDIT_NAMES_LEN];
  audit_names_index(by_len, few, 3);
  ck_assert_int_eq(audit_names_find(by_len, few, "cd", 2), 1);
  ck_assert_int_eq(audit_names_find(by_len, few, "abc", 3), 2);
  ck_assert_int_eq(audit_names_find(by_len, few, "abd", 3), -1);
  ck_assert_int_eq(audit_names_find(by_len, few, "", 0), -1);
}
END_TEST

/* Aligned, distinct, writable to the last byte; a request larger than a
 * block gets its own; the size grows by whole blocks. */
START_TEST(arena_blocks) {
  audit_arena *a = audit_arena_new();
  ck_assert_ptr_nonnull(a);
  ck_assert_uint_eq(audit_arena_size(a), 0);
  char *prev = NULL;
  size_t prev_n = 0;
  for (size_t i = 0; i < 100000; i++) {
    size_t n = 1 + (i * 7919) % 700;
    char *p = audit_arena_alloc(a, n);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq((uintptr_t)p % 16, 0);
    memset(p, (int)(i & 0xff), n);
    /* The previous one is intact: no overlap. */
    if (prev)
      ck_assert_int_eq((unsigned char)prev[prev_n - 1],
                       (unsigned char)((i - 1) & 0xff));
    prev = p;
    prev_n = n;
  }
  size_t before = audit_arena_size(a);
  ck_assert_uint_ge(before, (size_t)100000 * 350);
  char *big = audit_arena_alloc(a, (size_t)20 << 20);
  ck_assert_ptr_nonnull(big);
  big[0] = 1;
  big[((size_t)20 << 20) - 1] = 2;
  ck_assert_uint_ge(audit_arena_size(a), before + ((size_t)20 << 20));
  ck_assert_ptr_null(audit_arena_alloc(a, SIZE_MAX - 3));
  /* Shared strings: together, apart from the rest, and counted. */
  size_t with_main = audit_arena_size(a);
  char *s0 = audit_arena_alloc_shared(a, 20);
  ck_assert_ptr_nonnull(s0);
  for (int i = 1; i < 1000; i++) {
    char *si = audit_arena_alloc_shared(a, 20);
    ck_assert_ptr_nonnull(si);
    ck_assert_uint_eq((uintptr_t)si % 16, 0);
    memset(si, 'x', 20);
    if (i < 64) /* one small block first: each right after the last */
      ck_assert_ptr_eq(si, s0 + 32 * i);
  }
  ck_assert_uint_gt(audit_arena_size(a), with_main);
  ck_assert_uint_lt(audit_arena_size(a), with_main + ((size_t)1 << 20));
  ck_assert_ptr_nonnull(audit_arena_alloc_cb(a, 1));
  audit_arena_free(a);
  audit_arena_free(NULL);
}
END_TEST

int main(void) {
  Suite *s = suite_create("audit_message");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 120);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, samples_and_fixtures);
  tcase_add_test(tc, every_one_byte_mutation);
  tcase_add_test(tc, members_in_another_order);
  tcase_add_test(tc, arena_blocks);
  tcase_add_test(tc, shared_subject_and_type);
  tcase_add_test(tc, prevhash_shares_its_predecessors_hash);
  tcase_add_test(tc, envelope_shortcut_only_for_the_reviewed_envelope);
  tcase_add_test(tc, kept_data_packing);
  tcase_add_test(tc, names_by_length);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
