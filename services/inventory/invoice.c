/* invoice.c - checks, integer amounts, Vietnamese words, JSON and HTML. */
#include "invoice.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phone.h"

void iv_invoice_init(iv_invoice *inv) {
  memset(inv, 0, sizeof *inv);
  inv->vat_rate = IV_VAT_DEFAULT;
}

/* ---- checks ------------------------------------------------------------ */

/* Well-formed UTF-8 without control characters (jansson refuses the
 * former, and a newline or NUL has no place on an invoice). */
static int text_ok(const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    int n = *p < 0x80 ? 0 : (*p & 0xe0) == 0xc0 ? 1
          : (*p & 0xf0) == 0xe0 ? 2 : (*p & 0xf8) == 0xf0 ? 3 : -1;
    if (n < 0 || (n == 0 && (*p < 0x20 || *p == 0x7f)))
      return 0;
    unsigned cp = n == 0 ? *p : *p & (0x3f >> n);
    for (int i = 1; i <= n; i++) {
      if ((p[i] & 0xc0) != 0x80)
        return 0;
      cp = cp << 6 | (p[i] & 0x3f);
    }
    /* overlong forms, surrogates, beyond U+10FFFF */
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
        (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
      return 0;
    p += n + 1;
  }
  return 1;
}

/* A required text: not blank, at most max bytes, clean UTF-8. */
static int need_text(const char *s, size_t max, const char *what,
                     char *errstr, size_t errlen) {
  size_t n = s ? strlen(s) : 0, blanks = strspn(s ? s : "", " ");
  if (n == blanks) {
    snprintf(errstr, errlen, "%s is empty", what);
    return -1;
  }
  if (n > max || !text_ok(s)) {
    snprintf(errstr, errlen,
             "%s must be at most %zu bytes of UTF-8 without control "
             "characters",
             what, max);
    return -1;
  }
  return 0;
}

static int all_of(const char *s, const char *set, size_t min, size_t max) {
  size_t n = strlen(s);
  return n >= min && n <= max && strspn(s, set) == n;
}

#define DIGITS "0123456789"

/* "YYYY-MM-DDTHH:MM:SS+07:00": an invoice is dated in Vietnam's time. */
static int issued_at_ok(const char *s, int *y, int *mo, int *d) {
  static const char shape[] = "dddd-dd-ddTdd:dd:dd+07:00";
  if (!s || strlen(s) != sizeof shape - 1)
    return 0;
  for (size_t i = 0; shape[i]; i++)
    if (shape[i] == 'd' ? s[i] < '0' || s[i] > '9' : s[i] != shape[i])
      return 0;
  int h = atoi(s + 11), mi = atoi(s + 14), se = atoi(s + 17);
  *y = atoi(s), *mo = atoi(s + 5), *d = atoi(s + 8);
  static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int leap = (*y % 4 == 0 && *y % 100 != 0) || *y % 400 == 0;
  return *y >= 2000 && *mo >= 1 && *mo <= 12 && *d >= 1 &&
         *d <= mdays[*mo - 1] + (*mo == 2 && leap) && h <= 23 && mi <= 59 &&
         se <= 59;
}

long long iv_vat_amount(long long subtotal, int rate) {
  /* (subtotal * rate + 50) / 100 without the product: the hundreds of the
   * subtotal times the rate cannot overflow for rate <= 100. */
  return subtotal / 100 * rate + (subtotal % 100 * rate + 50) / 100;
}

static int series_check(const char *series, char *errstr, size_t errlen) {
  if (!series || !all_of(series, "ABCDEFGHIJKLMNOPQRSTUVWXYZ" DIGITS, 1, 20)) {
    snprintf(errstr, errlen, "series must be 1 to 20 of A-Z and 0-9 (e.g. "
             "1C26TKV)");
    return -1;
  }
  return 0;
}

int iv_invoice_seller_check(const char *series, const char *ctkv,
                            const char *name, const char *address,
                            const char *tax_code, char *errstr,
                            size_t errlen) {
  if (series_check(series, errstr, errlen) ||
      need_text(ctkv, 32, "seller.ctkv", errstr, errlen) ||
      need_text(name, 200, "seller.name", errstr, errlen) ||
      need_text(address, 300, "seller.address", errstr, errlen) ||
      need_text(tax_code, 20, "seller.tax_code", errstr, errlen))
    return -1;
  if (!all_of(tax_code, DIGITS "-", 1, 20) || tax_code[0] == '-') {
    snprintf(errstr, errlen, "seller.tax_code must be digits, with a dash "
             "before a branch suffix (e.g. 0100686209-001)");
    return -1;
  }
  return 0;
}

