/* ward policy list | show NAME: the policy profiles as ward reads them.
 * `show` renders the loaded struct rather than echoing the file, so what it
 * prints is what ward will enforce (durations in seconds, sizes in bytes),
 * and it loads back as the same profile. */
#include "config.h"
#include "commands.h"
#include "options.h"
#include "policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct option no_options[] = { { NULL, 0, NULL, 0 } };

static int
no_option (void *ctx, int option, const char *value, struct ward_error **err)
{
  (void)ctx;
  (void)option;
  (void)value;
  (void)err;
  return 0;
}

/* A broken profile is reported and skipped so that the others still show;
 * the exit status says something was wrong. */
static int
policy_list_command (const char *dir, struct ward_error **err)
{
  char **names = NULL;
  size_t count = 0;
  int status = 0;
  if (policy_list (dir, &names, &count, err) < 0)
    return -1;
  for (size_t i = 0; i < count; i++)
    {
      struct policy *policy = NULL;
      struct ward_error *load_err = NULL;
      if (policy_load (dir, names[i], &policy, &load_err) < 0)
        {
          fprintf (stderr, "ward: policy list: %s\n", load_err->message);
          ward_error_free (&load_err);
          status = 1;
          continue;
        }
      printf ("%s\t%s\n", policy->name, policy->description);
      policy_free (policy);
    }
  policy_names_free (names, count);
  return status;
}

static int
policy_show_command (const char *dir, const char *name, struct ward_error **err)
{
  struct policy *policy = NULL;
  char *json = NULL;
  if (policy_load (dir, name, &policy, err) < 0)
    return -1;
  int ret = policy_to_json (policy, &json, err);
  policy_free (policy);
  if (ret < 0)
    return -1;
  fputs (json, stdout);
  if (json[0] && json[strlen (json) - 1] != '\n')
    putchar ('\n');
  free (json);
  return 0;
}

int
cmd_policy (struct global_options *global, int argc, char **argv, struct ward_error **err)
{
  (void)global;
  static const char usage[] = "policy list | policy show NAME";
  int first = options_parse ("policy", argc, argv, "", no_options, no_option, NULL, err);
  if (first < 0)
    return -1;
  if (first >= argc)
    return ward_fail (err, 0, "policy: expected a subcommand: %s", usage);
  const char *sub = argv[first];
  const char *dir = policy_directory ();
  if (strcmp (sub, "list") == 0)
    {
      if (argc - first != 1)
        return ward_fail (err, 0, "policy list: expected no arguments");
      return policy_list_command (dir, err);
    }
  if (strcmp (sub, "show") == 0)
    {
      if (argc - first != 2)
        return ward_fail (err, 0, "policy show: expected one profile name: policy show NAME");
      return policy_show_command (dir, argv[first + 1], err);
    }
  if (strcmp (sub, "explain") == 0)
    return ward_fail (err, 0, "policy explain: not implemented yet");
  return ward_fail (err, 0, "policy: unknown subcommand \"%s\": %s", sub, usage);
}
