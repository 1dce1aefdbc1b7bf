/* hlr_osmo.c - hlr.h over OsmoHLR 1.5's CTRL interface (ctrl_client.c).
 *
 * Each operation is one CTRL request (observed replies in brackets):
 *   CREATE        SET subscriber.create IMSI       [SET_REPLY .. <id>]
 *   SET_AUD2G     SET subscriber.by-imsi-I.aud2g comp128v1,<KI>     [OK]
 *   SET_AUD3G     SET subscriber.by-imsi-I.aud3g milenage,<K>,OPC,<OPC>
 *   SET_MSISDN    SET subscriber.by-imsi-I.msisdn M                 [OK]
 *   CLEAR_MSISDN  SET subscriber.by-imsi-I.msisdn none              [OK]
 *   READ_AUD      GET subscriber.by-imsi-I.info-all
 *   READ_MSISDN   GET subscriber.by-imsi-I.msisdn           [M | none]
 *   FIND_MSISDN   GET subscriber.by-msisdn-M.info   [..imsi<TAB>I..]
 *   DELETE        SET subscriber.delete IMSI       [SET_REPLY .. <id>]
 * READ_AUD asks info-all, not info-aud: info-aud of an unknown IMSI is an
 * empty GET_REPLY, indistinguishable from a subscriber without keys.
 *
 * ERROR reasons seen and what they mean here:
 *   "No such subscriber."         (by-imsi-/by-msisdn- of an unknown one)
 *   "Subscriber doesn't exist."   (subscriber.delete)       -> NOT_FOUND
 *   "Subscriber already exists."  (subscriber.create)       -> EXISTS
 *   "Update MSISDN failed"        (.msisdn taken elsewhere) -> MSISDN_TAKEN
 *   "Invalid IMSI value.", "Invalid KI.", "Invalid format.",
 *   "Value failed verification.", "Update aud3g failed."    -> FAILED */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "ctrl_client.h"
#include "hlr.h"

#define IMSI_MIN 6 /* OsmoHLR's own rule: 6-15 digits */

typedef struct op_ctx {
  int used;
  int immediate; /* done without the HLR: an invalid op */
  hp_hlr_op_kind kind;
  void *tag;
  char imsi[HP_HLR_IMSI_MAX + 1];
  char msisdn[HP_HLR_MSISDN_MAX + 1];
  char detail[HP_HLR_DETAIL_MAX];
} op_ctx;

typedef struct osmo {
  hp_ctrl *c; /* NULL after a failed reconnect */
  char addr[256];
  int window, timeout_ms;
  int used, immediates;
  char error[256]; /* why c is NULL */
  op_ctx *ctx;
} osmo;

/* s may be a full char[max + 1] without its NUL: never read past it. */
static int digits(const char *s, size_t min, size_t max) {
  size_t n = strnlen(s, max + 1);
  if (n < min || n > max)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (s[i] < '0' || s[i] > '9')
      return 0;
  return 1;
}

static hp_ctrl *connect_ctrl(osmo *o, char *errstr, size_t errlen) {
  hp_ctrl *c = hp_ctrl_connect(o->addr, o->timeout_ms, errstr, errlen);
  if (c && hp_ctrl_set_window(c, o->window, errstr, errlen) < 0) {
    hp_ctrl_close(c);
    c = NULL;
  }
  return c;
}

/* What the op needs before it may go to the HLR; NULL when fine. */
static const char *op_invalid(const hp_hlr_op *op) {
  if ((unsigned)op->kind > HP_HLR_DELETE)
    return "unknown operation";
  int need_imsi = op->kind != HP_HLR_FIND_MSISDN;
  int need_msisdn =
      op->kind == HP_HLR_SET_MSISDN || op->kind == HP_HLR_FIND_MSISDN;
  if (need_imsi && !digits(op->imsi, IMSI_MIN, HP_HLR_IMSI_MAX))
    return "the IMSI is not 6-15 digits";
  if (need_msisdn && !digits(op->msisdn, 1, HP_HLR_MSISDN_MAX))
    return "the MSISDN is not 1-15 digits";
  const hp_aud *a = &op->aud;
  if (op->kind == HP_HLR_SET_AUD2G &&
      (!a->has_2g || a->ki.len != 16 ||
       (a->algo2g != HP_AUD_COMP128V1 && a->algo2g != HP_AUD_COMP128V2 &&
        a->algo2g != HP_AUD_COMP128V3 && a->algo2g != HP_AUD_XOR)))
    return "no 2G auth data (COMP128v1-3 or XOR, 16-byte Ki) in the op";
  if (op->kind == HP_HLR_SET_AUD3G &&
      (!a->has_3g || a->algo3g != HP_AUD_MILENAGE || a->k.len != 16 ||
       a->opc.len != 16))
    return "no 3G auth data (MILENAGE, 16-byte K and OPc) in the op";
  return NULL;
}

