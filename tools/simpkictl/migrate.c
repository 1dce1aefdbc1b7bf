/* migrate.c - migration planning: names, order, checksums. No I/O.
 *
 * tests/unit/test_migrate_plan.c compiles this file in directly, so it must
 * depend on nothing but libc and OpenSSL. */
#include "migrate.h"

#include <ctype.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SP_MIG_MIN_DIGITS 4

static int ends_with_sql(const char *name, int ignore_case) {
  size_t n = strlen(name);
  if (n < 4)
    return 0;
  return ignore_case ? strcasecmp(name + n - 4, ".sql") == 0
                     : strcmp(name + n - 4, ".sql") == 0;
}

int sp_mig_parse_name(const char *name, long *version, char *errstr,
                      size_t errlen) {
  /* Anything that looks like SQL must be a well-formed migration, so a
   * typo never silently skips a file. */
  if (!ends_with_sql(name, 1))
    return 0;
  const char *p = name;
  long v = 0;
  size_t digits = 0;
  int overflow = 0;
  for (; isdigit((unsigned char)*p); p++, digits++) {
    if (v > (INT_MAX - (*p - '0')) / 10)
      overflow = 1;
    else
      v = v * 10 + (*p - '0');
  }
  const char *stem = p + 1;
  size_t stemlen = strlen(name) - (size_t)(stem - name);
  int ok = digits >= SP_MIG_MIN_DIGITS && *p == '_' && ends_with_sql(name, 0)
           && stemlen > 4;
  for (size_t i = 0; ok && i + 4 < stemlen; i++) {
    unsigned char c = (unsigned char)stem[i];
    if (!isalnum(c) && c != '_' && c != '-')
      ok = 0;
  }
  if (!ok) {
    snprintf(errstr, errlen,
             "bad migration file name \"%s\": expected NNNN_name.sql (at "
             "least %d digits, '_', then letters, digits, '_' or '-')",
             name, SP_MIG_MIN_DIGITS);
    return -1;
  }
  if (overflow || v == 0) {
    snprintf(errstr, errlen,
             "bad migration file name \"%s\": version must be between 1 "
             "and %d",
             name, INT_MAX);
    return -1;
  }
  *version = v;
  return 1;
}

static int cmp_file(const void *a, const void *b) {
  const sp_mig_file *x = a, *y = b;
  if (x->version != y->version)
    return x->version < y->version ? -1 : 1;
  return strcmp(x->name, y->name);
}

void sp_mig_files_free(sp_mig_file *files, size_t n) {
  if (!files)
    return;
  for (size_t i = 0; i < n; i++) {
    free(files[i].name);
    free(files[i].sql);
  }
  free(files);
}

int sp_mig_collect(const char *const *names, size_t n, sp_mig_file **out,
                   size_t *nout, char *errstr, size_t errlen) {
  *out = NULL;
  *nout = 0;
  sp_mig_file *files = calloc(n ? n : 1, sizeof(*files));
  if (!files) {
    snprintf(errstr, errlen, "out of memory");
    return -1;
  }
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    long v;
    int r = sp_mig_parse_name(names[i], &v, errstr, errlen);
    if (r < 0)
      goto fail;
    if (r == 0)
      continue;
    files[k].version = v;
    if (!(files[k].name = strdup(names[i]))) {
      snprintf(errstr, errlen, "out of memory");
      goto fail;
    }
    k++;
  }
  qsort(files, k, sizeof(*files), cmp_file);
  for (size_t i = 1; i < k; i++) {
    if (files[i].version == files[i - 1].version) {
      snprintf(errstr, errlen,
               "duplicate migration version %ld: \"%s\" and \"%s\"",
               files[i].version, files[i - 1].name, files[i].name);
      goto fail;
    }
  }
  *out = files;
  *nout = k;
  return 0;
fail:
  sp_mig_files_free(files, k);
  return -1;
}

static int cmp_applied_ptr(const void *a, const void *b) {
  const sp_mig_applied *x = *(const sp_mig_applied *const *)a;
  const sp_mig_applied *y = *(const sp_mig_applied *const *)b;
  return x->version < y->version ? -1 : x->version > y->version;
}

void sp_mig_plan_free(sp_mig_plan *plan) {
  if (!plan)
    return;
  free(plan->steps);
  memset(plan, 0, sizeof(*plan));
}

