/* sigverify_pki.h - a tiny fixed PKI for fuzz_sigverify and its seed
 * generator (sigverify_seeds): EC P-256 keys derived from fixed labels, a
 * self-signed trust anchor, a leaf it issued and revoked, and its CRL.
 *
 * The keys are fixed so that the seed corpus, signed once by
 * sigverify_seeds, chains to the anchor the fuzzer builds at start-up
 * (the certificates' own ECDSA signatures differ from run to run, which
 * chain building does not mind: it matches names and keys). */
#ifndef SIGVERIFY_PKI_H
#define SIGVERIFY_PKI_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <time.h>

#define FZ_PKI_ANCHOR_SERIAL 0x5150
#define FZ_PKI_REVOKED_SERIAL 0x0BAD
/* 2027-01-15T00:00:00Z: the validation time of every check. */
#define FZ_PKI_NOW ((time_t)1799971200)
/* 2026-11-20T09:00:00Z: the signingTime the seeds claim. */
#define FZ_PKI_SIGNED_AT ((time_t)1795165200)

/* Input framing of fuzz_sigverify: byte 0 holds flags, bytes 1-2 the
 * content length (big-endian, cut to what is there), then the content,
 * then the signature. */
#define FZ_SIG_NO_CONTENT 0x01 /* pass content = NULL */

/* The key named by label (its private scalar is SHA-256(label)). */
EVP_PKEY *fz_pki_key(const char *label);
/* A certificate for key, signed by issuer_key; issuer NULL: self-signed
 * CA. Valid 2025-01-01 to 2035-01-01. */
X509 *fz_pki_cert(EVP_PKEY *key, const char *cn, long serial, X509 *issuer,
                  EVP_PKEY *issuer_key);
/* The anchor's CRL: FZ_PKI_REVOKED_SERIAL revoked on 2026-06-01. */
X509_CRL *fz_pki_crl(X509 *anchor, EVP_PKEY *anchor_key);

#endif
