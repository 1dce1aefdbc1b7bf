/* reason.h - text from outside quoted in a reason. A reason goes into a
 * JSON answer, an event or a terminal, so it stays UTF-8: a quote is cut
 * only between characters, and bytes that are not UTF-8 become '?'. */
#ifndef IV_REASON_H
#define IV_REASON_H

#include <stddef.h>

/* s (UTF-8) cut to at most max bytes without splitting a character, into
 * out (max + 1 bytes). Returns out; "(none)" for a NULL s. */
const char *iv_clip(const char *s, size_t max, char *out);

/* Every byte of s that does not belong to a well-formed UTF-8 character
 * (jansson's error texts cut one in two) made '?', in place. */
void iv_utf8_scrub(char *s);

#endif
