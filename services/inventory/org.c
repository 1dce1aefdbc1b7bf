/* org.c - CTKVs and shops from a JSON file. */
#include "org.h"

#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "invoice.h"
#include "mail.h" /* nt_mail_addr_valid: the notifier writes to these */
#include "reason.h"

/* Copy a required string member; -1 when missing, empty or too long. */
static int member(json_t *o, const char *key, char *out, size_t cap) {
  const char *s = json_string_value(json_object_get(o, key));
  if (!s || !*s || strlen(s) >= cap)
    return -1;
  memcpy(out, s, strlen(s) + 1);
  return 0;
}

static int matches(const char *pattern, const char *s) {
  regex_t re;
  if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB))
    return 0;
  int ok = regexec(&re, s, 0, NULL, 0) == 0;
  regfree(&re);
  return ok;
}

int iv_org_parse(const char *text, size_t len, iv_org *org, char *errstr,
                 size_t errlen) {
  memset(org, 0, sizeof *org);
  json_error_t je;
  json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
  json_t *ctkvs = json_object_get(root, "ctkvs");
  if (!json_is_array(ctkvs) || json_array_size(ctkvs) == 0 ||
      json_array_size(ctkvs) > 9) {
    if (!root) {
      snprintf(errstr, errlen, "not JSON: %s (line %d)", je.text, je.line);
      iv_utf8_scrub(errstr);
    } else
      snprintf(errstr, errlen, "\"ctkvs\" must be a list of 1 to 9 CTKVs");
    json_decref(root);
    return -1;
  }
  size_t nshops = 0, i;
  json_t *c;
  json_array_foreach(ctkvs, i, c) nshops +=
      json_array_size(json_object_get(c, "shops"));
  if (nshops > IV_ORG_MAX_SHOPS ||
      !(org->shops = calloc(nshops ? nshops : 1, sizeof *org->shops))) {
    snprintf(errstr, errlen, "at most %d shops", IV_ORG_MAX_SHOPS);
    json_decref(root);
    return -1;
  }
  int rc = -1;
  json_array_foreach(ctkvs, i, c) {
    iv_ctkv *k = &org->ctkvs[org->nctkvs];
    if (member(c, "id", k->id, sizeof k->id) || !matches("^CTKV[1-9]$", k->id)) {
      snprintf(errstr, errlen, "CTKV %zu: \"id\" must be CTKV1 to CTKV9",
               i + 1);
      goto out;
    }
    if (member(c, "name", k->name, sizeof k->name) ||
        member(c, "address", k->address, sizeof k->address) ||
        member(c, "tax_code", k->tax_code, sizeof k->tax_code) ||
        member(c, "invoice_series", k->series, sizeof k->series)) {
      snprintf(errstr, errlen,
               "%s: name, address, tax_code and invoice_series are required "
               "(non-empty, not too long)",
               k->id);
      goto out;
    }
    /* Every sale of the CTKV prints these on its invoice: refused here
     * rather than at each sale. */
    char why[256];
    if (iv_invoice_seller_check(k->series, k->id, k->name, k->address,
                                k->tax_code, why, sizeof why)) {
      snprintf(errstr, errlen, "%s: %s (the CTKV's invoices carry it)", k->id,
               why);
      goto out;
    }
    json_t *email = json_object_get(c, "email");
    if (email && (member(c, "email", k->email, sizeof k->email) ||
                  !nt_mail_addr_valid(k->email, why, sizeof why))) {
      snprintf(errstr, errlen, "%s: \"email\" is not an e-mail address",
               k->id);
      goto out;
    }
    for (size_t j = 0; j < org->nctkvs; j++)
      if (!strcmp(org->ctkvs[j].id, k->id) ||
          !strcmp(org->ctkvs[j].series, k->series)) {
        snprintf(errstr, errlen, "%s: its id or invoice series is given twice",
                 k->id);
        goto out;
      }
    org->nctkvs++;
    size_t s;
    json_t *sh;
    json_array_foreach(json_object_get(c, "shops"), s, sh) {
      iv_shop *p = &org->shops[org->nshops];
      if (member(sh, "id", p->id, sizeof p->id) ||
          !matches("^[A-Z0-9][A-Z0-9-]{1,31}$", p->id)) {
        snprintf(errstr, errlen,
                 "%s shop %zu: \"id\" must be 2 to 32 of A-Z, 0-9 and -",
                 k->id, s + 1);
        goto out;
      }
      if (member(sh, "name", p->name, sizeof p->name) ||
          member(sh, "province", p->province, sizeof p->province)) {
        snprintf(errstr, errlen, "shop %s: name and province are required",
                 p->id);
        goto out;
      }
      for (size_t j = 0; j < org->nshops; j++)
        if (!strcmp(org->shops[j].id, p->id)) {
          snprintf(errstr, errlen, "shop %s is listed twice", p->id);
          goto out;
        }
      memcpy(p->ctkv, k->id, sizeof p->ctkv);
      org->nshops++;
    }
  }
  static const char *const dept_ids[] = {"ban_khdn", "ban_khcn", "tt_tctk"};
  json_t *depts = json_object_get(root, "departments");
  const char *dk;
  json_t *dv;
  json_object_foreach(depts, dk, dv) {
    iv_dept *d = &org->depts[org->ndepts];
    size_t known = 0;
    while (known < 3 && strcmp(dept_ids[known], dk))
      known++;
    if (known == 3 || org->ndepts == 3) {
      char q[33];
      snprintf(errstr, errlen,
               "departments: \"%s\" is not ban_khdn, ban_khcn or tt_tctk",
               iv_clip(dk, 32, q));
      goto out;
    }
    snprintf(d->id, sizeof d->id, "%s", dk);
    char why[256];
    if (member(dv, "name", d->name, sizeof d->name) ||
        member(dv, "email", d->email, sizeof d->email) ||
        !nt_mail_addr_valid(d->email, why, sizeof why)) {
      snprintf(errstr, errlen, "department %s: a name and an e-mail address "
                               "are required", dk);
      goto out;
    }
    org->ndepts++;
  }
  rc = 0;
out:
  json_decref(root);
  if (rc)
    iv_org_free(org);
  return rc;
}

