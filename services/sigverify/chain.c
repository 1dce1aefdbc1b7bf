/* chain.c - the signer's path to a trust anchor, checked twice: at the
 * validation time with revocation, and at the claimed signing time for
 * validity periods only (a CRL issued after the signature says nothing
 * about that moment, and OpenSSL would refuse it as not yet valid).
 *
 * The verify callback records every error and lets OpenSSL go on, so one
 * pass tells expired from revoked from untrusted, each in its own check. */
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <stdio.h>
#include <string.h>

#include "certinfo.h"
#include "chain.h"

#define MAX_ERRS 16
/* OpenSSL security level 2: 112 bits, so RSA/DSA >= 2048, no SHA-1
 * signatures on certificates or CRLs. */
#define AUTH_LEVEL 2

struct verr {
  int err, depth;
  X509 *cert; /* borrowed from the chain; valid while the ctx lives */
};

struct errs {
  int n;
  struct verr e[MAX_ERRS];
};

static int collect_cb(int ok, X509_STORE_CTX *xc) {
  if (!ok) {
    struct errs *es = X509_STORE_CTX_get_app_data(xc);
    int err = X509_STORE_CTX_get_error(xc);
    int depth = X509_STORE_CTX_get_error_depth(xc);
    int dup = 0;
    for (int i = 0; i < es->n; i++)
      dup |= es->e[i].err == err && es->e[i].depth == depth;
    if (!dup && es->n < MAX_ERRS)
      es->e[es->n++] = (struct verr){err, depth,
                                     X509_STORE_CTX_get_current_cert(xc)};
  }
  return 1;
}

/* Runs X509_verify_cert at time t; the caller frees the returned ctx. */
static X509_STORE_CTX *run(sp_sv_store *st, X509 *signer,
                           STACK_OF(X509) *untrusted, time_t t, int crl,
                           struct errs *es) {
  X509_STORE_CTX *xc = X509_STORE_CTX_new();
  if (!xc || !X509_STORE_CTX_init(xc, st->store, signer, untrusted)) {
    X509_STORE_CTX_free(xc);
    return NULL;
  }
  X509_VERIFY_PARAM *p = X509_STORE_CTX_get0_param(xc);
  X509_VERIFY_PARAM_set_time(p, t);
  X509_VERIFY_PARAM_set_auth_level(p, AUTH_LEVEL);
  /* The trust folder may hold sub-CAs: any of its certificates anchors. */
  unsigned long flags = X509_V_FLAG_PARTIAL_CHAIN;
  if (crl)
    flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
  X509_VERIFY_PARAM_set_flags(p, flags);
  X509_STORE_CTX_set_app_data(xc, es);
  X509_STORE_CTX_set_verify_cb(xc, collect_cb);
  int ok = X509_verify_cert(xc);
  if (ok != 1 && es->n == 0) {
    int e = X509_STORE_CTX_get_error(xc);
    es->e[es->n++] = (struct verr){e ? e : X509_V_ERR_UNSPECIFIED, 0, signer};
  }
  ERR_clear_error();
  return xc;
}

static void describe(const struct verr *v, char *out, size_t len) {
  char subj[200] = "";
  if (v->cert)
    sp_sv_name(X509_get_subject_name(v->cert), subj, sizeof subj);
  snprintf(out, len, "%s (depth %d%s%s)", X509_verify_cert_error_string(v->err),
           v->depth, subj[0] ? ": " : "", subj);
}

/* Record v against its check unless that check already failed: the first
 * error of a check is the one reported. */
static void fail(sp_sig_report *r, sp_sig_check_id id,
                 sp_sig_subindication sub, const struct verr *v,
                 const char *prefix) {
  char d[240];
  if (r->checks[id].outcome == SP_OUTCOME_FAILED)
    return;
  describe(v, d, sizeof d);
  sp_sig_report_set(r, id, SP_OUTCOME_FAILED, sub, "%s%s", prefix, d);
}

static void revoked(sp_sig_report *r, sp_sv_store *st, const struct verr *v) {
  time_t when = 0;
  char ts[32], d[240];
  int known = v->cert && sp_sv_revocation_time(st->crls, v->cert, &when) == 0;
  sp_sig_subindication sub = SP_SUB_REVOKED;
  if (v->depth > 0)
    sub = SP_SUB_REVOKED_CA_NO_POE;
  else if (known && r->has_signing_time && when > r->signing_time)
    sub = SP_SUB_REVOKED_NO_POE; /* revoked after it claims to be signed */
  if (r->checks[SP_CHECK_REVOCATION].outcome == SP_OUTCOME_FAILED)
    return;
  describe(v, d, sizeof d);
  sp_sig_format_time(when, ts);
  sp_sig_report_set(r, SP_CHECK_REVOCATION, SP_OUTCOME_FAILED, sub,
                    "%s, revoked at %s", d, known ? ts : "(unknown)");
}

