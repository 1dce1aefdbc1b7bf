/* Unit tests for common/crypto: RFC 3394 key wrap, hex, the KEK keystore
 * (file backend and the ops interface) and transport keys. Every refusal is
 * checked for its reason and for the absence of any key hex in it. */
#include <check.h>
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"

/* Keys the tests put in files: no error may ever quote them. */
#define HEX_A "6b1f0c7e22a94d3f8e5a0b19c4d7e2f1a3b5c7d9e1f20314253647586970a1b2"
#define HEX_B "0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0"
#define HEX_C "c0ffee00deadbeef0123456789abcdeffedcba98765432100123456789abcdef"

static char dir[64];
static char err[512];
static int nfiles;

static void setup(void) {
  snprintf(dir, sizeof dir, "/tmp/simpki-test-crypto.XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  ck_assert_int_eq(system(cmd), 0);
}

static void unhex(const char *hex, unsigned char *out, size_t n) {
  size_t got = 0;
  ck_assert_int_eq(sp_hex_decode(hex, strlen(hex), out, n, &got), 0);
  ck_assert_uint_eq(got, n);
}

/* An error must name its cause and quote no key, in any case. */
static void assert_clean(const char *e) {
  static const char *keys[] = {HEX_A, HEX_B, HEX_C};
  ck_assert_msg(*e, "empty error string");
  for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
    char up[65], part[17];
    for (size_t j = 0; j <= 64; j++)
      up[j] = (char)toupper((unsigned char)keys[i][j]);
    ck_assert_msg(!strstr(e, keys[i]) && !strstr(e, up), "key in: %s", e);
    /* Not even a fragment of one. */
    for (size_t off = 0; off + 16 <= 64; off += 8) {
      memcpy(part, keys[i] + off, 16);
      part[16] = '\0';
      ck_assert_msg(!strcasestr(e, part), "key fragment in: %s", e);
    }
  }
}

/* Write text into a fresh file of the given mode; returns its path. */
static const char *write_file(const char *name, const char *text, mode_t mode) {
  static char path[8][128];
  char *p = path[nfiles++ % 8];
  snprintf(p, 128, "%s/%s", dir, name);
  int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  ck_assert_int_eq(fchmod(fd, mode), 0);
  close(fd);
  return p;
}

static sp_keystore *keystore(const char *text) {
  sp_keystore *ks = sp_keystore_open_file(write_file("kek.keys", text, 0600),
                                          err, sizeof err);
  ck_assert_msg(ks != NULL, "keystore refused: %s", err);
  return ks;
}

/* ---- RFC 3394 ---------------------------------------------------------- */

/* RFC 3394 section 4: the 256-bit KEK of 4.3 and 4.6. */
#define RFC_KEK                                                                \
  "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"

START_TEST(rfc3394_vectors) {
  static const struct {
    const char *section, *data, *wrapped;
  } v[] = {
      {"4.3", "00112233445566778899AABBCCDDEEFF",
       "64E8C3F9CE0F5BA263E9777905818A2A93C8191E7D6E8AE7"},
      {"4.6",
       "00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F",
       ("28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43B"
        "FB988B9B7A02DD21")},
  };
  unsigned char kek[32], data[32], want[40], out[40], back[32];
  unhex(RFC_KEK, kek, 32);
  for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
    size_t n = strlen(v[i].data) / 2, outlen = 0, backlen = 0;
    unhex(v[i].data, data, n);
    unhex(v[i].wrapped, want, n + 8);
    ck_assert_msg(sp_keywrap(kek, data, n, out, &outlen, err, sizeof err) == 0,
                  "%s: %s", v[i].section, err);
    ck_assert_uint_eq(outlen, n + 8);
    ck_assert_msg(!memcmp(out, want, n + 8), "RFC 3394 %s wrap", v[i].section);
    ck_assert_int_eq(
        sp_keyunwrap(kek, want, n + 8, back, &backlen, err, sizeof err), 0);
    ck_assert_uint_eq(backlen, n);
    ck_assert_msg(!memcmp(back, data, n), "RFC 3394 %s unwrap", v[i].section);
  }
}
END_TEST

