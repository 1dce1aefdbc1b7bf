/* order.c - parse and check a BCYCP order document. Pure: no I/O. */
#include "order.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "phone.h"
#include "registration.h" /* oi_utf8_scrub */
#include "sigverify.h"    /* sp_sig_b64_decode */

static const char *const known_fields[] = {
    "bcycp_ref", "issued_on", "vendor",  "quantity", "profile",
    "pilot_quantity", "contact", "note", NULL};

int oi_vendor_id_ok(const char *s) {
  size_t n = strlen(s);
  if (n < 2 || n > 32 || !(isupper((unsigned char)s[0]) || isdigit((unsigned char)s[0])))
    return 0;
  for (; *s; s++)
    if (!isupper((unsigned char)*s) && !isdigit((unsigned char)*s) &&
        *s != '-' && *s != '_')
      return 0;
  return 1;
}

const char *oi_profile_name(oi_profile p) {
  return p == OI_PROFILE_2G_COMP128 ? "2g_comp128" : "usim_milenage";
}

static int field_known(const char *k, const char *const *list) {
  for (; *list; list++)
    if (!strcmp(k, *list))
      return 1;
  return 0;
}

/* A reference: letters, digits and - _ . / ; 3..64 characters. */
static int ref_ok(const char *s, size_t max) {
  size_t n = strlen(s);
  if (n < 3 || n > max || !isalnum((unsigned char)s[0]))
    return 0;
  for (; *s; s++)
    if (!isalnum((unsigned char)*s) && !strchr("-_./", *s))
      return 0;
  return 1;
}

int oi_date_ok(const char *s) {
  int y, m, d;
  char tail;
  if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
    return 0;
  /* %2d alone also takes "+1" and " 1": the digits must all be there. */
  for (int i = 0; i < 10; i++)
    if (i == 4 || i == 7 ? s[i] != '-' : !isdigit((unsigned char)s[i]))
      return 0;
  static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 2000 || y > 2999 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
    return 0;
  return !(m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)));
}

__attribute__((format(printf, 5, 6))) static oi_error
fail(oi_order *o, oi_error e, char *errstr, size_t errlen, const char *fmt,
     ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(errstr, errlen, fmt, ap);
  va_end(ap);
  if (errlen)
    oi_utf8_scrub(errstr);
  oi_order_clear(o);
  return e;
}

static int text_field(json_t *obj, const char *key, char *out, size_t cap,
                      int required) {
  json_t *v = json_object_get(obj, key);
  if (!v)
    return required ? -1 : 0;
  const char *s = json_string_value(v);
  if (!s || strlen(s) >= cap || (required && !*s))
    return -1;
  snprintf(out, cap, "%s", s);
  return 0;
}

