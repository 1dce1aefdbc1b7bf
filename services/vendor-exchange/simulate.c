/* simulate.c - the vendor simulator. */
#include "simulate.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#include "crypto.h"
#include "event.h"
#include "numbering.h"

static const char *const defect_names[VX_DEFECT_COUNT] = {
    [VX_DEFECT_NONE] = "none",
    [VX_DEFECT_DUPLICATE_ICCID] = "duplicate-iccid",
    [VX_DEFECT_BAD_LUHN] = "bad-luhn",
    [VX_DEFECT_OUT_OF_RANGE] = "out-of-range",
    [VX_DEFECT_SWAPPED_PAIR] = "swapped-pair",
    [VX_DEFECT_SHORT] = "short",
    [VX_DEFECT_EXTRA] = "extra",
    [VX_DEFECT_WRONG_KEY] = "wrong-key",
    [VX_DEFECT_FLIPPED_BIT] = "flipped-bit",
    [VX_DEFECT_BAD_HEADER] = "bad-header",
    [VX_DEFECT_LYING_QUANTITY] = "lying-quantity",
    [VX_DEFECT_UNKNOWN_BATCH] = "unknown-batch",
    [VX_DEFECT_BAD_PIN] = "bad-pin",
    [VX_DEFECT_NON_ASCII_DIGIT] = "non-ascii-digit",
    [VX_DEFECT_LONG_LINE] = "long-line",
    [VX_DEFECT_MISSING_END] = "missing-end",
};

const char *vx_defect_name(vx_defect d) {
  return (unsigned)d < VX_DEFECT_COUNT ? defect_names[d] : "?";
}

int vx_defect_parse(const char *name, vx_defect *out) {
  for (int i = 0; i < VX_DEFECT_COUNT; i++)
    if (!strcmp(name, defect_names[i])) {
      *out = (vx_defect)i;
      return 0;
    }
  return -1;
}

/* Random decimal digits. */
static void digits(char *out, size_t n) {
  unsigned char r[16];
  RAND_bytes(r, (int)n);
  for (size_t i = 0; i < n; i++)
    out[i] = (char)('0' + r[i] % 10);
  out[n] = '\0';
}

static int wrap_hex(const unsigned char tk[32], const unsigned char key[16],
                    char out[2 * 24 + 1], char *errstr, size_t errlen) {
  unsigned char w[24];
  size_t wl = 0;
  if (sp_keywrap(tk, key, 16, w, &wl, errstr, errlen))
    return -1;
  sp_hex_encode(w, wl, out);
  return 0;
}