START_TEST(unwrap_refuses_tampering) {
  unsigned char kek[32], other[32], data[16], w[24], bad[24], out[16];
  size_t wl = 0, ol = 0;
  unhex(RFC_KEK, kek, 32);
  unhex("00112233445566778899AABBCCDDEEFF", data, 16);
  ck_assert_int_eq(sp_keywrap(kek, data, 16, w, &wl, err, sizeof err), 0);
  /* Every single flipped bit is caught. */
  for (size_t bit = 0; bit < 8 * sizeof w; bit++) {
    memcpy(bad, w, sizeof w);
    bad[bit / 8] ^= (unsigned char)(1u << (bit % 8));
    memset(out, 0xAA, sizeof out);
    err[0] = '\0';
    ck_assert_int_eq(sp_keyunwrap(kek, bad, 24, out, &ol, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "integrity check failed"), "bit %zu: %s", bit,
                  err);
    for (size_t i = 0; i < sizeof out; i++)
      ck_assert_msg(out[i] == 0, "output not wiped after a failed unwrap");
  }
  memcpy(other, kek, 32);
  other[31] ^= 1;
  ck_assert_int_eq(sp_keyunwrap(other, w, 24, out, &ol, err, sizeof err), -1);
  ck_assert_ptr_nonnull(strstr(err, "integrity check failed"));
}
END_TEST

/* The unwrapper (AES-ECB under OpenSSL's RFC 3394 mode) gives the RFC's
 * answers, refuses every flipped bit, and stays usable after a refusal. */
START_TEST(unwrapper_matches_rfc) {
  unsigned char kek[32], want[40], data[32], out[32], bad[24];
  size_t ol = 0;
  unhex(RFC_KEK, kek, 32);
  unhex("64E8C3F9CE0F5BA263E9777905818A2A93C8191E7D6E8AE7", want, 24);
  unhex("00112233445566778899AABBCCDDEEFF", data, 16);
  sp_unwrapper *u = sp_unwrapper_new(kek, err, sizeof err);
  ck_assert_ptr_nonnull(u);
  for (int round = 0; round < 3; round++) {
    ck_assert_int_eq(sp_unwrapper_run(u, want, 24, out, &ol, err, sizeof err),
                     0);
    ck_assert_uint_eq(ol, 16);
    ck_assert(!memcmp(out, data, 16));
    for (size_t bit = 0; bit < 8 * sizeof bad; bit += 7) {
      memcpy(bad, want, sizeof bad);
      bad[bit / 8] ^= (unsigned char)(1u << (bit % 8));
      memset(out, 0xAA, 16);
      ck_assert_int_eq(sp_unwrapper_run(u, bad, 24, out, &ol, err, sizeof err),
                       -1);
      ck_assert_ptr_nonnull(strstr(err, "integrity check failed"));
      for (size_t i = 0; i < 16; i++)
        ck_assert_msg(out[i] == 0, "output not wiped after a failed unwrap");
    }
  }
  /* 256-bit key data (RFC 3394 4.6). */
  unhex("28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43B"
        "FB988B9B7A02DD21",
        want, 40);
  unhex("00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F",
        data, 32);
  ck_assert_int_eq(sp_unwrapper_run(u, want, 40, out, &ol, err, sizeof err), 0);
  ck_assert_uint_eq(ol, 32);
  ck_assert(!memcmp(out, data, 32));
  ck_assert_int_eq(sp_unwrapper_run(u, want, 20, out, &ol, err, sizeof err),
                   -1);
  sp_unwrapper_free(u);
  kek[0] ^= 1; /* a wrong transport key */
  u = sp_unwrapper_new(kek, err, sizeof err);
  ck_assert_int_eq(sp_unwrapper_run(u, want, 40, out, &ol, err, sizeof err),
                   -1);
  sp_unwrapper_free(u);
}
END_TEST

/* The batched unwrap gives what one-at-a-time gives, key by key, and
 * fails exactly the tampered ones. */
