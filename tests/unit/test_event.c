/* Unit tests for common/event: envelope, canonical bytes, hash chain,
 * parsing and every way a message can be malformed. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"

static char err[512];

/* A fixed event whose canonical bytes and hash were computed independently
 * (printf ... | sha256sum). */
static void fixed_event(sp_event *ev) {
  json_t *d = json_pack("{s:i, s:s}", "b", 2, "a", "H\xc3\xa0 N\xe1\xbb\x99i");
  ck_assert_int_eq(sp_event_init(ev, "/simpki/test", "batch.released",
                                 "batch/B-1", NULL, "order/O-1", d, err,
                                 sizeof err), 0);
  strcpy(ev->id, "0f8e4c1a-2b3d-4e5f-8a9b-0c1d2e3f4a5b");
  strcpy(ev->time, "2026-11-25T10:00:00.000Z");
}

static const char *FIXED_CANON =
    "{\"correlationid\":\"order/O-1\",\"data\":{\"a\":\"H\xc3\xa0 N\xe1\xbb\x99i\","
    "\"b\":2},\"datacontenttype\":\"application/json\",\"id\":\"0f8e4c1a-2b3d-"
    "4e5f-8a9b-0c1d2e3f4a5b\",\"partitionkey\":\"batch/B-1\",\"prevhash\":\""
    SP_EVENT_GENESIS "\",\"schemaversion\":1,\"source\":\"/simpki/test\","
    "\"specversion\":\"1.0\",\"subject\":\"batch/B-1\",\"time\":\"2026-11-25T"
    "10:00:00.000Z\",\"type\":\"batch.released\"}";
static const char *FIXED_HASH =
    "87738c907c0c8a8f1a07627f0522ce50a01b38768493b679cc3e1ae62ea90ce1";

