/* Unit tests for sp_event_attrs_strict: its rules one by one, and against
 * the real schemas/events/envelope.json on thousands of attribute sets.
 * The audit replay skips the envelope's schema for an event whose
 * attributes pass sp_event_check_attrs and sp_event_attrs_strict: that is
 * sound only if the two imply the schema, which the differential case
 * checks; the pinned hash makes a changed envelope.json fail here until
 * the rules were reviewed against it. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "jschema.h"

static sp_jschema_set *schemas;

static void setup(void) {
  const char *src = getenv("SIMPKI_SOURCE_DIR");
  char dir[1024], err[512];
  snprintf(dir, sizeof dir, "%s/schemas", src ? src : ".");
  schemas = sp_jschema_load_dir(dir, err, sizeof err);
  ck_assert_msg(schemas != NULL, "%s", err);
}

static void teardown(void) { sp_jschema_free(schemas); }

/* A valid attribute set, changed by the caller. */
static void base(const char *v[SP_EVENT_NATTRS]) {
  static const char *const ok[SP_EVENT_NATTRS] = {
      [SP_EVENT_A_SPECVERSION] = "1.0",
      [SP_EVENT_A_ID] = "0b7c6f1e-2d3a-4f5b-8c9d-0e1f2a3b4c5d",
      [SP_EVENT_A_SOURCE] = "/simpki/inventory",
      [SP_EVENT_A_TYPE] = "sim.sold",
      [SP_EVENT_A_TIME] = "2026-11-25T17:30:00.123Z",
      [SP_EVENT_A_SUBJECT] = "sim/8984017700000000001",
      [SP_EVENT_A_DATACONTENTTYPE] = "application/json",
      [SP_EVENT_A_PARTITIONKEY] = "sim/8984017700000000001",
      [SP_EVENT_A_CORRELATIONID] = "ORD-2026-000001",
      [SP_EVENT_A_PREVHASH] =
          "0000000000000000000000000000000000000000000000000000000000000000",
      [SP_EVENT_A_HASH] =
          "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"};
  memcpy(v, ok, sizeof ok);
}

/* Attribute a set to value: contract and strict rules both pass. */
static int strict_with(int a, const char *value) {
  const char *v[SP_EVENT_NATTRS];
  base(v);
  v[a] = value;
  long long sv = 1;
  char err[256];
  ck_assert_msg(sp_event_check_attrs(v, &sv, err, sizeof err) == 0,
                "the contract refused %s: %s", value, err);
  return sp_event_attrs_strict(v);
}

START_TEST(rules_one_by_one) {
  const char *v[SP_EVENT_NATTRS];
  base(v);
  ck_assert_int_eq(sp_event_attrs_strict(v), 1);
  /* id: version 4, variant 10xx */
  ck_assert(
      !strict_with(SP_EVENT_A_ID, "0b7c6f1e-2d3a-1f5b-8c9d-0e1f2a3b4c5d"));
  ck_assert(
      !strict_with(SP_EVENT_A_ID, "0b7c6f1e-2d3a-4f5b-cc9d-0e1f2a3b4c5d"));
  ck_assert(
      !strict_with(SP_EVENT_A_ID, "0b7c6f1e-2d3a-4f5b-7c9d-0e1f2a3b4c5d"));
  ck_assert(strict_with(SP_EVENT_A_ID, "0b7c6f1e-2d3a-4f5b-bc9d-0e1f2a3b4c5d"));
  /* source: /simpki/ and a lower-case name */
  ck_assert(strict_with(SP_EVENT_A_SOURCE, "/simpki/hlr-provisioner"));
  ck_assert(strict_with(SP_EVENT_A_SOURCE, "/simpki/9a._-"));
  ck_assert(!strict_with(SP_EVENT_A_SOURCE, "/s"));
  ck_assert(!strict_with(SP_EVENT_A_SOURCE, "/simpki/"));
  ck_assert(!strict_with(SP_EVENT_A_SOURCE, "/simpki/-x"));
  ck_assert(!strict_with(SP_EVENT_A_SOURCE, "/simpki/Inventory"));
  ck_assert(!strict_with(SP_EVENT_A_SOURCE, "/simpki/a/b"));
  ck_assert(!strict_with(SP_EVENT_A_SOURCE, "/Simpki/a"));
  /* type: two or more words joined by dots */
  ck_assert(strict_with(SP_EVENT_A_TYPE, "a.b_c.d9"));
  ck_assert(!strict_with(SP_EVENT_A_TYPE, "sim"));
  ck_assert(!strict_with(SP_EVENT_A_TYPE, ".sim.sold"));
  ck_assert(!strict_with(SP_EVENT_A_TYPE, "sim.sold."));
  ck_assert(!strict_with(SP_EVENT_A_TYPE, "sim..sold"));
  /* time: UTC with milliseconds, fields in range */
  ck_assert(strict_with(SP_EVENT_A_TIME, "2026-12-31T23:59:60.999Z"));
  ck_assert(strict_with(SP_EVENT_A_TIME, "0000-01-01T00:00:00.000Z"));
  const char *bad_times[] = {
      "2026-11-26T00:30:00.123+07:00", "2026-11-25T17:30:00Z",
      "2026-11-25T17:30:00.1234Z",     "2026-11-25T17:30:00.12Z",
      "2026-00-25T17:30:00.123Z",      "2026-13-25T17:30:00.123Z",
      "2026-11-00T17:30:00.123Z",      "2026-11-32T17:30:00.123Z",
      "2026-11-25T24:30:00.123Z",      "2026-11-25T17:60:00.123Z",
      "2026-11-25T17:30:61.123Z"};
  for (size_t i = 0; i < sizeof bad_times / sizeof *bad_times; i++)
    ck_assert_msg(!strict_with(SP_EVENT_A_TIME, bad_times[i]), "%s",
                  bad_times[i]);
}
END_TEST

