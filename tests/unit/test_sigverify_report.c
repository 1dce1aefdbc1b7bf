/* Unit tests for services/sigverify's pure parts: names and the ETSI
 * indication of each sub-indication, the mapping of OpenSSL verify errors,
 * the algorithm policy, the verdict over the checks and the JSON report. */
#include <check.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/x509_vfy.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sigverify.h"

START_TEST(subindication_names_and_indications) {
  for (int s = 1; s < SP_SUB_COUNT; s++) {
    ck_assert_ptr_nonnull(sp_sig_subindication_name(s));
    ck_assert_int_ne(sp_sig_subindication_indication(s), SP_SIG_TOTAL_PASSED);
  }
  ck_assert_ptr_null(sp_sig_subindication_name(SP_SUB_NONE));
  ck_assert_ptr_null(sp_sig_subindication_name(SP_SUB_COUNT));
  ck_assert_str_eq(sp_sig_subindication_name(SP_SUB_KEY_USAGE_NOT_ALLOWED),
                   "KEY_USAGE_NOT_ALLOWED");
  /* EN 319 102-1: proven wrong fails, the rest is indeterminate. */
  const sp_sig_subindication failed[] = {
      SP_SUB_FORMAT_FAILURE, SP_SUB_HASH_FAILURE, SP_SUB_SIG_CRYPTO_FAILURE,
      SP_SUB_REVOKED,        SP_SUB_EXPIRED,      SP_SUB_NOT_YET_VALID};
  for (size_t i = 0; i < sizeof failed / sizeof *failed; i++)
    ck_assert_int_eq(sp_sig_subindication_indication(failed[i]),
                     SP_SIG_TOTAL_FAILED);
  const sp_sig_subindication indet[] = {
      SP_SUB_NO_CERTIFICATE_CHAIN_FOUND, SP_SUB_CRYPTO_CONSTRAINTS_FAILURE,
      SP_SUB_KEY_USAGE_NOT_ALLOWED,      SP_SUB_TRY_LATER,
      SP_SUB_REVOKED_NO_POE,             SP_SUB_OUT_OF_BOUNDS_NO_POE,
      SP_SUB_NO_SIGNING_CERTIFICATE_FOUND, SP_SUB_SIGNED_DATA_NOT_FOUND,
      SP_SUB_CHAIN_CONSTRAINTS_FAILURE};
  for (size_t i = 0; i < sizeof indet / sizeof *indet; i++)
    ck_assert_int_eq(sp_sig_subindication_indication(indet[i]),
                     SP_SIG_INDETERMINATE);
  ck_assert_str_eq(sp_sig_indication_name(SP_SIG_TOTAL_PASSED), "TOTAL_PASSED");
  ck_assert_str_eq(sp_sig_indication_name(SP_SIG_TOTAL_FAILED), "TOTAL_FAILED");
  ck_assert_str_eq(sp_sig_indication_name(SP_SIG_INDETERMINATE),
                   "INDETERMINATE");
  for (int c = 0; c < SP_CHECK_COUNT; c++)
    ck_assert_str_ne(sp_sig_check_name(c), "unknown");
}
END_TEST

static void expect_map(int err, sp_sig_check_id check,
                       sp_sig_subindication sub) {
  sp_sig_check_id c;
  sp_sig_subindication s;
  sp_sig_map_x509_error(err, &c, &s);
  ck_assert_msg(c == check && s == sub, "X509 error %d: check %s sub %s", err,
                sp_sig_check_name(c), sp_sig_subindication_name(s));
}

