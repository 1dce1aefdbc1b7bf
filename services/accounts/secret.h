/* secret.h - the accounts service's secrets: generated passwords, their
 * scrypt hashes, and one-time passwords (OTPs) sent by SMS. Pure: OpenSSL
 * only, no I/O, no global state, safe from several threads at once.
 *
 * Rules every function here keeps: a buffer that held a password or OTP
 * (or anything derived from one) is wiped before return, and no errstr ever
 * contains a password, an OTP or a hash of one. */
#ifndef AC_SECRET_H
#define AC_SECRET_H

#include <stddef.h>
#include <stdint.h>

/* A uniform integer in [0, n) from RAND_bytes, by rejection sampling (no
 * modulo bias). n >= 1. 0 ok, -1 when the generator failed. */
int ac_random_below(uint32_t n, uint32_t *out);

/* ---- Passwords ------------------------------------------------------- */

/* Generated passwords are read from an SMS and typed by a person, so the
 * alphabet leaves out the characters that look alike in common fonts:
 * 0 O o 1 l I. 56 symbols, 12 characters: about 69.7 bits. */
#define AC_PASSWORD_LEN 12
#define AC_PASSWORD_ALPHABET                                                   \
  "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz"

/* A fresh password: AC_PASSWORD_LEN characters, each uniform over the
 * alphabet, with at least one digit and one letter (a draw without both is
 * thrown away whole, so the result stays uniform over the valid ones).
 * 0 ok, -1 (out "") when the generator failed. */
int ac_password_new(char out[AC_PASSWORD_LEN + 1]);

/* Stored form, one self-describing string:
 *
 *   scrypt$N=16384,r=8,p=1$<salt: 32 hex>$<key: 64 hex>
 *
 * scrypt (RFC 7914, OpenSSL's EVP_PBE_scrypt) is memory-hard: each guess
 * needs 128*N*r bytes = 16 MiB at these parameters, which is what makes a
 * GPU or ASIC attack on a stolen table expensive, unlike a plain or iterated
 * hash. N=2^14, r=8, p=1 are RFC 7914's interactive-login parameters; one
 * hash takes about 26 ms on the development machine (measured: 2-vCPU AMD
 * EPYC VM, OpenSSL 3.0.19, -O2, median of 20 runs, 25-38 ms), an acceptable
 * cost per login that also bounds how fast a flood of logins can make one
 * server hash. N=2^15 would double both the time and the memory. The
 * salt is 16 fresh random bytes per hash. Because verification reads N, r
 * and p from the string, the parameters can be raised later without
 * invalidating the hashes already stored (rehash on the next login). */
#define AC_SCRYPT_N 16384
#define AC_SCRYPT_R 8
#define AC_SCRYPT_P 1
#define AC_SCRYPT_SALT_BYTES 16
#define AC_SCRYPT_KEY_BYTES 32
/* Limits on the parameters a stored string may ask for, so a corrupted or
 * planted row cannot make one verification take minutes or gigabytes. */
#define AC_SCRYPT_MAX_N (1u << 20)
#define AC_SCRYPT_MAX_RP 64          /* r * p */
#define AC_SCRYPT_MAX_MEM (1u << 30) /* 128 * N * r bytes */
#define AC_PASSWORD_MAX_BYTES 1024   /* longer passwords are refused */
#define AC_PASSWORD_HASH_MAX 160     /* room for the string and its NUL */

/* Hash pw (1..AC_PASSWORD_MAX_BYTES bytes) with the parameters above and a
 * fresh salt. 0 ok, -1 (out "") with errstr. */
int ac_password_hash(const char *pw, char *out, size_t outlen, char *errstr,
                     size_t errlen);

/* 1 when pw matches stored, 0 when not (a NULL, empty or over-long pw never
 * matches), -1 when stored is malformed: not the form above, N not a power
 * of two in [2, 2^20], r or p zero, or beyond the limits above (or scrypt
 * itself failed, e.g. out of memory). The keys are compared in constant
 * time. */
int ac_password_verify(const char *pw, const char *stored);

/* ---- One-time passwords ---------------------------------------------- */

#define AC_OTP_LEN 6
#define AC_OTP_SALT_BYTES 16
/* "<salt: 32 hex>$<sha256: 64 hex>" */
#define AC_OTP_HASH_LEN (2 * AC_OTP_SALT_BYTES + 1 + 64)

/* Six decimal digits, uniform over 000000..999999 (leading zeros kept).
 * 0 ok, -1 (out "") when the generator failed. */
int ac_otp_new(char out[AC_OTP_LEN + 1]);

/* The stored form of an OTP issued to login: a fresh random salt and
 * SHA-256(salt || login || otp), both in hex. login is the canonical login
 * (the caller normalizes it); the salt and the OTP have fixed lengths, so
 * the concatenation is unambiguous. Binding the login means a row copied
 * to another account does not verify there.
 *
 * The hash only keeps the OTP out of a database dump read while it is
 * live; it cannot make a 10^6 space hard to search. What protects an OTP is
 * its short life (5 minutes) and the limit on attempts, both enforced by
 * the caller.
 *
 * otp must be AC_OTP_LEN digits and outlen > AC_OTP_HASH_LEN. 0 ok, -1
 * (out "" when there is room) when an argument is bad or the generator
 * failed. */
int ac_otp_hash(const char *otp, const char *login, char *out, size_t outlen);

/* 1 when otp was issued to login with this stored hash, 0 when not (an otp
 * that is not six digits, or a NULL login, never matches), -1 when stored
 * is malformed. Constant-time comparison. */
int ac_otp_verify(const char *otp, const char *login, const char *stored);

#endif
