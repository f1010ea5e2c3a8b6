#include "config.h"
#include "ward_conf.h"
#include "cleanup.h"
#include "fs.h"
#include "policy.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *
trim (char *s)
{
  while (isspace ((unsigned char)*s))
    s++;
  size_t n = strlen (s);
  while (n > 0 && isspace ((unsigned char)s[n - 1]))
    s[--n] = '\0';
  return s;
}

static int
parse_bool (const char *path, unsigned line, const char *key, const char *value, bool *out,
            struct ward_error **err)
{
  if (strcmp (value, "true") == 0 || strcmp (value, "yes") == 0)
    *out = true;
  else if (strcmp (value, "false") == 0 || strcmp (value, "no") == 0)
    *out = false;
  else
    return ward_fail (err, 0, "%s:%u: %s: expected true or false, got \"%s\"", path, line, key, value);
  return 0;
}

/* Whole seconds ("60"), or a duration as the policies write one ("1m"). */
static int
parse_seconds (const char *path, unsigned line, const char *key, const char *value, uint64_t *out,
               struct ward_error **err)
{
  char *end = NULL;
  errno = 0;
  unsigned long long n = isdigit ((unsigned char)value[0]) ? strtoull (value, &end, 10) : 0;
  if (end && *end == '\0' && errno == 0)
    *out = n;
  else if (policy_parse_duration (value, out) < 0)
    return ward_fail (err, 0, "%s:%u: %s: expected seconds or a duration (60, 5m), got \"%s\"", path, line,
                      key, value);
  return 0;
}

static int
check_policy_name (const char *path, unsigned line, const char *key, const char *name,
                   struct ward_error **err)
{
  if (strcmp (name, WARD_UNCONFINED) != 0 && !policy_name_valid (name))
    return ward_fail (err, 0, "%s:%u: %s: invalid policy name \"%s\" (expected [a-z0-9-]+)", path, line, key,
                      name);
  return 0;
}

/* allowed_policies = a, b, c */
static int
parse_policy_list (struct ward_conf *conf, unsigned line, const char *value, struct ward_error **err)
{
  cleanup_free char *copy = strdup (value);
  if (copy == NULL)
    return ward_fail (err, ENOMEM, "%s", conf->path);
  char *save = NULL;
  for (char *item = strtok_r (copy, ",", &save); item; item = strtok_r (NULL, ",", &save))
    {
      char *name = trim (item);
      if (*name == '\0')
        continue;
      if (check_policy_name (conf->path, line, "allowed_policies", name, err) < 0)
        return -1;
      char **grown = realloc (conf->allowed_policies, (conf->allowed_policies_count + 2) * sizeof (char *));
      if (grown == NULL)
        return ward_fail (err, ENOMEM, "%s", conf->path);
      conf->allowed_policies = grown;
      if ((grown[conf->allowed_policies_count] = strdup (name)) == NULL)
        return ward_fail (err, ENOMEM, "%s", conf->path);
      grown[++conf->allowed_policies_count] = NULL;
    }
  if (conf->allowed_policies == NULL)
    return ward_fail (err, 0, "%s:%u: allowed_policies: expected a comma-separated list of names", conf->path,
                      line);
  return 0;
}

static int
set_string (struct ward_conf *conf, char **field, const char *value)
{
  free (*field);
  *field = strdup (value);
  return *field ? 0 : -1;
}

