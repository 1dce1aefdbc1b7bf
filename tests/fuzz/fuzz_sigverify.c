/* fuzz_sigverify - sp_sigverify_check on any signature bytes and content:
 * what an order's detached signature or a sig.verify.requested event
 * brings. Input framing: sigverify_pki.h.
 *
 * The context is built once, over a temporary trust folder holding one
 * self-signed anchor made in code (sigverify_pki.c) and a CRL folder with
 * its CRL, so the corpus (signed by sigverify_seeds) reaches every check.
 *
 * Invariants: the return value is the report's indication; every check
 * ran or says why not; a failed check names a sub-indication; a pass has
 * the signer and passed every check that matters; the report always
 * becomes JSON; and nothing passes that OpenSSL's own CMS_verify refuses
 * (signature and digest, given the same certificates). */
#include <openssl/pem.h> /* before cms.h, which then declares PEM_*_CMS */
#include <openssl/cms.h>
#include <openssl/err.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "sigverify.h"
#include "sigverify_pki.h"

static sp_sigverify_ctx *ctx;
static STACK_OF(X509) *anchors;
static char dir[] = "/tmp/simpki-fuzz-sigverify.XXXXXX";
static char trust_file[64], crl_file[64], trust_dir[64], crl_dir[64];

static void cleanup(void) {
  sp_sigverify_free(ctx);
  sk_X509_pop_free(anchors, X509_free);
  unlink(trust_file);
  unlink(crl_file);
  rmdir(trust_dir);
  rmdir(crl_dir);
  rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  char err[256];
  EVP_PKEY *key = fz_pki_key("simpki fuzz anchor");
  X509 *anchor = fz_pki_cert(key, "simpki fuzz anchor", FZ_PKI_ANCHOR_SERIAL,
                             NULL, NULL);
  X509_CRL *crl = fz_pki_crl(anchor, key);
  FZ_CHECK(mkdtemp(dir), "mkdtemp");
  snprintf(trust_dir, sizeof trust_dir, "%s/trust", dir);
  snprintf(crl_dir, sizeof crl_dir, "%s/crl", dir);
  snprintf(trust_file, sizeof trust_file, "%s/anchor.pem", trust_dir);
  snprintf(crl_file, sizeof crl_file, "%s/anchor.crl", crl_dir);
  FZ_CHECK(!mkdir(trust_dir, 0700) && !mkdir(crl_dir, 0700), "mkdir");
  FILE *f = fopen(trust_file, "w"), *g = fopen(crl_file, "w");
  FZ_CHECK(f && g && PEM_write_X509(f, anchor) && PEM_write_X509_CRL(g, crl),
           "writing the trust and CRL folders");
  fclose(f);
  fclose(g);
  ctx = sp_sigverify_new(trust_dir, crl_dir, NULL, err, sizeof err);
  FZ_CHECK(ctx, err);
  anchors = sk_X509_new_null();
  FZ_CHECK(anchors && sk_X509_push(anchors, anchor), "anchors");
  atexit(cleanup);
  X509_CRL_free(crl);
  EVP_PKEY_free(key);
  return 0;
}

/* OpenSSL's own verdict on the signature value and content digest. */
static int openssl_agrees(const unsigned char *sig, size_t sig_len,
                          const sp_sig_report *r, const unsigned char *content,
                          size_t clen) {
  BIO *in = BIO_new_mem_buf(sig, (int)sig_len);
  CMS_ContentInfo *cms = !strcmp(r->encoding, "PEM")
                             ? PEM_read_bio_CMS(in, NULL, NULL, NULL)
                             : d2i_CMS_bio(in, NULL);
  BIO *dcont = r->detached ? BIO_new_mem_buf(content, (int)clen) : NULL;
  int ok = cms && CMS_verify(cms, anchors, NULL, dcont, NULL,
                             CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY) == 1;
  CMS_ContentInfo_free(cms);
  BIO_free(dcont);
  BIO_free(in);
  ERR_clear_error();
  return ok;
}

static void check_report(const sp_sig_report *r, int rc) {
  FZ_CHECK(rc == (int)r->indication, "return value");
  FZ_CHECK(rc >= SP_SIG_TOTAL_PASSED && rc <= SP_SIG_INDETERMINATE, "range");
  for (int i = 0; i < SP_CHECK_COUNT; i++) {
    const sp_sig_check *c = &r->checks[i];
    const char *name = sp_sig_check_name((sp_sig_check_id)i);
    FZ_CHECK(memchr(c->detail, '\0', sizeof c->detail) && c->detail[0], name);
    FZ_CHECK(c->outcome != SP_OUTCOME_NOT_RUN, name);
    FZ_CHECK(c->outcome != SP_OUTCOME_FAILED || c->sub != SP_SUB_NONE, name);
  }
  FZ_CHECK((r->indication == SP_SIG_TOTAL_PASSED) ==
               (r->sub_indication == SP_SUB_NONE),
           "indication and sub-indication");
  if (r->indication == SP_SIG_TOTAL_PASSED) {
    static const sp_sig_check_id must_pass[] = {
        SP_CHECK_FORMAT, SP_CHECK_SIGNED_DATA, SP_CHECK_SIGNING_CERTIFICATE,
        SP_CHECK_SIGNATURE_VALUE, SP_CHECK_CRYPTO_CONSTRAINTS,
        SP_CHECK_CERTIFICATE_CHAIN, SP_CHECK_VALIDITY_AT_VALIDATION_TIME,
        SP_CHECK_REVOCATION, SP_CHECK_KEY_USAGE};
    for (size_t i = 0; i < sizeof must_pass / sizeof *must_pass; i++)
      FZ_CHECK(r->checks[must_pass[i]].outcome == SP_OUTCOME_PASSED,
               sp_sig_check_name(must_pass[i]));
    FZ_CHECK(r->has_signer && r->signer_sha256[0], "a pass without signer");
  }
  json_t *j = sp_sig_report_json(r);
  char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
  FZ_CHECK(s, "the report does not become JSON");
  free(s);
  json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int flags = size ? data[0] : 0;
  size_t clen = size >= 3 ? (size_t)data[1] << 8 | data[2] : 0;
  size_t head = size >= 3 ? 3 : size;
  if (clen > size - head)
    clen = size - head;
  /* Copies of exact size, so ASan sees any read past either end. */
  unsigned char *content = malloc(clen ? clen : 1);
  unsigned char *sig = malloc(size - head - clen ? size - head - clen : 1);
  FZ_CHECK(content && sig, "out of memory");
  memcpy(content, data + head, clen);
  size_t sig_len = size - head - clen;
  memcpy(sig, data + head + clen, sig_len);
  const unsigned char *c = flags & FZ_SIG_NO_CONTENT ? NULL : content;

  sp_sig_report r;
  int rc = sp_sigverify_check(ctx, c, clen, sig, sig_len, FZ_PKI_NOW, &r);
  check_report(&r, rc);
  if (rc == SP_SIG_TOTAL_PASSED)
    FZ_CHECK(openssl_agrees(sig, sig_len, &r, content, clen),
             "passed, but CMS_verify refuses");
  free(content);
  free(sig);
  return 0;
}
