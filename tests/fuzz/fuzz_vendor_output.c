/* fuzz_vendor_output - a vendor's output file, as ingest reads it: the
 * bounded line reader over the bytes, the header reader, then each data
 * line through vx_sim_line_parse (the parts that see the vendor's bytes
 * before any database or key is involved).
 *
 * Invariants: no line handed out is longer than the limit or holds a NUL;
 * a parsed header has a positive quantity and 64 lower-case hex digits of
 * input hash; a parsed SIM line has only ASCII digits of the documented
 * lengths; a refused line leaves the struct cleared and gives a reason. */
#include <stdio.h>

#include "fuzz.h"
#include "line_reader.h"
#include "vendor_file.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  return 0;
}

static int all_digits(const char *s, size_t min, size_t max) {
  size_t n = strlen(s);
  if (n < min || n > max)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (s[i] < '0' || s[i] > '9')
      return 0;
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FILE *fp = fmemopen((void *)(size ? data : (const uint8_t *)""), size ? size : 1, "rb");
  if (!fp)
    return 0;
  vx_line_reader lr;
  vx_line_reader_init(&lr, fp, 128); /* small: reach the too-long path */
  vx_header_reader hr;
  vx_header_reader_init(&hr);
  const char *line;
  size_t len;
  char err[256];
  int in_data = 0, usim = 0, got;
  while ((got = vx_line_next(&lr, &line, &len, err, sizeof err)) == 1) {
    FZ_CHECK(len <= 128, "line longer than the limit");
    FZ_CHECK(memchr(line, '\0', len) == NULL, "NUL inside a line");
    if (!in_data) {
      int h = vx_header_feed(&hr, line, len, err, sizeof err);
      if (h < 0) {
        FZ_CHECK(fz_errstr_ok(err, sizeof err), "header refused, no reason");
        break;
      }
      if (h == 1) {
        FZ_CHECK(hr.h.quantity > 0, "quantity");
        for (int i = 0; i < 64; i++)
          FZ_CHECK((hr.h.input_sha256[i] >= '0' && hr.h.input_sha256[i] <= '9') ||
                       (hr.h.input_sha256[i] >= 'a' && hr.h.input_sha256[i] <= 'f'),
                   "input hash");
        in_data = 1;
        usim = hr.h.usim;
      }
      continue;
    }
    vx_sim_line s;
    if (vx_sim_line_parse(line, len, usim, &s, err, sizeof err) != 0) {
      FZ_CHECK(fz_errstr_ok(err, sizeof err), "line refused, no reason");
      FZ_CHECK(s.iccid[0] == '\0' && !s.has_opc, "struct not cleared");
      continue;
    }
    FZ_CHECK(all_digits(s.iccid, 19, 20) && all_digits(s.imsi, 15, 15) &&
                 all_digits(s.pin1, 4, 8) && all_digits(s.puk1, 8, 8) &&
                 all_digits(s.pin2, 4, 8) && all_digits(s.puk2, 8, 8) &&
                 all_digits(s.adm1, 8, 8),
             "a field escaped its format");
    FZ_CHECK(s.has_opc == usim, "OPC presence");
  }
  FZ_CHECK(got != -1 || fz_errstr_ok(err, sizeof err), "reader error, no reason");
  vx_line_reader_free(&lr);
  fclose(fp);
  return 0;
}
