/* Unit tests for common/jschema: each keyword valid and invalid with the
 * error's path, $ref within and across files, refusals at load time
 * (unknown keywords, untranslatable patterns, dangling refs), and the real
 * schemas/events and schemas/documents folders. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jschema.h"

static char err[1024];
static char tmpdir[256];

/* A fresh folder per test, removed by teardown. */
static void setup(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/test_jschema.XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void) {
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  ck_assert_int_eq(system(cmd), 0);
}

/* Write text to tmpdir/rel, creating one level of folder if rel has one. */
static void put(const char *rel, const char *text) {
  char path[512];
  const char *slash = strchr(rel, '/');
  if (slash) {
    snprintf(path, sizeof path, "%s/%.*s", tmpdir, (int)(slash - rel), rel);
    ck_assert(mkdir(path, 0755) == 0 || errno == EEXIST);
  }
  snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  fclose(f);
}

static sp_jschema_set *load_ok(void) {
  sp_jschema_set *s = sp_jschema_load_dir(tmpdir, err, sizeof err);
  ck_assert_msg(s != NULL, "load refused: %s", err);
  return s;
}

/* One schema file t.json; must load. */
static sp_jschema_set *one(const char *schema) {
  put("t.json", schema);
  return load_ok();
}

/* The load must fail with a message containing each of want and want2. */
static void load_fails(const char *want, const char *want2) {
  err[0] = '\0';
  sp_jschema_set *s = sp_jschema_load_dir(tmpdir, err, sizeof err);
  ck_assert_msg(s == NULL, "loaded, expected a refusal with \"%s\"", want);
  ck_assert_msg(strstr(err, want) != NULL, "got \"%s\", want \"%s\"", err,
                want);
  ck_assert_msg(!want2 || strstr(err, want2) != NULL, "got \"%s\", want \"%s\"",
                err, want2);
}

static json_t *parse(const char *text) {
  json_error_t je;
  json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
  ck_assert_msg(j != NULL, "bad test JSON %s: %s", text, je.text);
  return j;
}

/* ---- the same instances as sp_jflat (sp_jschema_valid_flat) ----
 * Every valid() and invalid() below also asks the flat check when the
 * instance can be one (objects of scalars, printable ASCII, integers): it
 * must never call an invalid instance valid, and the tests count how many
 * valid ones it decided. */

#define FLAT_POOL 256
static sp_jflat flat_pool[FLAT_POOL];
static size_t flat_used;
static long n_flat_valid, n_flat_undecided;

static int printable(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] < 0x20 || s[i] > 0x7E)
      return 0;
  return 1;
}

static int by_key(const void *a, const void *b) {
  return strcmp(((const sp_jflat *)a)->key, ((const sp_jflat *)b)->key);
}

/* j as sp_jflat in x; 0, or -1 when j cannot be one. */
static int to_flat(const json_t *j, sp_jflat *x) {
  switch (json_typeof(j)) {
  case JSON_NULL:
    x->type = SP_JV_NULL;
    return 0;
  case JSON_TRUE:
    x->type = SP_JV_TRUE;
    return 0;
  case JSON_FALSE:
    x->type = SP_JV_FALSE;
    return 0;
  case JSON_INTEGER:
    x->type = SP_JV_INT;
    x->i = json_integer_value(j);
    return 0;
  case JSON_STRING:
    x->type = SP_JV_STR;
    x->str = json_string_value(j);
    x->slen = (uint32_t)json_string_length(j);
    return printable(x->str, x->slen) ? 0 : -1;
  case JSON_OBJECT: {
    size_t n = json_object_size(j);
    if (flat_used + n > FLAT_POOL)
      return -1;
    sp_jflat *m = &flat_pool[flat_used];
    flat_used += n;
    const char *k;
    json_t *v;
    size_t i = 0;
    json_object_foreach((json_t *)j, k, v) {
      memset(&m[i], 0, sizeof m[i]);
      m[i].key = k;
      m[i].klen = (uint32_t)strlen(k);
      if (!printable(k, m[i].klen) || to_flat(v, &m[i]))
        return -1;
      i++;
    }
    qsort(m, n, sizeof *m, by_key);
    x->type = SP_JV_OBJ;
    x->members = m;
    x->count = (uint32_t)n;
    return 0;
  }
  default:
    return -1; /* arrays, reals */
  }
}

/* sp_jschema_valid_flat on j given (NULL: none); -2 when j cannot be flat. */
static int flat_rc(const sp_jschema_set *s, const char *name, const char *given,
                   const json_t *j) {
  sp_jflat x;
  memset(&x, 0, sizeof x);
  flat_used = 0;
  if (to_flat(j, &x))
    return -2;
  const sp_jschema *g = given ? sp_jschema_get(s, given) : NULL;
  ck_assert_msg(!given || g, "no schema %s", given);
  return sp_jschema_valid_flat(s, name, g, &x);
}

/* The flat check of an instance the tree check found rc (0 valid). */
static void flat_agrees(const sp_jschema_set *s, const char *name,
                        const char *given, const json_t *j, int rc,
                        const char *inst) {
  int f = flat_rc(s, name, given, j);
  if (f == -2)
    return;
  ck_assert_msg(rc == 0 || f != 0, "flat check: %s valid by %s", inst, name);
  ck_assert_msg(rc >= 0 || f == -1, "flat check: a schema for %s", name);
  n_flat_valid += rc == 0 && f == 0;
  n_flat_undecided += rc == 0 && f != 0;
}

