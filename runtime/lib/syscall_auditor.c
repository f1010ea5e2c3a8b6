#include "config.h"
/* libseccomp's header, reached through ours of the same name (see seccomp.h). */
#define WARD_WANT_LIBSECCOMP
#include <seccomp.h>
#include "syscall_auditor.h"
#include "audit.h"
#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *const syscall_auditor_syscalls[] = {
  "ptrace",
  "process_vm_readv",
  "process_vm_writev",
  "mount",
  "umount2",
  "pivot_root",
  "open_by_handle_at",
  "bpf",
  "perf_event_open",
  "unshare",
  "setns",
  "keyctl",
  "add_key",
  "request_key",
  "init_module",
  "finit_module",
  "kexec_load",
};
const size_t syscall_auditor_syscalls_count = WARD_ARRAY_SIZE (syscall_auditor_syscalls);

/* A container calling mount in a loop must not fill the disk: past this
 * many records a second, denials are counted and the count goes in the
 * next record written. */
#define RECORDS_PER_SECOND 50

struct auditor
{
  int notify_fd;
  struct audit_log *log;
  time_t second;       /* the second being counted */
  unsigned written;    /* records written in it */
  uint64_t suppressed; /* denials not written since the last record */
};

static const char *
arch_name (uint32_t arch, char *buf, size_t size)
{
  switch (arch)
    {
    case AUDIT_ARCH_X86_64:
      return "x86_64";
    case AUDIT_ARCH_I386:
      return "x86";
    case AUDIT_ARCH_AARCH64:
      return "aarch64";
    default:
      snprintf (buf, size, "0x%x", arch);
      return buf;
    }
}

/* The caller's command; NULL once it may be another process (the
 * notification's id is no longer valid: the caller died and its pid may
 * have been reused). */
static char *
caller_command (const struct auditor *a, const struct seccomp_notif *req, char *buf, size_t size)
{
  char path[64];
  snprintf (path, sizeof path, "/proc/%u/comm", req->pid);
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read (fd, buf, size - 1) : -1;
  if (n <= 0)
    return NULL;
  buf[n] = '\0';
  buf[strcspn (buf, "\n")] = '\0';
  uint64_t id = req->id;
  if (ioctl (a->notify_fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) < 0)
    return NULL;
  return buf;
}

static bool
within_rate (struct auditor *a)
{
  struct timespec now;
  clock_gettime (CLOCK_MONOTONIC, &now);
  if (now.tv_sec != a->second)
    {
      a->second = now.tv_sec;
      a->written = 0;
    }
  if (a->written >= RECORDS_PER_SECOND)
    {
      a->suppressed++;
      return false;
    }
  a->written++;
  return true;
}

static void
record_denial (struct auditor *a, const struct seccomp_notif *req)
{
  if (!within_rate (a))
    return;
  char arch[16], number[32], command[64];
  cleanup_free char *name = seccomp_syscall_resolve_num_arch (req->data.arch, req->data.nr);
  if (name == NULL)
    snprintf (number, sizeof number, "syscall %d", req->data.nr);
  const char *comm = caller_command (a, req, command, sizeof command);
  struct json_writer *w = audit_record_begin (a->log, "syscall.denied", true);
  if (w == NULL)
    return;
  jw_key_string (w, "syscall", name ? name : number);
  jw_key_int (w, "nr", req->data.nr);
  jw_key_string (w, "arch", arch_name (req->data.arch, arch, sizeof arch));
  jw_key_int (w, "pid", req->pid);
  jw_key (w, "command");
  if (comm)
    jw_string (w, comm);
  else
    jw_null (w);
  jw_key_string (w, "errno", "EPERM");
  if (a->suppressed > 0)
    jw_key_int (w, "suppressed", (long long)a->suppressed);
  a->suppressed = 0;
  struct ward_error *ignored = NULL;
  audit_record_write (a->log, w, &ignored);
  ward_error_free (&ignored);
}

/* Logged first, answered second: when the caller sees EPERM, the record
 * is already in the file. */
