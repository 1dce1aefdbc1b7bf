/* ctrl_client.c - pipelined CTRL client over a non-blocking TCP socket. */
#include "ctrl_client.h"

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "log.h"

#define ADDR_MAX 256
#define PONG_ROOM 16

typedef struct slot {
  int used;
  int expired; /* its timeout broke the connection */
  hp_ctrl_type type;
  unsigned long long id;
  long long deadline_ms; /* monotonic */
  void *tag;
  char var[HP_CTRL_VAR_MAX + 1]; /* the reply must name it again */
} slot;

struct hp_ctrl {
  int fd;
  char addr[ADDR_MAX];
  int window, timeout_ms, outstanding;
  unsigned long long next_id;
  int broken;
  char error[256];
  char done[320]; /* value of a TIMEOUT/BROKEN completion */
  slot *slots;    /* window of them */
  /* Encoded requests not yet taken by the kernel: out[ostart, oend).
   * Room for a whole window, so a submit with a free slot always fits. */
  unsigned char *out;
  size_t outcap, ostart, oend;
  hp_ipa_decoder *dec;
};

const char *hp_ctrl_status_name(hp_ctrl_status s) {
  switch (s) {
  case HP_CTRL_OK:
    return "ok";
  case HP_CTRL_ERROR:
    return "error";
  case HP_CTRL_TIMEOUT:
    return "timeout";
  case HP_CTRL_BROKEN:
    return "broken";
  case HP_CTRL_INVALID:
    return "invalid";
  }
  return "?";
}

static long long mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The connection is given up: the socket closed at once (no late reply
 * can be matched any more), what is in flight completes through poll. */
static void break_conn(hp_ctrl *c, const char *reason) {
  if (c->broken)
    return;
  c->broken = 1;
  snprintf(c->error, sizeof c->error, "%s", reason);
  if (c->fd >= 0)
    close(c->fd);
  c->fd = -1;
  sp_wipe(c->out, c->outcap);
  c->ostart = c->oend = 0;
  hp_ipa_reset(c->dec);
  char n[16];
  snprintf(n, sizeof n, "%d", c->outstanding);
  sp_warn("HLR CTRL connection broken", "addr", c->addr, "reason", reason,
          "in_flight", n);
}

static int alloc_window(hp_ctrl *c, int window, char *errstr, size_t errlen) {
  size_t cap = (size_t)window * HP_CTRL_REQUEST_MAX + PONG_ROOM;
  slot *slots = calloc((size_t)window, sizeof *slots);
  unsigned char *out = sp_secure_alloc(cap);
  if (!slots || !out) {
    free(slots);
    sp_secure_free(out, cap);
    snprintf(errstr, errlen, "out of memory for a CTRL window of %d", window);
    return -1;
  }
  free(c->slots);
  sp_secure_free(c->out, c->outcap);
  c->slots = slots;
  c->out = out;
  c->outcap = cap;
  c->ostart = c->oend = 0;
  c->window = window;
  return 0;
}

/* "host:port", "[v6]:port" -> host and port strings. */
static int split_addr(const char *addr, char *host, size_t hostcap, char *port,
                      size_t portcap) {
  const char *colon, *h = addr;
  size_t hl;
  if (addr[0] == '[') {
    const char *rb = strchr(addr, ']');
    if (!rb || rb[1] != ':')
      return -1;
    h = addr + 1;
    hl = (size_t)(rb - h);
    colon = rb + 1;
  } else {
    colon = strrchr(addr, ':');
    if (!colon)
      return -1;
    hl = (size_t)(colon - addr);
  }
  const char *p = colon + 1;
  size_t pl = strlen(p);
  if (hl == 0 || hl >= hostcap || pl == 0 || pl > 5 || pl >= portcap)
    return -1;
  long v = 0;
  for (size_t i = 0; i < pl; i++) {
    if (p[i] < '0' || p[i] > '9')
      return -1;
    v = v * 10 + (p[i] - '0');
  }
  if (v < 1 || v > 65535)
    return -1;
  memcpy(host, h, hl);
  host[hl] = '\0';
  memcpy(port, p, pl + 1);
  return 0;
}

