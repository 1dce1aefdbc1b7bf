/* dispatch.c - events to messages. */
#include "dispatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "messages.h"
#include "sla.h"

static const char *s(const sp_event *ev, const char *key) {
  const char *v = json_string_value(json_object_get(ev->data, key));
  return v ? v : "";
}

/* An integer member as text. */
static const char *n(const sp_event *ev, const char *key, char *buf,
                     size_t len) {
  snprintf(buf, len, "%lld",
           (long long)json_integer_value(json_object_get(ev->data, key)));
  return buf;
}

static int to_mailbox(PGconn *tx, const nt_dispatch *d, const sp_event *ev,
                      const char *kind, const char *who,
                      const char *const *keys, const char *const *vals,
                      size_t count, char *errstr, size_t errlen) {
  char addr[256], name[256];
  int found = nt_lookup_mailbox(tx, who, addr, sizeof addr, name, sizeof name,
                                errstr, errlen);
  if (found < 0)
    return -1;
  nt_message m = {kind, "email", found ? addr : NULL, name, who,
                  keys, vals, count};
  return nt_queue(tx, d->templates, ev, &m, errstr, errlen);
}

/* An order's state as BCYCP reads it. */
static const char *order_state_vi(const char *state) {
  static const struct {
    const char *state, *vi;
  } names[] = {{"in_production", "đang sản xuất (in production)"},
               {"waiting_pilot", "chờ kết quả thử nghiệm nhà sản xuất "
                                 "(waiting for the vendor's pilot)"},
               {"blocked", "tạm dừng (blocked)"}};
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    if (!strcmp(state, names[i].state))
      return names[i].vi;
  return state;
}

static int order_message(PGconn *tx, const nt_dispatch *d, const sp_event *ev,
                         int accepted, char *errstr, size_t errlen) {
  json_t *contact = json_object_get(ev->data, "contact");
  const char *addr = json_string_value(json_object_get(contact, "email"));
  const char *name = json_string_value(json_object_get(contact, "name"));
  char q[24];
  if (accepted) {
    const char *keys[] = {"order_id", "bcycp_ref", "vendor_id", "quantity",
                          "state"};
    const char *vals[] = {s(ev, "order_id"), s(ev, "bcycp_ref"),
                          s(ev, "vendor_id"), n(ev, "quantity", q, sizeof q),
                          order_state_vi(s(ev, "state"))};
    nt_message m = {"order_accepted", "email", addr, name, "BCYCP contact",
                    keys, vals, 5};
    return nt_queue(tx, d->templates, ev, &m, errstr, errlen);
  }
  const char *keys[] = {"bcycp_ref", "reason"};
  const char *vals[] = {*s(ev, "bcycp_ref") ? s(ev, "bcycp_ref")
                                            : "(không đọc được)",
                        s(ev, "reason")};
  nt_message m = {"order_rejected", "email", addr, name, "BCYCP contact",
                  keys, vals, 2};
  return nt_queue(tx, d->templates, ev, &m, errstr, errlen);
}

static int batch_report(PGconn *tx, const nt_dispatch *d, const sp_event *ev,
                        char *errstr, size_t errlen) {
  char sims[24], loaded[24], already[24], failed[24], dur[32];
  snprintf(dur, sizeof dur, "%.1f giây",
           json_number_value(json_object_get(ev->data, "duration_s")));
  /* The failures as lines of text, at most the event's hundred. */
  size_t cap = 256, len = 0, i;
  char *text = malloc(cap);
  if (!text)
    return -1;
  text[0] = '\0';
  json_t *f;
  json_array_foreach(json_object_get(ev->data, "failures"), i, f) {
    char line[512];
    int k = snprintf(line, sizeof line, "- %s: %s\n",
                     json_string_value(json_object_get(f, "iccid")),
                     json_string_value(json_object_get(f, "reason")));
    if (k < 0)
      continue;
    if (len + (size_t)k + 1 > cap) {
      cap = 2 * (len + (size_t)k + 1);
      char *t = realloc(text, cap);
      if (!t) {
        free(text);
        return -1;
      }
      text = t;
    }
    memcpy(text + len, line, (size_t)k + 1);
    len += (size_t)k;
  }
  const char *keys[] = {"batch_id", "order_id", "sims", "loaded",
                        "already_present", "failed", "duration",
                        "imsi_first", "imsi_last", "failures"};
  const char *vals[] = {s(ev, "batch_id"),
                        s(ev, "order_id"),
                        n(ev, "sims", sims, sizeof sims),
                        n(ev, "loaded", loaded, sizeof loaded),
                        n(ev, "already_present", already, sizeof already),
                        n(ev, "failed", failed, sizeof failed),
                        dur,
                        s(ev, "imsi_first"),
                        s(ev, "imsi_last"),
                        len ? text : "(không có)"};
  int rc = to_mailbox(tx, d, ev, "batch_report", "ban_khdn", keys, vals, 10,
                      errstr, errlen) ||
           to_mailbox(tx, d, ev, "batch_report", "ban_khcn", keys, vals, 10,
                      errstr, errlen);
  free(text);
  return rc ? -1 : 0;
}

