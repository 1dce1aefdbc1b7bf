/* reconcile.h - đối soát: the counts BCYCP and MobiFone reconcile, per
 * BCYCP order and batch, and per CTKV: SIMs in each state (produced,
 * provisioned, hlr_failed, handed_over, in_stock, at_shop, connected,
 * sold, delivered, faulty, returned) and the invoiced amounts (invoices,
 * subtotal, VAT, total, paid, debt). The counts are the SIM rows' current
 * states, read in one snapshot, so they add up exactly.
 *
 * Filters: a BCYCP order (its reference or order id); a period [from, to]
 * (dates, Asia/Ho_Chi_Minh) keeps the SIMs stored and the invoices issued
 * in it; a CTKV keeps that region's SIMs and invoices (a CTKV user sees
 * its own). */
#ifndef IV_RECONCILE_H
#define IV_RECONCILE_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>

typedef struct iv_reconcile_filter {
  const char *order; /* BCYCP reference or order id; NULL: all */
  const char *from, *to; /* "YYYY-MM-DD", inclusive; NULL: open */
  const char *ctkv;  /* NULL: all */
} iv_reconcile_filter;

/* The check of the filter that needs no database: from and to, when
 * given, are dates "YYYY-MM-DD". 0, or -1 with the reason. Pure. */
int iv_reconcile_filter_check(const iv_reconcile_filter *f, char *errstr,
                              size_t errlen);

/* The report as JSON (the caller owns it), or NULL with errstr (a bad
 * date, an unknown order: *bad_input set; else database trouble). */
json_t *iv_reconcile(PGconn *c, const iv_reconcile_filter *f, int *bad_input,
                     char *errstr, size_t errlen);

/* The same as CSV (malloc'd): one row per order, batch, CTKV and the
 * total, the states and amounts as columns. */
char *iv_reconcile_csv(const json_t *report);

#endif
