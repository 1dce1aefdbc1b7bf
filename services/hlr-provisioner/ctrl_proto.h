/* ctrl_proto.h - the Osmocom CTRL protocol over IPA framing, as OsmoHLR
 * speaks it on its CTRL port (4259). Pure: no sockets, no clock, so it is
 * unit-tested and fuzzed on its own (ctrl_client.c does the I/O).
 *
 * An IPA frame is a 2-byte big-endian length, one stream byte, then
 * `length` bytes of payload. CTRL travels on stream 0xEE ("OSMO") with a
 * first payload byte 0x00 (extension CTRL) followed by ASCII text:
 *
 *   SET <id> <var> <value>        GET <id> <var>            (requests)
 *   SET_REPLY <id> <var> <value>  GET_REPLY <id> <var> <value>
 *   ERROR <id> <reason>           TRAP <id> <var> <value>   (from the HLR)
 *
 * The reply value may be empty and may hold tabs and newlines (OsmoHLR's
 * `info` replies start with a newline and are "key<TAB>value" lines). When
 * the HLR cannot read a request's id it answers "ERROR err <reason>".
 * Stream 0xFE carries IPA's own CCM messages (PING/PONG/ID...). */
#ifndef HP_CTRL_PROTO_H
#define HP_CTRL_PROTO_H

#include <stddef.h>

#define HP_IPA_PROTO_OSMO 0xEE
#define HP_IPA_PROTO_CCM 0xFE
#define HP_IPA_EXT_CTRL 0x00
#define HP_IPA_CCM_PING 0x00
#define HP_IPA_CCM_PONG 0x01
#define HP_IPA_HEADER 3
#define HP_IPA_MAX_PAYLOAD 65535

/* Limits of what we send; OsmoHLR's variables and values are far smaller
 * (the longest is an aud3g value of about 80 characters). */
#define HP_CTRL_VAR_MAX 200
#define HP_CTRL_VALUE_MAX 1024
/* The largest request frame hp_ctrl_encode can produce. */
#define HP_CTRL_REQUEST_MAX                                                    \
  (HP_IPA_HEADER + 1 + 4 + 20 + 1 + HP_CTRL_VAR_MAX + 1 + HP_CTRL_VALUE_MAX)

typedef enum { HP_CTRL_GET = 0, HP_CTRL_SET = 1 } hp_ctrl_type;

/* Encode one request frame into out. var: 1..HP_CTRL_VAR_MAX printable
 * ASCII characters without a space; value: SET only, 1..HP_CTRL_VALUE_MAX
 * of the same (NULL for GET). Returns the frame's length, or 0 with the
 * reason in errstr (which never repeats the value: it may be a key). */
size_t hp_ctrl_encode(unsigned char *out, size_t outcap, hp_ctrl_type type,
                      unsigned long long id, const char *var, const char *value,
                      char *errstr, size_t errlen);

/* ---- incremental frame decoder ------------------------------------- */

/* One decoded frame. For stream 0xEE (CTRL), text is the ASCII message
 * after the extension byte, NUL-terminated, len its length; for 0xFE
 * (CCM), text points at the raw payload (first byte: the CCM message
 * type). Valid until the next hp_ipa_next or hp_ipa_release call. */
typedef struct hp_ipa_msg {
  unsigned char proto;
  const char *text;
  size_t len;
} hp_ipa_msg;

/* Room for one largest frame plus some more, so one read can bring
 * several replies and a partial frame always fits once moved to the
 * front. Replies may carry key material (info-aud), so every byte is
 * wiped once used: embed the decoder in memory from sp_secure_alloc. */
#define HP_IPA_INBUF (HP_IPA_HEADER + HP_IPA_MAX_PAYLOAD + 16384)

typedef struct hp_ipa_decoder {
  size_t start, end; /* unread bytes: in[start, end) */
  size_t msglen;     /* bytes of msg in use (wiped on release) */
  int failed;        /* a malformed frame was seen: sticky */
  unsigned char in[HP_IPA_INBUF];
  char msg[HP_IPA_MAX_PAYLOAD + 1];
} hp_ipa_decoder;

void hp_ipa_init(hp_ipa_decoder *d);
/* Where the next received bytes go: *avail >= 1 unless a complete frame
 * is waiting (call hp_ipa_next first). Then hp_ipa_commit(n) them. */
unsigned char *hp_ipa_space(hp_ipa_decoder *d, size_t *avail);
void hp_ipa_commit(hp_ipa_decoder *d, size_t n);
/* Copy-in form of the two above: returns how many bytes were taken
 * (fewer than n when the buffer is full: take messages out, feed again). */
size_t hp_ipa_feed(hp_ipa_decoder *d, const void *data, size_t n);
/* 1: a frame in *out; 0: more bytes needed; -1: malformed (empty frame,
 * an unknown stream, a CTRL frame without the 0x00 extension byte or with
 * a NUL or non-ASCII byte) with the reason; the stream cannot be trusted
 * after that, so -1 is returned from then on. */
int hp_ipa_next(hp_ipa_decoder *d, hp_ipa_msg *out, char *errstr,
                size_t errlen);
/* Wipe the message last returned (it may hold key material). */
void hp_ipa_release(hp_ipa_decoder *d);
/* Wipe everything and start over. */
void hp_ipa_reset(hp_ipa_decoder *d);

/* ---- CTRL messages ----------------------------------------------------- */

typedef enum {
  HP_CTRL_MSG_GET_REPLY,
  HP_CTRL_MSG_SET_REPLY,
  HP_CTRL_MSG_ERROR,
  HP_CTRL_MSG_TRAP
} hp_ctrl_msg_kind;

/* A parsed CTRL message; pointers into the text given to hp_ctrl_parse.
 * var is empty for ERROR. value runs to the end of the text (so it is
 * NUL-terminated when the text was); for ERROR it is the reason. */
typedef struct hp_ctrl_msg {
  hp_ctrl_msg_kind kind;
  int has_id; /* 0 for "ERROR err ...": the HLR lost our id */
  unsigned long long id;
  const char *var;
  size_t varlen;
  const char *value;
  size_t valuelen;
} hp_ctrl_msg;

/* Parse a CTRL message from the HLR (a reply or a TRAP). 0, or -1 with the
 * reason (requests, unknown kinds, a missing or non-decimal id, a reply
 * without a variable...). The reason never quotes the message: a reply
 * may hold key material. */
int hp_ctrl_parse(const char *text, size_t len, hp_ctrl_msg *out, char *errstr,
                  size_t errlen);

const char *hp_ctrl_msg_kind_name(hp_ctrl_msg_kind k);

/* Replace, in place, every run of 16 or more hex digits in s by "<hex>".
 * For text that came from outside (an HLR's error reason) and is going to
 * a log: no IMSI or MSISDN is that long, every key is. */
void hp_ctrl_redact(char *s);

#endif