/* FIPS 180-2 test vectors, so the hex form of a hash is pinned down. */
START_TEST(sha256_hex_known_vectors) {
  char h[SP_EVENT_HASH_HEX + 1];
  memset(h, 'x', sizeof h);
  sp_sha256_hex("abc", 3, h);
  ck_assert_str_eq(
      h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  sp_sha256_hex("", 0, h);
  ck_assert_str_eq(
      h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}
END_TEST

START_TEST(init_fills_attributes) {
  sp_event ev;
  ck_assert_int_eq(sp_event_init(&ev, "/simpki/x", "order.received", "order/1",
                                 NULL, NULL, NULL, err, sizeof err), 0);
  ck_assert_int_eq(strlen(ev.id), 36);
  ck_assert_int_eq(ev.id[14], '4'); /* version 4 */
  ck_assert_str_eq(ev.partitionkey, "order/1");
  ck_assert_str_eq(ev.correlationid, "");
  ck_assert_int_eq(ev.schemaversion, 1);
  ck_assert(json_is_object(ev.data));
  sp_event second;
  ck_assert_int_eq(sp_event_init(&second, "/simpki/x", "order.received",
                                 "order/1", NULL, NULL, NULL, err, sizeof err), 0);
  ck_assert_str_ne(ev.id, second.id);
  sp_event_clear(&ev);
  sp_event_clear(&second);
}
END_TEST

START_TEST(init_refuses_bad_input) {
  sp_event ev;
  ck_assert_int_eq(sp_event_init(&ev, "/s", "Bad Type", "s/1", NULL, NULL,
                                 NULL, err, sizeof err), -1);
  ck_assert_ptr_nonnull(strstr(err, "lower-case"));
  ck_assert_int_eq(sp_event_init(&ev, "/s", "t.x", "", NULL, NULL, NULL, err,
                                 sizeof err), -1);
  ck_assert_ptr_nonnull(strstr(err, "\"subject\""));
  ck_assert_int_eq(sp_event_init(&ev, "/s", "t.x", "s/1", NULL, NULL,
                                 json_array(), err, sizeof err), -1);
  ck_assert_ptr_nonnull(strstr(err, "object"));
  char longsub[400];
  memset(longsub, 'x', sizeof longsub - 1);
  longsub[sizeof longsub - 1] = '\0';
  ck_assert_int_eq(sp_event_init(&ev, "/s", "t.x", longsub, NULL, NULL, NULL,
                                 err, sizeof err), -1);
  ck_assert_ptr_nonnull(strstr(err, "too long"));
}
END_TEST

START_TEST(canonical_bytes_and_hash_are_stable) {
  sp_event ev;
  fixed_event(&ev);
  ck_assert_int_eq(sp_event_seal(&ev, SP_EVENT_GENESIS), 0);
  char *c = sp_event_canonical(&ev);
  ck_assert_str_eq(c, FIXED_CANON);
  free(c);
  ck_assert_str_eq(ev.hash, FIXED_HASH);
  ck_assert_int_eq(sp_event_hash_ok(&ev), 1);
  ck_assert_int_eq(sp_event_seal(&ev, "not-hex"), -1);
  sp_event_clear(&ev);
}
END_TEST

START_TEST(chain_links_and_breaks) {
  sp_event a, b;
  fixed_event(&a);
  sp_event_seal(&a, SP_EVENT_GENESIS);
  ck_assert_int_eq(sp_event_init(&b, "/simpki/test", "batch.loaded", "batch/B-1",
                                 NULL, "order/O-1", NULL, err, sizeof err), 0);
  sp_event_seal(&b, a.hash);
  ck_assert_str_eq(b.prevhash, a.hash);
  ck_assert_int_eq(sp_event_hash_ok(&b), 1);
  /* Changing anything, data or prevhash, breaks the event's own hash. */
  json_object_set_new(a.data, "b", json_integer(3));
  ck_assert_int_eq(sp_event_hash_ok(&a), 0);
  b.prevhash[0] = b.prevhash[0] == 'a' ? 'b' : 'a';
  ck_assert_int_eq(sp_event_hash_ok(&b), 0);
  sp_event_clear(&a);
  sp_event_clear(&b);
}
END_TEST

START_TEST(serialize_parse_round_trip) {
  sp_event ev, back;
  fixed_event(&ev);
  sp_event_seal(&ev, SP_EVENT_GENESIS);
  size_t len = 0;
  char *s = sp_event_serialize(&ev, &len);
  ck_assert_int_eq(len, strlen(s));
  ck_assert_ptr_null(strchr(s, '\n'));
  ck_assert_int_eq(sp_event_parse(s, len, &back, err, sizeof err), 0);
  ck_assert_str_eq(back.id, ev.id);
  ck_assert_str_eq(back.hash, FIXED_HASH);
  ck_assert_str_eq(back.correlationid, "order/O-1");
  ck_assert_int_eq(sp_event_hash_ok(&back), 1);
  ck_assert(json_equal(back.data, ev.data));
  free(s);
  sp_event_clear(&ev);
  sp_event_clear(&back);
}
END_TEST

/* Replace `key` in the serialized fixed event with `value` (raw JSON, or
 * NULL to delete it) and parse; returns the parse result. */
static int parse_mutated(const char *key, const char *value) {
  sp_event ev, out;
  fixed_event(&ev);
  sp_event_seal(&ev, SP_EVENT_GENESIS);
  char *s = sp_event_serialize(&ev, NULL);
  json_t *o = json_loads(s, 0, NULL);
  free(s);
  sp_event_clear(&ev);
  if (value)
    json_object_set_new(o, key, json_loads(value, JSON_DECODE_ANY, NULL));
  else
    json_object_del(o, key);
  s = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  int rc = sp_event_parse(s, strlen(s), &out, err, sizeof err);
  free(s);
  if (rc == 0)
    sp_event_clear(&out);
  else
    ck_assert_ptr_null(out.data); /* nothing left behind on error */
  return rc;
}

START_TEST(parse_refuses_malformed) {
  sp_event out;
  const char *notjson = "{\"id\": ";
  ck_assert_int_eq(sp_event_parse(notjson, strlen(notjson), &out, err, sizeof err), -1);
  ck_assert_ptr_nonnull(strstr(err, "not valid JSON"));
  ck_assert_int_eq(sp_event_parse("[1,2]", 5, &out, err, sizeof err), -1);
  ck_assert_ptr_nonnull(strstr(err, "JSON object"));
  const char *dup = "{\"id\":\"a\",\"id\":\"b\"}";
  ck_assert_int_eq(sp_event_parse(dup, strlen(dup), &out, err, sizeof err), -1);

  const char *required[] = {"id", "source", "type", "specversion", "time",
                            "subject", "datacontenttype", "partitionkey",
                            "correlationid", "prevhash", "hash", "data",
                            "schemaversion"};
  for (size_t i = 0; i < sizeof required / sizeof *required; i++) {
    ck_assert_int_eq(parse_mutated(required[i], NULL), -1);
    ck_assert_msg(strstr(err, required[i]) != NULL, "error for %s: %s",
                  required[i], err);
  }
  struct { const char *key, *value, *expect; } bad[] = {
      {"specversion", "\"0.3\"", "specversion"},
      {"id", "\"not-a-uuid\"", "UUID"},
      {"id", "\"0F8E4C1A-2B3D-4E5F-8A9B-0C1D2E3F4A5B\"", "UUID"},
      {"type", "\"Batch Released\"", "malformed"},
      {"time", "\"2026-11-25 10:00:00\"", "RFC 3339"},
      {"time", "\"2026-11-25T10:00:00\"", "RFC 3339"},
      {"hash", "\"abc\"", "hex"},
      {"prevhash", "\"ZZ38c907c0c8a8f1a07627f0522ce50a01b38768493b679cc3e1ae62ea90ce1\"", "hex"},
      {"schemaversion", "0", "schemaversion"},
      {"schemaversion", "\"1\"", "schemaversion"},
      {"data", "[]", "data"},
      {"subject", "\"\"", "subject"},
      {"subject", "42", "string"},
      {"datacontenttype", "\"text/plain\"", "datacontenttype"},
      {"extra", "\"x\"", "not allowed"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    ck_assert_int_eq(parse_mutated(bad[i].key, bad[i].value), -1);
    ck_assert_msg(strstr(err, bad[i].expect) != NULL, "%s=%s: %s", bad[i].key,
                  bad[i].value, err);
  }
  /* Offsets other than Z are RFC 3339 too. */
  ck_assert_int_eq(parse_mutated("time", "\"2026-11-25T17:00:00+07:00\""), 0);
}
END_TEST

/* Every byte value at every place of the id, the hash and the prevhash:
 * refused unless a lower-case hex digit (or, in the id, the dash where
 * one belongs). The checks read sixteen bytes at a time. */
START_TEST(check_attrs_every_byte_of_ids_and_hashes) {
  static const char hash[] =
      "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
  static const char id[] = "0b7c6f1e-2d3a-4f5b-8c9d-0e1f2a3b4c5d";
  const char *v[SP_EVENT_NATTRS] = {
      [SP_EVENT_A_SPECVERSION] = "1.0",
      [SP_EVENT_A_ID] = id,
      [SP_EVENT_A_SOURCE] = "/simpki/inventory",
      [SP_EVENT_A_TYPE] = "sim.sold",
      [SP_EVENT_A_TIME] = "2026-11-25T17:30:00.123Z",
      [SP_EVENT_A_SUBJECT] = "sim/8984017700000000001",
      [SP_EVENT_A_DATACONTENTTYPE] = "application/json",
      [SP_EVENT_A_PARTITIONKEY] = "sim/8984017700000000001",
      [SP_EVENT_A_CORRELATIONID] = "",
      [SP_EVENT_A_PREVHASH] = hash,
      [SP_EVENT_A_HASH] = hash};
  long long sv = 1;
  ck_assert_int_eq(sp_event_check_attrs(v, &sv, err, sizeof err), 0);
  static const int attrs[] = {SP_EVENT_A_ID, SP_EVENT_A_PREVHASH,
                              SP_EVENT_A_HASH};
  char buf[80];
  for (size_t a = 0; a < sizeof attrs / sizeof *attrs; a++) {
    const char *good = attrs[a] == SP_EVENT_A_ID ? id : hash;
    size_t n = strlen(good);
    for (size_t at = 0; at < n; at++)
      for (int b = 1; b < 256; b++) {
        memcpy(buf, good, n + 1);
        buf[at] = (char)b;
        int dash = attrs[a] == SP_EVENT_A_ID &&
                   (at == 8 || at == 13 || at == 18 || at == 23);
        int ok =
            dash ? b == '-' : (b >= '0' && b <= '9') || (b >= 'a' && b <= 'f');
        v[attrs[a]] = buf;
        ck_assert_msg((sp_event_check_attrs(v, &sv, err, sizeof err) == 0) ==
                          ok,
                      "attribute %d, byte %d at %zu", attrs[a], b, at);
        v[attrs[a]] = good;
      }
    /* One short, one long: refused. */
    memcpy(buf, good, n + 1);
    buf[n - 1] = '\0';
    v[attrs[a]] = buf;
    ck_assert_int_ne(sp_event_check_attrs(v, &sv, err, sizeof err), 0);
    memcpy(buf, good, n + 1);
    strcat(buf, "0");
    ck_assert_int_ne(sp_event_check_attrs(v, &sv, err, sizeof err), 0);
    v[attrs[a]] = good;
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("event");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, sha256_hex_known_vectors);
  tcase_add_test(tc, init_fills_attributes);
  tcase_add_test(tc, init_refuses_bad_input);
  tcase_add_test(tc, canonical_bytes_and_hash_are_stable);
  tcase_add_test(tc, chain_links_and_breaks);
  tcase_add_test(tc, serialize_parse_round_trip);
  tcase_add_test(tc, parse_refuses_malformed);
  tcase_add_test(tc, check_attrs_every_byte_of_ids_and_hashes);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
