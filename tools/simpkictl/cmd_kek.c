/* cmd_kek.c - `simpkictl kek`: the key-encryption keys that seal every
 * stored Ki, OPc and ADM1. `new` adds a key to the KEK file, `status` shows
 * which SIMs are sealed under which key; `rotate` is in kek_rotate.c.
 * No key is ever printed: the file is the only place a KEK is written. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cmds.h"
#include "crypto.h"
#include "kek.h"

#define KEK_FILE_MAX (1024 * 1024)

static void usage_kek(FILE *fp) {
  fprintf(fp,
          "Usage: simpkictl kek [--help] SUBCOMMAND [OPTIONS]\n\n"
          "The key-encryption keys (KEKs) under which every stored Ki, OPc\n"
          "and ADM1 is sealed (AES-256-GCM, the SIM's IMSI as associated\n"
          "data). The KEK file holds one \"KEK_ID HEX64\" per line; the first\n"
          "key is the current one, the others still open older rows.\n\n"
          "Subcommands:\n"
          "  new     generate a key and make it the current one in a KEK file\n"
          "  rotate  re-seal every SIM under the current key, online\n"
          "  status  count the SIMs per KEK id\n\n"
          "Run 'simpkictl kek SUBCOMMAND --help' for its options.\n");
}

static void usage_new(FILE *fp) {
  fprintf(fp,
          "Usage: simpkictl kek new --id ID --file FILE\n\n"
          "Generates a random 256-bit KEK and writes it as the first key of\n"
          "FILE (after its leading comments), so that it becomes the current\n"
          "key; the other lines are kept. FILE is created with mode 0600 when\n"
          "missing (an existing file keeps its mode and owner) and is always\n"
          "rewritten atomically (temporary file, fsync, rename). The key is\n"
          "never printed. A file that group or others may read or write, or\n"
          "that already holds ID, is refused.\n\n"
          "Services read the file at start-up: restart them (or let them\n"
          "reload) so they seal under the new key, then run `kek rotate`.\n\n"
          "ID is 1-64 of A-Z a-z 0-9 . _ -, e.g. kek-2026-11.\n"
          "Exit status: 0 done, 1 refused (reason on stderr), 2 usage.\n");
}

static void usage_status(FILE *fp) {
  fprintf(fp,
          "Usage: simpkictl kek status\n\n"
          "Prints, as JSON, the current KEK id, the ids in the KEK file and\n"
          "the number of SIMs sealed under each KEK id, with whether that id\n"
          "is in the file. Exit status: 0 every stored id is in the file,\n"
          "1 some SIMs are sealed under an id the file lacks (they cannot be\n"
          "opened) or the command failed, 2 usage.\n\n"
          "Environment: SIMPKI_KEK_FILE, SIMPKI_DB_URL (both required).\n");
}

int sp_cmd_kek(int argc, char **argv) {
  if (argc < 2 || sp_is_help(argv[1])) {
    usage_kek(argc < 2 ? stderr : stdout);
    return argc < 2 ? SP_EXIT_USAGE : SP_EXIT_OK;
  }
  if (!strcmp(argv[1], "new"))
    return sp_kek_new(argc - 1, argv + 1);
  if (!strcmp(argv[1], "rotate"))
    return sp_kek_rotate(argc - 1, argv + 1);
  if (!strcmp(argv[1], "status"))
    return sp_kek_status(argc - 1, argv + 1);
  fprintf(stderr, "simpkictl kek: unknown subcommand \"%s\"\n\n", argv[1]);
  usage_kek(stderr);
  return SP_EXIT_USAGE;
}

/* ---- new ------------------------------------------------------------------
 */

/* Replace path with data: a fresh temporary file beside it (O_EXCL, so a
 * planted file or symlink is never written through), fsync, rename, fsync
 * of the folder. owner, when given, keeps the old file's owner: root adding
 * a key must not leave the service unable to read its own file. */
static int write_secret_atomic(const char *path, const char *data, size_t len,
                               mode_t mode, const struct stat *owner,
                               char *errstr, size_t errlen) {
  char tmp[PATH_MAX], dir[PATH_MAX];
  if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= (int)sizeof tmp) {
    snprintf(errstr, errlen, "path too long: %s", path);
    return -1;
  }
  int fd = mkostemp(tmp, O_CLOEXEC); /* mode 0600 */
  if (fd < 0) {
    snprintf(errstr, errlen, "cannot create a temporary file beside %s: %s",
             path, strerror(errno));
    return -1;
  }
  size_t off = 0;
  while (off < len) {
    ssize_t n = write(fd, data + off, len - off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    off += (size_t)n;
  }
  int bad = off != len || fchmod(fd, mode) != 0 ||
            (owner && (owner->st_uid != geteuid() ||
                       owner->st_gid != getegid()) &&
             fchown(fd, owner->st_uid, owner->st_gid) != 0) ||
            fsync(fd) != 0;
  int saved = errno;
  if (close(fd) != 0 && !bad) {
    bad = 1;
    saved = errno;
  }
  if (bad || rename(tmp, path) != 0) {
    if (!bad)
      saved = errno;
    snprintf(errstr, errlen, "cannot write %s: %s", path, strerror(saved));
    unlink(tmp);
    return -1;
  }
  snprintf(dir, sizeof dir, "%s", path);
  int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)fsync(dfd); /* the rename itself must survive a crash */
    close(dfd);
  }
  return 0;
}