/* The CTRL request of an op. value gets key material for the aud ops:
 * the caller wipes it. */
static void op_request(const hp_hlr_op *op, hp_ctrl_type *type, char *var,
                       size_t varcap, char *value, size_t valuecap) {
  const char *field = "info";
  *type = HP_CTRL_SET;
  value[0] = '\0';
  switch (op->kind) {
  case HP_HLR_CREATE:
  case HP_HLR_DELETE:
    snprintf(var, varcap, "subscriber.%s",
             op->kind == HP_HLR_CREATE ? "create" : "delete");
    snprintf(value, valuecap, "%s", op->imsi);
    return;
  case HP_HLR_SET_AUD2G: {
    static const char *const alg[] = {[HP_AUD_COMP128V1] = "comp128v1",
                                      [HP_AUD_COMP128V2] = "comp128v2",
                                      [HP_AUD_COMP128V3] = "comp128v3",
                                      [HP_AUD_XOR] = "xor"};
    char ki[33];
    sp_hex_encode(op->aud.ki.b, 16, ki);
    snprintf(value, valuecap, "%s,%s", alg[op->aud.algo2g], ki);
    sp_wipe(ki, sizeof ki);
    field = "aud2g";
    break;
  }
  case HP_HLR_SET_AUD3G: {
    char k[33], opc[33];
    sp_hex_encode(op->aud.k.b, 16, k);
    sp_hex_encode(op->aud.opc.b, 16, opc);
    snprintf(value, valuecap, "milenage,%s,%s,%s", k,
             op->aud.opc_is_op ? "OP" : "OPC", opc);
    sp_wipe(k, sizeof k);
    sp_wipe(opc, sizeof opc);
    field = "aud3g";
    break;
  }
  case HP_HLR_SET_MSISDN:
  case HP_HLR_CLEAR_MSISDN:
    snprintf(value, valuecap, "%s",
             op->kind == HP_HLR_SET_MSISDN ? op->msisdn : "none");
    field = "msisdn";
    break;
  case HP_HLR_READ_AUD:
    *type = HP_CTRL_GET;
    field = "info-all";
    break;
  case HP_HLR_READ_MSISDN:
    *type = HP_CTRL_GET;
    field = "msisdn";
    break;
  case HP_HLR_FIND_MSISDN:
    *type = HP_CTRL_GET;
    snprintf(var, varcap, "subscriber.by-msisdn-%s.info", op->msisdn);
    return;
  }
  snprintf(var, varcap, "subscriber.by-imsi-%s.%s", op->imsi, field);
}

static int osmo_submit(void *impl, const hp_hlr_op *op, char *errstr,
                       size_t errlen) {
  osmo *o = impl;
  if (o->used >= o->window) {
    snprintf(errstr, errlen, "HLR window full (%d in flight)", o->used);
    return 1;
  }
  const char *invalid = op_invalid(op);
  if (!invalid && !o->c) {
    snprintf(errstr, errlen, "HLR %s unavailable: %s", o->addr, o->error);
    return -1;
  }
  if (!invalid && hp_ctrl_broken(o->c)) {
    snprintf(errstr, errlen, "HLR %s unavailable: %s", o->addr,
             hp_ctrl_error(o->c));
    return -1;
  }
  op_ctx *x = NULL;
  for (int i = 0; i < o->window && !x; i++)
    if (!o->ctx[i].used)
      x = &o->ctx[i];
  if (!x) { /* o->used says there is one */
    snprintf(errstr, errlen, "HLR adapter lost track of its window");
    return 1;
  }
  memset(x, 0, sizeof *x);
  x->kind = op->kind;
  x->tag = op->tag;
  snprintf(x->imsi, sizeof x->imsi, "%.*s", HP_HLR_IMSI_MAX, op->imsi);
  snprintf(x->msisdn, sizeof x->msisdn, "%.*s", HP_HLR_MSISDN_MAX, op->msisdn);
  if (!invalid) {
    hp_ctrl_type type;
    char var[HP_CTRL_VAR_MAX + 1], value[128];
    op_request(op, &type, var, sizeof var, value, sizeof value);
    int r = hp_ctrl_submit(o->c, type, var, type == HP_CTRL_SET ? value : NULL,
                           x, x->detail, sizeof x->detail);
    sp_wipe(value, sizeof value);
    if (r < 0 && hp_ctrl_broken(o->c)) {
      snprintf(errstr, errlen, "HLR %s unavailable: %s", o->addr,
               hp_ctrl_error(o->c));
      return -1;
    }
    if (r < 0)
      invalid = x->detail; /* a request the encoder refused */
  }
  x->used = 1;
  o->used++;
  if (invalid) {
    if (invalid != x->detail)
      snprintf(x->detail, sizeof x->detail, "%s", invalid);
    x->immediate = 1;
    o->immediates++;
  }
  return 0;
}

