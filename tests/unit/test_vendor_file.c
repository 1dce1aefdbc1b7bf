/* Unit tests for vendor-exchange's file formats and the bounded line
 * reader: input file round trip, output header, SIM lines, long lines. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "line_reader.h"
#include "vendor_file.h"

static char err[256];

#define KEY48 "64e8c3f9ce0f5ba263e9777905818a2a93c8191e7d6e8ae7"
#define GOOD_LINE                                                            \
  "8984017700000000003 452019100000000 1234 12345678 5678 87654321 "         \
  "31415926 " KEY48 " " KEY48

START_TEST(input_round_trip) {
  vx_input in = {.quantity = 1000, .usim = 1};
  strcpy(in.operator_name, "MobiFone");
  strcpy(in.vendor_id, "THALES-VN");
  strcpy(in.batch_id, "ORD-2026-000001-B001");
  strcpy(in.order_ref, "BCYCP-2026-0042");
  strcpy(in.transport_key_id, "THALES-VN");
  strcpy(in.graphic_ref, "BCYCP-SIMPKI");
  strcpy(in.issued_at, "2026-11-25T19:00:00Z");
  strcpy(in.first_iccid, "8984017700000000003");
  strcpy(in.first_imsi, "452019100000000");
  size_t len;
  char *text = vx_input_render(&in, &len);
  ck_assert_ptr_nonnull(strstr(text, "QUANTITY        1000\n"));
  ck_assert_ptr_nonnull(strstr(text, "OUTPUT_VARS     ICCID IMSI PIN1 PUK1 PIN2 PUK2 ADM1 KI OPC\n"));
  vx_input back;
  ck_assert_int_eq(vx_input_parse(text, len, &back, err, sizeof err), 0);
  ck_assert(!memcmp(&in, &back, sizeof in));
  /* Cut short, a repeated key, text after *END. */
  ck_assert_int_eq(vx_input_parse(text, len - 5, &back, err, sizeof err), -1);
  ck_assert_ptr_nonnull(strstr(err, "*END"));
  free(text);
  const char *twice = "*HEADER\nVENDOR A\nVENDOR B\n";
  ck_assert_int_eq(vx_input_parse(twice, strlen(twice), &back, err, sizeof err), -1);
  ck_assert_ptr_nonnull(strstr(err, "line 3: unknown or repeated key VENDOR"));
}
END_TEST

/* Found by fuzz_vendor_input: a bad line was quoted with "%.20s", reading
 * past its end, and past the buffer when the file ended there ("*X"). With
 * it: quotes are printable ASCII, and an empty SIM_TYPE no longer reads a
 * value never set. The bytes are given in a buffer of exactly their size,
 * so the sanitizer build sees a read past it. */
