/* hlr.c - the adapter-independent part of hlr.h: dispatch, names, the
 * synchronous form. */
#include "hlr.h"

#include <stdio.h>
#include <string.h>

#include "crypto.h"

int hp_hlr_submit(hp_hlr *h, const hp_hlr_op *op, char *errstr, size_t errlen) {
  return h->ops->submit(h->impl, op, errstr, errlen);
}

int hp_hlr_poll(hp_hlr *h, int timeout_ms, hp_hlr_result *out) {
  return h->ops->poll(h->impl, timeout_ms, out);
}

int hp_hlr_outstanding(hp_hlr *h) { return h->ops->outstanding(h->impl); }

int hp_hlr_reconnect(hp_hlr *h, char *errstr, size_t errlen) {
  return h->ops->reconnect(h->impl, errstr, errlen);
}

void hp_hlr_close(hp_hlr *h) {
  if (!h)
    return;
  h->ops->close(h->impl);
}

const char *hp_hlr_status_name(hp_hlr_status s) {
  switch (s) {
  case HP_HLR_OK:
    return "ok";
  case HP_HLR_NOT_FOUND:
    return "not_found";
  case HP_HLR_EXISTS:
    return "exists";
  case HP_HLR_MSISDN_TAKEN:
    return "msisdn_taken";
  case HP_HLR_UNAVAILABLE:
    return "unavailable";
  case HP_HLR_FAILED:
    return "failed";
  }
  return "?";
}

const char *hp_hlr_op_name(hp_hlr_op_kind k) {
  static const char *const names[] = {
      "create",   "set_aud2g",   "set_aud3g",   "set_msisdn", "clear_msisdn",
      "read_aud", "read_msisdn", "find_msisdn", "delete"};
  return (unsigned)k < sizeof names / sizeof *names ? names[k] : "?";
}

int hp_hlr_retryable(hp_hlr_status s) { return s == HP_HLR_UNAVAILABLE; }

int hp_hlr_op_init(hp_hlr_op *op, hp_hlr_op_kind kind, const char *imsi,
                   const char *msisdn, const hp_aud *aud, void *tag) {
  sp_wipe(op, sizeof *op);
  op->kind = kind;
  op->tag = tag;
  if (imsi && strlen(imsi) >= sizeof op->imsi)
    return -1;
  if (msisdn && strlen(msisdn) >= sizeof op->msisdn)
    return -1;
  if (imsi)
    strcpy(op->imsi, imsi);
  if (msisdn)
    strcpy(op->msisdn, msisdn);
  if (aud)
    op->aud = *aud;
  return 0;
}

static hp_hlr_status failed(const hp_hlr_op *op, hp_hlr_result *res,
                            hp_hlr_status st, const char *why) {
  memset(res, 0, sizeof *res);
  res->tag = op->tag;
  res->kind = op->kind;
  res->status = st;
  snprintf(res->imsi, sizeof res->imsi, "%s", op->imsi);
  snprintf(res->msisdn, sizeof res->msisdn, "%s", op->msisdn);
  snprintf(res->detail, sizeof res->detail, "%s", why);
  return st;
}

hp_hlr_status hp_hlr_run(hp_hlr *h, const hp_hlr_op *op, hp_hlr_result *res) {
  char err[HP_HLR_DETAIL_MAX];
  if (hp_hlr_outstanding(h) > 0)
    return failed(op, res, HP_HLR_FAILED,
                  "synchronous HLR call with operations in flight");
  int r = hp_hlr_submit(h, op, err, sizeof err);
  if (r < 0)
    return failed(op, res, HP_HLR_UNAVAILABLE, err);
  if (r > 0) /* cannot happen with nothing in flight */
    return failed(op, res, HP_HLR_FAILED, "HLR adapter busy");
  /* The adapter completes every op within its request timeout. */
  while (hp_hlr_poll(h, 1000, res) != 1)
    ;
  return res->status;
}

hp_hlr_status hp_hlr_call(hp_hlr *h, hp_hlr_op_kind kind, const char *imsi,
                          const char *msisdn, const hp_aud *aud,
                          hp_hlr_result *res) {
  hp_hlr_op op;
  hp_hlr_status st;
  if (hp_hlr_op_init(&op, kind, imsi, msisdn, aud, NULL) < 0)
    st = failed(&op, res, HP_HLR_FAILED, "IMSI or MSISDN too long");
  else
    st = hp_hlr_run(h, &op, res);
  sp_wipe(&op, sizeof op);
  return st;
}
