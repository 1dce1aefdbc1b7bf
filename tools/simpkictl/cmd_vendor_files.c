/* cmd_vendor_files.c - `simpkictl vendor input|ingest|simulate`: the files
 * exchanged with a SIM vendor (B3, B4) and the vendor simulator. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmds.h"
#include "config.h"
#include "crypto.h"
#include "ingest.h"
#include "issue.h"
#include "simulate.h"

#define MAX_INPUT_FILE (64 * 1024)

static void usage(FILE *fp) {
  fprintf(fp,
          "Usage: simpkictl vendor input BATCH_ID [-o FILE]\n"
          "       simpkictl vendor ingest FILE [--file-away DIR]\n"
          "       simpkictl vendor simulate INPUT_FILE --transport-key FILE\n"
          "                 -o OUTPUT_FILE [--defect NAME] [--crlf]\n"
          "                 [--reveal-keys FILE]\n\n"
          "input     allocates the batch's IMSI and ICCID ranges (once) and\n"
          "          writes its input file (B3) to FILE, else to\n"
          "          $SIMPKI_VENDOR_DIR/VENDOR/outgoing/BATCH_ID.inp.\n"
          "ingest    judges a vendor output file (B4): all its SIMs stored\n"
          "          with their keys re-encrypted under the KEK, or nothing\n"
          "          and the first failing line. --file-away DIR moves it to\n"
          "          DIR/processed/ or DIR/rejected/ (with a .reason file).\n"
          "simulate  plays the vendor: answers an input file with an output\n"
          "          file of random keys wrapped under the transport key\n"
          "          (a file of 64 hex digits). --defect injects one of:\n"
          "          ");
  for (int i = 1; i < VX_DEFECT_COUNT; i++)
    fprintf(fp, "%s%s", vx_defect_name((vx_defect)i),
            i + 1 < VX_DEFECT_COUNT ? (i % 5 == 0 ? ",\n          " : ", ")
                                    : ".\n");
  fprintf(fp,
          "          --reveal-keys writes each SIM's plain Ki/OPc to FILE:\n"
          "          for tests only, never with real keys.\n\n"
          "Exit status: 0 done (ingest: accepted), 1 refused or failed\n"
          "(reason on stderr), 2 usage.\n"
          "Environment: SIMPKI_DB_URL, SIMPKI_VENDOR_DIR, SIMPKI_KEK_FILE,\n"
          "SIMPKI_TRANSPORT_KEY_DIR, SIMPKI_VENDOR_GRAPHIC_REF.\n");
}

typedef struct input_tx {
  const vx_issue_conf *conf;
  const char *batch_id, *out;
  vx_issue_result res;
  int refused;
} input_tx;

static int input_fn(PGconn *c, void *arg, char *errstr, size_t errlen) {
  input_tx *t = arg;
  int rc = vx_issue_input(c, t->conf, t->batch_id, t->out, &t->res, errstr,
                          errlen);
  t->refused = rc == 1;
  return rc == 0 ? SP_DB_OK : rc == 1 ? SP_DB_REJECT : SP_DB_ERROR;
}

static int cmd_input(const char *batch_id, const char *out) {
  char err[1024];
  vx_issue_conf conf = {0};
  if (!out && vx_issue_conf_load(&conf, err, sizeof err)) {
    fprintf(stderr, "simpkictl vendor input: %s\n", err);
    return SP_EXIT_FAIL;
  }
  if (out && sp_config_str("SIMPKI_VENDOR_GRAPHIC_REF", "BCYCP-SIMPKI",
                           &conf.graphic_ref, err, sizeof err))
    return SP_EXIT_FAIL;
  sp_db *db = sp_cli_open_db("simpkictl vendor input");
  if (!db)
    return SP_EXIT_FAIL;
  input_tx t = {.conf = &conf, .batch_id = batch_id, .out = out};
  int rc = sp_db_tx(db, input_fn, &t, err, sizeof err);
  sp_db_close(db);
  if (rc != SP_DB_OK) {
    fprintf(stderr, "simpkictl vendor input: %s\n", err);
    return SP_EXIT_FAIL;
  }
  printf("{\"batch_id\": \"%s\", \"file\": \"%s\", \"sha256\": \"%s\", "
         "\"quantity\": %ld, \"first_iccid\": \"%s\", \"first_imsi\": "
         "\"%s\", \"issued_before\": %s}\n",
         batch_id, t.res.path, t.res.sha256, t.res.quantity,
         t.res.first_iccid, t.res.first_imsi,
         t.res.existing ? "true" : "false");
  return SP_EXIT_OK;
}

static int cmd_ingest(const char *file, const char *away) {
  char err[1024];
  const char *tkdir;
  sp_keystore *ks = sp_keystore_open_env(err, sizeof err);
  if (!ks || sp_config_str("SIMPKI_TRANSPORT_KEY_DIR", SP_CONFIG_REQUIRED,
                           &tkdir, err, sizeof err)) {
    fprintf(stderr, "simpkictl vendor ingest: %s\n", err);
    sp_keystore_close(ks);
    return SP_EXIT_FAIL;
  }
  sp_db *db = sp_cli_open_db("simpkictl vendor ingest");
  if (!db) {
    sp_keystore_close(ks);
    return SP_EXIT_FAIL;
  }
  vx_ingest_conf conf = {ks, tkdir};
  vx_ingest_result res;
  int rc = vx_ingest_file(db, &conf, file, &res, err, sizeof err);
  sp_db_close(db);
  sp_keystore_close(ks);
  if (rc) {
    fprintf(stderr, "simpkictl vendor ingest: not judged: %s\n", err);
    return SP_EXIT_FAIL;
  }
  if (away && vx_ingest_file_away(file, away, &res, err, sizeof err)) {
    fprintf(stderr, "simpkictl vendor ingest: %s\n", err);
    return SP_EXIT_FAIL;
  }
  json_t *o = json_pack("{s:s, s:s, s:b, s:s, s:I}", "verdict",
                        res.accepted ? "accepted" : "rejected", "batch_id",
                        res.batch_id, "judged_before", res.already, "sha256",
                        res.sha256, "sims", (json_int_t)res.sims);
  if (!res.accepted) {
    json_object_set_new(o, "line", json_integer(res.line_no));
    json_object_set_new(o, "reason", json_string(res.reason));
    fprintf(stderr, "simpkictl vendor ingest: rejected%s%ld: %s\n",
            res.line_no ? " at line " : "", res.line_no ? res.line_no : 0L,
            res.reason);
  }
  char *s = json_dumps(o, JSON_COMPACT);
  printf("%s\n", s);
  free(s);
  json_decref(o);
  return res.accepted ? SP_EXIT_OK : SP_EXIT_FAIL;
}

static int cmd_simulate(const char *input, const char *tkfile,
                        const char *out, const char *defect, int crlf,
                        const char *reveal) {
  char err[512];
  vx_sim_options opt = {.crlf = crlf};
  if (defect && vx_defect_parse(defect, &opt.defect)) {
    fprintf(stderr, "simpkictl vendor simulate: unknown defect \"%s\"\n",
            defect);
    return SP_EXIT_USAGE;
  }
  size_t len, tklen;
  char *in = sp_cli_read_file(input, MAX_INPUT_FILE, &len, err, sizeof err);
  char *tkhex = in ? sp_cli_read_file(tkfile, 256, &tklen, err, sizeof err)
                   : NULL;
  unsigned char tk[32];
  size_t got = 0;
  int rc = SP_EXIT_FAIL;
  FILE *fp = NULL, *rv = NULL;
  if (!tkhex)
    goto out;
  while (tklen && (tkhex[tklen - 1] == '\n' || tkhex[tklen - 1] == '\r'))
    tklen--;
  if (sp_hex_decode(tkhex, tklen, tk, sizeof tk, &got) || got != 32) {
    snprintf(err, sizeof err, "%s must hold 64 hex digits", tkfile);
    goto out;
  }
  if (!(fp = fopen(out, "wb")) || (reveal && !(rv = fopen(reveal, "w")))) {
    snprintf(err, sizeof err, "cannot write %s", fp ? reveal : out);
    goto out;
  }
  opt.reveal = rv;
  long defect_line = 0;
  if (vx_simulate(in, len, tk, &opt, fp, &defect_line, err, sizeof err))
    goto out;
  if (fclose(fp) != 0) {
    fp = NULL;
    snprintf(err, sizeof err, "cannot write %s", out);
    goto out;
  }
  fp = NULL;
  printf("{\"output\": \"%s\", \"defect\": \"%s\", \"defect_line\": %ld}\n",
         out, vx_defect_name(opt.defect), defect_line);
  rc = SP_EXIT_OK;
out:
  if (rc)
    fprintf(stderr, "simpkictl vendor simulate: %s\n", err);
  sp_wipe(tk, sizeof tk);
  if (tkhex) {
    sp_wipe(tkhex, tklen);
    free(tkhex);
  }
  free(in);
  if (fp)
    fclose(fp);
  if (rv)
    fclose(rv);
  return rc;
}

int sp_cmd_vendor_files(int argc, char **argv) {
  const char *sub = argv[1];
  static const struct option opts[] = {
      {"output", required_argument, NULL, 'o'},
      {"file-away", required_argument, NULL, 'a'},
      {"transport-key", required_argument, NULL, 't'},
      {"defect", required_argument, NULL, 'd'},
      {"crlf", no_argument, NULL, 'c'},
      {"reveal-keys", required_argument, NULL, 'r'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *out = NULL, *away = NULL, *tk = NULL, *defect = NULL,
             *reveal = NULL;
  int crlf = 0, c;
  optind = 2;
  while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
    switch (c) {
    case 'o': out = optarg; break;
    case 'a': away = optarg; break;
    case 't': tk = optarg; break;
    case 'd': defect = optarg; break;
    case 'c': crlf = 1; break;
    case 'r': reveal = optarg; break;
    case 'h': usage(stdout); return SP_EXIT_OK;
    default: usage(stderr); return SP_EXIT_USAGE;
    }
  }
  if (optind != argc - 1) {
    fprintf(stderr, "simpkictl vendor %s: give exactly one %s\n", sub,
            !strcmp(sub, "input") ? "batch id" : "file");
    return SP_EXIT_USAGE;
  }
  if (!strcmp(sub, "input"))
    return cmd_input(argv[optind], out);
  if (!strcmp(sub, "ingest"))
    return cmd_ingest(argv[optind], away);
  if (!tk || !out) {
    fprintf(stderr, "simpkictl vendor simulate: --transport-key and -o are "
                    "required\n");
    return SP_EXIT_USAGE;
  }
  return cmd_simulate(argv[optind], tk, out, defect, crlf, reveal);
}

int sp_is_vendor_files_command(const char *sub) {
  return !strcmp(sub, "input") || !strcmp(sub, "ingest") ||
         !strcmp(sub, "simulate");
}
