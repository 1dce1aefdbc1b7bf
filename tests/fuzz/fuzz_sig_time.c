/* fuzz_sig_time - sp_sig_parse_time, the RFC 3339 times of sigverify
 * requests and of `simpkictl sig verify --at`.
 *
 * Invariants: a refusal leaves *out alone; an accepted time formats and
 * parses back to itself, and without offset, fraction or leap second its
 * formatted form is the input (with 'T' and 'Z' upper-case). */
#include <ctype.h>

#include "fuzz.h"
#include "sigverify.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  return 0;
}

/* 9999-12-31T23:59:59Z: past it the year has five digits. */
#define LAST_4DIGIT_YEAR ((time_t)253402300799)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s = fz_cstr(data, size);
  time_t t = 12345, t2 = 0;
  if (sp_sig_parse_time(s, &t) != 0) {
    FZ_CHECK(t == 12345, "out set on refusal");
    free(s);
    return 0;
  }
  if (t >= 0 && t <= LAST_4DIGIT_YEAR) {
    char buf[32];
    sp_sig_format_time(t, buf);
    FZ_CHECK(sp_sig_parse_time(buf, &t2) == 0 && t2 == t, buf);
    if (strlen(s) == 20 && toupper((unsigned char)s[19]) == 'Z' &&
        strncmp(s + 17, "60", 2)) {
      s[10] = 'T', s[19] = 'Z';
      FZ_CHECK(!strcmp(buf, s), buf);
    }
  }
  free(s);
  return 0;
}
