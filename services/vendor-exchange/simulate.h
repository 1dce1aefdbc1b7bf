/* simulate.h - a SIM vendor, for tests, benchmarks and the local run: read
 * an input file, produce the output file a vendor would return, with random
 * keys wrapped under the transport key, and optionally one named defect. */
#ifndef VX_SIMULATE_H
#define VX_SIMULATE_H

#include <stdio.h>

#include "vendor_file.h"

typedef enum {
  VX_DEFECT_NONE = 0,
  VX_DEFECT_DUPLICATE_ICCID, /* a line repeats the one before it */
  VX_DEFECT_BAD_LUHN,        /* an ICCID's check digit is wrong */
  VX_DEFECT_OUT_OF_RANGE,    /* an ICCID/IMSI pair past the batch's range */
  VX_DEFECT_SWAPPED_PAIR,    /* an ICCID paired with its neighbour's IMSI */
  VX_DEFECT_SHORT,           /* one SIM line missing */
  VX_DEFECT_EXTRA,           /* one SIM line too many */
  VX_DEFECT_WRONG_KEY,       /* keys wrapped under another transport key */
  VX_DEFECT_FLIPPED_BIT,     /* one bit of one wrapped Ki changed */
  VX_DEFECT_BAD_HEADER,      /* INPUT_SHA256 does not match the input */
  VX_DEFECT_LYING_QUANTITY,  /* QUANTITY says one more than there are */
  VX_DEFECT_UNKNOWN_BATCH,   /* BATCH names a batch that does not exist */
  VX_DEFECT_BAD_PIN,         /* a PIN1 of 3 digits */
  VX_DEFECT_NON_ASCII_DIGIT, /* a fullwidth digit inside an IMSI */
  VX_DEFECT_LONG_LINE,       /* a 1 MB line */
  VX_DEFECT_MISSING_END,     /* no *END line */
  VX_DEFECT_COUNT
} vx_defect;

const char *vx_defect_name(vx_defect d);
/* -1 when the name is unknown. */
int vx_defect_parse(const char *name, vx_defect *out);

typedef struct vx_sim_options {
  vx_defect defect;
  int crlf;              /* CRLF line ends and a trailing blank line */
  FILE *reveal;          /* when set: "ICCID KI OPC" in hex per SIM (tests) */
} vx_sim_options;

/* Write the output file answering the input file (its bytes in input, so
 * the header can carry their SHA-256) to out. tk is the vendor's transport
 * key. *defect_line gets the line the defect is on (0: none/whole file). */
int vx_simulate(const char *input, size_t input_len,
                const unsigned char tk[32], const vx_sim_options *opt,
                FILE *out, long *defect_line, char *errstr, size_t errlen);

#endif