sp_handle_result nt_dispatch_event(PGconn *tx, const sp_event *ev,
                                   void *opaque, char *errstr,
                                   size_t errlen) {
  const nt_dispatch *d = opaque;
  const char *t = ev->type;
  int rc = 0;
  char buf[24];
  if (!strcmp(t, "order.accepted") || !strcmp(t, "order.rejected")) {
    rc = order_message(tx, d, ev, !strcmp(t, "order.accepted"), errstr,
                       errlen);
  } else if (!strcmp(t, "vendor.pilot_passed") ||
             !strcmp(t, "vendor.pilot_failed")) {
    int passed = !strcmp(t, "vendor.pilot_passed");
    const char *keys[] = {"vendor_id", "result", "evidence"};
    const char *vals[] = {s(ev, "vendor_id"), passed ? "đạt" : "không đạt",
                          passed ? s(ev, "evidence") : s(ev, "reason")};
    rc = to_mailbox(tx, d, ev, "pilot_result", "ban_khdn", keys, vals, 3,
                    errstr, errlen);
  } else if (!strcmp(t, "batch.provisioned")) {
    rc = batch_report(tx, d, ev, errstr, errlen);
  } else if (!strcmp(t, "sims.handed_over")) {
    const char *keys[] = {"ctkv", "sims", "iccid_first", "iccid_last",
                          "purpose", "move_id"};
    const char *purpose = !strcmp(s(ev, "purpose"), "testing")
                              ? "thử nghiệm (testing)"
                              : "đấu nối cho khách hàng (customers)";
    const char *vals[] = {s(ev, "ctkv"),        n(ev, "sims", buf, sizeof buf),
                          s(ev, "iccid_first"), s(ev, "iccid_last"),
                          purpose,              s(ev, "move_id")};
    rc = to_mailbox(tx, d, ev, "handover", s(ev, "ctkv"), keys, vals, 6,
                    errstr, errlen);
  } else if (!strcmp(t, "sim.connected")) {
    /* The person's name when the connection ended a case we track. */
    const char *p[] = {s(ev, "case_id")};
    PGresult *r = sp_db_query(
        tx, "SELECT full_name FROM sla_cases WHERE case_id = $1", 1, p,
        errstr, errlen);
    if (!r)
      return SP_HANDLE_RETRY;
    char name[256] = "";
    if (PQntuples(r) == 1)
      snprintf(name, sizeof name, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    const char *keys[] = {"msisdn", "full_name", "package"};
    const char *vals[] = {s(ev, "msisdn"), name, s(ev, "package")};
    nt_message m = {"connected_sms", "sms", s(ev, "msisdn"), name,
                    "the customer", keys, vals, 3};
    rc = nt_queue(tx, d->templates, ev, &m, errstr, errlen);
  } else if (!strcmp(t, "case.opened")) {
    rc = nt_sla_open(tx, d->cal, ev, errstr, errlen);
    if (rc > 0)
      return SP_HANDLE_REJECT;
  } else if (!strcmp(t, "case.closed") || !strcmp(t, "case.contacted")) {
    rc = nt_sla_close(tx, s(ev, "case_id"),
                      !strcmp(t, "case.closed") ? "connected" : "contacted",
                      errstr, errlen);
  }
  return rc ? SP_HANDLE_RETRY : SP_HANDLE_OK;
}