void iv_org_free(iv_org *org) {
  free(org->shops);
  org->shops = NULL;
  org->nshops = 0;
}

int iv_org_store(PGconn *tx, const iv_org *org, long *added, char *errstr,
                 size_t errlen) {
  *added = 0;
  for (size_t i = 0; i < org->nctkvs; i++) {
    const iv_ctkv *k = &org->ctkvs[i];
    const char *p[] = {k->id, k->name, k->address, k->tax_code, k->series};
    PGresult *r = sp_db_query(
        tx,
        "INSERT INTO ctkvs (ctkv_id, name, address, tax_code, invoice_series) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (ctkv_id) DO UPDATE SET "
        "name = excluded.name, address = excluded.address, tax_code = "
        "excluded.tax_code, invoice_series = excluded.invoice_series "
        "RETURNING (xmax = 0)",
        5, p, errstr, errlen);
    if (!r)
      return -1;
    *added += PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
  }
  for (size_t i = 0; i < org->nctkvs; i++) {
    const iv_ctkv *k = &org->ctkvs[i];
    const char *p[] = {k->id, k->email[0] ? k->email : NULL};
    if (sp_db_exec(tx, "UPDATE ctkvs SET email = $2 WHERE ctkv_id = $1", 2,
                   p, errstr, errlen) != 1)
      return -1;
  }
  for (size_t i = 0; i < org->ndepts; i++) {
    const iv_dept *d = &org->depts[i];
    const char *p[] = {d->id, d->name, d->email};
    PGresult *r = sp_db_query(
        tx,
        "INSERT INTO departments (dept_id, name, email) VALUES ($1, $2, $3) "
        "ON CONFLICT (dept_id) DO UPDATE SET name = excluded.name, email = "
        "excluded.email RETURNING (xmax = 0)",
        3, p, errstr, errlen);
    if (!r)
      return -1;
    *added += PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
  }
  for (size_t i = 0; i < org->nshops; i++) {
    const iv_shop *s = &org->shops[i];
    const char *p[] = {s->id, s->ctkv, s->name, s->province};
    PGresult *r = sp_db_query(
        tx,
        "INSERT INTO shops (shop_id, ctkv_id, name, province) VALUES ($1, $2, "
        "$3, $4) ON CONFLICT (shop_id) DO UPDATE SET name = excluded.name, "
        "province = excluded.province WHERE shops.ctkv_id = excluded.ctkv_id "
        "RETURNING (xmax = 0)",
        4, p, errstr, errlen);
    if (!r)
      return -1;
    int stored = PQntuples(r) == 1;
    if (stored)
      *added += PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    if (!stored) {
      snprintf(errstr, errlen,
               "shop %s belongs to another CTKV already; a shop does not "
               "move to %s",
               s->id, s->ctkv);
      return 1;
    }
  }
  return 0;
}
