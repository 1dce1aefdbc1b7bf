/* Unit tests for audit_flat.c: an event as sp_event_serialize writes it is
 * read flat, its attributes, data and the bytes its content hash leaves
 * out; every other shape is refused, and a refused text leaves nothing
 * read (the replay then takes the tree path, test_audit_message.c). */
#include "../../tools/simpkictl/audit_flat.c"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static audit_flat f;

static void setup(void) { audit_flat_init(&f); }
static void teardown(void) { audit_flat_free(&f); }

static char *sealed(json_t *data, size_t *len) {
  sp_event ev;
  char err[256];
  ck_assert_int_eq(sp_event_init(&ev, "/simpki/inventory", "sim.sold",
                                 "sim/8984017710000000001", NULL,
                                 "ORD-2026-000001", data, err, sizeof err),
                   0);
  ck_assert_int_eq(sp_event_seal(&ev, SP_EVENT_GENESIS), 0);
  char *s = sp_event_serialize(&ev, len);
  ck_assert_ptr_nonnull(s);
  sp_event_clear(&ev);
  return s;
}

static json_t *plain_data(void) {
  return json_pack("{s:s,s:s,s:i,s:i,s:b,s:n,s:s}", "iccid",
                   "8984017710000000001", "shop", "HNI-001", "total", 125000,
                   "debt", -7, "paid", 1, "note", "ctkv", "CTKV1");
}

/* text with the first occurrence of from replaced by to (malloc'd). */
static char *replaced(const char *text, const char *from, const char *to) {
  const char *at = strstr(text, from);
  ck_assert_msg(at != NULL, "no %s in %s", from, text);
  size_t n = strlen(text) - strlen(from) + strlen(to) + 1;
  char *s = malloc(n);
  snprintf(s, n, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
  return s;
}

START_TEST(reads_a_written_event) {
  size_t len;
  char *s = sealed(plain_data(), &len);
  ck_assert_int_eq(audit_flat_read(&f, s, len), 0);
  ck_assert_str_eq(f.attr[SP_EVENT_A_TYPE], "sim.sold");
  ck_assert_str_eq(f.attr[SP_EVENT_A_SUBJECT], "sim/8984017710000000001");
  ck_assert_str_eq(f.attr[SP_EVENT_A_PREVHASH], SP_EVENT_GENESIS);
  ck_assert_str_eq(f.attr[SP_EVENT_A_SPECVERSION], "1.0");
  for (int a = 0; a < SP_EVENT_NATTRS; a++)
    ck_assert_uint_eq(f.attr_len[a], strlen(f.attr[a]));
  ck_assert_int_eq(f.schemaversion, 1);
  /* The event: its members in written order, data among them. */
  ck_assert_int_eq(f.event.type, SP_JV_OBJ);
  ck_assert_uint_eq(f.event.count, AUDIT_EVENT_MEMBERS);
  for (int i = 0; i < AUDIT_EVENT_MEMBERS; i++) {
    ck_assert_str_eq(f.member[i].key, audit_written_name[i]);
    if (i)
      ck_assert_int_lt(strcmp(f.member[i - 1].key, f.member[i].key), 0);
  }
  const sp_jflat *d = f.data_obj;
  ck_assert_ptr_nonnull(d);
  ck_assert_str_eq(d->key, "data");
  ck_assert_uint_eq(d->count, 7);
  static const char *const keys[] = {"ctkv", "debt", "iccid", "note",
                                     "paid", "shop", "total"};
  static const sp_jv_type types[] = {SP_JV_STR,  SP_JV_INT,  SP_JV_STR,
                                     SP_JV_NULL, SP_JV_TRUE, SP_JV_STR,
                                     SP_JV_INT};
  for (int i = 0; i < 7; i++) {
    ck_assert_str_eq(d->members[i].key, keys[i]);
    ck_assert_int_eq(d->members[i].type, types[i]);
  }
  ck_assert_int_eq(d->members[1].i, -7);
  ck_assert_int_eq(d->members[6].i, 125000);
  ck_assert_str_eq(d->members[2].str, "8984017710000000001");
  ck_assert_uint_eq(d->members[2].slen, 19);
  /* What the hash covers: the text but "hash":"...", and it is the
   * event's hash. */
  ck_assert(!strncmp(s + f.hash_at, "\"hash\":\"", 8));
  ck_assert_int_eq(s[f.hash_end - 1], ',');
  ck_assert_uint_eq(f.hash_end - f.hash_at, 8 + SP_EVENT_HASH_HEX + 2);
  char *cut = malloc(len);
  memcpy(cut, s, f.hash_at);
  memcpy(cut + f.hash_at, s + f.hash_end, len - f.hash_end);
  char hex[SP_EVENT_HASH_HEX + 1];
  sp_sha256_hex(cut, len - (f.hash_end - f.hash_at), hex);
  ck_assert_str_eq(hex, f.attr[SP_EVENT_A_HASH]);
  free(cut);
  /* The message itself is left as it was: the NULs went into the copy. */
  ck_assert_uint_eq(strlen(s), len);
  free(s);
}
END_TEST

START_TEST(reads_empty_data_and_small_values) {
  size_t len;
  char *s = sealed(json_object(), &len);
  ck_assert_int_eq(audit_flat_read(&f, s, len), 0);
  ck_assert_uint_eq(f.data_obj->count, 0);
  free(s);
  static const char *const ok[] = {
      "0", "-1", "999999999999999999", "-999999999999999999", "\"\"", "false"};
  s = sealed(json_pack("{s:i}", "n", 5), &len);
  for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
    char to[40];
    snprintf(to, sizeof to, "\"n\":%s", ok[i]);
    char *t = replaced(s, "\"n\":5", to);
    ck_assert_msg(audit_flat_read(&f, t, strlen(t)) == 0, "%s", t);
    ck_assert_uint_eq(f.data_obj->count, 1);
    free(t);
  }
  free(s);
}
END_TEST

