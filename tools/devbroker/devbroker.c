/* devbroker - a loopback Kafka cluster for tests and the local stack.
 *
 * Runs librdkafka's mock cluster (rdkafka_mock.h) in its own process so that
 * other processes (services, kcat, tests) can use it through an ordinary
 * bootstrap.servers string. Messages live in memory only.
 *
 *   devbroker [--brokers N] [--topic NAME[:PARTITIONS]]... \
 *             [--bootstrap-file FILE] [--control FIFO]
 *   devbroker ctl FIFO down 2
 *
 * The bootstrap string is printed on stdout (one line) once the cluster, the
 * requested topics and the control FIFO all exist, so a reader of that line
 * may use all of them at once. Fault control commands arrive as lines on the
 * FIFO and are acknowledged as JSON log lines on stderr. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define DB_MAX_BROKERS 32
#define DB_MAX_PARTITIONS 10000
#define DB_DEFAULT_BROKERS 3
#define DB_DEFAULT_PARTITIONS 3
#define DB_LINE_MAX 1024

typedef struct {
  rd_kafka_mock_cluster_t *mcluster;
  int brokers;
  long seq; /* control commands handled, echoed in each ack */
} db_state;

/* ---- logging: one JSON object per line on stderr ------------------------ */

static void db_log_v(const char *level, const char *msg, va_list ap) {
  struct timeval tv;
  struct tm tm;
  char ts[64];
  json_t *o = json_object();
  const char *k;
  char *line;

  gettimeofday(&tv, NULL);
  gmtime_r(&tv.tv_sec, &tm);
  snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
           tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
           tm.tm_min, tm.tm_sec, (long)(tv.tv_usec / 1000));
  json_object_set_new(o, "time", json_string(ts));
  json_object_set_new(o, "level", json_string(level));
  json_object_set_new(o, "service", json_string("devbroker"));
  json_object_set_new(o, "msg", json_string(msg));
  while ((k = va_arg(ap, const char *)) != NULL) {
    const char *v = va_arg(ap, const char *);
    /* Lines from the FIFO may hold invalid UTF-8: jansson refuses those. */
    json_t *js = json_string(v ? v : "");
    json_object_set_new(o, k, js ? js : json_string("(invalid utf-8)"));
  }
  line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
  if (line) {
    fprintf(stderr, "%s\n", line);
    fflush(stderr);
    free(line);
  }
  json_decref(o);
}

/* Fields: key, value, ..., NULL. */
static void db_log(const char *level, const char *msg, ...) {
  va_list ap;
  va_start(ap, msg);
  db_log_v(level, msg, ap);
  va_end(ap);
}

/* librdkafka's own log lines, in the same format. */
static void db_rdkafka_log(const rd_kafka_t *rk, int level, const char *fac,
                           const char *buf) {
  (void)rk;
  /* Our handle never connects anywhere: it only hosts the cluster. */
  if (strstr(buf, "bootstrap.servers"))
    return;
  db_log(level <= 3 ? "error" : level <= 4 ? "warn" : "info", buf,
         "facility", fac, NULL);
}

/* ---- small parsers ------------------------------------------------------ */

/* Decimal integer in [min, max], nothing else in the string. */
static int db_parse_int(const char *s, long min, long max, long *out) {
  char *end;
  long v;
  if (!s || !*s || *s == '+' || *s == '-')
    return -1;
  errno = 0;
  v = strtol(s, &end, 10);
  if (errno || *end || v < min || v > max)
    return -1;
  *out = v;
  return 0;
}

/* Kafka's legal topic names: [a-zA-Z0-9._-], 1..249 characters. */
static int db_topic_name_ok(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 249 || !strcmp(s, ".") || !strcmp(s, ".."))
    return 0;
  for (; *s; s++)
    if (!(((*s | 32) >= 'a' && (*s | 32) <= 'z') || (*s >= '0' && *s <= '9') ||
          *s == '.' || *s == '_' || *s == '-'))
      return 0;
  return 1;
}

static int db_create_topic(db_state *st, const char *name, long partitions,
                           char *errstr, size_t errlen) {
  rd_kafka_resp_err_t err;
  if (!db_topic_name_ok(name)) {
    snprintf(errstr, errlen,
             "bad topic name (use 1-249 of [a-zA-Z0-9._-])");
    return -1;
  }
  err = rd_kafka_mock_topic_create(st->mcluster, name, (int)partitions, 1);
  if (err) {
    snprintf(errstr, errlen, "%s", rd_kafka_err2str(err));
    return -1;
  }
  return 0;
}

/* ---- control FIFO ------------------------------------------------------- */

