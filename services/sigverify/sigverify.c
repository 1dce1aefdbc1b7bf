/* sigverify.c - one signature check, step by step (not CMS_verify), so
 * that each outcome can be named: the signature value, the content digest,
 * the algorithms, the chain, the validity periods, revocation, key usage. */
#include <ctype.h>
#include <limits.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certinfo.h"
#include "chain.h"
#include "sigverify.h"
#include "store.h"

struct sp_sigverify_ctx {
  sp_sv_store st;
};

sp_sigverify_ctx *sp_sigverify_new(const char *trust_dir, const char *crl_dir,
                                   const char *pool_dir, char *errstr,
                                   size_t errlen) {
  sp_sigverify_ctx *c = calloc(1, sizeof *c);
  if (!c) {
    snprintf(errstr, errlen, "out of memory");
    return NULL;
  }
  if (sp_sv_store_open(&c->st, trust_dir, crl_dir, pool_dir, errstr,
                       errlen) != 0) {
    free(c);
    return NULL;
  }
  return c;
}

void sp_sigverify_free(sp_sigverify_ctx *c) {
  if (!c)
    return;
  sp_sv_store_close(&c->st);
  free(c);
}

void sp_sigverify_counts(const sp_sigverify_ctx *c, int *anchors, int *crls,
                         int *pool) {
  if (anchors)
    *anchors = sk_X509_num(c->st.anchors);
  if (crls)
    *crls = sk_X509_CRL_num(c->st.crls);
  if (pool)
    *pool = sk_X509_num(c->st.pool);
}

/* The last OpenSSL error as text, for a detail line; clears the queue. */
static const char *ossl_reason(char *buf, size_t len) {
  unsigned long e = ERR_peek_last_error();
  const char *r = e ? ERR_reason_error_string(e) : NULL;
  snprintf(buf, len, "%s", r ? r : "no detail");
  ERR_clear_error();
  return buf;
}

/* PEM is told apart by its armour; the labels "CMS" and "PKCS7" are both
 * what tools write for the same DER. Trailing bytes after DER are refused:
 * what is checked must be exactly what was received. */
static CMS_ContentInfo *parse(const unsigned char *sig, size_t len,
                              sp_sig_report *r, char *why, size_t whylen) {
  size_t i = 0;
  while (i < len && isspace(sig[i]))
    i++;
  if (len > INT_MAX) {
    snprintf(why, whylen, "signature larger than %d bytes", INT_MAX);
    return NULL;
  }
  if (len - i >= 10 && !memcmp(sig + i, "-----BEGIN", 10)) {
    snprintf(r->encoding, sizeof r->encoding, "PEM");
    BIO *b = BIO_new_mem_buf(sig, (int)len);
    char *name = NULL, *hdr = NULL;
    unsigned char *data = NULL;
    long dlen = 0;
    CMS_ContentInfo *cms = NULL;
    if (b && PEM_read_bio(b, &name, &hdr, &data, &dlen) == 1) {
      if (strcmp(name, "CMS") && strcmp(name, "PKCS7")) {
        snprintf(why, whylen, "PEM label \"%.40s\" is not CMS or PKCS7", name);
      } else {
        const unsigned char *p = data;
        cms = d2i_CMS_ContentInfo(NULL, &p, dlen);
        if (cms && p != data + dlen) {
          CMS_ContentInfo_free(cms);
          cms = NULL;
        }
        if (!cms)
          snprintf(why, whylen, "PEM body is not a DER CMS structure");
      }
    } else {
      snprintf(why, whylen, "malformed PEM");
    }
    OPENSSL_free(name);
    OPENSSL_free(hdr);
    OPENSSL_free(data);
    BIO_free(b);
    ERR_clear_error();
    return cms;
  }
  snprintf(r->encoding, sizeof r->encoding, "DER");
  const unsigned char *p = sig;
  CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
  if (!cms) {
    snprintf(why, whylen, "not a DER CMS structure (truncated or damaged)");
  } else if (p != sig + len) {
    snprintf(why, whylen, "%zu trailing bytes after the CMS structure",
             (size_t)(sig + len - p));
    CMS_ContentInfo_free(cms);
    cms = NULL;
  }
  ERR_clear_error();
  return cms;
}

/* The signer's certificate: in the CMS, else the pool, else the anchors. */
static X509 *find_signer(CMS_SignerInfo *si, STACK_OF(X509) *lists[3]) {
  for (int l = 0; l < 3; l++)
    for (int i = 0; lists[l] && i < sk_X509_num(lists[l]); i++)
      if (CMS_SignerInfo_cert_cmp(si, sk_X509_value(lists[l], i)) == 0)
        return sk_X509_value(lists[l], i);
  return NULL;
}