START_TEST(x509_error_mapping) {
  expect_map(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
             SP_CHECK_CERTIFICATE_CHAIN, SP_SUB_NO_CERTIFICATE_CHAIN_FOUND);
  expect_map(X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN, SP_CHECK_CERTIFICATE_CHAIN,
             SP_SUB_NO_CERTIFICATE_CHAIN_FOUND);
  expect_map(X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT,
             SP_CHECK_CERTIFICATE_CHAIN, SP_SUB_NO_CERTIFICATE_CHAIN_FOUND);
  expect_map(X509_V_ERR_CERT_HAS_EXPIRED, SP_CHECK_VALIDITY_AT_VALIDATION_TIME,
             SP_SUB_EXPIRED);
  expect_map(X509_V_ERR_CERT_NOT_YET_VALID,
             SP_CHECK_VALIDITY_AT_VALIDATION_TIME, SP_SUB_NOT_YET_VALID);
  expect_map(X509_V_ERR_CERT_REVOKED, SP_CHECK_REVOCATION, SP_SUB_REVOKED);
  expect_map(X509_V_ERR_UNABLE_TO_GET_CRL, SP_CHECK_REVOCATION,
             SP_SUB_TRY_LATER);
  expect_map(X509_V_ERR_CRL_HAS_EXPIRED, SP_CHECK_REVOCATION,
             SP_SUB_TRY_LATER);
  expect_map(X509_V_ERR_CRL_SIGNATURE_FAILURE, SP_CHECK_REVOCATION,
             SP_SUB_CERTIFICATE_CHAIN_GENERAL_FAILURE);
  expect_map(X509_V_ERR_EE_KEY_TOO_SMALL, SP_CHECK_CRYPTO_CONSTRAINTS,
             SP_SUB_CRYPTO_CONSTRAINTS_FAILURE);
  expect_map(X509_V_ERR_CA_MD_TOO_WEAK, SP_CHECK_CRYPTO_CONSTRAINTS,
             SP_SUB_CRYPTO_CONSTRAINTS_FAILURE);
  expect_map(X509_V_ERR_INVALID_CA, SP_CHECK_CERTIFICATE_CHAIN,
             SP_SUB_CHAIN_CONSTRAINTS_FAILURE);
  expect_map(X509_V_ERR_CERT_SIGNATURE_FAILURE, SP_CHECK_CERTIFICATE_CHAIN,
             SP_SUB_CERTIFICATE_CHAIN_GENERAL_FAILURE);
  /* Unknown codes never pass: a general chain failure. */
  expect_map(99999, SP_CHECK_CERTIFICATE_CHAIN,
             SP_SUB_CERTIFICATE_CHAIN_GENERAL_FAILURE);
}
END_TEST

START_TEST(algorithm_policy) {
  char why[128];
  ck_assert(sp_sig_digest_allowed(NID_sha256));
  ck_assert(sp_sig_digest_allowed(NID_sha512));
  ck_assert(sp_sig_digest_allowed(NID_sha3_256));
  ck_assert(!sp_sig_digest_allowed(NID_sha1));
  ck_assert(!sp_sig_digest_allowed(NID_md5));
  ck_assert(!sp_sig_digest_allowed(NID_sha224));
  ck_assert(!sp_sig_digest_allowed(NID_undef));
  ck_assert(sp_sig_key_allowed(EVP_PKEY_RSA, 2048, why, sizeof why));
  ck_assert(sp_sig_key_allowed(EVP_PKEY_RSA, 4096, why, sizeof why));
  ck_assert(!sp_sig_key_allowed(EVP_PKEY_RSA, 1024, why, sizeof why));
  ck_assert_str_eq(why, "RSA key of 1024 bits, at least 2048 required");
  ck_assert(!sp_sig_key_allowed(EVP_PKEY_RSA_PSS, 2047, why, sizeof why));
  ck_assert(sp_sig_key_allowed(EVP_PKEY_EC, 256, why, sizeof why));
  ck_assert(!sp_sig_key_allowed(EVP_PKEY_EC, 192, why, sizeof why));
  ck_assert(sp_sig_key_allowed(EVP_PKEY_ED25519, 253, why, sizeof why));
  ck_assert(!sp_sig_key_allowed(EVP_PKEY_DH, 4096, why, sizeof why));
}
END_TEST

static void all(sp_sig_report *r, sp_sig_outcome o) {
  for (int i = 0; i < SP_CHECK_COUNT; i++)
    sp_sig_report_set(r, i, o, SP_SUB_NONE, "ok");
}

