/* catalog.c - tariff packages and the number pool. */
#include "catalog.h"

#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "phone.h"

int iv_tariffs_load(PGconn *tx, const char *text, size_t len, long *count,
                    char *errstr, size_t errlen) {
  *count = 0;
  json_error_t je;
  json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
  if (!json_is_array(root) || json_array_size(root) == 0) {
    if (root)
      snprintf(errstr, errlen, "the file must be a list of packages");
    else
      snprintf(errstr, errlen, "not JSON: %s (line %d)", je.text, je.line);
    json_decref(root);
    return 1;
  }
  regex_t re;
  regcomp(&re, "^[A-Z0-9][A-Z0-9_-]{1,31}$", REG_EXTENDED | REG_NOSUB);
  int rc = 0;
  size_t i;
  json_t *t;
  json_array_foreach(root, i, t) {
    const char *id = json_string_value(json_object_get(t, "id"));
    const char *name = json_string_value(json_object_get(t, "name"));
    json_t *fee = json_object_get(t, "connection_fee");
    json_t *price = json_object_get(t, "package_price");
    json_t *vat = json_object_get(t, "vat_percent");
    if (!id || regexec(&re, id, 0, NULL, 0) || !name || !*name ||
        strlen(name) > 200 || !json_is_integer(fee) ||
        json_integer_value(fee) < 0 || !json_is_integer(price) ||
        json_integer_value(price) < 0 ||
        json_integer_value(fee) > 1000000000 ||
        json_integer_value(price) > 1000000000 ||
        (vat && (!json_is_integer(vat) || json_integer_value(vat) < 0 ||
                 json_integer_value(vat) > 100))) {
      snprintf(errstr, errlen,
               "package %zu: id (2 to 32 of A-Z, 0-9, _ and -), name, "
               "connection_fee and package_price (whole đồng, 0 to "
               "1,000,000,000) are required; vat_percent 0 to 100",
               i + 1);
      rc = 1;
      break;
    }
    char f[24], p[24], v[8];
    snprintf(f, sizeof f, "%lld", (long long)json_integer_value(fee));
    snprintf(p, sizeof p, "%lld", (long long)json_integer_value(price));
    snprintf(v, sizeof v, "%lld", vat ? (long long)json_integer_value(vat) : 10);
    const char *pp[] = {id, name, f, p, v};
    if (sp_db_exec(tx,
                   "INSERT INTO tariffs (package_id, name, connection_fee, "
                   "package_price, vat_percent) VALUES ($1, $2, $3::bigint, "
                   "$4::bigint, $5::int) ON CONFLICT (package_id) DO UPDATE "
                   "SET name = excluded.name, connection_fee = "
                   "excluded.connection_fee, package_price = "
                   "excluded.package_price, vat_percent = excluded.vat_percent",
                   5, pp, errstr, errlen) != 1) {
      rc = -1;
      break;
    }
    (*count)++;
  }
  regfree(&re);
  json_decref(root);
  return rc;
}

int iv_numbers_load(PGconn *tx, const char *text, size_t len, long *added,
                    long *total, char *errstr, size_t errlen) {
  *added = *total = 0;
  long line = 0;
  size_t pos = 0;
  while (pos < len) {
    const char *start = text + pos;
    const char *nl = memchr(start, '\n', len - pos);
    size_t n = nl ? (size_t)(nl - start) : len - pos;
    pos += n + (nl ? 1 : 0);
    line++;
    const char *hash = memchr(start, '#', n);
    if (hash) /* a comment may be long; the number before it may not */
      n = (size_t)(hash - start);
    char buf[64];
    if (n >= sizeof buf) {
      snprintf(errstr, errlen, "line %ld is too long for a number", line);
      return 1;
    }
    memcpy(buf, start, n);
    buf[n] = '\0';
    char *s = buf;
    while (*s == ' ' || *s == '\t')
      s++;
    size_t l = strlen(s);
    while (l && (s[l - 1] == ' ' || s[l - 1] == '\t' || s[l - 1] == '\r'))
      s[--l] = '\0';
    if (!*s)
      continue;
    char msisdn[SP_PHONE_LEN + 1], why[200];
    if (sp_phone_normalize_vn(s, msisdn, why, sizeof why)) {
      snprintf(errstr, errlen, "line %ld: %s", line, why);
      return 1;
    }
    const char *p[] = {msisdn};
    long got = sp_db_exec(tx,
                          "INSERT INTO numbers (msisdn) VALUES ($1) ON "
                          "CONFLICT (msisdn) DO NOTHING",
                          1, p, errstr, errlen);
    if (got < 0)
      return -1;
    *added += got;
    (*total)++;
  }
  if (*total == 0) {
    snprintf(errstr, errlen, "no number in the file");
    return 1;
  }
  return 0;
}