START_TEST(input_fuzz_regressions) {
  static const struct {
    const char *text, *reason;
  } cases[] = {
      {"*X", "line 1: unexpected \"*X\""},
      {"*HEADER\n*\x01\xc3\xa9", "line 2: unexpected \"*???\""},
      {"*HEADER\nSIM_TYPE  \n", "line 2: bad value for SIM_TYPE"},
      {"*HEADER\nSIM_TYPE  \t\x01\n", "line 2: bad value for SIM_TYPE"},
      {"*HEADER\nK\xc3\xa9Y value\n", "line 2: unknown or repeated key K??Y"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    size_t len = strlen(cases[i].text);
    char *exact = malloc(len);
    ck_assert_ptr_nonnull(exact);
    memcpy(exact, cases[i].text, len);
    vx_input in;
    ck_assert_int_eq(vx_input_parse(exact, len, &in, err, sizeof err), -1);
    ck_assert_str_eq(err, cases[i].reason);
    free(exact);
  }
}
END_TEST

static int feed_all(vx_header_reader *r, const char *text) {
  const char *p = text;
  int rc = 0;
  while (*p && rc == 0) {
    const char *nl = strchr(p, '\n');
    size_t n = nl ? (size_t)(nl - p) : strlen(p);
    rc = vx_header_feed(r, p, n, err, sizeof err);
    p += n + (nl != NULL);
  }
  return rc;
}

#define HDR(q, sha, vars)                                                     \
  "*HEADER\nBATCH           ORD-2026-000001-B001\nQUANTITY        " q         \
  "\nINPUT_SHA256    " sha "\nTRANSPORT_KEY   THALES-VN\nVARIABLES       " vars \
  "\n*DATA\n"
#define SHA "6C1F0E5D8B2A4C3E9F7A1B0D2E4F6A8C0B1D3F5E7A9C2E4F6B8D0A1C3E5F7A9B"

START_TEST(output_header) {
  vx_header_reader r;
  vx_header_reader_init(&r);
  ck_assert_int_eq(feed_all(&r, HDR("1000", SHA, "ICCID IMSI PIN1 PUK1 PIN2 PUK2 ADM1 KI OPC")), 1);
  ck_assert_int_eq(r.h.quantity, 1000);
  ck_assert_int_eq(r.h.usim, 1);
  ck_assert_str_eq(r.h.input_sha256, "6c1f0e5d8b2a4c3e9f7a1b0d2e4f6a8c0b1d3f5e7a9c2e4f6b8d0a1c3e5f7a9b");
  vx_header_reader_init(&r);
  ck_assert_int_eq(feed_all(&r, HDR("7", SHA, "ICCID IMSI PIN1 PUK1 PIN2 PUK2 ADM1 KI")), 1);
  ck_assert_int_eq(r.h.usim, 0);
  static const struct {
    const char *text, *reason;
  } bad[] = {
      {"BATCH X\n", "must start with *HEADER"},
      {HDR("0", SHA, "ICCID IMSI PIN1 PUK1 PIN2 PUK2 ADM1 KI"), "QUANTITY must be a positive"},
      {HDR("12a", SHA, "ICCID IMSI PIN1 PUK1 PIN2 PUK2 ADM1 KI"), "QUANTITY"},
      {HDR("5", "abc", "ICCID IMSI PIN1 PUK1 PIN2 PUK2 ADM1 KI"), "INPUT_SHA256 must be 64 hex"},
      {HDR("5", SHA, "ICCID IMSI KI"), "VARIABLES must be"},
      {"*HEADER\nBATCH A\nBATCH B\n", "header key BATCH given twice"},
      {"*HEADER\nCOLOUR red\n", "unknown header key COLOUR"},
      {"*HEADER\nBATCH A\n*DATA\n", "*DATA before the header gave"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    vx_header_reader_init(&r);
    err[0] = '\0';
    ck_assert_int_eq(feed_all(&r, bad[i].text), -1);
    ck_assert_msg(strstr(err, bad[i].reason) != NULL, "case %zu: %s", i, err);
  }
}
END_TEST

START_TEST(sim_lines) {
  vx_sim_line s;
  ck_assert_int_eq(vx_sim_line_parse(GOOD_LINE, strlen(GOOD_LINE), 1, &s, err, sizeof err), 0);
  ck_assert_str_eq(s.iccid, "8984017700000000003");
  ck_assert_str_eq(s.adm1, "31415926");
  ck_assert_int_eq(s.ki_wrapped[0], 0x64);
  ck_assert_int_eq(s.has_opc, 1);
  /* A 2G profile has one field fewer. */
  ck_assert_int_eq(vx_sim_line_parse(GOOD_LINE, strlen(GOOD_LINE), 0, &s, err, sizeof err), -1);
  ck_assert_ptr_nonnull(strstr(err, "9 fields, expected 8"));
  static const struct {
    const char *line, *reason;
  } bad[] = {
      {"", "0 fields"},
      {"898401770000000000 452019100000000 1234 12345678 5678 87654321 31415926 " KEY48 " " KEY48, "ICCID must be 19 to 20"},
      {"8984017700000000003 45201910000000 1234 12345678 5678 87654321 31415926 " KEY48 " " KEY48, "IMSI must be 15"},
      {"8984017700000000003 452019100000000 12a4 12345678 5678 87654321 31415926 " KEY48 " " KEY48, "PIN1 must be 4 to 8"},
      {"8984017700000000003 452019100000000 1234 1234567 5678 87654321 31415926 " KEY48 " " KEY48, "PUK1 must be 8"},
      {"8984017700000000003 452019100000000 1234 12345678 5678 87654321 3141592 " KEY48 " " KEY48, "ADM1 must be 8"},
      {"8984017700000000003 452019100000000 1234 12345678 5678 87654321 31415926 " KEY48 "0 " KEY48, "KI must be 48 hex"},
      {"8984017700000000003 452019100000000 1234 12345678 5678 87654321 31415926 " KEY48 " zz" KEY48, "OPC must be 48"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    memset(&s, 0x55, sizeof s);
    ck_assert_int_eq(vx_sim_line_parse(bad[i].line, strlen(bad[i].line), 1, &s, err, sizeof err), -1);
    ck_assert_msg(strstr(err, bad[i].reason) != NULL, "case %zu: %s", i, err);
    /* Nothing half-parsed stays behind (fuzz_vendor_output found this). */
    const unsigned char *b = (const unsigned char *)&s;
    for (size_t k = 0; k < sizeof s; k++)
      ck_assert_msg(b[k] == 0, "case %zu: byte %zu left", i, k);
  }
}
END_TEST

static int read_all(const char *data, size_t n, size_t max, char lines[][64],
                    int *count) {
  FILE *fp = fmemopen((void *)data, n, "rb");
  vx_line_reader r;
  vx_line_reader_init(&r, fp, max);
  const char *l;
  size_t len;
  int rc;
  *count = 0;
  while ((rc = vx_line_next(&r, &l, &len, err, sizeof err)) == 1) {
    snprintf(lines[*count], 64, "%.*s", (int)len, l);
    (*count)++;
  }
  vx_line_reader_free(&r);
  fclose(fp);
  return rc;
}

START_TEST(line_reader) {
  char lines[8][64];
  int n;
  const char crlf[] = "a\r\nbb\r\n\r\nlast";
  ck_assert_int_eq(read_all(crlf, sizeof crlf - 1, 16, lines, &n), 0);
  ck_assert_int_eq(n, 4);
  ck_assert_str_eq(lines[1], "bb");
  ck_assert_str_eq(lines[2], "");
  ck_assert_str_eq(lines[3], "last");
  char longl[200];
  memset(longl, 'x', sizeof longl);
  longl[10] = '\n';
  ck_assert_int_eq(read_all(longl, sizeof longl, 64, lines, &n), -1);
  ck_assert_int_eq(n, 1);
  ck_assert_str_eq(err, "line 2 is longer than 64 bytes");
  const char nul[] = "ok\nbad\0line\n";
  ck_assert_int_eq(read_all(nul, sizeof nul - 1, 64, lines, &n), -1);
  ck_assert_ptr_nonnull(strstr(err, "line 2 holds a NUL byte"));
  /* Exactly at the limit, with and without CR. */
  char edge[64 + 3];
  memset(edge, 'y', 64);
  memcpy(edge + 64, "\r\n", 2);
  ck_assert_int_eq(read_all(edge, 66, 64, lines, &n), 0);
  ck_assert_int_eq(n, 1);
}
END_TEST

int main(void) {
  Suite *s = suite_create("vendor_file");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, input_round_trip);
  tcase_add_test(tc, input_fuzz_regressions);
  tcase_add_test(tc, output_header);
  tcase_add_test(tc, sim_lines);
  tcase_add_test(tc, line_reader);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
