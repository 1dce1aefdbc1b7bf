/* phone.h - Vietnamese mobile numbers.
 *
 * The canonical form is international without '+': "84" followed by the
 * nine-digit national significant number (e.g. 84901234567), which is also
 * VCSP's login. Mobile numbers start with 3, 5, 7, 8 or 9 after the 84 since
 * the 2018 renumbering. */
#ifndef SIMPKI_PHONE_H
#define SIMPKI_PHONE_H

#include <stddef.h>

#define SP_PHONE_LEN 11 /* "84" + 9 digits */

/* Accepts "0901234567", "84901234567", "+84 90 123 4567", "090.123.4567"
 * (spaces, dots and dashes are ignored). Writes the canonical form into out
 * (SP_PHONE_LEN + 1 bytes). Returns -1 with a reason in errstr. */
int sp_phone_normalize_vn(const char *in, char out[SP_PHONE_LEN + 1],
                          char *errstr, size_t errlen);

#endif