static void valid(const sp_jschema_set *s, const char *name, const char *inst) {
  json_t *j = parse(inst);
  int rc = sp_jschema_validate(s, name, j, err, sizeof err);
  flat_agrees(s, name, NULL, j, rc, inst);
  json_decref(j);
  ck_assert_msg(rc == 0, "%s refused by %s: %s", inst, name, err);
}

/* Invalid with exactly the message want ("path: reason"). */
static void invalid(const sp_jschema_set *s, const char *name,
                    const char *inst, const char *want) {
  json_t *j = parse(inst);
  err[0] = '\0';
  int rc = sp_jschema_validate(s, name, j, err, sizeof err);
  flat_agrees(s, name, NULL, j, rc, inst);
  json_decref(j);
  ck_assert_msg(rc == 1, "%s accepted by %s", inst, name);
  ck_assert_msg(strcmp(err, want) == 0, "%s: got \"%s\", want \"%s\"", inst,
                err, want);
}

/* Invalid with a message starting with want. */
static void invalid_prefix(const sp_jschema_set *s, const char *name,
                           const char *inst, const char *want) {
  json_t *j = parse(inst);
  err[0] = '\0';
  int rc = sp_jschema_validate(s, name, j, err, sizeof err);
  flat_agrees(s, name, NULL, j, rc, inst);
  json_decref(j);
  ck_assert_msg(rc == 1, "%s accepted by %s", inst, name);
  ck_assert_msg(strncmp(err, want, strlen(want)) == 0,
                "%s: got \"%s\", want \"%s...\"", inst, err, want);
}

START_TEST(type_keyword) {
  sp_jschema_set *s = one(
      "{\"$schema\": \"https://json-schema.org/draft/2020-12/schema\","
      " \"properties\": {\"s\": {\"type\": \"string\"},"
      " \"i\": {\"type\": \"integer\"}, \"n\": {\"type\": \"number\"},"
      " \"b\": {\"type\": \"boolean\"}, \"z\": {\"type\": \"null\"},"
      " \"o\": {\"type\": \"object\"}, \"a\": {\"type\": \"array\"},"
      " \"sn\": {\"type\": [\"string\", \"null\"]}}}");
  valid(s, "t", "{\"s\": \"x\", \"i\": 3, \"n\": 1.5, \"b\": false,"
                " \"z\": null, \"o\": {}, \"a\": [], \"sn\": null}");
  valid(s, "t", "{\"i\": 3.0, \"n\": 2, \"sn\": \"x\"}"); /* 3.0 is integral */
  invalid(s, "t", "{\"s\": 1}", "/s: 1 is not of type string");
  invalid(s, "t", "{\"i\": 1.5}", "/i: 1.5 is not of type integer");
  invalid(s, "t", "{\"i\": true}", "/i: true is not of type integer");
  invalid(s, "t", "{\"n\": \"1\"}", "/n: \"1\" is not of type number");
  invalid(s, "t", "{\"b\": 0}", "/b: 0 is not of type boolean");
  invalid(s, "t", "{\"z\": false}", "/z: false is not of type null");
  invalid(s, "t", "{\"o\": []}", "/o: [] is not of type object");
  invalid(s, "t", "{\"a\": {}}", "/a: {} is not of type array");
  invalid(s, "t", "{\"sn\": 1}", "/sn: 1 is not of type null or string");
  sp_jschema_free(s);
  s = one("{\"type\": \"object\"}");
  invalid(s, "t", "[1]", "(root): [1] is not of type object");
  sp_jschema_free(s);
}
END_TEST

START_TEST(const_and_enum) {
  sp_jschema_set *s = one(
      "{\"properties\": {\"c\": {\"const\": 1}, \"t\": {\"const\": true},"
      " \"o\": {\"const\": {\"a\": [1, \"x\"]}},"
      " \"e\": {\"enum\": [null, \"DER\", 2]}}}");
  valid(s, "t", "{\"c\": 1, \"t\": true, \"o\": {\"a\": [1.0, \"x\"]}}");
  valid(s, "t", "{\"c\": 1.0, \"e\": null}"); /* numbers by value */
  valid(s, "t", "{\"e\": \"DER\"}");
  valid(s, "t", "{\"e\": 2.0}");
  invalid(s, "t", "{\"c\": 2}", "/c: 2 is not the constant 1");
  invalid(s, "t", "{\"c\": true}", "/c: true is not the constant 1");
  invalid(s, "t", "{\"t\": 1}", "/t: 1 is not the constant true");
  invalid(s, "t", "{\"o\": {\"a\": [1]}}",
          "/o: {\"a\":[1]} is not the constant {\"a\":[1,\"x\"]}");
  invalid(s, "t", "{\"e\": \"PEM\"}", "/e: \"PEM\" is not one of the enum values");
  invalid(s, "t", "{\"e\": false}", "/e: false is not one of the enum values");
  sp_jschema_free(s);
}
END_TEST

