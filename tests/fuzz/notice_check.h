/* notice_check.h - the invariants of a parsed Cục CTS notice, shared by
 * fuzz_notice_csv and fuzz_notice_json. */
#ifndef NOTICE_CHECK_H
#define NOTICE_CHECK_H

#include <ctype.h>

#include "fuzz.h"
#include "registration.h"

static inline int fz_trimmed(const char *s) {
  size_t n = strlen(s);
  return n && !isspace((unsigned char)s[0]) &&
         !isspace((unsigned char)s[n - 1]);
}

/* A refusal: nothing to free or use, and a reason fit for JSON. */
static inline void fz_notice_refused(oi_error e, const oi_notice *n,
                                     const char *err, size_t cap) {
  FZ_CHECK(e == OI_BAD_FILE || e == OI_DUPLICATE, err);
  FZ_CHECK(n->count == 0 && n->persons == NULL, "refused notice holds people");
  FZ_CHECK(fz_errstr_ok(err, cap), "no reason");
  FZ_CHECK(fz_utf8(err, strlen(err)), err);
}

static inline void fz_notice_accepted(const oi_notice *n) {
  FZ_CHECK(n->notice_ref[0], "no notice_ref");
  FZ_CHECK(n->count >= 1 && n->count <= OI_NOTICE_MAX_PERSONS && n->persons,
           "count");
  for (size_t i = 0; i < n->count; i++) {
    const oi_person *p = &n->persons[i];
    FZ_CHECK(i == 0 || p->line > n->persons[i - 1].line, "line order");
    FZ_CHECK(fz_trimmed(p->agency) && fz_utf8(p->agency, strlen(p->agency)),
             p->agency);
    FZ_CHECK(fz_trimmed(p->full_name) &&
                 fz_utf8(p->full_name, strlen(p->full_name)),
             p->full_name);
    size_t idlen = strlen(p->id_number);
    FZ_CHECK((idlen == 9 || idlen == 12) && fz_digits(p->id_number, idlen),
             "id_number");
    FZ_CHECK(!p->msisdn[0] || fz_phone_canonical(p->msisdn), p->msisdn);
    FZ_CHECK(p->wants_new_number == 0 || p->wants_new_number == 1, "flag");
    FZ_CHECK(p->msisdn[0] || p->wants_new_number, "no msisdn, no new number");
    for (size_t j = 0; j < i; j++) {
      const oi_person *q = &n->persons[j];
      FZ_CHECK(strcmp(p->id_number, q->id_number), "duplicate id_number");
      FZ_CHECK(!p->msisdn[0] || strcmp(p->msisdn, q->msisdn),
               "duplicate msisdn");
    }
  }
}

#endif