/* One "key<TAB>value" line of an info reply; -1 when absent. */
static int info_field(const char *text, const char *key, char *out,
                      size_t cap) {
  size_t kl = strlen(key);
  for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p) {
    if (!strncmp(p, key, kl) && p[kl] == '\t') {
      const char *v = p + kl + 1;
      size_t vl = strcspn(v, "\r\n");
      if (vl >= cap)
        return -1;
      memcpy(out, v, vl);
      out[vl] = '\0';
      return 0;
    }
  }
  return -1;
}

static hp_hlr_status from_error(const op_ctx *x, const char *reason) {
  if (!strcmp(reason, "No such subscriber.") ||
      !strcmp(reason, "Subscriber doesn't exist."))
    return HP_HLR_NOT_FOUND;
  if (x->kind == HP_HLR_CREATE && !strcmp(reason, "Subscriber already exists."))
    return HP_HLR_EXISTS;
  if (x->kind == HP_HLR_SET_MSISDN && !strcmp(reason, "Update MSISDN failed"))
    return HP_HLR_MSISDN_TAKEN;
  return HP_HLR_FAILED;
}

/* A successful reply's value, read per kind into out. */
static hp_hlr_status from_value(const op_ctx *x, const char *v,
                                hp_hlr_result *out) {
  char buf[32], err[160];
  switch (x->kind) {
  case HP_HLR_CREATE:
  case HP_HLR_DELETE: {
    /* The subscriber's id. */
    char *end;
    long long id = strtoll(v, &end, 10);
    if (!digits(v, 1, 19) || *end) {
      snprintf(out->detail, sizeof out->detail,
               "unexpected reply to subscriber.%s",
               x->kind == HP_HLR_CREATE ? "create" : "delete");
      return HP_HLR_FAILED;
    }
    out->id = id;
    return HP_HLR_OK;
  }
  case HP_HLR_SET_AUD2G:
  case HP_HLR_SET_AUD3G:
  case HP_HLR_SET_MSISDN:
  case HP_HLR_CLEAR_MSISDN:
    if (strcmp(v, "OK")) {
      snprintf(out->detail, sizeof out->detail, "unexpected reply to %s",
               hp_hlr_op_name(x->kind));
      return HP_HLR_FAILED;
    }
    return HP_HLR_OK;
  case HP_HLR_READ_MSISDN:
    if (!strcmp(v, "none"))
      return HP_HLR_OK;
    if (!digits(v, 1, HP_HLR_MSISDN_MAX)) {
      snprintf(out->detail, sizeof out->detail, "unexpected MSISDN reply");
      return HP_HLR_FAILED;
    }
    snprintf(out->msisdn, sizeof out->msisdn, "%s", v);
    return HP_HLR_OK;
  case HP_HLR_READ_AUD:
    /* info-all: the subscriber's lines and its aud lines. */
    if (info_field(v, "imsi", buf, sizeof buf) < 0 || strcmp(buf, x->imsi)) {
      snprintf(out->detail, sizeof out->detail,
               "info-all does not name IMSI %s", x->imsi);
      return HP_HLR_FAILED;
    }
    if (hp_aud_parse(v, strlen(v), &out->aud, err, sizeof err) < 0) {
      snprintf(out->detail, sizeof out->detail, "unreadable auth data: %s",
               err);
      return HP_HLR_FAILED;
    }
    if (info_field(v, "msisdn", buf, sizeof buf) == 0 &&
        digits(buf, 1, HP_HLR_MSISDN_MAX))
      snprintf(out->msisdn, sizeof out->msisdn, "%.15s", buf);
    return HP_HLR_OK;
  case HP_HLR_FIND_MSISDN:
    if (info_field(v, "imsi", buf, sizeof buf) < 0 ||
        !digits(buf, IMSI_MIN, HP_HLR_IMSI_MAX)) {
      snprintf(out->detail, sizeof out->detail,
               "info of MSISDN %s names no IMSI", x->msisdn);
      return HP_HLR_FAILED;
    }
    snprintf(out->imsi, sizeof out->imsi, "%.15s", buf);
    return HP_HLR_OK;
  }
  return HP_HLR_FAILED;
}

