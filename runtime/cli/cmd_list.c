/* ward list [--format table|json] [--quiet] */
#include "config.h"
#include "commands.h"
#include "cleanup.h"
#include "json_writer.h"
#include "lifecycle.h"
#include "options.h"

#include <dirent.h>
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

struct entry
{
  struct container_state state;
  enum container_status status;
};

static int
compare_entries (const void *a, const void *b)
{
  return strcmp (((const struct entry *)a)->state.id, ((const struct entry *)b)->state.id);
}

/* Containers that vanish while we look (deleted meanwhile) are skipped. */
static int
collect (const char *root, struct entry **out, size_t *count, struct ward_error **err)
{
  *out = NULL;
  *count = 0;
  cleanup_closedir DIR *dir = opendir (root);
  if (dir == NULL)
    return errno == ENOENT ? 0 : ward_fail (err, errno, "open %s", root);
  struct dirent *d;
  size_t capacity = 0;
  while ((d = readdir (dir)) != NULL)
    {
      /* Hidden entries and the cache are not containers. */
      if (d->d_name[0] == '.' || strchr (d->d_name, '@'))
        continue;
      if (*count == capacity)
        {
          capacity = capacity ? capacity * 2 : 16;
          struct entry *bigger = realloc (*out, capacity * sizeof **out);
          if (bigger == NULL)
            return ward_fail (err, ENOMEM, "list");
          *out = bigger;
        }
      struct entry *e = &(*out)[*count];
      struct ward_error *ignored = NULL;
      if (container_read_status (root, d->d_name, &e->state, &e->status, &ignored) < 0)
        {
          ward_error_free (&ignored);
          continue;
        }
      (*count)++;
    }
  if (*count > 1)
    qsort (*out, *count, sizeof **out, compare_entries);
  return 0;
}

static void
print_json (const struct entry *entries, size_t count)
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
print_table (const struct entry *entries, size_t count)
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
  struct entry *entries = NULL;
  size_t count = 0;
  if (collect (global->root, &entries, &count, err) < 0)
    return -1;
  if (r.quiet)
    for (size_t i = 0; i < count; i++)
      puts (entries[i].state.id);
  else if (r.json)
    print_json (entries, count);
  else
    print_table (entries, count);
  for (size_t i = 0; i < count; i++)
    state_clear (&entries[i].state);
  free (entries);
  return 0;
}