int vx_simulate(const char *input, size_t input_len,
                const unsigned char tk[32], const vx_sim_options *opt,
                FILE *out, long *defect_line, char *errstr, size_t errlen) {
  vx_input in;
  if (vx_input_parse(input, input_len, &in, errstr, errlen))
    return -1;
  long long iccid0, imsi0;
  char why[200];
  if (vx_iccid_parse(in.first_iccid, strlen(in.first_iccid), &iccid0, why,
                     sizeof why) ||
      vx_imsi_parse(in.first_imsi, strlen(in.first_imsi), &imsi0, why,
                    sizeof why)) {
    snprintf(errstr, errlen, "the input file's first numbers: %s", why);
    return -1;
  }
  char sha[65];
  sp_sha256_hex(input, input_len, sha);
  const vx_defect d = opt->defect;
  const char *eol = opt->crlf ? "\r\n" : "\n";
  unsigned char wrong_tk[32];
  RAND_bytes(wrong_tk, sizeof wrong_tk);
  const unsigned char *use_tk = d == VX_DEFECT_WRONG_KEY ? wrong_tk : tk;
  if (d == VX_DEFECT_BAD_HEADER)
    sha[0] = sha[0] == '0' ? '1' : '0';
  long quantity = in.quantity;
  *defect_line = 0;
  fprintf(out, "*HEADER%sBATCH           %s%s", eol,
          d == VX_DEFECT_UNKNOWN_BATCH ? "ORD-1999-999999-B999" : in.batch_id,
          eol);
  fprintf(out, "QUANTITY        %ld%s", quantity + (d == VX_DEFECT_LYING_QUANTITY), eol);
  fprintf(out, "INPUT_SHA256    %s%s", sha, eol);
  fprintf(out, "TRANSPORT_KEY   %s%s", in.transport_key_id, eol);
  fprintf(out, "VARIABLES       %s%s*DATA%s", vx_output_variables(in.usim),
          eol, eol);
  if (d == VX_DEFECT_BAD_HEADER)
    *defect_line = 4;
  const long first_line = 8; /* the data's first line number */
  long at = quantity / 2;    /* where a line defect goes */
  long lines = quantity + (d == VX_DEFECT_EXTRA) - (d == VX_DEFECT_SHORT);
  char prev[512] = "";
  int rc = 0;
  for (long i = 0; i < lines && rc == 0; i++) {
    long k = i;                       /* which SIM this line is for */
    if (d == VX_DEFECT_SHORT && i >= at)
      k = i + 1;                      /* skip SIM "at" */
    long long iccid = iccid0 + k, imsi = imsi0 + k;
    if (d == VX_DEFECT_EXTRA && i == lines - 1) {
      iccid = iccid0 + quantity, imsi = imsi0 + quantity;
      *defect_line = first_line + i;
    }
    if (i == at) {
      if (d == VX_DEFECT_OUT_OF_RANGE)
        iccid = iccid0 + quantity + 5, imsi = imsi0 + quantity + 5;
      if (d == VX_DEFECT_SWAPPED_PAIR)
        imsi = imsi0 + (k + 1) % quantity;
    }
    char ic[21], im[16], pin1[9], puk1[9], pin2[9], puk2[9], adm1[9];
    vx_iccid_format(iccid, ic);
    vx_imsi_format(imsi, im);
    digits(pin1, 4), digits(puk1, 8), digits(pin2, 4), digits(puk2, 8);
    digits(adm1, 8);
    unsigned char ki[16], opc[16];
    RAND_bytes(ki, 16);
    RAND_bytes(opc, 16);
    char ki_w[49], opc_w[49] = "";
    if (wrap_hex(use_tk, ki, ki_w, errstr, errlen) ||
        (in.usim && wrap_hex(use_tk, opc, opc_w, errstr, errlen))) {
      rc = -1;
      break;
    }
    if (opt->reveal) {
      char kh[33], oh[33];
      sp_hex_encode(ki, 16, kh);
      sp_hex_encode(opc, 16, oh);
      fprintf(opt->reveal, "%s %s %s\n", ic, kh, in.usim ? oh : "-");
    }
    sp_wipe(ki, sizeof ki);
    sp_wipe(opc, sizeof opc);
    if (i == at) {
      switch (d) {
      case VX_DEFECT_BAD_LUHN:
        ic[strlen(ic) - 1] = ic[strlen(ic) - 1] == '0' ? '1' : '0';
        break;
      case VX_DEFECT_BAD_PIN:
        pin1[3] = '\0';
        break;
      case VX_DEFECT_FLIPPED_BIT:
        ki_w[10] = ki_w[10] == '0' ? '1' : '0';
        break;
      default:
        break;
      }
    }
    char line[512];
    int n;
    if (i == at && d == VX_DEFECT_NON_ASCII_DIGIT)
      /* U+FF11 FULLWIDTH DIGIT ONE in place of the IMSI's last digit */
      n = snprintf(line, sizeof line, "%s %.14s\xef\xbc\x91 %s %s %s %s %s %s%s%s",
                   ic, im, pin1, puk1, pin2, puk2, adm1, ki_w,
                   in.usim ? " " : "", opc_w);
    else
      n = snprintf(line, sizeof line, "%s %s %s %s %s %s %s %s%s%s", ic, im,
                   pin1, puk1, pin2, puk2, adm1, ki_w, in.usim ? " " : "",
                   opc_w);
    (void)n;
    if (i == at && d == VX_DEFECT_DUPLICATE_ICCID && i > 0) {
      fprintf(out, "%s%s", prev, eol); /* the previous SIM once more */
      *defect_line = first_line + i;
      continue;
    }
    if (i == at && d == VX_DEFECT_LONG_LINE) {
      for (int j = 0; j < 1024 * 1024; j++)
        fputc('7', out);
      fputs(eol, out);
      *defect_line = first_line + i;
      continue;
    }
    if (i == at && (d == VX_DEFECT_BAD_LUHN || d == VX_DEFECT_BAD_PIN ||
                    d == VX_DEFECT_FLIPPED_BIT || d == VX_DEFECT_OUT_OF_RANGE ||
                    d == VX_DEFECT_SWAPPED_PAIR || d == VX_DEFECT_NON_ASCII_DIGIT))
      *defect_line = first_line + i;
    if (i == at && d == VX_DEFECT_SHORT)
      *defect_line = 0;
    fprintf(out, "%s%s", line, eol);
    snprintf(prev, sizeof prev, "%s", line);
  }
  if (rc == 0 && d == VX_DEFECT_WRONG_KEY)
    *defect_line = first_line;
  if (rc == 0 && d != VX_DEFECT_MISSING_END)
    fprintf(out, "*END%s%s", eol, opt->crlf ? eol : "");
  sp_wipe(wrong_tk, sizeof wrong_tk);
  if (rc == 0 && ferror(out)) {
    snprintf(errstr, errlen, "cannot write the output file");
    rc = -1;
  }
  return rc;
}
