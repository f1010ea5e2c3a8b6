/* ward verify [--policy NAME] [--annotation K=V]... [--url URL]...
 *             [--netns PATH] [--probe PATH] [--json]
 *
 * Tries to break out of the sandbox ward would give a real workload, and
 * says where it held.  Two throwaway containers of a bundle of its own,
 * in a state directory of its own (never the machine's), each run with
 * `ward run` as any engine would — under the policy and annotations
 * given:
 *   1. ward-probe all: every probe that can share a container, and the
 *      first half of `persist` (files written everywhere it can);
 *   2. ward-probe persist cpu-spin, with a short run.ward.timeout: the
 *      files must be gone, and the watchdog must kill the spin.
 * The results are checked against the containers' audit logs, and
 * reported holes first.  Exit status 0 only if every probe was contained,
 * 1 if one was not (or verify itself failed). */
#define _GNU_SOURCE
#include "config.h"
#include "commands.h"
#include "cleanup.h"
#include "container_policy.h"
#include "fs.h"
#include "options.h"
#include "policy.h"
#include "verify_bundle.h"
#include "verify_probes.h"
#include "verify_report.h"
#include "ward_conf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The spin's budget, and how long verify waits for the watchdog after it. */
#define SPIN_TIMEOUT "2s"
#define SPIN_GRACE "1s"
#define SPIN_DEADLINE_SECONDS 20
/* Container 1 runs every other probe; they take seconds, not minutes. */
#define PROBES_DEADLINE_SECONDS 120
#define MAX_OPTIONS 32

/* The defaults of the guides' three network attempts: a URL by name and
 * by IP literal (example.com's and a public resolver's), and the metadata
 * endpoint of the big clouds. */
#define DEFAULT_URL_NAME "example.com"
#define DEFAULT_URL_IP "1.1.1.1"
#define METADATA_ADDRESS "169.254.169.254"

enum
{
  OPT_POLICY = 2000,
  OPT_ANNOTATION,
  OPT_URL,
  OPT_NETNS,
  OPT_PROBE,
  OPT_JSON,
};

static const struct option verify_options_table[] = {
  { "policy", required_argument, NULL, OPT_POLICY },
  { "annotation", required_argument, NULL, OPT_ANNOTATION },
  { "url", required_argument, NULL, OPT_URL },
  { "netns", required_argument, NULL, OPT_NETNS },
  { "probe", required_argument, NULL, OPT_PROBE },
  { "json", no_argument, NULL, OPT_JSON },
  { NULL, 0, NULL, 0 },
};

struct verify_request
{
  const char *policy;
  const char *annotations[MAX_OPTIONS + 4];
  size_t annotations_count;
  const char *urls[MAX_OPTIONS];
  size_t urls_count;
  const char *netns;
  const char *probe;
  bool json;
};

static int
verify_option (void *ctx, int option, const char *value, struct ward_error **err)
{
  struct verify_request *r = ctx;
  switch (option)
    {
    case OPT_POLICY:
      r->policy = value;
      break;
    case OPT_ANNOTATION:
      if (strchr (value, '=') == NULL || value[0] == '=')
        return ward_fail (err, 0, "verify: --annotation %s: expected KEY=VALUE", value);
      if (r->annotations_count == MAX_OPTIONS)
        return ward_fail (err, 0, "verify: more than %d annotations", MAX_OPTIONS);
      r->annotations[r->annotations_count++] = value;
      break;
    case OPT_URL:
      if (r->urls_count == MAX_OPTIONS)
        return ward_fail (err, 0, "verify: more than %d URLs", MAX_OPTIONS);
      r->urls[r->urls_count++] = value;
      break;
    case OPT_NETNS:
      r->netns = value;
      break;
    case OPT_PROBE:
      r->probe = value;
      break;
    case OPT_JSON:
      r->json = true;
      break;
    }
  return 0;
}

/* One network target of the probe: NAME,HOST,PORT as ward-probe takes it. */
struct target
{
  char *name, *host, *port, *spec;
  bool is_name;
};

