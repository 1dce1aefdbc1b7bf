/* Unit tests for the accounts service's secrets (secret.c: passwords,
 * scrypt hashes, OTPs) and the local captcha (captcha.c). */
#include <check.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "account.h"
#include "captcha.h"
#include "crypto.h"
#include "secret.h"

static char err[256];

/* ---- Passwords ------------------------------------------------------- */

START_TEST(password_alphabet_and_length) {
  for (int i = 0; i < 2000; i++) {
    char pw[AC_PASSWORD_LEN + 1];
    int digit = 0, letter = 0;
    ck_assert_int_eq(ac_password_new(pw), 0);
    ck_assert_uint_eq(strlen(pw), AC_PASSWORD_LEN);
    for (int k = 0; k < AC_PASSWORD_LEN; k++) {
      ck_assert_ptr_nonnull(strchr(AC_PASSWORD_ALPHABET, pw[k]));
      ck_assert_ptr_null(strchr("0Oo1lI", pw[k]));
      if (pw[k] >= '0' && pw[k] <= '9')
        digit = 1;
      else
        letter = 1;
    }
    ck_assert(digit && letter);
  }
}
END_TEST

START_TEST(passwords_distinct) {
  enum { N = 1000 };
  static char pw[N][AC_PASSWORD_LEN + 1];
  for (int i = 0; i < N; i++) {
    ck_assert_int_eq(ac_password_new(pw[i]), 0);
    for (int j = 0; j < i; j++)
      ck_assert_str_ne(pw[i], pw[j]);
  }
}
END_TEST

START_TEST(password_round_trip) {
  char h[AC_PASSWORD_HASH_MAX], h2[AC_PASSWORD_HASH_MAX];
  ck_assert_int_eq(
      ac_password_hash("Xk7pQ2mz9RtA", h, sizeof h, err, sizeof err), 0);
  ck_assert_uint_eq(strlen(h), strlen("scrypt$N=16384,r=8,p=1$") + 32 + 1 + 64);
  ck_assert(!strncmp(h, "scrypt$N=16384,r=8,p=1$", 23));
  ck_assert_int_eq(ac_password_verify("Xk7pQ2mz9RtA", h), 1);
  ck_assert_int_eq(ac_password_verify("Xk7pQ2mz9Rta", h), 0);
  ck_assert_int_eq(ac_password_verify("", h), 0);
  ck_assert_int_eq(ac_password_verify(NULL, h), 0);
  /* A fresh salt each time. */
  ck_assert_int_eq(
      ac_password_hash("Xk7pQ2mz9RtA", h2, sizeof h2, err, sizeof err), 0);
  ck_assert_str_ne(h, h2);
  ck_assert_int_eq(ac_password_verify("Xk7pQ2mz9RtA", h2), 1);
  /* Tampering with the key or the salt: well formed, no match. */
  size_t last = strlen(h) - 1;
  h[last] = h[last] == '0' ? '1' : '0';
  ck_assert_int_eq(ac_password_verify("Xk7pQ2mz9RtA", h), 0);
  strcpy(h, h2);
  h[23] = h[23] == 'a' ? 'b' : 'a';
  ck_assert_int_eq(ac_password_verify("Xk7pQ2mz9RtA", h), 0);
}
END_TEST

