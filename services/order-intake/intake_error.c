/* intake_error.c - codes and HTTP statuses of order-intake's refusals. */
#include "intake_error.h"

static const struct {
  const char *code;
  int status;
} errors[] = {
    [OI_OK] = {"ok", 200},
    [OI_BAD_DOCUMENT] = {"bad_document", 400},
    [OI_BAD_SIGNATURE] = {"bad_signature", 422},
    [OI_BAD_QUANTITY] = {"bad_quantity", 422},
    [OI_UNKNOWN_VENDOR] = {"unknown_vendor", 422},
    [OI_NO_AGREEMENT] = {"no_agreement", 422},
    [OI_BAD_PILOT] = {"bad_pilot_size", 422},
    [OI_VENDOR_REFUSED] = {"vendor_blocked", 422},
    [OI_CONFLICT] = {"conflict", 409},
    [OI_BAD_STATE] = {"bad_state", 409},
    [OI_NOT_FOUND] = {"not_found", 404},
    [OI_BAD_FILE] = {"bad_file", 400},
    [OI_DUPLICATE] = {"duplicate", 409},
    [OI_INTERNAL] = {"internal", 503},
};

const char *oi_error_code(oi_error e) {
  return (unsigned)e < sizeof errors / sizeof *errors ? errors[e].code
                                                      : "internal";
}

int oi_error_http_status(oi_error e) {
  return (unsigned)e < sizeof errors / sizeof *errors ? errors[e].status
                                                      : 500;
}
