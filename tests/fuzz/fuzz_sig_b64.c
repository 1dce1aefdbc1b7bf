/* fuzz_sig_b64 - sp_sig_b64_decode, the strict base64 of sigverify
 * requests and of the order API's signature field.
 *
 * Invariants: a refusal leaves *out NULL and *outlen 0; an accepted input
 * is canonical: encoding the bytes again gives the input back (less its
 * final newline and padding). */
#include <openssl/evp.h>

#include "fuzz.h"
#include "sigverify.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *in = (const char *)data;
  unsigned char *out = (unsigned char *)"x";
  size_t outlen = 7;
  if (sp_sig_b64_decode(in, size, &out, &outlen) != 0) {
    FZ_CHECK(out == NULL && outlen == 0, "outputs set on refusal");
    return 0;
  }
  FZ_CHECK(out != NULL, "no buffer on success");
  size_t m = size;
  if (m && in[m - 1] == '\n')
    m--;
  while (m && in[m - 1] == '=')
    m--;
  FZ_CHECK(outlen == m * 3 / 4, "length");
  unsigned char *enc = malloc(4 * ((outlen + 2) / 3) + 1);
  FZ_CHECK(enc != NULL, "out of memory");
  size_t e = (size_t)EVP_EncodeBlock(enc, out, (int)outlen);
  while (e && enc[e - 1] == '=')
    e--;
  FZ_CHECK(e == m && !memcmp(enc, in, m), "not canonical base64");
  free(enc);
  free(out);
  return 0;
}
