/* catalog.h - what shops sell from: the tariff packages of the SIM PKI
 * offer and the pool of free numbers, both data loaded by simpkictl
 * (`tariffs load`, `numbers load`). */
#ifndef IV_CATALOG_H
#define IV_CATALOG_H

#include <libpq-fe.h>
#include <stddef.h>

#include "phone.h"

/* JSON: [{"id": "PKI-1Y", "name": "...", "connection_fee": 50000,
 * "package_price": 600000, "vat_percent": 10}, ...] (đồng, before VAT).
 * All or nothing, inside the caller's transaction; a package loaded again
 * gets its new prices (sales already invoiced keep theirs). 0 (with
 * *count), 1 refused (errstr names the entry), -1 database trouble. */
int iv_tariffs_load(PGconn *tx, const char *text, size_t len, long *count,
                    char *errstr, size_t errlen);

/* One package of the file, checked. */
typedef struct iv_tariff {
  char id[33];    /* 2 to 32 of A-Z, 0-9, _ and -, starting A-Z or 0-9 */
  char name[201]; /* 1 to 200 bytes, no control characters */
  long long fee, price; /* whole đồng, 0 to IV_TARIFF_PRICE_MAX */
  int vat;        /* percent, 0 to 100; 10 when not given */
} iv_tariff;
#define IV_TARIFF_PRICE_MAX 1000000000LL

/* The file's packages: 0 with *out (malloc'd, free() it) holding *n >= 1
 * in file order, or -1 with the reason naming the package (*out NULL, *n
 * 0). Pure; iv_tariffs_load stores what it gives. */
int iv_tariffs_parse(const char *text, size_t len, iv_tariff **out, size_t *n,
                     char *errstr, size_t errlen);

/* One number a line, in any form Vietnamese numbers are written (0912...,
 * 84912..., +84 912 ...); blank lines and # comments skipped. Numbers
 * already in the pool are left as they are. 0 (with *added, *total), 1
 * refused (errstr names the line), -1 database trouble. */
int iv_numbers_load(PGconn *tx, const char *text, size_t len, long *added,
                    long *total, char *errstr, size_t errlen);

/* The file's numbers, canonical (84xxxxxxxxx), in file order (a number
 * given twice is there twice): 0 with *out (malloc'd, free() it) holding
 * *n >= 1, or -1 with the reason naming the line (*out NULL, *n 0). Pure;
 * iv_numbers_load stores what it gives. */
typedef char iv_msisdn[SP_PHONE_LEN + 1];
int iv_numbers_parse(const char *text, size_t len, iv_msisdn **out, size_t *n,
                     char *errstr, size_t errlen);

#endif