/* Digest the content through CMS's own BIO chain and compare with the
 * messageDigest attribute (or, without signed attributes, verify the
 * signature over the content itself). 1 ok, 0 mismatch, -1 when the
 * digest cannot be computed at all (an algorithm OpenSSL lacks). */
static int verify_content(CMS_ContentInfo *cms, CMS_SignerInfo *si,
                          const unsigned char *content, size_t clen,
                          int detached) {
  BIO *dcont = NULL;
  if (detached && !(dcont = BIO_new_mem_buf(content, (int)clen)))
    return -1;
  BIO *chain = CMS_dataInit(cms, dcont);
  int rc = -1;
  if (chain) {
    unsigned char buf[4096];
    int n;
    while ((n = BIO_read(chain, buf, sizeof buf)) > 0)
      ;
    /* A mismatch comes back as 0 or -1 depending on the path taken. */
    rc = n < 0 && !BIO_eof(chain)
             ? -1
             : CMS_SignerInfo_verify_content(si, chain) == 1 ? 1 : 0;
  }
  /* Free the digest BIOs CMS pushed, never dcont twice. */
  while (chain && chain != dcont) {
    BIO *next = BIO_pop(chain);
    BIO_free(chain);
    chain = next;
  }
  BIO_free(dcont);
  return rc;
}

static void check_crypto(sp_sig_report *r, CMS_SignerInfo *si, X509 *signer) {
  X509_ALGOR *dig = NULL, *sigalg = NULL;
  CMS_SignerInfo_get0_algs(si, NULL, NULL, &dig, &sigalg);
  int md = dig ? OBJ_obj2nid(dig->algorithm) : NID_undef;
  int sn = sigalg ? OBJ_obj2nid(sigalg->algorithm) : NID_undef;
  int sig_md = NID_undef, pk_nid = NID_undef;
  char why[128];
  if (!sp_sig_digest_allowed(md)) {
    sp_sig_report_set(r, SP_CHECK_CRYPTO_CONSTRAINTS, SP_OUTCOME_FAILED,
                      SP_SUB_CRYPTO_CONSTRAINTS_FAILURE,
                      "digest %s is not accepted (SHA-256 or stronger)",
                      r->digest_algorithm);
    return;
  }
  /* A combined OID (sha1WithRSAEncryption) names its own digest. */
  if (OBJ_find_sigid_algs(sn, &sig_md, &pk_nid) && sig_md != NID_undef &&
      !sp_sig_digest_allowed(sig_md)) {
    sp_sig_report_set(r, SP_CHECK_CRYPTO_CONSTRAINTS, SP_OUTCOME_FAILED,
                      SP_SUB_CRYPTO_CONSTRAINTS_FAILURE,
                      "signature algorithm %s uses a refused digest",
                      OBJ_nid2ln(sn));
    return;
  }
  EVP_PKEY *pk = X509_get0_pubkey(signer);
  if (!pk) {
    sp_sig_report_set(r, SP_CHECK_CRYPTO_CONSTRAINTS, SP_OUTCOME_FAILED,
                      SP_SUB_CRYPTO_CONSTRAINTS_FAILURE,
                      "the signer's public key cannot be decoded");
    ERR_clear_error();
    return;
  }
  int id = EVP_PKEY_get_base_id(pk), bits = EVP_PKEY_get_bits(pk);
  if (!sp_sig_key_allowed(id, bits, why, sizeof why)) {
    sp_sig_report_set(r, SP_CHECK_CRYPTO_CONSTRAINTS, SP_OUTCOME_FAILED,
                      SP_SUB_CRYPTO_CONSTRAINTS_FAILURE, "signer's %s", why);
    return;
  }
  sp_sig_report_set(r, SP_CHECK_CRYPTO_CONSTRAINTS, SP_OUTCOME_PASSED,
                    SP_SUB_NONE, "%s digest, %s %d-bit key", r->digest_algorithm,
                    OBJ_nid2sn(id), bits);
}

static void check_key_usage(sp_sig_report *r, X509 *signer) {
  char ku[160];
  if (!(X509_get_extension_flags(signer) & EXFLAG_KUSAGE)) {
    sp_sig_report_set(r, SP_CHECK_KEY_USAGE, SP_OUTCOME_PASSED, SP_SUB_NONE,
                      "no keyUsage extension: any use allowed");
    return;
  }
  sp_sv_key_usage(signer, ku, sizeof ku);
  if (X509_get_key_usage(signer) & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION))
    sp_sig_report_set(r, SP_CHECK_KEY_USAGE, SP_OUTCOME_PASSED, SP_SUB_NONE,
                      "keyUsage %s", ku);
  else
    sp_sig_report_set(r, SP_CHECK_KEY_USAGE, SP_OUTCOME_FAILED,
                      SP_SUB_KEY_USAGE_NOT_ALLOWED,
                      "keyUsage %s lacks digitalSignature and nonRepudiation",
                      ku);
}