/* Non-blocking connect to one address, bounded by deadline. */
static int connect_one(const struct addrinfo *ai, long long deadline,
                       int *err) {
  int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                  ai->ai_protocol);
  if (fd < 0) {
    *err = errno;
    return -1;
  }
  if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
    return fd;
  if (errno != EINPROGRESS) {
    *err = errno;
    close(fd);
    return -1;
  }
  for (;;) {
    long long left = deadline - mono_ms();
    if (left <= 0) {
      *err = ETIMEDOUT;
      close(fd);
      return -1;
    }
    struct pollfd pfd = {.fd = fd, .events = POLLOUT};
    int n = poll(&pfd, 1, (int)left);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      *err = errno;
      close(fd);
      return -1;
    }
    if (n == 0)
      continue;
    int so = 0;
    socklen_t sl = sizeof so;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &sl) < 0)
      so = errno;
    if (so) {
      *err = so;
      close(fd);
      return -1;
    }
    return fd;
  }
}

hp_ctrl *hp_ctrl_connect(const char *addr, int timeout_ms, char *errstr,
                         size_t errlen) {
  char host[ADDR_MAX], port[8];
  if (!addr || strlen(addr) >= ADDR_MAX ||
      split_addr(addr, host, sizeof host, port, sizeof port) < 0) {
    snprintf(errstr, errlen,
             "HLR CTRL address \"%.*s\" is not HOST:PORT (e.g. "
             "127.0.0.2:4259)",
             64, addr ? addr : "");
    return NULL;
  }
  if (timeout_ms < 1) {
    snprintf(errstr, errlen, "connect timeout must be at least 1 ms");
    return NULL;
  }
  long long deadline = mono_ms() + timeout_ms;
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                           .ai_flags = AI_NUMERICSERV};
  struct addrinfo *res = NULL;
  int gai = getaddrinfo(host, port, &hints, &res);
  if (gai != 0) {
    snprintf(errstr, errlen, "cannot resolve HLR CTRL host %s: %s", host,
             gai_strerror(gai));
    return NULL;
  }
  int fd = -1, err = 0;
  for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next)
    fd = connect_one(ai, deadline, &err);
  freeaddrinfo(res);
  if (fd < 0) {
    if (err == ETIMEDOUT)
      snprintf(errstr, errlen, "timed out connecting to HLR CTRL %s (%d ms)",
               addr, timeout_ms);
    else
      snprintf(errstr, errlen, "cannot connect to HLR CTRL %s: %s", addr,
               strerror(err));
    return NULL;
  }
  /* Requests are small and pipelined: Nagle would hold them back. */
  int one = 1;
  (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

  hp_ctrl *c = calloc(1, sizeof *c);
  if (!c) {
    close(fd);
    snprintf(errstr, errlen, "out of memory");
    return NULL;
  }
  c->fd = fd;
  snprintf(c->addr, sizeof c->addr, "%s", addr);
  c->timeout_ms = timeout_ms;
  c->next_id = 1;
  c->dec = sp_secure_alloc(sizeof *c->dec);
  if (!c->dec || alloc_window(c, HP_CTRL_DEFAULT_WINDOW, errstr, errlen) < 0) {
    if (!c->dec)
      snprintf(errstr, errlen, "out of memory");
    hp_ctrl_close(c);
    return NULL;
  }
  hp_ipa_init(c->dec);
  return c;
}

void hp_ctrl_close(hp_ctrl *c) {
  if (!c)
    return;
  if (c->fd >= 0)
    close(c->fd);
  sp_secure_free(c->out, c->outcap);
  sp_secure_free(c->dec, sizeof *c->dec);
  free(c->slots);
  free(c);
}

int hp_ctrl_set_window(hp_ctrl *c, int window, char *errstr, size_t errlen) {
  if (window < 1 || window > HP_CTRL_MAX_WINDOW) {
    snprintf(errstr, errlen, "CTRL window must be 1-%d, not %d",
             HP_CTRL_MAX_WINDOW, window);
    return -1;
  }
  if (c->outstanding) {
    snprintf(errstr, errlen,
             "CTRL window cannot change with %d requests in flight",
             c->outstanding);
    return -1;
  }
  return window == c->window ? 0 : alloc_window(c, window, errstr, errlen);
}

