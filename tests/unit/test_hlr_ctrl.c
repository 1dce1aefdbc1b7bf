/* Unit tests for services/hlr-provisioner: the CTRL/IPA framing and reply
 * parser (ctrl_proto), the info-aud parser and comparison (aud), and the
 * pipelined client (ctrl_client) against a scripted fake CTRL server on
 * loopback. The reply texts are the ones OsmoHLR 1.5 sent when tried by
 * hand. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "aud.h"
#include "crypto.h"
#include "ctrl_client.h"
#include "ctrl_proto.h"
#include "log.h"

static char err[512];

#define KI_HEX "000102030405060708090a0b0c0d0e0f"
#define K_HEX "00112233445566778899aabbccddeeff"
#define OPC_HEX "ffeeddccbbaa99887766554433221100"

/* OsmoHLR 1.5, GET subscriber.by-imsi-452019100000001.info-aud after
 * aud2g comp128v1 and aud3g milenage ... OPC ... */
static const char AUD_BOTH[] =
    "\naud2g.algo\tCOMP128v1\naud2g.ki\t" KI_HEX
    "\naud3g.algo\tMILENAGE\naud3g.k\t" K_HEX "\naud3g.opc\t" OPC_HEX
    "\naud3g.ind_bitlen\t5\naud3g.sqn\t0";
/* info-all of the same subscriber with an MSISDN and 3G only. */
static const char INFO_ALL_3G[] =
    "\nid\t1\nimsi\t452019100000001\nmsisdn\t84901234567\nnam_cs\t1\n"
    "nam_ps\t1\nms_purged_cs\t0\nms_purged_ps\t0\nperiodic_lu_timer\t0\n"
    "periodic_rau_tau_timer\t0\nlmsi\t00000000\naud3g.algo\tMILENAGE\n"
    "aud3g.k\t" K_HEX "\naud3g.opc\t" OPC_HEX
    "\naud3g.ind_bitlen\t5\naud3g.sqn\t0";

static size_t frame(unsigned char *out, unsigned char proto,
                    const void *payload, size_t len) {
  out[0] = (unsigned char)(len >> 8);
  out[1] = (unsigned char)len;
  out[2] = proto;
  memcpy(out + 3, payload, len);
  return 3 + len;
}

/* A CTRL frame of text (extension byte added). */
static size_t ctrl_frame(unsigned char *out, const char *text) {
  size_t n = strlen(text);
  out[0] = (unsigned char)((n + 1) >> 8);
  out[1] = (unsigned char)(n + 1);
  out[2] = HP_IPA_PROTO_OSMO;
  out[3] = HP_IPA_EXT_CTRL;
  memcpy(out + 4, text, n);
  return 4 + n;
}

static hp_ipa_decoder *dec_new(void) {
  hp_ipa_decoder *d = malloc(sizeof *d);
  ck_assert_ptr_nonnull(d);
  hp_ipa_init(d);
  return d;
}

/* ---- encoding ---------------------------------------------------------- */

START_TEST(encode_get_and_set) {
  unsigned char out[HP_CTRL_REQUEST_MAX];
  size_t n = hp_ctrl_encode(out, sizeof out, HP_CTRL_GET, 7,
                            "subscriber.by-imsi-452019100000001.info", NULL,
                            err, sizeof err);
  static const char want_get[] =
      "GET 7 subscriber.by-imsi-452019100000001.info";
  ck_assert_uint_eq(n, 4 + strlen(want_get));
  ck_assert_uint_eq(out[0], 0);
  ck_assert_uint_eq(out[1], 1 + strlen(want_get)); /* counts the 0x00 */
  ck_assert_uint_eq(out[2], 0xEE);
  ck_assert_uint_eq(out[3], 0x00);
  ck_assert(!memcmp(out + 4, want_get, strlen(want_get)));

  n = hp_ctrl_encode(out, sizeof out, HP_CTRL_SET, 18446744073709551615ULL,
                     "subscriber.by-imsi-452019100000001.aud2g",
                     "comp128v1," KI_HEX, err, sizeof err);
  static const char want_set[] =
      "SET 18446744073709551615 subscriber.by-imsi-452019100000001.aud2g "
      "comp128v1," KI_HEX;
  ck_assert_uint_eq(n, 4 + strlen(want_set));
  ck_assert_uint_eq((size_t)out[0] << 8 | out[1], 1 + strlen(want_set));
  ck_assert(!memcmp(out + 4, want_set, strlen(want_set)));
  /* An empty GET value is no value. */
  ck_assert_uint_gt(
      hp_ctrl_encode(out, sizeof out, HP_CTRL_GET, 1, "a", "", err, sizeof err),
      0);
}
END_TEST