int iv_invoice_compute(iv_invoice *inv, char *errstr, size_t errlen) {
  int y, mo, d;
  char phone[SP_PHONE_LEN + 1], perr[160];
  if (series_check(inv->series, errstr, errlen))
    return -1;
  if (inv->number < 1 || inv->number > IV_INVOICE_NUMBER_MAX) {
    snprintf(errstr, errlen, "number must be 1 to %lld, not %lld",
             IV_INVOICE_NUMBER_MAX, inv->number);
    return -1;
  }
  if (!issued_at_ok(inv->issued_at, &y, &mo, &d)) {
    snprintf(errstr, errlen, "issued_at must be a date and time such as "
             "2026-11-25T14:05:09+07:00");
    return -1;
  }
  if (iv_invoice_seller_check(inv->series, inv->seller.ctkv, inv->seller.name,
                              inv->seller.address, inv->seller.tax_code,
                              errstr, errlen) ||
      need_text(inv->buyer.name, 200, "buyer.name", errstr, errlen))
    return -1;
  if (inv->buyer.id_number && *inv->buyer.id_number &&
      !all_of(inv->buyer.id_number,
              "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" DIGITS, 1,
              20)) {
    snprintf(errstr, errlen, "buyer.id_number must be 1 to 20 letters and "
             "digits");
    return -1;
  }
  if (!inv->buyer.phone ||
      sp_phone_normalize_vn(inv->buyer.phone, phone, perr, sizeof perr)) {
    snprintf(errstr, errlen, "buyer.phone: %s",
             inv->buyer.phone ? perr : "missing");
    return -1;
  }
  if (inv->nlines < 1 || inv->nlines > IV_INVOICE_MAX_LINES) {
    snprintf(errstr, errlen, "an invoice has 1 to %d lines, not %d",
             IV_INVOICE_MAX_LINES, inv->nlines);
    return -1;
  }
  if (inv->vat_rate < 0 || inv->vat_rate > 100) {
    snprintf(errstr, errlen, "vat_rate must be 0 to 100 percent, not %d",
             inv->vat_rate);
    return -1;
  }
  long long sub = 0;
  for (int i = 0; i < inv->nlines; i++) {
    iv_invoice_line *l = &inv->lines[i];
    char what[32];
    snprintf(what, sizeof what, "line %d description", i + 1);
    if (need_text(l->description, 500, what, errstr, errlen))
      return -1;
    snprintf(what, sizeof what, "line %d unit", i + 1);
    if (need_text(l->unit, 50, what, errstr, errlen))
      return -1;
    if (l->quantity < 1 || l->quantity > IV_AMOUNT_MAX) {
      snprintf(errstr, errlen, "line %d: quantity must be at least 1, not "
               "%lld", i + 1, l->quantity);
      return -1;
    }
    if (l->unit_price < 0 || l->unit_price > IV_AMOUNT_MAX) {
      snprintf(errstr, errlen, "line %d: unit price must be 0 to %lld đồng, "
               "not %lld", i + 1, IV_AMOUNT_MAX, l->unit_price);
      return -1;
    }
    if (l->unit_price && l->quantity > IV_AMOUNT_MAX / l->unit_price) {
      snprintf(errstr, errlen, "line %d: %lld x %lld đồng is more than %lld "
               "đồng", i + 1, l->quantity, l->unit_price, IV_AMOUNT_MAX);
      return -1;
    }
    l->amount = l->quantity * l->unit_price;
    if (l->amount > IV_AMOUNT_MAX - sub) {
      snprintf(errstr, errlen, "the subtotal would be more than %lld đồng "
               "(at line %d)", IV_AMOUNT_MAX, i + 1);
      return -1;
    }
    sub += l->amount;
  }
  long long vat = iv_vat_amount(sub, inv->vat_rate);
  if (vat > IV_AMOUNT_MAX - sub) {
    snprintf(errstr, errlen, "the total would be more than %lld đồng",
             IV_AMOUNT_MAX);
    return -1;
  }
  inv->subtotal = sub;
  inv->vat = vat;
  inv->total = sub + vat;
  return 0;
}

/* ---- numbers and words ------------------------------------------------- */

