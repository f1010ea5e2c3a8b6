/* verify's knowledge of the probes: see verify_probes.h. */
#define _GNU_SOURCE
#include "config.h"
#include "verify_probes.h"
#include "policy.h"

#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "fs.h"
#include "json.h"

/* audit_when: the record is expected only when the probe's detail names
 * one of these (comma-separated): a call refused by something other than
 * the audited filter, or a connection that never met the firewall, leaves
 * no record, and that is no hole. */
struct probe_info
{
  const char *name, *attempted, *expected;
  const char *audit_event, *audit_field, *audit_value, *audit_when;
};

#define DENIED(call) "syscall.denied", "syscall", call, "EPERM"
#define NO_AUDIT NULL, NULL, NULL, NULL

static const struct probe_info probes[] = {
  { "readonly-root", "check that / is mounted read-only", "ST_RDONLY on /", NO_AUDIT },
  { "write-outside-scratch", "create a file in /, /etc, /run, /var", "EROFS/EACCES", NO_AUDIT },
  { "write-proc-sys", "open /proc/sys/kernel/core_pattern for writing", "EROFS/EACCES", NO_AUDIT },
  { "write-sys", "open a /sys/kernel file for writing", "EROFS/EACCES", NO_AUDIT },
  { "mknod", "mknod block device 8:0 and open it", "EPERM", NO_AUDIT },
  { "dev-kmsg", "open /dev/kmsg", "ENOENT/EPERM", NO_AUDIT },
  { "proc-self-exe", "open /proc/self/exe for writing", "ETXTBSY/EROFS", NO_AUDIT },
  { "leaked-fd", "find open descriptors above 2", "none", NO_AUDIT },
  { "disk-fill", "fill /tmp", "ENOSPC at the scratch size", NO_AUDIT },
  { "mount", "mount a tmpfs", "EPERM", DENIED ("mount") },
  { "umount", "unmount the mask over /proc/kcore", "EPERM", DENIED ("umount2") },
  { "pivot-root", "pivot_root", "EPERM", DENIED ("pivot_root") },
  { "unshare-userns", "unshare a user namespace", "EPERM", DENIED ("unshare") },
  { "setns", "setns into a mount namespace", "EPERM", DENIED ("setns") },
  { "ptrace", "PTRACE_ATTACH to a child", "EPERM", DENIED ("ptrace") },
  { "process-vm-readv", "process_vm_readv", "EPERM", DENIED ("process_vm_readv") },
  { "bpf", "bpf BPF_MAP_CREATE", "EPERM", DENIED ("bpf") },
  { "perf-event-open", "perf_event_open", "EPERM", DENIED ("perf_event_open") },
  { "keyctl", "keyctl: find the uid's user keyring", "EPERM", DENIED ("keyctl") },
  { "userfaultfd", "userfaultfd", "EPERM", NO_AUDIT },
  { "io-uring-setup", "io_uring_setup", "EPERM", NO_AUDIT },
  { "kexec-load", "kexec_load", "EPERM", DENIED ("kexec_load") },
  { "init-module", "init_module", "EPERM", DENIED ("init_module") },
  { "open-by-handle-at", "open_by_handle_at (shocker)", "EPERM", DENIED ("open_by_handle_at") },
  { "int80", "getpid through int 0x80 (i386 ABI)", "killed (SIGSYS) or ENOSYS", NO_AUDIT },
  { "capabilities", "read CapInh/Prm/Eff/Bnd/Amb", "all zero", NO_AUDIT },
  { "nnp-setuid", "check no_new_privs, exec and read capabilities", "NoNewPrivs 1, none after exec",
    NO_AUDIT },
  { "tiocsti", "TIOCSTI into a terminal shared with the host", "no shared terminal / EPERM", NO_AUDIT },
  { "fork-bomb", "fork until refused", "EAGAIN at the pids limit", NO_AUDIT },
  { "memory-bomb", "allocate and touch past the memory limit", "killed or ENOMEM", NO_AUDIT },
  { "url-name", "connect to an external URL by name", "NXDOMAIN or refused", NO_AUDIT },
  { "url-ip", "connect to an external URL by IP literal", "refused/unreachable", NO_AUDIT },
  { "metadata", "connect to 169.254.169.254:80", "refused/unreachable", NO_AUDIT },
  { "dns-exfil", "look up a name not allowed", "NXDOMAIN", "dns.refused", "name", NULL, "NXDOMAIN" },
  { "raw-socket", "open a raw ICMP socket", "EPERM", NO_AUDIT },
  { "af-packet", "open an AF_PACKET socket", "EPERM", NO_AUDIT },
  { "netlink-route", "add a route over rtnetlink", "EPERM", NO_AUDIT },
  { "nft-flush", "delete the firewall's nftables table", "EPERM", NO_AUDIT },
  { "cpu-spin", "spin on the CPU past run.ward.timeout", "killed by the watchdog", "watchdog.breach", "limit",
    "timeout", NULL },
  { "persist", "write files, recreate the container, look for them", "gone", NO_AUDIT },
};