static void
answer (struct auditor *a, const struct seccomp_notif *req, struct seccomp_notif_resp *resp, size_t resp_size)
{
  record_denial (a, req);
  memset (resp, 0, resp_size);
  resp->id = req->id;
  resp->error = -EPERM;
  /* ENOENT: the caller died meanwhile; nothing to answer. */
  ioctl (a->notify_fd, SECCOMP_IOCTL_NOTIF_SEND, resp);
}

static void
serve (struct auditor *a)
{
  struct seccomp_notif_sizes sizes = { 0 };
  if (syscall (SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0)
    return;
  size_t req_size = sizes.seccomp_notif > sizeof (struct seccomp_notif) ? sizes.seccomp_notif
                                                                        : sizeof (struct seccomp_notif);
  size_t resp_size = sizes.seccomp_notif_resp > sizeof (struct seccomp_notif_resp)
      ? sizes.seccomp_notif_resp
      : sizeof (struct seccomp_notif_resp);
  cleanup_free struct seccomp_notif *req = malloc (req_size);
  cleanup_free struct seccomp_notif_resp *resp = malloc (resp_size);
  if (req == NULL || resp == NULL)
    return;
  for (;;)
    {
      struct pollfd p = { .fd = a->notify_fd, .events = POLLIN };
      if (poll (&p, 1, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          return;
        }
      if (p.revents & POLLIN)
        {
          memset (req, 0, req_size);
          if (ioctl (a->notify_fd, SECCOMP_IOCTL_NOTIF_RECV, req) == 0)
            answer (a, req, resp, resp_size);
          else if (errno != EINTR && errno != ENOENT)
            return;
        }
      else if (p.revents & (POLLHUP | POLLERR | POLLNVAL))
        return; /* every process of the filter is gone */
    }
}

/* In the auditor: nothing of ward's but the listener (made fd 3) and
 * signals at their defaults (ward run forwards some to the container). */
static void
become_detached (int notify_fd)
{
  setsid ();
  prctl (PR_SET_NAME, "ward-sysaudit", 0, 0, 0);
  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP)
      signal (sig, SIG_DFL);
  sigset_t all;
  sigemptyset (&all);
  sigprocmask (SIG_SETMASK, &all, NULL);
  int null = open ("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0)
    for (int fd = 0; fd < 3; fd++)
      dup2 (null, fd);
  if (notify_fd != 3 && dup2 (notify_fd, 3) < 0)
    _exit (1);
  syscall (SYS_close_range, 4, ~0U, 0);
}

static __attribute__ ((noreturn)) void
auditor_main (const char *audit_dir, const char *id, int notify_fd)
{
  become_detached (notify_fd);
  struct auditor a = { .notify_fd = 3 };
  struct ward_error *err = NULL;
  if (audit_open (audit_dir, id, &a.log, &err) < 0)
    _exit (1);
  serve (&a);
  audit_close (a.log);
  _exit (0);
}

int
syscall_auditor_start (const char *audit_dir, const char *id, int notify_fd, pid_t *starter,
                       struct ward_error **err)
{
  /* Twice forked, so that it is nobody's child here: `ward run` waits
   * for the container's init, and no zombie of ours lingers.  The caller
   * reaps the first child later (syscall_auditor_started), so that its
   * fork and exit overlap with the rest of create. */
  pid_t child = fork ();
  if (child < 0)
    return ward_fail (err, errno, "syscall auditor: fork");
  if (child == 0)
    {
      pid_t auditor = fork ();
      if (auditor == 0)
        auditor_main (audit_dir, id, notify_fd);
      _exit (auditor < 0 ? 1 : 0);
    }
  *starter = child;
  return 0;
}

int
syscall_auditor_started (pid_t starter, struct ward_error **err)
{
  int status;
  while (waitpid (starter, &status, 0) < 0)
    if (errno != EINTR)
      return ward_fail (err, errno, "syscall auditor: wait");
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    return ward_fail (err, 0, "syscall auditor: could not be started");
  return 0;
}
