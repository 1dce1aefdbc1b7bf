/* registration.h - Cục CTS & BMTT notices of people registering for SIM PKI
 * (A4), as CSV or JSON. Pure: no I/O.
 *
 * CSV: UTF-8 (a BOM is allowed), RFC 4180 quoting, CRLF or LF, a header row
 * naming exactly the columns agency, full_name, id_number, msisdn,
 * wants_new_number in any order. JSON: {"notice_ref": "...", "persons":
 * [{"agency", "full_name", "id_number", "msisdn" (optional),
 * "wants_new_number"}]}. msisdn is the person's number when already a
 * MobiFone subscriber (empty otherwise, then wants_new_number must be
 * true). The whole file is refused on the first bad line. */
#ifndef OI_REGISTRATION_H
#define OI_REGISTRATION_H

#include <stddef.h>

#include "intake_error.h"
#include "phone.h"

#define OI_NOTICE_MAX_PERSONS 10000

typedef struct oi_person {
  int line;               /* CSV line, or JSON array index + 1 */
  char agency[201];
  char full_name[201];
  char id_number[13];     /* CCCD: 12 digits (old CMND: 9) */
  char msisdn[SP_PHONE_LEN + 1]; /* canonical, or "" */
  int wants_new_number;
  char ctkv[6];           /* "CTKV1".."CTKV9", or "" when not given */
} oi_person;

typedef struct oi_notice {
  char notice_ref[65];
  size_t count;
  oi_person *persons;     /* owned */
} oi_notice;

/* notice_ref names the notice (from the CLI or the HTTP query). */
oi_error oi_notice_parse_csv(const char *buf, size_t len,
                             const char *notice_ref, oi_notice *out,
                             char *errstr, size_t errlen);
oi_error oi_notice_parse_json(const char *buf, size_t len, oi_notice *out,
                              char *errstr, size_t errlen);
void oi_notice_clear(oi_notice *n);

/* 1 when buf is well-formed UTF-8 (no overlongs, no surrogates). */
int oi_utf8_valid(const char *buf, size_t len, size_t *bad_offset);
/* Replace each byte of s that is not part of well-formed UTF-8 by '?'. A
 * reason quotes input cut to a length (or jansson's error text, which can
 * hold half a character); it goes into JSON, which must be UTF-8. */
void oi_utf8_scrub(char *s);

#endif