/* scheme://host[:port][/...], host a name, an IPv4 literal or [IPv6]. */
static int
parse_url (const char *url, struct target *t, struct ward_error **err)
{
  const char *rest = strstr (url, "://");
  bool https = strncmp (url, "https://", 8) == 0;
  rest = rest ? rest + 3 : url;
  size_t host_len;
  const char *after;
  if (*rest == '[')
    {
      const char *close = strchr (rest, ']');
      if (close == NULL)
        return ward_fail (err, 0, "verify: --url %s: unterminated [address]", url);
      rest++;
      host_len = (size_t)(close - rest);
      after = close + 1;
    }
  else
    {
      host_len = strcspn (rest, ":/?#");
      after = rest + host_len;
    }
  if (host_len == 0)
    return ward_fail (err, 0, "verify: --url %s: no host", url);
  t->host = strndup (rest, host_len);
  t->port = *after == ':' ? strndup (after + 1, strcspn (after + 1, "/?#")) : strdup (https ? "443" : "80");
  if (asprintf (&t->name, "url:%s", url) < 0)
    t->name = NULL;
  if (!t->host || !t->port || !t->name)
    return ward_fail (err, ENOMEM, "verify: --url");
  unsigned char address[16];
  t->is_name = inet_pton (AF_INET, t->host, address) != 1 && inet_pton (AF_INET6, t->host, address) != 1;
  return 0;
}

static int
make_target (struct target *t, const char *name, const char *host, const char *port, bool is_name)
{
  t->name = strdup (name);
  t->host = strdup (host);
  t->port = strdup (port);
  t->is_name = is_name;
  return t->name && t->host && t->port ? 0 : -1;
}

static void
free_targets (struct target *targets, size_t count)
{
  for (size_t i = 0; i < count; i++)
    free (targets[i].name), free (targets[i].host), free (targets[i].port), free (targets[i].spec);
}

/* ward-probe next to this ward (the build tree, or the bindir), else
 * where the hook is installed. */
static char *
find_probe (void)
{
  char self[PATH_MAX];
  ssize_t n = readlink ("/proc/self/exe", self, sizeof self - 1);
  char *path = NULL;
  if (n > 0)
    {
      self[n] = '\0';
      if (asprintf (&path, "%s/ward-probe", dirname (self)) >= 0 && access (path, X_OK) == 0)
        return path;
      free (path);
    }
  char hook[] = WARD_HOOK_PATH_DEFAULT;
  return asprintf (&path, "%s/ward-probe", dirname (hook)) >= 0 ? path : NULL;
}

/* Runs `ward --root ROOT run --bundle BUNDLE ID`, its output to `out`;
 * kills the container if it outlives `deadline` seconds.  Returns ward's
 * exit status (the container's), -2 if the deadline passed, -1 on error;
 * *elapsed is the wall time it took. */
