/* catalog.h - what shops sell from: the tariff packages of the SIM PKI
 * offer and the pool of free numbers, both data loaded by simpkictl
 * (`tariffs load`, `numbers load`). */
#ifndef IV_CATALOG_H
#define IV_CATALOG_H

#include <libpq-fe.h>
#include <stddef.h>

/* JSON: [{"id": "PKI-1Y", "name": "...", "connection_fee": 50000,
 * "package_price": 600000, "vat_percent": 10}, ...] (đồng, before VAT).
 * All or nothing, inside the caller's transaction; a package loaded again
 * gets its new prices (sales already invoiced keep theirs). 0 (with
 * *count), 1 refused (errstr names the entry), -1 database trouble. */
int iv_tariffs_load(PGconn *tx, const char *text, size_t len, long *count,
                    char *errstr, size_t errlen);

/* One number a line, in any form Vietnamese numbers are written (0912...,
 * 84912..., +84 912 ...); blank lines and # comments skipped. Numbers
 * already in the pool are left as they are. 0 (with *added, *total), 1
 * refused (errstr names the line), -1 database trouble. */
int iv_numbers_load(PGconn *tx, const char *text, size_t len, long *added,
                    long *total, char *errstr, size_t errlen);

#endif
