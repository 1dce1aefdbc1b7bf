/* signature.c - oi_verify_fn over the sigverify library. */
#include "signature.h"

#include <stdio.h>
#include <time.h>

#include "config.h"
#include "sigverify.h"

static int verify(void *ctx, const void *doc, size_t doclen, const void *sig,
                  size_t siglen, json_t **report, char *errstr,
                  size_t errlen) {
  sp_sig_report r;
  int ind = sp_sigverify_check(ctx, doc, doclen, sig, siglen, time(NULL), &r);
  if (ind < 0) {
    snprintf(errstr, errlen, "the signature checker is not ready");
    return -1;
  }
  *report = sp_sig_report_json(&r);
  if (ind == SP_SIG_TOTAL_PASSED)
    return 1;
  /* Name the check that decided the verdict. */
  for (int i = 0; i < SP_CHECK_COUNT; i++)
    if (r.checks[i].outcome == SP_OUTCOME_FAILED &&
        r.checks[i].sub == r.sub_indication) {
      snprintf(errstr, errlen, "%s: %s", sp_sig_check_name(i),
               r.checks[i].detail);
      break;
    }
  return 0;
}

int oi_signature_open(oi_conf *conf, char *errstr, size_t errlen) {
  const char *trust, *crl, *pool;
  if (sp_config_str("SIMPKI_SIG_TRUST_DIR", SP_CONFIG_REQUIRED, &trust,
                    errstr, errlen) ||
      sp_config_str("SIMPKI_SIG_CRL_DIR", "", &crl, errstr, errlen) ||
      sp_config_str("SIMPKI_SIG_POOL_DIR", "", &pool, errstr, errlen))
    return -1;
  sp_sigverify_ctx *ctx = sp_sigverify_new(trust, *crl ? crl : NULL,
                                           *pool ? pool : NULL, errstr,
                                           errlen);
  if (!ctx)
    return -1;
  conf->verify = verify;
  conf->verify_ctx = ctx;
  return 0;
}

void oi_signature_close(oi_conf *conf) {
  sp_sigverify_free(conf->verify_ctx);
  conf->verify = NULL;
  conf->verify_ctx = NULL;
}