START_TEST(verdict_precedence) {
  sp_sig_report r;
  sp_sig_report_init(&r, 1000);
  all(&r, SP_OUTCOME_PASSED);
  sp_sig_report_finish(&r);
  ck_assert_int_eq(r.indication, SP_SIG_TOTAL_PASSED);
  ck_assert_int_eq(r.sub_indication, SP_SUB_NONE);

  /* An earlier INDETERMINATE loses to a later TOTAL_FAILED. */
  sp_sig_report_set(&r, SP_CHECK_CERTIFICATE_CHAIN, SP_OUTCOME_FAILED,
                    SP_SUB_NO_CERTIFICATE_CHAIN_FOUND, "no chain");
  sp_sig_report_set(&r, SP_CHECK_REVOCATION, SP_OUTCOME_FAILED,
                    SP_SUB_REVOKED, "revoked");
  sp_sig_report_finish(&r);
  ck_assert_int_eq(r.indication, SP_SIG_TOTAL_FAILED);
  ck_assert_int_eq(r.sub_indication, SP_SUB_REVOKED);

  /* Among INDETERMINATE ones the first in check order decides. */
  sp_sig_report_set(&r, SP_CHECK_REVOCATION, SP_OUTCOME_FAILED,
                    SP_SUB_TRY_LATER, "no CRL");
  sp_sig_report_finish(&r);
  ck_assert_int_eq(r.indication, SP_SIG_INDETERMINATE);
  ck_assert_int_eq(r.sub_indication, SP_SUB_NO_CERTIFICATE_CHAIN_FOUND);

  /* Skipped checks do not fail; a check nobody ran never passes. */
  sp_sig_report_init(&r, 1000);
  all(&r, SP_OUTCOME_SKIPPED);
  sp_sig_report_set(&r, SP_CHECK_FORMAT, SP_OUTCOME_PASSED, SP_SUB_NONE, NULL);
  sp_sig_report_finish(&r);
  ck_assert_int_eq(r.indication, SP_SIG_TOTAL_PASSED);
  r.checks[SP_CHECK_KEY_USAGE].outcome = SP_OUTCOME_NOT_RUN;
  sp_sig_report_finish(&r);
  ck_assert_int_eq(r.indication, SP_SIG_INDETERMINATE);
  /* skip_rest fills only what is still open. */
  sp_sig_report_set(&r, SP_CHECK_FORMAT, SP_OUTCOME_FAILED,
                    SP_SUB_FORMAT_FAILURE, "bad");
  sp_sig_report_skip_rest(&r, "not reached");
  ck_assert_int_eq(r.checks[SP_CHECK_KEY_USAGE].outcome, SP_OUTCOME_SKIPPED);
  ck_assert_str_eq(r.checks[SP_CHECK_KEY_USAGE].detail, "not reached");
  ck_assert_int_eq(r.checks[SP_CHECK_FORMAT].outcome, SP_OUTCOME_FAILED);
  /* A passed check carries no sub-indication even when given one. */
  sp_sig_report_set(&r, SP_CHECK_FORMAT, SP_OUTCOME_PASSED,
                    SP_SUB_FORMAT_FAILURE, "fine");
  ck_assert_int_eq(r.checks[SP_CHECK_FORMAT].sub, SP_SUB_NONE);
}
END_TEST

