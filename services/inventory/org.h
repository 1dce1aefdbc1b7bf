/* org.h - the organisation as data: the regional companies (CTKV 1-9) and
 * their shops, read from a JSON file and stored by `simpkictl org load`.
 *
 *   {"departments": {"ban_khdn": {"name": "...", "email": "..."}, ...},
 *    "ctkvs": [{"id": "CTKV1", "name": "...", "address": "...",
 *               "tax_code": "...", "invoice_series": "1C26TK1",
 *               "email": "...",
 *               "shops": [{"id": "HNI-001", "name": "...",
 *                          "province": "Hà Nội"}, ...]}, ...]}
 *
 * Loading is all or nothing and may be repeated: a CTKV or shop already
 * stored is updated (names change); a shop never moves to another CTKV
 * (its SIMs would change region behind the CTKVs' backs). */
#ifndef IV_ORG_H
#define IV_ORG_H

#include <libpq-fe.h>
#include <stddef.h>

#define IV_ORG_MAX_SHOPS 5000

typedef struct iv_shop {
  char id[33], ctkv[8], name[201], province[101];
} iv_shop;

typedef struct iv_ctkv {
  char id[8], name[201], address[301], tax_code[21], series[21];
  char email[201]; /* its mailbox for the notifier; "" when none */
} iv_ctkv;

/* A head-office department that receives reports and escalations. */
typedef struct iv_dept {
  char id[16], name[201], email[201];
} iv_dept;

typedef struct iv_org {
  iv_ctkv ctkvs[9];
  size_t nctkvs;
  iv_dept depts[3]; /* ban_khdn, ban_khcn, tt_tctk, when given */
  size_t ndepts;
  iv_shop *shops;
  size_t nshops;
} iv_org;

/* Parse and check (ids, lengths, UTF-8, duplicates; each CTKV's series,
 * tax code, name and address as its invoices need them,
 * iv_invoice_seller_check; e-mail addresses the notifier can write to,
 * nt_mail_addr_valid). 0, or -1 with the reason naming the entry. */
int iv_org_parse(const char *text, size_t len, iv_org *org, char *errstr,
                 size_t errlen);
void iv_org_free(iv_org *org);

/* Store it inside the caller's transaction: 0, 1 refused (errstr: a shop
 * that would move), -1 database trouble. *added counts new rows. */
int iv_org_store(PGconn *tx, const iv_org *org, long *added, char *errstr,
                 size_t errlen);

#endif
