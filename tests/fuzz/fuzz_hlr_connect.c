/* fuzz_hlr_connect - a connect or swap request as hlr-provisioner takes it
 * off the topic connections: the input is the data of a
 * connection.requested event, read by hp_conn_from_event (the part of
 * hp_cstore_enqueue before any database or HLR).
 *
 * Invariants: a refusal leaves the saga cleared and gives a UTF-8 reason
 * naming the event; an accepted request is at step FIND and holds exactly
 * the event's request_id (1 to 63 bytes) and iccid (at most 20), never a
 * shortened copy, the canonical form of its msisdn (the number goes into
 * the HLR's CTRL commands) and its swap flag; its case_id is the event's. */
#include "connect.h"
#include "fuzz.h"
#include "phone.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  json_object_seed(1);
  return 0;
}

static const char *str(json_t *d, const char *key) {
  return json_string_value(json_object_get(d, key));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  json_error_t je;
  json_t *d = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
  if (!json_is_object(d)) { /* sp_event_parse refuses such an event */
    json_decref(d);
    return 0;
  }
  sp_event ev;
  char err[512];
  FZ_CHECK(sp_event_init(&ev, "/simpki/inventory", "connection.requested",
                         "connection/CN-2026-00000001", NULL, "ORD-2026-000001",
                         d, err, sizeof err) == 0,
           err);
  snprintf(ev.id, sizeof ev.id, "%s", "0b6f2a4e-3c1d-4e8f-9a7b-5c6d7e8f9a0b");
  hp_conn c;
  const char *case_id = "x";
  memset(err, 'U', sizeof err);
  if (hp_conn_from_event(&ev, &c, &case_id, err, sizeof err)) {
    FZ_CHECK(fz_zero(&c, sizeof c) && case_id == NULL, "refused, yet filled");
    FZ_CHECK(fz_errstr_ok(err, sizeof err) && fz_utf8(err, strlen(err)), err);
    FZ_CHECK(strstr(err, ev.id) != NULL, "the reason does not name the event");
    sp_event_clear(&ev);
    return 0;
  }
  const char *rid = str(ev.data, "request_id"), *iccid = str(ev.data, "iccid");
  FZ_CHECK(rid && !strcmp(c.request_id, rid) && strlen(rid) >= 1 &&
               strlen(rid) <= 63,
           "request_id");
  FZ_CHECK(iccid && !strcmp(c.iccid, iccid) && strlen(iccid) <= 20, "iccid");
  FZ_CHECK(fz_phone_canonical(c.msisdn), c.msisdn);
  char canon[SP_PHONE_LEN + 1], why[200];
  FZ_CHECK(sp_phone_normalize_vn(str(ev.data, "msisdn"), canon, why,
                                 sizeof why) == 0 &&
               !strcmp(canon, c.msisdn),
           "msisdn");
  json_t *swap = json_object_get(ev.data, "swap");
  FZ_CHECK(json_is_boolean(swap) && c.swap == json_is_true(swap), "swap");
  FZ_CHECK(c.step == HP_CONN_FIND && !c.restored && !c.reason[0] &&
               !c.imsi[0] && !c.old_imsi[0],
           "a new saga");
  FZ_CHECK(case_id == str(ev.data, "case_id"), "case_id");
  sp_event_clear(&ev);
  return 0;
}
