/* fuzz_notice_csv - a Cục CTS notice as CSV (A4), as an HTTP body or a
 * file given to simpkictl: oi_notice_parse_csv.
 *
 * Invariants (notice_check.h): a refused notice holds nobody and its
 * reason is UTF-8; an accepted one lists 1 to OI_NOTICE_MAX_PERSONS
 * people with trimmed names, 9- or 12-digit ids, canonical or empty
 * msisdns, no one twice. */
#include "fuzz.h"
#include "notice_check.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  json_object_seed(1);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  oi_notice n;
  char err[1024]; /* the HTTP API's size */
  oi_error e = oi_notice_parse_csv((const char *)data, size, "CTS-2026-11-001",
                                   &n, err, sizeof err);
  if (e != OI_OK) {
    fz_notice_refused(e, &n, err, sizeof err);
    return 0;
  }
  FZ_CHECK(!strcmp(n.notice_ref, "CTS-2026-11-001"), n.notice_ref);
  fz_notice_accepted(&n);
  FZ_CHECK(n.persons[0].line >= 2, "a person on the header line");
  oi_notice_clear(&n);
  return 0;
}