START_TEST(unwrapper_many_matches_single) {
  enum { N = 300 };
  static unsigned char kek[32], keys[N][16], wrapped[N][24], out[N][16];
  static unsigned char ok[N];
  size_t ol;
  for (int i = 0; i < 32; i++)
    kek[i] = (unsigned char)(7 * i + 1);
  for (int k = 0; k < N; k++) {
    for (int i = 0; i < 16; i++)
      keys[k][i] = (unsigned char)(k * 31 + i * 17);
    ck_assert_int_eq(sp_keywrap(kek, keys[k], 16, wrapped[k], &ol, err,
                                sizeof err), 0);
  }
  wrapped[5][0] ^= 0x80;   /* integrity register */
  wrapped[77][23] ^= 0x01; /* last key byte */
  wrapped[299][12] ^= 0x10;
  sp_unwrapper *u = sp_unwrapper_new(kek, err, sizeof err);
  ck_assert_ptr_nonnull(u);
  memset(out, 0xAA, sizeof out);
  ck_assert_int_eq(sp_unwrapper_run_many(u, &wrapped[0][0], N, &out[0][0], ok,
                                         err, sizeof err), 3);
  for (int k = 0; k < N; k++) {
    unsigned char one[16];
    int single = sp_unwrapper_run(u, wrapped[k], 24, one, &ol, err, sizeof err);
    ck_assert_int_eq(ok[k], single == 0);
    if (k == 5 || k == 77 || k == 299) {
      ck_assert_int_eq(ok[k], 0);
      for (int i = 0; i < 16; i++)
        ck_assert_msg(out[k][i] == 0, "failed key %d not wiped", k);
    } else {
      ck_assert_int_eq(ok[k], 1);
      ck_assert(!memcmp(out[k], keys[k], 16));
      ck_assert(!memcmp(one, keys[k], 16));
    }
  }
  /* the RFC 3394 4.1 vector through the batched path */
  unsigned char rk[32], rw[24], rd[16], ro[16], rok;
  unhex(RFC_KEK, rk, 32);
  unhex("64E8C3F9CE0F5BA263E9777905818A2A93C8191E7D6E8AE7", rw, 24);
  unhex("00112233445566778899AABBCCDDEEFF", rd, 16);
  sp_unwrapper *r = sp_unwrapper_new(rk, err, sizeof err);
  ck_assert_int_eq(sp_unwrapper_run_many(r, rw, 1, ro, &rok, err, sizeof err),
                   0);
  ck_assert_int_eq(rok, 1);
  ck_assert(!memcmp(ro, rd, 16));
  ck_assert_int_eq(sp_unwrapper_run_many(r, rw, 0, ro, &rok, err, sizeof err),
                   0);
  ck_assert_int_eq(sp_unwrapper_run_many(r, rw, SP_UNWRAP_MANY + 1, ro, &rok,
                                         err, sizeof err), -1);
  ck_assert_ptr_nonnull(strstr(err, "at most"));
  sp_unwrapper_free(r);
  sp_unwrapper_free(u);
}
END_TEST

START_TEST(wrap_lengths) {
  unsigned char kek[32] = {1}, buf[64] = {0}, out[72];
  size_t ol;
  static const size_t bad_wrap[] = {0, 8, 12, 17, 23};
  for (size_t i = 0; i < sizeof bad_wrap / sizeof *bad_wrap; i++) {
    ck_assert_int_eq(
        sp_keywrap(kek, buf, bad_wrap[i], out, &ol, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "multiple of 8 bytes"));
  }
  static const size_t bad_unwrap[] = {0, 8, 16, 25, 30};
  for (size_t i = 0; i < sizeof bad_unwrap / sizeof *bad_unwrap; i++) {
    ck_assert_int_eq(
        sp_keyunwrap(kek, buf, bad_unwrap[i], out, &ol, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "multiple of 8 bytes"));
  }
  ck_assert_int_eq(sp_keywrap(kek, buf, 64, out, &ol, err, sizeof err), 0);
  ck_assert_uint_eq(ol, 72);
  ck_assert_int_eq(sp_keywrap(NULL, buf, 16, out, &ol, err, sizeof err), -1);
}
END_TEST

/* ---- hex and ids ------------------------------------------------------- */

