/* sigverify.h - validation of CMS/PKCS#7 signed documents (OpenSSL 3).
 *
 * A check takes the content and a SignedData (detached or enveloping, DER
 * or PEM, told apart by looking) and fills a report in the spirit of ETSI
 * EN 319 102-1: an indication, a sub-indication naming the reason, the
 * signer's identity, the claimed signing time and every check with its
 * outcome. The report never holds key material.
 *
 * Policy: exactly one signer; chain to a certificate of the trust folder
 * (intermediates from the CMS, the pool folder and the trust folder);
 * revocation from the CRL folder for every certificate of the chain (no
 * CRL for an issuer is INDETERMINATE/TRY_LATER, never a pass); each
 * certificate valid at the signing time (signingTime signed attribute) and
 * at the validation time; the signer's keyUsage, when present, holds
 * digitalSignature or nonRepudiation; digests SHA-256/384/512 or SHA3 only;
 * RSA and DSA keys of at least 2048 bits, EC keys of at least 256 bits.
 *
 * Folders hold PEM (or DER) files; names starting with '.' are ignored.
 * The context looks at them on every check (one stat per file) and reloads
 * a folder whose file list, sizes or mtimes changed. A context is not
 * thread-safe: one per thread. */
#ifndef SIMPKI_SIGVERIFY_H
#define SIMPKI_SIGVERIFY_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

typedef enum {
  SP_SIG_TOTAL_PASSED = 0,
  SP_SIG_TOTAL_FAILED,
  SP_SIG_INDETERMINATE
} sp_sig_indication;

/* ETSI EN 319 102-1 sub-indications, plus KEY_USAGE_NOT_ALLOWED: a named
 * case of ETSI's CHAIN_CONSTRAINTS_FAILURE (so INDETERMINATE). */
typedef enum {
  SP_SUB_NONE = 0,
  SP_SUB_FORMAT_FAILURE,
  SP_SUB_HASH_FAILURE,
  SP_SUB_SIG_CRYPTO_FAILURE,
  SP_SUB_REVOKED,
  SP_SUB_EXPIRED,
  SP_SUB_NOT_YET_VALID,
  SP_SUB_SIG_CONSTRAINTS_FAILURE,
  SP_SUB_CHAIN_CONSTRAINTS_FAILURE,
  SP_SUB_CERTIFICATE_CHAIN_GENERAL_FAILURE,
  SP_SUB_CRYPTO_CONSTRAINTS_FAILURE,
  SP_SUB_NO_SIGNING_CERTIFICATE_FOUND,
  SP_SUB_NO_CERTIFICATE_CHAIN_FOUND,
  SP_SUB_REVOKED_NO_POE,
  SP_SUB_REVOKED_CA_NO_POE,
  SP_SUB_OUT_OF_BOUNDS_NO_POE,
  SP_SUB_TRY_LATER,
  SP_SUB_SIGNED_DATA_NOT_FOUND,
  SP_SUB_KEY_USAGE_NOT_ALLOWED,
  SP_SUB_COUNT
} sp_sig_subindication;

/* The checks, in the order they are reported. Among failed checks the
 * first TOTAL_FAILED one decides the verdict, else the first failed one. */
typedef enum {
  SP_CHECK_FORMAT = 0,          /* parses as one-signer SignedData */
  SP_CHECK_SIGNED_DATA,         /* the signed content is at hand */
  SP_CHECK_SIGNING_CERTIFICATE, /* the signer's certificate is found */
  SP_CHECK_SIGNATURE_VALUE,     /* signature over the signed attributes */
  SP_CHECK_MESSAGE_DIGEST,      /* messageDigest attribute vs content */
  SP_CHECK_CRYPTO_CONSTRAINTS,  /* digest and key strength */
  SP_CHECK_CERTIFICATE_CHAIN,   /* path to a trust anchor */
  SP_CHECK_VALIDITY_AT_SIGNING_TIME,
  SP_CHECK_VALIDITY_AT_VALIDATION_TIME,
  SP_CHECK_REVOCATION,
  SP_CHECK_KEY_USAGE,
  SP_CHECK_COUNT
} sp_sig_check_id;

typedef enum {
  SP_OUTCOME_NOT_RUN = 0,
  SP_OUTCOME_PASSED,
  SP_OUTCOME_FAILED,
  SP_OUTCOME_SKIPPED /* not applicable, or not reached; detail says why */
} sp_sig_outcome;

