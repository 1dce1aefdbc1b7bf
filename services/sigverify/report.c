/* report.c - the validation report: names, verdict and JSON. Pure. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sigverify.h"

static const char *const sub_names[SP_SUB_COUNT] = {
    [SP_SUB_NONE] = NULL,
    [SP_SUB_FORMAT_FAILURE] = "FORMAT_FAILURE",
    [SP_SUB_HASH_FAILURE] = "HASH_FAILURE",
    [SP_SUB_SIG_CRYPTO_FAILURE] = "SIG_CRYPTO_FAILURE",
    [SP_SUB_REVOKED] = "REVOKED",
    [SP_SUB_EXPIRED] = "EXPIRED",
    [SP_SUB_NOT_YET_VALID] = "NOT_YET_VALID",
    [SP_SUB_SIG_CONSTRAINTS_FAILURE] = "SIG_CONSTRAINTS_FAILURE",
    [SP_SUB_CHAIN_CONSTRAINTS_FAILURE] = "CHAIN_CONSTRAINTS_FAILURE",
    [SP_SUB_CERTIFICATE_CHAIN_GENERAL_FAILURE] =
        "CERTIFICATE_CHAIN_GENERAL_FAILURE",
    [SP_SUB_CRYPTO_CONSTRAINTS_FAILURE] = "CRYPTO_CONSTRAINTS_FAILURE",
    [SP_SUB_NO_SIGNING_CERTIFICATE_FOUND] = "NO_SIGNING_CERTIFICATE_FOUND",
    [SP_SUB_NO_CERTIFICATE_CHAIN_FOUND] = "NO_CERTIFICATE_CHAIN_FOUND",
    [SP_SUB_REVOKED_NO_POE] = "REVOKED_NO_POE",
    [SP_SUB_REVOKED_CA_NO_POE] = "REVOKED_CA_NO_POE",
    [SP_SUB_OUT_OF_BOUNDS_NO_POE] = "OUT_OF_BOUNDS_NO_POE",
    [SP_SUB_TRY_LATER] = "TRY_LATER",
    [SP_SUB_SIGNED_DATA_NOT_FOUND] = "SIGNED_DATA_NOT_FOUND",
    [SP_SUB_KEY_USAGE_NOT_ALLOWED] = "KEY_USAGE_NOT_ALLOWED",
};

static const char *const check_names[SP_CHECK_COUNT] = {
    [SP_CHECK_FORMAT] = "format",
    [SP_CHECK_SIGNED_DATA] = "signed_data",
    [SP_CHECK_SIGNING_CERTIFICATE] = "signing_certificate",
    [SP_CHECK_SIGNATURE_VALUE] = "signature_value",
    [SP_CHECK_MESSAGE_DIGEST] = "message_digest",
    [SP_CHECK_CRYPTO_CONSTRAINTS] = "crypto_constraints",
    [SP_CHECK_CERTIFICATE_CHAIN] = "certificate_chain",
    [SP_CHECK_VALIDITY_AT_SIGNING_TIME] = "validity_at_signing_time",
    [SP_CHECK_VALIDITY_AT_VALIDATION_TIME] = "validity_at_validation_time",
    [SP_CHECK_REVOCATION] = "revocation",
    [SP_CHECK_KEY_USAGE] = "key_usage",
};

const char *sp_sig_indication_name(sp_sig_indication ind) {
  switch (ind) {
  case SP_SIG_TOTAL_PASSED: return "TOTAL_PASSED";
  case SP_SIG_TOTAL_FAILED: return "TOTAL_FAILED";
  case SP_SIG_INDETERMINATE: return "INDETERMINATE";
  }
  return "INDETERMINATE";
}

const char *sp_sig_subindication_name(sp_sig_subindication sub) {
  return (unsigned)sub < SP_SUB_COUNT ? sub_names[sub] : NULL;
}

const char *sp_sig_check_name(sp_sig_check_id id) {
  return (unsigned)id < SP_CHECK_COUNT ? check_names[id] : "unknown";
}

const char *sp_sig_outcome_name(sp_sig_outcome o) {
  switch (o) {
  case SP_OUTCOME_PASSED: return "passed";
  case SP_OUTCOME_FAILED: return "failed";
  case SP_OUTCOME_SKIPPED: return "skipped";
  case SP_OUTCOME_NOT_RUN: break;
  }
  return "not_run";
}

/* EN 319 102-1 table 5: what is proven wrong fails; what could turn out
 * right with more information (another trust anchor, a fresher CRL, a
 * proof of existence, a laxer policy) is indeterminate. */
sp_sig_indication sp_sig_subindication_indication(sp_sig_subindication sub) {
  switch (sub) {
  case SP_SUB_NONE:
    return SP_SIG_TOTAL_PASSED;
  case SP_SUB_FORMAT_FAILURE:
  case SP_SUB_HASH_FAILURE:
  case SP_SUB_SIG_CRYPTO_FAILURE:
  case SP_SUB_REVOKED:
  case SP_SUB_EXPIRED:
  case SP_SUB_NOT_YET_VALID:
    return SP_SIG_TOTAL_FAILED;
  default:
    return SP_SIG_INDETERMINATE;
  }
}

void sp_sig_report_init(sp_sig_report *r, time_t now) {
  memset(r, 0, sizeof *r);
  r->indication = SP_SIG_INDETERMINATE;
  r->validation_time = now;
  r->detached = -1;
}

