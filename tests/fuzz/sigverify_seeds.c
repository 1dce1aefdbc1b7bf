/* sigverify_seeds DIR - writes the seed corpus of fuzz_sigverify: CMS
 * signatures over a BCYCP order, good and broken, made with the keys of
 * sigverify_pki.c, each framed as fuzz_sigverify reads its input. The
 * files in tests/fuzz/corpus/sigverify/ were made with it; run it again
 * after changing sigverify_pki.c. */
#include <openssl/cms.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigverify_pki.h"

static const char order[] =
    "{\"bcycp_ref\":\"BCYCP-2026-0042\",\"issued_on\":\"2026-11-20\","
    "\"vendor\":\"THALES-VN\",\"quantity\":1000,\"profile\":\"usim_milenage\","
    "\"contact\":{\"name\":\"Nguy\xe1\xbb\x85n V\xc4\x83n An\","
    "\"email\":\"an@bcy.gov.vn\",\"phone\":\"0901234567\"}}";

static const char *outdir;

static void fail(const char *what) {
  fprintf(stderr, "sigverify_seeds: %s\n", what);
  exit(1);
}

/* A signature over content by cert/key; flags: CMS_DETACHED, CMS_NOATTR,
 * CMS_NOCERTS. pem: 0 DER, 1 "CMS" armour, 2 "PKCS7" armour. */
static unsigned char *sign(X509 *cert, EVP_PKEY *key, const EVP_MD *md,
                           const char *content, unsigned flags, int pem,
                           long *len) {
  flags |= CMS_BINARY;
  BIO *in = BIO_new_mem_buf(content, -1), *out = BIO_new(BIO_s_mem());
  CMS_ContentInfo *cms = CMS_sign(NULL, NULL, NULL, NULL, flags | CMS_PARTIAL);
  CMS_SignerInfo *si = cms ? CMS_add1_signer(cms, cert, key, md, flags) : NULL;
  if (!in || !out || !si)
    fail("cannot start a signature");
  if (!(flags & CMS_NOATTR)) { /* a fixed signingTime: stable seeds */
    ASN1_TIME *t = ASN1_TIME_set(NULL, FZ_PKI_SIGNED_AT);
    if (!t || !CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime,
                                           t->type, t, -1))
      fail("cannot add signingTime");
    ASN1_TIME_free(t);
  }
  if (!CMS_final(cms, in, NULL, flags))
    fail("cannot sign");
  unsigned char *der = NULL;
  int n = i2d_CMS_ContentInfo(cms, &der);
  if (n <= 0 || (pem && !PEM_write_bio(out, pem == 1 ? "CMS" : "PKCS7", "",
                                       der, n)))
    fail("cannot encode");
  unsigned char *res;
  if (pem) {
    char *p;
    *len = BIO_get_mem_data(out, &p);
    res = malloc((size_t)*len);
    memcpy(res, p, (size_t)*len);
    OPENSSL_free(der);
  } else {
    *len = n;
    res = der;
  }
  CMS_ContentInfo_free(cms);
  BIO_free(in);
  BIO_free(out);
  return res;
}

/* DIR/name: flags, content length, content, signature. */
static void seed(const char *name, int flags, const char *content,
                 const unsigned char *sig, long siglen) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", outdir, name);
  size_t clen = strlen(content);
  unsigned char head[3] = {(unsigned char)flags, (unsigned char)(clen >> 8),
                           (unsigned char)clen};
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(head, 1, 3, f) != 3 ||
      fwrite(content, 1, clen, f) != clen ||
      fwrite(sig, 1, (size_t)siglen, f) != (size_t)siglen || fclose(f))
    fail(path);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: sigverify_seeds DIR\n");
    return 2;
  }
  outdir = argv[1];
  EVP_PKEY *ak = fz_pki_key("simpki fuzz anchor");
  X509 *anchor = fz_pki_cert(ak, "simpki fuzz anchor", FZ_PKI_ANCHOR_SERIAL,
                             NULL, NULL);
  /* The anchor signs certificates, a leaf signs documents: a self-signed
   * signer chains only when its copy in the CMS is byte for byte the
   * anchor, and the anchor's ECDSA signature changes with every build. */
  EVP_PKEY *gk = fz_pki_key("simpki fuzz signer");
  X509 *signer = fz_pki_cert(gk, "simpki fuzz signer", 0x51, anchor, ak);
  EVP_PKEY *rk = fz_pki_key("simpki fuzz revoked");
  X509 *revoked = fz_pki_cert(rk, "simpki fuzz revoked signer",
                              FZ_PKI_REVOKED_SERIAL, anchor, ak);
  EVP_PKEY *sk = fz_pki_key("simpki fuzz stranger");
  X509 *stranger = fz_pki_cert(sk, "simpki fuzz stranger", 7, NULL, NULL);
  char altered[sizeof order];
  memcpy(altered, order, sizeof order);
  memcpy(strstr(altered, "1000"), "9000", 4);

  const EVP_MD *sha256 = EVP_sha256();
  long n;
  unsigned char *s;
  s = sign(signer, gk, sha256, order, CMS_DETACHED, 0, &n);
  seed("detached_der", 0, order, s, n);
  seed("detached_altered_content", 0, altered, s, n);
  seed("detached_without_content", FZ_SIG_NO_CONTENT, "", s, n);
  seed("detached_truncated", 0, order, s, n / 2);
  free(s);
  s = sign(signer, gk, sha256, order, 0, 0, &n);
  seed("enveloping_der", FZ_SIG_NO_CONTENT, "", s, n);
  seed("enveloping_same_content", 0, order, s, n);
  seed("enveloping_other_content", 0, altered, s, n);
  free(s);
  s = sign(signer, gk, sha256, order, CMS_DETACHED, 1, &n);
  seed("detached_pem_cms", 0, order, s, n);
  free(s);
  s = sign(signer, gk, sha256, order, CMS_DETACHED, 2, &n);
  seed("detached_pem_pkcs7", 0, order, s, n);
  free(s);
  s = sign(signer, gk, sha256, order, CMS_DETACHED | CMS_NOATTR, 0, &n);
  seed("detached_no_attributes", 0, order, s, n);
  free(s);
  s = sign(signer, gk, sha256, order, CMS_DETACHED | CMS_NOCERTS, 0, &n);
  seed("signer_not_included", 0, order, s, n);
  free(s);
  s = sign(signer, gk, EVP_sha1(), order, CMS_DETACHED, 0, &n);
  seed("detached_sha1", 0, order, s, n);
  free(s);
  s = sign(anchor, ak, sha256, order, CMS_DETACHED | CMS_NOCERTS, 0, &n);
  seed("anchor_signed_found_in_trust", 0, order, s, n);
  free(s);
  s = sign(anchor, ak, sha256, order, CMS_DETACHED, 0, &n);
  seed("anchor_signed_other_copy", 0, order, s, n);
  free(s);
  s = sign(revoked, rk, sha256, order, CMS_DETACHED, 0, &n);
  seed("revoked_signer", 0, order, s, n);
  free(s);
  s = sign(stranger, sk, sha256, order, CMS_DETACHED, 0, &n);
  seed("untrusted_signer", 0, order, s, n);
  free(s);
  seed("not_cms", 0, order, (const unsigned char *)"hello", 5);

  X509_free(anchor);
  X509_free(signer);
  X509_free(revoked);
  X509_free(stranger);
  EVP_PKEY_free(ak);
  EVP_PKEY_free(gk);
  EVP_PKEY_free(rk);
  EVP_PKEY_free(sk);
  return 0;
}
