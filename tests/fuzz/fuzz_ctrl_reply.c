/* fuzz_ctrl_reply - what an HLR's CTRL port sends us, as ctrl_client
 * reads it: the bytes go through the IPA decoder in chunks (sizes taken
 * from the input, so frames are split and coalesced every way), each CTRL
 * message through hp_ctrl_parse, each reply value through hp_aud_parse and
 * hp_aud_compare, each ERROR reason through hp_ctrl_redact. The whole
 * input also goes straight to hp_aud_parse (the info-aud text).
 *
 * Invariants: a decoded CTRL message is NUL-terminated printable ASCII
 * (tabs, newlines allowed) no longer than a frame; a decoder failure is
 * sticky and gives a reason; a parsed message's parts lie inside it, a
 * reply names a variable without spaces; parsed auth data have keys of
 * 1-32 bytes exactly when their block is present, a refused text leaves
 * the struct wiped and gives a reason; no reason ever holds a run of 16
 * hex digits (key material); redacted text has no such run left. */
#include "aud.h"
#include "ctrl_proto.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  return 0;
}

static const hp_aud *want(void) {
  static hp_aud w;
  static int done;
  if (!done) {
    static const unsigned char k[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
                                        0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
                                        0xcc, 0xdd, 0xee, 0xff};
    char e[128];
    hp_aud_set_2g(&w, HP_AUD_COMP128V1, k, 16, e, sizeof e);
    hp_aud_set_3g(&w, k, 16, k, 16, 0, e, sizeof e);
    done = 1;
  }
  return &w;
}

static void check_aud(const char *text, size_t len) {
  hp_aud a;
  char err[256] = "";
  if (hp_aud_parse(text, len, &a, err, sizeof err) < 0) {
    FZ_CHECK(fz_errstr_ok(err, sizeof err), "aud refused, no reason");
    FZ_CHECK(fz_no_key(err), "aud reason holds hex");
    FZ_CHECK(!a.has_2g && !a.has_3g && a.ki.len == 0 && a.k.len == 0 &&
                 a.opc.len == 0 && fz_zero(a.ki.b, sizeof a.ki.b) &&
                 fz_zero(a.k.b, sizeof a.k.b) &&
                 fz_zero(a.opc.b, sizeof a.opc.b),
             "refused aud not wiped");
    return;
  }
  FZ_CHECK(!a.has_2g || (a.ki.len >= 1 && a.ki.len <= HP_AUD_KEY_MAX),
           "2G without a Ki of 1-32 bytes");
  FZ_CHECK(a.has_2g || a.ki.len == 0, "Ki without 2G");
  FZ_CHECK(!a.has_3g || (a.k.len >= 1 && a.k.len <= HP_AUD_KEY_MAX),
           "3G without a K of 1-32 bytes");
  FZ_CHECK(a.has_3g || (a.k.len == 0 && a.opc.len == 0), "K/OPc without 3G");
  FZ_CHECK(!a.has_3g || a.algo3g != HP_AUD_MILENAGE || a.opc.len >= 1,
           "MILENAGE without OPc");
  FZ_CHECK(a.ind_bitlen >= -1 && a.ind_bitlen <= 64, "IND bit length");
  FZ_CHECK(strlen(a.algo2g_name) <= HP_AUD_ALGO_MAX &&
               strlen(a.algo3g_name) <= HP_AUD_ALGO_MAX,
           "algorithm name");
  char reason[256] = "";
  hp_aud_verdict v = hp_aud_compare(&a, want(), reason, sizeof reason);
  FZ_CHECK(v == HP_AUD_MATCH || v == HP_AUD_DIFFERS, "verdict");
  FZ_CHECK(v == HP_AUD_MATCH || fz_errstr_ok(reason, sizeof reason),
           "differs without a reason");
  FZ_CHECK(fz_no_key(reason), "compare reason holds hex");
  hp_aud_wipe(&a);
}

static void check_ctrl(const char *text, size_t len) {
  FZ_CHECK(len <= HP_IPA_MAX_PAYLOAD - 1 && text[len] == '\0',
           "CTRL text length / terminator");
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)text[i];
    FZ_CHECK((c >= 0x20 && c < 0x7f) || c == '\t' || c == '\n' || c == '\r',
             "CTRL text not printable ASCII");
  }
  hp_ctrl_msg m;
  char err[256] = "";
  if (hp_ctrl_parse(text, len, &m, err, sizeof err) < 0) {
    FZ_CHECK(fz_errstr_ok(err, sizeof err), "parse refused, no reason");
    FZ_CHECK(fz_no_key(err), "parse reason holds hex");
    return;
  }
  FZ_CHECK(m.value >= text && m.value + m.valuelen == text + len,
           "value outside the text");
  if (m.kind == HP_CTRL_MSG_ERROR) {
    char *reason = fz_cstr((const uint8_t *)m.value, m.valuelen);
    size_t before = strlen(reason);
    hp_ctrl_redact(reason);
    FZ_CHECK(fz_no_key(reason) && strlen(reason) <= before, "redaction");
    free(reason);
  } else {
    FZ_CHECK(m.has_id, "reply without an id");
    FZ_CHECK(m.varlen >= 1 && m.var > text && m.var + m.varlen <= m.value,
             "variable outside the text");
    for (size_t i = 0; i < m.varlen; i++)
      FZ_CHECK(m.var[i] > 0x20 && m.var[i] < 0x7f, "variable with a space");
    check_aud(m.value, m.valuelen);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static hp_ipa_decoder d; /* 150 KB: not on the stack */
  hp_ipa_init(&d);
  /* The first byte picks the chunk size: 0 = everything at once. */
  size_t chunk = size ? data[0] : 0, at = size ? 1 : 0;
  if (chunk == 0)
    chunk = size;
  int failed = 0;
  while (!failed) {
    if (at < size) {
      size_t n = size - at < chunk ? size - at : chunk;
      at += hp_ipa_feed(&d, data + at, n);
    }
    hp_ipa_msg m;
    char err[256] = "";
    int r;
    while ((r = hp_ipa_next(&d, &m, err, sizeof err)) == 1) {
      FZ_CHECK(m.proto == HP_IPA_PROTO_OSMO || m.proto == HP_IPA_PROTO_CCM,
               "stream");
      FZ_CHECK(m.len >= 1 || m.proto == HP_IPA_PROTO_OSMO, "empty CCM");
      if (m.proto == HP_IPA_PROTO_OSMO)
        check_ctrl(m.text, m.len);
    }
    if (r < 0) {
      FZ_CHECK(fz_errstr_ok(err, sizeof err), "decoder failed, no reason");
      FZ_CHECK(hp_ipa_next(&d, &m, err, sizeof err) == -1, "not sticky");
      failed = 1;
    }
    if (at >= size)
      break;
  }
  hp_ipa_reset(&d);

  /* The raw bytes as an info-aud value. */
  char *text = fz_cstr(data, size);
  check_aud(text, size);
  free(text);
  return 0;
}