START_TEST(hex_strict) {
  unsigned char out[8];
  size_t n = 0;
  char txt[17];
  ck_assert_int_eq(sp_hex_decode("00ff7Aa9", 8, out, sizeof out, &n), 0);
  ck_assert_uint_eq(n, 4);
  ck_assert(out[0] == 0x00 && out[1] == 0xff && out[2] == 0x7a &&
            out[3] == 0xa9);
  sp_hex_encode(out, 4, txt);
  ck_assert_str_eq(txt, "00ff7aa9");
  ck_assert_int_eq(sp_hex_decode("", 0, out, sizeof out, &n), 0);
  ck_assert_uint_eq(n, 0);
  static const char *bad[] = {"0",  "abc", "0g",       "g0", " 0", "0 ", "+1",
                              "0x", "zz",  "\xc3\xa9", "@0", "`0", "0G"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    ck_assert_msg(sp_hex_decode(bad[i], strlen(bad[i]), out, sizeof out, &n) ==
                      -1,
                  "\"%s\" accepted", bad[i]);
  ck_assert_int_eq(sp_hex_decode("00\0"
                                 "0",
                                 4, out, sizeof out, &n),
                   -1);
  ck_assert_int_eq(sp_hex_decode("001122", 6, out, 2, &n), -1); /* no room */
  ck_assert_int_eq(sp_hex_decode(NULL, 0, out, 2, &n), -1);
}
END_TEST

START_TEST(key_ids) {
  static const char *good[] = {"a", "kek-2026-01", "K.1_b-2", "0",
                               "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                               "aaaaaaaaaaaaaaaaaa"};
  static const char *bad[] = {"",
                              "a b",
                              "a/b",
                              "../x",
                              "é",
                              "a\n",
                              "a:b",
                              "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                              "aaaaaaaaaaaaaaaaaa"};
  for (size_t i = 0; i < sizeof good / sizeof *good; i++)
    ck_assert_msg(sp_key_id_valid(good[i]), "\"%s\" refused", good[i]);
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    ck_assert_msg(!sp_key_id_valid(bad[i]), "\"%s\" accepted", bad[i]);
  ck_assert(!sp_key_id_valid(NULL));
}
END_TEST

/* ---- keystore: seal and open ------------------------------------------- */

#define TWO_KEYS "# KEKs\n\nnew " HEX_A "\n  old\t" HEX_B "  \r\n"

START_TEST(seal_open_round_trip) {
  sp_keystore *ks = keystore(TWO_KEYS);
  ck_assert_str_eq(sp_keystore_current_id(ks), "new");
  ck_assert_uint_eq(sp_keystore_count(ks), 2);
  ck_assert_str_eq(sp_keystore_id(ks, 0), "new");
  ck_assert_str_eq(sp_keystore_id(ks, 1), "old");
  ck_assert_ptr_null(sp_keystore_id(ks, 2));
  ck_assert(sp_keystore_has(ks, "old") && sp_keystore_has(ks, "new"));
  ck_assert(!sp_keystore_has(ks, "gone") && !sp_keystore_has(ks, NULL));

  static const unsigned char ki[16] = "0123456789abcdef";
  const unsigned char *imsi = (const unsigned char *)"452010000000001";
  unsigned char sealed[16 + SP_SEAL_OVERHEAD], back[16];
  size_t sl = 0, bl = 0;
  ck_assert_int_eq(sp_keystore_seal(ks, NULL, imsi, 15, ki, 16, sealed, &sl,
                                    err, sizeof err),
                   0);
  ck_assert_uint_eq(sl, 16 + SP_SEAL_OVERHEAD);
  ck_assert_msg(memcmp(sealed + 12, ki, 16), "ciphertext equals plaintext");
  ck_assert_int_eq(sp_keystore_open(ks, "new", imsi, 15, sealed, sl, back, &bl,
                                    err, sizeof err),
                   0);
  ck_assert_uint_eq(bl, 16);
  ck_assert(!memcmp(back, ki, 16));

  /* An older key still seals and opens when named. */
  ck_assert_int_eq(sp_keystore_seal(ks, "old", imsi, 15, ki, 16, sealed, &sl,
                                    err, sizeof err),
                   0);
  ck_assert_int_eq(sp_keystore_open(ks, "old", imsi, 15, sealed, sl, back, &bl,
                                    err, sizeof err),
                   0);
  ck_assert(!memcmp(back, ki, 16));

  /* Empty plaintext and no AAD are allowed. */
  unsigned char tag_only[SP_SEAL_OVERHEAD], none[1];
  ck_assert_int_eq(sp_keystore_seal(ks, NULL, NULL, 0, NULL, 0, tag_only, &sl,
                                    err, sizeof err),
                   0);
  ck_assert_uint_eq(sl, SP_SEAL_OVERHEAD);
  ck_assert_int_eq(sp_keystore_open(ks, NULL, NULL, 0, tag_only, sl, none, &bl,
                                    err, sizeof err),
                   0);
  ck_assert_uint_eq(bl, 0);
  sp_keystore_close(ks);
}
END_TEST

/* A sealer's output is a normal sealed value: opens with the keystore,
 * only with its IMSI, and never repeats a nonce. */
START_TEST(sealer_round_trip) {
  sp_keystore *ks = keystore(TWO_KEYS);
  static const unsigned char ki[16] = "0123456789abcdef";
  const unsigned char *imsi = (const unsigned char *)"452010000000001";
  sp_sealer *s = sp_keystore_sealer(ks, NULL, err, sizeof err);
  ck_assert_ptr_nonnull(s);
  ck_assert_str_eq(sp_sealer_kek_id(s), "new");
  unsigned char prev[12] = {0};
  for (int i = 0; i < 600; i++) { /* past one batch of nonces */
    unsigned char sealed[16 + SP_SEAL_OVERHEAD], back[16];
    size_t sl = 0, bl = 0;
    ck_assert_int_eq(
        sp_sealer_seal(s, imsi, 15, ki, 16, sealed, &sl, err, sizeof err), 0);
    ck_assert_uint_eq(sl, 16 + SP_SEAL_OVERHEAD);
    ck_assert_msg(memcmp(sealed, prev, 12), "nonce repeated at %d", i);
    memcpy(prev, sealed, 12);
    ck_assert_int_eq(sp_keystore_open(ks, "new", imsi, 15, sealed, sl, back,
                                      &bl, err, sizeof err),
                     0);
    ck_assert(!memcmp(back, ki, 16));
    ck_assert_int_eq(sp_keystore_open(ks, "new",
                                      (const unsigned char *)"452010000000002",
                                      15, sealed, sl, back, &bl, err,
                                      sizeof err),
                     -1);
  }
  sp_sealer_free(s);
  ck_assert_ptr_null(sp_keystore_sealer(ks, "gone", err, sizeof err));
  s = sp_keystore_sealer(ks, "old", err, sizeof err);
  ck_assert_str_eq(sp_sealer_kek_id(s), "old");
  sp_sealer_free(s);
  sp_keystore_close(ks);
}
END_TEST

START_TEST(open_refuses) {
  sp_keystore *ks = keystore(TWO_KEYS);
  sp_keystore *other = keystore("new " HEX_C "\n");
  static const unsigned char ki[16] = "0123456789abcdef";
  const unsigned char *imsi = (const unsigned char *)"452010000000001";
  const unsigned char *imsi2 = (const unsigned char *)"452010000000002";
  unsigned char s[16 + SP_SEAL_OVERHEAD], bad[sizeof s], out[16];
  size_t sl = 0, ol;
  ck_assert_int_eq(
      sp_keystore_seal(ks, NULL, imsi, 15, ki, 16, s, &sl, err, sizeof err), 0);
  /* Another IMSI as AAD: a key copied to another SIM's row. */
  memset(out, 0xAA, sizeof out);
  ck_assert_int_eq(
      sp_keystore_open(ks, NULL, imsi2, 15, s, sl, out, &ol, err, sizeof err),
      -1);
  ck_assert_ptr_nonnull(strstr(err, "integrity check failed"));
  for (size_t i = 0; i < sizeof out; i++)
    ck_assert_msg(out[i] == 0, "unauthenticated plaintext handed out");
  assert_clean(err);
  ck_assert_int_eq(
      sp_keystore_open(ks, NULL, NULL, 0, s, sl, out, &ol, err, sizeof err),
      -1);
  /* The other key under the same id, and the older key of the same file. */
  ck_assert_int_eq(sp_keystore_open(other, "new", imsi, 15, s, sl, out, &ol,
                                    err, sizeof err),
                   -1);
  ck_assert_ptr_nonnull(strstr(err, "integrity check failed"));
  ck_assert_int_eq(
      sp_keystore_open(ks, "old", imsi, 15, s, sl, out, &ol, err, sizeof err),
      -1);
  /* Every altered byte: nonce, ciphertext, tag. */
  for (size_t i = 0; i < sl; i++) {
    memcpy(bad, s, sl);
    bad[i] ^= 0x40;
    ck_assert_msg(sp_keystore_open(ks, NULL, imsi, 15, bad, sl, out, &ol, err,
                                   sizeof err) == -1,
                  "byte %zu altered, still opened", i);
    assert_clean(err);
  }
  /* Truncated: one byte short, and shorter than nonce + tag. */
  ck_assert_int_eq(sp_keystore_open(ks, NULL, imsi, 15, s, sl - 1, out, &ol,
                                    err, sizeof err),
                   -1);
  ck_assert_int_eq(sp_keystore_open(ks, NULL, imsi, 15, s, SP_SEAL_OVERHEAD - 1,
                                    out, &ol, err, sizeof err),
                   -1);
  ck_assert_ptr_nonnull(strstr(err, "too short"));
  /* Unknown and malformed ids, for open and seal. */
  ck_assert_int_eq(
      sp_keystore_open(ks, "gone", imsi, 15, s, sl, out, &ol, err, sizeof err),
      -1);
  ck_assert_ptr_nonnull(strstr(err, "KEK id gone is not in the keystore"));
  ck_assert_int_eq(
      sp_keystore_seal(ks, "gone", imsi, 15, ki, 16, bad, &ol, err, sizeof err),
      -1);
  ck_assert_int_eq(
      sp_keystore_seal(ks, "a b", imsi, 15, ki, 16, bad, &ol, err, sizeof err),
      -1);
  ck_assert_ptr_nonnull(strstr(err, "bad KEK id"));
  ck_assert_int_eq(
      sp_keystore_seal(NULL, NULL, imsi, 15, ki, 16, bad, &ol, err, sizeof err),
      -1);
  sp_keystore_close(ks);
  sp_keystore_close(other);
}
END_TEST

START_TEST(nonces_are_fresh) {
  sp_keystore *ks = keystore(TWO_KEYS);
  static const unsigned char ki[16] = "0123456789abcdef";
  unsigned char a[16 + SP_SEAL_OVERHEAD], b[sizeof a];
  size_t al, bl;
  ck_assert_int_eq(sp_keystore_seal(ks, NULL, (const unsigned char *)"x", 1, ki,
                                    16, a, &al, err, sizeof err),
                   0);
  ck_assert_int_eq(sp_keystore_seal(ks, NULL, (const unsigned char *)"x", 1, ki,
                                    16, b, &bl, err, sizeof err),
                   0);
  ck_assert_msg(memcmp(a, b, SP_SEAL_NONCE_BYTES), "same nonce twice");
  ck_assert_msg(memcmp(a + 12, b + 12, 16), "same ciphertext twice");
  sp_keystore_close(ks);
}
END_TEST

/* ---- keystore: the file ------------------------------------------------ */

START_TEST(keyfile_refusals) {
  static const struct {
    const char *name, *text, *reason;
    mode_t mode;
  } bad[] = {
      {"bad hex",
       "k1 " HEX_A
       "\nk2 "
       "0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeegg0\n",
       "line 2: the key must be 64 hex digits", 0600},
      {"short key",
       "k1 "
       "0123456789abcdef0123456789abcdef\n",
       "not 32 characters", 0600},
      {"long key", "k1 " HEX_A "00\n", "not 66 characters", 0600},
      {"duplicate id", "k1 " HEX_A "\n# x\nk1 " HEX_B "\n",
       "line 3: duplicate key id (first on line 1)", 0600},
      {"bad id", "k/1 " HEX_A "\n", "line 1: bad key id", 0600},
      {"long id",
       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
       " " HEX_A "\n",
       "line 1: bad key id", 0600},
      {"swapped columns", HEX_A " k1\n",
       "line 1: the key must be 64 hex digits", 0600},
      {"key only", HEX_A "\n", "line 1: expected \"KEK_ID HEX64\"", 0600},
      {"extra token", "k1 " HEX_A " # current\n",
       "line 1: expected \"KEK_ID HEX64\"", 0600},
      {"split key",
       "k1 "
       "0123456789abcdef0123456789abcdef 0123456789abcdef0123456789abcdef\n",
       "line 1: expected", 0600},
      {"all zeros",
       "k1 0000000000000000000000000000000000000000000000000000000000000000\n",
       "all zeros", 0600},
      {"empty file", "", "holds no key", 0600},
      {"comments only", "# nothing yet\n\n   \n", "holds no key", 0600},
      {"group-readable", "k1 " HEX_A "\n",
       "has mode 0640: it must not be readable or writable by group or others",
       0640},
      {"group-writable", "k1 " HEX_A "\n", "has mode 0620", 0620},
      {"world-readable", "k1 " HEX_A "\n", "has mode 0604", 0604},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    const char *path = write_file("bad.keys", bad[i].text, bad[i].mode);
    err[0] = '\0';
    sp_keystore *ks = sp_keystore_open_file(path, err, sizeof err);
    ck_assert_msg(ks == NULL, "%s: accepted", bad[i].name);
    ck_assert_msg(strstr(err, bad[i].reason), "%s: got \"%s\"", bad[i].name,
                  err);
    ck_assert_msg(strstr(err, path), "%s: file not named: %s", bad[i].name,
                  err);
    assert_clean(err);
  }
  /* Missing file, a folder, no path. */
  char missing[128];
  snprintf(missing, sizeof missing, "%s/none.keys", dir);
  ck_assert_ptr_null(sp_keystore_open_file(missing, err, sizeof err));
  ck_assert_ptr_nonnull(strstr(err, "No such file"));
  ck_assert_int_eq(chmod(dir, 0700), 0);
  ck_assert_ptr_null(sp_keystore_open_file(dir, err, sizeof err));
  ck_assert_ptr_nonnull(strstr(err, "not a regular file"));
  ck_assert_ptr_null(sp_keystore_open_file(NULL, err, sizeof err));
}
END_TEST

START_TEST(keyfile_forms) {
  /* Read-only for the owner is fine; CRLF, tabs, upper-case hex, no final
   * newline. */
  char upper[65];
  for (size_t j = 0; j <= 64; j++)
    upper[j] = (char)toupper((unsigned char)HEX_C[j]);
  char text[512];
  snprintf(text, sizeof text, "\t# c\r\n\r\nK.c_1-x\t%s\r\nb %s", upper, HEX_B);
  const char *path = write_file("ro.keys", text, 0400);
  sp_keystore *ks = sp_keystore_open_file(path, err, sizeof err);
  ck_assert_msg(ks != NULL, "%s", err);
  ck_assert_str_eq(sp_keystore_current_id(ks), "K.c_1-x");
  ck_assert_uint_eq(sp_keystore_count(ks), 2);
  sp_keystore_close(ks);
  /* Text already in memory; allow_empty for tools adding the first key. */
  ks = sp_keystore_parse("# none\n", 7, "test", 1, err, sizeof err);
  ck_assert_ptr_nonnull(ks);
  ck_assert_ptr_null(sp_keystore_current_id(ks));
  ck_assert_uint_eq(sp_keystore_count(ks), 0);
  unsigned char out[64];
  size_t ol;
  ck_assert_int_eq(sp_keystore_seal(ks, NULL, NULL, 0,
                                    (const unsigned char *)"k", 1, out, &ol,
                                    err, sizeof err),
                   -1);
  ck_assert_ptr_nonnull(strstr(err, "holds no key"));
  sp_keystore_close(ks);
  ck_assert_ptr_null(sp_keystore_parse("", 0, "test", 0, err, sizeof err));
  ck_assert_str_eq(err, "test holds no key (one \"KEK_ID HEX64\" per line)");
  /* A NUL inside the text is just a bad character. */
  static const char nul[] =
      "k1 0\0"
      "23456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n";
  ck_assert_ptr_null(
      sp_keystore_parse(nul, sizeof nul - 1, "t", 0, err, sizeof err));
}
END_TEST

START_TEST(keystore_from_env) {
  unsetenv("SIMPKI_KEK_FILE");
  ck_assert_ptr_null(sp_keystore_open_env(err, sizeof err));
  ck_assert_ptr_nonnull(strstr(err, "SIMPKI_KEK_FILE is not set"));
  setenv("SIMPKI_KEK_FILE", write_file("env.keys", "e1 " HEX_A "\n", 0600), 1);
  sp_keystore *ks = sp_keystore_open_env(err, sizeof err);
  ck_assert_msg(ks != NULL, "%s", err);
  ck_assert_str_eq(sp_keystore_current_id(ks), "e1");
  sp_keystore_close(ks);
  unsetenv("SIMPKI_KEK_FILE");
}
END_TEST

/* ---- the ops interface: a second backend plugs in ------------------------ */

static int mock_closed;
static char mock_last_id[SP_KEK_ID_MAX + 1];
static const char *mock_cur(void *impl) {
  (void)impl;
  return "hsm-1";
}
static size_t mock_count(void *impl) {
  (void)impl;
  return 2;
}
static const char *mock_id(void *impl, size_t i) {
  (void)impl;
  return i == 0 ? "hsm-1" : "hsm-0";
}
static int mock_seal(void *impl, const char *id, const unsigned char *aad,
                     size_t aadlen, const unsigned char *pt, size_t ptlen,
                     unsigned char *out, char *e, size_t el) {
  (void)impl;
  (void)aad;
  (void)aadlen;
  (void)pt;
  (void)e;
  (void)el;
  snprintf(mock_last_id, sizeof mock_last_id, "%s", id);
  memset(out, 0x11, ptlen + SP_SEAL_OVERHEAD);
  return 0;
}
static int mock_open(void *impl, const char *id, const unsigned char *aad,
                     size_t aadlen, const unsigned char *in, size_t inlen,
                     unsigned char *out, char *e, size_t el) {
  (void)impl;
  (void)aad;
  (void)aadlen;
  (void)in;
  (void)out;
  snprintf(mock_last_id, sizeof mock_last_id, "%s", id);
  snprintf(e, el, "mock refuses %zu bytes", inlen);
  return -1;
}
static void mock_close(void *impl) {
  (void)impl;
  mock_closed++;
}

START_TEST(backend_ops) {
  /* No sealer ops: sp_sealer falls back to one seal() per value. */
  static const sp_keystore_ops ops = {.name = "mock",
                                      .current_id = mock_cur,
                                      .count = mock_count,
                                      .id = mock_id,
                                      .seal = mock_seal,
                                      .open = mock_open,
                                      .close = mock_close};
  sp_keystore *ks = sp_keystore_new(&ops, NULL, err, sizeof err);
  ck_assert_ptr_nonnull(ks);
  unsigned char out[40];
  size_t ol = 0;
  ck_assert_int_eq(sp_keystore_seal(ks, NULL, NULL, 0,
                                    (const unsigned char *)"ab", 2, out, &ol,
                                    err, sizeof err),
                   0);
  ck_assert_str_eq(mock_last_id, "hsm-1"); /* NULL resolved to current */
  ck_assert_uint_eq(ol, 2 + SP_SEAL_OVERHEAD);
  ck_assert(sp_keystore_has(ks, "hsm-0"));
  ck_assert_int_eq(sp_keystore_open(ks, "hsm-0", NULL, 0, out, ol, out, &ol,
                                    err, sizeof err),
                   -1);
  ck_assert_str_eq(mock_last_id, "hsm-0");
  ck_assert_str_eq(err, "mock refuses 30 bytes");
  /* Unknown ids never reach the backend. */
  mock_last_id[0] = '\0';
  ck_assert_int_eq(sp_keystore_open(ks, "hsm-9", NULL, 0, out, 30, out, &ol,
                                    err, sizeof err),
                   -1);
  ck_assert_str_eq(mock_last_id, "");
  sp_sealer *sealer = sp_keystore_sealer(ks, "hsm-0", err, sizeof err);
  ck_assert_ptr_nonnull(sealer);
  ck_assert_int_eq(sp_sealer_seal(sealer, NULL, 0, (const unsigned char *)"ab",
                                  2, out, &ol, err, sizeof err),
                   0);
  ck_assert_str_eq(mock_last_id, "hsm-0");
  sp_sealer_free(sealer);
  sp_keystore_close(ks);
  ck_assert_int_eq(mock_closed, 1);
}
END_TEST

/* ---- transport keys ------------------------------------------------------ */

START_TEST(transport_keys) {
  unsigned char key[32], want[32];
  unhex(HEX_A, want, 32);
  write_file("VN-TK-1.key", HEX_A "\n", 0600);
  ck_assert_msg(sp_transport_key_load(dir, "VN-TK-1", key, err, sizeof err) ==
                    0,
                "%s", err);
  ck_assert(!memcmp(key, want, 32));
  write_file("crlf.key", HEX_A "\r\n", 0400);
  ck_assert_int_eq(sp_transport_key_load(dir, "crlf", key, err, sizeof err), 0);
  ck_assert(!memcmp(key, want, 32));

  static const struct {
    const char *file, *text, *id, *reason;
    mode_t mode;
  } bad[] = {
      {"open.key", HEX_A "\n", "open", "has mode 0644", 0644},
      {"grp.key", HEX_A "\n", "grp", "has mode 0660", 0660},
      {"short.key", "0123456789abcdef\n", "short", "one line of 64 hex digits",
       0600},
      {"two.key", HEX_A "\n" HEX_B "\n", "two", "one line of 64 hex digits",
       0600},
      {"nothex.key",
       "xb1f0c7e22a94d3f8e5a0b19c4d7e2f1a3b5c7d9e1f20314253647586970a1b2\n",
       "nothex", "one line of 64 hex digits", 0600},
      {"empty.key", "", "empty", "one line of 64 hex digits", 0600},
      {"x.key", HEX_A, "../x", "bad transport key id", 0600},
      {"x.key", HEX_A, "", "bad transport key id", 0600},
      {"x.key", HEX_A, "missing", "No such file", 0600},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    write_file(bad[i].file, bad[i].text, bad[i].mode);
    memset(key, 0x55, sizeof key);
    err[0] = '\0';
    ck_assert_msg(sp_transport_key_load(dir, bad[i].id, key, err, sizeof err) ==
                      -1,
                  "%s accepted", bad[i].file);
    ck_assert_msg(strstr(err, bad[i].reason), "%s: got \"%s\"", bad[i].file,
                  err);
    assert_clean(err);
  }
  ck_assert_int_eq(sp_transport_key_load(NULL, "a", key, err, sizeof err), -1);
}
END_TEST

START_TEST(secure_memory) {
  unsigned char *p = sp_secure_alloc(100);
  ck_assert_ptr_nonnull(p);
  for (size_t i = 0; i < 100; i++)
    ck_assert(p[i] == 0);
  memset(p, 0x5a, 100);
  sp_secure_free(p, 100);
  sp_secure_free(NULL, 10);
  unsigned char buf[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  sp_wipe(buf, sizeof buf);
  for (size_t i = 0; i < sizeof buf; i++)
    ck_assert(buf[i] == 0);
  unsigned char r1[16] = {0}, r2[16] = {0};
  ck_assert_int_eq(sp_random_bytes(r1, 16, err, sizeof err), 0);
  ck_assert_int_eq(sp_random_bytes(r2, 16, err, sizeof err), 0);
  ck_assert(memcmp(r1, r2, 16));
}
END_TEST

int main(void) {
  Suite *s = suite_create("crypto");
  TCase *wrap = tcase_create("keywrap");
  tcase_add_test(wrap, rfc3394_vectors);
  tcase_add_test(wrap, unwrapper_matches_rfc);
  tcase_add_test(wrap, unwrapper_many_matches_single);
  tcase_add_test(wrap, unwrap_refuses_tampering);
  tcase_add_test(wrap, wrap_lengths);
  tcase_add_test(wrap, hex_strict);
  tcase_add_test(wrap, key_ids);
  tcase_add_test(wrap, secure_memory);
  suite_add_tcase(s, wrap);
  TCase *ks = tcase_create("keystore");
  tcase_add_checked_fixture(ks, setup, teardown);
  tcase_add_test(ks, seal_open_round_trip);
  tcase_add_test(ks, sealer_round_trip);
  tcase_add_test(ks, open_refuses);
  tcase_add_test(ks, nonces_are_fresh);
  tcase_add_test(ks, keyfile_refusals);
  tcase_add_test(ks, keyfile_forms);
  tcase_add_test(ks, keystore_from_env);
  tcase_add_test(ks, backend_ops);
  tcase_add_test(ks, transport_keys);
  suite_add_tcase(s, ks);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