int iv_invoice_path_parse(const char *rest,
                          char series[IV_SERIES_PATH_MAX + 1],
                          long long *number) {
  series[0] = '\0';
  *number = 0;
  const char *slash = strchr(rest, '/');
  if (!slash || slash == rest || (size_t)(slash - rest) > IV_SERIES_PATH_MAX)
    return -1;
  /* Digits only, and no more than an invoice can have: strtoll took a
   * sign, blanks and 20 digits, and a number past PostgreSQL's int made
   * the lookup a database error (a 503) instead of a 404. */
  long long n = 0;
  const char *p = slash + 1;
  if (!*p)
    return -1;
  for (; *p; p++) {
    if (*p < '0' || *p > '9')
      return -1;
    n = n * 10 + (*p - '0');
    if (n > IV_INVOICE_NUMBER_MAX)
      return -1;
  }
  if (n < 1)
    return -1;
  memcpy(series, rest, (size_t)(slash - rest));
  series[slash - rest] = '\0';
  *number = n;
  return 0;
}

int iv_invoice_number_format(long long n, char out[8]) {
  if (n < 1 || n > IV_INVOICE_NUMBER_MAX) {
    out[0] = '\0';
    return -1;
  }
  snprintf(out, 8, "%07lld", n);
  return 0;
}

void iv_amount_format(long long amount, char out[IV_AMOUNT_TEXT]) {
  char rev[IV_AMOUNT_TEXT];
  unsigned long long m = amount < 0 ? 0ULL - (unsigned long long)amount
                                    : (unsigned long long)amount;
  int n = 0, digits = 0;
  do {
    if (digits && digits % 3 == 0)
      rev[n++] = '.';
    rev[n++] = (char)('0' + m % 10);
    m /= 10;
    digits++;
  } while (m);
  if (amount < 0)
    rev[n++] = '-';
  for (int i = 0; i < n; i++)
    out[i] = rev[n - 1 - i];
  out[n] = '\0';
}

typedef struct {
  char *buf;
  size_t cap, len;
  int full;
} words;

static void say(words *w, const char *word) {
  int n = snprintf(w->buf + w->len, w->cap - w->len, "%s%s",
                   w->len ? " " : "", word);
  if (n < 0 || (size_t)n >= w->cap - w->len)
    w->full = 1;
  else
    w->len += (size_t)n;
}

static const char *const digit_words[10] = {
    "không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín"};

/* One group of three digits. A group after a larger one is read whole
 * ("không trăm linh năm"); the leading group only as far as it goes. */
static void say_group(words *w, int n, int whole) {
  int h = n / 100, t = n / 10 % 10, u = n % 10;
  if (whole || h) {
    say(w, digit_words[h]);
    say(w, "trăm");
  }
  if (t == 0) {
    if (u && (whole || h))
      say(w, "linh");
    if (u)
      say(w, digit_words[u]);
    return;
  }
  if (t == 1) {
    say(w, "mười");
  } else {
    say(w, digit_words[t]);
    say(w, "mươi");
  }
  if (u == 5)
    say(w, "lăm"); /* mười lăm, hai mươi lăm */
  else if (u == 1 && t > 1)
    say(w, "mốt"); /* hai mươi mốt, but mười một */
  else if (u == 4 && t > 1)
    say(w, "tư"); /* hai mươi tư, but mười bốn */
  else if (u)
    say(w, digit_words[u]);
}

int iv_amount_words_vi(long long amount, char *out, size_t outlen) {
  static const char *const scale[] = {"",    "nghìn",    "triệu",
                                      "tỷ",  "nghìn tỷ", "triệu tỷ"};
  if (!outlen)
    return -1;
  out[0] = '\0';
  if (amount < 0 || amount > IV_AMOUNT_MAX)
    return -1;
  words w = {out, outlen, 0, 0};
  int groups[6], n = 0;
  for (long long a = amount; a; a /= 1000)
    groups[n++] = (int)(a % 1000);
  if (!n)
    say(&w, "không");
  for (int i = n - 1; i >= 0; i--) {
    if (!groups[i])
      continue; /* 1.000.500: "một triệu năm trăm" */
    say_group(&w, groups[i], i != n - 1);
    if (i)
      say(&w, scale[i]);
  }
  say(&w, "đồng");
  if (w.full) {
    out[0] = '\0';
    return -1;
  }
  out[0] = (char)(out[0] - 'a' + 'A'); /* every digit word starts in ASCII */
  return 0;
}

/* ---- JSON ---------------------------------------------------------------- */