/* Two `kek new` at once must not lose a key: both read-modify-write the
 * file, so they take turns on a lock of its folder. */
static int lock_folder(const char *path, char *errstr, size_t errlen) {
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s", path);
  const char *d = dirname(dir);
  int fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || flock(fd, LOCK_EX) != 0) {
    snprintf(errstr, errlen, "cannot lock folder %s: %s", d, strerror(errno));
    if (fd >= 0)
      close(fd);
    return -1;
  }
  return fd;
}

/* Length of the run of blank and # lines at the start of text. */
static size_t leading_comments(const char *text, size_t len) {
  size_t pos = 0;
  while (pos < len) {
    size_t i = pos;
    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r'))
      i++;
    if (i < len && text[i] != '#' && text[i] != '\n')
      break;
    const char *nl = memchr(text + i, '\n', len - i);
    pos = nl ? (size_t)(nl - text) + 1 : len;
  }
  return pos;
}

static int new_key(const char *id, const char *file, char *err, size_t errlen) {
  char *old = NULL, *text = NULL;
  unsigned char key[SP_AES256_KEY_BYTES];
  size_t oldlen = 0, cap = 0;
  sp_keystore *ks = NULL;
  mode_t mode = 0600;
  int rc = -1;
  struct stat st;
  int lock = lock_folder(file, err, errlen);
  if (lock < 0)
    return -1;
  if (stat(file, &st) == 0) {
    if (sp_secret_file_read(file, "KEK file", KEK_FILE_MAX, &old, &oldlen, err,
                            errlen) != 0)
      goto out;
    mode = st.st_mode & 0700; /* keep a stricter owner mode, e.g. 0400 */
  } else if (errno != ENOENT) {
    snprintf(err, errlen, "cannot read KEK file %s: %s", file, strerror(errno));
    goto out;
  }
  char origin[PATH_MAX + 16];
  snprintf(origin, sizeof origin, "KEK file %s", file);
  /* The existing lines are kept verbatim, so they must be valid first. */
  ks = sp_keystore_parse(old ? old : "", oldlen, origin, 1, err, errlen);
  if (!ks)
    goto out;
  if (sp_keystore_has(ks, id)) {
    snprintf(err, errlen, "KEK id %s is already in %s", id, file);
    goto out;
  }
  sp_keystore_close(ks);
  ks = NULL;

  static const char header[] =
      "# simpki key-encryption keys: \"KEK_ID HEX64\" per line, the first is\n"
      "# the current one. Keep this file mode 0600; never copy it around.\n";
  cap = sizeof header + strlen(id) + 3 + 2 * sizeof key + oldlen + 1;
  text = sp_secure_alloc(cap);
  if (!text) {
    snprintf(err, errlen, "out of memory");
    goto out;
  }
  if (sp_random_bytes(key, sizeof key, err, errlen) != 0)
    goto out;
  /* The new line goes after the file's leading comments (its header) and
   * before every other key. */
  size_t n = 0, head = old ? leading_comments(old, oldlen) : 0;
  if (!old) {
    memcpy(text, header, sizeof header - 1);
    n = sizeof header - 1;
  }
  memcpy(text + n, old ? old : "", head);
  n += head;
  if (n && text[n - 1] != '\n')
    text[n++] = '\n';
  n += (size_t)snprintf(text + n, cap - n, "%s ", id);
  sp_hex_encode(key, sizeof key, text + n);
  sp_wipe(key, sizeof key);
  n += 2 * sizeof key;
  text[n++] = '\n';
  memcpy(text + n, old ? old + head : "", oldlen - head);
  n += oldlen - head;
  /* What is written must read back with the new key current. */
  ks = sp_keystore_parse(text, n, origin, 0, err, errlen);
  if (!ks)
    goto out;
  if (strcmp(sp_keystore_current_id(ks), id) != 0) {
    snprintf(err, errlen, "internal error: %s would not be current", id);
    goto out;
  }
  if (write_secret_atomic(file, text, n, mode, old ? &st : NULL, err,
                          errlen) != 0)
    goto out;
  json_t *j = json_pack("{s:s, s:s, s:I, s:s}", "kek_id", id, "file", file,
                        "keys", (json_int_t)sp_keystore_count(ks), "status",
                        old ? "added" : "created");
  char *s = json_dumps(j, JSON_SORT_KEYS);
  printf("%s\n", s);
  free(s);
  json_decref(j);
  rc = 0;
out:
  sp_wipe(key, sizeof key);
  sp_keystore_close(ks);
  if (text)
    sp_secure_free(text, cap);
  if (old)
    sp_secure_free(old, oldlen + 1);
  close(lock);
  return rc;
}