static void db_ack(db_state *st, const char *line, const char *errmsg) {
  char seq[32];
  snprintf(seq, sizeof(seq), "%ld", ++st->seq);
  if (errmsg)
    db_log("error", "control command failed", "cmd", line, "result", "error",
           "reason", errmsg, "seq", seq, NULL);
  else
    db_log("info", "control command done", "cmd", line, "result", "ok",
           "seq", seq, NULL);
}

static void db_handle_line(db_state *st, char *line) {
  char copy[DB_LINE_MAX];
  char errstr[256];
  char *save = NULL, *verb, *a1, *a2, *extra;
  long n;

  line[strcspn(line, "\r")] = '\0';
  snprintf(copy, sizeof(copy), "%s", line);
  verb = strtok_r(line, " \t", &save);
  if (!verb)
    return; /* blank line */
  a1 = strtok_r(NULL, " \t", &save);
  a2 = strtok_r(NULL, " \t", &save);
  extra = strtok_r(NULL, " \t", &save);

  if (!strcmp(verb, "down") || !strcmp(verb, "up")) {
    rd_kafka_resp_err_t err;
    if (!a1 || a2) {
      db_ack(st, copy, "usage: down|up BROKER_ID");
      return;
    }
    if (db_parse_int(a1, 1, st->brokers, &n)) {
      snprintf(errstr, sizeof(errstr), "broker id must be 1..%d",
               st->brokers);
      db_ack(st, copy, errstr);
      return;
    }
    err = !strcmp(verb, "down")
              ? rd_kafka_mock_broker_set_down(st->mcluster, (int32_t)n)
              : rd_kafka_mock_broker_set_up(st->mcluster, (int32_t)n);
    db_ack(st, copy, err ? rd_kafka_err2str(err) : NULL);
  } else if (!strcmp(verb, "create")) {
    if (!a1 || !a2 || extra) {
      db_ack(st, copy, "usage: create TOPIC PARTITIONS");
      return;
    }
    if (db_parse_int(a2, 1, DB_MAX_PARTITIONS, &n)) {
      db_ack(st, copy, "partitions must be 1..10000");
      return;
    }
    if (db_create_topic(st, a1, n, errstr, sizeof(errstr)))
      db_ack(st, copy, errstr);
    else
      db_ack(st, copy, NULL);
  } else {
    db_ack(st, copy, "unknown command (down N, up N, create TOPIC PARTS)");
  }
}

/* Reads what is there and handles every complete line. Over-long lines are
 * dropped whole (with an error ack) rather than split into commands. */
static void db_read_control(db_state *st, int fd, char *buf, size_t *len,
                            int *discarding) {
  for (;;) {
    ssize_t r = read(fd, buf + *len, DB_LINE_MAX - 1 - *len);
    char *nl;
    if (r < 0) {
      if (errno != EAGAIN && errno != EINTR)
        db_log("error", "control read failed", "error", strerror(errno),
               NULL);
      return;
    }
    if (r == 0)
      return;
    *len += (size_t)r;
    buf[*len] = '\0';
    while ((nl = memchr(buf, '\n', *len)) != NULL) {
      size_t used = (size_t)(nl - buf) + 1;
      *nl = '\0';
      if (*discarding)
        *discarding = 0;
      else
        db_handle_line(st, buf);
      memmove(buf, buf + used, *len - used);
      *len -= used;
    }
    if (*len == DB_LINE_MAX - 1) {
      if (!*discarding)
        db_ack(st, "(too long)", "line too long");
      *discarding = 1;
      *len = 0;
    }
  }
}

static int db_open_control(const char *path, char *errstr, size_t errlen) {
  struct stat sb;
  int fd;
  if (mkfifo(path, 0600) < 0) {
    if (errno != EEXIST) {
      snprintf(errstr, errlen, "mkfifo %s: %s", path, strerror(errno));
      return -1;
    }
    if (stat(path, &sb) < 0 || !S_ISFIFO(sb.st_mode)) {
      snprintf(errstr, errlen, "%s exists and is not a FIFO", path);
      return -1;
    }
  }
  /* Read-write: we hold a writer ourselves, so the last client closing its
   * end never gives us EOF. */
  fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    snprintf(errstr, errlen, "open %s: %s", path, strerror(errno));
    return -1;
  }
  return fd;
}

/* ---- `devbroker ctl FIFO WORDS...` -------------------------------------- */