START_TEST(report_json) {
  sp_sig_report r;
  sp_sig_report_init(&r, 1764091800); /* 2025-11-25T17:30:00Z */
  all(&r, SP_OUTCOME_PASSED);
  sp_sig_report_set(&r, SP_CHECK_REVOCATION, SP_OUTCOME_FAILED,
                    SP_SUB_REVOKED, "revoked at %s", "then");
  r.has_signer = 1;
  snprintf(r.signer_subject, sizeof r.signer_subject, "CN=Nguy\xe1\xbb\x85n");
  snprintf(r.signer_issuer, sizeof r.signer_issuer, "CN=bad \xff byte");
  snprintf(r.signer_serial, sizeof r.signer_serial, "1A2B");
  r.has_signing_time = 1;
  r.signing_time = 1764091799;
  snprintf(r.encoding, sizeof r.encoding, "DER");
  r.detached = 1;
  sp_sig_report_finish(&r);
  json_t *j = sp_sig_report_json(&r);
  ck_assert_ptr_nonnull(j);
  ck_assert_str_eq(json_string_value(json_object_get(j, "indication")),
                   "TOTAL_FAILED");
  ck_assert_str_eq(json_string_value(json_object_get(j, "sub_indication")),
                   "REVOKED");
  ck_assert_str_eq(json_string_value(json_object_get(j, "signing_time")),
                   "2025-11-25T17:29:59Z");
  ck_assert_str_eq(json_string_value(json_object_get(j, "validation_time")),
                   "2025-11-25T17:30:00Z");
  json_t *s = json_object_get(j, "signer");
  ck_assert_str_eq(json_string_value(json_object_get(s, "subject")),
                   "CN=Nguy\xe1\xbb\x85n");
  /* Not UTF-8: kept, with the odd byte shown as '?'. */
  ck_assert_str_eq(json_string_value(json_object_get(s, "issuer")),
                   "CN=bad ? byte");
  ck_assert(json_is_true(json_object_get(j, "detached")));
  ck_assert(json_is_null(json_object_get(j, "digest_algorithm")));
  json_t *checks = json_object_get(j, "checks");
  ck_assert_int_eq(json_array_size(checks), SP_CHECK_COUNT);
  json_t *rev = json_array_get(checks, SP_CHECK_REVOCATION);
  ck_assert_str_eq(json_string_value(json_object_get(rev, "name")),
                   "revocation");
  ck_assert_str_eq(json_string_value(json_object_get(rev, "result")),
                   "failed");
  ck_assert_str_eq(json_string_value(json_object_get(rev, "sub_indication")),
                   "REVOKED");
  ck_assert_str_eq(json_string_value(json_object_get(rev, "detail")),
                   "revoked at then");
  ck_assert(json_is_null(json_object_get(json_array_get(checks, 0),
                                         "sub_indication")));
  json_decref(j);

  /* No signer, no signing time: nulls, not empty strings. */
  sp_sig_report_init(&r, 0);
  sp_sig_report_skip_rest(&r, "x");
  sp_sig_report_finish(&r);
  j = sp_sig_report_json(&r);
  ck_assert(json_is_null(json_object_get(j, "signer")));
  ck_assert(json_is_null(json_object_get(j, "signing_time")));
  ck_assert(json_is_null(json_object_get(j, "detached")));
  ck_assert(json_is_null(json_object_get(j, "encoding")));
  json_decref(j);
}
END_TEST

START_TEST(new_refuses_bad_folders) {
  char err[256], dir[] = "/tmp/sv-unit.XXXXXX", path[300];
  ck_assert_ptr_nonnull(mkdtemp(dir));
  ck_assert_ptr_null(sp_sigverify_new(NULL, NULL, NULL, err, sizeof err));
  ck_assert_str_eq(err, "no trust folder given");
  ck_assert_ptr_null(
      sp_sigverify_new("/nonexistent/sv", NULL, NULL, err, sizeof err));
  ck_assert_ptr_nonnull(strstr(err, "cannot read trust folder"));
  ck_assert_ptr_null(sp_sigverify_new(dir, NULL, NULL, err, sizeof err));
  ck_assert_ptr_nonnull(strstr(err, "no certificate in trust folder"));
  /* A file that holds no certificate is skipped, not fatal. */
  snprintf(path, sizeof path, "%s/junk.pem", dir);
  FILE *fp = fopen(path, "w");
  ck_assert_ptr_nonnull(fp);
  fputs("not a certificate\n", fp);
  fclose(fp);
  ck_assert_ptr_null(sp_sigverify_new(dir, NULL, NULL, err, sizeof err));
  ck_assert_ptr_nonnull(strstr(err, "no certificate in trust folder"));
  ck_assert_int_eq(sp_sigverify_check(NULL, NULL, 0, (const unsigned char *)"",
                                      0, 0, NULL),
                   -1);
  unlink(path);
  rmdir(dir);
}
END_TEST

int main(void) {
  Suite *s = suite_create("sigverify_report");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, subindication_names_and_indications);
  tcase_add_test(tc, x509_error_mapping);
  tcase_add_test(tc, algorithm_policy);
  tcase_add_test(tc, verdict_precedence);
  tcase_add_test(tc, report_json);
  tcase_add_test(tc, new_refuses_bad_folders);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