START_TEST(pattern_keyword) {
  sp_jschema_set *s = one(
      "{\"properties\": {"
      " \"msisdn\": {\"pattern\": \"^84[0-9]{9}$\"},"
      " \"d\": {\"pattern\": \"^\\\\d{3}-\\\\w+$\"},"
      " \"g\": {\"pattern\": \"^(?:ab|cd)+\\\\.x\\\\/y$\"},"
      " \"opt\": {\"pattern\": \"^([0-9a-f]{4})?$\"},"
      " \"cls\": {\"pattern\": \"^[\\\\]^\\\\-]{2,3}$\"},"
      " \"two\": {\"pattern\": \"^[-^]$\"},"
      " \"at\": {\"pattern\": \"@\"}}}");
  valid(s, "t", "{\"msisdn\": \"84901234567\", \"d\": \"123-a_Z9\","
                " \"g\": \"abcdab.x/y\", \"opt\": \"\", \"cls\": \"]^-\","
                " \"two\": \"^\", \"at\": \"a@b\"}");
  valid(s, "t", "{\"opt\": \"beef\", \"two\": \"-\"}");
  valid(s, "t", "{\"msisdn\": 5}"); /* pattern only judges strings */
  invalid(s, "t", "{\"msisdn\": \"0901234567\"}",
          "/msisdn: \"0901234567\" does not match pattern ^84[0-9]{9}$");
  invalid(s, "t", "{\"msisdn\": \"849012345678\"}",
          "/msisdn: \"849012345678\" does not match pattern ^84[0-9]{9}$");
  invalid_prefix(s, "t", "{\"d\": \"12-a\"}", "/d: \"12-a\" does not match");
  invalid_prefix(s, "t", "{\"g\": \"abXx/y\"}", "/g: ");
  invalid_prefix(s, "t", "{\"opt\": \"bee\"}", "/opt: ");
  invalid_prefix(s, "t", "{\"cls\": \"]a\"}", "/cls: ");
  invalid_prefix(s, "t", "{\"two\": \"a\"}", "/two: ");
  invalid_prefix(s, "t", "{\"at\": \"ab\"}", "/at: ");
  /* $ is the end of the string, as in ECMA-262, even before a newline. */
  invalid_prefix(s, "t", "{\"msisdn\": \"84901234567\\n\"}", "/msisdn: ");
  /* The whole string is searched, past an embedded NUL. */
  valid(s, "t", "{\"at\": \"a\\u0000@\"}");
  sp_jschema_free(s);
}
END_TEST

START_TEST(lengths) {
  sp_jschema_set *s = one(
      "{\"properties\": {\"s\": {\"minLength\": 2, \"maxLength\": 3}}}");
  valid(s, "t", "{\"s\": \"ab\"}");
  valid(s, "t", "{\"s\": \"\xc4\x83\xc3\xa9\xe1\xbb\x87\"}"); /* 3 characters */
  valid(s, "t", "{\"s\": 12345}");
  invalid(s, "t", "{\"s\": \"a\"}", "/s: \"a\" is shorter than minLength 2");
  invalid(s, "t", "{\"s\": \"abcd\"}", "/s: \"abcd\" is longer than maxLength 3");
  invalid(s, "t", "{\"s\": \"\xc4\x83\xc3\xa9\xe1\xbb\x87\xc3\xa9\"}",
          "/s: \"\xc4\x83\xc3\xa9\xe1\xbb\x87\xc3\xa9\" is longer than maxLength 3");
  /* Enough bytes, too few characters; and the widest characters. */
  invalid(s, "t", "{\"s\": \"\xe1\xbb\x87\"}",
          "/s: \"\xe1\xbb\x87\" is shorter than minLength 2");
  invalid(s, "t", "{\"s\": \"\xf0\x9d\x84\x9e\"}",
          "/s: \"\xf0\x9d\x84\x9e\" is shorter than minLength 2");
  valid(s, "t", "{\"s\": \"\xf0\x9d\x84\x9e\xf0\x9d\x84\x9e\"}");
  valid(s, "t", "{\"s\": \"\xf0\x9d\x84\x9e" "a\xf0\x9d\x84\x9e\"}");
  invalid(s, "t",
          "{\"s\": \"\xf0\x9d\x84\x9e" "ab\xf0\x9d\x84\x9e\"}",
          "/s: \"\xf0\x9d\x84\x9e" "ab\xf0\x9d\x84\x9e\" is longer than "
          "maxLength 3");
  sp_jschema_free(s);
}
END_TEST

START_TEST(numbers) {
  sp_jschema_set *s = one(
      "{\"properties\": {\"data\": {\"properties\": {"
      " \"sims\": {\"type\": \"integer\", \"minimum\": 0, \"maximum\": 10},"
      " \"x\": {\"exclusiveMinimum\": 0, \"exclusiveMaximum\": 1.5}}}}}");
  valid(s, "t", "{\"data\": {\"sims\": 0, \"x\": 0.1}}");
  valid(s, "t", "{\"data\": {\"sims\": 10.0, \"x\": 1}}");
  invalid(s, "t", "{\"data\": {\"sims\": -1}}",
          "/data/sims: -1 is less than minimum 0");
  invalid(s, "t", "{\"data\": {\"sims\": 11}}",
          "/data/sims: 11 is greater than maximum 10");
  invalid(s, "t", "{\"data\": {\"x\": 0}}",
          "/data/x: 0 is not greater than exclusiveMinimum 0");
  invalid(s, "t", "{\"data\": {\"x\": 1.5}}",
          "/data/x: 1.5 is not less than exclusiveMaximum 1.5");
  sp_jschema_free(s);
}
END_TEST

