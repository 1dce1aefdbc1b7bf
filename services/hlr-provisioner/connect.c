/* connect.c - the number-moving saga of B9 over hp_hlr. */
#include "connect.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "phone.h"

static const char *const names[] = {"find",   "clear_old", "set_new", "verify",
                                    "restore", "done",     "failed"};

const char *hp_conn_step_name(hp_conn_step s) {
  return (unsigned)s < sizeof names / sizeof *names ? names[s] : "?";
}

int hp_conn_step_parse(const char *name) {
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    if (!strcmp(names[i], name))
      return (int)i;
  return -1;
}

__attribute__((format(printf, 3, 4))) static void
end_failed(hp_conn *c, int restored, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->reason, sizeof c->reason, fmt, ap);
  va_end(ap);
  c->restored = restored;
  c->step = HP_CONN_FAILED;
}

/* Go to RESTORE, keeping why the move failed for the final reason. */
__attribute__((format(printf, 2, 3))) static void to_restore(hp_conn *c,
                                                             const char *fmt,
                                                             ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->reason, sizeof c->reason, fmt, ap);
  va_end(ap);
  c->step = HP_CONN_RESTORE;
}

static hp_hlr_status call(hp_hlr *h, hp_hlr_op_kind kind, const char *imsi,
                          const char *msisdn, hp_hlr_result *res) {
  return hp_hlr_call(h, kind, imsi, msisdn, NULL, res);
}

/* One step; 1 when the HLR was unavailable (the step is kept). */
static int step(hp_hlr *h, hp_conn *c) {
  hp_hlr_result r, r2;
  hp_hlr_status st;
  switch (c->step) {
  case HP_CONN_FIND:
    st = call(h, HP_HLR_FIND_MSISDN, NULL, c->msisdn, &r);
    if (st == HP_HLR_UNAVAILABLE)
      return 1;
    if (st == HP_HLR_OK && !strcmp(r.imsi, c->imsi)) {
      c->step = HP_CONN_VERIFY; /* a repeated request: already there */
    } else if (c->swap) {
      if (st == HP_HLR_NOT_FOUND)
        end_failed(c, 0, "number %s is on no subscriber in the HLR: nothing "
                         "to move", c->msisdn);
      else if (st != HP_HLR_OK)
        end_failed(c, 0, "cannot find who holds number %s: %s", c->msisdn,
                   r.detail);
      else {
        snprintf(c->old_imsi, sizeof c->old_imsi, "%s", r.imsi);
        c->step = HP_CONN_CLEAR_OLD;
      }
    } else if (st == HP_HLR_OK) {
      end_failed(c, 0, "number %s is already in use by IMSI %s", c->msisdn,
                 r.imsi);
    } else if (st == HP_HLR_NOT_FOUND) {
      c->step = HP_CONN_SET_NEW;
    } else {
      end_failed(c, 0, "cannot check number %s: %s", c->msisdn, r.detail);
    }
    return 0;
  case HP_CONN_CLEAR_OLD:
    st = call(h, HP_HLR_CLEAR_MSISDN, c->old_imsi, NULL, &r);
    if (st == HP_HLR_UNAVAILABLE)
      return 1;
    if (st == HP_HLR_OK)
      c->step = HP_CONN_SET_NEW;
    else /* nothing changed yet */
      end_failed(c, 0, "cannot take number %s off IMSI %s: %s", c->msisdn,
                 c->old_imsi, r.detail);
    return 0;
  case HP_CONN_SET_NEW:
    st = call(h, HP_HLR_SET_MSISDN, c->imsi, c->msisdn, &r);
    if (st == HP_HLR_UNAVAILABLE)
      return 1;
    if (st == HP_HLR_OK)
      c->step = HP_CONN_VERIFY;
    else if (c->swap)
      to_restore(c, "cannot set number %s on IMSI %s: %s", c->msisdn, c->imsi,
                 r.detail);
    else
      end_failed(c, 0, "cannot set number %s on IMSI %s: %s", c->msisdn,
                 c->imsi, r.detail);
    return 0;
  case HP_CONN_VERIFY:
    st = call(h, HP_HLR_READ_MSISDN, c->imsi, NULL, &r);
    if (st == HP_HLR_UNAVAILABLE)
      return 1;
    hp_hlr_status st2 = HP_HLR_OK;
    if (c->swap && c->old_imsi[0]) {
      st2 = call(h, HP_HLR_READ_MSISDN, c->old_imsi, NULL, &r2);
      if (st2 == HP_HLR_UNAVAILABLE)
        return 1;
    }
    int new_ok = st == HP_HLR_OK && !strcmp(r.msisdn, c->msisdn);
    int old_ok = !(c->swap && c->old_imsi[0]) ||
                 (st2 == HP_HLR_OK && r2.msisdn[0] == '\0');
    if (new_ok && old_ok)
      c->step = HP_CONN_DONE;
    else if (c->swap)
      to_restore(c, "read back: IMSI %s %s number %s", new_ok ? c->old_imsi
                                                              : c->imsi,
                 new_ok ? "still shows" : "does not show", c->msisdn);
    else
      end_failed(c, 0, "read back: IMSI %s does not show number %s", c->imsi,
                 c->msisdn);
    return 0;
  case HP_CONN_RESTORE:
    /* Off the new subscriber (if it got there), back on the old one. */
    st = call(h, HP_HLR_CLEAR_MSISDN, c->imsi, NULL, &r);
    if (st == HP_HLR_UNAVAILABLE)
      return 1;
    st = call(h, HP_HLR_SET_MSISDN, c->old_imsi, c->msisdn, &r2);
    if (st == HP_HLR_UNAVAILABLE)
      return 1;
    if (st == HP_HLR_OK) {
      char why[sizeof c->reason];
      snprintf(why, sizeof why, "%s", c->reason);
      end_failed(c, 1, "%s; number %s is back on IMSI %s", why, c->msisdn,
                 c->old_imsi);
      return 0;
    }
    /* The HLR refuses to put it back: stay here, an operator must see. */
    return 1;
  case HP_CONN_DONE:
  case HP_CONN_FAILED:
    return 0;
  }
  return 0;
}