/* The canonical form's SHA-256 of the loaded envelope.json. */
static void envelope_hash(char out[SP_EVENT_HASH_HEX + 1]) {
  const json_t *env =
      sp_jschema_json(sp_jschema_get(schemas, SP_EVENT_ENVELOPE_ID));
  ck_assert_ptr_nonnull(env);
  char *canon = json_dumps(env, JSON_COMPACT | JSON_SORT_KEYS);
  ck_assert_ptr_nonnull(canon);
  sp_sha256_hex(canon, strlen(canon), out);
  free(canon);
}

START_TEST(envelope_is_the_reviewed_one) {
  char h[SP_EVENT_HASH_HEX + 1];
  envelope_hash(h);
  ck_assert_msg(!strcmp(h, SP_EVENT_ENVELOPE_SHA256),
                "schemas/events/envelope.json changed: review "
                "sp_event_attrs_strict (common/event.c) against it, then set "
                "SP_EVENT_ENVELOPE_SHA256 to %s",
                h);
}
END_TEST

/* A small deterministic generator (xorshift64*). */
static uint64_t rng = 0x9e3779b97f4a7c15u;
static unsigned next(unsigned n) {
  rng ^= rng >> 12;
  rng ^= rng << 25;
  rng ^= rng >> 27;
  return (unsigned)((rng * 0x2545f4914f6cdd1du) >> 33) % n;
}

/* s mutated: a character changed, dropped or added, from alphabet (or,
 * now and then, a two-byte UTF-8 character). */
static void mutate(char *s, size_t cap, const char *alphabet) {
  size_t n = strlen(s), na = strlen(alphabet);
  int edits = 1 + (int)next(3);
  for (int e = 0; e < edits; e++) {
    size_t at = n ? next((unsigned)n + 1) : 0;
    switch (next(4)) {
    case 0: /* change */
      if (at < n)
        s[at] = alphabet[next((unsigned)na)];
      break;
    case 1: /* drop */
      if (at < n) {
        memmove(s + at, s + at + 1, n - at);
        n--;
      }
      break;
    case 2: /* add */
      if (n + 2 < cap) {
        memmove(s + at + 1, s + at, n - at + 1);
        s[at] = alphabet[next((unsigned)na)];
        n++;
      }
      break;
    default: /* a non-ASCII character: two bytes, one character */
      if (n + 3 < cap && at < n) {
        memmove(s + at + 2, s + at, n - at + 1);
        s[at] = (char)0xc3;
        s[at + 1] = (char)0xa9; /* e acute */
        n += 2;
      }
    }
  }
}

static int ascii(const char *s) {
  for (; *s; s++)
    if ((unsigned char)*s > 127)
      return 0;
  return 1;
}

