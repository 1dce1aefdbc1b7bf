/* invoice.h - B10's VAT invoice for a connection: the connection fee and
 * the tariff package, sold by a CTKV to the customer. Pure.
 *
 * Amounts are whole đồng in integers, never floating point: each line is
 * quantity x unit price, the VAT is the subtotal x rate / 100 rounded half
 * up, the total their sum. Every amount stays within IV_AMOUNT_MAX, so an
 * amount is exact wherever the JSON goes (a reader that keeps numbers as
 * doubles included). The renderers check and compute the invoice again
 * themselves, so a page or a document never shows amounts that do not add
 * up. */
#ifndef IV_INVOICE_H
#define IV_INVOICE_H

#include <jansson.h>
#include <stddef.h>

#define IV_INVOICE_MAX_LINES 20
#define IV_INVOICE_NUMBER_MAX 9999999LL /* 7 digits */
#define IV_VAT_DEFAULT 10               /* percent */
#define IV_AMOUNT_MAX 9007199254740991LL /* 2^53 - 1 đồng */

/* Strings are borrowed (UTF-8): they must outlive the invoice. */
typedef struct iv_invoice_line {
  const char *description; /* "Phí hòa mạng", "Gói cước ..." */
  const char *unit;        /* "lần", "gói", "tháng" */
  long long quantity;      /* >= 1 */
  long long unit_price;    /* đồng, >= 0 */
  long long amount;        /* computed */
} iv_invoice_line;

typedef struct iv_invoice {
  const char *series;    /* per CTKV, e.g. "1C26TKV": 1 to 20 of A-Z, 0-9 */
  long long number;      /* 1 .. 9999999, from the series' gap-free count */
  const char *issued_at; /* "2026-11-25T14:05:09+07:00" */
  struct {
    const char *ctkv, *name, *address, *tax_code;
  } seller;
  struct {
    const char *name;
    const char *id_number; /* optional: NULL or "" */
    const char *phone;     /* any form sp_phone_normalize_vn takes */
  } buyer;
  int nlines;
  iv_invoice_line lines[IV_INVOICE_MAX_LINES];
  int vat_rate; /* percent, 0..100; iv_invoice_init sets IV_VAT_DEFAULT */
  /* computed by iv_invoice_compute */
  long long subtotal, vat, total;
} iv_invoice;

/* Zero everything, vat_rate = IV_VAT_DEFAULT. */
void iv_invoice_init(iv_invoice *inv);

/* Check every field and compute the line amounts, subtotal, VAT and total.
 * -1 with the reason: a missing or malformed field, no line or more than
 * IV_INVOICE_MAX_LINES, an empty description or unit, a quantity below 1, a
 * negative price, a rate outside 0..100, an amount above IV_AMOUNT_MAX. */
int iv_invoice_compute(iv_invoice *inv, char *errstr, size_t errlen);

/* The seller's part of iv_invoice_compute's checks, for what stores a
 * seller (the organisation file): series 1 to 20 of A-Z and 0-9; ctkv,
 * name, address and tax code not blank, clean UTF-8 without control
 * characters, at most 32, 200, 300 and 20 bytes; the tax code digits with
 * a dash before a branch suffix. 0, or -1 with the reason. */
int iv_invoice_seller_check(const char *series, const char *ctkv,
                            const char *name, const char *address,
                            const char *tax_code, char *errstr,
                            size_t errlen);

/* VAT on subtotal at rate percent, rounded half up, in integers only
 * (subtotal, rate >= 0; rate <= 100). */
long long iv_vat_amount(long long subtotal, int rate);

/* "0000042"; -1 unless 1 <= n <= IV_INVOICE_NUMBER_MAX. */
int iv_invoice_number_format(long long n, char out[8]);

/* GET /v1/invoices/{series}/{number}: rest is the path after
 * "/v1/invoices/". 0 with series (1 to IV_SERIES_PATH_MAX bytes, up to
 * the first '/') and *number (decimal digits, 1 to
 * IV_INVOICE_NUMBER_MAX), else -1 (both cleared). Pure. */
#define IV_SERIES_PATH_MAX 31
int iv_invoice_path_parse(const char *rest,
                          char series[IV_SERIES_PATH_MAX + 1],
                          long long *number);

/* "1.234.000" (dots between thousands, no currency). */
#define IV_AMOUNT_TEXT 32
void iv_amount_format(long long amount, char out[IV_AMOUNT_TEXT]);

/* The amount in Vietnamese words, capitalised, ending in "đồng":
 * 1234000 -> "Một triệu hai trăm ba mươi tư nghìn đồng". -1 when amount is
 * negative or above IV_AMOUNT_MAX, or out is too small (512 is enough). */
int iv_amount_words_vi(long long amount, char *out, size_t outlen);

/* The invoice as a JSON object, or NULL when it does not check (call
 * iv_invoice_compute first for the reason):
 * series, number ("0000042"), issued_at, seller{ctkv,name,address,
 * tax_code}, buyer{name,id_number?,phone}, lines[{no,description,unit,
 * quantity,unit_price,amount}], currency "VND", subtotal, vat_rate, vat,
 * total, total_words. */
json_t *iv_invoice_json(const iv_invoice *inv);

/* A self-contained printable HTML page (UTF-8, malloc'd), or NULL when the
 * invoice does not check or memory ran out.
 * Labels are Vietnamese with English beside; every text from the invoice is
 * HTML-escaped; no script, no external resource. */
char *iv_invoice_html(const iv_invoice *inv);

#endif
