/* vendor_file.h - the two files exchanged with a SIM vendor (B3, B4).
 * Pure: formatting and parsing only, no I/O. docs/vendor-files.md describes
 * both formats with samples.
 *
 * Input file (MobiFone -> vendor): sections *HEADER, *VARIABLES, *END, one
 * "KEY value" per line. Output file (vendor -> MobiFone): *HEADER (the
 * batch, the quantity, the SHA-256 of the input file it answers, the
 * transport key id and the variable names), *DATA with one line per SIM,
 * then *END. CRLF line ends and one trailing blank line are accepted. */
#ifndef VX_VENDOR_FILE_H
#define VX_VENDOR_FILE_H

#include <stddef.h>

#define VX_MAX_LINE 1024      /* longer lines are refused, never buffered */
#define VX_WRAPPED_KEY 24     /* a 16-byte key under RFC 3394 key wrap */
#define VX_KEY 16

typedef struct vx_input {
  char operator_name[32];
  char vendor_id[33];
  char batch_id[96];
  char order_ref[65];
  long quantity;
  int usim;                   /* 1: USIM MILENAGE (Ki + OPc), 0: 2G COMP128 */
  char transport_key_id[65];
  char graphic_ref[65];
  char issued_at[32];         /* RFC 3339 */
  char first_iccid[21];       /* with its Luhn digit */
  char first_imsi[16];
} vx_input;

/* Render the input file; malloc'd text, *len set. */
char *vx_input_render(const vx_input *in, size_t *len);
/* Parse one (the vendor simulator reads it); -1 with the line and reason. */
int vx_input_parse(const char *buf, size_t len, vx_input *out, char *errstr,
                   size_t errlen);
/* The variables a vendor returns per SIM for this profile. */
const char *vx_output_variables(int usim);

typedef struct vx_output_header {
  char batch_id[96];
  long quantity;
  char input_sha256[65];
  char transport_key_id[65];
  int usim;                   /* from the VARIABLES line: OPC present */
} vx_output_header;

/* Line-by-line reading of the output file's header. Feed each line
 * (without its end of line); returns 0 while more header lines are
 * expected, 1 once "*DATA" closed a complete header, -1 on error. */
typedef struct vx_header_reader {
  vx_output_header h;
  int state;                  /* internal */
  unsigned seen;              /* internal: fields seen */
} vx_header_reader;
void vx_header_reader_init(vx_header_reader *r);
int vx_header_feed(vx_header_reader *r, const char *line, size_t len,
                   char *errstr, size_t errlen);

/* One SIM line of *DATA, decoded but not yet checked against the batch. */
typedef struct vx_sim_line {
  char iccid[21], imsi[16];
  char pin1[9], puk1[9], pin2[9], puk2[9], adm1[9];
  unsigned char ki_wrapped[VX_WRAPPED_KEY];
  unsigned char opc_wrapped[VX_WRAPPED_KEY];
  int has_opc;
} vx_sim_line;

/* Split and check the syntax of one data line: field count for the
 * profile, ASCII digits of the right lengths (PIN 4-8, PUK 8, ADM1 8),
 * keys as 48 hex digits. -1 with the field and reason. */
int vx_sim_line_parse(const char *line, size_t len, int usim, vx_sim_line *out,
                      char *errstr, size_t errlen);

#endif