int sp_kek_new(int argc, char **argv) {
  static const struct option opts[] = {{"id", required_argument, NULL, 'i'},
                                       {"file", required_argument, NULL, 'f'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  const char *id = NULL, *file = NULL;
  optind = 0;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
    switch (c) {
    case 'i':
      id = optarg;
      break;
    case 'f':
      file = optarg;
      break;
    case 'h':
      usage_new(stdout);
      return SP_EXIT_OK;
    default:
      fprintf(stderr, "simpkictl kek new: bad option or missing value: %s\n\n",
              argv[optind - 1]);
      usage_new(stderr);
      return SP_EXIT_USAGE;
    }
  }
  if (optind < argc || !id || !file || !*file) {
    fprintf(stderr, "simpkictl kek new: give --id and --file%s\n\n",
            optind < argc ? " and nothing else" : "");
    usage_new(stderr);
    return SP_EXIT_USAGE;
  }
  if (!sp_key_id_valid(id)) {
    fprintf(stderr,
            "simpkictl kek new: bad --id (1 to 64 of A-Z a-z 0-9 . _ -)\n");
    return SP_EXIT_USAGE;
  }
  char err[1024];
  if (new_key(id, file, err, sizeof err) != 0) {
    fprintf(stderr, "simpkictl kek new: %s\n", err);
    return SP_EXIT_FAIL;
  }
  return SP_EXIT_OK;
}

/* ---- status ---------------------------------------------------------------
 */

int sp_kek_status(int argc, char **argv) {
  if (argc > 1 && sp_is_help(argv[1])) {
    usage_status(stdout);
    return SP_EXIT_OK;
  }
  if (argc > 1) {
    fprintf(stderr, "simpkictl kek status: unexpected argument \"%s\"\n\n",
            argv[1]);
    usage_status(stderr);
    return SP_EXIT_USAGE;
  }
  char err[1024];
  sp_keystore *ks = sp_keystore_open_env(err, sizeof err);
  if (!ks) {
    fprintf(stderr, "simpkictl kek status: %s\n", err);
    return SP_EXIT_FAIL;
  }
  sp_db *db = sp_cli_open_db("simpkictl kek status");
  if (!db) {
    sp_keystore_close(ks);
    return SP_EXIT_FAIL;
  }
  PGresult *r = sp_db_query(sp_db_conn(db),
                            "SELECT kek_id, count(*) FROM sims GROUP BY kek_id "
                            "ORDER BY kek_id",
                            0, NULL, err, sizeof err);
  int rc = SP_EXIT_OK;
  if (!r) {
    fprintf(stderr, "simpkictl kek status: %s\n", err);
    rc = SP_EXIT_FAIL;
  } else {
    json_t *keys = json_array(), *sims = json_array();
    for (size_t i = 0; i < sp_keystore_count(ks); i++)
      json_array_append_new(keys, json_string(sp_keystore_id(ks, i)));
    long long total = 0, missing = 0, stale = 0;
    for (int i = 0; i < PQntuples(r); i++) {
      const char *id = PQgetvalue(r, i, 0);
      long long n = strtoll(PQgetvalue(r, i, 1), NULL, 10);
      int in_file = sp_keystore_has(ks, id);
      int current = !strcmp(id, sp_keystore_current_id(ks));
      total += n;
      stale += current ? 0 : n;
      if (!in_file) {
        missing += n;
        fprintf(stderr,
                "simpkictl kek status: %lld SIMs are sealed under KEK id %s, "
                "which the KEK file lacks: they cannot be opened\n",
                n, id);
      }
      json_array_append_new(sims,
                            json_pack("{s:s, s:I, s:b, s:b}", "kek_id", id,
                                      "count", (json_int_t)n, "in_file",
                                      in_file, "current", current));
    }
    json_t *j =
        json_pack("{s:s, s:o, s:o, s:I, s:I}", "current_kek_id",
                  sp_keystore_current_id(ks), "file_keys", keys, "sims", sims,
                  "total", (json_int_t)total, "not_current", (json_int_t)stale);
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
    printf("%s\n", s);
    free(s);
    json_decref(j);
    PQclear(r);
    if (missing)
      rc = SP_EXIT_FAIL;
  }
  sp_db_close(db);
  sp_keystore_close(ks);
  return rc;
}