static int
run_container (const struct verify_bundle *b, const char *id, const char *out, const char *errors,
               int deadline, double *elapsed, struct ward_error **err)
{
  struct timespec start, now;
  clock_gettime (CLOCK_MONOTONIC, &start);
  pid_t pid = fork ();
  if (pid < 0)
    return ward_fail (err, errno, "fork");
  if (pid == 0)
    {
      int out_fd = open (out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      int err_fd = open (errors, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      int null_fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
      if (out_fd < 0 || err_fd < 0 || null_fd < 0 || dup2 (null_fd, 0) < 0 || dup2 (out_fd, 1) < 0
          || dup2 (err_fd, 2) < 0)
        _exit (127);
      execl ("/proc/self/exe", "ward", "--root", b->root, "run", "--bundle", b->bundle, id, (char *)NULL);
      _exit (127);
    }
  int status, ret = -1;
  bool killed = false;
  for (;;)
    {
      pid_t done = waitpid (pid, &status, WNOHANG);
      clock_gettime (CLOCK_MONOTONIC, &now);
      *elapsed = (double)(now.tv_sec - start.tv_sec) + (double)(now.tv_nsec - start.tv_nsec) / 1e9;
      if (done == pid)
        {
          ret = killed ? -2 : WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
          break;
        }
      if (done < 0 && errno != EINTR)
        return ward_fail (err, errno, "wait for ward run %s", id);
      if (!killed && *elapsed > deadline)
        {
          /* `delete --force` kills the container; `run` then returns. */
          pid_t killer = fork ();
          if (killer == 0)
            {
              int null_fd = open ("/dev/null", O_RDWR | O_CLOEXEC);
              dup2 (null_fd, 1), dup2 (null_fd, 2);
              execl ("/proc/self/exe", "ward", "--root", b->root, "delete", "--force", id, (char *)NULL);
              _exit (127);
            }
          if (killer > 0)
            waitpid (killer, NULL, 0);
          killed = true;
        }
      struct timespec tick = { 0, 50 * 1000 * 1000 };
      nanosleep (&tick, NULL);
    }
  return ret;
}

static char *
read_text (const char *path)
{
  char *text = NULL;
  size_t length;
  struct ward_error *ignored = NULL;
  if (fs_read_file (path, &text, &length, &ignored) < 0)
    ward_error_free (&ignored);
  return text ? text : strdup ("");
}

/* The policy may forbid joining a network namespace (agent-strict:
 * "new"); verify then gives the containers a new one, as the policy would
 * insist a workload had, instead of failing. */
static bool
policy_lets_join (const struct ward_conf *conf, const char *name)
{
  if (strcmp (name, WARD_UNCONFINED) == 0)
    return true;
  struct policy *policy = NULL;
  struct ward_error *ignored = NULL;
  if (policy_load (container_policy_directory (conf), name, &policy, &ignored) < 0)
    {
      ward_error_free (&ignored);
      return true; /* create will say what is wrong with it */
    }
  bool joins
      = policy->network == POLICY_NETWORK_NEW_OR_JOINED && !(policy->namespaces_required & POLICY_NS_NETWORK);
  policy_free (policy);
  return joins;
}

struct verify_run
{
  struct verify_request *request;
  struct ward_conf *conf;
  struct verify_bundle bundle;
  struct target targets[MAX_OPTIONS + 3];
  size_t targets_count;
  char token[64], exfil[96];
  struct verify_results results;
  char ids[2][64];
  const char *netns;
  char *note;
};

/* The annotations of every container: run.ward.policy, then the user's,
 * then `extra` (the spin's budget) unless the user set those keys. */
static void
annotations_for (struct verify_run *v, const char **out, const char *const *extra)
{
  size_t n = 0;
  bool user_policy = false;
  for (size_t i = 0; i < v->request->annotations_count; i++)
    user_policy
        |= strncmp (v->request->annotations[i], POLICY_ANNOTATION "=", strlen (POLICY_ANNOTATION) + 1) == 0;
  static char policy[128];
  if (v->request->policy && !user_policy)
    {
      snprintf (policy, sizeof policy, "%s=%s", POLICY_ANNOTATION, v->request->policy);
      out[n++] = policy;
    }
  for (size_t i = 0; i < v->request->annotations_count; i++)
    out[n++] = v->request->annotations[i];
  for (; extra && *extra; extra++)
    {
      bool set = false;
      size_t key_len = strcspn (*extra, "=") + 1;
      for (size_t i = 0; i < v->request->annotations_count; i++)
        set |= strncmp (v->request->annotations[i], *extra, key_len) == 0;
      if (!set)
        out[n++] = *extra;
    }
  out[n] = NULL;
}

static int
run_probes_container (struct verify_run *v, const char *const *probes, size_t probes_count, char **args,
                      const char *const *extra_annotations, int deadline, int *status, double *elapsed,
                      const char *id, struct ward_error **err)
{
  const char *annotations[MAX_OPTIONS + 8];
  annotations_for (v, annotations, extra_annotations);
  struct verify_container c = { .args = args, .annotations = annotations, .netns = v->netns };
  if (verify_bundle_write_config (&v->bundle, &c, err) < 0)
    return -1;
  char out[PATH_MAX], errors[PATH_MAX];
  snprintf (out, sizeof out, "%s/%s.out", v->bundle.dir, id);
  snprintf (errors, sizeof errors, "%s/%s.err", v->bundle.dir, id);
  *status = run_container (&v->bundle, id, out, errors, deadline, elapsed, err);
  if (*status == -1)
    return -1;
  cleanup_free char *output = read_text (out);
  cleanup_free char *stderr_text = read_text (errors);
  if (verify_results_read_output (&v->results, id, output, probes, probes_count, err) < 0)
    return -1;
  /* A container that never ran (refused by the policy, say): every one of
   * its probes says why. */
  if (*status != 0 && *status != -2 && output[0] == '\0' && stderr_text[0])
    for (size_t i = 0; i < v->results.count; i++)
      if (strcmp (v->results.items[i].container, id) == 0)
        {
          free (v->results.items[i].detail);
          v->results.items[i].detail = strndup (stderr_text, strcspn (stderr_text, "\n"));
        }
  return 0;
}

/* The probes of container 1 in the order `ward-probe all` runs them. */
static const char *const all_probes[] = {
  "readonly-root",
  "write-outside-scratch",
  "write-proc-sys",
  "write-sys",
  "mknod",
  "dev-kmsg",
  "proc-self-exe",
  "leaked-fd",
  "disk-fill",
  "mount",
  "umount",
  "pivot-root",
  "unshare-userns",
  "setns",
  "ptrace",
  "process-vm-readv",
  "bpf",
  "perf-event-open",
  "keyctl",
  "userfaultfd",
  "io-uring-setup",
  "kexec-load",
  "init-module",
  "open-by-handle-at",
  "int80",
  "capabilities",
  "nnp-setuid",
  "tiocsti",
  "fork-bomb",
  "memory-bomb",
  "dns-exfil",
  "raw-socket",
  "af-packet",
  "netlink-route",
  "nft-flush",
};

/* What the policy grants is not a hole: verify checks that the policy
 * enforces what it claims (agent-dev claims a writable root). */
static void
judge_by_policy (struct verify_run *v)
{
  const char *name = v->request->policy ? v->request->policy : v->conf->default_policy;
  struct policy *policy = NULL;
  struct ward_error *ignored = NULL;
  if (strcmp (name, WARD_UNCONFINED) == 0
      || policy_load (container_policy_directory (v->conf), name, &policy, &ignored) < 0)
    {
      ward_error_free (&ignored);
      return;
    }
  verify_results_judge_by_policy (&v->results, policy);
  policy_free (policy);
}

static int
run_first_container (struct verify_run *v, struct ward_error **err)
{
  const char *probes[WARD_ARRAY_SIZE (all_probes) + MAX_OPTIONS + 3];
  size_t count = 0;
  char *args[2 * (MAX_OPTIONS + 3) + 16];
  size_t n = 0;
  args[n++] = "/ward-probe";
  args[n++] = "--token";
  args[n++] = v->token;
  args[n++] = "--exfil";
  args[n++] = v->exfil;
  for (size_t i = 0; i < v->targets_count; i++)
    {
      struct target *t = &v->targets[i];
      if (asprintf (&t->spec, "%s,%s,%s", t->name, t->host, t->port) < 0)
        return ward_fail (err, ENOMEM, "verify");
      args[n++] = "--target";
      args[n++] = t->spec;
      probes[count++] = t->name;
    }
  args[n++] = "all";
  args[n++] = "persist-write";
  args[n] = NULL;
  for (size_t i = 0; i < WARD_ARRAY_SIZE (all_probes); i++)
    probes[count++] = all_probes[i];
  int status;
  double elapsed;
  if (run_probes_container (v, probes, count, args, NULL, PROBES_DEADLINE_SECONDS, &status, &elapsed,
                            v->ids[0], err)
      < 0)
    return -1;
  /* What each target's attempt should leave in the audit log. */
  for (size_t i = 0; i < v->results.count; i++)
    {
      struct verify_result *res = &v->results.items[i];
      for (size_t t = 0; t < v->targets_count; t++)
        if (strcmp (res->probe, v->targets[t].name) == 0)
          verify_result_expect_target_audit (res, v->targets[t].host, v->targets[t].is_name);
      if (strcmp (res->probe, "dns-exfil") == 0)
        verify_result_expect_target_audit (res, v->exfil, true);
    }
  return 0;
}

static int
run_second_container (struct verify_run *v, struct ward_error **err)
{
  static const char *const probes[] = { "persist", "cpu-spin" };
  static const char *const budget[]
      = { "run.ward.timeout=" SPIN_TIMEOUT, "run.ward.grace=" SPIN_GRACE, "run.ward.on-breach=kill", NULL };
  char *args[] = { "/ward-probe", "--token", v->token, "persist", "cpu-spin", NULL };
  int status;
  double elapsed;
  if (run_probes_container (v, probes, 2, args, budget, SPIN_DEADLINE_SECONDS, &status, &elapsed, v->ids[1],
                            err)
      < 0)
    return -1;
  for (size_t i = 0; i < v->results.count; i++)
    {
      struct verify_result *res = &v->results.items[i];
      if (strcmp (res->probe, "cpu-spin") != 0)
        continue;
      free (res->detail);
      res->detail = NULL;
      /* The probe's own line only says it began: what ended it is the answer. */
      if (status == -2)
        res->outcome = VERIFY_ESCAPED,
        asprintf (&res->detail, "still spinning after %d s: verify killed it", SPIN_DEADLINE_SECONDS);
      else if (status > 128)
        res->outcome = VERIFY_CONTAINED,
        asprintf (&res->detail, "killed by signal %d after %.1f s (run.ward.timeout=%s)", status - 128,
                  elapsed, SPIN_TIMEOUT);
      else
        res->outcome = VERIFY_ERROR,
        asprintf (&res->detail, "the container exited %d after %.1f s", status, elapsed);
    }
  return 0;
}

static int
add_targets (struct verify_run *v, struct ward_error **err)
{
  struct target *t = v->targets;
  if (make_target (&t[0], "url-name", DEFAULT_URL_NAME, "80", true) < 0
      || make_target (&t[1], "url-ip", DEFAULT_URL_IP, "80", false) < 0
      || make_target (&t[2], "metadata", METADATA_ADDRESS, "80", false) < 0)
    return ward_fail (err, ENOMEM, "verify");
  v->targets_count = 3;
  for (size_t i = 0; i < v->request->urls_count; i++)
    if (parse_url (v->request->urls[i], &t[v->targets_count++], err) < 0)
      return -1;
  return 0;
}

static void
delete_container (const struct verify_bundle *b, const char *id)
{
  pid_t pid = fork ();
  if (pid == 0)
    {
      int null_fd = open ("/dev/null", O_RDWR | O_CLOEXEC);
      dup2 (null_fd, 1), dup2 (null_fd, 2);
      execl ("/proc/self/exe", "ward", "--root", b->root, "delete", "--force", id, (char *)NULL);
      _exit (127);
    }
  if (pid > 0)
    waitpid (pid, NULL, 0);
}

static int
verify (struct verify_run *v, struct ward_error **err)
{
  struct verify_request *r = v->request;
  if (ward_conf_load (&v->conf, err) < 0)
    return -1;
  const char *policy = r->policy ? r->policy : v->conf->default_policy;
  v->netns = r->netns;
  if (r->netns && !policy_lets_join (v->conf, policy))
    {
      v->netns = NULL;
      if (asprintf (&v->note, "policy %s requires a new network namespace: --netns %s not joined", policy,
                    r->netns)
          < 0)
        v->note = NULL;
    }
  cleanup_free char *probe = r->probe ? strdup (r->probe) : find_probe ();
  if (probe == NULL || access (probe, R_OK) < 0)
    return ward_fail (err, errno, "verify: ward-probe %s", probe ? probe : "");
  unsigned long nonce = (unsigned long)getpid () ^ (unsigned long)time (NULL) << 16;
  snprintf (v->token, sizeof v->token, "ward-verify-%lx", nonce);
  snprintf (v->exfil, sizeof v->exfil, "x%lx.ward-verify-exfil.example.com", nonce);
  snprintf (v->ids[0], sizeof v->ids[0], "ward-verify-%d-probes", getpid ());
  snprintf (v->ids[1], sizeof v->ids[1], "ward-verify-%d-recreated", getpid ());
  if (add_targets (v, err) < 0 || verify_bundle_make (probe, &v->bundle, err) < 0)
    return -1;
  if (run_first_container (v, err) < 0)
    return -1;
  delete_container (&v->bundle, v->ids[0]);
  if (run_second_container (v, err) < 0)
    return -1;
  delete_container (&v->bundle, v->ids[1]);
  judge_by_policy (v);
  verify_results_check_audit (&v->results, v->conf->audit_dir ? v->conf->audit_dir : WARD_AUDIT_DIR_DEFAULT);
  verify_results_sort (&v->results);
  struct verify_summary summary = { .policy = policy, .netns = v->netns, .note = v->note };
  if (r->json)
    {
      if (verify_report_json (stdout, &summary, &v->results, err) < 0)
        return -1;
    }
  else
    verify_report_table (stdout, &summary, &v->results);
  fflush (stdout);
  return verify_results_all_contained (&v->results) ? 0 : 1;
}

int
cmd_verify (struct global_options *global, int argc, char **argv, struct ward_error **err)
{
  (void)global; /* verify's containers live in a --root of their own */
  struct verify_request r = { 0 };
  int first = options_parse ("verify", argc, argv, "", verify_options_table, verify_option, &r, err);
  if (first < 0 || options_expect_operands ("verify", argc, argv, first, 0, "verify [options]", err) < 0)
    return -1;
  /* A reader that goes away (`| head`) must not kill us before the
   * clean-up below: the write fails instead. */
  signal (SIGPIPE, SIG_IGN);
  struct verify_run v = { .request = &r };
  int ret = verify (&v, err);
  /* Whatever happened: no container, no state, no bundle left behind. */
  if (v.bundle.root)
    {
      delete_container (&v.bundle, v.ids[0]);
      delete_container (&v.bundle, v.ids[1]);
    }
  verify_bundle_remove (&v.bundle);
  verify_results_free (&v.results);
  free_targets (v.targets, v.targets_count);
  free (v.note);
  if (v.conf)
    ward_conf_free (v.conf);
  return ret;
}
