/* event_forge - print one sealed event, or a deliberately damaged one, for
 * tests that feed the consumer loop (and later the audit) bad input. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"

static void usage(FILE *fp) {
  fprintf(fp,
          "usage: event_forge --type T --subject S [--prev HASH] [--data JSON]\n"
          "                   [--pad BYTES] [--tamper] [--drop ATTR]\n"
          "Prints one event (CloudEvents structured JSON) on one line.\n"
          "  --prev HASH   hash of the subject's previous event (default genesis)\n"
          "  --pad BYTES   add a data.pad string of that many bytes\n"
          "  --tamper      change data after sealing (hash no longer matches)\n"
          "  --drop ATTR   remove an attribute after sealing\n"
          "  --hash-only   print only the event's hash\n");
}

int main(int argc, char **argv) {
  const char *type = NULL, *subject = NULL, *prev = SP_EVENT_GENESIS,
             *data = "{}", *drop = NULL;
  long pad = 0;
  int tamper = 0, hash_only = 0;
  static struct option opts[] = {
      {"type", required_argument, 0, 't'}, {"subject", required_argument, 0, 's'},
      {"prev", required_argument, 0, 'p'}, {"data", required_argument, 0, 'd'},
      {"pad", required_argument, 0, 'P'},  {"tamper", no_argument, 0, 'T'},
      {"drop", required_argument, 0, 'D'}, {"hash-only", no_argument, 0, 'H'},
      {"help", no_argument, 0, 'h'},       {0, 0, 0, 0}};
  int o;
  while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (o) {
    case 't': type = optarg; break;
    case 's': subject = optarg; break;
    case 'p': prev = optarg; break;
    case 'd': data = optarg; break;
    case 'P': pad = atol(optarg); break;
    case 'T': tamper = 1; break;
    case 'D': drop = optarg; break;
    case 'H': hash_only = 1; break;
    case 'h': usage(stdout); return 0;
    default: usage(stderr); return 2;
    }
  }
  if (!type || !subject) {
    usage(stderr);
    return 2;
  }
  char err[256];
  json_t *d = json_loads(data, 0, NULL);
  if (pad > 0) {
    char *s = malloc((size_t)pad + 1);
    memset(s, 'x', (size_t)pad);
    s[pad] = '\0';
    json_object_set_new(d, "pad", json_string(s));
    free(s);
  }
  sp_event ev;
  if (sp_event_init(&ev, "/simpki/event-forge", type, subject, NULL,
                    "order/FORGE", d, err, sizeof err) ||
      sp_event_seal(&ev, prev)) {
    fprintf(stderr, "event_forge: %s\n", err[0] ? err : "bad --prev");
    return 1;
  }
  if (hash_only) {
    puts(ev.hash);
    sp_event_clear(&ev);
    return 0;
  }
  if (tamper)
    json_object_set_new(ev.data, "tampered", json_true());
  char *s = sp_event_serialize(&ev, NULL);
  if (drop) {
    json_t *j = json_loads(s, 0, NULL);
    json_object_del(j, drop);
    free(s);
    s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(j);
  }
  puts(s);
  free(s);
  sp_event_clear(&ev);
  return 0;
}
