/* event.c - build, seal, serialize and parse the event envelope. */
#include "event.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

void sp_uuid4(char out[40]) {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1)
    abort(); /* no randomness: ids would collide, better to stop */
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  snprintf(out, 40,
           "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x"
           "%02x",
           b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
           b[11], b[12], b[13], b[14], b[15]);
}

void sp_time_rfc3339(char out[40]) {
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  char date[24];
  strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out, 40, "%.19s.%03dZ", date, (int)(ts.tv_nsec / 1000000));
}

/* OpenSSL 3 looks the algorithm up on every digest made with EVP_sha256():
 * fetch it once for the process (every event is sealed through here). */
static EVP_MD *sha256_md;
static void sha256_fetch(void) {
  sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void sp_sha256_hex(const void *buf, size_t len,
                   char out[SP_EVENT_HASH_HEX + 1]) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, sha256_fetch);
  unsigned char md[32];
  unsigned int mdlen = 0;
  if (!EVP_Digest(buf, len, md, &mdlen, sha256_md ? sha256_md : EVP_sha256(),
                  NULL) ||
      mdlen != sizeof md)
    abort(); /* a hash left unwritten would seal garbage into a chain */
  /* Hashing is on every event's path (seal, check, audit replay): no
   * snprintf per byte. */
  static const char hex[] = "0123456789abcdef";
  for (int i = 0; i < 32; i++) {
    out[2 * i] = hex[md[i] >> 4];
    out[2 * i + 1] = hex[md[i] & 15];
  }
  out[SP_EVENT_HASH_HEX] = '\0';
}

/* v is there, not empty unless allowed, and fits cap bytes with its NUL.
 * Its length, or -1 with errstr. */
static long attr_fits(size_t cap, const char *name, const char *v,
                      int allow_empty, char *errstr, size_t errlen) {
  if (!v || (!allow_empty && !*v)) {
    snprintf(errstr, errlen, "event attribute \"%s\" is missing or empty",
             name);
    return -1;
  }
  size_t n = strlen(v);
  if (n >= cap) {
    snprintf(errstr, errlen, "event attribute \"%s\" is too long (%zu > %zu)",
             name, n, cap - 1);
    return -1;
  }
  return (long)n;
}

static int copy_attr(char *dst, size_t cap, const char *name, const char *v,
                     int allow_empty, char *errstr, size_t errlen) {
  long n = attr_fits(cap, name, v, allow_empty, errstr, errlen);
  if (n < 0)
    return -1;
  memcpy(dst, v, (size_t)n + 1);
  return 0;
}

/* Plain range checks, not <ctype.h>: these run on every event read, and
 * the locale must not change what an event is. */
static int is_digit(char c) { return c >= '0' && c <= '9'; }

#ifndef __SSE2__
/* A table, not comparisons: hex digits are random, so a branch per
 * character would be mispredicted half the time. */
static const unsigned char lower_hex[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
    ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['a'] = 1, ['b'] = 1,
    ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1};
#endif

static int type_ok(const char *t) {
  if (!*t)
    return 0;
  for (; *t; t++)
    if (!((*t >= 'a' && *t <= 'z') || is_digit(*t) || *t == '.' || *t == '_'))
      return 0;
  return 1;
}

#ifdef __SSE2__
/* The bytes of the 16 at p that are lower-case hex digits, a bit each:
 * with SSE2, since every event read checks 164 of them (hash, prevhash,
 * id), and a table lookup each was 2% of the audit replay. The range
 * tests are unsigned: x - lo wraps past 255 below lo. */
static unsigned hex16(const char *p) {
  __m128i w = _mm_loadu_si128((const __m128i *)p);
  __m128i d = _mm_sub_epi8(w, _mm_set1_epi8('0')),
          a = _mm_sub_epi8(w, _mm_set1_epi8('a'));
  __m128i is_d = _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d),
          is_a = _mm_cmpeq_epi8(_mm_min_epu8(a, _mm_set1_epi8(5)), a);
  return (unsigned)_mm_movemask_epi8(_mm_or_si128(is_d, is_a));
}
#endif

