/* ward list [--format table|json] [--quiet] */
#include "config.h"
#include "commands.h"
#include "cleanup.h"
#include "json_writer.h"
#include "container_list.h"
#include "lifecycle.h"
#include "options.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum
{
  OPT_FORMAT = 'f',
  OPT_QUIET = 'q',
};

static const struct option list_options[] = {
  { "format", required_argument, NULL, OPT_FORMAT },
  { "quiet", no_argument, NULL, OPT_QUIET },
  { NULL, 0, NULL, 0 },
};

struct list_request
{
  bool json;
  bool quiet;
};

static int
list_option (void *ctx, int option, const char *value, struct ward_error **err)
{
  struct list_request *r = ctx;
  if (option == OPT_QUIET)
    r->quiet = true;
  else if (strcmp (value, "json") == 0)
    r->json = true;
  else if (strcmp (value, "table") != 0)
    return ward_fail (err, 0, "list: --format: expected table or json, got \"%s\"", value);
  return 0;
}

static void
print_json (const struct container_listing *entries, size_t count)
{
  fputs ("[", stdout);
  for (size_t i = 0; i < count; i++)
    {
      char *json = state_render_json (&entries[i].state, entries[i].status, false);
      printf ("%s%s", i ? "," : "", json ? json : "{}");
      free (json);
    }
  fputs ("]\n", stdout);
}

static void
print_table (const struct container_listing *entries, size_t count)
{
  /* Column widths as a tab writer would make them. */
  int id_w = 2, bundle_w = 6, created_w = 7;
  for (size_t i = 0; i < count; i++)
    {
      const struct container_state *s = &entries[i].state;
      id_w = (int)strlen (s->id) > id_w ? (int)strlen (s->id) : id_w;
      bundle_w = (int)strlen (s->bundle) > bundle_w ? (int)strlen (s->bundle) : bundle_w;
      created_w = (int)strlen (s->created) > created_w ? (int)strlen (s->created) : created_w;
    }
  printf ("%-*s   %-10s %-10s %-*s   %-*s   %s\n", id_w, "ID", "PID", "STATUS", bundle_w, "BUNDLE", created_w,
          "CREATED", "OWNER");
  for (size_t i = 0; i < count; i++)
    {
      const struct container_state *s = &entries[i].state;
      int pid = entries[i].status == STATUS_STOPPED ? 0 : s->pid;
      printf ("%-*s   %-10d %-10s %-*s   %-*s   %s\n", id_w, s->id, pid,
              state_status_name (entries[i].status), bundle_w, s->bundle, created_w, s->created,
              s->owner ? s->owner : "");
    }
}

int
cmd_list (struct global_options *global, int argc, char **argv, struct ward_error **err)
{
  struct list_request r = { 0 };
  int first = options_parse ("list", argc, argv, "f:q", list_options, list_option, &r, err);
  if (first < 0)
    return -1;
  if (first != argc)
    return ward_fail (err, 0, "list: unexpected argument \"%s\"", argv[first]);
  struct container_listing *entries = NULL;
  size_t count = 0;
  if (container_list (global->root, &entries, &count, err) < 0)
    return -1;
  if (r.quiet)
    for (size_t i = 0; i < count; i++)
      puts (entries[i].state.id);
  else if (r.json)
    print_json (entries, count);
  else
    print_table (entries, count);
  container_list_free (entries, count);
  return 0;
}
