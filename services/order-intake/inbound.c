/* inbound.c - the inbound topic adapter. */
#include "inbound.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sigverify.h"

static int b64(const sp_event *ev, const char *key, unsigned char **out,
               size_t *len) {
  const char *s = json_string_value(json_object_get(ev->data, key));
  return s ? sp_sig_b64_decode(s, strlen(s), out, len) : -1;
}

/* B9 from inventory: a connection that names a case closes it. A case that
 * does not exist or was cancelled is dead-lettered with the reason for an
 * operator: it means the shop connected against the wrong case. */
static sp_handle_result close_case(PGconn *tx, const sp_event *ev,
                                   char *errstr, size_t errlen) {
  const char *case_id = json_string_value(json_object_get(ev->data, "case_id"));
  if (!case_id)
    return SP_HANDLE_OK; /* a walk-in customer: no case to close */
  const char *iccid = json_string_value(json_object_get(ev->data, "iccid"));
  const char *msisdn = json_string_value(json_object_get(ev->data, "msisdn"));
  if (!iccid || !msisdn) {
    snprintf(errstr, errlen, "sim.connected %s: data.iccid or data.msisdn "
             "is missing", ev->id);
    return SP_HANDLE_REJECT;
  }
  int closed = 0;
  oi_error e = oi_close_case_tx(tx, case_id, iccid, msisdn, &closed, errstr,
                                errlen);
  if (e == OI_INTERNAL)
    return SP_HANDLE_RETRY;
  if (e != OI_OK)
    return SP_HANDLE_REJECT;
  if (closed)
    sp_info("connection case closed", "case_id", case_id, "event_id", ev->id);
  return SP_HANDLE_OK;
}

sp_handle_result oi_inbound_handle(PGconn *tx, const sp_event *ev,
                                   void *opaque, char *errstr,
                                   size_t errlen) {
  const oi_conf *conf = opaque;
  if (strcmp(ev->type, "sim.connected") == 0)
    return close_case(tx, ev, errstr, errlen);
  if (strcmp(ev->type, "order.submitted") != 0)
    return SP_HANDLE_OK; /* not ours to take */
  unsigned char *doc = NULL, *sig = NULL;
  size_t doclen = 0, siglen = 0;
  if (b64(ev, "document", &doc, &doclen)) {
    free(doc);
    snprintf(errstr, errlen,
             "order.submitted %s: data.document is missing or not base64",
             ev->id);
    return SP_HANDLE_REJECT; /* dead-lettered with the reason */
  }
  if (json_object_get(ev->data, "signature") &&
      b64(ev, "signature", &sig, &siglen)) {
    free(sig);
    sig = NULL;
    siglen = 0;
  }
  char actor[160];
  snprintf(actor, sizeof actor, "bcycp-topic (%s)", ev->source);
  oi_result res;
  oi_error e = oi_submit_order_tx(tx, conf, doc, doclen, sig, siglen, "topic",
                                  actor, &res, errstr, errlen);
  free(doc);
  free(sig);
  return e == OI_INTERNAL ? SP_HANDLE_RETRY : SP_HANDLE_OK;
}