START_TEST(encode_refusals_never_quote_the_value) {
  unsigned char out[HP_CTRL_REQUEST_MAX];
  char longvar[HP_CTRL_VAR_MAX + 2], longval[HP_CTRL_VALUE_MAX + 2];
  memset(longvar, 'v', sizeof longvar - 1);
  longvar[sizeof longvar - 1] = '\0';
  memset(longval, 'a', sizeof longval - 1);
  longval[sizeof longval - 1] = '\0';
  static const struct {
    int type;
    const char *var, *value, *reason;
  } bad[] = {
      {HP_CTRL_GET, "", NULL, "a CTRL variable is"},
      {HP_CTRL_GET, NULL, NULL, "a CTRL variable is"},
      {HP_CTRL_GET, "a b", NULL, "a CTRL variable is"},
      {HP_CTRL_GET, "a\nb", NULL, "a CTRL variable is"},
      {HP_CTRL_GET, "sübscriber", NULL, "a CTRL variable is"},
      {HP_CTRL_GET, "x", "value", "a CTRL GET takes no value"},
      {HP_CTRL_SET, "x", NULL, "a CTRL SET value is"},
      {HP_CTRL_SET, "x", "", "a CTRL SET value is"},
      {HP_CTRL_SET, "x", "milenage," K_HEX " OPC", "a CTRL SET value is"},
      {HP_CTRL_SET, "x", "milenage," K_HEX "\tOPC", "a CTRL SET value is"},
      {HP_CTRL_SET, "x", K_HEX "\xc3\xa9", "a CTRL SET value is"},
      {7, "x", K_HEX, "unknown CTRL request type 7"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    err[0] = '\0';
    ck_assert_uint_eq(hp_ctrl_encode(out, sizeof out, bad[i].type, 1,
                                     bad[i].var, bad[i].value, err, sizeof err),
                      0);
    ck_assert_msg(strstr(err, bad[i].reason) == err, "case %zu: %s", i, err);
    ck_assert_msg(!strstr(err, "0011223344"), "value quoted: %s", err);
  }
  ck_assert_uint_eq(hp_ctrl_encode(out, sizeof out, HP_CTRL_GET, 1, longvar,
                                   NULL, err, sizeof err),
                    0);
  ck_assert_uint_eq(hp_ctrl_encode(out, sizeof out, HP_CTRL_SET, 1, "x",
                                   longval, err, sizeof err),
                    0);
  ck_assert(!strstr(err, "aaaa"));
  /* The longest allowed request fits HP_CTRL_REQUEST_MAX. */
  longvar[HP_CTRL_VAR_MAX] = '\0';
  longval[HP_CTRL_VALUE_MAX] = '\0';
  ck_assert_uint_gt(hp_ctrl_encode(out, sizeof out, HP_CTRL_SET, ~0ULL, longvar,
                                   longval, err, sizeof err),
                    0);
  /* A buffer too small. */
  ck_assert_uint_eq(hp_ctrl_encode(out, 10, HP_CTRL_GET, 1, "abcdefgh", NULL,
                                   err, sizeof err),
                    0);
  ck_assert_msg(strstr(err, "does not fit 10"), "%s", err);
}
END_TEST

/* ---- decoding ---------------------------------------------------------- */

START_TEST(decode_round_trip) {
  unsigned char buf[HP_CTRL_REQUEST_MAX];
  size_t n =
      hp_ctrl_encode(buf, sizeof buf, HP_CTRL_SET, 42, "subscriber.create",
                     "452019100000001", err, sizeof err);
  hp_ipa_decoder *d = dec_new();
  hp_ipa_msg m;
  ck_assert_int_eq(hp_ipa_next(d, &m, err, sizeof err), 0);
  ck_assert_uint_eq(hp_ipa_feed(d, buf, n), n);
  ck_assert_int_eq(hp_ipa_next(d, &m, err, sizeof err), 1);
  ck_assert_uint_eq(m.proto, HP_IPA_PROTO_OSMO);
  ck_assert_str_eq(m.text, "SET 42 subscriber.create 452019100000001");
  ck_assert_uint_eq(m.len, strlen(m.text));
  ck_assert_int_eq(hp_ipa_next(d, &m, err, sizeof err), 0);
  /* Released messages are wiped. */
  ck_assert(d->msg[0] == '\0' && d->msglen == 0);
  free(d);
}
END_TEST

/* Three replies, a TRAP and a CCM PING, fed in every split: byte by byte,
 * all at once, and cut at every position. */
START_TEST(decode_partial_and_coalesced) {
  static const char *texts[] = {
      "GET_REPLY 1 subscriber.by-imsi-452019100000001.info-aud ",
      "TRAP 0 bts.0.location 1,2,3",
      "SET_REPLY 2 subscriber.create 17",
      "ERROR 3 No such subscriber.",
  };
  unsigned char stream[1024];
  size_t len = 0;
  len += ctrl_frame(stream + len, texts[0]);
  len += ctrl_frame(stream + len, texts[1]);
  static const unsigned char ping = HP_IPA_CCM_PING;
  len += frame(stream + len, HP_IPA_PROTO_CCM, &ping, 1);
  len += ctrl_frame(stream + len, texts[2]);
  len += ctrl_frame(stream + len, texts[3]);
  len += ctrl_frame(stream + len, AUD_BOTH);

  for (size_t cut = 0; cut <= len; cut++) {
    for (int bytewise = 0; bytewise < 2; bytewise++) {
      hp_ipa_decoder *d = dec_new();
      size_t at = 0, got = 0;
      int seen_ping = 0;
      while (got < 6) {
        size_t chunk = bytewise ? 1 : (at < cut ? cut - at : len - at);
        if (at < len)
          at += hp_ipa_feed(d, stream + at, chunk);
        hp_ipa_msg m;
        int r;
        while ((r = hp_ipa_next(d, &m, err, sizeof err)) == 1) {
          if (m.proto == HP_IPA_PROTO_CCM) {
            ck_assert_uint_eq(m.len, 1);
            ck_assert_uint_eq((unsigned char)m.text[0], HP_IPA_CCM_PING);
            seen_ping = 1;
          } else if (got < 2) {
            ck_assert_str_eq(m.text, texts[got]);
          } else if (got < 5) {
            ck_assert_str_eq(m.text, texts[got - 1]);
          } else {
            ck_assert_str_eq(m.text, AUD_BOTH);
          }
          got++;
        }
        ck_assert_int_eq(r, 0);
        ck_assert_msg(at < len || got == 6, "cut %zu: stream ended early", cut);
      }
      ck_assert(seen_ping);
      free(d);
    }
  }
}
END_TEST

START_TEST(decode_largest_frame_and_full_buffer) {
  /* Two 64 KiB frames do not fit at once: feed takes what fits. */
  size_t one = 3 + HP_IPA_MAX_PAYLOAD;
  unsigned char *stream = malloc(2 * one);
  for (int k = 0; k < 2; k++) {
    unsigned char *f = stream + k * one;
    f[0] = 0xff, f[1] = 0xff, f[2] = HP_IPA_PROTO_OSMO, f[3] = 0;
    memset(f + 4, k ? 'b' : 'a', HP_IPA_MAX_PAYLOAD - 1);
  }
  hp_ipa_decoder *d = dec_new();
  size_t at = hp_ipa_feed(d, stream, 2 * one);
  ck_assert_uint_lt(at, 2 * one);
  hp_ipa_msg m;
  ck_assert_int_eq(hp_ipa_next(d, &m, err, sizeof err), 1);
  ck_assert_uint_eq(m.len, HP_IPA_MAX_PAYLOAD - 1);
  ck_assert(m.text[0] == 'a' && m.text[m.len - 1] == 'a' &&
            m.text[m.len] == '\0');
  ck_assert_int_eq(hp_ipa_next(d, &m, err, sizeof err), 0);
  at += hp_ipa_feed(d, stream + at, 2 * one - at);
  ck_assert_uint_eq(at, 2 * one);
  ck_assert_int_eq(hp_ipa_next(d, &m, err, sizeof err), 1);
  ck_assert(m.len == HP_IPA_MAX_PAYLOAD - 1 && m.text[0] == 'b');
  ck_assert_int_eq(hp_ipa_next(d, &m, err, sizeof err), 0);
  free(d);
  free(stream);
}
END_TEST

static const struct {
  const char *name;
  unsigned char bytes[16];
  size_t len;
  const char *reason;
} malformed[] = {
    {"zero length", {0, 0, 0xEE}, 3, "empty IPA frame (stream 0xee)"},
    {"zero length CCM",
     {0, 0, 0xFE, 0, 1, 0xEE, 0},
     7,
     "empty IPA frame (stream 0xfe)"},
    {"wrong stream", {0, 2, 0x12, 0, 'x'}, 5, "unexpected IPA stream 0x12"},
    /* judged before its payload came */
    {"wrong stream, header only",
     {0x10, 0, 0x80},
     3,
     "unexpected IPA stream 0x80"},
    {"garbage",
     {'H', 'T', 'T', 'P', '/', '1'},
     6,
     "unexpected IPA stream 0x54"},
    {"not CTRL",
     {0, 3, 0xEE, 0x01, 'o', 'k'},
     6,
     "IPA OSMO frame with extension 0x01, not CTRL (0x00)"},
    {"non-ASCII",
     {0, 4, 0xEE, 0, 'o', 0xC3, 0xA9},
     7,
     "CTRL message byte 2 is not printable ASCII"},
    {"NUL",
     {0, 4, 0xEE, 0, 'o', 0, 'k'},
     7,
     "CTRL message byte 2 is not printable ASCII"},
    {"control character",
     {0, 3, 0xEE, 0, 0x1b, 'k'},
     6,
     "CTRL message byte 1 is not printable ASCII"},
    {"DEL",
     {0, 2, 0xEE, 0, 0x7f},
     5,
     "CTRL message byte 1 is not printable ASCII"},
};

START_TEST(decode_malformed) {
  hp_ipa_decoder *d = dec_new();
  /* A good frame first: the bad one after it still fails. */
  unsigned char good[64];
  size_t gl = ctrl_frame(good, "SET_REPLY 1 subscriber.create 1");
  hp_ipa_feed(d, good, gl);
  hp_ipa_feed(d, malformed[_i].bytes, malformed[_i].len);
  hp_ipa_msg m;
  ck_assert_int_eq(hp_ipa_next(d, &m, err, sizeof err), 1);
  err[0] = '\0';
  ck_assert_int_eq(hp_ipa_next(d, &m, err, sizeof err), -1);
  ck_assert_msg(!strcmp(err, malformed[_i].reason), "%s: got \"%s\"",
                malformed[_i].name, err);
  /* Sticky, even when good bytes follow. */
  hp_ipa_feed(d, good, gl);
  ck_assert_int_eq(hp_ipa_next(d, &m, err, sizeof err), -1);
  ck_assert_str_eq(err, "the IPA stream already failed");
  /* A reset starts over. */
  hp_ipa_reset(d);
  hp_ipa_feed(d, good, gl);
  ck_assert_int_eq(hp_ipa_next(d, &m, err, sizeof err), 1);
  free(d);
}
END_TEST

START_TEST(decode_space_commit) {
  /* The zero-copy form the client uses. */
  hp_ipa_decoder *d = dec_new();
  unsigned char f[64];
  size_t n = ctrl_frame(f, "GET_REPLY 5 subscriber.by-imsi-1.msisdn none");
  size_t avail;
  unsigned char *p = hp_ipa_space(d, &avail);
  ck_assert_uint_ge(avail, 3 + HP_IPA_MAX_PAYLOAD);
  memcpy(p, f, 10);
  hp_ipa_commit(d, 10);
  hp_ipa_msg m;
  ck_assert_int_eq(hp_ipa_next(d, &m, err, sizeof err), 0);
  p = hp_ipa_space(d, &avail);
  memcpy(p, f + 10, n - 10);
  hp_ipa_commit(d, n - 10);
  ck_assert_int_eq(hp_ipa_next(d, &m, err, sizeof err), 1);
  ck_assert_str_eq(m.text, "GET_REPLY 5 subscriber.by-imsi-1.msisdn none");
  /* The consumed bytes were wiped. */
  for (size_t i = 0; i < n; i++)
    ck_assert_uint_eq(d->in[i], 0);
  free(d);
}
END_TEST

/* ---- reply parsing ---------------------------------------------------- */

START_TEST(parse_replies) {
  hp_ctrl_msg m;
  char text[1024];
  snprintf(text, sizeof text,
           "GET_REPLY 8 subscriber.by-imsi-452019100000001.info-aud %s",
           AUD_BOTH);
  ck_assert_int_eq(hp_ctrl_parse(text, strlen(text), &m, err, sizeof err), 0);
  ck_assert_int_eq(m.kind, HP_CTRL_MSG_GET_REPLY);
  ck_assert(m.has_id && m.id == 8);
  ck_assert_uint_eq(m.varlen,
                    strlen("subscriber.by-imsi-452019100000001.info-aud"));
  ck_assert(
      !memcmp(m.var, "subscriber.by-imsi-452019100000001.info-aud", m.varlen));
  ck_assert_str_eq(m.value, AUD_BOTH);
  ck_assert_uint_eq(m.valuelen, strlen(AUD_BOTH));

  const char *s = "SET_REPLY 5 subscriber.by-imsi-452019100000003.aud3g OK";
  ck_assert_int_eq(hp_ctrl_parse(s, strlen(s), &m, err, sizeof err), 0);
  ck_assert(m.kind == HP_CTRL_MSG_SET_REPLY && m.id == 5);
  ck_assert_str_eq(m.value, "OK");

  s = "ERROR 20 Subscriber doesn't exist.";
  ck_assert_int_eq(hp_ctrl_parse(s, strlen(s), &m, err, sizeof err), 0);
  ck_assert(m.kind == HP_CTRL_MSG_ERROR && m.has_id && m.id == 20);
  ck_assert_uint_eq(m.varlen, 0);
  ck_assert_str_eq(m.value, "Subscriber doesn't exist.");

  s = "ERROR err Request type unknown";
  ck_assert_int_eq(hp_ctrl_parse(s, strlen(s), &m, err, sizeof err), 0);
  ck_assert(m.kind == HP_CTRL_MSG_ERROR && !m.has_id);
  ck_assert_str_eq(m.value, "Request type unknown");

  s = "TRAP 0 subscriber.notify 1";
  ck_assert_int_eq(hp_ctrl_parse(s, strlen(s), &m, err, sizeof err), 0);
  ck_assert(m.kind == HP_CTRL_MSG_TRAP && m.id == 0);

  /* An empty value, with and without its separator. */
  s = "GET_REPLY 2 subscriber.by-imsi-999999999999999.info-aud ";
  ck_assert_int_eq(hp_ctrl_parse(s, strlen(s), &m, err, sizeof err), 0);
  ck_assert_uint_eq(m.valuelen, 0);
  ck_assert_str_eq(m.value, "");
  s = "GET_REPLY 2 x";
  ck_assert_int_eq(hp_ctrl_parse(s, strlen(s), &m, err, sizeof err), 0);
  ck_assert(m.varlen == 1 && m.valuelen == 0);
  s = "ERROR 4";
  ck_assert_int_eq(hp_ctrl_parse(s, strlen(s), &m, err, sizeof err), 0);
  ck_assert_uint_eq(m.valuelen, 0);
  /* The length counts, not a NUL. */
  s = "SET_REPLY 1 subscriber.create 17XYZ";
  ck_assert_int_eq(hp_ctrl_parse(s, strlen(s) - 3, &m, err, sizeof err), 0);
  ck_assert_uint_eq(m.valuelen, 2);
  ck_assert(!memcmp(m.value, "17", 2));
  ck_assert_str_eq(hp_ctrl_msg_kind_name(HP_CTRL_MSG_ERROR), "ERROR");
}
END_TEST

START_TEST(parse_refusals) {
  static const struct {
    const char *text, *reason;
  } bad[] = {
      {"", "empty CTRL message"},
      {" GET_REPLY 1 x y", "empty CTRL message"},
      {"SET 1 subscriber.create 1", "unknown CTRL message kind"},
      {"GET 1 x", "unknown CTRL message kind"},
      {"get_reply 1 x y", "unknown CTRL message kind"},
      {"GET_REPLYX 1 x y", "unknown CTRL message kind"},
      {"GET_REPLY", "CTRL GET_REPLY without an id"},
      {"GET_REPLY  x y", "CTRL GET_REPLY without an id"},
      {"GET_REPLY x var value", "CTRL GET_REPLY with a bad id"},
      {"GET_REPLY -1 var value", "CTRL GET_REPLY with a bad id"},
      {"SET_REPLY 18446744073709551616 var value",
       "CTRL SET_REPLY with a bad id"},
      {"TRAP err var value", "CTRL TRAP with a bad id"},
      {"GET_REPLY 1", "CTRL GET_REPLY without a valid variable"},
      {"GET_REPLY 1 ", "CTRL GET_REPLY without a valid variable"},
      {"GET_REPLY 1  var", "CTRL GET_REPLY without a valid variable"},
      {"SET_REPLY 1 va\tr OK", "CTRL SET_REPLY without a valid variable"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    hp_ctrl_msg m;
    err[0] = '\0';
    ck_assert_int_eq(
        hp_ctrl_parse(bad[i].text, strlen(bad[i].text), &m, err, sizeof err),
        -1);
    ck_assert_msg(strstr(err, bad[i].reason) == err, "%s: got \"%s\"",
                  bad[i].text, err);
  }
  /* The largest id is fine. */
  hp_ctrl_msg m;
  const char *s = "SET_REPLY 18446744073709551615 var OK";
  ck_assert_int_eq(hp_ctrl_parse(s, strlen(s), &m, err, sizeof err), 0);
  ck_assert(m.id == 18446744073709551615ULL);
}
END_TEST

START_TEST(redact_long_hex) {
  static const struct {
    const char *in, *out;
  } cases[] = {
      {"Invalid KI " KI_HEX ".", "Invalid KI <hex>."},
      {"K " K_HEX " OPC " OPC_HEX, "K <hex> OPC <hex>"},
      {"IMSI 452019100000001 is 15 digits",
       "IMSI 452019100000001 is 15 digits"},
      {"0123456789abcdef", "<hex>"},
      {"0123456789abcde", "0123456789abcde"},
      {"x" KI_HEX KI_HEX "y", "x<hex>y"},
      {"", ""},
      {"No such subscriber.", "No such subscriber."},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char buf[256];
    memset(buf, 'Z', sizeof buf);
    snprintf(buf, sizeof buf, "%s", cases[i].in);
    size_t inlen = strlen(buf);
    hp_ctrl_redact(buf);
    ck_assert_str_eq(buf, cases[i].out);
    /* Nothing of the removed digits stays behind the end. */
    for (size_t k = strlen(buf); k < inlen; k++)
      ck_assert_int_eq(buf[k], 0);
  }
  hp_ctrl_redact(NULL);
}
END_TEST

/* ---- aud ---------------------------------------------------------------- */

static void hex(const char *h, unsigned char *out) {
  size_t n;
  ck_assert_int_eq(sp_hex_decode(h, strlen(h), out, 32, &n), 0);
}

static hp_aud want_3g(void) {
  hp_aud a;
  memset(&a, 0, sizeof a);
  unsigned char k[16], opc[16];
  hex(K_HEX, k);
  hex(OPC_HEX, opc);
  ck_assert_int_eq(hp_aud_set_3g(&a, k, 16, opc, 16, 0, err, sizeof err), 0);
  return a;
}

static hp_aud want_2g(void) {
  hp_aud a;
  memset(&a, 0, sizeof a);
  unsigned char ki[16];
  hex(KI_HEX, ki);
  ck_assert_int_eq(hp_aud_set_2g(&a, HP_AUD_COMP128V1, ki, 16, err, sizeof err),
                   0);
  return a;
}

START_TEST(aud_parse_observed) {
  hp_aud a;
  ck_assert_int_eq(
      hp_aud_parse(AUD_BOTH, strlen(AUD_BOTH), &a, err, sizeof err), 0);
  ck_assert(a.has_2g && a.algo2g == HP_AUD_COMP128V1);
  ck_assert_str_eq(a.algo2g_name, "COMP128v1");
  unsigned char b[32];
  hex(KI_HEX, b);
  ck_assert(a.ki.len == 16 && !memcmp(a.ki.b, b, 16));
  ck_assert(a.has_3g && a.algo3g == HP_AUD_MILENAGE && !a.opc_is_op);
  hex(K_HEX, b);
  ck_assert(a.k.len == 16 && !memcmp(a.k.b, b, 16));
  hex(OPC_HEX, b);
  ck_assert(a.opc.len == 16 && !memcmp(a.opc.b, b, 16));
  ck_assert_int_eq(a.ind_bitlen, 5);
  ck_assert(a.has_sqn && a.sqn == 0);

  /* info-all: the other lines are skipped. */
  ck_assert_int_eq(
      hp_aud_parse(INFO_ALL_3G, strlen(INFO_ALL_3G), &a, err, sizeof err), 0);
  ck_assert(!a.has_2g && a.has_3g && a.algo3g == HP_AUD_MILENAGE);

  /* OP stored instead of OPc, another IND, CRLF. */
  static const char op[] =
      "\r\naud3g.algo\tMILENAGE\r\naud3g.k\t" K_HEX "\r\naud3g.op\t" OPC_HEX
      "\r\naud3g.ind_bitlen\t10\r\naud3g.sqn\t"
      "281474976710655\r\n";
  ck_assert_int_eq(hp_aud_parse(op, strlen(op), &a, err, sizeof err), 0);
  ck_assert(a.has_3g && a.opc_is_op && a.ind_bitlen == 10 &&
            a.sqn == 281474976710655ULL);

  /* Nothing at all: the HLR's empty info-aud. */
  ck_assert_int_eq(hp_aud_parse("", 0, &a, err, sizeof err), 0);
  ck_assert(!a.has_2g && !a.has_3g && a.ind_bitlen == -1);
  ck_assert_int_eq(hp_aud_parse(NULL, 0, &a, err, sizeof err), 0);

  /* Other 2G algorithms, and one we do not know. */
  static const char v3[] = "\naud2g.algo\tCOMP128v3\naud2g.ki\t" KI_HEX;
  ck_assert_int_eq(hp_aud_parse(v3, strlen(v3), &a, err, sizeof err), 0);
  ck_assert(a.algo2g == HP_AUD_COMP128V3);
  static const char xr[] = "\naud2g.algo\tXOR\naud2g.ki\t" KI_HEX;
  ck_assert_int_eq(hp_aud_parse(xr, strlen(xr), &a, err, sizeof err), 0);
  ck_assert(a.algo2g == HP_AUD_XOR);
  static const char tu[] = "\naud3g.algo\tTUAK\naud3g.k\t" K_HEX K_HEX;
  ck_assert_int_eq(hp_aud_parse(tu, strlen(tu), &a, err, sizeof err), 0);
  ck_assert(a.algo3g == HP_AUD_ALGO_OTHER && a.k.len == 32);
  ck_assert_str_eq(a.algo3g_name, "TUAK");
  /* MILENAGE is not a 2G algorithm. */
  static const char m2[] = "\naud2g.algo\tMILENAGE\naud2g.ki\t" KI_HEX;
  ck_assert_int_eq(hp_aud_parse(m2, strlen(m2), &a, err, sizeof err), 0);
  ck_assert(a.algo2g == HP_AUD_ALGO_OTHER);
  hp_aud_wipe(&a);
}
END_TEST

static const struct {
  const char *text, *reason;
} aud_bad[] = {
    {"\naud2g.algo\tCOMP128v1\naud2g.ki\tzz0102030405060708090a0b0c0d0e0f",
     "aud2g.ki is not hex of 1-32 bytes"},
    {"\naud2g.algo\tCOMP128v1\naud2g.ki\t00010203040506070",
     "aud2g.ki is not hex of 1-32 bytes"},
    {"\naud2g.algo\tCOMP128v1\naud2g.ki\t",
     "aud2g.ki is not hex of 1-32 bytes"},
    {"\naud3g.algo\tMILENAGE\naud3g.k\t" K_HEX K_HEX "00\naud3g.opc\t" OPC_HEX,
     "aud3g.k is not hex of 1-32 bytes"},
    {"\naud3g.algo\tMILENAGE\naud3g.k\t" K_HEX "\naud3g.opc\t" OPC_HEX " ",
     "aud3g.opc is not hex of 1-32 bytes"},
    {"\naud2g.algo\tCOMP128v1\naud2g.ki\t" KI_HEX "\naud2g.ki\t" KI_HEX,
     "aud2g.ki appears twice"},
    {"\naud2g.algo\tCOMP128v1", "aud2g.algo without aud2g.ki"},
    {"\naud2g.ki\t" KI_HEX, "aud2g.ki without aud2g.algo"},
    {"\naud3g.algo\tMILENAGE", "aud3g.algo without aud3g.k"},
    {"\naud3g.k\t" K_HEX, "aud3g.k without aud3g.algo"},
    {"\naud3g.opc\t" OPC_HEX, "aud3g.op(c) without aud3g.algo"},
    {"\naud3g.algo\tMILENAGE\naud3g.k\t" K_HEX, "MILENAGE without OP or OPc"},
    {"\naud3g.algo\tMILENAGE\naud3g.k\t" K_HEX "\naud3g.op\t" OPC_HEX
     "\naud3g.opc\t" OPC_HEX,
     "both aud3g.op and aud3g.opc"},
    {"\naud2g.algo\tCOMP 128\naud2g.ki\t" KI_HEX,
     "aud2g.algo is not an algorithm name"},
    {"\naud2g.algo\t\naud2g.ki\t" KI_HEX,
     "aud2g.algo is not an algorithm name"},
    {"\naud3g.algo\tMILENAGE_BUT_A_VERY_LONG_NAME\naud3g.k\t" K_HEX,
     "aud3g.algo is not an algorithm name"},
    {"\naud3g.algo\tMILENAGE\naud3g.k\t" K_HEX "\naud3g.opc\t" OPC_HEX
     "\naud3g.ind_bitlen\t65",
     "aud3g.ind_bitlen is not a number in range"},
    {"\naud3g.algo\tMILENAGE\naud3g.k\t" K_HEX "\naud3g.opc\t" OPC_HEX
     "\naud3g.sqn\t-1",
     "aud3g.sqn is not a number in range"},
    {"\naud3g.algo\tMILENAGE\naud3g.k\t" K_HEX "\naud3g.opc\t" OPC_HEX
     "\naud3g.sqn\t18446744073709551616",
     "aud3g.sqn is not a number in range"},
    {"\naud2g.ki " KI_HEX, "an info line without a TAB"},
    {"GET_REPLY 1 x " KI_HEX, "an info line without a TAB"},
};

START_TEST(aud_parse_refusals) {
  hp_aud a;
  err[0] = '\0';
  ck_assert_int_eq(hp_aud_parse(aud_bad[_i].text, strlen(aud_bad[_i].text), &a,
                                err, sizeof err),
                   -1);
  ck_assert_msg(!strcmp(err, aud_bad[_i].reason), "case %d: got \"%s\"", _i,
                err);
  /* No key material in the reason, and none left in the struct. */
  ck_assert(!strstr(err, "0001020304") && !strstr(err, "0011223344") &&
            !strstr(err, "ffeeddcc"));
  ck_assert(!a.has_2g && !a.has_3g && a.ki.len == 0 && a.k.len == 0);
  unsigned char zero[HP_AUD_KEY_MAX] = {0};
  ck_assert(!memcmp(a.ki.b, zero, sizeof zero) &&
            !memcmp(a.k.b, zero, sizeof zero) &&
            !memcmp(a.opc.b, zero, sizeof zero));
}
END_TEST

START_TEST(aud_compare) {
  hp_aud w3 = want_3g(), w2 = want_2g(), both = want_3g(), have;
  memcpy(&both.ki, &w2.ki, sizeof w2.ki);
  both.has_2g = 1;
  both.algo2g = HP_AUD_COMP128V1;
  char reason[256];
  ck_assert_int_eq(hp_aud_matches(INFO_ALL_3G, strlen(INFO_ALL_3G), &w3, reason,
                                  sizeof reason),
                   HP_AUD_MATCH);
  ck_assert_int_eq(
      hp_aud_matches(AUD_BOTH, strlen(AUD_BOTH), &both, reason, sizeof reason),
      HP_AUD_MATCH);
  /* 2G data the HLR holds and we did not mean. */
  ck_assert_int_eq(
      hp_aud_matches(AUD_BOTH, strlen(AUD_BOTH), &w3, reason, sizeof reason),
      HP_AUD_DIFFERS);
  ck_assert_str_eq(reason, "the HLR has 2G auth data, none was meant");
  ck_assert_int_eq(
      hp_aud_matches(AUD_BOTH, strlen(AUD_BOTH), &w2, reason, sizeof reason),
      HP_AUD_DIFFERS);
  ck_assert_str_eq(reason, "the HLR has 3G auth data, none was meant");
  ck_assert_int_eq(hp_aud_matches("", 0, &w3, reason, sizeof reason),
                   HP_AUD_DIFFERS);
  ck_assert_str_eq(reason, "the HLR has no 3G auth data");
  ck_assert_int_eq(hp_aud_matches("", 0, &w2, reason, sizeof reason),
                   HP_AUD_DIFFERS);
  ck_assert_str_eq(reason, "the HLR has no 2G auth data");

  /* One flipped bit in each key. */
  static const struct {
    const char *text;
    const char *reason;
    int is_3g;
  } flips[] = {
      {"\naud2g.algo\tCOMP128v1\naud2g.ki\t000102030405060708090a0b0c0d0e0e",
       "aud2g.ki differs", 0},
      {"\naud2g.algo\tCOMP128v1\naud2g.ki\t800102030405060708090a0b0c0d0e0f",
       "aud2g.ki differs", 0},
      {"\naud2g.algo\tCOMP128v2\naud2g.ki\t" KI_HEX,
       "aud2g.algo is COMP128v2, not COMP128v1", 0},
      {"\naud2g.algo\tFOO\naud2g.ki\t" KI_HEX,
       "aud2g.algo is FOO, not COMP128v1", 0},
      {"\naud2g.algo\tCOMP128v1\naud2g.ki\t" KI_HEX "00", "aud2g.ki differs",
       0},
      {"\naud3g.algo\tMILENAGE\naud3g.k\t00112233445566778899aabbccddeefe"
       "\naud3g.opc\t" OPC_HEX,
       "aud3g.k differs", 1},
      {"\naud3g.algo\tMILENAGE\naud3g.k\t" K_HEX
       "\naud3g.opc\tffeeddccbbaa99887766554433221101",
       "aud3g.opc differs", 1},
      {"\naud3g.algo\tMILENAGE\naud3g.k\t" K_HEX "\naud3g.op\t" OPC_HEX,
       "the HLR holds OP, not OPc", 1},
      {"\naud3g.algo\tXOR\naud3g.k\t" K_HEX, "aud3g.algo is XOR, not MILENAGE",
       1},
  };
  for (size_t i = 0; i < sizeof flips / sizeof *flips; i++) {
    reason[0] = '\0';
    ck_assert_int_eq(hp_aud_matches(flips[i].text, strlen(flips[i].text),
                                    flips[i].is_3g ? &w3 : &w2, reason,
                                    sizeof reason),
                     HP_AUD_DIFFERS);
    ck_assert_msg(!strcmp(reason, flips[i].reason), "case %zu: %s", i, reason);
  }
  /* OP meant, OP held: match; OP meant, OPc held: differs. */
  hp_aud wop = want_3g();
  wop.opc_is_op = 1;
  static const char op[] =
      "\naud3g.algo\tMILENAGE\naud3g.k\t" K_HEX "\naud3g.op\t" OPC_HEX;
  ck_assert_int_eq(hp_aud_matches(op, strlen(op), &wop, reason, sizeof reason),
                   HP_AUD_MATCH);
  ck_assert_int_eq(hp_aud_matches(INFO_ALL_3G, strlen(INFO_ALL_3G), &wop,
                                  reason, sizeof reason),
                   HP_AUD_DIFFERS);
  ck_assert_str_eq(reason, "the HLR holds OPc, not OP");

  /* Unreadable text; nothing meant. */
  ck_assert_int_eq(hp_aud_matches(aud_bad[0].text, strlen(aud_bad[0].text), &w2,
                                  reason, sizeof reason),
                   HP_AUD_UNREADABLE);
  ck_assert_str_eq(reason, "aud2g.ki is not hex of 1-32 bytes");
  hp_aud none;
  memset(&none, 0, sizeof none);
  ck_assert_int_eq(
      hp_aud_parse(AUD_BOTH, strlen(AUD_BOTH), &have, err, sizeof err), 0);
  ck_assert_int_eq(hp_aud_compare(&have, &none, reason, sizeof reason),
                   HP_AUD_UNREADABLE);
  ck_assert_int_eq(hp_aud_compare(&have, &both, reason, sizeof reason),
                   HP_AUD_MATCH);
  ck_assert_str_eq(reason, "");
  ck_assert_str_eq(hp_aud_verdict_name(HP_AUD_DIFFERS), "differs");
  hp_aud_wipe(&have);
}
END_TEST

START_TEST(aud_set_refusals) {
  hp_aud a;
  memset(&a, 0, sizeof a);
  unsigned char k[16] = {1};
  ck_assert_int_eq(hp_aud_set_2g(&a, HP_AUD_MILENAGE, k, 16, err, sizeof err),
                   -1);
  ck_assert_str_eq(err, "MILENAGE is not a 2G algorithm");
  ck_assert_int_eq(hp_aud_set_2g(&a, HP_AUD_COMP128V1, k, 15, err, sizeof err),
                   -1);
  ck_assert_str_eq(err, "a 2G Ki has 16 bytes, not 15");
  ck_assert_int_eq(hp_aud_set_3g(&a, k, 16, k, 8, 0, err, sizeof err), -1);
  ck_assert_str_eq(err, "MILENAGE K and OPc have 16 bytes each, not 16 and 8");
  ck_assert(!a.has_2g && !a.has_3g);
}
END_TEST

/* ---- the client against a fake CTRL server ------------------------------ */

typedef struct fake {
  int lfd, port, scenario;
  pthread_t th;
  char note[512]; /* what went wrong on the server side, "" if nothing */
  int requests;   /* how many the server read */
  char last[512]; /* text of the last request read */
} fake;

static int read_full(int fd, unsigned char *p, size_t n) {
  while (n) {
    ssize_t r = read(fd, p, n);
    if (r <= 0)
      return -1;
    p += r, n -= (size_t)r;
  }
  return 0;
}

/* One frame; 0 ok, -1 at EOF. */
static int srv_read(int fd, unsigned char *proto, char *text, size_t cap) {
  unsigned char h[3];
  if (read_full(fd, h, 3) < 0)
    return -1;
  size_t len = (size_t)h[0] << 8 | h[1];
  unsigned char buf[70000];
  if (read_full(fd, buf, len) < 0)
    return -1;
  *proto = h[2];
  if (h[2] == HP_IPA_PROTO_OSMO) {
    snprintf(text, cap, "%.*s", (int)len - 1, (char *)buf + 1);
  } else {
    text[0] = (char)buf[0];
    text[1] = '\0';
  }
  return 0;
}

/* The server thread never ck_asserts (that would end the test process
 * from the wrong thread): a failed write shows up on the client side. */
static void srv_write(int fd, const void *p, size_t n) {
  if (write(fd, p, n) != (ssize_t)n)
    fprintf(stderr, "fake server: short write\n");
}

static void srv_send(int fd, const char *text) {
  unsigned char f[2048];
  srv_write(fd, f, ctrl_frame(f, text));
}

static unsigned long long req_id(const char *text) {
  return strtoull(strchr(text, ' ') + 1, NULL, 10);
}

/* A request's variable: its third word. */
static void req_var(const char *text, char *var, size_t cap) {
  const char *p = strchr(strchr(text, ' ') + 1, ' ') + 1;
  size_t n = strcspn(p, " ");
  snprintf(var, cap, "%.*s", (int)n, p);
}

static void *fake_main(void *arg) {
  fake *f = arg;
  int fd = accept(f->lfd, NULL, NULL);
  if (fd < 0)
    return NULL;
  struct timeval tv = {.tv_sec = 10};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  unsigned char proto;
  char text[1024], var[256], out[2048];
  unsigned long long ids[64];
  char vars[64][256];
  switch (f->scenario) {
  case 1: /* pipelining: read 10, answer in reverse with a TRAP and a PING
             in between, then expect the PONG. */
    for (int i = 0; i < 10; i++) {
      if (srv_read(fd, &proto, text, sizeof text) < 0) {
        snprintf(f->note, sizeof f->note, "EOF after %d requests", i);
        break;
      }
      f->requests++;
      ids[i] = req_id(text);
      req_var(text, vars[i], sizeof vars[i]);
    }
    srv_send(fd, "TRAP 0 some.thing 1");
    for (int i = 9; i >= 0; i--) {
      snprintf(out, sizeof out, "GET_REPLY %llu %s value-%s", ids[i], vars[i],
               vars[i]);
      srv_send(fd, out);
      if (i == 5) {
        unsigned char ping[4] = {0, 1, HP_IPA_PROTO_CCM, HP_IPA_CCM_PING};
        srv_write(fd, ping, 4);
      }
    }
    if (srv_read(fd, &proto, text, sizeof text) < 0 ||
        proto != HP_IPA_PROTO_CCM || text[0] != HP_IPA_CCM_PONG)
      snprintf(f->note, sizeof f->note, "no PONG after the PING");
    /* One more request, answered one byte at a time. */
    if (srv_read(fd, &proto, text, sizeof text) == 0) {
      req_var(text, var, sizeof var);
      snprintf(out, sizeof out, "SET_REPLY %llu %s OK", req_id(text), var);
      unsigned char fr[1024];
      size_t n = ctrl_frame(fr, out);
      for (size_t i = 0; i < n; i++) {
        srv_write(fd, fr + i, 1);
        usleep(1000);
      }
    }
    break;
  case 2: /* errors: an ERROR with a key in it; a long reply; an OK. */
    while (srv_read(fd, &proto, text, sizeof text) == 0) {
      f->requests++;
      snprintf(f->last, sizeof f->last, "%.500s", text);
      req_var(text, var, sizeof var);
      if (!strncmp(text, "SET", 3))
        snprintf(out, sizeof out, "ERROR %llu Invalid KI " KI_HEX ".",
                 req_id(text));
      else if (!strcmp(var, "long"))
        snprintf(out, sizeof out, "GET_REPLY %llu long %0100d", req_id(text),
                 7);
      else
        snprintf(out, sizeof out, "GET_REPLY %llu %s %s", req_id(text), var,
                 AUD_BOTH);
      srv_send(fd, out);
    }
    break;
  case 3: /* silence: read everything, answer nothing. */
    while (srv_read(fd, &proto, text, sizeof text) == 0)
      f->requests++;
    break;
  case 4: /* read two, then hang up */
    for (int i = 0; i < 2 && srv_read(fd, &proto, text, sizeof text) == 0; i++)
      f->requests++;
    break;
  case 10: /* answer at once; the client polls late */
    while (srv_read(fd, &proto, text, sizeof text) == 0) {
      f->requests++;
      req_var(text, var, sizeof var);
      snprintf(out, sizeof out, "GET_REPLY %llu %s on-time", req_id(text), var);
      srv_send(fd, out);
    }
    break;
  case 5: /* a reply to an id never sent, after a good one */
  case 6: /* a SET_REPLY to a GET */
  case 7: /* a reply for another variable */
  case 8: /* the HLR could not read the id */
  case 9: /* garbage bytes */
    if (srv_read(fd, &proto, text, sizeof text) < 0)
      break;
    f->requests++;
    req_var(text, var, sizeof var);
    snprintf(out, sizeof out, "GET_REPLY %llu %s fine", req_id(text), var);
    srv_send(fd, out);
    if (srv_read(fd, &proto, text, sizeof text) < 0)
      break;
    f->requests++;
    req_var(text, var, sizeof var);
    if (f->scenario == 5)
      snprintf(out, sizeof out, "GET_REPLY 99 %s x", var);
    else if (f->scenario == 6)
      snprintf(out, sizeof out, "SET_REPLY %llu %s x", req_id(text), var);
    else if (f->scenario == 7)
      snprintf(out, sizeof out, "GET_REPLY %llu other.var x", req_id(text));
    else if (f->scenario == 8)
      snprintf(out, sizeof out, "ERROR err Request " KI_HEX " malformed");
    if (f->scenario == 9)
      srv_write(fd, "HTTP/1.0 400\r\n", 14);
    else
      srv_send(fd, out);
    while (srv_read(fd, &proto, text, sizeof text) == 0)
      ;
    break;
  }
  close(fd);
  return NULL;
}

static fake *fake_start(int scenario) {
  fake *f = calloc(1, sizeof *f);
  f->scenario = scenario;
  f->lfd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET,
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  ck_assert_int_eq(bind(f->lfd, (struct sockaddr *)&sa, sizeof sa), 0);
  ck_assert_int_eq(listen(f->lfd, 4), 0);
  socklen_t sl = sizeof sa;
  getsockname(f->lfd, (struct sockaddr *)&sa, &sl);
  f->port = ntohs(sa.sin_port);
  ck_assert_int_eq(pthread_create(&f->th, NULL, fake_main, f), 0);
  return f;
}

static void fake_stop(fake *f) {
  pthread_join(f->th, NULL);
  close(f->lfd);
  ck_assert_msg(f->note[0] == '\0', "fake server: %s", f->note);
  free(f);
}

static hp_ctrl *fake_connect(fake *f, int timeout_ms) {
  char addr[64];
  snprintf(addr, sizeof addr, "127.0.0.1:%d", f->port);
  hp_ctrl *c = hp_ctrl_connect(addr, timeout_ms, err, sizeof err);
  ck_assert_msg(c != NULL, "%s", err);
  return c;
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

START_TEST(client_pipelines_out_of_order) {
  fake *f = fake_start(1);
  hp_ctrl *c = fake_connect(f, 5000);
  ck_assert_int_eq(hp_ctrl_set_window(c, 10, err, sizeof err), 0);
  ck_assert_int_eq(hp_ctrl_window(c), 10);
  static int tags[10];
  for (int i = 0; i < 10; i++) {
    char var[64];
    snprintf(var, sizeof var, "subscriber.by-imsi-45201910000%04d.msisdn", i);
    tags[i] = i;
    ck_assert_int_eq(
        hp_ctrl_submit(c, HP_CTRL_GET, var, NULL, &tags[i], err, sizeof err),
        0);
  }
  ck_assert_int_eq(hp_ctrl_outstanding(c), 10);
  /* The window is full. */
  ck_assert_int_eq(
      hp_ctrl_submit(c, HP_CTRL_GET, "x", NULL, NULL, err, sizeof err), -1);
  ck_assert_str_eq(err, "CTRL window full (10 in flight)");
  ck_assert_int_eq(hp_ctrl_set_window(c, 5, err, sizeof err), -1);
  int seen[10] = {0}, order[10], n = 0;
  while (n < 10) {
    hp_ctrl_reply r;
    ck_assert_int_eq(hp_ctrl_poll(c, 5000, &r), 1);
    int i = *(int *)r.tag;
    char want[128];
    snprintf(want, sizeof want,
             "value-subscriber.by-imsi-45201910000%04d.msisdn", i);
    ck_assert_int_eq(r.status, HP_CTRL_OK);
    ck_assert_str_eq(r.value, want);
    ck_assert_uint_eq(r.len, strlen(want));
    ck_assert_uint_eq(r.id, (unsigned long long)i + 1); /* ids from 1 */
    ck_assert(!seen[i]);
    seen[i] = 1;
    order[n++] = i;
  }
  ck_assert_int_eq(order[0], 9); /* they came in reverse */
  ck_assert_int_eq(order[9], 0);
  ck_assert_int_eq(hp_ctrl_outstanding(c), 0);
  hp_ctrl_reply r;
  ck_assert_int_eq(hp_ctrl_poll(c, 0, &r), 0);
  /* The sync form over a reply arriving a byte at a time. */
  char reply[64];
  ck_assert_int_eq(hp_ctrl_call(c, HP_CTRL_SET, "subscriber.by-imsi-1.msisdn",
                                "none", reply, sizeof reply, err, sizeof err),
                   HP_CTRL_OK);
  ck_assert_str_eq(reply, "OK");
  ck_assert(!hp_ctrl_broken(c));
  hp_ctrl_close(c);
  fake_stop(f);
}
END_TEST

START_TEST(client_errors_and_sync_call) {
  fake *f = fake_start(2);
  hp_ctrl *c = fake_connect(f, 5000);
  char reply[512];
  /* The HLR's ERROR, with the key it quoted removed. */
  ck_assert_int_eq(hp_ctrl_call(c, HP_CTRL_SET, "subscriber.by-imsi-1.aud2g",
                                "comp128v1," KI_HEX, reply, sizeof reply, err,
                                sizeof err),
                   HP_CTRL_ERROR);
  ck_assert_str_eq(err, "Invalid KI <hex>.");
  ck_assert_str_eq(reply, "");
  /* A reply too long for the buffer. */
  ck_assert_int_eq(
      hp_ctrl_call(c, HP_CTRL_GET, "long", NULL, reply, 50, err, sizeof err),
      HP_CTRL_INVALID);
  ck_assert_str_eq(err, "reply of 100 bytes to long does not fit 50");
  /* A multi-line value. */
  ck_assert_int_eq(hp_ctrl_call(c, HP_CTRL_GET, "subscriber.by-imsi-1.info-aud",
                                NULL, reply, sizeof reply, err, sizeof err),
                   HP_CTRL_OK);
  ck_assert_str_eq(reply, AUD_BOTH);
  /* A refused value: not sent, not quoted. */
  ck_assert_int_eq(hp_ctrl_call(c, HP_CTRL_SET, "subscriber.by-imsi-1.aud2g",
                                "comp128v1 " KI_HEX, reply, sizeof reply, err,
                                sizeof err),
                   HP_CTRL_INVALID);
  ck_assert_msg(!strstr(err, "0001020304"), "%s", err);
  /* Sync with a request in flight is refused. */
  ck_assert_int_eq(hp_ctrl_submit(c, HP_CTRL_GET, "subscriber.by-imsi-1.x",
                                  NULL, NULL, err, sizeof err),
                   0);
  ck_assert_int_eq(hp_ctrl_call(c, HP_CTRL_GET, "y", NULL, reply, sizeof reply,
                                err, sizeof err),
                   HP_CTRL_INVALID);
  ck_assert_str_eq(err, "hp_ctrl_call with 1 requests in flight");
  hp_ctrl_reply r;
  ck_assert_int_eq(hp_ctrl_poll(c, 5000, &r), 1);
  ck_assert_int_eq(r.status, HP_CTRL_OK);
  ck_assert_int_eq(hp_ctrl_outstanding(c), 0);
  ck_assert(!hp_ctrl_broken(c));
  hp_ctrl_close(c);
  ck_assert_int_eq(f->requests, 4); /* the refused value never went */
  fake_stop(f);
}
END_TEST

START_TEST(client_timeout_breaks_the_connection) {
  fake *f = fake_start(3);
  hp_ctrl *c = fake_connect(f, 5000);
  hp_ctrl_set_timeout(c, 300);
  static int tags[3] = {0, 1, 2};
  long long t0 = now_ms();
  for (int i = 0; i < 3; i++)
    ck_assert_int_eq(hp_ctrl_submit(c, HP_CTRL_SET, "subscriber.create",
                                    "452019100000001", &tags[i], err,
                                    sizeof err),
                     0);
  hp_ctrl_reply r;
  /* A short poll comes back empty, without breaking anything. */
  ck_assert_int_eq(hp_ctrl_poll(c, 50, &r), 0);
  ck_assert(!hp_ctrl_broken(c));
  int timeouts = 0, broken = 0;
  for (int i = 0; i < 3; i++) {
    ck_assert_int_eq(hp_ctrl_poll(c, 5000, &r), 1);
    ck_assert_int_eq(*(int *)r.tag, i); /* oldest first */
    if (r.status == HP_CTRL_TIMEOUT) {
      timeouts++;
      ck_assert_msg(
          !strcmp(r.value, "timeout: no reply from the HLR within 300 ms"),
          "%s", r.value);
    } else {
      ck_assert_int_eq(r.status, HP_CTRL_BROKEN);
      broken++;
    }
  }
  long long took = now_ms() - t0;
  /* The first expired; the others expired with it or, a millisecond
   * younger, were cut off by the break. */
  ck_assert_int_ge(timeouts, 1);
  ck_assert_int_eq(timeouts + broken, 3);
  ck_assert_msg(took >= 290 && took < 3000, "took %lld ms", took);
  ck_assert(hp_ctrl_broken(c));
  ck_assert_str_eq(hp_ctrl_error(c), "no reply from the HLR within 300 ms");
  ck_assert_int_eq(hp_ctrl_outstanding(c), 0);
  ck_assert_int_eq(hp_ctrl_poll(c, 100, &r), 0);
  ck_assert_int_eq(
      hp_ctrl_submit(c, HP_CTRL_GET, "x", NULL, NULL, err, sizeof err), -1);
  ck_assert_msg(strstr(err, "is broken: no reply from the HLR within 300 ms"),
                "%s", err);
  char reply[16];
  ck_assert_int_eq(hp_ctrl_call(c, HP_CTRL_GET, "x", NULL, reply, sizeof reply,
                                err, sizeof err),
                   HP_CTRL_BROKEN);
  hp_ctrl_close(c); /* the fake sees EOF */
  fake_stop(f);
}
END_TEST

START_TEST(client_late_poll_keeps_replies) {
  /* The replies came in time; the caller looks after the timeout. They
   * count, and nothing is broken. */
  fake *f = fake_start(10);
  hp_ctrl *c = fake_connect(f, 5000);
  hp_ctrl_set_timeout(c, 100);
  for (int i = 0; i < 3; i++)
    ck_assert_int_eq(
        hp_ctrl_submit(c, HP_CTRL_GET, "a.b", NULL, NULL, err, sizeof err), 0);
  usleep(300000);
  hp_ctrl_reply r;
  for (int i = 0; i < 3; i++) {
    ck_assert_int_eq(hp_ctrl_poll(c, 1000, &r), 1);
    ck_assert_int_eq(r.status, HP_CTRL_OK);
    ck_assert_str_eq(r.value, "on-time");
  }
  ck_assert(!hp_ctrl_broken(c));
  hp_ctrl_close(c);
  fake_stop(f);
}
END_TEST

START_TEST(client_peer_hangs_up) {
  fake *f = fake_start(4);
  hp_ctrl *c = fake_connect(f, 5000);
  FILE *logs = tmpfile();
  sp_log_set_stream(logs);
  static int tags[3] = {0, 1, 2};
  for (int i = 0; i < 2; i++)
    ck_assert_int_eq(hp_ctrl_submit(c, HP_CTRL_SET, "a.b", "comp128v1," KI_HEX,
                                    &tags[i], err, sizeof err),
                     0);
  hp_ctrl_reply r;
  for (int i = 0; i < 2; i++) {
    ck_assert_int_eq(hp_ctrl_poll(c, 5000, &r), 1);
    ck_assert_int_eq(r.status, HP_CTRL_BROKEN);
    ck_assert_int_eq(*(int *)r.tag, i);
    ck_assert_str_eq(r.value,
                     "connection broken: the HLR closed the connection");
  }
  ck_assert(hp_ctrl_broken(c));
  /* One warning, naming the reason and never a request value. */
  sp_log_set_stream(NULL);
  char line[1024] = "";
  rewind(logs);
  size_t n = fread(line, 1, sizeof line - 1, logs);
  line[n] = '\0';
  fclose(logs);
  ck_assert_msg(strstr(line, "\"msg\":\"HLR CTRL connection broken\"") &&
                    strstr(line, "the HLR closed the connection") &&
                    strstr(line, "\"in_flight\":\"2\""),
                "%s", line);
  ck_assert_msg(!strstr(line, "0001020304"), "%s", line);
  hp_ctrl_close(c);
  fake_stop(f);
}
END_TEST

static const struct {
  int scenario;
  const char *error;
} protocol_errors[] = {
    {5, "protocol error: a reply to no request in flight (id 99)"},
    {6, "protocol error: a reply of the wrong kind (id 2)"},
    {7, "protocol error: a reply for another variable (id 2)"},
    {8, "the HLR could not read a request: Request <hex> malformed"},
    {9, "protocol error: unexpected IPA stream 0x54"},
};

START_TEST(client_protocol_errors) {
  fake *f = fake_start(protocol_errors[_i].scenario);
  hp_ctrl *c = fake_connect(f, 5000);
  char reply[64];
  ck_assert_int_eq(hp_ctrl_call(c, HP_CTRL_GET, "a.b", NULL, reply,
                                sizeof reply, err, sizeof err),
                   HP_CTRL_OK);
  ck_assert_str_eq(reply, "fine");
  ck_assert_int_eq(hp_ctrl_call(c, HP_CTRL_GET, "a.c", NULL, reply,
                                sizeof reply, err, sizeof err),
                   HP_CTRL_BROKEN);
  char want[256];
  snprintf(want, sizeof want, "connection broken: %s",
           protocol_errors[_i].error);
  ck_assert_msg(!strcmp(err, want), "got \"%s\", want \"%s\"", err, want);
  ck_assert(hp_ctrl_broken(c));
  hp_ctrl_close(c);
  fake_stop(f);
}
END_TEST

START_TEST(client_connect_refusals) {
  static const char *bad[] = {"",
                              "127.0.0.1",
                              "127.0.0.1:",
                              ":4259",
                              "127.0.0.1:0",
                              "127.0.0.1:65536",
                              "127.0.0.1:42x",
                              "[::1]4259",
                              "[::1]:"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    err[0] = '\0';
    ck_assert_ptr_null(hp_ctrl_connect(bad[i], 1000, err, sizeof err));
    ck_assert_msg(strstr(err, "is not HOST:PORT"), "%s: %s", bad[i], err);
  }
  ck_assert_ptr_null(hp_ctrl_connect(NULL, 1000, err, sizeof err));
  ck_assert_ptr_null(hp_ctrl_connect("127.0.0.1:4259", 0, err, sizeof err));
  /* A closed port: a port we bound and closed. */
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET,
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  bind(s, (struct sockaddr *)&sa, sizeof sa);
  socklen_t sl = sizeof sa;
  getsockname(s, (struct sockaddr *)&sa, &sl);
  close(s);
  char addr[64];
  snprintf(addr, sizeof addr, "127.0.0.1:%d", ntohs(sa.sin_port));
  ck_assert_ptr_null(hp_ctrl_connect(addr, 1000, err, sizeof err));
  ck_assert_msg(strstr(err, "cannot connect to HLR CTRL 127.0.0.1:") &&
                    strstr(err, "Connection refused"),
                "%s", err);
  /* Window limits. */
  fake *f = fake_start(3);
  hp_ctrl *c = fake_connect(f, 1000);
  ck_assert_int_eq(hp_ctrl_window(c), HP_CTRL_DEFAULT_WINDOW);
  ck_assert_int_eq(hp_ctrl_set_window(c, 0, err, sizeof err), -1);
  ck_assert_int_eq(
      hp_ctrl_set_window(c, HP_CTRL_MAX_WINDOW + 1, err, sizeof err), -1);
  ck_assert_str_eq(err, "CTRL window must be 1-1024, not 1025");
  ck_assert_int_eq(hp_ctrl_set_window(c, HP_CTRL_MAX_WINDOW, err, sizeof err),
                   0);
  snprintf(addr, sizeof addr, "127.0.0.1:%d", f->port);
  ck_assert_str_eq(hp_ctrl_addr(c), addr);
  ck_assert_str_eq(hp_ctrl_status_name(HP_CTRL_TIMEOUT), "timeout");
  hp_ctrl_close(c);
  fake_stop(f);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("hlr_ctrl");
  TCase *t = tcase_create("proto");
  tcase_add_test(t, encode_get_and_set);
  tcase_add_test(t, encode_refusals_never_quote_the_value);
  tcase_add_test(t, decode_round_trip);
  tcase_add_test(t, decode_partial_and_coalesced);
  tcase_add_test(t, decode_largest_frame_and_full_buffer);
  tcase_add_loop_test(t, decode_malformed, 0,
                      sizeof malformed / sizeof *malformed);
  tcase_add_test(t, decode_space_commit);
  tcase_add_test(t, parse_replies);
  tcase_add_test(t, parse_refusals);
  tcase_add_test(t, redact_long_hex);
  suite_add_tcase(s, t);
  t = tcase_create("aud");
  tcase_add_test(t, aud_parse_observed);
  tcase_add_loop_test(t, aud_parse_refusals, 0,
                      sizeof aud_bad / sizeof *aud_bad);
  tcase_add_test(t, aud_compare);
  tcase_add_test(t, aud_set_refusals);
  suite_add_tcase(s, t);
  t = tcase_create("client");
  tcase_add_test(t, client_pipelines_out_of_order);
  tcase_add_test(t, client_errors_and_sync_call);
  tcase_add_test(t, client_timeout_breaks_the_connection);
  tcase_add_test(t, client_late_poll_keeps_replies);
  tcase_add_test(t, client_peer_hangs_up);
  tcase_add_loop_test(t, client_protocol_errors, 0,
                      sizeof protocol_errors / sizeof *protocol_errors);
  tcase_add_test(t, client_connect_refusals);
  suite_add_tcase(s, t);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