typedef struct sp_sig_check {
  sp_sig_outcome outcome;
  sp_sig_subindication sub; /* when failed */
  char detail[256];
} sp_sig_check;

typedef struct sp_sig_report {
  sp_sig_indication indication;
  sp_sig_subindication sub_indication;
  int has_signer;
  char signer_subject[512]; /* RFC 2253 */
  char signer_issuer[512];
  char signer_serial[80];   /* upper-case hex */
  char signer_sha256[65];   /* certificate fingerprint, lower-case hex */
  time_t signer_not_before, signer_not_after;
  int has_signing_time;
  time_t signing_time;      /* claimed by the signer (signed attribute) */
  time_t validation_time;
  char encoding[4];         /* "DER", "PEM" or "" when unreadable */
  int detached;             /* -1 unknown */
  char digest_algorithm[32];
  sp_sig_check checks[SP_CHECK_COUNT];
} sp_sig_report;

typedef struct sp_sigverify_ctx sp_sigverify_ctx;

/* trust_dir is required and must hold at least one certificate; crl_dir
 * and pool_dir may be NULL (no CRL then means every chain is TRY_LATER). */
sp_sigverify_ctx *sp_sigverify_new(const char *trust_dir, const char *crl_dir,
                                   const char *pool_dir, char *errstr,
                                   size_t errlen);
void sp_sigverify_free(sp_sigverify_ctx *ctx);

/* content may be NULL when the signature envelops it; when both are given
 * they must be equal. now is the validation time. Always fills *out;
 * returns its indication, or -1 when ctx, sig or out is NULL. */
int sp_sigverify_check(sp_sigverify_ctx *ctx, const unsigned char *content,
                       size_t content_len, const unsigned char *sig,
                       size_t sig_len, time_t now, sp_sig_report *out);

/* Number of trust anchors / CRLs / pool certificates loaded now. */
void sp_sigverify_counts(const sp_sigverify_ctx *ctx, int *anchors, int *crls,
                         int *pool);

/* --- pure helpers (no I/O), also unit-tested ------------------------- */

const char *sp_sig_indication_name(sp_sig_indication ind);
const char *sp_sig_subindication_name(sp_sig_subindication sub);
const char *sp_sig_check_name(sp_sig_check_id id);
const char *sp_sig_outcome_name(sp_sig_outcome o);
/* The indication ETSI EN 319 102-1 gives a sub-indication. */
sp_sig_indication sp_sig_subindication_indication(sp_sig_subindication sub);

/* Where an X509_V_ERR_* belongs: the check and the sub-indication. */
void sp_sig_map_x509_error(int x509_err, sp_sig_check_id *check,
                           sp_sig_subindication *sub);

/* Policy on algorithms; why gets a reason when refused (0). */
int sp_sig_digest_allowed(int md_nid);
/* pkey_id: EVP_PKEY_RSA, EVP_PKEY_EC, ...; bits: EVP_PKEY_get_bits. */
int sp_sig_key_allowed(int pkey_id, int bits, char *why, size_t whylen);

void sp_sig_report_init(sp_sig_report *r, time_t now);
void sp_sig_report_set(sp_sig_report *r, sp_sig_check_id id,
                       sp_sig_outcome o, sp_sig_subindication sub,
                       const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Mark every check not run yet as skipped, with why. */
void sp_sig_report_skip_rest(sp_sig_report *r, const char *why);
/* Compute indication and sub_indication from the checks. */
void sp_sig_report_finish(sp_sig_report *r);
/* New JSON object (caller decrefs); NULL on out of memory. */
json_t *sp_sig_report_json(const sp_sig_report *r);

/* RFC 3339 in UTC ("2026-11-25T17:30:00Z", fraction and offsets
 * accepted); 0 on success. */
int sp_sig_parse_time(const char *s, time_t *out);
/* "2026-11-25T17:30:00Z" */
void sp_sig_format_time(time_t t, char out[32]);
/* Strict base64 (padding optional, no whitespace but a final newline).
 * *out is malloc'd (at least 1 byte); 0 on success. */
int sp_sig_b64_decode(const char *in, size_t inlen, unsigned char **out,
                      size_t *outlen);

#endif