START_TEST(objects) {
  sp_jschema_set *s = one(
      "{\"type\": \"object\", \"required\": [\"a\", \"b\"],"
      " \"additionalProperties\": false,"
      " \"properties\": {\"a\": true, \"b\": {\"type\": \"object\","
      "  \"additionalProperties\": {\"type\": \"integer\"},"
      "  \"properties\": {\"name\": {\"type\": \"string\"}}},"
      " \"never\": false, \"a/b~c\": {\"type\": \"string\"}}}");
  valid(s, "t", "{\"a\": [1], \"b\": {\"name\": \"n\", \"k\": 4}}");
  invalid(s, "t", "{\"a\": 1}", "(root): required property \"b\" is missing");
  invalid(s, "t", "{\"a\": 1, \"b\": {}, \"c\": 1}",
          "(root): property \"c\" is not allowed (additionalProperties)");
  invalid(s, "t", "{\"a\": 1, \"b\": {\"k\": \"v\"}}",
          "/b/k: \"v\" is not of type integer");
  invalid(s, "t", "{\"a\": 1, \"b\": {}, \"never\": 1}",
          "/never: no value is allowed here (false schema)");
  invalid(s, "t", "{\"a\": 1, \"b\": {}, \"a/b~c\": 1}",
          "/a~1b~0c: 1 is not of type string"); /* RFC 6901 escapes */
  sp_jschema_free(s);
}
END_TEST

START_TEST(arrays) {
  sp_jschema_set *s = one(
      "{\"properties\": {\"list\": {\"type\": \"array\", \"minItems\": 1,"
      " \"maxItems\": 3, \"items\": {\"type\": \"object\","
      " \"required\": [\"id\"]}}}}");
  valid(s, "t", "{\"list\": [{\"id\": 1}, {\"id\": 2}]}");
  invalid(s, "t", "{\"list\": []}",
          "/list: array of 0 items has fewer than minItems 1");
  invalid(s, "t", "{\"list\": [{\"id\": 1}, {\"id\": 1}, {\"id\": 1}, {\"id\": 1}]}",
          "/list: array of 4 items has more than maxItems 3");
  invalid(s, "t", "{\"list\": [{\"id\": 1}, {\"x\": 1}]}",
          "/list/1: required property \"id\" is missing");
  sp_jschema_free(s);
}
END_TEST

START_TEST(combinators) {
  sp_jschema_set *s = one(
      "{\"properties\": {"
      " \"all\": {\"allOf\": [{\"type\": \"integer\"}, {\"minimum\": 2}]},"
      " \"any\": {\"anyOf\": [{\"type\": \"string\"}, {\"minimum\": 2}]},"
      " \"one\": {\"oneOf\": [{\"type\": \"null\"}, {\"type\": \"integer\"},"
      "  {\"type\": \"number\", \"minimum\": 5}]},"
      " \"no\": {\"not\": {\"type\": \"string\"}}}}");
  valid(s, "t", "{\"all\": 2, \"any\": \"x\", \"one\": null, \"no\": 1}");
  valid(s, "t", "{\"any\": 3, \"one\": 4}");
  valid(s, "t", "{\"one\": 5.5}");
  invalid(s, "t", "{\"all\": 1}", "/all: 1 is less than minimum 2");
  invalid(s, "t", "{\"all\": 2.5}", "/all: 2.5 is not of type integer");
  invalid(s, "t", "{\"any\": 1}",
          "/any: matches none of the anyOf schemas: [0] /any: 1 is not of "
          "type string; [1] /any: 1 is less than minimum 2");
  invalid_prefix(s, "t", "{\"one\": 1.5}",
                 "/one: matches none of the oneOf schemas: [0] /one: 1.5 is "
                 "not of type null; [1]");
  invalid(s, "t", "{\"one\": 6}",
          "/one: matches oneOf schemas 1 and 2, exactly one is required");
  invalid(s, "t", "{\"no\": \"x\"}", "/no: matches the schema in \"not\"");
  sp_jschema_free(s);
}
END_TEST

/* The layout of schemas/events: a type schema in a folder $refs the
 * envelope at the top by $id, and its own $defs. */
START_TEST(refs_across_files) {
  put("envelope.json",
      "{\"$schema\": \"https://json-schema.org/draft/2020-12/schema\","
      " \"$id\": \"https://x.invalid/ev/envelope.json\", \"type\": \"object\","
      " \"required\": [\"type\", \"data\"], \"properties\": {"
      " \"type\": {\"type\": \"string\"}, \"data\": {\"type\": \"object\"}}}");
  put("orders/a.b.json",
      "{\"$id\": \"https://x.invalid/ev/orders/a.b.json\","
      " \"$ref\": \"https://x.invalid/ev/envelope.json\","
      " \"properties\": {\"type\": {\"const\": \"a.b\"},"
      " \"data\": {\"properties\": {\"t\": {\"$ref\": \"#/$defs/time\"}}}},"
      " \"$defs\": {\"time\": {\"type\": \"string\", \"minLength\": 2}}}");
  put("orders/c.d.json", /* relative to its $id */
      "{\"$id\": \"https://x.invalid/ev/orders/c.d.json\","
      " \"$ref\": \"../envelope.json\"}");
  put("orders/e.f.json", /* relative to the file, with a fragment */
      "{\"allOf\": [{\"$ref\": \"../envelope.json\"},"
      " {\"$ref\": \"a.b.json#/$defs/time\"}]}");
  put("local/envelope2.json", "{\"type\": \"integer\"}");
  put("local/g.h.json", "{\"$ref\": \"envelope2.json\"}");
  sp_jschema_set *s = load_ok();
  ck_assert_uint_eq(sp_jschema_count(s), 6);
  valid(s, "a.b", "{\"type\": \"a.b\", \"data\": {\"t\": \"xy\"}}");
  invalid(s, "a.b", "{\"type\": \"a.b\"}",
          "(root): required property \"data\" is missing");
  invalid(s, "a.b", "{\"type\": \"a.c\", \"data\": {}}",
          "/type: \"a.c\" is not the constant \"a.b\"");
  invalid(s, "a.b", "{\"type\": \"a.b\", \"data\": {\"t\": \"x\"}}",
          "/data/t: \"x\" is shorter than minLength 2");
  /* by $id too */
  valid(s, "https://x.invalid/ev/orders/a.b.json",
        "{\"type\": \"a.b\", \"data\": {}}");
  invalid(s, "c.d", "{\"type\": 1, \"data\": {}}",
          "/type: 1 is not of type string");
  invalid(s, "e.f", "{\"type\": \"e\", \"data\": {}}",
          "(root): {\"type\":\"e\",\"data\":{}} is not of type string");
  invalid(s, "g.h", "\"1\"", "(root): \"1\" is not of type integer");
  valid(s, "g.h", "1");
  json_t *j = parse("{}");
  ck_assert_int_eq(sp_jschema_validate(s, "no.such", j, err, sizeof err), -1);
  ck_assert_str_eq(err, "no schema named \"no.such\"");
  json_decref(j);
  sp_jschema_free(s);
}
END_TEST

