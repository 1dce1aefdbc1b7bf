/* fuzz_phone - sp_phone_normalize_vn, which every msisdn and contact phone
 * from outside goes through.
 *
 * Invariants: success gives "84" + 9 digits starting with a mobile prefix
 * (3, 5, 7, 8, 9), made of the input's last nine digits, and is a fixed
 * point; failure leaves out alone and gives a reason that is UTF-8 when
 * the input is (it is quoted into JSON bodies and events). */
#include "fuzz.h"
#include "phone.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *in = fz_cstr(data, size);
  char out[SP_PHONE_LEN + 1], again[SP_PHONE_LEN + 1], err[160], err2[160];
  memset(out, 'U', sizeof out);
  if (sp_phone_normalize_vn(in, out, err, sizeof err) != 0) {
    for (size_t i = 0; i < sizeof out; i++)
      FZ_CHECK(out[i] == 'U', "out written on failure");
    FZ_CHECK(fz_errstr_ok(err, sizeof err), "no reason");
    size_t len = strlen(in);
    FZ_CHECK(!fz_utf8(in, len) || fz_utf8(err, strlen(err)), err);
    free(in);
    return 0;
  }
  FZ_CHECK(fz_phone_canonical(out), out);
  /* Only blanks, dots, dashes and one leading '+' were dropped. */
  char digits[64];
  size_t n = 0;
  for (const char *p = in; *p; p++) {
    if (*p >= '0' && *p <= '9') {
      FZ_CHECK(n < sizeof digits - 1, "too many digits accepted");
      digits[n++] = *p;
    } else {
      FZ_CHECK(strchr(" .-+", *p), in);
    }
  }
  FZ_CHECK(n >= 9 && !memcmp(digits + n - 9, out + 2, 9), in);
  FZ_CHECK(sp_phone_normalize_vn(out, again, err2, sizeof err2) == 0 &&
               !strcmp(out, again),
           "not a fixed point");
  free(in);
  return 0;
}