static void finish(osmo *o, op_ctx *x, hp_hlr_result *out) {
  out->tag = x->tag;
  out->kind = x->kind;
  if (x->kind != HP_HLR_FIND_MSISDN || out->status != HP_HLR_OK)
    snprintf(out->imsi, sizeof out->imsi, "%s", x->imsi);
  if (!out->msisdn[0] && x->kind != HP_HLR_READ_MSISDN &&
      x->kind != HP_HLR_READ_AUD)
    snprintf(out->msisdn, sizeof out->msisdn, "%s", x->msisdn);
  x->used = 0;
  o->used--;
}

static int osmo_poll(void *impl, int timeout_ms, hp_hlr_result *out) {
  osmo *o = impl;
  memset(out, 0, sizeof *out);
  if (o->immediates) {
    for (int i = 0; i < o->window; i++) {
      op_ctx *x = &o->ctx[i];
      if (x->used && x->immediate) {
        out->status = HP_HLR_FAILED;
        snprintf(out->detail, sizeof out->detail, "%s", x->detail);
        o->immediates--;
        finish(o, x, out);
        return 1;
      }
    }
  }
  if (!o->c)
    return 0;
  hp_ctrl_reply r;
  if (hp_ctrl_poll(o->c, timeout_ms, &r) != 1)
    return 0;
  op_ctx *x = r.tag;
  switch (r.status) {
  case HP_CTRL_OK:
    out->status = from_value(x, r.value, out);
    break;
  case HP_CTRL_ERROR:
    out->status = from_error(x, r.value);
    snprintf(out->detail, sizeof out->detail, "HLR: %s", r.value);
    break;
  default: /* TIMEOUT, BROKEN */
    out->status = HP_HLR_UNAVAILABLE;
    snprintf(out->detail, sizeof out->detail, "HLR %.64s: %.180s", o->addr,
             r.value);
    break;
  }
  finish(o, x, out);
  return 1;
}

static int osmo_outstanding(void *impl) { return ((osmo *)impl)->used; }

static int osmo_reconnect(void *impl, char *errstr, size_t errlen) {
  osmo *o = impl;
  if (o->used) {
    snprintf(errstr, errlen,
             "HLR reconnect with %d operations in flight: poll them first",
             o->used);
    return -1;
  }
  hp_ctrl_close(o->c);
  o->c = connect_ctrl(o, errstr, errlen);
  if (!o->c) {
    snprintf(o->error, sizeof o->error, "%.200s", errstr);
    return -1;
  }
  return 0;
}

/* The handle and its state in one allocation; close frees both. */
typedef struct osmo_handle {
  hp_hlr h;
  osmo o;
} osmo_handle;

static void handle_close(void *impl) {
  osmo *o = impl;
  hp_ctrl_close(o->c);
  free(o->ctx);
  free((char *)o - offsetof(osmo_handle, o));
}

static const hp_hlr_ops osmo_ops = {
    .name = "osmo",
    .submit = osmo_submit,
    .poll = osmo_poll,
    .outstanding = osmo_outstanding,
    .reconnect = osmo_reconnect,
    .close = handle_close,
};

hp_hlr *hp_hlr_osmo_open(const char *addr, int window, int timeout_ms,
                         char *errstr, size_t errlen) {
  if (window < 1 || window > HP_CTRL_MAX_WINDOW || timeout_ms < 1) {
    snprintf(errstr, errlen,
             "HLR window must be 1-%d and the timeout at least 1 ms",
             HP_CTRL_MAX_WINDOW);
    return NULL;
  }
  if (!addr || strlen(addr) >= sizeof((osmo *)0)->addr) {
    snprintf(errstr, errlen, "HLR CTRL address missing or too long");
    return NULL;
  }
  osmo_handle *hd = calloc(1, sizeof *hd);
  op_ctx *ctx = calloc((size_t)window, sizeof *ctx);
  if (!hd || !ctx) {
    free(hd);
    free(ctx);
    snprintf(errstr, errlen, "out of memory");
    return NULL;
  }
  osmo *o = &hd->o;
  snprintf(o->addr, sizeof o->addr, "%s", addr);
  o->window = window;
  o->timeout_ms = timeout_ms;
  o->ctx = ctx;
  o->c = connect_ctrl(o, errstr, errlen);
  if (!o->c) {
    free(ctx);
    free(hd);
    return NULL;
  }
  hd->h.ops = &osmo_ops;
  hd->h.impl = o;
  return &hd->h;
}
