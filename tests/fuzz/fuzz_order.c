/* fuzz_order - BCYCP's order document (B1) as an HTTP body or an
 * order.submitted event brings it: oi_order_parse.
 *
 * Invariants: a refused order is cleared and its reason is UTF-8 (it goes
 * into a JSON body and an order.rejected event); an accepted one satisfies
 * schemas/documents/bcycp-order.json's shapes, its quantity is within
 * 1..max, its pilot 0 or 5..10, its phone canonical. */
#include <ctype.h>

#include "fuzz.h"
#include "order.h"

#define MAX_QUANTITY 1000000L /* SIMPKI_ORDER_MAX_QUANTITY's default */

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  json_object_seed(1);
  return 0;
}

/* ^[0-9]{4}-[0-9]{2}-[0-9]{2}$, the schema's pattern. */
static int date_shape(const char *s) {
  return strlen(s) == 10 && fz_digits(s, 4) && s[4] == '-' &&
         fz_digits(s + 5, 2) && s[7] == '-' && fz_digits(s + 8, 2);
}

static int ref_shape(const char *s) {
  size_t n = strlen(s);
  if (n < 3 || n > 64 || !isalnum((unsigned char)s[0]))
    return 0;
  for (; *s; s++)
    if (!isalnum((unsigned char)*s) && !strchr("-_./", *s))
      return 0;
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  oi_order o;
  char err[512];
  oi_error e = oi_order_parse((const char *)data, size, MAX_QUANTITY, &o, err,
                              sizeof err);
  if (e != OI_OK) {
    FZ_CHECK(e == OI_BAD_DOCUMENT || e == OI_BAD_QUANTITY || e == OI_BAD_PILOT,
             err);
    FZ_CHECK(fz_zero(&o, sizeof o), "refused order not cleared");
    FZ_CHECK(fz_errstr_ok(err, sizeof err), "no reason");
    FZ_CHECK(fz_utf8(err, strlen(err)), err);
    return 0;
  }
  FZ_CHECK(o.quantity >= 1 && o.quantity <= MAX_QUANTITY, "quantity");
  FZ_CHECK(o.profile == OI_PROFILE_2G_COMP128 ||
               o.profile == OI_PROFILE_USIM_MILENAGE,
           "profile");
  FZ_CHECK(o.pilot_quantity == 0 || (o.pilot_quantity >= OI_PILOT_MIN &&
                                     o.pilot_quantity <= OI_PILOT_MAX),
           "pilot_quantity");
  FZ_CHECK(ref_shape(o.bcycp_ref), o.bcycp_ref);
  FZ_CHECK(oi_vendor_id_ok(o.vendor_id), o.vendor_id);
  FZ_CHECK(date_shape(o.issued_on) && oi_date_ok(o.issued_on), o.issued_on);
  FZ_CHECK(o.contact_name[0] && strchr(o.contact_email, '@'), "contact");
  FZ_CHECK(!o.contact_phone[0] || fz_phone_canonical(o.contact_phone),
           o.contact_phone);
  FZ_CHECK(json_is_object(o.document), "document");
  oi_order_clear(&o);
  FZ_CHECK(fz_zero(&o, sizeof o), "clear left something");
  return 0;
}
