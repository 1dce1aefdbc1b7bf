/* numbering.h - SIM PKI numbering: IMSIs, ICCIDs and the numbering plan
 * (B3). Pure: no I/O.
 *
 * Numbers are kept as long long (PostgreSQL int8):
 *   IMSI  = MCC 452 + MNC 01 + MSIN, 15 digits, kept whole;
 *   ICCID = 89 + 84 + issuer 01 + issuer digits + serial + Luhn digit
 *           (ITU-T E.118), 19 or 20 digits, kept WITHOUT its Luhn digit
 *           (18 or 19 digits starting with 89, so below 2^63).
 * Neither kind has a leading zero, so a number and its digit count fix the
 * written form, and numeric ranges of different kinds never meet.
 *
 * The plan file format is described in docs/numbering.md. */
#ifndef VX_NUMBERING_H
#define VX_NUMBERING_H

#include <stddef.h>

#define VX_IMSI_DIGITS 15
#define VX_IMSI_MCC_MNC "45201" /* Vietnam, MobiFone */
#define VX_ICCID_MIN_DIGITS 18  /* without the Luhn digit */
#define VX_ICCID_MAX_DIGITS 19
#define VX_ICCID_COUNTRY "8984" /* telecom 89, Vietnam 84 */
#define VX_ICCID_ISSUER "898401" /* ... and MobiFone, issuer 01 */

/* A plan file of more blocks is refused: a plan has a handful. */
#define VX_PLAN_MAX_BLOCKS 1000
#define VX_BLOCK_ID_MAX 32

/* Check digit (0-9) of a digit string, the Luhn way; -1 when digits is
 * NULL, empty or not all ASCII digits. */
int vx_luhn_digit(const char *digits);

/* n = an ICCID without Luhn (18 or 19 digits, 8984...) -> the full ICCID,
 * NUL-terminated. -1 (out set to "") on a bad n. */
int vx_iccid_format(long long n, char out[21]);
/* A full ICCID (19 or 20 ASCII digits, 8984..., right Luhn digit) -> the
 * number without its Luhn digit. -1 with the reason, which does not repeat
 * the input (the caller names it). */
int vx_iccid_parse(const char *s, size_t len, long long *n, char *errstr,
                   size_t errlen);

/* n = an IMSI (15 digits, MCC 452) -> its 15 digits, NUL-terminated. -1
 * (out set to "") on a bad n. */
int vx_imsi_format(long long n, char out[16]);
/* 15 ASCII digits starting with MCC 452 -> the number. -1 with the
 * reason (without the input). */
int vx_imsi_parse(const char *s, size_t len, long long *n, char *errstr,
                  size_t errlen);

/* Either kind: the written form of n (ICCID with its Luhn digit). */
int vx_number_format(int is_iccid, long long n, char out[21]);

/* One block of the plan. first and last are whole numbers (prefix
 * included; ICCIDs without Luhn), both with `digits` digits and starting
 * with prefix. */
typedef struct vx_block {
  char block_id[VX_BLOCK_ID_MAX + 1];
  int is_iccid;
  char prefix[20];
  int digits;
  long long first, last;
} vx_block;

/* How many numbers the block holds. */
long long vx_block_size(const vx_block *b);

/* The rules one block must follow (see docs/numbering.md): id, prefix of
 * its kind (MCC 452 + MNC 01; 898401...), digit count, first and last
 * inside the prefix, first <= last. 0 or -1 with the reason. */
int vx_block_check(const vx_block *b, char *errstr, size_t errlen);

/* Parse a numbering plan file. Every line is checked; the whole file is
 * refused on the first error, errstr starting "line N: ". On success
 * *blocks (free() it) holds *n >= 1 blocks in file order; on error it is
 * NULL and *n is 0. */
int vx_numbering_parse(const char *buf, size_t len, vx_block **blocks,
                       size_t *n, char *errstr, size_t errlen);

#endif
