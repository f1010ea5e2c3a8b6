/* ward update [--resources FILE|-] [--memory N] [--pids-limit N] ... ID:
 * new limits for a live container.  --resources takes LinuxResources JSON,
 * as containerd, Docker and Podman send it; the flags are runc's and are
 * turned into the same JSON, so there is one parser for both. */
#include "config.h"
#include "commands.h"
#include "cleanup.h"
#include "fs.h"
#include "json.h"
#include "lifecycle.h"
#include "options.h"
#include "resources.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum
{
  OPT_RESOURCES = 'r',
  OPT_MEMORY = 1000,
  OPT_MEMORY_RESERVATION,
  OPT_MEMORY_SWAP,
  OPT_KERNEL_MEMORY,
  OPT_CPU_SHARES,
  OPT_CPU_QUOTA,
  OPT_CPU_PERIOD,
  OPT_CPU_RT_PERIOD,
  OPT_CPU_RT_RUNTIME,
  OPT_CPUSET_CPUS,
  OPT_CPUSET_MEMS,
  OPT_PIDS_LIMIT,
  OPT_BLKIO_WEIGHT,
};

/* Flag → where its value goes in LinuxResources, and whether it is a size
 * ("512m") or a plain number, or a string. */
static const struct update_flag
{
  int option;
  const char *name;
  const char *section;
  const char *field;
  enum
  {
    VALUE_SIZE,
    VALUE_NUMBER,
    VALUE_STRING,
  } kind;
} update_flags[] = {
  { OPT_MEMORY, "memory", "memory", "limit", VALUE_SIZE },
  { OPT_MEMORY_RESERVATION, "memory-reservation", "memory", "reservation", VALUE_SIZE },
  { OPT_MEMORY_SWAP, "memory-swap", "memory", "swap", VALUE_SIZE },
  { OPT_KERNEL_MEMORY, "kernel-memory", "memory", "kernel", VALUE_SIZE },
  { OPT_CPU_SHARES, "cpu-shares", "cpu", "shares", VALUE_NUMBER },
  { OPT_CPU_QUOTA, "cpu-quota", "cpu", "quota", VALUE_NUMBER },
  { OPT_CPU_PERIOD, "cpu-period", "cpu", "period", VALUE_NUMBER },
  { OPT_CPU_RT_PERIOD, "cpu-rt-period", "cpu", "realtimePeriod", VALUE_NUMBER },
  { OPT_CPU_RT_RUNTIME, "cpu-rt-runtime", "cpu", "realtimeRuntime", VALUE_NUMBER },
  { OPT_CPUSET_CPUS, "cpuset-cpus", "cpu", "cpus", VALUE_STRING },
  { OPT_CPUSET_MEMS, "cpuset-mems", "cpu", "mems", VALUE_STRING },
  { OPT_PIDS_LIMIT, "pids-limit", "pids", "limit", VALUE_NUMBER },
  { OPT_BLKIO_WEIGHT, "blkio-weight", "blockIO", "weight", VALUE_NUMBER },
};

static const struct option update_options[] = {
  { "resources", required_argument, NULL, OPT_RESOURCES },
  { "memory", required_argument, NULL, OPT_MEMORY },
  { "memory-reservation", required_argument, NULL, OPT_MEMORY_RESERVATION },
  { "memory-swap", required_argument, NULL, OPT_MEMORY_SWAP },
  { "kernel-memory", required_argument, NULL, OPT_KERNEL_MEMORY },
  { "cpu-shares", required_argument, NULL, OPT_CPU_SHARES },
  { "cpu-quota", required_argument, NULL, OPT_CPU_QUOTA },
  { "cpu-period", required_argument, NULL, OPT_CPU_PERIOD },
  { "cpu-rt-period", required_argument, NULL, OPT_CPU_RT_PERIOD },
  { "cpu-rt-runtime", required_argument, NULL, OPT_CPU_RT_RUNTIME },
  { "cpuset-cpus", required_argument, NULL, OPT_CPUSET_CPUS },
  { "cpuset-mems", required_argument, NULL, OPT_CPUSET_MEMS },
  { "pids-limit", required_argument, NULL, OPT_PIDS_LIMIT },
  { "blkio-weight", required_argument, NULL, OPT_BLKIO_WEIGHT },
  { NULL, 0, NULL, 0 },
};

struct update_request
{
  const char *resources_file;
  const char *values[WARD_ARRAY_SIZE (update_flags)];
};

static int
update_option (void *ctx, int option, const char *value, struct ward_error **err)
{
  struct update_request *r = ctx;
  if (option == OPT_RESOURCES)
    {
      r->resources_file = value;
      return 0;
    }
  for (size_t i = 0; i < WARD_ARRAY_SIZE (update_flags); i++)
    if (update_flags[i].option == option)
      r->values[i] = value;
  return 0;
}

