/* ctrl_proto.c - CTRL over IPA: request encoding, frame decoding, reply
 * parsing. Pure. */
#include "ctrl_proto.h"

#include <stdio.h>
#include <string.h>

#include "crypto.h"

/* What we put on the wire is printable ASCII without spaces: a space would
 * shift the HLR's split of "<var> <value>", a newline end the command. */
static int word_ok(const char *s, size_t len) {
  for (size_t i = 0; i < len; i++)
    if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
      return 0;
  return 1;
}

size_t hp_ctrl_encode(unsigned char *out, size_t outcap, hp_ctrl_type type,
                      unsigned long long id, const char *var, const char *value,
                      char *errstr, size_t errlen) {
  size_t varlen = var ? strlen(var) : 0;
  if (varlen == 0 || varlen > HP_CTRL_VAR_MAX || !word_ok(var, varlen)) {
    snprintf(errstr, errlen,
             "a CTRL variable is 1-%d printable ASCII characters without "
             "spaces",
             HP_CTRL_VAR_MAX);
    return 0;
  }
  size_t valuelen = value ? strlen(value) : 0;
  if (type == HP_CTRL_SET) {
    if (valuelen == 0 || valuelen > HP_CTRL_VALUE_MAX ||
        !word_ok(value, valuelen)) {
      /* Never the value itself: it may be a key. */
      snprintf(errstr, errlen,
               "a CTRL SET value is 1-%d printable ASCII characters without "
               "spaces (variable %s)",
               HP_CTRL_VALUE_MAX, var);
      return 0;
    }
  } else if (type == HP_CTRL_GET) {
    if (valuelen) {
      snprintf(errstr, errlen, "a CTRL GET takes no value (variable %s)", var);
      return 0;
    }
  } else {
    snprintf(errstr, errlen, "unknown CTRL request type %d", (int)type);
    return 0;
  }
  char head[32];
  int hl = snprintf(head, sizeof head, "%s %llu ",
                    type == HP_CTRL_SET ? "SET" : "GET", id);
  size_t payload = 1 + (size_t)hl + varlen + (valuelen ? 1 + valuelen : 0);
  size_t total = HP_IPA_HEADER + payload;
  if (total > outcap) {
    snprintf(errstr, errlen, "a CTRL request of %zu bytes does not fit %zu",
             total, outcap);
    return 0;
  }
  unsigned char *p = out;
  *p++ = (unsigned char)(payload >> 8);
  *p++ = (unsigned char)(payload & 0xff);
  *p++ = HP_IPA_PROTO_OSMO;
  *p++ = HP_IPA_EXT_CTRL;
  memcpy(p, head, (size_t)hl), p += hl;
  memcpy(p, var, varlen), p += varlen;
  if (valuelen) {
    *p++ = ' ';
    memcpy(p, value, valuelen);
  }
  return total;
}

/* ---- decoder ------------------------------------------------------------ */

void hp_ipa_init(hp_ipa_decoder *d) {
  d->start = d->end = d->msglen = 0;
  d->failed = 0;
}

void hp_ipa_release(hp_ipa_decoder *d) {
  sp_wipe(d->msg, d->msglen);
  d->msglen = 0;
}

void hp_ipa_reset(hp_ipa_decoder *d) {
  sp_wipe(d->in, d->end);
  hp_ipa_release(d);
  hp_ipa_init(d);
}

unsigned char *hp_ipa_space(hp_ipa_decoder *d, size_t *avail) {
  if (d->start > 0) {
    /* Move the partial frame to the front and wipe where it was. */
    size_t left = d->end - d->start;
    memmove(d->in, d->in + d->start, left);
    sp_wipe(d->in + left, d->end - left);
    d->start = 0;
    d->end = left;
  }
  *avail = sizeof d->in - d->end;
  return d->in + d->end;
}

void hp_ipa_commit(hp_ipa_decoder *d, size_t n) {
  if (n > sizeof d->in - d->end)
    n = sizeof d->in - d->end;
  d->end += n;
}

size_t hp_ipa_feed(hp_ipa_decoder *d, const void *data, size_t n) {
  size_t avail;
  unsigned char *p = hp_ipa_space(d, &avail);
  if (n > avail)
    n = avail;
  memcpy(p, data, n);
  hp_ipa_commit(d, n);
  return n;
}

static int fail(hp_ipa_decoder *d, char *errstr, size_t errlen, const char *fmt,
                unsigned v) {
  d->failed = 1;
  snprintf(errstr, errlen, fmt, v);
  return -1;
}

/* CTRL text is printable ASCII plus the tabs and newlines of OsmoHLR's
 * multi-line replies. */
static int ctrl_byte_ok(unsigned char c) {
  return (c >= 0x20 && c < 0x7f) || c == '\t' || c == '\n' || c == '\r';
}