int hp_connect_run(hp_hlr *h, hp_conn *c, hp_conn_save_fn save, void *arg) {
  while (c->step != HP_CONN_DONE && c->step != HP_CONN_FAILED) {
    hp_conn_step before = c->step;
    if (step(h, c))
      return 1;
    if (c->step != before && save(arg, c))
      return -1;
  }
  return 0;
}

static const char *str(const sp_event *ev, const char *key) {
  return json_string_value(json_object_get(ev->data, key));
}

int hp_conn_from_event(const sp_event *ev, hp_conn *c, const char **case_id,
                       char *errstr, size_t errlen) {
  memset(c, 0, sizeof *c);
  *case_id = NULL;
  const char *rid = str(ev, "request_id"), *iccid = str(ev, "iccid");
  const char *msisdn_in = str(ev, "msisdn");
  json_t *swap_j = json_object_get(ev->data, "swap");
  char msisdn[SP_PHONE_LEN + 1], why[256];
  if (!rid || !*rid || strlen(rid) > 63 || !iccid || strlen(iccid) > 20 ||
      !msisdn_in || !json_is_boolean(swap_j)) {
    snprintf(errstr, errlen,
             "%s %s needs request_id, iccid, msisdn and swap (a boolean)",
             ev->type, ev->id);
    return -1;
  }
  if (sp_phone_normalize_vn(msisdn_in, msisdn, why, sizeof why)) {
    snprintf(errstr, errlen, "%s %s: %s", ev->type, ev->id, why);
    return -1;
  }
  c->swap = json_is_true(swap_j);
  c->step = HP_CONN_FIND;
  snprintf(c->request_id, sizeof c->request_id, "%s", rid);
  snprintf(c->iccid, sizeof c->iccid, "%s", iccid);
  snprintf(c->msisdn, sizeof c->msisdn, "%s", msisdn);
  *case_id = str(ev, "case_id");
  return 0;
}
