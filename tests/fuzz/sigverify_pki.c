/* sigverify_pki.c - see sigverify_pki.h. Any failure aborts: without its
 * PKI the fuzzer would test nothing worth having. */
#include "sigverify_pki.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NEED(x)                                                             \
  do {                                                                      \
    if (!(x)) {                                                             \
      fprintf(stderr, "sigverify_pki: %s failed\n", #x);                    \
      abort();                                                              \
    }                                                                       \
  } while (0)

EVP_PKEY *fz_pki_key(const char *label) {
  unsigned char d[32];
  NEED(EVP_Digest(label, strlen(label), d, NULL, EVP_sha256(), NULL));
  /* OpenSSL 3.0 does not derive the public point on import: compute it. */
  EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
  BIGNUM *priv = BN_bin2bn(d, sizeof d, NULL);
  EC_POINT *pub = g ? EC_POINT_new(g) : NULL;
  unsigned char pubbuf[65];
  NEED(g && priv && pub && EC_POINT_mul(g, pub, priv, NULL, NULL, NULL));
  size_t publen = EC_POINT_point2oct(g, pub, POINT_CONVERSION_UNCOMPRESSED,
                                     pubbuf, sizeof pubbuf, NULL);
  NEED(publen == sizeof pubbuf);
  OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
  NEED(b &&
       OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME,
                                       "prime256v1", 0) &&
       OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_PRIV_KEY, priv) &&
       OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, pubbuf,
                                        publen));
  OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(b);
  EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
  EVP_PKEY *key = NULL;
  NEED(params && pc && EVP_PKEY_fromdata_init(pc) == 1 &&
       EVP_PKEY_fromdata(pc, &key, EVP_PKEY_KEYPAIR, params) == 1);
  EVP_PKEY_CTX_free(pc);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(b);
  EC_POINT_free(pub);
  BN_free(priv);
  EC_GROUP_free(g);
  return key;
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
  X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
  NEED(e && X509_add_ext(x, e, -1));
  X509_EXTENSION_free(e);
}

X509 *fz_pki_cert(EVP_PKEY *key, const char *cn, long serial, X509 *issuer,
                  EVP_PKEY *issuer_key) {
  X509 *x = X509_new();
  X509_NAME *name = X509_NAME_new();
  NEED(x && name && X509_set_version(x, X509_VERSION_3) &&
       ASN1_INTEGER_set(X509_get_serialNumber(x), serial) &&
       X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                  (const unsigned char *)"simpki tests", -1,
                                  -1, 0) &&
       X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                  (const unsigned char *)cn, -1, -1, 0) &&
       X509_set_subject_name(x, name) &&
       X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer)
                                      : name) &&
       ASN1_TIME_set_string_X509(X509_getm_notBefore(x), "20250101000000Z") &&
       ASN1_TIME_set_string_X509(X509_getm_notAfter(x), "20350101000000Z") &&
       X509_set_pubkey(x, key));
  X509_NAME_free(name);
  X509 *iss = issuer ? issuer : x;
  add_ext(x, iss, NID_subject_key_identifier, "hash");
  if (issuer) {
    add_ext(x, iss, NID_authority_key_identifier, "keyid");
    add_ext(x, iss, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(x, iss, NID_key_usage, "critical,digitalSignature,nonRepudiation");
  } else {
    add_ext(x, iss, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(x, iss, NID_key_usage,
            "critical,digitalSignature,nonRepudiation,keyCertSign,cRLSign");
  }
  NEED(X509_sign(x, issuer ? issuer_key : key, EVP_sha256()) > 0);
  return x;
}

X509_CRL *fz_pki_crl(X509 *anchor, EVP_PKEY *anchor_key) {
  X509_CRL *crl = X509_CRL_new();
  X509_REVOKED *rev = X509_REVOKED_new();
  ASN1_TIME *last = ASN1_TIME_new(), *next = ASN1_TIME_new(),
            *when = ASN1_TIME_new();
  ASN1_INTEGER *serial = ASN1_INTEGER_new();
  NEED(crl && rev && last && next && when && serial &&
       X509_CRL_set_version(crl, X509_CRL_VERSION_2) &&
       X509_CRL_set_issuer_name(crl, X509_get_subject_name(anchor)) &&
       ASN1_TIME_set_string_X509(last, "20260101000000Z") &&
       ASN1_TIME_set_string_X509(next, "20350101000000Z") &&
       ASN1_TIME_set_string_X509(when, "20260601000000Z") &&
       X509_CRL_set1_lastUpdate(crl, last) &&
       X509_CRL_set1_nextUpdate(crl, next) &&
       ASN1_INTEGER_set(serial, FZ_PKI_REVOKED_SERIAL) &&
       X509_REVOKED_set_serialNumber(rev, serial) &&
       X509_REVOKED_set_revocationDate(rev, when) &&
       X509_CRL_add0_revoked(crl, rev));
  X509_CRL_sort(crl);
  NEED(X509_CRL_sign(crl, anchor_key, EVP_sha256()) > 0);
  ASN1_INTEGER_free(serial);
  ASN1_TIME_free(last);
  ASN1_TIME_free(next);
  ASN1_TIME_free(when);
  return crl;
}
