/* fuzz_org - the organisation file (`simpkictl org load FILE`, written by
 * hand from what the regional companies send): iv_org_parse.
 *
 * Invariants: a refusal gives a UTF-8 reason (it is printed and logged;
 * jansson's own error text is scrubbed) and holds no shops. An accepted file
 * gives 1 to 9 CTKVs with ids CTKV1 to CTKV9 and invoice series given once
 * each, shops with well-formed ids given once, each under a CTKV of the file,
 * departments among ban_khdn, ban_khcn and tt_tctk; and what it stores is
 * usable where it goes next: each CTKV is a seller an invoice can name
 * (iv_invoice_compute: series, tax code, name, address), each e-mail address
 * one the notifier can write to (nt_mail_addr_valid). */
#include <regex.h>

#include "fuzz.h"
#include "invoice.h"
#include "mail.h"
#include "org.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  json_object_seed(1);
  return 0;
}

static int matches(const char *pattern, const char *s) {
  regex_t re;
  FZ_CHECK(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) == 0, pattern);
  int ok = regexec(&re, s, 0, NULL, 0) == 0;
  regfree(&re);
  return ok;
}

/* The CTKV as the seller of a plain sale's invoice. */
static void seller_ok(const iv_ctkv *k) {
  iv_invoice inv;
  iv_invoice_init(&inv);
  inv.series = k->series;
  inv.number = 1;
  inv.issued_at = "2026-11-25T14:05:09+07:00";
  inv.seller.ctkv = k->id;
  inv.seller.name = k->name;
  inv.seller.address = k->address;
  inv.seller.tax_code = k->tax_code;
  inv.buyer.name = "Nguyễn Văn An";
  inv.buyer.phone = "0901234567";
  inv.nlines = 1;
  inv.lines[0] = (iv_invoice_line){"Phí hòa mạng SIM PKI", "lần", 1, 50000, 0};
  char err[512];
  FZ_CHECK(iv_invoice_compute(&inv, err, sizeof err) == 0, err);
}

static void email_ok(const char *email) {
  char err[512];
  FZ_CHECK(nt_mail_addr_valid(email, err, sizeof err), err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  iv_org org;
  char err[512];
  memset(err, 'U', sizeof err);
  if (iv_org_parse((const char *)data, size, &org, err, sizeof err)) {
    FZ_CHECK(fz_errstr_ok(err, sizeof err), "no reason");
    FZ_CHECK(fz_utf8(err, strlen(err)), err);
    FZ_CHECK(org.shops == NULL && org.nshops == 0, "refused, yet shops");
    return 0;
  }
  FZ_CHECK(org.nctkvs >= 1 && org.nctkvs <= 9, "CTKV count");
  for (size_t i = 0; i < org.nctkvs; i++) {
    const iv_ctkv *k = &org.ctkvs[i];
    FZ_CHECK(matches("^CTKV[1-9]$", k->id), k->id);
    for (size_t j = 0; j < i; j++)
      FZ_CHECK(strcmp(k->id, org.ctkvs[j].id) &&
                   strcmp(k->series, org.ctkvs[j].series),
               "a CTKV or series twice");
    seller_ok(k);
    if (k->email[0])
      email_ok(k->email);
  }
  FZ_CHECK(org.nshops <= IV_ORG_MAX_SHOPS, "shop count");
  for (size_t i = 0; i < org.nshops; i++) {
    const iv_shop *s = &org.shops[i];
    FZ_CHECK(matches("^[A-Z0-9][A-Z0-9-]{1,31}$", s->id), s->id);
    FZ_CHECK(s->name[0] && s->province[0], "shop name, province");
    int under = 0;
    for (size_t j = 0; j < org.nctkvs; j++)
      under |= !strcmp(s->ctkv, org.ctkvs[j].id);
    FZ_CHECK(under, "a shop under no CTKV of the file");
    for (size_t j = 0; j < i; j++)
      FZ_CHECK(strcmp(s->id, org.shops[j].id), "a shop twice");
  }
  FZ_CHECK(org.ndepts <= 3, "department count");
  for (size_t i = 0; i < org.ndepts; i++) {
    const iv_dept *d = &org.depts[i];
    FZ_CHECK(!strcmp(d->id, "ban_khdn") || !strcmp(d->id, "ban_khcn") ||
                 !strcmp(d->id, "tt_tctk"),
             d->id);
    FZ_CHECK(d->name[0], "department name");
    email_ok(d->email);
  }
  iv_org_free(&org);
  return 0;
}