/* validate_jv_given on a jdoc tree of text (compact: jdoc reads only
 * that): rc, and the message in err. */
static int given_rc(const sp_jschema_set *s, const char *name,
                    const char *given, const char *inst) {
  sp_jdoc d;
  sp_jdoc_init(&d);
  ck_assert_int_eq(sp_jdoc_parse(&d, inst, strlen(inst)), 0);
  err[0] = '\0';
  const sp_jschema *g = given ? sp_jschema_get(s, given) : NULL;
  ck_assert_msg(!given || g, "no schema %s", given);
  int rc = sp_jschema_validate_jv_given(s, name, g, &d, sp_jdoc_root(&d), err,
                                        sizeof err);
  sp_jdoc_free(&d);
  json_t *j = parse(inst);
  flat_agrees(s, name, given, j, rc, inst);
  json_decref(j);
  return rc;
}

START_TEST(ref_to_given_schema_not_followed) {
  put("envelope.json",
      "{\"$id\": \"https://x.invalid/ev/envelope.json\", \"type\": \"object\","
      " \"required\": [\"type\"], \"properties\": {"
      " \"type\": {\"type\": \"string\", \"maxLength\": 3}}}");
  put("a.b.json", "{\"$ref\": \"envelope.json\", \"properties\": {"
                  " \"data\": {\"type\": \"object\"},"
                  " \"nested\": {\"$ref\": \"envelope.json#/properties/type\"},"
                  " \"inner\": {\"$ref\": \"envelope.json\"}}}");
  sp_jschema_set *s = load_ok();
  const char *env_breaker = "{\"data\":{},\"type\":\"long one\"}";
  /* Without a given schema: the envelope's words. */
  ck_assert_int_eq(given_rc(s, "a.b", NULL, env_breaker), 1);
  ck_assert_str_eq(err, "/type: \"long one\" is longer than maxLength 3");
  /* With it (by $id or by name): only the type schema's own keywords. */
  ck_assert_int_eq(
      given_rc(s, "a.b", "https://x.invalid/ev/envelope.json", env_breaker), 0);
  ck_assert_int_eq(given_rc(s, "a.b", "envelope", env_breaker), 0);
  ck_assert_int_eq(
      given_rc(s, "a.b", "envelope", "{\"data\":1,\"type\":\"abc\"}"), 1);
  ck_assert_str_eq(err, "/data: 1 is not of type object");
  /* A $ref into the given file, not to its root, is still followed. */
  ck_assert_int_eq(
      given_rc(s, "a.b", "envelope", "{\"nested\":\"abcd\",\"type\":\"abc\"}"),
      1);
  ck_assert_str_eq(err, "/nested: \"abcd\" is longer than maxLength 3");
  /* The caller vouches for the instance only: the same $ref applied to
   * a value inside it is followed. */
  ck_assert_int_eq(
      given_rc(s, "a.b", "envelope",
               "{\"inner\":{\"type\":\"long one\"},\"type\":\"abc\"}"),
      1);
  ck_assert_str_eq(err, "/inner/type: \"long one\" is longer than maxLength 3");
  /* An unknown type is an error, not a pass. */
  ck_assert_int_eq(given_rc(s, "no.such", "envelope", env_breaker), -1);
  ck_assert_str_eq(err, "no schema named \"no.such\"");
  /* A schema by name or $id, and its JSON as loaded; NULL for none. */
  const sp_jschema *env =
      sp_jschema_get(s, "https://x.invalid/ev/envelope.json");
  ck_assert_ptr_nonnull(env);
  ck_assert_ptr_eq(env, sp_jschema_get(s, "envelope"));
  ck_assert_ptr_null(sp_jschema_get(s, "no.such"));
  const json_t *j = sp_jschema_json(env);
  ck_assert_str_eq(json_string_value(json_object_get(j, "type")), "object");
  ck_assert_ptr_null(sp_jschema_json(NULL));
  sp_jschema_free(s);
}
END_TEST

START_TEST(ref_cycle_stops) {
  sp_jschema_set *s = one("{\"$ref\": \"#\"}");
  invalid_prefix(s, "t", "1", "(root): schema nested too deep");
  sp_jschema_free(s);
}
END_TEST

