/* mail.h - the notifier's e-mail channel: one plain-text message per call,
 * over SMTP with libcurl; and the channels' configuration.
 *
 *   nt_mail *m = nt_mail_open("smtp://127.0.0.1:2525", "simpki@mobifone.vn",
 *                             "MobiFone SIM PKI", 10000, err, sizeof err);
 *   int rc = nt_mail_send(m, "lan@bcy.gov.vn", "Nguyễn Thị Lan",
 *                         "Đã tiếp nhận đơn hàng", body, "evt-123/order_accepted",
 *                         err, sizeof err);
 *
 * The message is built by a pure function (nt_mail_build) that tests can
 * call without a server: MIME 1.0, text/plain; charset=UTF-8 in base64,
 * RFC 2047 encoded-words for a subject or display name that is not plain
 * ASCII, an RFC 5322 date in Vietnam's time (+0700, no summer time), and a
 * Message-ID derived from the caller's seed, so a retried send carries the
 * same id and the recipient's mail system can tell it is the same message.
 *
 * Every header value is checked first: addresses are plain ASCII
 * local@domain (no display name, no comments, no line breaks); names and
 * subjects are UTF-8 without control characters, so no caller's text can
 * add a header (CR/LF injection). A refused value is a permanent error. */
#ifndef NT_MAIL_H
#define NT_MAIL_H

#include <stddef.h>
#include <time.h>

#define NT_MAIL_ADDR_MAX 254       /* RFC 5321 path limit, without <> */
#define NT_MAIL_NAME_MAX 256       /* bytes of a display name */
#define NT_MAIL_SUBJECT_MAX 2000   /* bytes of a subject */
#define NT_MAIL_BODY_MAX (1 << 20) /* bytes of a body */
#define NT_MAIL_TIMEOUT_MS 10000   /* default bound of one send */

/* What nt_mail_send and nt_sms_send return. */
#define NT_SENT 0
#define NT_RETRY 1 /* server down or slow, 4xx: try again later */
#define NT_FAILED (-1) /* refused for good (5xx, bad address): do not retry */

typedef struct nt_mail_msg {
  const char *from_addr, *from_name; /* from_name may be NULL */
  const char *to_addr, *to_name;     /* to_name may be NULL or "" */
  const char *subject, *body;        /* UTF-8 */
  const char *message_id_seed;       /* any non-empty text */
  time_t date;
} nt_mail_msg;

/* 1 when addr is a plain address local@domain we are willing to put in a
 * header (dot-atom local part of at most 64 characters, domain of
 * letter/digit/hyphen labels with at least one dot); else 0 with the
 * reason (which never quotes control characters). */
int nt_mail_addr_valid(const char *addr, char *errstr, size_t errlen);

/* "<HEX.simpki@DOMAIN>": HEX from the SHA-256 of seed, DOMAIN the
 * from address's. out needs NT_MAIL_MSGID_MAX bytes. */
#define NT_MAIL_MSGID_MAX 320
int nt_mail_message_id(const char *seed, const char *from_addr, char *out,
                       size_t outlen);

/* The whole message (headers, blank line, base64 body; CRLF line ends).
 * 0 with *out (malloc'd, NUL-terminated, *len bytes) or -1 with the reason
 * (a value refused). */
int nt_mail_build(const nt_mail_msg *msg, char **out, size_t *len,
                  char *errstr, size_t errlen);

/* A reply line of the SMTP server, as curl hands it over (CRLF and all):
 * when it is a 4xx or 5xx reply, its text up to the line end, at most
 * NT_SMTP_REPLY_MAX bytes, each byte that is not printable ASCII made '?',
 * is put into reply (NUL-terminated; it goes into errors and logs) and 1
 * returned; else reply is left alone and 0 returned. */
#define NT_SMTP_REPLY_MAX 200
int nt_smtp_reply_keep(const char *data, size_t size,
                       char reply[NT_SMTP_REPLY_MAX + 1]);

typedef struct nt_mail nt_mail;

/* smtp_url: smtp://HOST[:PORT] or smtps://HOST[:PORT] (no user or password
 * in it). from: the sender address; from_name: its display name (may be
 * NULL). timeout_ms bounds a whole send, connection included. NULL with
 * the reason on a bad argument. Nothing is contacted yet. */
nt_mail *nt_mail_open(const char *smtp_url, const char *from,
                      const char *from_name, long timeout_ms, char *errstr,
                      size_t errlen);
void nt_mail_close(nt_mail *m);

/* Sends one message to one recipient: NT_SENT, NT_RETRY (connection
 * refused or lost, timeout, a 4xx reply) or NT_FAILED (a 5xx reply, a
 * refused value), with the reason in errstr. One nt_mail is for one thread
 * at a time. */
int nt_mail_send(nt_mail *m, const char *to_addr, const char *to_name,
                 const char *subject, const char *body,
                 const char *message_id_seed, char *errstr, size_t errlen);

/* ---- configuration of both channels ------------------------------------ */

typedef struct nt_channels_conf {
  const char *smtp_url;             /* SIMPKI_SMTP_URL (required) */
  const char *smtp_from;            /* SIMPKI_SMTP_FROM */
  const char *smtp_from_name;       /* fixed: "MobiFone SIM PKI" */
  const char *kannel_url;           /* SIMPKI_KANNEL_URL (required) */
  const char *kannel_user;          /* SIMPKI_KANNEL_USER (required) */
  const char *kannel_password_file; /* SIMPKI_KANNEL_PASSWORD_FILE (req.) */
  const char *kannel_from;          /* SIMPKI_KANNEL_FROM */
  long timeout_ms;                  /* NT_MAIL_TIMEOUT_MS */
} nt_channels_conf;

#define NT_SMTP_FROM_DEFAULT "simpki@mobifone.vn"
#define NT_SMTP_FROM_NAME "MobiFone SIM PKI"
#define NT_KANNEL_FROM_DEFAULT "MobiFone"

/* Reads the variables named above and checks their form (the password
 * file itself is read by nt_sms_open). The strings
 * point into the environment or at constants. 0, or -1 with errstr naming
 * the variable. */
int nt_channels_conf_load(nt_channels_conf *c, char *errstr, size_t errlen);

#endif