int hp_ipa_next(hp_ipa_decoder *d, hp_ipa_msg *out, char *errstr,
                size_t errlen) {
  hp_ipa_release(d);
  if (d->failed) {
    snprintf(errstr, errlen, "the IPA stream already failed");
    return -1;
  }
  size_t have = d->end - d->start;
  if (have < HP_IPA_HEADER)
    return 0;
  const unsigned char *f = d->in + d->start;
  size_t len = (size_t)f[0] << 8 | f[1];
  unsigned char proto = f[2];
  /* Judged on the header alone, so garbage fails before its "payload"
   * (up to 64 KiB of it) has arrived. */
  if (len == 0)
    return fail(d, errstr, errlen, "empty IPA frame (stream 0x%02x)", proto);
  if (proto != HP_IPA_PROTO_OSMO && proto != HP_IPA_PROTO_CCM)
    return fail(d, errstr, errlen, "unexpected IPA stream 0x%02x", proto);
  if (have < HP_IPA_HEADER + len)
    return 0;
  const unsigned char *pl = f + HP_IPA_HEADER;
  if (proto == HP_IPA_PROTO_OSMO) {
    if (pl[0] != HP_IPA_EXT_CTRL)
      return fail(d, errstr, errlen,
                  "IPA OSMO frame with extension 0x%02x, not CTRL (0x00)",
                  pl[0]);
    for (size_t i = 1; i < len; i++)
      if (!ctrl_byte_ok(pl[i]))
        /* The position only: the byte might belong to a key. */
        return fail(d, errstr, errlen,
                    "CTRL message byte %u is not printable ASCII", (unsigned)i);
    d->msglen = len - 1;
    memcpy(d->msg, pl + 1, d->msglen);
  } else {
    d->msglen = len;
    memcpy(d->msg, pl, len);
  }
  d->msg[d->msglen] = '\0';
  sp_wipe(d->in + d->start, HP_IPA_HEADER + len);
  d->start += HP_IPA_HEADER + len;
  if (d->start == d->end)
    d->start = d->end = 0;
  out->proto = proto;
  out->text = d->msg;
  out->len = d->msglen;
  return 1;
}

/* ---- CTRL messages -------------------------------------------------- */

const char *hp_ctrl_msg_kind_name(hp_ctrl_msg_kind k) {
  switch (k) {
  case HP_CTRL_MSG_GET_REPLY:
    return "GET_REPLY";
  case HP_CTRL_MSG_SET_REPLY:
    return "SET_REPLY";
  case HP_CTRL_MSG_ERROR:
    return "ERROR";
  case HP_CTRL_MSG_TRAP:
    return "TRAP";
  }
  return "?";
}

/* The next space-separated word of [*p, end): at least one character. */
static int next_word(const char **p, const char *end, const char **w,
                     size_t *wl) {
  const char *s = *p, *e = s;
  while (e < end && *e != ' ')
    e++;
  if (e == s)
    return -1;
  *w = s;
  *wl = (size_t)(e - s);
  *p = e < end ? e + 1 : e; /* past the single separator */
  return 0;
}

int hp_ctrl_parse(const char *text, size_t len, hp_ctrl_msg *out, char *errstr,
                  size_t errlen) {
  static const struct {
    const char *name;
    hp_ctrl_msg_kind kind;
  } kinds[] = {{"GET_REPLY", HP_CTRL_MSG_GET_REPLY},
               {"SET_REPLY", HP_CTRL_MSG_SET_REPLY},
               {"ERROR", HP_CTRL_MSG_ERROR},
               {"TRAP", HP_CTRL_MSG_TRAP}};
  memset(out, 0, sizeof *out);
  const char *p = text, *end = text + len, *w;
  size_t wl;
  if (!text || next_word(&p, end, &w, &wl) < 0) {
    snprintf(errstr, errlen, "empty CTRL message");
    return -1;
  }
  size_t k = 0;
  for (; k < sizeof kinds / sizeof *kinds; k++)
    if (wl == strlen(kinds[k].name) && !memcmp(w, kinds[k].name, wl))
      break;
  if (k == sizeof kinds / sizeof *kinds) {
    snprintf(errstr, errlen, "unknown CTRL message kind (%zu characters)", wl);
    return -1;
  }
  out->kind = kinds[k].kind;
  const char *kn = kinds[k].name;
  if (next_word(&p, end, &w, &wl) < 0) {
    snprintf(errstr, errlen, "CTRL %s without an id", kn);
    return -1;
  }
  if (out->kind == HP_CTRL_MSG_ERROR && wl == 3 && !memcmp(w, "err", 3)) {
    out->has_id = 0;
  } else {
    unsigned long long id = 0;
    for (size_t i = 0; i < wl; i++) {
      unsigned dg = (unsigned)(unsigned char)w[i] - '0';
      if (dg > 9 || id > (~0ULL - dg) / 10) {
        snprintf(errstr, errlen, "CTRL %s with a bad id", kn);
        return -1;
      }
      id = id * 10 + dg;
    }
    out->has_id = 1;
    out->id = id;
  }
  if (out->kind != HP_CTRL_MSG_ERROR) {
    if (next_word(&p, end, &w, &wl) < 0 || !word_ok(w, wl)) {
      snprintf(errstr, errlen, "CTRL %s without a valid variable", kn);
      return -1;
    }
    out->var = w;
    out->varlen = wl;
  } else {
    out->var = p; /* empty */
  }
  /* The rest, possibly empty, is the value (the reason of an ERROR). */
  out->value = p;
  out->valuelen = (size_t)(end - p);
  return 0;
}

static int is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
         (c >= 'A' && c <= 'F');
}

void hp_ctrl_redact(char *s) {
  if (!s)
    return;
  char *w = s;
  for (const char *r = s; *r;) {
    size_t run = 0;
    while (is_hex(r[run]))
      run++;
    if (run >= 16) {
      memcpy(w, "<hex>", 5); /* shorter than the run: w stays behind r */
      w += 5;
      r += run;
    } else if (run) {
      memmove(w, r, run);
      w += run;
      r += run;
    } else {
      *w++ = *r++;
    }
  }
  /* Nothing of a removed key may stay behind the new end. */
  size_t tail = strlen(w);
  memset(w, 0, tail);
}