START_TEST(password_hash_errors) {
  char h[AC_PASSWORD_HASH_MAX], big[AC_PASSWORD_MAX_BYTES + 2];
  strcpy(h, "x");
  ck_assert_int_eq(ac_password_hash("", h, sizeof h, err, sizeof err), -1);
  ck_assert_str_eq(h, "");
  ck_assert_int_eq(ac_password_hash(NULL, h, sizeof h, err, sizeof err), -1);
  memset(big, 'a', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  ck_assert_int_eq(ac_password_hash(big, h, sizeof h, err, sizeof err), -1);
  ck_assert_int_eq(ac_password_hash("secretpw99", h, 64, err, sizeof err), -1);
  ck_assert_ptr_null(strstr(err, "secretpw99"));
  /* The longest accepted password works. */
  big[AC_PASSWORD_MAX_BYTES] = '\0';
  ck_assert_int_eq(ac_password_hash(big, h, sizeof h, err, sizeof err), 0);
  ck_assert_int_eq(ac_password_verify(big, h), 1);
}
END_TEST

/* A stored string made here, with any parameters. */
static void build(char *out, size_t outlen, const char *pw, uint64_t n,
                  uint64_t r, uint64_t p) {
  unsigned char salt[16] = "0123456789abcdef", key[32];
  char sh[33], kh[65];
  ck_assert_int_eq(EVP_PBE_scrypt(pw, strlen(pw), salt, sizeof salt, n, r, p, 0,
                                  key, sizeof key),
                   1);
  sp_hex_encode(salt, sizeof salt, sh);
  sp_hex_encode(key, sizeof key, kh);
  snprintf(out, outlen, "scrypt$N=%llu,r=%llu,p=%llu$%s$%s",
           (unsigned long long)n, (unsigned long long)r, (unsigned long long)p,
           sh, kh);
}

START_TEST(password_parameters_from_string) {
  char h[AC_PASSWORD_HASH_MAX];
  build(h, sizeof h, "hunter2Z", 1024, 8, 1);
  ck_assert_int_eq(ac_password_verify("hunter2Z", h), 1);
  ck_assert_int_eq(ac_password_verify("hunter2z", h), 0);
  build(h, sizeof h, "hunter2Z", 2048, 4, 2);
  ck_assert_int_eq(ac_password_verify("hunter2Z", h), 1);
  /* The same key under other parameters than it was made with. */
  build(h, sizeof h, "hunter2Z", 1024, 8, 1);
  char *n = strstr(h, "1024");
  memcpy(n, "2048", 4);
  ck_assert_int_eq(ac_password_verify("hunter2Z", h), 0);
}
END_TEST

START_TEST(password_malformed) {
  const char *key = "$30313233343536373839616263646566"
                    "$00112233445566778899aabbccddeeff"
                    "00112233445566778899aabbccddeeff";
  static const char *const params[] = {
      "N=1000,r=8,p=1", /* not a power of two */
      "N=0,r=8,p=1",
      "N=1,r=8,p=1",
      "N=2097152,r=8,p=1",  /* 2^21 */
      "N=1048576,r=16,p=1", /* 2 GiB */
      "N=16384,r=0,p=1",
      "N=16384,r=8,p=0",
      "N=16384,r=8,p=9", /* r*p = 72 */
      "N=016384,r=8,p=1",
      "N=+16384,r=8,p=1",
      "N=16384,r=8",
      "N=16384,p=1,r=8",
      "n=16384,r=8,p=1",
      "N=16384, r=8,p=1",
      "N=99999999999999999999,r=8,p=1",
      ""};
  char h[400];
  for (size_t i = 0; i < sizeof params / sizeof *params; i++) {
    snprintf(h, sizeof h, "scrypt$%s%s", params[i], key);
    ck_assert_msg(ac_password_verify("pw", h) == -1, "%s", h);
  }
  /* The good parameters with the same tail: well formed. */
  snprintf(h, sizeof h, "scrypt$N=1024,r=8,p=1%s", key);
  ck_assert_int_eq(ac_password_verify("pw", h), 0);
  static const char *const bad[] = {
      NULL, "", "scrypt", "scrypt$N=1024,r=8,p=1", "scrypt$N=1024,r=8,p=1$",
      "scrypt$N=1024,r=8,p=1$30313233343536373839616263646566",
      "scrypt$N=1024,r=8,p=1$30313233343536373839616263646566$",
      "bcrypt$N=1024,r=8,p=1$30313233343536373839616263646566$"
      "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
      /* non-hex salt, non-hex key */
      "scrypt$N=1024,r=8,p=1$3031323334353637383961626364656g$"
      "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
      "scrypt$N=1024,r=8,p=1$30313233343536373839616263646566$"
      "00112233445566778899aabbccddeeff00112233445566778899aabbccddeefz",
      /* short salt, long key, trailing field */
      "scrypt$N=1024,r=8,p=1$303132333435363738396162636465$"
      "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
      "scrypt$N=1024,r=8,p=1$30313233343536373839616263646566$"
      "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00",
      "scrypt$N=1024,r=8,p=1$30313233343536373839616263646566$"
      "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff$"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    ck_assert_msg(ac_password_verify("pw", bad[i]) == -1, "%zu", i);
}
END_TEST

/* ---- OTPs --------------------------------------------------------------- */

START_TEST(otp_digits_uniform) {
  enum { DRAWS = 20000 };
  int count[AC_OTP_LEN][10] = {{0}};
  for (int i = 0; i < DRAWS; i++) {
    char otp[AC_OTP_LEN + 1];
    ck_assert_int_eq(ac_otp_new(otp), 0);
    ck_assert_uint_eq(strlen(otp), AC_OTP_LEN);
    for (int k = 0; k < AC_OTP_LEN; k++) {
      ck_assert(otp[k] >= '0' && otp[k] <= '9');
      count[k][otp[k] - '0']++;
    }
  }
  /* Each cell expects 2000 with a standard deviation of about 42: 1700 and
   * 2300 are seven deviations away, so a fair generator never fails. */
  for (int k = 0; k < AC_OTP_LEN; k++)
    for (int d = 0; d < 10; d++)
      ck_assert_msg(count[k][d] > 1700 && count[k][d] < 2300,
                    "position %d digit %d: %d", k, d, count[k][d]);
}
END_TEST

START_TEST(otp_round_trip) {
  char h[AC_OTP_HASH_LEN + 1], h2[AC_OTP_HASH_LEN + 1];
  ck_assert_int_eq(ac_otp_hash("042917", "84901234567", h, sizeof h), 0);
  ck_assert_uint_eq(strlen(h), AC_OTP_HASH_LEN);
  ck_assert_int_eq(h[32], '$');
  ck_assert_ptr_null(strstr(h, "042917"));
  ck_assert_int_eq(ac_otp_verify("042917", "84901234567", h), 1);
  ck_assert_int_eq(ac_otp_verify("042918", "84901234567", h), 0);
  ck_assert_int_eq(ac_otp_verify("042917", "84901234568", h), 0);
  ck_assert_int_eq(ac_otp_verify("42917", "84901234567", h), 0);
  ck_assert_int_eq(ac_otp_verify("0429170", "84901234567", h), 0);
  ck_assert_int_eq(ac_otp_verify(NULL, "84901234567", h), 0);
  ck_assert_int_eq(ac_otp_verify("042917", NULL, h), 0);
  /* A fresh salt each time. */
  ck_assert_int_eq(ac_otp_hash("042917", "84901234567", h2, sizeof h2), 0);
  ck_assert_str_ne(h, h2);
  /* Tampered: well formed, no match. */
  h[0] = h[0] == 'a' ? 'b' : 'a';
  ck_assert_int_eq(ac_otp_verify("042917", "84901234567", h), 0);
  /* Malformed. */
  strcpy(h, h2);
  h[32] = 'a';
  ck_assert_int_eq(ac_otp_verify("042917", "84901234567", h), -1);
  strcpy(h, h2);
  h[40] = 'x';
  ck_assert_int_eq(ac_otp_verify("042917", "84901234567", h), -1);
  h2[AC_OTP_HASH_LEN - 1] = '\0';
  ck_assert_int_eq(ac_otp_verify("042917", "84901234567", h2), -1);
  ck_assert_int_eq(ac_otp_verify("042917", "84901234567", ""), -1);
  ck_assert_int_eq(ac_otp_verify("042917", "84901234567", NULL), -1);
  /* Bad arguments to hash. */
  strcpy(h, "x");
  ck_assert_int_eq(ac_otp_hash("04291a", "84901234567", h, sizeof h), -1);
  ck_assert_str_eq(h, "");
  ck_assert_int_eq(ac_otp_hash("042917", NULL, h, sizeof h), -1);
  ck_assert_int_eq(ac_otp_hash("042917", "84901234567", h, AC_OTP_HASH_LEN),
                   -1);
}
END_TEST

/* ---- Captcha ------------------------------------------------------------ */

static time_t clock_now = 1700000000;
static time_t fake_now(void) { return clock_now; }

static void challenge(ac_captcha *c, char *id, char *q) {
  ck_assert_int_eq(ac_captcha_challenge(c, id, AC_CAPTCHA_ID_MAX, q,
                                        AC_CAPTCHA_QUESTION_MAX, err,
                                        sizeof err),
                   0);
  ck_assert_int_ge(ac_captcha_local_solve(q), 0);
}

static const char *answer(const char *q, int delta) {
  static char a[16];
  snprintf(a, sizeof a, "%d", ac_captcha_local_solve(q) + delta);
  return a;
}

START_TEST(captcha_once) {
  ac_captcha *c = ac_captcha_local_new(300, fake_now);
  char id[AC_CAPTCHA_ID_MAX], q[AC_CAPTCHA_QUESTION_MAX];
  ck_assert_str_eq(c->ops->name, "local");
  challenge(c, id, q);
  ck_assert_int_eq(ac_captcha_check(c, id, answer(q, 0)), 1);
  ck_assert_int_eq(ac_captcha_check(c, id, answer(q, 0)), 0); /* used up */
  /* A wrong answer uses it up too. */
  challenge(c, id, q);
  ck_assert_int_eq(ac_captcha_check(c, id, answer(q, 1)), 0);
  ck_assert_int_eq(ac_captcha_check(c, id, answer(q, 0)), 0);
  /* So does one that is not a number; spaces around a number are fine. */
  challenge(c, id, q);
  ck_assert_int_eq(ac_captcha_check(c, id, "mười hai"), 0);
  ck_assert_int_eq(ac_captcha_check(c, id, answer(q, 0)), 0);
  challenge(c, id, q);
  char padded[32];
  snprintf(padded, sizeof padded, " %s\n", answer(q, 0));
  ck_assert_int_eq(ac_captcha_check(c, id, padded), 1);
  /* Unknown ids. */
  ck_assert_int_eq(ac_captcha_check(c, "00000000000000000000000000000000", "1"),
                   0);
  ck_assert_int_eq(ac_captcha_check(c, "", "1"), 0);
  ck_assert_int_eq(ac_captcha_check(c, NULL, "1"), 0);
  challenge(c, id, q);
  ck_assert_int_eq(ac_captcha_check(c, id, NULL), 0);
  /* Buffers too small. */
  ck_assert_int_eq(ac_captcha_challenge(c, id, 8, q, sizeof q, err, sizeof err),
                   -1);
  ac_captcha_close(c);
  ac_captcha_close(NULL);
  ck_assert_ptr_null(ac_captcha_local_new(0, fake_now));
}
END_TEST

START_TEST(captcha_expiry) {
  ac_captcha *c = ac_captcha_local_new(60, fake_now);
  char id[AC_CAPTCHA_ID_MAX], q[AC_CAPTCHA_QUESTION_MAX];
  char id2[AC_CAPTCHA_ID_MAX], q2[AC_CAPTCHA_QUESTION_MAX];
  clock_now = 1700000000;
  challenge(c, id, q);
  challenge(c, id2, q2);
  clock_now += 59;
  ck_assert_int_eq(ac_captcha_check(c, id, answer(q, 0)), 1);
  clock_now += 1; /* 60 s old: expired */
  ck_assert_int_eq(ac_captcha_check(c, id2, answer(q2, 0)), 0);
  ac_captcha_close(c);
}
END_TEST

START_TEST(captcha_eviction) {
  ac_captcha *c = ac_captcha_local_new(300, fake_now);
  static char id[AC_CAPTCHA_LOCAL_MAX + 1][AC_CAPTCHA_ID_MAX];
  static char q[AC_CAPTCHA_LOCAL_MAX + 1][AC_CAPTCHA_QUESTION_MAX];
  for (int i = 0; i < AC_CAPTCHA_LOCAL_MAX + 1; i++) {
    challenge(c, id[i], q[i]);
    for (int j = 0; j < i && i < 50; j++)
      ck_assert_str_ne(id[i], id[j]);
  }
  /* The first was dropped for the last; the second is the oldest kept. */
  ck_assert_int_eq(ac_captcha_check(c, id[0], answer(q[0], 0)), 0);
  ck_assert_int_eq(ac_captcha_check(c, id[1], answer(q[1], 0)), 1);
  ck_assert_int_eq(ac_captcha_check(c, id[AC_CAPTCHA_LOCAL_MAX],
                                    answer(q[AC_CAPTCHA_LOCAL_MAX], 0)),
                   1);
  ac_captcha_close(c);
}
END_TEST

START_TEST(captcha_solve) {
  ck_assert_int_eq(ac_captcha_local_solve("Bảy cộng năm bằng mấy?"), 12);
  ck_assert_int_eq(ac_captcha_local_solve("Chín trừ ba bằng mấy?"), 6);
  ck_assert_int_eq(ac_captcha_local_solve("Bốn nhân tám bằng mấy?"), 32);
  ck_assert_int_eq(ac_captcha_local_solve("một cộng một bằng mấy?"), 2);
  ck_assert_int_eq(ac_captcha_local_solve("Ba trừ ba bằng mấy?"), 0);
  ck_assert_int_eq(ac_captcha_local_solve("7 + 5 = ?"), -1);
  ck_assert_int_eq(ac_captcha_local_solve("Bảy cộng năm"), -1);
  ck_assert_int_eq(ac_captcha_local_solve("Bảy cộng mười bằng mấy?"), -1);
  ck_assert_int_eq(ac_captcha_local_solve("Bảy chia năm bằng mấy?"), -1);
  ck_assert_int_eq(ac_captcha_local_solve("Bảy cộng năm bằng mấy?!"), -1);
  ck_assert_int_eq(ac_captcha_local_solve(""), -1);
  ck_assert_int_eq(ac_captcha_local_solve(NULL), -1);
  /* Every generated question parses, the operations all occur, and no
   * difference is negative. */
  ac_captcha *c = ac_captcha_local_new(300, NULL);
  char id[AC_CAPTCHA_ID_MAX], q[AC_CAPTCHA_QUESTION_MAX];
  int seen[3] = {0};
  for (int i = 0; i < 300; i++) {
    challenge(c, id, q);
    seen[0] |= strstr(q, " cộng ") != NULL;
    seen[1] |= strstr(q, " trừ ") != NULL;
    seen[2] |= strstr(q, " nhân ") != NULL;
  }
  ck_assert(seen[0] && seen[1] && seen[2]);
  ck_assert_int_eq(ac_captcha_check(c, id, answer(q, 0)), 1);
  ac_captcha_close(c);
}
END_TEST

/* The API's bodies as requests, and the checks before any database
 * (account.h). */
START_TEST(request_checks) {
  static const struct {
    ac_req_kind kind;
    const char *body;
    ac_status want;
    const char *login;
  } cases[] = {
      {AC_REQ_LOGIN, "{\"login\": \"0901 234 567\", \"password\": \"x\"}",
       AC_OK, "84901234567"},
      {AC_REQ_LOGIN, "{\"login\": \"0901234567\"}", AC_BAD_INPUT, ""},
      {AC_REQ_LOGIN, "{\"login\": \"02438251234\", \"password\": \"x\"}",
       AC_BAD_INPUT, ""},
      {AC_REQ_LOGIN, "{\"login\": 901234567, \"password\": \"x\"}",
       AC_BAD_INPUT, ""},
      {AC_REQ_RECOVERY, "{\"login\": \"+84901234567\", \"cert_type\": "
                        "\"organization\", \"id_number\": \"0100686209\"}",
       AC_OK, "84901234567"},
      {AC_REQ_RECOVERY, "{\"login\": \"0901234567\", \"cert_type\": "
                        "\"company\", \"id_number\": \"1\"}",
       AC_BAD_INPUT, ""},
      {AC_REQ_RECOVERY, "{\"login\": \"0901234567\", \"cert_type\": "
                        "\"personal\"}",
       AC_BAD_INPUT, ""},
      {AC_REQ_VERIFY, "{\"login\": \"0901234567\", \"otp\": \"042917\"}",
       AC_OK, "84901234567"},
      {AC_REQ_VERIFY, "{\"login\": \"0901234567\", \"otp\": 42917}",
       AC_BAD_INPUT, ""},
      /* A field of another request does not count. */
      {AC_REQ_VERIFY, "{\"login\": \"0901234567\", \"password\": \"x\"}",
       AC_BAD_INPUT, ""},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    json_t *b = json_loads(cases[i].body, 0, NULL);
    ck_assert_ptr_nonnull(b);
    ac_request r;
    ac_request_from_body(b, cases[i].kind, &r);
    char login[SP_PHONE_LEN + 1];
    ck_assert_msg(ac_request_check(&r, login) == cases[i].want, "case %zu", i);
    ck_assert_str_eq(login, cases[i].login);
    json_decref(b);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("accounts_secret");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, password_alphabet_and_length);
  tcase_add_test(tc, request_checks);
  tcase_add_test(tc, passwords_distinct);
  tcase_add_test(tc, password_round_trip);
  tcase_add_test(tc, password_hash_errors);
  tcase_add_test(tc, password_parameters_from_string);
  tcase_add_test(tc, password_malformed);
  tcase_add_test(tc, otp_digits_uniform);
  tcase_add_test(tc, otp_round_trip);
  tcase_add_test(tc, captcha_once);
  tcase_add_test(tc, captcha_expiry);
  tcase_add_test(tc, captcha_eviction);
  tcase_add_test(tc, captcha_solve);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
