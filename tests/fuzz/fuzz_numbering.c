/* fuzz_numbering - the numbering plan file (`simpkictl numbering load
 * FILE`, docs/numbering.md): vx_numbering_parse.
 *
 * Invariants: a refusal gives a reason of printable ASCII (a field is
 * quoted with '?' for each other byte) starting "line N: " with N inside
 * the file (or saying the plan is empty) and no blocks. An accepted
 * plan has 1 to VX_PLAN_MAX_BLOCKS blocks that each pass vx_block_check,
 * with ids given once, no two of them overlapping; the first and last
 * numbers of each format to a written form of the block's width (an ICCID
 * with its Luhn digit) that parses back to them. */
#include "fuzz.h"
#include "numbering.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  return 0;
}

static void round_trip(const vx_block *b, long long n) {
  char out[21], why[200];
  long long back;
  FZ_CHECK(vx_number_format(b->is_iccid, n, out) == 0, b->block_id);
  if (b->is_iccid) {
    FZ_CHECK(strlen(out) == (size_t)b->digits + 1, out);
    FZ_CHECK(vx_iccid_parse(out, strlen(out), &back, why, sizeof why) == 0,
             why);
  } else {
    FZ_CHECK(strlen(out) == VX_IMSI_DIGITS, out);
    FZ_CHECK(vx_imsi_parse(out, strlen(out), &back, why, sizeof why) == 0, why);
  }
  FZ_CHECK(back == n && !strncmp(out, b->prefix, strlen(b->prefix)), out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* Exactly size bytes: ASan sees a read past them. */
  char *buf = malloc(size ? size : 1);
  FZ_CHECK(buf, "out of memory");
  memcpy(buf, data, size);
  size_t lines = 1;
  for (size_t i = 0; i < size; i++)
    lines += buf[i] == '\n';
  vx_block *b = (vx_block *)"x";
  size_t n = 7;
  char err[512];
  memset(err, 'U', sizeof err);
  if (vx_numbering_parse(buf, size, &b, &n, err, sizeof err)) {
    FZ_CHECK(b == NULL && n == 0, "refused, yet blocks");
    FZ_CHECK(fz_errstr_ok(err, sizeof err), "no reason");
    for (const char *c = err; *c; c++) /* fields quoted as ASCII */
      FZ_CHECK(*c >= 0x20 && *c < 0x7f, err);
    if (strcmp(err, "the plan holds no blocks")) {
      FZ_CHECK(!strncmp(err, "line ", 5), err);
      long l = strtol(err + 5, NULL, 10);
      FZ_CHECK(l >= 1 && (size_t)l <= lines, err);
    }
    free(buf);
    return 0;
  }
  FZ_CHECK(n >= 1 && n <= VX_PLAN_MAX_BLOCKS && n <= lines, "block count");
  for (size_t i = 0; i < n; i++) {
    char why[256];
    FZ_CHECK(vx_block_check(&b[i], why, sizeof why) == 0, why);
    FZ_CHECK(vx_block_size(&b[i]) == b[i].last - b[i].first + 1, "size");
    round_trip(&b[i], b[i].first);
    round_trip(&b[i], b[i].last);
    for (size_t j = 0; j < i; j++) {
      FZ_CHECK(strcmp(b[i].block_id, b[j].block_id), "an id twice");
      FZ_CHECK(b[i].last < b[j].first || b[j].last < b[i].first,
               "blocks overlap");
    }
  }
  free(b);
  free(buf);
  return 0;
}