/* "512m" → 536870912; "-1" stays -1 (unlimited). */
static int
parse_size (const char *flag, const char *text, long long *out, struct ward_error **err)
{
  char *end = NULL;
  errno = 0;
  long long n = strtoll (text, &end, 10);
  if (errno || end == text)
    return ward_fail (err, 0, "update: --%s: invalid size \"%s\"", flag, text);
  static const char units[] = "bkmgt";
  if (*end)
    {
      const char *unit = strchr (units, tolower ((unsigned char)*end));
      if (unit == NULL || (end[1] && !(tolower ((unsigned char)end[1]) == 'b' && end[2] == '\0')))
        return ward_fail (err, 0, "update: --%s: invalid size \"%s\"", flag, text);
      for (long i = 0; i < unit - units; i++)
        n *= 1024;
    }
  *out = n;
  return 0;
}

/* The flags as a LinuxResources document. */
static int
flags_to_json (const struct update_request *r, char **out, struct ward_error **err)
{
  static const char *const sections[] = { "memory", "cpu", "pids", "blockIO" };
  cleanup_free char *text = NULL;
  size_t length = 0;
  FILE *f = open_memstream (&text, &length);
  if (f == NULL)
    return ward_fail (err, errno, "update");
  fputc ('{', f);
  bool first_section = true;
  for (size_t s = 0; s < WARD_ARRAY_SIZE (sections); s++)
    {
      bool opened = false;
      for (size_t i = 0; i < WARD_ARRAY_SIZE (update_flags); i++)
        {
          const struct update_flag *flag = &update_flags[i];
          if (r->values[i] == NULL || strcmp (flag->section, sections[s]) != 0)
            continue;
          fprintf (f, "%s", opened ? "," : "");
          if (!opened)
            fprintf (f, "%s\"%s\":{", first_section ? "" : ",", sections[s]);
          opened = true;
          first_section = false;
          long long n;
          if (flag->kind == VALUE_STRING)
            fprintf (f, "\"%s\":\"%s\"", flag->field, r->values[i]);
          else if (flag->kind == VALUE_SIZE
                       ? parse_size (flag->name, r->values[i], &n, err) < 0
                       : options_parse_int64 ("update", flag->name, r->values[i], &n, err) < 0)
            {
              fclose (f);
              return -1;
            }
          else
            fprintf (f, "\"%s\":%lld", flag->field, n);
        }
      if (opened)
        fputc ('}', f);
    }
  fputc ('}', f);
  fclose (f);
  *out = steal_pointer (&text);
  return 0;
}

static int
read_resources_text (const char *file, char **out, struct ward_error **err)
{
  if (strcmp (file, "-") != 0)
    return fs_read_file (file, out, NULL, err);
  size_t capacity = 4096, used = 0;
  char *buffer = malloc (capacity);
  for (ssize_t n = 1; buffer && n > 0;)
    {
      if (used + 1 == capacity && (buffer = realloc (buffer, capacity *= 2)) == NULL)
        break;
      n = read (STDIN_FILENO, buffer + used, capacity - used - 1);
      if (n < 0 && errno != EINTR)
        {
          free (buffer);
          return ward_fail (err, errno, "update: read standard input");
        }
      used += n > 0 ? n : 0;
    }
  if (buffer == NULL)
    return ward_fail (err, ENOMEM, "update");
  buffer[used] = '\0';
  *out = buffer;
  return 0;
}

int
cmd_update (struct global_options *global, int argc, char **argv, struct ward_error **err)
{
  struct update_request r = { 0 };
  int first = options_parse ("update", argc, argv, "r:", update_options, update_option, &r, err);
  if (first < 0 || options_expect_operands ("update", argc, argv, first, 1, "update [options] ID", err) < 0)
    return -1;
  cleanup_free char *text = NULL;
  const char *name = "resources";
  if (r.resources_file)
    {
      if (read_resources_text (r.resources_file, &text, err) < 0)
        return -1;
      name = strcmp (r.resources_file, "-") == 0 ? "standard input" : r.resources_file;
    }
  else if (flags_to_json (&r, &text, err) < 0)
    return -1;
  struct json_document *doc = NULL;
  struct resources *resources = NULL;
  int ret = -1;
  if (json_parse (name, text, strlen (text), &doc, err) == 0
      && resources_parse (doc, doc->root, "", &resources, err) == 0)
    ret = container_update (global->root, argv[first], resources, err);
  resources_free (resources);
  json_document_free (doc);
  return ret < 0 ? -1 : 0;
}