/* A user's --url: the same as the defaults. */
static const struct probe_info user_target = { NULL, NULL, "NXDOMAIN or refused", NULL, NULL, NULL, NULL };

static const struct probe_info *
info_of (const char *name)
{
  for (size_t i = 0; i < WARD_ARRAY_SIZE (probes); i++)
    if (strcmp (probes[i].name, name) == 0)
      return &probes[i];
  return strncmp (name, "url:", 4) == 0 ? &user_target : NULL;
}

struct verify_result *
verify_results_add (struct verify_results *r, const char *name, const char *container, const char *attempted)
{
  if (r->count == r->capacity)
    {
      size_t capacity = r->capacity ? 2 * r->capacity : 64;
      struct verify_result *items = realloc (r->items, capacity * sizeof *items);
      if (items == NULL)
        return NULL;
      r->items = items;
      r->capacity = capacity;
    }
  const struct probe_info *info = info_of (name);
  struct verify_result *res = &r->items[r->count++];
  *res = (struct verify_result){ .outcome = VERIFY_ERROR };
  res->probe = strdup (name);
  res->container = strdup (container);
  res->attempted = strdup (attempted ? attempted : info && info->attempted ? info->attempted : name);
  res->expected = strdup (info ? info->expected : "contained");
  res->detail = strdup ("no result: the probe did not report");
  if (info && info->audit_event)
    {
      res->audit_event = info->audit_event;
      res->audit_field = info->audit_field;
      res->audit_value = info->audit_value ? strdup (info->audit_value) : NULL;
    }
  return res;
}

static struct verify_result *
find (struct verify_results *r, const char *name, const char *container)
{
  for (size_t i = 0; i < r->count; i++)
    if (strcmp (r->items[i].probe, name) == 0 && strcmp (r->items[i].container, container) == 0)
      return &r->items[i];
  return NULL;
}

static const char *
string_member (const struct json_value *object, const char *key)
{
  const struct json_value *v = json_object_get (object, key);
  return v && v->type == JSON_STRING ? v->u.string : NULL;
}

int
verify_results_read_output (struct verify_results *r, const char *container, const char *output,
                            const char *const *expected, size_t expected_count, struct ward_error **err)
{
  for (size_t i = 0; i < expected_count; i++)
    if (find (r, expected[i], container) == NULL
        && verify_results_add (r, expected[i], container, NULL) == NULL)
      return ward_fail (err, ENOMEM, "results");
  for (const char *line = output; *line;)
    {
      size_t len = strcspn (line, "\n");
      struct json_document *doc = NULL;
      struct ward_error *ignored = NULL;
      /* Anything else the container printed is not a probe's line. */
      if (len > 0 && line[0] == '{' && json_parse ("probe output", line, len, &doc, &ignored) == 0)
        {
          const char *name = string_member (doc->root, "probe");
          const char *outcome = string_member (doc->root, "outcome");
          const char *detail = string_member (doc->root, "detail");
          struct verify_result *res = name ? find (r, name, container) : NULL;
          if (res && outcome && detail)
            {
              res->outcome = strcmp (outcome, "contained") == 0 ? VERIFY_CONTAINED
                  : strcmp (outcome, "escaped") == 0            ? VERIFY_ESCAPED
                                                                : VERIFY_ERROR;
              free (res->detail);
              res->detail = strdup (detail);
            }
          json_document_free (doc);
        }
      ward_error_free (&ignored);
      line += len + (line[len] == '\n');
    }
  return 0;
}

void
verify_result_expect_target_audit (struct verify_result *res, const char *host, bool is_name)
{
  res->audit_event = is_name ? "dns.refused" : "egress.refused";
  res->audit_field = is_name ? "name" : "destination";
  free (res->audit_value);
  res->audit_value = strdup (host);
}

/* Would a holding sandbox have recorded this attempt? */
static bool
audit_expected (const struct verify_result *res)
{
  if (res->audit_event == NULL || res->audit_value == NULL || res->outcome != VERIFY_CONTAINED)
    return false;
  if (strcmp (res->audit_event, "dns.refused") == 0)
    return strstr (res->detail, "NXDOMAIN") != NULL;
  if (strcmp (res->audit_event, "egress.refused") == 0)
    return strstr (res->detail, "ECONNREFUSED") || strstr (res->detail, "EHOSTUNREACH");
  const struct probe_info *info = info_of (res->probe);
  return info == NULL || info->audit_when == NULL || strstr (res->detail, info->audit_when) != NULL;
}

