/* sms.h - the notifier's SMS channel: Kannel's smsbox "sendsms" HTTP
 * interface, with libcurl.
 *
 *   nt_sms *s = nt_sms_open("http://127.0.0.1:13013/cgi-bin/sendsms",
 *                           "simpki", "/etc/simpki/kannel.password",
 *                           "MobiFone", 10000, err, sizeof err);
 *   int rc = nt_sms_send(s, "84901234567", "Thuê bao ... đã được đấu nối",
 *                        err, sizeof err);
 *
 * Each message is one GET .../sendsms?username=&password=&from=&to=
 * &coding=2&charset=UTF-8&text=, every value percent-encoded: coding=2
 * makes Kannel send UCS-2 on the air, which carries Vietnamese diacritics
 * (GSM 7-bit does not); a text longer than one SMS goes as concatenated
 * parts (the sendsms-user needs concatenation and max-messages for that).
 *
 * The password is read once from its file (sp_secret_file_read: mode 0600
 * or stricter), kept in locked memory and wiped on close. Since it has to
 * travel in the query string, the request URL is a secret too: it is never
 * logged and never put in an error, and every text that goes into errstr
 * (curl's messages, Kannel's reply) has the password cut out first.
 *
 * Replies: "0: Accepted for delivery" and "3: Queued for later delivery"
 * (the SMSC is away; Kannel delivers when it is back) are NT_SENT. No
 * answer (connection refused, reset, timeout) and HTTP 502/503/504 are
 * NT_RETRY. Any other reply (authorization failed, number denied, ...)
 * is NT_FAILED with Kannel's text. A timeout after Kannel took the request
 * may mean it was sent: a retry can then send it twice, which is the
 * at-least-once price of not losing a message. */
#ifndef NT_SMS_H
#define NT_SMS_H

#include <stddef.h>

#include "mail.h" /* NT_SENT, NT_RETRY, NT_FAILED */

#define NT_SMS_MAX_UNITS 670   /* UCS-2 characters: ten 67-character parts */
#define NT_SMS_REPLY_MAX 1024  /* bytes of Kannel's reply kept */
#define NT_SMS_PASSWORD_MAX 256

/* Form checks used by nt_sms_open and nt_channels_conf_load. 1 when good,
 * else 0 with the reason. */
/* http(s)://HOST[:PORT]/PATH without user, password, query or fragment. */
int nt_sms_url_valid(const char *url, char *errstr, size_t errlen);
/* 1-64 printable ASCII characters, no spaces. */
int nt_sms_user_valid(const char *user, char *errstr, size_t errlen);
/* An alphanumeric sender id of 1-11 letters and digits (GSM 03.40), or a
 * number of 1-15 digits. */
int nt_sms_sender_valid(const char *from, char *errstr, size_t errlen);

/* The full request URL (malloc'd into *url; it holds the password: wipe
 * it and free it with nt_sms_url_free). to is normalized to 84xxxxxxxxx
 * (sp_phone_normalize_vn). text must be valid UTF-8, non-empty, within the
 * Basic Multilingual Plane (UCS-2 has nothing else) and at most
 * NT_SMS_MAX_UNITS characters. 0, or -1 with the reason (never the
 * password). */
int nt_sms_build_url(const char *base, const char *user, const char *password,
                     const char *from, const char *to, const char *text,
                     char **url, char *errstr, size_t errlen);
void nt_sms_url_free(char *url);

/* What a reply means: NT_SENT, NT_RETRY or NT_FAILED (errstr: the HTTP
 * status and Kannel's text, control characters replaced, the password cut
 * out). body need not be NUL-terminated. */
int nt_sms_parse_reply(long http_status, const char *body, size_t len,
                       const char *password, char *errstr, size_t errlen);

/* Copies in to out (at most outlen - 1 bytes, NUL-terminated) with every
 * occurrence of secret, each byte of it as is or percent-encoded, replaced
 * by "***", and every byte that is not printable ASCII by '?'. A NULL or
 * empty secret only does the latter. */
void nt_sms_redact(const char *in, size_t inlen, const char *secret,
                   char *out, size_t outlen);

typedef struct nt_sms nt_sms;

/* Reads the password file and checks the other arguments; contacts
 * nothing. NULL with the reason. */
nt_sms *nt_sms_open(const char *sendsms_url, const char *user,
                    const char *password_file, const char *from,
                    long timeout_ms, char *errstr, size_t errlen);
/* Wipes the password. */
void nt_sms_close(nt_sms *s);

/* Sends text to one number: NT_SENT, NT_RETRY or NT_FAILED with the reason
 * in errstr. A bad number or text is NT_FAILED without a request. One
 * nt_sms is for one thread at a time. */
int nt_sms_send(nt_sms *s, const char *to, const char *text, char *errstr,
                size_t errlen);

#endif
