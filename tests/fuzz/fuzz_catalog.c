/* fuzz_catalog - what shops sell from, as loaded by simpkictl: the tariff
 * file (`tariffs load`, JSON: iv_tariffs_parse) and the pool of free
 * numbers (`numbers load`, one number a line: iv_numbers_parse). The first
 * byte picks the file.
 *
 * Invariants: a refusal gives a reason naming the package or the line
 * (inside the file), UTF-8 when the file is, and nothing to free. Accepted
 * tariffs are 1 or more packages with ids of 2 to 32 of A-Z 0-9 _ -, names of 1
 * to 200 bytes an invoice line can carry (no control characters), prices of 0
 * to 1,000,000,000 đồng and a VAT of 0 to 100 percent, exactly as the file
 * gives them; accepted numbers are canonical, one per line that holds one. */
#include <regex.h>

#include "catalog.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  json_object_seed(1);
  return 0;
}

/* The reason may quote the file: it is UTF-8 when the file is. */
static void refused(const char *err, size_t cap, const char *text, size_t len) {
  FZ_CHECK(fz_errstr_ok(err, cap), "no reason");
  FZ_CHECK(!fz_utf8(text, len) || fz_utf8(err, strlen(err)), err);
}

static void tariffs(const char *text, size_t len) {
  iv_tariff *t = (iv_tariff *)"x";
  size_t n = 7;
  char err[512];
  memset(err, 'U', sizeof err);
  if (iv_tariffs_parse(text, len, &t, &n, err, sizeof err)) {
    FZ_CHECK(t == NULL && n == 0, "refused, yet packages");
    refused(err, sizeof err, text, len);
    return;
  }
  json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
  FZ_CHECK(json_is_array(root) && json_array_size(root) == n && n >= 1,
           "count");
  regex_t re;
  FZ_CHECK(
      regcomp(&re, "^[A-Z0-9][A-Z0-9_-]{1,31}$", REG_EXTENDED | REG_NOSUB) == 0,
      "regex");
  for (size_t i = 0; i < n; i++) {
    json_t *p = json_array_get(root, i);
    FZ_CHECK(regexec(&re, t[i].id, 0, NULL, 0) == 0, t[i].id);
    FZ_CHECK(!strcmp(t[i].id, json_string_value(json_object_get(p, "id"))),
             "id");
    FZ_CHECK(
        t[i].name[0] && strlen(t[i].name) <= 200 &&
            !strcmp(t[i].name, json_string_value(json_object_get(p, "name"))),
        "name");
    for (const char *c = t[i].name; *c; c++)
      FZ_CHECK((unsigned char)*c >= 0x20 && *c != 0x7f,
               "a name an invoice line cannot carry");
    FZ_CHECK(t[i].fee >= 0 && t[i].fee <= IV_TARIFF_PRICE_MAX &&
                 t[i].fee ==
                     json_integer_value(json_object_get(p, "connection_fee")),
             "fee");
    FZ_CHECK(t[i].price >= 0 && t[i].price <= IV_TARIFF_PRICE_MAX &&
                 t[i].price ==
                     json_integer_value(json_object_get(p, "package_price")),
             "price");
    json_t *vat = json_object_get(p, "vat_percent");
    FZ_CHECK(t[i].vat >= 0 && t[i].vat <= 100 &&
                 t[i].vat == (vat ? json_integer_value(vat) : 10),
             "vat");
  }
  regfree(&re);
  json_decref(root);
  free(t);
}

static void numbers(const char *text, size_t len) {
  iv_msisdn *m = (iv_msisdn *)"x";
  size_t n = 7;
  char err[512];
  memset(err, 'U', sizeof err);
  size_t lines = 1;
  for (size_t i = 0; i < len; i++)
    lines += text[i] == '\n';
  if (iv_numbers_parse(text, len, &m, &n, err, sizeof err)) {
    FZ_CHECK(m == NULL && n == 0, "refused, yet numbers");
    refused(err, sizeof err, text, len);
    if (!strncmp(err, "line ", 5)) {
      long l = strtol(err + 5, NULL, 10);
      FZ_CHECK(l >= 1 && (size_t)l <= lines, err);
    }
    return;
  }
  FZ_CHECK(n >= 1 && n <= lines, "count");
  for (size_t i = 0; i < n; i++)
    FZ_CHECK(fz_phone_canonical(m[i]), m[i]);
  free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  /* Exactly the file's bytes: ASan sees a read past them. */
  char *text = malloc(size - 1 ? size - 1 : 1);
  FZ_CHECK(text, "out of memory");
  memcpy(text, data + 1, size - 1);
  if (data[0] % 2)
    numbers(text, size - 1);
  else
    tariffs(text, size - 1);
  free(text);
  return 0;
}
