/* ward policy list | show NAME | explain --bundle B [--policy P]: the
 * policy profiles as ward reads them.  `show` renders the loaded struct
 * rather than echoing the file, so what it prints is what ward will enforce
 * (durations in seconds, sizes in bytes), and it loads back as the same
 * profile.  `explain` runs the tighten-only merge over a bundle's
 * config.json and prints each decision; nothing is created or run. */
#include "config.h"
#include "commands.h"
#include "options.h"
#include "cleanup.h"
#include "container_policy.h"
#include "policy.h"
#include "policy_merge.h"
#include "spec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

struct explain_options
{
  const char *bundle;
  const char *policy;
};

enum
{
  OPT_EXPLAIN_BUNDLE = 'b',
  OPT_EXPLAIN_POLICY = 'p',
};

static const struct option explain_options_table[] = {
  { "bundle", required_argument, NULL, OPT_EXPLAIN_BUNDLE },
  { "policy", required_argument, NULL, OPT_EXPLAIN_POLICY },
  { NULL, 0, NULL, 0 },
};

static int
explain_option (void *ctx, int option, const char *value, struct ward_error **err)
{
  struct explain_options *o = ctx;
  switch (option)
    {
    case OPT_EXPLAIN_BUNDLE:
      o->bundle = value;
      return 0;
    case OPT_EXPLAIN_POLICY:
      o->policy = value;
      return 0;
    }
  return ward_fail (err, 0, "unknown option");
}

static void
print_report (const struct merge_report *report)
{
  for (size_t i = 0; i < report->count; i++)
    {
      const struct merge_entry *e = &report->entries[i];
      printf ("%-8s %s: %s\n", merge_kind_name (e->kind), e->field, e->reason);
    }
}

/* Exit 1 when the policy refuses the config: `ward create` would refuse
 * it the same way, since both go through container_policy_apply (the
 * policy chosen as create would choose it, unless --policy names one). */
static int
policy_explain_command (const struct ward_conf *conf, int argc, char **argv, struct ward_error **err)
{
  struct explain_options o = { 0 };
  static const char usage[] = "policy explain --bundle B [--policy P]";
  int first
      = options_parse ("policy explain", argc, argv, "b:p:", explain_options_table, explain_option, &o, err);
  if (first < 0 || options_expect_operands ("policy explain", argc, argv, first, 0, usage, err) < 0)
    return -1;
  if (o.bundle == NULL)
    return ward_fail (err, 0, "policy explain: --bundle is required: %s", usage);
  cleanup_free char *config_path = NULL;
  struct spec *spec = NULL;
  if (asprintf (&config_path, "%s/config.json", o.bundle) < 0)
    return ward_fail (err, ENOMEM, "config.json");
  if (spec_load (config_path, &spec, err) < 0)
    return -1;
  if (spec->process == NULL)
    {
      spec_free (spec);
      return ward_fail (err, 0, "config.json: process: required field is missing");
    }
  struct container_policy applied;
  struct ward_error *refusal = NULL;
  int ret = container_policy_apply (conf, spec, o.bundle, o.policy, &applied, &refusal);
  bool refused = ret < 0 && refusal->errnum == 0 && applied.policy != NULL;
  /* A profile whose filter does not compile would fail create too. */
  if (ret == 0 && container_policy_compile_seccomp (&applied, NULL, NULL, 0, &refusal) < 0)
    ret = -1;
  if (ret < 0 && !refused)
    {
      *err = refusal; /* the policy could not be chosen or read: not a decision */
      refusal = NULL;
    }
  else if (applied.policy == NULL)
    printf ("policy %s: nothing is changed\n", applied.name);
  else
    {
      printf ("policy %s\n", applied.name);
      print_report (&applied.report);
    }
  ward_error_free (&refusal);
  container_policy_clear (&applied);
  spec_free (spec);
  if (ret < 0 && !refused)
    return -1;
  return refused ? 1 : 0;
}

int
cmd_policy (struct global_options *global, int argc, char **argv, struct ward_error **err)
{
  (void)global;
  static const char usage[] = "policy list | policy show NAME | policy explain --bundle B [--policy P]";
  int first = options_parse_none ("policy", argc, argv, err);
  if (first < 0)
    return -1;
  if (first >= argc)
    return ward_fail (err, 0, "policy: expected a subcommand: %s", usage);
  const char *sub = argv[first];
  struct ward_conf *conf = NULL;
  if (ward_conf_load (&conf, err) < 0)
    return -1;
  const char *dir = container_policy_directory (conf);
  int ret;
  if (strcmp (sub, "list") == 0)
    ret = argc - first != 1 ? ward_fail (err, 0, "policy list: expected no arguments")
                            : policy_list_command (dir, err);
  else if (strcmp (sub, "show") == 0)
    ret = argc - first != 2 ? ward_fail (err, 0, "policy show: expected one profile name: policy show NAME")
                            : policy_show_command (dir, argv[first + 1], err);
  else if (strcmp (sub, "explain") == 0)
    ret = policy_explain_command (conf, argc - first, argv + first, err);
  else
    ret = ward_fail (err, 0, "policy: unknown subcommand \"%s\": %s", sub, usage);
  ward_conf_free (conf);
  return ret;
}
