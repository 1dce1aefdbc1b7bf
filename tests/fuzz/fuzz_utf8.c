/* fuzz_utf8 - oi_utf8_valid, the gate in front of every CSV notice.
 *
 * Invariants: it agrees with jansson's own UTF-8 check (which refuses the
 * same overlongs, surrogates and code points past U+10FFFF); on a refusal
 * the bytes before bad_offset are valid and bad_offset is inside the
 * input; on success bad_offset is left alone. */
#include "fuzz.h"
#include "registration.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *s = (const char *)data;
  size_t bad = (size_t)-1;
  int ok = oi_utf8_valid(s, size, &bad);
  FZ_CHECK(ok == fz_utf8(s, size), ok ? "accepted, jansson refuses"
                                      : "refused, jansson accepts");
  if (ok) {
    FZ_CHECK(bad == (size_t)-1, "bad_offset set on success");
    return 0;
  }
  FZ_CHECK(bad < size, "bad_offset outside the input");
  FZ_CHECK(oi_utf8_valid(s, bad, NULL), "the prefix before bad_offset");
  /* The byte at bad_offset starts no valid sequence of any length. */
  for (size_t k = 1; k <= 4 && bad + k <= size; k++)
    FZ_CHECK(!oi_utf8_valid(s + bad, k, NULL),
             "bad_offset starts a valid sequence");
  return 0;
}
