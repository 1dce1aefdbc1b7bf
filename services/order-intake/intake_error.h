/* intake_error.h - why order-intake refuses an input, and what each reason
 * means to an HTTP caller and to the CLI. */
#ifndef OI_INTAKE_ERROR_H
#define OI_INTAKE_ERROR_H

typedef enum {
  OI_OK = 0,
  OI_BAD_DOCUMENT,     /* not JSON, fails the schema */
  OI_BAD_SIGNATURE,    /* unsigned, or sigverify did not pass it */
  OI_BAD_QUANTITY,     /* zero, negative or above the limit */
  OI_UNKNOWN_VENDOR,
  OI_NO_AGREEMENT,     /* new vendor without a confidentiality agreement */
  OI_BAD_PILOT,        /* pilot outside 5..10 SIMs */
  OI_VENDOR_REFUSED,   /* blocked: its pilot failed */
  OI_CONFLICT,         /* same reference, another document */
  OI_BAD_STATE,        /* the action does not fit the current state */
  OI_NOT_FOUND,
  OI_BAD_FILE,         /* registration file: encoding, columns, values */
  OI_DUPLICATE,        /* registration: a person listed twice or already open */
  OI_INTERNAL          /* database or broker trouble: retry later */
} oi_error;

/* A stable snake_case code for JSON bodies and events. */
const char *oi_error_code(oi_error e);
/* The HTTP status for it (4xx for the caller's input, 503 for internal). */
int oi_error_http_status(oi_error e);

#endif
