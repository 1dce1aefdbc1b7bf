/* fuzz_vendor_input - the input file of a batch (B3) as the vendor, or the
 * vendor simulator, reads it: vx_input_parse over exactly the file's bytes.
 * MobiFone writes it (vx_input_render), but the bytes travel through the
 * vendor's folders and come back to `simpkictl vendor simulate`.
 *
 * Invariants: a refusal gives a reason that is printable ASCII (it quotes
 * the file); an accepted file has every field non-empty printable ASCII, a
 * positive quantity, and rendered again it parses to the same fields. */
#include "fuzz.h"
#include "vendor_file.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  return 0;
}

static int printable(const char *s) {
  if (!*s)
    return 0;
  for (; *s; s++)
    if (*s < 0x20 || *s > 0x7e)
      return 0;
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* Exactly size bytes, not NUL-terminated: ASan sees a read past them. */
  char *buf = malloc(size ? size : 1);
  FZ_CHECK(buf, "out of memory");
  memcpy(buf, data, size);
  vx_input in, again;
  char err[256];
  memset(err, 'U', sizeof err);
  if (vx_input_parse(buf, size, &in, err, sizeof err)) {
    FZ_CHECK(fz_errstr_ok(err, sizeof err), "no reason");
    FZ_CHECK(printable(err), err);
    free(buf);
    return 0;
  }
  const char *fields[] = {in.operator_name, in.vendor_id,        in.batch_id,
                          in.order_ref,     in.transport_key_id, in.graphic_ref,
                          in.issued_at,     in.first_iccid,      in.first_imsi};
  for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
    FZ_CHECK(printable(fields[i]), fields[i]);
  FZ_CHECK(in.quantity > 0 && (in.usim == 0 || in.usim == 1), "quantity, usim");
  size_t len;
  char *text = vx_input_render(&in, &len);
  FZ_CHECK(text, "render");
  FZ_CHECK(vx_input_parse(text, len, &again, err, sizeof err) == 0, err);
  FZ_CHECK(!memcmp(&in, &again, sizeof in), "a field changed on the way");
  free(text);
  free(buf);
  return 0;
}
