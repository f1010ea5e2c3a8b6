#include "config.h"
#include "options.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
options_parse (const char *command, int argc, char **argv, const char *short_options,
               const struct option *long_options, option_handler *handle, void *ctx, struct ward_error **err)
{
  char spec[64];
  snprintf (spec, sizeof spec, "+:%s", short_options);
  optind = 1;
  opterr = 0;
  for (;;)
    {
      int index = 0;
      int c = getopt_long_only (argc, argv, spec, long_options, &index);
      if (c == -1)
        break;
      if (c == '?')
        return ward_fail (err, 0, "%s: unknown option %s", command, argv[optind - 1]);
      if (c == ':')
        return ward_fail (err, 0, "%s: option %s needs a value", command, argv[optind - 1]);
      if (handle (ctx, c, optarg, err) < 0)
        return -1;
    }
  return optind;
}

int
options_expect_operands (const char *command, int argc, char **argv, int first, int wanted, const char *usage,
                         struct ward_error **err)
{
  int have = argc - first;
  if (have < wanted)
    return ward_fail (err, 0, "%s: missing container id (usage: ward %s)", command, usage);
  if (have > wanted)
    return ward_fail (err, 0, "%s: unexpected argument \"%s\" (usage: ward %s)", command,
                      argv[first + wanted], usage);
  return 0;
}

int
options_parse_int (const char *command, const char *option, const char *value, int *out,
                   struct ward_error **err)
{
  char *end = NULL;
  errno = 0;
  long n = strtol (value, &end, 10);
  if (errno != 0 || end == value || *end != '\0' || n < INT_MIN || n > INT_MAX)
    return ward_fail (err, 0, "%s: %s: invalid number \"%s\"", command, option, value);
  *out = (int)n;
  return 0;
}

int
options_parse_int64 (const char *command, const char *option, const char *value, long long *out,
                     struct ward_error **err)
{
  char *end = NULL;
  errno = 0;
  long long n = strtoll (value, &end, 10);
  if (errno != 0 || end == value || *end != '\0')
    return ward_fail (err, 0, "%s: --%s: invalid number \"%s\"", command, option, value);
  *out = n;
  return 0;
}

static int
no_option (void *ctx, int option, const char *value, struct ward_error **err)
{
  return 0;
}

int
options_parse_none (const char *command, int argc, char **argv, struct ward_error **err)
{
  static const struct option none[] = { { NULL, 0, NULL, 0 } };
  return options_parse (command, argc, argv, "", none, no_option, NULL, err);
}