int hp_ctrl_window(const hp_ctrl *c) { return c->window; }
void hp_ctrl_set_timeout(hp_ctrl *c, int timeout_ms) {
  c->timeout_ms = timeout_ms < 1 ? 1 : timeout_ms;
}
int hp_ctrl_outstanding(const hp_ctrl *c) { return c->outstanding; }
int hp_ctrl_broken(const hp_ctrl *c) { return c->broken; }
const char *hp_ctrl_error(const hp_ctrl *c) { return c->error; }
const char *hp_ctrl_addr(const hp_ctrl *c) { return c->addr; }

/* Make room for `need` bytes after oend by moving the unsent bytes to the
 * front (and wiping where they were). */
static int out_room(hp_ctrl *c, size_t need) {
  if (c->outcap - c->oend >= need)
    return 1;
  size_t left = c->oend - c->ostart;
  memmove(c->out, c->out + c->ostart, left);
  sp_wipe(c->out + left, c->oend - left);
  c->ostart = 0;
  c->oend = left;
  return c->outcap - c->oend >= need;
}

/* Send what the socket takes now; the sent bytes are wiped at once. */
static void flush(hp_ctrl *c) {
  while (!c->broken && c->ostart < c->oend) {
    ssize_t n = send(c->fd, c->out + c->ostart, c->oend - c->ostart,
                     MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      sp_wipe(c->out + c->ostart, (size_t)n);
      c->ostart += (size_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return;
    char why[200];
    snprintf(why, sizeof why, "sending to the HLR failed: %s",
             n < 0 ? strerror(errno) : "nothing sent");
    break_conn(c, why);
  }
  if (c->ostart == c->oend)
    c->ostart = c->oend = 0;
}

int hp_ctrl_submit(hp_ctrl *c, hp_ctrl_type type, const char *var,
                   const char *value, void *tag, char *errstr, size_t errlen) {
  if (c->broken) {
    snprintf(errstr, errlen, "HLR CTRL connection %s is broken: %s", c->addr,
             c->error);
    return -1;
  }
  if (c->outstanding >= c->window) {
    snprintf(errstr, errlen, "CTRL window full (%d in flight)", c->outstanding);
    return -1;
  }
  slot *s = NULL;
  for (int i = 0; i < c->window && !s; i++)
    if (!c->slots[i].used)
      s = &c->slots[i];
  if (!s || !out_room(c, HP_CTRL_REQUEST_MAX)) {
    snprintf(errstr, errlen, "CTRL client out of slots"); /* cannot happen */
    return -1;
  }
  size_t n = hp_ctrl_encode(c->out + c->oend, c->outcap - c->oend, type,
                            c->next_id, var, value, errstr, errlen);
  if (n == 0)
    return -1;
  c->oend += n;
  s->used = 1;
  s->expired = 0;
  s->type = type;
  s->id = c->next_id++;
  s->tag = tag;
  s->deadline_ms = mono_ms() + c->timeout_ms;
  snprintf(s->var, sizeof s->var, "%s", var);
  c->outstanding++;
  /* A send failure breaks the connection; the request is in flight all
   * the same and completes as HP_CTRL_BROKEN. */
  flush(c);
  return 0;
}

static void complete(hp_ctrl *c, slot *s, hp_ctrl_status st, const char *value,
                     size_t len, hp_ctrl_reply *out) {
  out->tag = s->tag;
  out->status = st;
  out->id = s->id;
  out->value = value;
  out->len = len;
  s->used = 0;
  c->outstanding--;
}

/* After a break: the oldest request still in flight. */
static int drain_one(hp_ctrl *c, hp_ctrl_reply *out) {
  slot *old = NULL;
  for (int i = 0; i < c->window; i++)
    if (c->slots[i].used && (!old || c->slots[i].id < old->id))
      old = &c->slots[i];
  if (!old)
    return 0;
  hp_ctrl_status st = old->expired ? HP_CTRL_TIMEOUT : HP_CTRL_BROKEN;
  int n =
      snprintf(c->done, sizeof c->done, "%s%s",
               old->expired ? "timeout: " : "connection broken: ", c->error);
  if (n < 0 || (size_t)n >= sizeof c->done)
    n = (int)strlen(c->done);
  complete(c, old, st, c->done, (size_t)n, out);
  return 1;
}

static slot *find_slot(hp_ctrl *c, unsigned long long id) {
  for (int i = 0; i < c->window; i++)
    if (c->slots[i].used && c->slots[i].id == id)
      return &c->slots[i];
  return NULL;
}

/* A peer with IPA keep-alive drops a client that does not answer. */
static void send_pong(hp_ctrl *c) {
  if (!out_room(c, 4))
    return; /* the next PING gets one */
  unsigned char *p = c->out + c->oend;
  p[0] = 0, p[1] = 1, p[2] = HP_IPA_PROTO_CCM, p[3] = HP_IPA_CCM_PONG;
  c->oend += 4;
  flush(c);
}

/* Match the messages already received. 1: a completion in *out; 0: none
 * buffered; -1: the connection broke on what came. */
static int take_message(hp_ctrl *c, hp_ctrl_reply *out) {
  for (;;) {
    hp_ipa_msg m;
    hp_ctrl_msg cm;
    char err[160], why[256];
    int r = hp_ipa_next(c->dec, &m, err, sizeof err);
    if (r == 0)
      return 0;
    if (r < 0) {
      snprintf(why, sizeof why, "protocol error: %s", err);
      break_conn(c, why);
      return -1;
    }
    if (m.proto == HP_IPA_PROTO_CCM) {
      if (m.len >= 1 && (unsigned char)m.text[0] == HP_IPA_CCM_PING)
        send_pong(c);
      if (c->broken)
        return -1;
      continue;
    }
    if (hp_ctrl_parse(m.text, m.len, &cm, err, sizeof err) < 0) {
      snprintf(why, sizeof why, "protocol error: %s", err);
      break_conn(c, why);
      return -1;
    }
    if (cm.kind == HP_CTRL_MSG_TRAP)
      continue; /* unsolicited: nothing of ours */
    /* The value lies in the decoder's message buffer, which is ours. */
    char *value = c->dec->msg + (cm.value - c->dec->msg);
    if (cm.kind == HP_CTRL_MSG_ERROR)
      hp_ctrl_redact(value);
    if (!cm.has_id) {
      snprintf(why, sizeof why, "the HLR could not read a request: %.160s",
               value);
      break_conn(c, why);
      return -1;
    }
    slot *s = find_slot(c, cm.id);
    const char *bad = NULL;
    if (!s)
      bad = "a reply to no request in flight";
    else if ((cm.kind == HP_CTRL_MSG_GET_REPLY && s->type != HP_CTRL_GET) ||
             (cm.kind == HP_CTRL_MSG_SET_REPLY && s->type != HP_CTRL_SET))
      bad = "a reply of the wrong kind";
    else if (cm.kind != HP_CTRL_MSG_ERROR &&
             (cm.varlen != strlen(s->var) || memcmp(cm.var, s->var, cm.varlen)))
      bad = "a reply for another variable";
    if (bad) {
      snprintf(why, sizeof why, "protocol error: %s (id %llu)", bad, cm.id);
      break_conn(c, why);
      return -1;
    }
    complete(c, s, cm.kind == HP_CTRL_MSG_ERROR ? HP_CTRL_ERROR : HP_CTRL_OK,
             value, strlen(value), out);
    return 1;
  }
}

/* The earliest deadline in flight. */
static long long earliest(const hp_ctrl *c) {
  long long due = LLONG_MAX;
  for (int i = 0; i < c->window; i++)
    if (c->slots[i].used && c->slots[i].deadline_ms < due)
      due = c->slots[i].deadline_ms;
  return due;
}

/* Requests past their deadline time out, and the connection with them. */
static void expire(hp_ctrl *c, long long now) {
  for (int i = 0; i < c->window; i++)
    if (c->slots[i].used && c->slots[i].deadline_ms <= now)
      c->slots[i].expired = 1;
  char why[96];
  snprintf(why, sizeof why, "no reply from the HLR within %d ms",
           c->timeout_ms);
  break_conn(c, why);
}

/* Read what the socket has now, without waiting; how many bytes came. */
static size_t read_some(hp_ctrl *c) {
  size_t avail;
  unsigned char *p = hp_ipa_space(c->dec, &avail);
  if (avail == 0)
    return 0; /* complete frames wait: take_message first */
  for (;;) {
    ssize_t n = recv(c->fd, p, avail, MSG_DONTWAIT);
    if (n > 0) {
      hp_ipa_commit(c->dec, (size_t)n);
      return (size_t)n;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return 0;
    char why[200];
    snprintf(why, sizeof why, "%s",
             n == 0 ? "the HLR closed the connection" : strerror(errno));
    break_conn(c, why);
    return 0;
  }
}

int hp_ctrl_poll(hp_ctrl *c, int timeout_ms, hp_ctrl_reply *out) {
  hp_ipa_release(c->dec); /* the reply last returned */
  memset(out, 0, sizeof *out);
  if (c->outstanding == 0)
    return 0;
  long long until = mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
  for (int waited = 0;; waited = 1) {
    if (c->broken)
      return drain_one(c, out);
    int r = take_message(c, out);
    if (r > 0)
      return 1;
    if (r < 0)
      continue;
    long long now = mono_ms(), due = earliest(c);
    if (due <= now) {
      /* Replies may be waiting in the socket: a caller that polls late
       * must not lose them to the clock. */
      if (read_some(c) > 0 || c->broken)
        continue;
      expire(c, now);
      continue;
    }
    if (waited && now >= until)
      return 0;
    long long next = due < until ? due : until;
    struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
    if (c->ostart < c->oend)
      pfd.events |= POLLOUT;
    long long wait = next - now;
    int n = poll(&pfd, 1, wait > 0 ? (int)wait : 0);
    if (n < 0 && errno != EINTR) {
      char why[200];
      snprintf(why, sizeof why, "poll: %s", strerror(errno));
      break_conn(c, why);
      continue;
    }
    if (n <= 0)
      continue;
    if (pfd.revents & POLLOUT)
      flush(c);
    if (!c->broken && (pfd.revents & (POLLIN | POLLHUP | POLLERR)))
      read_some(c);
  }
}

hp_ctrl_status hp_ctrl_call(hp_ctrl *c, hp_ctrl_type type, const char *var,
                            const char *value, char *reply, size_t replylen,
                            char *errstr, size_t errlen) {
  if (reply && replylen)
    reply[0] = '\0';
  if (c->outstanding) {
    snprintf(errstr, errlen, "hp_ctrl_call with %d requests in flight",
             c->outstanding);
    return HP_CTRL_INVALID;
  }
  if (c->broken) {
    snprintf(errstr, errlen, "HLR CTRL connection %s is broken: %s", c->addr,
             c->error);
    return HP_CTRL_BROKEN;
  }
  if (hp_ctrl_submit(c, type, var, value, NULL, errstr, errlen) < 0)
    return HP_CTRL_INVALID;
  hp_ctrl_reply r;
  /* poll returns at the latest when the request times out. */
  while (hp_ctrl_poll(c, c->timeout_ms, &r) != 1)
    ;
  hp_ctrl_status st = r.status;
  if (st == HP_CTRL_OK) {
    if (!reply || r.len >= replylen) {
      snprintf(errstr, errlen, "reply of %zu bytes to %s does not fit %zu",
               r.len, var, replylen);
      st = HP_CTRL_INVALID;
    } else {
      memcpy(reply, r.value, r.len + 1);
    }
  } else {
    snprintf(errstr, errlen, "%s", r.value);
  }
  hp_ipa_release(c->dec);
  return st;
}