START_TEST(unknown_keyword_refused) {
  put("t.json", "{\"properties\": {\"a\": {\"type\": \"array\","
                " \"uniqueItems\": true}}}");
  load_fails("t.json: at /properties/a/uniqueItems: unknown keyword "
             "\"uniqueItems\"", NULL);
  teardown();
  setup();
  put("t.json", "{\"definitions\": {}}");
  load_fails("unknown keyword \"definitions\"", NULL);
  teardown();
  setup();
  put("t.json", "{\"patternProperties\": {}}");
  load_fails("unknown keyword \"patternProperties\"", NULL);
}
END_TEST

START_TEST(bad_patterns_refused) {
  static const struct {
    const char *pattern, *why;
  } bad[] = {
      {"^a.b$", "'.' is not supported"},
      {"^[^@]+$", "a negated class"},
      {"^(?=a)", "group construct (?="},
      {"^a+?$", "a lazy quantifier"},
      {"^\\\\s$", "\\s is not supported"},
      {"^\\\\D$", "\\D is not supported"},
      {"^(a)\\\\1$", "back-reference \\1"},
      {"^\\\\bx", "escape \\b is not supported"},
      {"^a{2$", "a '{' that is not a quantifier"},
      {"^a**$", "nothing to repeat"},
      {"*a", "nothing to repeat"},
      {"^(a$", "an unmatched '('"},
      {"^a)$", "an unmatched ')'"},
      {"^[ab$", "a class without its closing ']'"},
      {"^[z-a]$", "out of order"},
      {"^[]$", "an empty class"},
      {"^a]$", "an unescaped ']'"},
      {"^\xc4\x83$", "a non-ASCII character"},
      {"^a{5,2}$", "quantifier bounds"},
      {"^a{2000}$", "quantifier bounds"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    char schema[256];
    snprintf(schema, sizeof schema,
             "{\"properties\": {\"p\": {\"pattern\": \"%s\"}}}", bad[i].pattern);
    put("t.json", schema);
    load_fails("t.json: at /properties/p/pattern: pattern", bad[i].why);
  }
}
END_TEST

START_TEST(bad_schemas_refused) {
  static const struct {
    const char *schema, *why;
  } bad[] = {
      {"{\"$schema\": \"http://json-schema.org/draft-07/schema#\"}",
       "at /$schema: $schema must be https://json-schema.org/draft/2020-12/schema"},
      {"{\"properties\": {\"a\": {\"$id\": \"x\"}}}",
       "at /properties/a/$id: $id is only supported at the root"},
      {"{\"type\": \"text\"}", "at /type: unknown type \"text\""},
      {"{\"type\": [\"string\", \"string\"]}", "type[1] is not a type name"},
      {"{\"minLength\": -1}", "at /minLength: must be a non-negative integer"},
      {"{\"maxItems\": 1.5}", "at /maxItems: must be a non-negative integer"},
      {"{\"minimum\": \"0\"}", "at /minimum: must be a number"},
      {"{\"required\": [\"a\", 1]}", "required[1] is not a string"},
      {"{\"oneOf\": []}", "at /oneOf: must be a non-empty array of schemas"},
      {"{\"properties\": {\"a\": 1}}",
       "at /properties/a: a schema must be an object or a boolean"},
      {"{\"items\": {\"minimum\": 0, \"maximum\": \"9\"}}",
       "at /items/maximum: must be a number"},
      {"{\"anyOf\": [{}, {\"foo\": 1}]}", "at /anyOf/1/foo: unknown keyword"},
      {"{\"$ref\": \"#/$defs/nope\"}",
       "at /$ref: $ref \"#/$defs/nope\" does not resolve"},
      {"{\"$ref\": \"other.json\"}", "$ref \"other.json\" does not resolve"},
      {"{\"$ref\": \"#anchor\"}", "only JSON-pointer fragments"},
      {"{\"$ref\": \"../../up.json\"}", "does not resolve"},
      {"{\"a\": 1, \"a\": 2}", "not JSON"},
      {"[1]", "a schema file must hold a JSON object"},
      {"{\"type\": ", "not JSON"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    put("t.json", bad[i].schema);
    load_fails("t.json", bad[i].why);
  }
}
END_TEST

START_TEST(folder_problems_refused) {
  load_fails(": no *.json schema found", NULL);
  put("a/x.json", "{}");
  put("b/x.json", "{}");
  load_fails("is also that of", "x.json");
  ck_assert_ptr_null(sp_jschema_load_dir("/nonexistent/jschema", err, sizeof err));
  ck_assert_msg(strstr(err, "/nonexistent/jschema: cannot read the folder"),
                "%s", err);
}
END_TEST

/* What the flat check decides (0) and what it leaves to the tree (1):
 * every keyword it takes, each way; the combinators it cannot decide. */
START_TEST(flat_decides_what_it_can) {
  sp_jschema_set *s = one(
      "{\"type\": \"object\", \"required\": [\"a\"],"
      " \"additionalProperties\": false, \"properties\": {"
      " \"a\": {\"type\": \"string\", \"pattern\": \"^[a-z]+$\","
      "  \"minLength\": 2, \"maxLength\": 4},"
      " \"n\": {\"type\": \"integer\", \"minimum\": 1, \"maximum\": 9,"
      "  \"exclusiveMaximum\": 8.5, \"exclusiveMinimum\": 1.5},"
      " \"e\": {\"enum\": [null, \"x\", 2.0, false]},"
      " \"c\": {\"const\": true}, \"k\": {\"const\": \"ab\"},"
      " \"ki\": {\"const\": -3}, \"ke\": {\"const\": \"\"},"
      " \"kz\": {\"const\": 0},"
      " \"co\": {\"const\": {\"k\": 1}},"
      " \"d\": {\"type\": \"object\", \"properties\": {\"k\": {\"const\": "
      "1.0}},"
      "  \"additionalProperties\": {\"type\": \"string\"}},"
      " \"all\": {\"allOf\": [{\"type\": \"integer\"}, {\"minimum\": 2}]},"
      " \"any\": {\"anyOf\": [{\"type\": \"string\"}, {\"minimum\": 2}]},"
      " \"one\": {\"oneOf\": [{\"type\": \"null\"}, {\"type\": \"integer\"}]},"
      " \"no\": {\"not\": {\"type\": \"string\"}},"
      " \"x\": {\"exclusiveMaximum\": 5, \"exclusiveMinimum\": -5},"
      " \"eo\": {\"enum\": [{\"k\": 1}, 1]},"
      " \"r\": {\"required\": [\"q\"], \"properties\": {\"p\": true}},"
      " \"nothing\": false, \"anything\": true}}");
  static const struct {
    const char *inst;
    int flat; /* 0 decided valid, 1 invalid or undecided */
  } cases[] = {
      {"{\"a\": \"ab\"}", 0},
      {"{\"a\": \"abcd\", \"n\": 2, \"e\": null, \"c\": true, \"d\": "
       "{\"k\": 1, \"z\": \"s\"}, \"all\": 3, \"any\": \"s\", \"anything\": "
       "[1]}",
       -2}, /* an array: not flat */
      {"{\"a\": \"abcd\", \"n\": 8, \"e\": 2, \"c\": true, \"d\": "
       "{\"k\": 1, \"z\": \"s\"}, \"all\": 3, \"any\": 5, \"anything\": 1}",
       0},
      {"{\"a\": \"ab\", \"e\": \"x\"}", 0},
      {"{\"a\": \"ab\", \"e\": false}", 0},
      {"{}", 1},                            /* a required one missing */
      {"{\"a\": \"a\"}", 1},                /* minLength */
      {"{\"a\": \"abcde\"}", 1},            /* maxLength */
      {"{\"a\": \"AB\"}", 1},               /* pattern */
      {"{\"a\": 12}", 1},                   /* type */
      {"{\"a\": \"ab\", \"n\": 1}", 1},     /* exclusiveMinimum 1.5 */
      {"{\"a\": \"ab\", \"n\": 9}", 1},     /* exclusiveMaximum 8.5 */
      {"{\"a\": \"ab\", \"n\": 0}", 1},     /* minimum */
      {"{\"a\": \"ab\", \"e\": \"y\"}", 1}, /* enum */
      {"{\"a\": \"ab\", \"e\": true}", 1},  /* enum: no bool for 2.0 */
      {"{\"a\": \"ab\", \"c\": 1}", 1},     /* const */
      {"{\"a\": \"ab\", \"c\": false}", 1}, /* const */
      {"{\"a\": \"ab\", \"k\": \"ab\", \"ki\": -3}", 0},
      {"{\"a\": \"ab\", \"k\": \"abc\"}", 1}, /* const, longer */
      {"{\"a\": \"ab\", \"k\": \"a\"}", 1},   /* const, shorter */
      {"{\"a\": \"ab\", \"k\": \"aB\"}", 1},  /* const, other bytes */
      {"{\"a\": \"ab\", \"k\": 1}", 1},       /* const, not a string */
      {"{\"a\": \"ab\", \"ki\": 3}", 1},      /* const integer */
      {"{\"a\": \"ab\", \"ki\": \"-3\"}", 1},
      {"{\"a\": \"ab\", \"ke\": \"\", \"kz\": 0}", 0},
      {"{\"a\": \"ab\", \"ke\": 0}", 1},    /* no string */
      {"{\"a\": \"ab\", \"kz\": \"\"}", 1}, /* no integer */
      {"{\"a\": \"ab\", \"kz\": false}", 1},
      {"{\"n\": 2}", 1},                          /* the required one */
      {"{\"a\": \"ab\", \"co\": {\"k\": 1}}", 1}, /* const object: undecided */
      {"{\"a\": \"ab\", \"d\": {\"k\": 2}}", 1},  /* const 1.0 by value */
      {"{\"a\": \"ab\", \"d\": {\"z\": 1}}", 1},  /* additionalProperties */
      {"{\"a\": \"ab\", \"all\": 1}", 1},         /* allOf */
      {"{\"a\": \"ab\", \"any\": 1}", 1},         /* anyOf */
      {"{\"a\": \"ab\", \"one\": 1}", 1},         /* oneOf: undecided */
      {"{\"a\": \"ab\", \"no\": 1}", 1},          /* not: undecided */
      {"{\"a\": \"ab\", \"nothing\": 1}", 1},     /* false schema */
      {"{\"a\": \"ab\", \"other\": 1}", 1},       /* additionalProperties */
      {"{\"a\": \"ab\", \"x\": 4, \"eo\": 1}", 0},
      {"{\"a\": \"ab\", \"x\": 5}", 1},           /* exclusiveMaximum */
      {"{\"a\": \"ab\", \"x\": -5}", 1},          /* exclusiveMinimum */
      {"{\"a\": \"ab\", \"eo\": {\"k\": 2}}", 1}, /* enum of an object */
      {"{\"a\": \"ab\", \"r\": {\"p\": 1}}", 1},  /* required, no property */
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    json_t *j = parse(cases[i].inst);
    int tree = sp_jschema_validate(s, "t", j, err, sizeof err);
    int flat = flat_rc(s, "t", NULL, j);
    ck_assert_msg(flat == cases[i].flat, "%s: flat %d, want %d", cases[i].inst,
                  flat, cases[i].flat);
    ck_assert_msg(flat != 0 || tree == 0, "%s: tree %d", cases[i].inst, tree);
    json_decref(j);
  }
  /* The decided ones are valid; "one" and "no" valid, undecided. */
  valid(s, "t", "{\"a\": \"ab\", \"one\": null, \"no\": 1}");
  json_t *j = parse("{\"a\": \"ab\"}");
  ck_assert_int_eq(flat_rc(s, "no.such", NULL, j), -1);
  json_decref(j);
  sp_jschema_free(s);
}
END_TEST

/* Each line of a JSONL file: valid or not, as want says. */
static int check_lines(const sp_jschema_set *s, const char *file, int want) {
  FILE *f = fopen(file, "r");
  ck_assert_msg(f != NULL, "%s", file);
  char line[8192];
  int n = 0;
  while (fgets(line, sizeof line, f)) {
    json_error_t je;
    json_t *ev = json_loads(line, 0, &je);
    const char *type = json_string_value(json_object_get(ev, "type"));
    if (!ev || !type) { /* the not-JSON and no-type fixtures */
      json_decref(ev);
      continue;
    }
    int rc = sp_jschema_validate(s, type, ev, err, sizeof err);
    ck_assert_msg(want ? rc == 0 : rc != 0, "%s line %d: %d %s", file, n + 1,
                  rc, rc ? err : "valid");
    flat_agrees(s, type, NULL, ev, rc, line);
    json_decref(ev);
    n++;
  }
  fclose(f);
  return n;
}

START_TEST(real_schemas) {
  const char *src = getenv("SIMPKI_SOURCE_DIR");
  char dir[512], file[600];
  snprintf(dir, sizeof dir, "%s/schemas/events", src ? src : SIMPKI_SOURCE_DIR);
  sp_jschema_set *s = sp_jschema_load_dir(dir, err, sizeof err);
  ck_assert_msg(s != NULL, "%s", err);
  ck_assert_uint_ge(sp_jschema_count(s), 50);
  snprintf(file, sizeof file, "%s/../../tests/fixtures/events/good.jsonl", dir);
  n_flat_valid = n_flat_undecided = 0;
  ck_assert_int_gt(check_lines(s, file, 1), 0);
  /* The flat check decides most real events (data holding arrays,
   * objects or non-ASCII text is not flat). */
  ck_assert_int_gt(n_flat_valid, n_flat_undecided);
  /* Every bad fixture that is JSON with a type is refused. */
  snprintf(file, sizeof file,
           "ls %s/../../tests/fixtures/events/bad/*.jsonl", dir);
  FILE *ls = popen(file, "r");
  ck_assert_ptr_nonnull(ls);
  char path[600];
  int bad = 0;
  while (fgets(path, sizeof path, ls)) {
    path[strcspn(path, "\n")] = '\0';
    check_lines(s, path, 0);
    bad++;
  }
  ck_assert_int_eq(pclose(ls), 0);
  ck_assert_int_gt(bad, 10);
  json_t *ev = parse("{\"type\": \"batch.input_issued\", \"data\": {}}");
  ck_assert_int_eq(sp_jschema_validate(s, "batch.input_issued", ev, err,
                                       sizeof err), 1);
  json_decref(ev);
  sp_jschema_free(s);

  snprintf(dir, sizeof dir, "%s/schemas/documents", src ? src : SIMPKI_SOURCE_DIR);
  s = sp_jschema_load_dir(dir, err, sizeof err);
  ck_assert_msg(s != NULL, "%s", err);
  valid(s, "bcycp-order",
        "{\"bcycp_ref\": \"BCYCP-2026/QD-0417\", \"issued_on\": \"2026-11-20\","
        " \"vendor\": \"SAOVIET\", \"quantity\": 1000, \"profile\": "
        "\"usim_milenage\", \"pilot_quantity\": 5, \"contact\": {\"name\": "
        "\"Nguy\xe1\xbb\x85n V\xc4\x83n A\", \"email\": \"a@bcy.gov.vn\"}}");
  invalid(s, "bcycp-order",
          "{\"bcycp_ref\": \"R-1\", \"issued_on\": \"2026-11-20\","
          " \"vendor\": \"SAOVIET\", \"quantity\": 1000, \"profile\": "
          "\"usim_milenage\", \"pilot_quantity\": 11, \"contact\": {\"name\": "
          "\"A\", \"email\": \"a@b\"}}",
          "/pilot_quantity: 11 is greater than maximum 10");
  sp_jschema_free(s);
}
END_TEST

int main(void) {
  Suite *s = suite_create("jschema");
  TCase *tc = tcase_create("jschema");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, type_keyword);
  tcase_add_test(tc, const_and_enum);
  tcase_add_test(tc, pattern_keyword);
  tcase_add_test(tc, lengths);
  tcase_add_test(tc, numbers);
  tcase_add_test(tc, objects);
  tcase_add_test(tc, arrays);
  tcase_add_test(tc, combinators);
  tcase_add_test(tc, refs_across_files);
  tcase_add_test(tc, ref_to_given_schema_not_followed);
  tcase_add_test(tc, ref_cycle_stops);
  tcase_add_test(tc, unknown_keyword_refused);
  tcase_add_test(tc, bad_patterns_refused);
  tcase_add_test(tc, bad_schemas_refused);
  tcase_add_test(tc, folder_problems_refused);
  tcase_add_test(tc, real_schemas);
  tcase_add_test(tc, flat_decides_what_it_can);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