json_t *iv_invoice_json(const iv_invoice *in) {
  iv_invoice inv = *in;
  char err[256], number[8], phone[SP_PHONE_LEN + 1], words[512];
  if (iv_invoice_compute(&inv, err, sizeof err) ||
      sp_phone_normalize_vn(inv.buyer.phone, phone, err, sizeof err) ||
      iv_amount_words_vi(inv.total, words, sizeof words))
    return NULL;
  iv_invoice_number_format(inv.number, number);
  json_t *lines = json_array();
  for (int i = 0; lines && i < inv.nlines; i++) {
    const iv_invoice_line *l = &inv.lines[i];
    if (json_array_append_new(
            lines, json_pack("{s:i,s:s,s:s,s:I,s:I,s:I}", "no", i + 1,
                             "description", l->description, "unit", l->unit,
                             "quantity", (json_int_t)l->quantity, "unit_price",
                             (json_int_t)l->unit_price, "amount",
                             (json_int_t)l->amount))) {
      json_decref(lines);
      return NULL;
    }
  }
  json_t *buyer = json_pack("{s:s,s:s}", "name", inv.buyer.name, "phone",
                            phone);
  if (buyer && inv.buyer.id_number && *inv.buyer.id_number &&
      json_object_set_new(buyer, "id_number",
                          json_string(inv.buyer.id_number))) {
    json_decref(buyer);
    buyer = NULL;
  }
  if (!lines || !buyer) {
    json_decref(lines);
    json_decref(buyer);
    return NULL;
  }
  /* "o" steals lines and buyer (on failure too, since jansson 2.11). */
  return json_pack(
      "{s:s,s:s,s:s,s:{s:s,s:s,s:s,s:s},s:o,s:o,s:s,s:I,s:i,s:I,s:I,s:s}",
      "series", inv.series, "number", number, "issued_at", inv.issued_at,
      "seller", "ctkv", inv.seller.ctkv, "name", inv.seller.name, "address",
      inv.seller.address, "tax_code", inv.seller.tax_code, "buyer", buyer,
      "lines", lines, "currency", "VND", "subtotal", (json_int_t)inv.subtotal,
      "vat_rate", inv.vat_rate, "vat", (json_int_t)inv.vat, "total",
      (json_int_t)inv.total, "total_words", words);
}

/* ---- HTML ---------------------------------------------------------------- */

static void esc(FILE *f, const char *s) {
  for (; *s; s++)
    switch (*s) {
    case '&': fputs("&amp;", f); break;
    case '<': fputs("&lt;", f); break;
    case '>': fputs("&gt;", f); break;
    case '"': fputs("&quot;", f); break;
    case '\'': fputs("&#39;", f); break;
    default: fputc(*s, f);
    }
}

static void money(FILE *f, long long v) {
  char t[IV_AMOUNT_TEXT];
  iv_amount_format(v, t);
  fprintf(f, "%s \xe2\x82\xab", t); /* U+20AB DONG SIGN */
}

#define EN(s) " <span class=\"en\">(" s ")</span>"
#define SIGN "<i>Ký, ghi rõ họ tên</i>" EN("signature, full name")

static const char style[] =
    "body{font-family:\"Times New Roman\",Times,serif;color:#000;"
    "background:#fff;margin:0;font-size:12pt}"
    ".page{max-width:190mm;margin:10mm auto;padding:10mm;"
    "border:1px solid #999}"
    "h1{text-align:center;font-size:17pt;margin:0 0 4pt}"
    ".en{font-weight:normal;font-style:italic;font-size:.85em;color:#333}"
    ".c{text-align:center;margin:2pt 0}"
    ".party{margin-top:10pt}.party p{margin:2pt 0}"
    "table{width:100%;border-collapse:collapse;margin-top:10pt}"
    "th,td{border:1px solid #000;padding:3pt 5pt;vertical-align:top}"
    "th{background:#eee}td.n{text-align:right;white-space:nowrap}"
    ".sign{display:flex;justify-content:space-around;margin-top:20pt;"
    "text-align:center;min-height:30mm}"
    "@media print{@page{size:A4;margin:15mm}"
    ".page{border:none;margin:0;padding:0;max-width:none}"
    "th{background:none}tr{page-break-inside:avoid}}";

