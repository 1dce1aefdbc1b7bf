/* Unit tests for common/sim_secrets: the sealed record of a SIM's secrets. */
#include <check.h>
#include <string.h>

#include "sim_secrets.h"

static char err[256];

static void sample(sp_sim_secrets *s, int usim) {
  memset(s, 0, sizeof *s);
  for (int i = 0; i < 16; i++) {
    s->ki[i] = (unsigned char)(0xA0 + i);
    s->opc[i] = usim ? (unsigned char)(0x10 + i) : 0;
  }
  s->has_opc = usim;
  strcpy(s->adm1, "12345678");
  strcpy(s->pin1, "0000");
  strcpy(s->puk1, "87654321");
  strcpy(s->pin2, "12345678");
  strcpy(s->puk2, "11112222");
}

START_TEST(round_trip) {
  for (int usim = 0; usim < 2; usim++) {
    sp_sim_secrets in, out;
    unsigned char rec[SP_SIMSEC_PLAIN];
    sample(&in, usim);
    ck_assert_int_eq(sp_simsec_encode(&in, rec), 0);
    ck_assert_int_eq(rec[0], 1);
    ck_assert_int_eq(rec[1], usim);
    ck_assert_int_eq(sp_simsec_decode(rec, sizeof rec, &out, err, sizeof err),
                     0);
    ck_assert(!memcmp(out.ki, in.ki, 16));
    ck_assert(!memcmp(out.opc, in.opc, 16));
    ck_assert_int_eq(out.has_opc, usim);
    ck_assert_str_eq(out.adm1, "12345678");
    ck_assert_str_eq(out.pin1, "0000");
    ck_assert_str_eq(out.puk1, "87654321");
    ck_assert_str_eq(out.pin2, "12345678");
    ck_assert_str_eq(out.puk2, "11112222");
  }
}
END_TEST

START_TEST(encode_refuses_bad_codes) {
  sp_sim_secrets in;
  unsigned char rec[SP_SIMSEC_PLAIN];
  sample(&in, 1);
  strcpy(in.pin1, "12a4");
  ck_assert_int_eq(sp_simsec_encode(&in, rec), -1);
  for (size_t i = 0; i < sizeof rec; i++)
    ck_assert_msg(rec[i] == 0, "record not wiped after a refusal");
  sample(&in, 1);
  memset(in.puk2, '9', sizeof in.puk2); /* 9 digits, no NUL */
  ck_assert_int_eq(sp_simsec_encode(&in, rec), -1);
}
END_TEST

START_TEST(decode_refuses) {
  sp_sim_secrets in, out;
  unsigned char rec[SP_SIMSEC_PLAIN], bad[SP_SIMSEC_PLAIN];
  sample(&in, 1);
  ck_assert_int_eq(sp_simsec_encode(&in, rec), 0);
  ck_assert_int_eq(sp_simsec_decode(rec, sizeof rec - 1, &out, err,
                                    sizeof err), -1);
  ck_assert_ptr_nonnull(strstr(err, "not a version-1"));
  memcpy(bad, rec, sizeof bad);
  bad[0] = 2; /* a later version */
  ck_assert_int_eq(sp_simsec_decode(bad, sizeof bad, &out, err, sizeof err),
                   -1);
  memcpy(bad, rec, sizeof bad);
  bad[1] = 3; /* unknown flags */
  ck_assert_int_eq(sp_simsec_decode(bad, sizeof bad, &out, err, sizeof err),
                   -1);
  memcpy(bad, rec, sizeof bad);
  bad[SP_SIMSEC_PLAIN - 1] = 'x'; /* PUK2's last byte */
  ck_assert_int_eq(sp_simsec_decode(bad, sizeof bad, &out, err, sizeof err),
                   -1);
  ck_assert_ptr_nonnull(strstr(err, "not digits"));
  for (size_t i = 0; i < 16; i++)
    ck_assert_msg(out.ki[i] == 0, "Ki left behind after a refusal");
  memcpy(bad, rec, sizeof bad);
  bad[2 + 32 + 8 + 5] = '1'; /* a digit after PIN1's NUL padding */
  ck_assert_int_eq(sp_simsec_decode(bad, sizeof bad, &out, err, sizeof err),
                   -1);
}
END_TEST

/* Sealed under a KEK with the IMSI as associated data: opens with that
 * IMSI only, and the error never carries key bytes. */
START_TEST(sealed_open) {
  static const char kf[] =
      "k1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";
  sp_keystore *ks = sp_keystore_parse(kf, sizeof kf - 1, "test", 0, err,
                                      sizeof err);
  ck_assert_ptr_nonnull(ks);
  sp_sim_secrets in, out;
  unsigned char rec[SP_SIMSEC_PLAIN], sealed[SP_SIMSEC_SEALED];
  size_t sl = 0;
  sample(&in, 1);
  ck_assert_int_eq(sp_simsec_encode(&in, rec), 0);
  ck_assert_int_eq(sp_keystore_seal(ks, "k1", (const unsigned char *)
                                    "452010000000001", 15, rec, sizeof rec,
                                    sealed, &sl, err, sizeof err), 0);
  ck_assert_uint_eq(sl, SP_SIMSEC_SEALED);
  ck_assert_int_eq(sp_simsec_open(ks, "k1", "452010000000001", sealed, sl,
                                  &out, err, sizeof err), 0);
  ck_assert(!memcmp(out.ki, in.ki, 16));
  ck_assert_int_eq(sp_simsec_open(ks, "k1", "452010000000002", sealed, sl,
                                  &out, err, sizeof err), -1);
  ck_assert_ptr_null(strstr(err, "a0a1a2"));
  ck_assert_int_eq(sp_simsec_open(ks, "k1", "452010000000001", sealed, sl - 1,
                                  &out, err, sizeof err), -1);
  ck_assert_ptr_nonnull(strstr(err, "bytes"));
  sp_keystore_close(ks);
}
END_TEST

int main(void) {
  Suite *s = suite_create("sim_secrets");
  TCase *tc = tcase_create("record");
  tcase_add_test(tc, round_trip);
  tcase_add_test(tc, encode_refuses_bad_codes);
  tcase_add_test(tc, decode_refuses);
  tcase_add_test(tc, sealed_open);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