/* Contract and strict rules against envelope.json, on attribute sets made
 * by mutating one or two attributes of a valid one: wherever both pass,
 * the schema passes; on ASCII values the verdicts are equal (the strict
 * rules refuse nothing the schema takes). */
START_TEST(differential_against_the_schema) {
  static const char *const alphabet[SP_EVENT_NATTRS] = {
      [SP_EVENT_A_SPECVERSION] = "1.0",
      [SP_EVENT_A_ID] = "0123456789abcdefABC-4 ",
      [SP_EVENT_A_SOURCE] = "/simpkiabz09._-AZ ",
      [SP_EVENT_A_TYPE] = "abz09_.-A ",
      [SP_EVENT_A_TIME] = "0123456789-:TZ.+z ",
      [SP_EVENT_A_SUBJECT] = "sim/89aZ-. ",
      [SP_EVENT_A_DATACONTENTTYPE] = "application/json",
      [SP_EVENT_A_PARTITIONKEY] = "sim/89aZ-. ",
      [SP_EVENT_A_CORRELATIONID] = "ORD-2026x ",
      [SP_EVENT_A_PREVHASH] = "0123456789abcdefABg",
      [SP_EVENT_A_HASH] = "0123456789abcdefABg"};
  long agreed_valid = 0, agreed_invalid = 0, contract_only = 0;
  for (int round = 0; round < 20000; round++) {
    const char *v0[SP_EVENT_NATTRS];
    base(v0);
    static char buf[SP_EVENT_NATTRS][300];
    const char *v[SP_EVENT_NATTRS];
    for (int a = 0; a < SP_EVENT_NATTRS; a++) {
      snprintf(buf[a], sizeof buf[a], "%s", v0[a]);
      v[a] = buf[a];
    }
    int changes = 1 + (int)next(2);
    for (int k = 0; k < changes; k++) {
      int a = (int)next(SP_EVENT_NATTRS);
      if (next(8) == 0) { /* lengths at the envelope's bounds */
        size_t len = 120 + next(140);
        memset(buf[a], 'x', len);
        buf[a][len] = '\0';
        if (a == SP_EVENT_A_SOURCE)
          memcpy(buf[a], "/simpki/", 8);
      } else {
        mutate(buf[a], sizeof buf[a], alphabet[a]);
      }
    }
    long long sv = 1;
    char err[256];
    int contract = sp_event_check_attrs(v, &sv, err, sizeof err) == 0;
    int strict = contract && sp_event_attrs_strict(v);
    /* A mutation may have cut a UTF-8 character: no JSON text reads so
     * (jansson and jdoc refuse it), so no event. */
    json_t *o = json_object(), *val;
    int utf8 = 1;
    for (int a = 0; a < SP_EVENT_NATTRS && utf8; a++)
      if ((utf8 = (val = json_string(v[a])) != NULL))
        json_object_set_new(o, sp_event_attr_names[a], val);
    if (!utf8) {
      json_decref(o);
      continue;
    }
    json_object_set_new(o, "schemaversion", json_integer(1));
    json_object_set_new(o, "data", json_object());
    int schema = sp_jschema_validate(schemas, SP_EVENT_ENVELOPE_ID, o, err,
                                     sizeof err) == 0;
    int all_ascii = 1;
    for (int a = 0; a < SP_EVENT_NATTRS; a++)
      all_ascii &= ascii(v[a]);
    char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    ck_assert_msg(!strict || schema,
                  "the strict rules took what envelope.json refuses (%s): %s",
                  err, text);
    ck_assert_msg(!all_ascii || strict == schema,
                  "envelope.json took what the strict rules refuse: %s", text);
    free(text);
    json_decref(o);
    agreed_valid += strict && schema;
    agreed_invalid += !strict && !schema;
    contract_only += contract && !strict;
  }
  /* Both outcomes, and the strict rules' own refusals, many times. */
  ck_assert_int_gt(agreed_valid, 1000);
  ck_assert_int_gt(agreed_invalid, 5000);
  ck_assert_int_gt(contract_only, 1000);
}
END_TEST

int main(void) {
  Suite *s = suite_create("event_envelope");
  TCase *tc = tcase_create("core");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, rules_one_by_one);
  tcase_add_test(tc, envelope_is_the_reviewed_one);
  tcase_add_test(tc, differential_against_the_schema);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
