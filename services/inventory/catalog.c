/* catalog.c - tariff packages and the number pool. */
#include "catalog.h"

#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "phone.h"
#include "reason.h"

/* No control characters: the name goes on each sale's invoice line, which
 * refuses them (invoice.c). */
static int text_ok(const char *s) {
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f)
      return 0;
  return 1;
}

int iv_tariffs_parse(const char *text, size_t len, iv_tariff **out, size_t *n,
                     char *errstr, size_t errlen) {
  *out = NULL;
  *n = 0;
  json_error_t je;
  json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
  if (!json_is_array(root) || json_array_size(root) == 0) {
    if (root) {
      snprintf(errstr, errlen, "the file must be a list of packages");
    } else {
      snprintf(errstr, errlen, "not JSON: %s (line %d)", je.text, je.line);
      iv_utf8_scrub(errstr);
    }
    json_decref(root);
    return -1;
  }
  iv_tariff *all = calloc(json_array_size(root), sizeof *all);
  if (!all) {
    snprintf(errstr, errlen, "out of memory");
    json_decref(root);
    return -1;
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
        strlen(name) > 200 || !text_ok(name) || !json_is_integer(fee) ||
        json_integer_value(fee) < 0 || !json_is_integer(price) ||
        json_integer_value(price) < 0 ||
        json_integer_value(fee) > IV_TARIFF_PRICE_MAX ||
        json_integer_value(price) > IV_TARIFF_PRICE_MAX ||
        (vat && (!json_is_integer(vat) || json_integer_value(vat) < 0 ||
                 json_integer_value(vat) > 100))) {
      snprintf(errstr, errlen,
               "package %zu: id (2 to 32 of A-Z, 0-9, _ and -), name (1 "
               "to 200 bytes, no control characters), connection_fee and "
               "package_price (whole đồng, 0 to 1,000,000,000) are "
               "required; vat_percent 0 to 100",
               i + 1);
      rc = -1;
      break;
    }
    iv_tariff *p = &all[i];
    snprintf(p->id, sizeof p->id, "%s", id);
    snprintf(p->name, sizeof p->name, "%s", name);
    p->fee = json_integer_value(fee);
    p->price = json_integer_value(price);
    p->vat = vat ? (int)json_integer_value(vat) : 10;
  }
  regfree(&re);
  if (rc == 0) {
    *out = all;
    *n = json_array_size(root);
  } else {
    free(all);
  }
  json_decref(root);
  return rc;
}

int iv_tariffs_load(PGconn *tx, const char *text, size_t len, long *count,
                    char *errstr, size_t errlen) {
  *count = 0;
  iv_tariff *all;
  size_t n;
  if (iv_tariffs_parse(text, len, &all, &n, errstr, errlen))
    return 1;
  int rc = 0;
  for (size_t i = 0; i < n; i++) {
    char f[24], p[24], v[8];
    snprintf(f, sizeof f, "%lld", all[i].fee);
    snprintf(p, sizeof p, "%lld", all[i].price);
    snprintf(v, sizeof v, "%d", all[i].vat);
    const char *pp[] = {all[i].id, all[i].name, f, p, v};
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
  free(all);
  return rc;
}

int iv_numbers_parse(const char *text, size_t len, iv_msisdn **out, size_t *n,
                     char *errstr, size_t errlen) {
  *out = NULL;
  *n = 0;
  size_t cap = 0;
  iv_msisdn *all = NULL;
  long line = 0;
  size_t pos = 0;
  while (pos < len) {
    const char *start = text + pos;
    const char *nl = memchr(start, '\n', len - pos);
    size_t l = nl ? (size_t)(nl - start) : len - pos;
    pos += l + (nl ? 1 : 0);
    line++;
    const char *hash = memchr(start, '#', l);
    if (hash) /* a comment may be long; the number before it may not */
      l = (size_t)(hash - start);
    char buf[64];
    if (l >= sizeof buf) {
      snprintf(errstr, errlen, "line %ld is too long for a number", line);
      goto refused;
    }
    memcpy(buf, start, l);
    buf[l] = '\0';
    char *s = buf;
    while (*s == ' ' || *s == '\t')
      s++;
    size_t k = strlen(s);
    while (k && (s[k - 1] == ' ' || s[k - 1] == '\t' || s[k - 1] == '\r'))
      s[--k] = '\0';
    if (!*s)
      continue;
    char why[200];
    if (*n == cap) {
      size_t ncap = cap ? 2 * cap : 64;
      iv_msisdn *more = realloc(all, ncap * sizeof *all);
      if (!more) {
        snprintf(errstr, errlen, "out of memory");
        goto refused;
      }
      all = more;
      cap = ncap;
    }
    if (sp_phone_normalize_vn(s, all[*n], why, sizeof why)) {
      snprintf(errstr, errlen, "line %ld: %s", line, why);
      goto refused;
    }
    (*n)++;
  }
  if (*n == 0) {
    snprintf(errstr, errlen, "no number in the file");
    goto refused;
  }
  *out = all;
  return 0;
refused:
  free(all);
  *n = 0;
  return -1;
}

int iv_numbers_load(PGconn *tx, const char *text, size_t len, long *added,
                    long *total, char *errstr, size_t errlen) {
  *added = *total = 0;
  iv_msisdn *all;
  size_t n;
  if (iv_numbers_parse(text, len, &all, &n, errstr, errlen))
    return 1;
  int rc = 0;
  for (size_t i = 0; i < n; i++) {
    const char *p[] = {all[i]};
    long got = sp_db_exec(tx,
                          "INSERT INTO numbers (msisdn) VALUES ($1) ON "
                          "CONFLICT (msisdn) DO NOTHING",
                          1, p, errstr, errlen);
    if (got < 0) {
      rc = -1;
      break;
    }
    *added += got;
    (*total)++;
  }
  free(all);
  return rc;
}
