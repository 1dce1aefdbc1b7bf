/* fuzz_dashboard - the operations dashboard's fold of the events (state.c)
 * and its drill-down GET /api/orders/{id}: every topic's events, whatever
 * their data holds, and the order id in the path.
 *
 * Input: an input that starts "# metrics\n" is instead a service's
 * GET /metrics page, which the dashboard's poller reads for the outbox lag
 * (ds_outbox_lag) and shows with the service (ds_services_json).
 * Otherwise lines. A line "TYPE<TAB>TIME<TAB>SUBJECT<TAB>DATA" is one event:
 * its attributes go through sp_event_parse_attrs (as the topic reader's
 * sp_event_parse checks them; one it refuses is skipped, as the reader
 * does), DATA must be a JSON object, and ds_state_apply folds it. Any
 * other line is the path's order id for ds_state_order_json (the handler
 * refuses an empty id or one with '/').
 *
 * Invariants: every event is counted; the main page's JSON and the order's
 * always serialize (they reach the browser; a string the fold cut in the
 * middle of a UTF-8 sequence, or a number past what JSON carries, would not);
 * an order's page names that order. A lag read from a page is a number JSON
 * carries, and the service's JSON shows it. */
#include <math.h>

#include "health.h"
#include "fuzz.h"
#include "state.h"

#define NOW_MS 1764061200000LL /* 2026-11-25T09:00:00Z */

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  json_object_seed(1);
  return 0;
}

static void serializes(json_t *j, const char *what) {
  FZ_CHECK(j, what);
  char *s = json_dumps(j, JSON_COMPACT);
  FZ_CHECK(s, what);
  free(s);
}

/* One event line; 1 when folded. */
static int fold(ds_state *s, char *line) {
  char *f[4];
  for (int i = 0; i < 3; i++) {
    f[i] = line;
    char *tab = strchr(line, '\t');
    if (!tab)
      return 0;
    *tab = '\0';
    line = tab + 1;
  }
  f[3] = line;
  static const char zeros[] =
      "0000000000000000000000000000000000000000000000000000000000000000";
  const char *v[SP_EVENT_NATTRS] = {
      [SP_EVENT_A_SPECVERSION] = "1.0",
      [SP_EVENT_A_ID] = "0b6f2a4e-3c1d-4e8f-9a7b-5c6d7e8f9a0b",
      [SP_EVENT_A_SOURCE] = "/simpki/fuzz",
      [SP_EVENT_A_TYPE] = f[0],
      [SP_EVENT_A_TIME] = f[1],
      [SP_EVENT_A_SUBJECT] = f[2],
      [SP_EVENT_A_DATACONTENTTYPE] = "application/json",
      [SP_EVENT_A_PARTITIONKEY] = f[2],
      [SP_EVENT_A_CORRELATIONID] = "",
      [SP_EVENT_A_PREVHASH] = zeros,
      [SP_EVENT_A_HASH] = zeros};
  const long long version = 1;
  sp_event ev;
  char err[256];
  if (sp_event_parse_attrs(v, &version, &ev, err, sizeof err))
    return 0;
  json_t *d = json_loads(f[3], JSON_REJECT_DUPLICATES, NULL);
  if (!json_is_object(d)) {
    json_decref(d);
    return 0;
  }
  ev.data = d;
  ds_state_apply(s, &ev);
  sp_event_clear(&ev);
  return 1;
}

static void metrics(const char *page) {
  ds_service sv = {.name = "inventory", .url = "http://127.0.0.1:8083",
                   .checked = 1, .healthy = 1, .status = 200};
  double lag = -12345;
  if (ds_outbox_lag(page, &lag)) {
    FZ_CHECK(lag == -12345, "lag set without a sample");
    return;
  }
  FZ_CHECK(isfinite(lag), "a lag JSON cannot carry");
  sv.has_lag = 1;
  sv.lag = lag;
  json_t *j = ds_services_json(&sv, 1);
  json_t *v = json_object_get(json_array_get(j, 0), "outbox_lag");
  FZ_CHECK(json_is_number(v) && json_number_value(v) == lag,
           "the lag is not on the page");
  serializes(j, "the services");
  json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = fz_cstr(data, size);
  if (!strncmp(text, "# metrics\n", 10)) {
    metrics(text + 10);
    free(text);
    return 0;
  }
  ds_state *s = ds_state_new(NULL);
  FZ_CHECK(s, "out of memory");
  unsigned long folded = 0;
  char *ids[8];
  size_t nids = 0;
  for (char *line = text; line;) {
    char *nl = strchr(line, '\n');
    if (nl)
      *nl = '\0';
    if (strchr(line, '\t'))
      folded += (unsigned long)fold(s, line);
    else if (nids < 8)
      ids[nids++] = line;
    line = nl ? nl + 1 : NULL;
  }
  FZ_CHECK(ds_state_events(s) == folded, "an event not counted");
  json_t *j = ds_state_json(s, NOW_MS);
  serializes(j, "the main page");
  json_decref(j);
  for (size_t i = 0; i < nids; i++) {
    if (!*ids[i] || strchr(ids[i], '/'))
      continue; /* the handler answers 404 */
    json_t *o = ds_state_order_json(s, ids[i], NOW_MS);
    if (!o)
      continue;
    serializes(o, "an order's page");
    const char *oid = json_string_value(json_object_get(o, "order_id"));
    FZ_CHECK(oid && !strcmp(oid, ids[i]), "another order's page");
    json_decref(o);
  }
  ds_state_free(s);
  free(text);
  return 0;
}
