/* fuzz_http_accounts - the bodies of the accounts API (a customer's
 * browser sends them, nobody vouches for them): the first byte picks
 * POST /v1/accounts/login, /v1/accounts/recovery or
 * /v1/accounts/recovery/verify, the rest is the body, loaded as the
 * handler loads it. ac_request_from_body and ac_request_check, then what
 * the request's secrets meet before any database: the captcha's answer
 * (a fresh local challenge), the OTP against a stored hash
 * (ac_otp_verify), the password against a stored scrypt hash
 * (ac_password_verify; cheap parameters made here, the parsing is the
 * same).
 *
 * Invariants: a checked request has a canonical login and the fields its
 * kind needs, cert_type personal or organization; a refused one leaves
 * login empty; the captcha takes exactly its answer in 1 to 3 digits with
 * blanks around, and only once; an OTP matches only the one issued, and
 * only for its login; a password matches only itself. */
#include <ctype.h>
#include <openssl/evp.h>

#include "account.h"
#include "captcha.h"
#include "crypto.h"
#include "fuzz.h"
#include "secret.h"

#define PASSWORD "Abc234def567"
#define OTP "042917"

static ac_captcha *captcha;
static char stored_pw[AC_PASSWORD_HASH_MAX];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  json_object_seed(1);
  captcha = ac_captcha_local_new(300, NULL);
  FZ_CHECK(captcha, "captcha");
  /* The stored form of PASSWORD at N=2, r=1, p=1: the parser and the
   * comparison are the production ones, the hashing takes microseconds. */
  static const unsigned char salt[AC_SCRYPT_SALT_BYTES] = "simpki-fuzz-salt";
  unsigned char key[AC_SCRYPT_KEY_BYTES];
  FZ_CHECK(EVP_PBE_scrypt(PASSWORD, strlen(PASSWORD), salt, sizeof salt, 2, 1,
                          1, 0, key, sizeof key) == 1,
           "scrypt");
  char salthex[2 * sizeof salt + 1], keyhex[2 * sizeof key + 1];
  sp_hex_encode(salt, sizeof salt, salthex);
  sp_hex_encode(key, sizeof key, keyhex);
  snprintf(stored_pw, sizeof stored_pw, "scrypt$N=2,r=1,p=1$%s$%s", salthex,
           keyhex);
  FZ_CHECK(ac_password_verify(PASSWORD, stored_pw) == 1, "the stored hash");
  return 0;
}

/* What the local captcha should make of answer: its value, or -1. */
static int typed(const char *s) {
  while (isspace((unsigned char)*s))
    s++;
  int v = 0, n = 0;
  while (*s >= '0' && *s <= '9' && n < 4)
    v = v * 10 + (*s++ - '0'), n++;
  while (isspace((unsigned char)*s))
    s++;
  return n >= 1 && n <= 3 && !*s ? v : -1;
}

static void check_captcha(const char *answer) {
  char id[AC_CAPTCHA_ID_MAX], q[AC_CAPTCHA_QUESTION_MAX], err[256];
  FZ_CHECK(ac_captcha_challenge(captcha, id, sizeof id, q, sizeof q, err,
                                sizeof err) == 0,
           err);
  int right = ac_captcha_local_solve(q);
  FZ_CHECK(right >= 0 && right <= 81, q);
  int ok = ac_captcha_check(captcha, id, answer);
  FZ_CHECK(ok == (typed(answer) == right), answer);
  char again[8];
  snprintf(again, sizeof again, "%d", right);
  FZ_CHECK(ac_captcha_check(captcha, id, again) == 0, "a challenge used twice");
}

static void check_otp(const char *otp, const char *login) {
  char stored[AC_OTP_HASH_LEN + 1];
  FZ_CHECK(ac_otp_hash(OTP, login, stored, sizeof stored) == 0, "otp hash");
  int v = ac_otp_verify(otp, login, stored);
  FZ_CHECK(v == !strcmp(otp, OTP), otp);
  FZ_CHECK(ac_otp_verify(otp, "84999999999", stored) == 0,
           "an OTP of another login");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  ac_req_kind kind = (ac_req_kind)(data[0] % 3);
  json_error_t je;
  json_t *body =
      json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, &je);
  if (!json_is_object(body)) { /* the handler answers 400 itself */
    json_decref(body);
    return 0;
  }
  ac_request r;
  ac_request_from_body(body, kind, &r);
  FZ_CHECK(r.kind == kind, "kind");
  FZ_CHECK(kind == AC_REQ_LOGIN || !r.password, "password");
  FZ_CHECK(kind == AC_REQ_RECOVERY ||
               (!r.cert_type && !r.id_number && !r.captcha_answer),
           "recovery fields");
  FZ_CHECK(kind == AC_REQ_VERIFY || !r.otp, "otp");
  if (kind == AC_REQ_RECOVERY && r.captcha_answer)
    check_captcha(r.captcha_answer);

  char login[SP_PHONE_LEN + 1];
  memset(login, 'U', sizeof login);
  if (ac_request_check(&r, login) != AC_OK) {
    FZ_CHECK(login[0] == '\0', "a refused request kept its login");
    json_decref(body);
    return 0;
  }
  FZ_CHECK(fz_phone_canonical(login), login);
  switch (kind) {
  case AC_REQ_LOGIN:
    FZ_CHECK(r.password, "no password");
    FZ_CHECK(ac_password_verify(r.password, stored_pw) ==
                 !strcmp(r.password, PASSWORD),
             r.password);
    break;
  case AC_REQ_RECOVERY:
    FZ_CHECK(r.id_number && r.cert_type &&
                 (!strcmp(r.cert_type, "personal") ||
                  !strcmp(r.cert_type, "organization")),
             "cert_type");
    break;
  case AC_REQ_VERIFY:
    FZ_CHECK(r.otp, "no otp");
    check_otp(r.otp, login);
  }
  json_decref(body);
  return 0;
}