/* Format, one signer, and whether the content is at hand. 0 to go on. */
static int check_format(sp_sig_report *r, CMS_ContentInfo *cms,
                        const unsigned char *content, size_t clen,
                        CMS_SignerInfo **si_out) {
  if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) {
    sp_sig_report_set(r, SP_CHECK_FORMAT, SP_OUTCOME_FAILED,
                      SP_SUB_FORMAT_FAILURE, "CMS content type %s, not "
                      "SignedData", OBJ_nid2ln(OBJ_obj2nid(CMS_get0_type(cms))));
    return -1;
  }
  STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(cms);
  int n = sis ? sk_CMS_SignerInfo_num(sis) : 0;
  if (n != 1) {
    sp_sig_report_set(r, SP_CHECK_FORMAT, SP_OUTCOME_FAILED,
                      SP_SUB_FORMAT_FAILURE,
                      "%d signers; exactly one is supported", n);
    return -1;
  }
  *si_out = sk_CMS_SignerInfo_value(sis, 0);
  X509_ALGOR *dig = NULL;
  CMS_SignerInfo_get0_algs(*si_out, NULL, NULL, &dig, NULL);
  int md = dig ? OBJ_obj2nid(dig->algorithm) : NID_undef;
  snprintf(r->digest_algorithm, sizeof r->digest_algorithm, "%s",
           md != NID_undef ? OBJ_nid2ln(md) : "unknown");
  ASN1_OCTET_STRING **pos = CMS_get0_content(cms);
  r->detached = !pos || !*pos;
  sp_sig_report_set(r, SP_CHECK_FORMAT, SP_OUTCOME_PASSED, SP_SUB_NONE,
                    "%s SignedData, one signer, %s", r->encoding,
                    r->detached ? "detached" : "enveloping");
  if (r->detached && !content) {
    sp_sig_report_set(r, SP_CHECK_SIGNED_DATA, SP_OUTCOME_FAILED,
                      SP_SUB_SIGNED_DATA_NOT_FOUND,
                      "detached signature and no content given");
  } else if (!r->detached && content &&
             ((size_t)ASN1_STRING_length(*pos) != clen ||
              memcmp(ASN1_STRING_get0_data(*pos), content, clen))) {
    sp_sig_report_set(r, SP_CHECK_SIGNED_DATA, SP_OUTCOME_FAILED,
                      SP_SUB_HASH_FAILURE,
                      "the content given differs from the content the "
                      "signature envelops");
  } else {
    sp_sig_report_set(r, SP_CHECK_SIGNED_DATA, SP_OUTCOME_PASSED, SP_SUB_NONE,
                      "%zu bytes of content %s",
                      r->detached ? clen : (size_t)ASN1_STRING_length(*pos),
                      r->detached ? "given" : "in the signature");
  }
  return 0;
}