const char *sp_mig_state_name(sp_mig_state s) {
  switch (s) {
  case SP_MIG_PENDING: return "pending";
  case SP_MIG_APPLIED: return "applied";
  case SP_MIG_CHANGED: return "changed";
  case SP_MIG_RENAMED: return "renamed";
  case SP_MIG_MISSING: return "missing";
  case SP_MIG_OUT_OF_ORDER: return "out-of-order";
  }
  return "?";
}

/* The first inconsistency, worded for an operator. */
static void explain(const sp_mig_step *s, long applied_version, char *errstr,
                    size_t errlen) {
  switch (s->state) {
  case SP_MIG_CHANGED:
    snprintf(errstr, errlen, "migration %s was changed after it was applied",
             s->file->name);
    break;
  case SP_MIG_RENAMED:
    snprintf(errstr, errlen,
             "migration %s was applied as %s; an applied migration must not "
             "be renamed",
             s->file->name, s->applied->name ? s->applied->name : "?");
    break;
  case SP_MIG_MISSING:
    snprintf(errstr, errlen,
             "migration %s (version %ld) is applied but its file is not in "
             "the schema folder",
             s->applied->name ? s->applied->name : "?", s->version);
    break;
  case SP_MIG_OUT_OF_ORDER:
    snprintf(errstr, errlen,
             "migration %s is older than the applied version %ld; refusing "
             "to apply it out of order",
             s->file->name, applied_version);
    break;
  default:
    break;
  }
}

int sp_mig_plan_build(const sp_mig_file *files, size_t nfiles,
                      const sp_mig_applied *applied, size_t napplied,
                      sp_mig_plan *plan, char *errstr, size_t errlen) {
  memset(plan, 0, sizeof(*plan));
  plan->consistent = 1;
  const sp_mig_applied **sorted = calloc(napplied ? napplied : 1,
                                         sizeof(*sorted));
  plan->steps = calloc(nfiles + napplied + 1, sizeof(*plan->steps));
  if (!sorted || !plan->steps) {
    free(sorted);
    free(plan->steps);
    plan->steps = NULL;
    snprintf(errstr, errlen, "out of memory");
    return -1;
  }
  for (size_t i = 0; i < napplied; i++) {
    sorted[i] = &applied[i];
    if (applied[i].version > plan->applied_version)
      plan->applied_version = applied[i].version;
  }
  qsort(sorted, napplied, sizeof(*sorted), cmp_applied_ptr);

  size_t i = 0, j = 0;
  while (i < nfiles || j < napplied) {
    sp_mig_step *s = &plan->steps[plan->nsteps++];
    if (j >= napplied || (i < nfiles && files[i].version < sorted[j]->version)) {
      s->version = files[i].version;
      s->file = &files[i++];
      s->state = s->version < plan->applied_version ? SP_MIG_OUT_OF_ORDER
                                                    : SP_MIG_PENDING;
      if (s->state == SP_MIG_PENDING)
        plan->npending++;
    } else if (i >= nfiles || sorted[j]->version < files[i].version) {
      s->version = sorted[j]->version;
      s->applied = sorted[j++];
      s->state = SP_MIG_MISSING;
    } else {
      s->version = files[i].version;
      s->file = &files[i++];
      s->applied = sorted[j++];
      if (!s->applied->sha256 ||
          strcasecmp(s->applied->sha256, s->file->sha256) != 0)
        s->state = SP_MIG_CHANGED;
      else if (!s->applied->name || strcmp(s->applied->name, s->file->name))
        s->state = SP_MIG_RENAMED;
      else
        s->state = SP_MIG_APPLIED;
    }
    if (s->state != SP_MIG_PENDING && s->state != SP_MIG_APPLIED &&
        plan->consistent) {
      plan->consistent = 0;
      explain(s, plan->applied_version, errstr, errlen);
    }
  }
  free(sorted);
  return plan->consistent ? 0 : -1;
}

int sp_mig_sha256_hex(const void *buf, size_t len,
                      char out[SP_MIG_SHA256_HEX + 1]) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  if (!EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
    return -1;
  for (unsigned int k = 0; k < mdlen; k++)
    snprintf(out + 2 * k, 3, "%02x", md[k]);
  return 0;
}