static int db_ctl_main(int argc, char **argv) {
  char line[DB_LINE_MAX];
  size_t len = 0;
  struct stat sb;
  int fd, i;
  ssize_t w;

  if (argc < 3) {
    fprintf(stderr, "usage: devbroker ctl FIFO down|up BROKER_ID\n"
                    "       devbroker ctl FIFO create TOPIC PARTITIONS\n");
    return 2;
  }
  for (i = 2; i < argc; i++) {
    int n = snprintf(line + len, sizeof(line) - len, "%s%s",
                     i > 2 ? " " : "", argv[i]);
    if (n < 0 || (size_t)n >= sizeof(line) - len - 1) {
      fprintf(stderr, "devbroker ctl: command too long\n");
      return 2;
    }
    len += (size_t)n;
  }
  line[len++] = '\n';
  if (stat(argv[1], &sb) < 0 || !S_ISFIFO(sb.st_mode)) {
    fprintf(stderr, "devbroker ctl: %s is not a devbroker control FIFO\n",
            argv[1]);
    return 1;
  }
  /* Non-blocking open fails with ENXIO when nobody reads: better than
   * hanging forever on a dead broker. */
  fd = open(argv[1], O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    fprintf(stderr, "devbroker ctl: %s: %s\n", argv[1],
            errno == ENXIO ? "no devbroker is listening" : strerror(errno));
    return 1;
  }
  /* Shorter than PIPE_BUF, so one atomic write. */
  w = write(fd, line, len);
  close(fd);
  if (w != (ssize_t)len) {
    fprintf(stderr, "devbroker ctl: write %s: %s\n", argv[1],
            w < 0 ? strerror(errno) : "short write");
    return 1;
  }
  return 0;
}

/* ---- main --------------------------------------------------------------- */

static void db_usage(FILE *fp) {
  fprintf(fp,
          "usage: devbroker [OPTIONS]\n"
          "       devbroker ctl FIFO COMMAND...\n"
          "\n"
          "A loopback Kafka cluster (librdkafka's mock cluster) for tests and\n"
          "the local stack. Prints its bootstrap.servers string on stdout once\n"
          "ready, then runs until SIGTERM or SIGINT. Messages are kept in\n"
          "memory only. Topics not created up front are auto-created on first\n"
          "use.\n"
          "\n"
          "options:\n"
          "  --brokers N               brokers in the cluster, ids 1..N "
          "(default %d)\n"
          "  --topic NAME[:PARTITIONS] create a topic (default %d partitions,\n"
          "                            replication 1); repeatable\n"
          "  --bootstrap-file FILE     also write the bootstrap string to FILE\n"
          "  --control FIFO            create FIFO and read control commands\n"
          "                            from it, one per line:\n"
          "                              down N    take broker N down\n"
          "                              up N      bring broker N back\n"
          "                              create TOPIC PARTITIONS\n"
          "                            each is acknowledged by a JSON log line\n"
          "                            on stderr (\"result\":\"ok\"|\"error\")\n"
          "  -h, --help                this text\n"
          "\n"
          "client:\n"
          "  devbroker ctl FIFO down 2   writes one command line to FIFO\n"
          "                              (same as: echo \"down 2\" > FIFO)\n",
          DB_DEFAULT_BROKERS, DB_DEFAULT_PARTITIONS);
}

typedef struct {
  char *name;
  long partitions;
} db_topic_arg;