static int
parse_line (struct ward_conf *conf, unsigned line, char *text, struct ward_error **err)
{
  char *hash = strchr (text, '#');
  if (hash)
    *hash = '\0';
  char *content = trim (text);
  if (*content == '\0')
    return 0;
  char *equals = strchr (content, '=');
  if (equals == NULL)
    return ward_fail (err, 0, "%s:%u: expected key = value, got \"%s\"", conf->path, line, content);
  *equals = '\0';
  char *key = trim (content), *value = trim (equals + 1);
  if (*value == '\0')
    return ward_fail (err, 0, "%s:%u: %s: missing value", conf->path, line, key);

  if (strcmp (key, "default_policy") == 0)
    {
      if (check_policy_name (conf->path, line, key, value, err) < 0)
        return -1;
      return set_string (conf, &conf->default_policy, value) < 0 ? ward_fail (err, ENOMEM, "%s", conf->path)
                                                                 : 0;
    }
  if (strcmp (key, "allowed_policies") == 0)
    return parse_policy_list (conf, line, value, err);
  if (strcmp (key, "allow_unconfined") == 0)
    return parse_bool (conf->path, line, key, value, &conf->allow_unconfined, err);
  if (strcmp (key, "usage_record_interval") == 0)
    return parse_seconds (conf->path, line, key, value, &conf->usage_record_interval, err);

  static const struct
  {
    const char *key;
    size_t offset;
    bool absolute;
  } strings[] = {
    { "policy_dir", offsetof (struct ward_conf, policy_dir), true },
    { "audit_dir", offsetof (struct ward_conf, audit_dir), true },
    { "dns_upstream", offsetof (struct ward_conf, dns_upstream), false },
    { "hook_path", offsetof (struct ward_conf, hook_path), true },
  };
  for (size_t i = 0; i < WARD_ARRAY_SIZE (strings); i++)
    if (strcmp (key, strings[i].key) == 0)
      {
        if (strings[i].absolute && value[0] != '/')
          return ward_fail (err, 0, "%s:%u: %s: \"%s\" is not an absolute path", conf->path, line, key,
                            value);
        char **field = (char **)((char *)conf + strings[i].offset);
        return set_string (conf, field, value) < 0 ? ward_fail (err, ENOMEM, "%s", conf->path) : 0;
      }
  return ward_fail (err, 0, "%s:%u: unknown setting \"%s\"", conf->path, line, key);
}

int
ward_conf_parse (const char *path, const char *text, struct ward_conf **out, struct ward_error **err)
{
  struct ward_conf *conf = calloc (1, sizeof *conf);
  if (conf == NULL || (conf->path = strdup (path)) == NULL
      || (conf->default_policy = strdup (POLICY_DEFAULT_NAME)) == NULL
      || (conf->audit_dir = strdup (WARD_AUDIT_DIR_DEFAULT)) == NULL)
    {
      ward_conf_free (conf);
      return ward_fail (err, ENOMEM, "%s", path);
    }
  conf->usage_record_interval = WARD_USAGE_RECORD_INTERVAL_DEFAULT;
  cleanup_free char *copy = strdup (text);
  if (copy == NULL)
    {
      ward_conf_free (conf);
      return ward_fail (err, ENOMEM, "%s", path);
    }
  unsigned line = 0;
  /* strtok_r would skip empty lines and so miscount: split by hand. */
  for (char *cursor = copy; cursor; line++)
    {
      char *newline = strchr (cursor, '\n');
      if (newline)
        *newline = '\0';
      if (parse_line (conf, line + 1, cursor, err) < 0)
        {
          ward_conf_free (conf);
          return -1;
        }
      cursor = newline ? newline + 1 : NULL;
    }
  if (strcmp (conf->default_policy, WARD_UNCONFINED) == 0 && !conf->allow_unconfined)
    {
      ward_fail (err, 0, "%s: default_policy: \"unconfined\" needs allow_unconfined = true", path);
      ward_conf_free (conf);
      return -1;
    }
  *out = conf;
  return 0;
}

int
ward_conf_load (struct ward_conf **out, struct ward_error **err)
{
  const char *path = getenv ("WARD_CONF");
  if (path == NULL || *path == '\0')
    path = WARD_CONF_PATH_DEFAULT;
  cleanup_free char *text = NULL;
  size_t length = 0;
  if (fs_read_file (path, &text, &length, err) < 0)
    {
      if ((*err)->errnum != ENOENT)
        return -1;
      ward_error_free (err);
      return ward_conf_parse (path, "", out, err);
    }
  if (memchr (text, '\0', length))
    return ward_fail (err, 0, "%s: not a text file", path);
  return ward_conf_parse (path, text, out, err);
}

void
ward_conf_free (struct ward_conf *conf)
{
  if (conf == NULL)
    return;
  for (size_t i = 0; i < conf->allowed_policies_count; i++)
    free (conf->allowed_policies[i]);
  free (conf->allowed_policies);
  free (conf->path);
  free (conf->default_policy);
  free (conf->policy_dir);
  free (conf->audit_dir);
  free (conf->dns_upstream);
  free (conf->hook_path);
  free (conf);
}

bool
ward_conf_policy_allowed (const struct ward_conf *conf, const char *policy)
{
  if (strcmp (policy, conf->default_policy) == 0)
    return true;
  if (strcmp (policy, WARD_UNCONFINED) == 0)
    return conf->allow_unconfined;
  if (conf->allowed_policies == NULL)
    return true;
  for (size_t i = 0; i < conf->allowed_policies_count; i++)
    if (strcmp (conf->allowed_policies[i], policy) == 0)
      return true;
  return false;
}