oi_error oi_order_parse(const char *doc, size_t len, long max_quantity,
                        oi_order *o, char *errstr, size_t errlen) {
  memset(o, 0, sizeof *o);
  json_error_t je;
  o->document = json_loadb(doc, len, JSON_REJECT_DUPLICATES, &je);
  if (!o->document)
    return fail(o, OI_BAD_DOCUMENT, errstr, errlen,
                "the order is not valid JSON: %s (line %d)", je.text, je.line);
  json_t *d = o->document;
  if (!json_is_object(d))
    return fail(o, OI_BAD_DOCUMENT, errstr, errlen,
                "the order must be a JSON object");
  const char *key;
  json_t *val;
  json_object_foreach(d, key, val) {
    if (!field_known(key, known_fields))
      return fail(o, OI_BAD_DOCUMENT, errstr, errlen,
                  "the order has an unknown field \"%.40s\"", key);
  }
  if (text_field(d, "bcycp_ref", o->bcycp_ref, sizeof o->bcycp_ref, 1) ||
      !ref_ok(o->bcycp_ref, 64))
    return fail(o, OI_BAD_DOCUMENT, errstr, errlen,
                "bcycp_ref is missing or malformed (3 to 64 letters, digits, "
                "- _ . /)");
  if (text_field(d, "issued_on", o->issued_on, sizeof o->issued_on, 1) ||
      !oi_date_ok(o->issued_on))
    return fail(o, OI_BAD_DOCUMENT, errstr, errlen,
                "issued_on is missing or not a date (YYYY-MM-DD)");
  if (text_field(d, "vendor", o->vendor_id, sizeof o->vendor_id, 1) ||
      !oi_vendor_id_ok(o->vendor_id))
    return fail(o, OI_BAD_DOCUMENT, errstr, errlen,
                "vendor is missing or not a vendor id (2 to 32 capital letters, "
                "digits, - and _)");
  json_t *q = json_object_get(d, "quantity");
  if (!json_is_integer(q))
    return fail(o, OI_BAD_DOCUMENT, errstr, errlen,
                "quantity is missing or not a whole number");
  o->quantity = (long)json_integer_value(q);
  if (o->quantity <= 0 || o->quantity > max_quantity)
    return fail(o, OI_BAD_QUANTITY, errstr, errlen,
                "quantity must be between 1 and %ld, not %ld", max_quantity,
                o->quantity);
  const char *profile = json_string_value(json_object_get(d, "profile"));
  if (profile && !strcmp(profile, "2g_comp128"))
    o->profile = OI_PROFILE_2G_COMP128;
  else if (profile && !strcmp(profile, "usim_milenage"))
    o->profile = OI_PROFILE_USIM_MILENAGE;
  else
    return fail(o, OI_BAD_DOCUMENT, errstr, errlen,
                "profile must be \"2g_comp128\" or \"usim_milenage\"");
  json_t *pq = json_object_get(d, "pilot_quantity");
  if (pq) {
    if (!json_is_integer(pq))
      return fail(o, OI_BAD_DOCUMENT, errstr, errlen,
                  "pilot_quantity must be a whole number");
    json_int_t p = json_integer_value(pq);
    if (p < OI_PILOT_MIN || p > OI_PILOT_MAX)
      return fail(o, OI_BAD_PILOT, errstr, errlen,
                  "pilot_quantity: a pilot has %d to %d SIMs, not %ld",
                  OI_PILOT_MIN, OI_PILOT_MAX, (long)p);
    o->pilot_quantity = (int)p;
  }
  json_t *c = json_object_get(d, "contact");
  char phone[32] = "";
  if (!json_is_object(c) ||
      text_field(c, "name", o->contact_name, sizeof o->contact_name, 1) ||
      text_field(c, "email", o->contact_email, sizeof o->contact_email, 1) ||
      !strchr(o->contact_email, '@') ||
      text_field(c, "phone", phone, sizeof phone, 0) ||
      json_object_size(c) != 2u + (json_object_get(c, "phone") != NULL))
    return fail(o, OI_BAD_DOCUMENT, errstr, errlen,
                "contact must be an object with name, email and optionally "
                "phone");
  if (phone[0]) {
    char why[160];
    if (sp_phone_normalize_vn(phone, o->contact_phone, why, sizeof why))
      return fail(o, OI_BAD_DOCUMENT, errstr, errlen, "contact.phone: %s", why);
  }
  json_t *note = json_object_get(d, "note");
  if (note && (!json_is_string(note) || strlen(json_string_value(note)) > 2000))
    return fail(o, OI_BAD_DOCUMENT, errstr, errlen,
                "note must be a text of at most 2000 bytes");
  return OI_OK;
}

void oi_order_clear(oi_order *o) {
  json_decref(o->document);
  memset(o, 0, sizeof *o);
}

static int b64_member(json_t *o, const char *key, unsigned char **out,
                      size_t *len) {
  const char *s = json_string_value(json_object_get(o, key));
  if (!s || strlen(s) > OI_ENVELOPE_B64_MAX)
    return -1;
  return sp_sig_b64_decode(s, strlen(s), out, len);
}

int oi_order_envelope_parse(const char *body, size_t len, unsigned char **doc,
                            size_t *doclen, unsigned char **sig,
                            size_t *siglen) {
  *doc = *sig = NULL;
  *doclen = *siglen = 0;
  json_error_t je;
  json_t *o = body ? json_loadb(body, len, JSON_REJECT_DUPLICATES, &je) : NULL;
  if (!json_is_object(o) || b64_member(o, "document", doc, doclen)) {
    json_decref(o);
    free(*doc);
    *doc = NULL;
    *doclen = 0;
    return -1;
  }
  if (json_object_get(o, "signature") &&
      b64_member(o, "signature", sig, siglen)) {
    free(*sig);
    *sig = NULL;
    *siglen = 0;
  }
  json_decref(o);
  return 0;
}

const char *oi_path_id(const char *path, const char *prefix) {
  size_t n = strlen(prefix);
  if (strncmp(path, prefix, n) != 0)
    return NULL;
  const char *id = path + n;
  return *id && !strchr(id, '/') ? id : NULL;
}