static int hex64_ok(const char *h) {
  size_t n = strnlen(h, SP_EVENT_HASH_HEX + 1);
  if (n != SP_EVENT_HASH_HEX)
    return 0;
#ifdef __SSE2__
  return (hex16(h) & hex16(h + 16) & hex16(h + 32) & hex16(h + 48)) == 0xFFFF;
#else
  unsigned ok = 1;
  for (size_t i = 0; i < SP_EVENT_HASH_HEX; i++)
    ok &= lower_hex[(unsigned char)h[i]];
  return (int)ok;
#endif
}

static int uuid_ok(const char *u) {
  if (strnlen(u, 37) != 36)
    return 0;
  unsigned ok = u[8] == '-' && u[13] == '-' && u[18] == '-' && u[23] == '-';
#ifdef __SSE2__
  /* Bytes 0-15, 16-31 and 20-35; a dash's bit stands in for its digit. */
  const unsigned dash0 = 1u << 8 | 1u << 13, dash16 = 1u << 2 | 1u << 7,
                 dash20 = 1u << 3;
  return (int)(ok && (hex16(u) | dash0) == 0xFFFF &&
               (hex16(u + 16) | dash16) == 0xFFFF &&
               (hex16(u + 20) | dash20) == 0xFFFF);
#else
  for (int i = 0; i < 36; i++)
    if (i != 8 && i != 13 && i != 18 && i != 23)
      ok &= lower_hex[(unsigned char)u[i]];
  return (int)ok;
#endif
}

/* RFC 3339 date-time: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM). */
static int time_ok(const char *s) {
  static const char *shape = "dddd-dd-ddTdd:dd:dd";
  size_t i = 0;
  for (; shape[i]; i++) {
    if (shape[i] == 'd' ? !is_digit(s[i]) : s[i] != shape[i])
      return 0;
  }
  if (s[i] == '.') {
    size_t start = ++i;
    while (is_digit(s[i]))
      i++;
    if (i == start)
      return 0;
  }
  if (s[i] == 'Z')
    return s[i + 1] == '\0';
  if ((s[i] == '+' || s[i] == '-') && is_digit(s[i + 1]) &&
      is_digit(s[i + 2]) && s[i + 3] == ':' &&
      is_digit(s[i + 4]) && is_digit(s[i + 5]))
    return s[i + 6] == '\0';
  return 0;
}

/* Two digits from s, when both are digits and the number is in lo..hi. */
static int two_digits_in(const char *s, int lo, int hi) {
  if (!is_digit(s[0]) || !is_digit(s[1]))
    return 0;
  int n = (s[0] - '0') * 10 + (s[1] - '0');
  return n >= lo && n <= hi;
}

/* The rules below are envelope.json's patterns, written out: the replay
 * runs them on every event instead of the patterns' DFAs. */
static int source_strict(const char *s) {
  static const char prefix[] = "/simpki/";
  if (strncmp(s, prefix, sizeof prefix - 1))
    return 0;
  s += sizeof prefix - 1;
  if (!((*s >= 'a' && *s <= 'z') || is_digit(*s)))
    return 0;
  for (s++; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || is_digit(*s) || *s == '.' || *s == '_' ||
          *s == '-'))
      return 0;
  return 1;
}

/* Two or more non-empty words of [a-z0-9_] joined by dots. */
static int type_strict(const char *t) {
  int dots = 0;
  size_t word = 0;
  for (; *t; t++) {
    if (*t == '.') {
      if (!word)
        return 0;
      dots++;
      word = 0;
    } else if ((*t >= 'a' && *t <= 'z') || is_digit(*t) || *t == '_') {
      word++;
    } else {
      return 0;
    }
  }
  return dots > 0 && word > 0;
}

/* YYYY-MM-DDTHH:MM:SS.mmmZ with the envelope's ranges (second 60 for a
 * leap second; the days of a month are not checked, as there). */
