/* fuzz_http_order - order-intake's HTTP requests other than the notices:
 * the body of POST /v1/orders (oi_order_envelope_parse: the JSON envelope
 * and the strict base64 of the document and its signature), the document
 * it carries through oi_order_parse (as intake does next); an input
 * starting with '/' is instead the path of GET /v1/orders/{id} and
 * /v1/vendors/{id} (oi_path_id).
 *
 * Invariants: a refused envelope leaves nothing to free; an accepted one
 * holds a document that is exactly the base64 the body gave, and a
 * signature exactly when the body gave one in base64; the document parses
 * or is refused as fuzz_order expects (cleared, a UTF-8 reason); a path id
 * is the non-empty rest of the path after the prefix, without '/'. */
#include <openssl/evp.h>

#include "fuzz.h"
#include "order.h"

#define MAX_QUANTITY 1000000L

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  json_object_seed(1);
  return 0;
}

/* The base64 of bin is text (less padding and one final newline). */
static int same_b64(const unsigned char *bin, size_t len, const char *text) {
  size_t m = strlen(text);
  if (m && text[m - 1] == '\n')
    m--;
  while (m && text[m - 1] == '=')
    m--;
  unsigned char *enc = malloc(4 * ((len + 2) / 3) + 1);
  FZ_CHECK(enc, "out of memory");
  size_t e = (size_t)EVP_EncodeBlock(enc, bin, (int)len);
  while (e && enc[e - 1] == '=')
    e--;
  int same = e == m && !memcmp(enc, text, m);
  free(enc);
  return same;
}

static void envelope(const uint8_t *data, size_t size) {
  /* Exactly size bytes and a NUL, as the HTTP server hands a body over. */
  char *body = fz_cstr(data, size);
  unsigned char *doc = (unsigned char *)"x", *sig = (unsigned char *)"x";
  size_t doclen = 7, siglen = 7;
  if (oi_order_envelope_parse(size ? body : NULL, size, &doc, &doclen, &sig,
                              &siglen)) {
    FZ_CHECK(!doc && !sig && !doclen && !siglen, "refused, yet outputs");
    free(body);
    return;
  }
  json_t *o = json_loadb(body, size, JSON_REJECT_DUPLICATES, NULL);
  FZ_CHECK(json_is_object(o), "accepted a body that is no object");
  const char *d = json_string_value(json_object_get(o, "document"));
  FZ_CHECK(d && doc && same_b64(doc, doclen, d), "document");
  const char *s = json_string_value(json_object_get(o, "signature"));
  if (sig)
    FZ_CHECK(s && same_b64(sig, siglen, s), "signature");
  else
    FZ_CHECK(siglen == 0, "siglen without a signature");
  json_decref(o);

  oi_order ord;
  char err[512];
  oi_error e = oi_order_parse((const char *)doc, doclen, MAX_QUANTITY, &ord,
                              err, sizeof err);
  if (e == OI_OK) {
    FZ_CHECK(ord.quantity >= 1 && ord.quantity <= MAX_QUANTITY, "quantity");
    oi_order_clear(&ord);
  } else {
    FZ_CHECK(fz_zero(&ord, sizeof ord), "refused order not cleared");
    FZ_CHECK(fz_errstr_ok(err, sizeof err) && fz_utf8(err, strlen(err)), err);
  }
  free(doc);
  free(sig);
  free(body);
}

static void path(const uint8_t *data, size_t size) {
  static const char *const prefixes[] = {"/v1/orders/", "/v1/vendors/"};
  char *p = fz_cstr(data, size);
  for (size_t i = 0; i < 2; i++) {
    const char *id = oi_path_id(p, prefixes[i]);
    size_t n = strlen(prefixes[i]);
    int want = !strncmp(p, prefixes[i], n) && p[n] && !strchr(p + n, '/');
    FZ_CHECK(want ? id == p + n : id == NULL, p);
  }
  free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size && data[0] == '/')
    path(data, size);
  else
    envelope(data, size);
  return 0;
}