/* The shapes that are not flat, each from a flat event. */
START_TEST(refuses_every_other_shape) {
  size_t len;
  char *s = sealed(plain_data(), &len);
  static const struct {
    const char *from, *to;
  } cases[] = {
      {"\"shop\":\"HNI-001\"", "\"shop\":\"HNI\\u002d001\""}, /* an escape */
      {"\"shop\":\"HNI-001\"", "\"shop\":\"HN\\\"I\""},
      {"\"shop\":\"HNI-001\"", "\"shop\":\"H\xc3\xa0N\""}, /* past ASCII */
      {"\"shop\":\"HNI-001\"", "\"shop\":\"H\x7fN\""},     /* DEL */
      {"\"shop\":\"HNI-001\"", "\"shop\":\"H\tN\""},       /* control */
      {"\"shop\":\"HNI-001\"", "\"shop\":[1]"},            /* an array */
      {"\"shop\":\"HNI-001\"", "\"shop\":{}"},             /* an object */
      {"\"shop\":\"HNI-001\"", "\"shop\": \"HNI-001\""},   /* whitespace */
      {"\"total\":125000", "\"total\":125000.0"},          /* a real */
      {"\"total\":125000", "\"total\":1e5"},
      {"\"total\":125000", "\"total\":0125000"}, /* leading 0 */
      {"\"total\":125000", "\"total\":-0"},
      {"\"total\":125000", "\"total\":1000000000000000000"}, /* 19 digits */
      {"\"total\":125000", "\"total\":+1"},
      {"\"total\":125000", "\"total\":tru"},
      {"\"total\":125000", "\"total\":nul"},
      {"\"ctkv\":\"CTKV1\",\"debt\"", "\"debt\":1,\"debt\""},       /* twice */
      {"\"ctkv\":\"CTKV1\",\"debt\"", "\"zz\":\"CTKV1\",\"debt\""}, /* order */
      {"\"paid\":true", "\"paid\":true,"}, /* a comma too many */
      {"{\"correlationid\"", "{ \"correlationid\""},
      {"\"schemaversion\":1", "\"schemaversion\":\"1\""},
      {"\"schemaversion\":1", "\"schemaversion\":1.0"},
      {"\"specversion\":\"1.0\"", "\"specversion\":1"}, /* not a string */
      {"\"correlationid\":\"ORD-2026-000001\",", ""},   /* missing */
      {"\"data\":{", "\"dat\":{"},
      {"\"data\":{", "\"data\":["},
      {"\"data\":{", "\"data\":1,\"x\":{"},
      /* In the last sixteen bytes, read a byte at a time. */
      {"\"type\":\"sim.sold\"", "\"type\":\"sim.s\x7fld\""},
      {"\"type\":\"sim.sold\"", "\"type\":\"sim.s\nld\""},
      {"\"type\":\"sim.sold\"", "\"type\":\"sim.s\xc3\xa0ld\""},
      {"\"type\":\"sim.sold\"", "\"type\":\"sim.s\\u0061ld\""},
      {"\"type\":\"sim.sold\"", "\"type\":\"sim.sold"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char *t = replaced(s, cases[i].from, cases[i].to);
    ck_assert_msg(audit_flat_read(&f, t, strlen(t)) == 1, "read flat: %s", t);
    free(t);
  }
  /* Trailing bytes, a member after the last, every cut short. */
  char *t = malloc(len + 2);
  memcpy(t, s, len);
  t[len] = ' ';
  ck_assert_int_eq(audit_flat_read(&f, t, len + 1), 1);
  memcpy(t + len - 1, ",}", 2);
  ck_assert_int_eq(audit_flat_read(&f, t, len + 1), 1);
  for (size_t n = 0; n < len; n++)
    ck_assert_msg(audit_flat_read(&f, s, n) == 1, "a prefix of %zu", n);
  ck_assert_int_eq(audit_flat_read(&f, NULL, 0), 1);
  ck_assert_int_eq(audit_flat_read(&f, s, len), 0); /* and then still */
  free(t);
  free(s);
}
END_TEST

/* Up to AUDIT_FLAT_MAX_DATA members in data. */
START_TEST(data_members_bounded) {
  for (int n = AUDIT_FLAT_MAX_DATA; n <= AUDIT_FLAT_MAX_DATA + 1; n++) {
    json_t *d = json_object();
    for (int i = 0; i < n; i++) {
      char k[8];
      snprintf(k, sizeof k, "k%02d", i);
      json_object_set_new(d, k, json_integer(i));
    }
    size_t len;
    char *s = sealed(d, &len);
    ck_assert_int_eq(audit_flat_read(&f, s, len),
                     n <= AUDIT_FLAT_MAX_DATA ? 0 : 1);
    if (n <= AUDIT_FLAT_MAX_DATA) {
      ck_assert_uint_eq(f.data_obj->count, (uint32_t)n);
      ck_assert_int_eq(f.data_obj->members[n - 1].i, n - 1);
    }
    free(s);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("audit_flat");
  TCase *tc = tcase_create("core");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, reads_a_written_event);
  tcase_add_test(tc, reads_empty_data_and_small_values);
  tcase_add_test(tc, refuses_every_other_shape);
  tcase_add_test(tc, data_members_bounded);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