static void at_validation_time(sp_sig_report *r, sp_sv_store *st,
                               const struct errs *es, int crl) {
  for (int i = 0; i < es->n; i++) {
    const struct verr *v = &es->e[i];
    sp_sig_check_id id;
    sp_sig_subindication sub;
    sp_sig_map_x509_error(v->err, &id, &sub);
    if (v->err == X509_V_ERR_CERT_REVOKED) {
      revoked(r, st, v);
      continue;
    }
    /* Expired now but (as the signing-time pass shows) perhaps not when
     * signed: without a proof of existence ETSI says OUT_OF_BOUNDS_NO_POE. */
    if (sub == SP_SUB_EXPIRED)
      sub = SP_SUB_OUT_OF_BOUNDS_NO_POE;
    fail(r, id, sub, v,
         v->err == X509_V_ERR_UNABLE_TO_GET_CRL && !crl
             ? "no CRL folder configured: "
             : "");
  }
}

static void at_signing_time(sp_sig_report *r, const struct errs *es) {
  for (int i = 0; i < es->n; i++) {
    const struct verr *v = &es->e[i];
    sp_sig_check_id id;
    sp_sig_subindication sub;
    sp_sig_map_x509_error(v->err, &id, &sub);
    /* Everything but the validity periods was judged at validation time. */
    if (id == SP_CHECK_VALIDITY_AT_VALIDATION_TIME)
      fail(r, SP_CHECK_VALIDITY_AT_SIGNING_TIME, sub, v, "");
  }
}

static void chain_passed(sp_sig_report *r, int len, const char *anchor) {
  if (r->checks[SP_CHECK_CERTIFICATE_CHAIN].outcome == SP_OUTCOME_NOT_RUN)
    sp_sig_report_set(r, SP_CHECK_CERTIFICATE_CHAIN, SP_OUTCOME_PASSED,
                      SP_SUB_NONE, "%d certificate(s) up to the trust anchor "
                      "%s", len, anchor);
}

void sp_sv_check_chain(sp_sig_report *r, sp_sv_store *st, X509 *signer,
                       STACK_OF(X509) *cms_certs, int crl) {
  struct errs now = {0}, then = {0};
  char ts[32], anchor[200] = "";
  STACK_OF(X509) *untrusted = cms_certs ? sk_X509_dup(cms_certs)
                                        : sk_X509_new_null();
  for (int i = 0; untrusted && i < sk_X509_num(st->pool); i++)
    sk_X509_push(untrusted, sk_X509_value(st->pool, i));
  X509_STORE_CTX *xc =
      untrusted ? run(st, signer, untrusted, r->validation_time, 1, &now)
                : NULL;
  if (!xc) {
    sp_sig_report_set(r, SP_CHECK_CERTIFICATE_CHAIN, SP_OUTCOME_FAILED,
                      SP_SUB_CERTIFICATE_CHAIN_GENERAL_FAILURE,
                      "cannot set up chain verification");
    sk_X509_free(untrusted);
    return;
  }
  STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(xc);
  int len = chain ? sk_X509_num(chain) : 0;
  if (len > 0)
    sp_sv_name(X509_get_subject_name(sk_X509_value(chain, len - 1)), anchor,
               sizeof anchor);
  at_validation_time(r, st, &now, crl);
  X509_STORE_CTX_free(xc);

  chain_passed(r, len, anchor);
  if (r->checks[SP_CHECK_CERTIFICATE_CHAIN].sub ==
      SP_SUB_NO_CERTIFICATE_CHAIN_FOUND) {
    /* The rest would judge a path that leads nowhere. */
    static const sp_sig_check_id moot[] = {SP_CHECK_VALIDITY_AT_SIGNING_TIME,
                                           SP_CHECK_VALIDITY_AT_VALIDATION_TIME,
                                           SP_CHECK_REVOCATION};
    for (size_t i = 0; i < sizeof moot / sizeof moot[0]; i++)
      sp_sig_report_set(r, moot[i], SP_OUTCOME_SKIPPED, SP_SUB_NONE,
                        "no chain to a trust anchor");
    sk_X509_free(untrusted);
    return;
  }
  if (!r->has_signing_time) {
    sp_sig_report_set(r, SP_CHECK_VALIDITY_AT_SIGNING_TIME,
                      SP_OUTCOME_SKIPPED, SP_SUB_NONE,
                      "no signingTime attribute");
  } else if ((xc = run(st, signer, untrusted, r->signing_time, 0, &then))) {
    at_signing_time(r, &then);
    X509_STORE_CTX_free(xc);
    sp_sig_format_time(r->signing_time, ts);
    if (r->checks[SP_CHECK_VALIDITY_AT_SIGNING_TIME].outcome ==
        SP_OUTCOME_NOT_RUN)
      sp_sig_report_set(r, SP_CHECK_VALIDITY_AT_SIGNING_TIME,
                        SP_OUTCOME_PASSED, SP_SUB_NONE,
                        "every certificate of the chain valid at %s", ts);
  }
  sp_sig_format_time(r->validation_time, ts);
  if (r->checks[SP_CHECK_VALIDITY_AT_VALIDATION_TIME].outcome ==
      SP_OUTCOME_NOT_RUN)
    sp_sig_report_set(r, SP_CHECK_VALIDITY_AT_VALIDATION_TIME,
                      SP_OUTCOME_PASSED, SP_SUB_NONE,
                      "every certificate of the chain valid at %s", ts);
  if (r->checks[SP_CHECK_REVOCATION].outcome == SP_OUTCOME_NOT_RUN)
    sp_sig_report_set(r, SP_CHECK_REVOCATION, SP_OUTCOME_PASSED, SP_SUB_NONE,
                      "no certificate of the chain is on its issuer's CRL");
  sk_X509_free(untrusted);
}
