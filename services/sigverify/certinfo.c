/* certinfo.c - printable facts about certificates and CMS attributes for
 * the report (names, serials, times). Never the key. */
#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

#include "certinfo.h"

void sp_sv_name(const X509_NAME *name, char *out, size_t len) {
  out[0] = '\0';
  BIO *b = BIO_new(BIO_s_mem());
  if (!b)
    return;
  /* RFC 2253, but UTF-8 kept as is: Vietnamese names stay readable. */
  if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >=
      0) {
    char *p = NULL;
    long n = BIO_get_mem_data(b, &p);
    if (n > 0 && p)
      snprintf(out, len, "%.*s", (int)n, p);
  }
  BIO_free(b);
}

int sp_sv_asn1_time(const ASN1_TIME *t, time_t *out) {
  struct tm tm;
  if (!t || !ASN1_TIME_to_tm(t, &tm))
    return -1;
  *out = timegm(&tm);
  return 0;
}

void sp_sv_signer_facts(X509 *x, sp_sig_report *r) {
  r->has_signer = 1;
  sp_sv_name(X509_get_subject_name(x), r->signer_subject,
             sizeof r->signer_subject);
  sp_sv_name(X509_get_issuer_name(x), r->signer_issuer,
             sizeof r->signer_issuer);
  BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
  char *hex = bn ? BN_bn2hex(bn) : NULL;
  snprintf(r->signer_serial, sizeof r->signer_serial, "%s", hex ? hex : "");
  OPENSSL_free(hex);
  BN_free(bn);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (X509_digest(x, EVP_sha256(), md, &n) && n == 32)
    for (unsigned i = 0; i < n; i++)
      snprintf(r->signer_sha256 + 2 * i, 3, "%02x", md[i]);
  sp_sv_asn1_time(X509_get0_notBefore(x), &r->signer_not_before);
  sp_sv_asn1_time(X509_get0_notAfter(x), &r->signer_not_after);
}

int sp_sv_signing_time(CMS_SignerInfo *si, time_t *out) {
  int i = CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1);
  if (i < 0)
    return 0;
  X509_ATTRIBUTE *a = CMS_signed_get_attr(si, i);
  ASN1_TYPE *t = a && X509_ATTRIBUTE_count(a) == 1
                     ? X509_ATTRIBUTE_get0_type(a, 0)
                     : NULL;
  if (!t || (t->type != V_ASN1_UTCTIME && t->type != V_ASN1_GENERALIZEDTIME))
    return -1;
  return sp_sv_asn1_time(t->value.utctime, out) == 0 ? 1 : -1;
}

void sp_sv_key_usage(X509 *x, char *out, size_t len) {
  static const struct {
    uint32_t bit;
    const char *name;
  } ku[] = {{KU_DIGITAL_SIGNATURE, "digitalSignature"},
            {KU_NON_REPUDIATION, "nonRepudiation"},
            {KU_KEY_ENCIPHERMENT, "keyEncipherment"},
            {KU_DATA_ENCIPHERMENT, "dataEncipherment"},
            {KU_KEY_AGREEMENT, "keyAgreement"},
            {KU_KEY_CERT_SIGN, "keyCertSign"},
            {KU_CRL_SIGN, "cRLSign"},
            {KU_ENCIPHER_ONLY, "encipherOnly"},
            {KU_DECIPHER_ONLY, "decipherOnly"}};
  uint32_t v = X509_get_key_usage(x);
  size_t o = 0;
  out[0] = '\0';
  for (size_t i = 0; i < sizeof ku / sizeof ku[0] && o < len; i++)
    if (v & ku[i].bit)
      o += (size_t)snprintf(out + o, len - o, "%s%s", o ? "," : "",
                            ku[i].name);
  if (!out[0])
    snprintf(out, len, "(none)");
}

/* The newest revocation entry for x in the CRLs of its issuer. */
int sp_sv_revocation_time(STACK_OF(X509_CRL) *crls, X509 *x, time_t *out) {
  for (int i = 0; i < sk_X509_CRL_num(crls); i++) {
    X509_CRL *crl = sk_X509_CRL_value(crls, i);
    X509_REVOKED *rev = NULL;
    if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_issuer_name(x)))
      continue;
    if (X509_CRL_get0_by_cert(crl, &rev, x) == 1 && rev &&
        sp_sv_asn1_time(X509_REVOKED_get0_revocationDate(rev), out) == 0)
      return 0;
  }
  return -1;
}