static bool
log_has (const char *log, const char *event, const char *field, const char *value)
{
  bool found = false;
  for (const char *line = log; *line && !found;)
    {
      size_t len = strcspn (line, "\n");
      struct json_document *doc = NULL;
      struct ward_error *ignored = NULL;
      if (len > 0 && json_parse ("audit log", line, len, &doc, &ignored) == 0)
        {
          const char *e = string_member (doc->root, "event");
          const char *v = string_member (doc->root, field);
          found = e && v && strcmp (e, event) == 0 && strcmp (v, value) == 0;
          json_document_free (doc);
        }
      ward_error_free (&ignored);
      line += len + (line[len] == '\n');
    }
  return found;
}

void
verify_results_check_audit (struct verify_results *r, const char *audit_dir)
{
  for (size_t i = 0; i < r->count; i++)
    {
      struct verify_result *res = &r->items[i];
      /* The watchdog's kill is the containment itself: its record is looked for either way. */
      bool always = res->audit_event && strcmp (res->audit_event, "watchdog.breach") == 0;
      if (!always && !audit_expected (res))
        {
          res->audited = VERIFY_AUDIT_NOT_EXPECTED;
          continue;
        }
      char path[PATH_MAX];
      snprintf (path, sizeof path, "%s/%s.jsonl", audit_dir, res->container);
      cleanup_free char *log = NULL;
      size_t length;
      struct ward_error *ignored = NULL;
      if (fs_read_file (path, &log, &length, &ignored) < 0)
        ward_error_free (&ignored);
      res->audited = log && log_has (log, res->audit_event, res->audit_field, res->audit_value)
          ? VERIFY_AUDIT_FOUND
          : VERIFY_AUDIT_MISSING;
    }
}

/* Every "CapXxx=hex" of the capabilities probe within the policy's maximum? */
static bool
capabilities_within (const char *detail, uint64_t allowed)
{
  for (const char *p = strstr (detail, "Cap"); p; p = strstr (p + 3, "Cap"))
    {
      const char *equals = strchr (p, '=');
      if (equals == NULL)
        return false;
      uint64_t held = strtoull (equals + 1, NULL, 16);
      if (held & ~allowed)
        return false;
    }
  return true;
}

void
verify_results_judge_by_policy (struct verify_results *r, const struct policy *policy)
{
  for (size_t i = 0; policy && i < r->count; i++)
    {
      struct verify_result *res = &r->items[i];
      bool accepted = false;
      for (size_t k = 0; k < policy->verify_accept_count; k++)
        accepted |= strcmp (res->probe, policy->verify_accept[k]) == 0;
      if (res->outcome != VERIFY_ESCAPED || !accepted)
        continue;
      /* Accepting capabilities means those of the maximum, no others. */
      if (strcmp (res->probe, "capabilities") == 0
          && (res->detail == NULL || !capabilities_within (res->detail, policy->capabilities_mask)))
        continue;
      res->outcome = VERIFY_ALLOWED;
    }
}

static int
rank (const struct verify_result *res)
{
  return res->outcome == VERIFY_ESCAPED ? 0
      : res->outcome == VERIFY_ERROR    ? 1
      : res->outcome == VERIFY_ALLOWED  ? 2
                                        : 3;
}

void
verify_results_sort (struct verify_results *r)
{
  /* Insertion sort: stable, and a few dozen items. */
  for (size_t i = 1; i < r->count; i++)
    {
      struct verify_result moving = r->items[i];
      size_t j = i;
      for (; j > 0 && rank (&r->items[j - 1]) > rank (&moving); j--)
        r->items[j] = r->items[j - 1];
      r->items[j] = moving;
    }
}

bool
verify_results_all_contained (const struct verify_results *r)
{
  for (size_t i = 0; i < r->count; i++)
    if (r->items[i].outcome != VERIFY_CONTAINED && r->items[i].outcome != VERIFY_ALLOWED)
      return false;
  return r->count > 0;
}

void
verify_results_free (struct verify_results *r)
{
  for (size_t i = 0; i < r->count; i++)
    {
      struct verify_result *res = &r->items[i];
      free (res->probe);
      free (res->attempted);
      free (res->expected);
      free (res->detail);
      free (res->container);
      free (res->audit_value);
    }
  free (r->items);
  *r = (struct verify_results){ 0 };
}

const char *
verify_outcome_name (enum verify_outcome o)
{
  return o == VERIFY_CONTAINED ? "contained"
      : o == VERIFY_ESCAPED    ? "escaped"
      : o == VERIFY_ALLOWED    ? "allowed"
                               : "error";
}

const char *
verify_audit_name (enum verify_audit a)
{
  return a == VERIFY_AUDIT_FOUND ? "yes" : a == VERIFY_AUDIT_MISSING ? "no" : "-";
}

const char *
verify_verdict (const struct verify_result *res)
{
  return res->outcome == VERIFY_CONTAINED ? "contained"
      : res->outcome == VERIFY_ALLOWED    ? "allowed"
      : res->outcome == VERIFY_ESCAPED    ? "HOLE"
                                          : "ERROR";
}