static void check_signature(sp_sig_report *r, CMS_ContentInfo *cms,
                            CMS_SignerInfo *si, const unsigned char *content,
                            size_t clen) {
  char why[160];
  int have_content = r->checks[SP_CHECK_SIGNED_DATA].outcome ==
                     SP_OUTCOME_PASSED;
  int attrs = CMS_signed_get_attr_count(si) >= 0;
  if (attrs) {
    if (CMS_SignerInfo_verify(si) == 1)
      sp_sig_report_set(r, SP_CHECK_SIGNATURE_VALUE, SP_OUTCOME_PASSED,
                        SP_SUB_NONE, "signature over the signed attributes "
                        "verifies with the signer's key");
    else
      sp_sig_report_set(r, SP_CHECK_SIGNATURE_VALUE, SP_OUTCOME_FAILED,
                        SP_SUB_SIG_CRYPTO_FAILURE,
                        "signature value does not verify: %s",
                        ossl_reason(why, sizeof why));
  }
  if (!have_content) {
    if (!attrs)
      sp_sig_report_set(r, SP_CHECK_SIGNATURE_VALUE, SP_OUTCOME_SKIPPED,
                        SP_SUB_NONE, "needs the signed content");
    sp_sig_report_set(r, SP_CHECK_MESSAGE_DIGEST, SP_OUTCOME_SKIPPED,
                      SP_SUB_NONE, "needs the signed content");
    return;
  }
  int ok = verify_content(cms, si, content, clen, r->detached);
  if (ok < 0) {
    sp_sig_report_set(r, attrs ? SP_CHECK_MESSAGE_DIGEST
                               : SP_CHECK_SIGNATURE_VALUE,
                      SP_OUTCOME_FAILED, SP_SUB_CRYPTO_CONSTRAINTS_FAILURE,
                      "cannot compute the %s digest: %s", r->digest_algorithm,
                      ossl_reason(why, sizeof why));
    if (!attrs)
      sp_sig_report_set(r, SP_CHECK_MESSAGE_DIGEST, SP_OUTCOME_SKIPPED,
                        SP_SUB_NONE, "no signed attributes");
  } else if (!attrs) {
    sp_sig_report_set(r, SP_CHECK_SIGNATURE_VALUE,
                      ok == 1 ? SP_OUTCOME_PASSED : SP_OUTCOME_FAILED,
                      SP_SUB_SIG_CRYPTO_FAILURE, ok == 1
                          ? "signature over the content verifies"
                          : "signature over the content does not verify");
    sp_sig_report_set(r, SP_CHECK_MESSAGE_DIGEST, SP_OUTCOME_SKIPPED,
                      SP_SUB_NONE,
                      "no signed attributes: the signature covers the "
                      "content itself");
  } else if (ok == 1) {
    sp_sig_report_set(r, SP_CHECK_MESSAGE_DIGEST, SP_OUTCOME_PASSED,
                      SP_SUB_NONE, "%s of the content matches the "
                      "messageDigest attribute", r->digest_algorithm);
  } else {
    sp_sig_report_set(r, SP_CHECK_MESSAGE_DIGEST, SP_OUTCOME_FAILED,
                      SP_SUB_HASH_FAILURE, "%s of the content does not match "
                      "the messageDigest attribute (content altered)",
                      r->digest_algorithm);
  }
  ERR_clear_error();
}

int sp_sigverify_check(sp_sigverify_ctx *c, const unsigned char *content,
                       size_t clen, const unsigned char *sig, size_t sig_len,
                       time_t now, sp_sig_report *r) {
  if (!c || !sig || !r)
    return -1;
  char why[256];
  sp_sig_report_init(r, now);
  sp_sv_store_refresh(&c->st);
  CMS_ContentInfo *cms = NULL;
  CMS_SignerInfo *si = NULL;
  STACK_OF(X509) *certs = NULL;
  if (content && clen > INT_MAX) {
    sp_sig_report_set(r, SP_CHECK_FORMAT, SP_OUTCOME_FAILED,
                      SP_SUB_FORMAT_FAILURE, "content larger than %d bytes",
                      INT_MAX);
    goto done;
  }
  if (!(cms = parse(sig, sig_len, r, why, sizeof why))) {
    sp_sig_report_set(r, SP_CHECK_FORMAT, SP_OUTCOME_FAILED,
                      SP_SUB_FORMAT_FAILURE, "%s", why);
    goto done;
  }
  if (check_format(r, cms, content, clen, &si) != 0)
    goto done;
  time_t st;
  int has_st = sp_sv_signing_time(si, &st);
  if (has_st < 0) {
    sp_sig_report_set(r, SP_CHECK_FORMAT, SP_OUTCOME_FAILED,
                      SP_SUB_FORMAT_FAILURE, "malformed signingTime attribute");
    goto done;
  }
  r->has_signing_time = has_st, r->signing_time = has_st ? st : 0;

  certs = CMS_get1_certs(cms);
  STACK_OF(X509) *lists[3] = {certs, c->st.pool, c->st.anchors};
  X509 *signer = find_signer(si, lists);
  if (!signer) {
    sp_sig_report_set(r, SP_CHECK_SIGNING_CERTIFICATE, SP_OUTCOME_FAILED,
                      SP_SUB_NO_SIGNING_CERTIFICATE_FOUND,
                      "the signer's certificate is neither in the signature "
                      "nor in the pool or trust folders");
    goto done;
  }
  CMS_SignerInfo_set1_signer_cert(si, signer);
  sp_sv_signer_facts(signer, r);
  sp_sig_report_set(r, SP_CHECK_SIGNING_CERTIFICATE, SP_OUTCOME_PASSED,
                    SP_SUB_NONE, "serial %s issued by %s", r->signer_serial,
                    r->signer_issuer);
  check_signature(r, cms, si, content, clen);
  check_crypto(r, si, signer);
  sp_sv_check_chain(r, &c->st, signer, certs, c->st.crl_dir != NULL);
  check_key_usage(r, signer);
done:
  sp_sig_report_skip_rest(r, "not reached: an earlier check failed");
  sp_sig_report_finish(r);
  sk_X509_pop_free(certs, X509_free);
  CMS_ContentInfo_free(cms);
  ERR_clear_error();
  return (int)r->indication;
}