void sp_sig_report_set(sp_sig_report *r, sp_sig_check_id id,
                       sp_sig_outcome o, sp_sig_subindication sub,
                       const char *fmt, ...) {
  if ((unsigned)id >= SP_CHECK_COUNT)
    return;
  sp_sig_check *c = &r->checks[id];
  c->outcome = o;
  c->sub = o == SP_OUTCOME_FAILED ? sub : SP_SUB_NONE;
  c->detail[0] = '\0';
  if (fmt) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->detail, sizeof c->detail, fmt, ap);
    va_end(ap);
  }
}

void sp_sig_report_skip_rest(sp_sig_report *r, const char *why) {
  for (int i = 0; i < SP_CHECK_COUNT; i++)
    if (r->checks[i].outcome == SP_OUTCOME_NOT_RUN)
      sp_sig_report_set(r, (sp_sig_check_id)i, SP_OUTCOME_SKIPPED,
                        SP_SUB_NONE, "%s", why);
}

void sp_sig_report_finish(sp_sig_report *r) {
  int first_failed = -1, first_total = -1, not_run = -1;
  for (int i = 0; i < SP_CHECK_COUNT; i++) {
    const sp_sig_check *c = &r->checks[i];
    if (c->outcome == SP_OUTCOME_NOT_RUN && not_run < 0)
      not_run = i;
    if (c->outcome != SP_OUTCOME_FAILED)
      continue;
    if (first_failed < 0)
      first_failed = i;
    if (first_total < 0 &&
        sp_sig_subindication_indication(c->sub) == SP_SIG_TOTAL_FAILED)
      first_total = i;
  }
  int pick = first_total >= 0 ? first_total : first_failed;
  if (pick >= 0) {
    r->sub_indication = r->checks[pick].sub;
    r->indication = sp_sig_subindication_indication(r->sub_indication);
    /* A failed check always names a failure, never a pass. */
    if (r->indication == SP_SIG_TOTAL_PASSED) {
      r->sub_indication = SP_SUB_SIG_CONSTRAINTS_FAILURE;
      r->indication = SP_SIG_INDETERMINATE;
    }
  } else if (not_run >= 0) {
    /* Never pass on a check nobody ran. */
    r->indication = SP_SIG_INDETERMINATE;
    r->sub_indication = SP_SUB_SIG_CONSTRAINTS_FAILURE;
  } else {
    r->indication = SP_SIG_TOTAL_PASSED;
    r->sub_indication = SP_SUB_NONE;
  }
}

/* Certificate names and details are copied from the input: a string that
 * is not UTF-8 is kept, its other bytes shown as '?', rather than lost. */
static json_t *jstr(const char *s) {
  json_t *j = json_string(s);
  if (j)
    return j;
  char buf[1024];
  size_t i = 0;
  for (; s[i] && i < sizeof buf - 1; i++)
    buf[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
  buf[i] = '\0';
  return json_string(buf);
}

static json_t *str_or_null(int has, const char *s) {
  return has && s ? jstr(s) : json_null();
}

static json_t *time_or_null(int has, time_t t) {
  char buf[32];
  if (!has)
    return json_null();
  sp_sig_format_time(t, buf);
  return json_string(buf);
}

static json_t *signer_json(const sp_sig_report *r) {
  json_t *s = json_object();
  if (!s)
    return NULL;
  json_object_set_new(s, "subject", jstr(r->signer_subject));
  json_object_set_new(s, "issuer", jstr(r->signer_issuer));
  json_object_set_new(s, "serial", jstr(r->signer_serial));
  json_object_set_new(s, "sha256", jstr(r->signer_sha256));
  json_object_set_new(s, "not_before", time_or_null(1, r->signer_not_before));
  json_object_set_new(s, "not_after", time_or_null(1, r->signer_not_after));
  return s;
}

json_t *sp_sig_report_json(const sp_sig_report *r) {
  json_t *o = json_object();
  json_t *checks = json_array();
  if (!o || !checks) {
    json_decref(o);
    json_decref(checks);
    return NULL;
  }
  const char *sub = sp_sig_subindication_name(r->sub_indication);
  json_object_set_new(o, "indication",
                      json_string(sp_sig_indication_name(r->indication)));
  json_object_set_new(o, "sub_indication", str_or_null(sub != NULL, sub));
  json_object_set_new(o, "signer",
                      r->has_signer ? signer_json(r) : json_null());
  json_object_set_new(o, "signing_time",
                      time_or_null(r->has_signing_time, r->signing_time));
  json_object_set_new(o, "validation_time",
                      time_or_null(1, r->validation_time));
  json_object_set_new(o, "encoding",
                      str_or_null(r->encoding[0] != '\0', r->encoding));
  json_object_set_new(o, "detached", r->detached < 0
                                         ? json_null()
                                         : json_boolean(r->detached));
  json_object_set_new(o, "digest_algorithm",
                      str_or_null(r->digest_algorithm[0] != '\0',
                                  r->digest_algorithm));
  for (int i = 0; i < SP_CHECK_COUNT; i++) {
    const sp_sig_check *c = &r->checks[i];
    const char *cs = sp_sig_subindication_name(c->sub);
    json_t *jc = json_object();
    if (!jc)
      break;
    json_object_set_new(jc, "name",
                        json_string(sp_sig_check_name((sp_sig_check_id)i)));
    json_object_set_new(jc, "result",
                        json_string(sp_sig_outcome_name(c->outcome)));
    json_object_set_new(jc, "sub_indication",
                        str_or_null(c->outcome == SP_OUTCOME_FAILED, cs));
    json_object_set_new(jc, "detail", jstr(c->detail));
    json_array_append_new(checks, jc);
  }
  json_object_set_new(o, "checks", checks);
  return o;
}