static int time_strict(const char *s) {
  for (int i = 0; i < 4; i++)
    if (!is_digit(s[i]))
      return 0;
  return s[4] == '-' && two_digits_in(s + 5, 1, 12) && s[7] == '-' &&
         two_digits_in(s + 8, 1, 31) && s[10] == 'T' &&
         two_digits_in(s + 11, 0, 23) && s[13] == ':' &&
         two_digits_in(s + 14, 0, 59) && s[16] == ':' &&
         two_digits_in(s + 17, 0, 60) && s[19] == '.' && is_digit(s[20]) &&
         is_digit(s[21]) && is_digit(s[22]) && s[23] == 'Z' && s[24] == '\0';
}

int sp_event_attrs_strict(const char *const v[SP_EVENT_NATTRS]) {
  const char *id = v[SP_EVENT_A_ID];
  return id[14] == '4' &&
         (id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b') &&
         source_strict(v[SP_EVENT_A_SOURCE]) &&
         type_strict(v[SP_EVENT_A_TYPE]) && time_strict(v[SP_EVENT_A_TIME]);
}

int sp_event_init(sp_event *ev, const char *source, const char *type,
                  const char *subject, const char *partitionkey,
                  const char *correlationid, json_t *data, char *errstr,
                  size_t errlen) {
  memset(ev, 0, sizeof *ev);
  if (data && !json_is_object(data)) {
    json_decref(data);
    snprintf(errstr, errlen, "event data must be a JSON object");
    return -1;
  }
  ev->data = data ? data : json_object();
  if (copy_attr(ev->source, sizeof ev->source, "source", source, 0, errstr,
                errlen) ||
      copy_attr(ev->type, sizeof ev->type, "type", type, 0, errstr, errlen) ||
      copy_attr(ev->subject, sizeof ev->subject, "subject", subject, 0, errstr,
                errlen) ||
      copy_attr(ev->partitionkey, sizeof ev->partitionkey, "partitionkey",
                partitionkey ? partitionkey : subject, 0, errstr, errlen) ||
      copy_attr(ev->correlationid, sizeof ev->correlationid, "correlationid",
                correlationid ? correlationid : "", 1, errstr, errlen)) {
    sp_event_clear(ev);
    return -1;
  }
  if (!type_ok(ev->type)) {
    snprintf(errstr, errlen,
             "event type \"%s\" must be lower-case letters, digits, '.' and "
             "'_'",
             ev->type);
    sp_event_clear(ev);
    return -1;
  }
  sp_uuid4(ev->id);
  sp_time_rfc3339(ev->time);
  ev->schemaversion = 1;
  return 0;
}

void sp_event_clear(sp_event *ev) {
  json_decref(ev->data);
  memset(ev, 0, sizeof *ev);
}

/* Every attribute in a stable order; the hash only when asked. */
static json_t *to_json(const sp_event *ev, int with_hash) {
  json_t *o = json_object();
  json_object_set_new(o, "specversion", json_string(SP_EVENT_SPECVERSION));
  json_object_set_new(o, "id", json_string(ev->id));
  json_object_set_new(o, "source", json_string(ev->source));
  json_object_set_new(o, "type", json_string(ev->type));
  json_object_set_new(o, "time", json_string(ev->time));
  json_object_set_new(o, "subject", json_string(ev->subject));
  json_object_set_new(o, "datacontenttype", json_string("application/json"));
  json_object_set_new(o, "partitionkey", json_string(ev->partitionkey));
  json_object_set_new(o, "correlationid", json_string(ev->correlationid));
  json_object_set_new(o, "schemaversion", json_integer(ev->schemaversion));
  json_object_set_new(o, "prevhash", json_string(ev->prevhash));
  if (with_hash)
    json_object_set_new(o, "hash", json_string(ev->hash));
  json_object_set(o, "data", ev->data);
  return o;
}

char *sp_event_canonical(const sp_event *ev) {
  json_t *o = to_json(ev, 0);
  char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
  json_decref(o);
  return s;
}

int sp_event_seal(sp_event *ev, const char *prevhash) {
  if (!prevhash || !hex64_ok(prevhash))
    return -1;
  memcpy(ev->prevhash, prevhash, SP_EVENT_HASH_HEX + 1);
  char *c = sp_event_canonical(ev);
  if (!c)
    return -1;
  sp_sha256_hex(c, strlen(c), ev->hash);
  free(c);
  return 0;
}

int sp_event_hash_ok(const sp_event *ev) {
  char *c = sp_event_canonical(ev);
  if (!c)
    return 0;
  char h[SP_EVENT_HASH_HEX + 1];
  sp_sha256_hex(c, strlen(c), h);
  free(c);
  return strcmp(h, ev->hash) == 0;
}

char *sp_event_serialize(const sp_event *ev, size_t *len) {
  json_t *o = to_json(ev, 1);
  /* Keys in order, as in the canonical form: the text is then the
   * canonical form with "hash" in its place, and an audit replay hashes
   * it as read instead of writing it anew (common/jdoc). */
  char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
  json_decref(o);
  if (s && len)
    *len = strlen(s);
  return s;
}

const char *const sp_event_attr_names[SP_EVENT_NATTRS] = {
    "specversion",   "id",       "source", "type",
    "time",          "subject",  "datacontenttype", "partitionkey",
    "correlationid", "prevhash", "hash"};

/* A present attribute that is not a string. */
const char sp_event_not_string[] = "";

/* Attribute i: there, a string, not empty unless allowed, shorter than
 * cap. Its value, or NULL with errstr. */
static const char *check_str(const char *const v[SP_EVENT_NATTRS], int i,
                             size_t cap, int allow_empty, char *errstr,
                             size_t errlen) {
  const char *name = sp_event_attr_names[i];
  if (!v[i]) {
    snprintf(errstr, errlen, "event attribute \"%s\" is missing", name);
    return NULL;
  }
  if (v[i] == sp_event_not_string) {
    snprintf(errstr, errlen, "event attribute \"%s\" must be a string", name);
    return NULL;
  }
  return attr_fits(cap, name, v[i], allow_empty, errstr, errlen) < 0 ? NULL
                                                                       : v[i];
}

/* The string attributes after specversion, in the order they are checked:
 * their room, and where sp_event_parse_attrs keeps them (NOWHERE: only
 * checked). */
#define NOWHERE SIZE_MAX
#define KEPT(a, field, empty)                                                  \
  {a, sizeof(((sp_event *)0)->field), offsetof(sp_event, field), empty}
static const struct {
  int attr;
  size_t cap, at;
  int allow_empty;
} string_attrs[] = {
    KEPT(SP_EVENT_A_ID, id, 0),
    KEPT(SP_EVENT_A_SOURCE, source, 0),
    KEPT(SP_EVENT_A_TYPE, type, 0),
    KEPT(SP_EVENT_A_TIME, time, 0),
    KEPT(SP_EVENT_A_SUBJECT, subject, 0),
    {SP_EVENT_A_DATACONTENTTYPE, 32, NOWHERE, 0},
    KEPT(SP_EVENT_A_PARTITIONKEY, partitionkey, 0),
    KEPT(SP_EVENT_A_CORRELATIONID, correlationid, 1),
    KEPT(SP_EVENT_A_PREVHASH, prevhash, 0),
    KEPT(SP_EVENT_A_HASH, hash, 0),
};
#undef KEPT

int sp_event_check_attrs(const char *const v[SP_EVENT_NATTRS],
                         const long long *schemaversion, char *errstr,
                         size_t errlen) {
  const char *spec = check_str(v, SP_EVENT_A_SPECVERSION, 8, 0, errstr, errlen);
  if (!spec)
    return -1;
  if (strcmp(spec, SP_EVENT_SPECVERSION)) {
    snprintf(errstr, errlen, "event specversion must be \"1.0\", not \"%s\"",
             spec);
    return -1;
  }
  for (size_t i = 0; i < sizeof string_attrs / sizeof *string_attrs; i++)
    if (!check_str(v, string_attrs[i].attr, string_attrs[i].cap,
                   string_attrs[i].allow_empty, errstr, errlen))
      return -1;
  if (!uuid_ok(v[SP_EVENT_A_ID])) {
    snprintf(errstr, errlen, "event id \"%s\" is not a lower-case UUID",
             v[SP_EVENT_A_ID]);
    return -1;
  }
  if (!type_ok(v[SP_EVENT_A_TYPE])) {
    snprintf(errstr, errlen, "event type \"%s\" is malformed",
             v[SP_EVENT_A_TYPE]);
    return -1;
  }
  if (!time_ok(v[SP_EVENT_A_TIME])) {
    snprintf(errstr, errlen, "event time \"%s\" is not RFC 3339",
             v[SP_EVENT_A_TIME]);
    return -1;
  }
  if (strcmp(v[SP_EVENT_A_DATACONTENTTYPE], "application/json")) {
    snprintf(errstr, errlen,
             "event datacontenttype must be \"application/json\"");
    return -1;
  }
  if (!hex64_ok(v[SP_EVENT_A_PREVHASH]) || !hex64_ok(v[SP_EVENT_A_HASH])) {
    snprintf(errstr, errlen,
             "event prevhash and hash must be 64 lower-case hex digits");
    return -1;
  }
  if (!schemaversion || *schemaversion < 1) {
    snprintf(errstr, errlen,
             "event attribute \"schemaversion\" must be an integer >= 1");
    return -1;
  }
  return 0;
}

int sp_event_parse_attrs(const char *const v[SP_EVENT_NATTRS],
                         const long long *schemaversion, sp_event *ev,
                         char *errstr, size_t errlen) {
  memset(ev, 0, sizeof *ev);
  if (sp_event_check_attrs(v, schemaversion, errstr, errlen))
    return -1;
  /* Checked: each fits its field. */
  for (size_t i = 0; i < sizeof string_attrs / sizeof *string_attrs; i++)
    if (string_attrs[i].at != NOWHERE) {
      const char *a = v[string_attrs[i].attr];
      memcpy((char *)ev + string_attrs[i].at, a, strlen(a) + 1);
    }
  ev->schemaversion = (long)*schemaversion;
  return 0;
}

static int parse_fields(json_t *o, sp_event *ev, char *errstr,
                        size_t errlen) {
  const char *key;
  json_t *val;
  json_object_foreach(o, key, val) {
    int known = !strcmp(key, "schemaversion") || !strcmp(key, "data");
    for (int i = 0; i < SP_EVENT_NATTRS; i++)
      known |= !strcmp(key, sp_event_attr_names[i]);
    if (!known) {
      snprintf(errstr, errlen, "event attribute \"%.64s\" is not allowed",
               key);
      return -1;
    }
  }
  const char *v[SP_EVENT_NATTRS];
  for (int i = 0; i < SP_EVENT_NATTRS; i++) {
    json_t *a = json_object_get(o, sp_event_attr_names[i]);
    v[i] = !a ? NULL
              : json_is_string(a) ? json_string_value(a) : sp_event_not_string;
  }
  json_t *sv = json_object_get(o, "schemaversion");
  long long version = json_is_integer(sv) ? json_integer_value(sv) : 0;
  if (sp_event_parse_attrs(v, json_is_integer(sv) ? &version : NULL, ev,
                           errstr, errlen))
    return -1;
  json_t *data = json_object_get(o, "data");
  if (!json_is_object(data)) {
    snprintf(errstr, errlen, "event attribute \"data\" must be an object");
    return -1;
  }
  ev->data = json_incref(data);
  return 0;
}

int sp_event_parse(const char *buf, size_t len, sp_event *ev, char *errstr,
                   size_t errlen) {
  memset(ev, 0, sizeof *ev);
  json_error_t jerr;
  json_t *o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
  if (!o) {
    snprintf(errstr, errlen, "event is not valid JSON: %s (at byte %d)",
             jerr.text, jerr.position);
    return -1;
  }
  if (!json_is_object(o)) {
    json_decref(o);
    snprintf(errstr, errlen, "event must be a JSON object");
    return -1;
  }
  int rc = parse_fields(o, ev, errstr, errlen);
  json_decref(o);
  if (rc)
    sp_event_clear(ev);
  return rc;
}