int main(int argc, char **argv) {
  static const struct option longopts[] = {
      {"brokers", required_argument, NULL, 'b'},
      {"topic", required_argument, NULL, 't'},
      {"bootstrap-file", required_argument, NULL, 'f'},
      {"control", required_argument, NULL, 'c'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  db_topic_arg *topics = NULL;
  int ntopics = 0;
  const char *bootstrap_file = NULL, *control = NULL;
  long brokers = DB_DEFAULT_BROKERS;
  char errstr[512];
  char cbuf[DB_LINE_MAX];
  size_t clen = 0;
  int discarding = 0;
  int opt, i, ctlfd = -1, sigfd, rc = 1;
  sigset_t mask;
  rd_kafka_conf_t *conf;
  rd_kafka_t *rk;
  db_state st = {0};
  const char *bootstraps;

  if (argc >= 2 && !strcmp(argv[1], "ctl"))
    return db_ctl_main(argc - 1, argv + 1);

  while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (opt) {
    case 'b':
      if (db_parse_int(optarg, 1, DB_MAX_BROKERS, &brokers)) {
        fprintf(stderr, "devbroker: --brokers must be 1..%d\n",
                DB_MAX_BROKERS);
        goto out_args;
      }
      break;
    case 't': {
      /* Copied, so /proc/PID/cmdline keeps showing what was given. */
      char *name = strdup(optarg), *colon;
      long parts = DB_DEFAULT_PARTITIONS;
      db_topic_arg *nt;
      if (!name) {
        fprintf(stderr, "devbroker: out of memory\n");
        goto out_args;
      }
      colon = strrchr(name, ':');
      if (colon) {
        *colon = '\0';
        if (db_parse_int(colon + 1, 1, DB_MAX_PARTITIONS, &parts)) {
          fprintf(stderr, "devbroker: --topic %s: partitions must be 1..%d\n",
                  optarg, DB_MAX_PARTITIONS);
          free(name);
          goto out_args;
        }
      }
      if (!db_topic_name_ok(name)) {
        fprintf(stderr,
                "devbroker: --topic '%s': bad name (use 1-249 of "
                "[a-zA-Z0-9._-])\n",
                optarg);
        free(name);
        goto out_args;
      }
      nt = realloc(topics, sizeof(*topics) * (size_t)(ntopics + 1));
      if (!nt) {
        fprintf(stderr, "devbroker: out of memory\n");
        free(name);
        goto out_args;
      }
      topics = nt;
      topics[ntopics].name = name;
      topics[ntopics].partitions = parts;
      ntopics++;
      break;
    }
    case 'f':
      bootstrap_file = optarg;
      break;
    case 'c':
      control = optarg;
      break;
    case 'h':
      db_usage(stdout);
      rc = 0;
      goto out_args;
    default:
      db_usage(stderr);
      goto out_args;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "devbroker: unexpected argument '%s' (see --help)\n",
            argv[optind]);
    goto out_args;
  }

  /* Block the signals before librdkafka starts its threads, so they all
   * inherit the mask and only our signalfd sees them. */
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  signal(SIGPIPE, SIG_IGN);
  sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
  if (sigfd < 0) {
    fprintf(stderr, "devbroker: signalfd: %s\n", strerror(errno));
    goto out_free;
  }

  conf = rd_kafka_conf_new();
  rd_kafka_conf_set_log_cb(conf, db_rdkafka_log);
  if (rd_kafka_conf_set(conf, "client.id", "devbroker", errstr,
                        sizeof(errstr)) != RD_KAFKA_CONF_OK) {
    fprintf(stderr, "devbroker: %s\n", errstr);
    rd_kafka_conf_destroy(conf);
    goto out_sig;
  }
  rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (!rk) {
    fprintf(stderr, "devbroker: rd_kafka_new: %s\n", errstr);
    goto out_sig;
  }
  st.brokers = (int)brokers;
  st.mcluster = rd_kafka_mock_cluster_new(rk, st.brokers);
  if (!st.mcluster) {
    fprintf(stderr, "devbroker: could not create the mock cluster\n");
    goto out_rk;
  }

  for (i = 0; i < ntopics; i++) {
    if (db_create_topic(&st, topics[i].name, topics[i].partitions, errstr,
                        sizeof(errstr))) {
      fprintf(stderr, "devbroker: --topic %s: %s\n", topics[i].name, errstr);
      goto out_cluster;
    }
  }

  if (control) {
    ctlfd = db_open_control(control, errstr, sizeof(errstr));
    if (ctlfd < 0) {
      fprintf(stderr, "devbroker: --control: %s\n", errstr);
      goto out_cluster;
    }
  }

  bootstraps = rd_kafka_mock_cluster_bootstraps(st.mcluster);
  if (bootstrap_file) {
    /* Write then rename, so a poller never reads half a line. */
    char tmp[PATH_MAX];
    FILE *fp;
    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", bootstrap_file, (long)getpid());
    fp = fopen(tmp, "w");
    if (!fp || fprintf(fp, "%s\n", bootstraps) < 0 || fclose(fp) != 0 ||
        rename(tmp, bootstrap_file) < 0) {
      fprintf(stderr, "devbroker: --bootstrap-file %s: %s\n", bootstrap_file,
              strerror(errno));
      unlink(tmp);
      goto out_ctl;
    }
  }
  printf("%s\n", bootstraps);
  fflush(stdout);
  {
    char nb[16];
    snprintf(nb, sizeof(nb), "%d", st.brokers);
    db_log("info", "ready", "bootstrap", bootstraps, "brokers", nb,
           "control", control ? control : "", NULL);
  }

  for (;;) {
    struct pollfd pfd[2] = {{sigfd, POLLIN, 0}, {ctlfd, POLLIN, 0}};
    int n = poll(pfd, ctlfd >= 0 ? 2 : 1, -1);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      db_log("error", "poll failed", "error", strerror(errno), NULL);
      goto out_ctl;
    }
    if (pfd[0].revents & POLLIN) {
      struct signalfd_siginfo si;
      if (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        db_log("info", "stopping", "signal", strsignal((int)si.ssi_signo),
               NULL);
        break;
      }
    }
    if (ctlfd >= 0 && (pfd[1].revents & POLLIN))
      db_read_control(&st, ctlfd, cbuf, &clen, &discarding);
  }
  rc = 0;

out_ctl:
  if (ctlfd >= 0) {
    close(ctlfd);
    unlink(control);
  }
out_cluster:
  rd_kafka_mock_cluster_destroy(st.mcluster);
out_rk:
  rd_kafka_destroy(rk);
out_sig:
  close(sigfd);
  goto out_free;
out_args:
  /* Option errors are usage errors. */
  if (rc)
    rc = 2;
out_free:
  for (i = 0; i < ntopics; i++)
    free(topics[i].name);
  free(topics);
  return rc;
}
