/* fuzz_event - the event envelope as any Kafka message brings it:
 * sp_event_parse, then sp_event_hash_ok on what parses.
 *
 * Invariants: a refused event leaves the struct cleared; an accepted one
 * has well-formed attributes, serializes, parses again to the same
 * canonical bytes (so an auditor recomputes the hash the producer sealed),
 * and resealing it with its own prevhash gives back its hash exactly when
 * sp_event_hash_ok said it was intact. */
#include "event.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  json_object_seed(1); /* same key order every run: reproducible findings */
  return 0;
}

static void check_shape(const sp_event *ev) {
  FZ_CHECK(strlen(ev->id) == 36, ev->id);
  FZ_CHECK(ev->source[0] && ev->type[0] && ev->subject[0] &&
               ev->partitionkey[0],
           "required attribute empty");
  FZ_CHECK(strlen(ev->prevhash) == 64 && strlen(ev->hash) == 64, ev->hash);
  FZ_CHECK(ev->schemaversion >= 1, "schemaversion");
  FZ_CHECK(json_is_object(ev->data), "data is not an object");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  sp_event ev, again;
  char err[256], err2[256];
  if (sp_event_parse((const char *)data, size, &ev, err, sizeof err) != 0) {
    FZ_CHECK(fz_zero(&ev, sizeof ev), "refused event not cleared");
    FZ_CHECK(fz_errstr_ok(err, sizeof err), "no reason");
    return 0;
  }
  check_shape(&ev);
  int intact = sp_event_hash_ok(&ev);

  size_t len = 0;
  char *s = sp_event_serialize(&ev, &len);
  FZ_CHECK(s && len == strlen(s), "serialize failed");
  FZ_CHECK(sp_event_parse(s, len, &again, err2, sizeof err2) == 0, err2);
  check_shape(&again);
  char *c1 = sp_event_canonical(&ev), *c2 = sp_event_canonical(&again);
  FZ_CHECK(c1 && c2 && !strcmp(c1, c2), "canonical bytes changed");
  FZ_CHECK(!strcmp(ev.hash, again.hash), "hash changed");
  FZ_CHECK(sp_event_hash_ok(&again) == intact, "hash_ok changed");

  char prev[SP_EVENT_HASH_HEX + 1];
  memcpy(prev, again.prevhash, sizeof prev);
  FZ_CHECK(sp_event_seal(&again, prev) == 0, "reseal failed");
  FZ_CHECK((strcmp(again.hash, ev.hash) == 0) == intact,
           "hash_ok disagrees with a reseal");
  FZ_CHECK(sp_event_hash_ok(&again), "a sealed event is not intact");

  free(c1);
  free(c2);
  free(s);
  sp_event_clear(&again);
  sp_event_clear(&ev);
  FZ_CHECK(fz_zero(&ev, sizeof ev), "clear left something");
  return 0;
}
