/* line_reader.c - bounded line reading over stdio. */
#include "line_reader.h"

#include <stdlib.h>
#include <string.h>

#include "crypto.h"

#define CHUNK (64 * 1024)

int vx_line_reader_init(vx_line_reader *r, FILE *fp, size_t max_line) {
  memset(r, 0, sizeof *r);
  r->fp = fp;
  r->max_line = max_line;
  r->cap = CHUNK > max_line + 2 ? CHUNK : max_line + 2;
  r->buf = malloc(r->cap);
  return r->buf ? 0 : -1;
}

void vx_line_reader_free(vx_line_reader *r) {
  free(r->buf);
  r->buf = NULL;
  EVP_MD_CTX_free(r->md);
  r->md = NULL;
}

int vx_line_reader_digest(vx_line_reader *r) {
  if (r->md || r->len || r->eof)
    return -1; /* too late: bytes were read without it */
  r->md = EVP_MD_CTX_new();
  return r->md && EVP_DigestInit_ex(r->md, EVP_sha256(), NULL) == 1 ? 0 : -1;
}

int vx_line_reader_digest_final(vx_line_reader *r, char hex[65]) {
  if (!r->md)
    return -1;
  while (!r->eof) {
    r->pos = r->len = 0; /* the lines left are only hashed */
    size_t got = fread(r->buf, 1, r->cap, r->fp);
    if (got == 0) {
      r->eof = 1;
      r->error = ferror(r->fp) != 0;
    } else if (EVP_DigestUpdate(r->md, r->buf, got) != 1) {
      r->error = 1;
    }
  }
  r->pos = r->len = 0;
  unsigned char d[32];
  if (r->error || EVP_DigestFinal_ex(r->md, d, NULL) != 1)
    return -1;
  EVP_MD_CTX_free(r->md);
  r->md = NULL;
  sp_hex_encode(d, sizeof d, hex);
  return 0;
}

/* Move what is left to the front and read more; 0 when nothing came. */
static size_t refill(vx_line_reader *r) {
  if (r->pos > 0) {
    memmove(r->buf, r->buf + r->pos, r->len - r->pos);
    r->len -= r->pos;
    r->pos = 0;
  }
  if (r->eof || r->len == r->cap)
    return 0;
  size_t got = fread(r->buf + r->len, 1, r->cap - r->len, r->fp);
  if (got == 0) {
    r->eof = 1;
    r->error = ferror(r->fp) != 0;
  } else if (r->md && EVP_DigestUpdate(r->md, r->buf + r->len, got) != 1) {
    r->eof = r->error = 1;
  }
  r->len += got;
  return got;
}

int vx_line_next(vx_line_reader *r, const char **line, size_t *len,
                 char *errstr, size_t errlen) {
  for (;;) {
    char *start = r->buf + r->pos;
    size_t avail = r->len - r->pos;
    char *nl = memchr(start, '\n', avail);
    size_t n = nl ? (size_t)(nl - start) : avail;
    if (n > r->max_line + (nl && n && start[n - 1] == '\r')) {
      r->lineno++;
      snprintf(errstr, errlen, "line %ld is longer than %zu bytes",
               r->lineno, r->max_line);
      return -1;
    }
    if (nl || (r->eof && avail > 0)) {
      r->lineno++;
      r->pos += n + (nl ? 1 : 0);
      if (n && start[n - 1] == '\r')
        n--;
      if (memchr(start, '\0', n)) {
        snprintf(errstr, errlen, "line %ld holds a NUL byte (a binary file?)",
                 r->lineno);
        return -1;
      }
      *line = start;
      *len = n;
      return 1;
    }
    if (r->eof) {
      if (r->error)
        snprintf(errstr, errlen, "cannot read the file");
      return r->error ? -2 : 0;
    }
    refill(r);
  }
}