static void html_body(FILE *f, const iv_invoice *inv, const char *number,
                      const char *phone, const char *words) {
  const char *t = inv->issued_at;
  fputs("<h1>HÓA ĐƠN GIÁ TRỊ GIA TĂNG" EN("VAT invoice") "</h1>\n", f);
  fprintf(f, "<p class=\"c\">Ngày %.2s tháng %.2s năm %.4s" EN(
              "Date: %.10s %.8s %.6s") "</p>\n",
          t + 8, t + 5, t, t, t + 11, t + 19);
  fputs("<p class=\"c\">Ký hiệu" EN("Series") ": <b>", f);
  esc(f, inv->series);
  fprintf(f, "</b> &nbsp; Số" EN("No.") ": <b>%s</b></p>\n", number);
  fputs("<div class=\"party\">\n<p>Đơn vị bán hàng" EN("Seller") ": <b>", f);
  esc(f, inv->seller.name);
  fputs("</b> (", f);
  esc(f, inv->seller.ctkv);
  fputs(")</p>\n<p>Mã số thuế" EN("Tax code") ": ", f);
  esc(f, inv->seller.tax_code);
  fputs("</p>\n<p>Địa chỉ" EN("Address") ": ", f);
  esc(f, inv->seller.address);
  fputs("</p>\n</div>\n<div class=\"party\">\n<p>Họ tên người mua hàng" EN(
            "Buyer") ": <b>",
        f);
  esc(f, inv->buyer.name);
  fputs("</b></p>\n", f);
  if (inv->buyer.id_number && *inv->buyer.id_number) {
    fputs("<p>Số giấy tờ tùy thân" EN("ID number") ": ", f);
    esc(f, inv->buyer.id_number);
    fputs("</p>\n", f);
  }
  fprintf(f, "<p>Số điện thoại" EN("Phone") ": %s</p>\n</div>\n", phone);
  fputs("<table>\n<thead><tr><th>STT" EN("No.") "</th>"
        "<th>Tên hàng hóa, dịch vụ" EN("Description") "</th>"
        "<th>Đơn vị tính" EN("Unit") "</th><th>Số lượng" EN("Quantity")
        "</th><th>Đơn giá" EN("Unit price") "</th><th>Thành tiền" EN(
            "Amount") "</th></tr></thead>\n<tbody>\n",
        f);
  for (int i = 0; i < inv->nlines; i++) {
    const iv_invoice_line *l = &inv->lines[i];
    char q[IV_AMOUNT_TEXT];
    iv_amount_format(l->quantity, q);
    fprintf(f, "<tr><td class=\"n\">%d</td><td>", i + 1);
    esc(f, l->description);
    fputs("</td><td>", f);
    esc(f, l->unit);
    fprintf(f, "</td><td class=\"n\">%s</td><td class=\"n\">", q);
    money(f, l->unit_price);
    fputs("</td><td class=\"n\">", f);
    money(f, l->amount);
    fputs("</td></tr>\n", f);
  }
  fputs("</tbody>\n<tfoot>\n<tr><td colspan=\"5\">Cộng tiền hàng" EN(
            "Subtotal") "</td><td class=\"n\">",
        f);
  money(f, inv->subtotal);
  fprintf(f, "</td></tr>\n<tr><td colspan=\"5\">Thuế suất GTGT" EN(
              "VAT rate") ": %d%% &nbsp; Tiền thuế GTGT" EN("VAT amount")
              "</td><td class=\"n\">",
          inv->vat_rate);
  money(f, inv->vat);
  fputs("</td></tr>\n<tr><td colspan=\"5\"><b>Tổng cộng tiền thanh toán</b>" EN(
            "Total payment") "</td><td class=\"n\"><b>",
        f);
  money(f, inv->total);
  fprintf(f, "</b></td></tr>\n</tfoot>\n</table>\n<p>Số tiền viết bằng "
             "chữ" EN("Amount in words") ": <i>%s</i></p>\n",
          words);
  fputs("<div class=\"sign\"><div>Người mua hàng" EN("Buyer") "<br>"
        SIGN "</div><div>Người bán hàng" EN("Seller") "<br>" SIGN
        "</div></div>\n",
        f);
}

char *iv_invoice_html(const iv_invoice *in) {
  iv_invoice inv = *in;
  char err[256], number[8], phone[SP_PHONE_LEN + 1], words[512];
  if (iv_invoice_compute(&inv, err, sizeof err) ||
      sp_phone_normalize_vn(inv.buyer.phone, phone, err, sizeof err) ||
      iv_amount_words_vi(inv.total, words, sizeof words))
    return NULL;
  iv_invoice_number_format(inv.number, number);
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f)
    return NULL;
  fputs("<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">"
        "\n<meta name=\"viewport\" content=\"width=device-width, "
        "initial-scale=1\">\n<title>Hóa đơn GTGT ",
        f);
  esc(f, inv.series);
  fprintf(f, " %s</title>\n<style>%s</style>\n</head>\n<body>\n"
             "<div class=\"page\">\n",
          number, style);
  html_body(f, &inv, number, phone, words);
  fputs("</div>\n</body>\n</html>\n", f);
  int bad = ferror(f);
  if (fclose(f) || bad) {
    free(buf);
    return NULL;
  }
  return buf;
}
