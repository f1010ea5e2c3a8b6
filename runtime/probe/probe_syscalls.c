/* Probes of the calls an escaping program reaches for first.  Contained
 * means refused (EPERM, EACCES, ENOSYS): by the seccomp filter, or for
 * want of a capability.  Arguments are chosen so that a call let through
 * either does nothing outside the container's own namespaces, or fails on
 * them only after the kernel's permission checks — which is an escape
 * too: nothing stopped the call.  Calls that change the caller (unshare,
 * setns) run in a child. */
#define _GNU_SOURCE
#include "probe.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define KEXEC_SEGMENT_MAX 16
#define MOUNT_POINT "/tmp/.ward-probe-mnt"

/* The result of fn in a child: its exit status is 0 for success, else the
 * errno; a signal that killed it is reported as such. */
static void
report_child (const char *name, int (*fn) (void *))
{
  int status = probe_in_child (fn, NULL);
  if (status < 0)
    probe_report (name, PROBE_ERROR, "fork: %s", strerrorname_np (errno));
  else if (WIFSIGNALED (status))
    probe_report (name, PROBE_CONTAINED, "killed by signal %d", WTERMSIG (status));
  else
    probe_report_call (name, WEXITSTATUS (status) ? -1 : 0, WEXITSTATUS (status));
}

static int
as_status (long ret)
{
  return ret < 0 ? (errno & 0xff) : 0;
}

static void
probe_mount (const char *name, const struct probe_args *args)
{
  (void)args;
  mkdir (MOUNT_POINT, 0700);
  long ret = syscall (SYS_mount, "tmpfs", MOUNT_POINT, "tmpfs", 0UL, "size=1m");
  int saved = errno;
  if (ret == 0)
    syscall (SYS_umount2, MOUNT_POINT, MNT_DETACH);
  rmdir (MOUNT_POINT);
  probe_report_call (name, ret, saved);
}

static void
probe_umount (const char *name, const struct probe_args *args)
{
  (void)args;
  /* A masked path (/dev/null bound over it): unmounting it shows the
   * host's kernel memory. */
  probe_report_call (name, syscall (SYS_umount2, "/proc/kcore", MNT_DETACH), errno);
}

static void
probe_pivot_root (const char *name, const struct probe_args *args)
{
  (void)args;
  /* The permission check comes first; a missing path is refused after. */
  probe_report_call (name, syscall (SYS_pivot_root, "/nonexistent-ward-probe", "/nonexistent-ward-probe"),
                     errno);
}

static int
do_unshare_user (void *ctx)
{
  (void)ctx;
  return as_status (syscall (SYS_unshare, CLONE_NEWUSER));
}

static void
probe_unshare_userns (const char *name, const struct probe_args *args)
{
  (void)args;
  report_child (name, do_unshare_user);
}

static int
do_setns (void *ctx)
{
  (void)ctx;
  /* The container's own mount namespace: joining it needs CAP_SYS_ADMIN
   * and changes nothing. */
  int fd = open ("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0x7f;
  return as_status (syscall (SYS_setns, fd, CLONE_NEWNS));
}

static void
probe_setns (const char *name, const struct probe_args *args)
{
  (void)args;
  report_child (name, do_setns);
}

static void
probe_ptrace (const char *name, const struct probe_args *args)
{
  (void)args;
  pid_t child = fork ();
  if (child < 0)
    {
      probe_report (name, PROBE_ERROR, "fork: %s", strerrorname_np (errno));
      return;
    }
  if (child == 0)
    {
      pause ();
      _exit (0);
    }
  long ret = syscall (SYS_ptrace, PTRACE_ATTACH, child, 0, 0);
  int saved = errno;
  kill (child, SIGKILL);
  waitpid (child, NULL, 0);
  probe_report_call (name, ret, saved);
}

static void
probe_process_vm_readv (const char *name, const struct probe_args *args)
{
  (void)args;
  char source[8] = "ward", target[8];
  struct iovec local = { target, sizeof target }, remote = { source, sizeof source };
  probe_report_call (name, syscall (SYS_process_vm_readv, getpid (), &local, 1, &remote, 1, 0), errno);
}

static void
report_fd (const char *name, long ret)
{
  int saved = errno;
  if (ret >= 0)
    close ((int)ret);
  probe_report_call (name, ret, saved);
}

static void
probe_bpf (const char *name, const struct probe_args *args)
{
  (void)args;
  union bpf_attr attr;
  memset (&attr, 0, sizeof attr);
  attr.map_type = BPF_MAP_TYPE_ARRAY;
  attr.key_size = 4;
  attr.value_size = 4;
  attr.max_entries = 1;
  report_fd (name, syscall (SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr));
}

static void
probe_perf_event_open (const char *name, const struct probe_args *args)
{
  (void)args;
  struct perf_event_attr attr;
  memset (&attr, 0, sizeof attr);
  attr.type = PERF_TYPE_SOFTWARE;
  attr.size = sizeof attr;
  attr.config = PERF_COUNT_SW_TASK_CLOCK;
  attr.disabled = 1;
  attr.exclude_kernel = 1;
  attr.exclude_hv = 1;
  report_fd (name, syscall (SYS_perf_event_open, &attr, 0, -1, -1, 0UL));
}

static void
probe_keyctl (const char *name, const struct probe_args *args)
{
  (void)args;
  /* The user keyring is the uid's, shared with the host's processes of
   * that uid: finding it is reaching outside. */
  probe_report_call (name, syscall (SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_USER_KEYRING, 0), errno);
}

static void
probe_userfaultfd (const char *name, const struct probe_args *args)
{
  (void)args;
  report_fd (name, syscall (SYS_userfaultfd, O_CLOEXEC));
}

static void
probe_io_uring (const char *name, const struct probe_args *args)
{
  (void)args;
  struct io_uring_params params;
  memset (&params, 0, sizeof params);
  report_fd (name, syscall (SYS_io_uring_setup, 1, &params));
}

static void
probe_kexec_load (const char *name, const struct probe_args *args)
{
  (void)args;
  /* Too many segments: refused after the CAP_SYS_BOOT check, never loaded. */
  probe_report_call (name, syscall (SYS_kexec_load, 0UL, KEXEC_SEGMENT_MAX + 1, NULL, 0UL), errno);
}

static void
probe_init_module (const char *name, const struct probe_args *args)
{
  (void)args;
  /* No image: refused after the CAP_SYS_MODULE check. */
  probe_report_call (name, syscall (SYS_init_module, NULL, 0UL, ""), errno);
}

static void
probe_open_by_handle_at (const char *name, const struct probe_args *args)
{
  (void)args;
  /* "shocker": a handle names any inode of the file system, outside the
   * container's root too.  A zero handle is refused after the
   * CAP_DAC_READ_SEARCH check. */
  struct
  {
    struct file_handle head;
    unsigned char bytes[8];
  } handle;
  memset (&handle, 0, sizeof handle);
  handle.head.handle_bytes = sizeof handle.bytes;
  handle.head.handle_type = 1;
  int root = open ("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  report_fd (name, syscall (SYS_open_by_handle_at, root, &handle, O_RDONLY));
  if (root >= 0)
    close (root);
}

static int
do_int80 (void *ctx)
{
  (void)ctx;
  long ret;
  /* getpid through the i386 ABI (eax = 20). */
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
  return ret < 0 ? (int)(-ret & 0xff) : 0;
}

static void
probe_int80 (const char *name, const struct probe_args *args)
{
  (void)args;
  report_child (name, do_int80);
}

const struct probe probe_syscall_table[] = {
  { "mount", probe_mount, true },
  { "umount", probe_umount, true },
  { "pivot-root", probe_pivot_root, true },
  { "unshare-userns", probe_unshare_userns, true },
  { "setns", probe_setns, true },
  { "ptrace", probe_ptrace, true },
  { "process-vm-readv", probe_process_vm_readv, true },
  { "bpf", probe_bpf, true },
  { "perf-event-open", probe_perf_event_open, true },
  { "keyctl", probe_keyctl, true },
  { "userfaultfd", probe_userfaultfd, true },
  { "io-uring-setup", probe_io_uring, true },
  { "kexec-load", probe_kexec_load, true },
  { "init-module", probe_init_module, true },
  { "open-by-handle-at", probe_open_by_handle_at, true },
  { "int80", probe_int80, true },
  { NULL, NULL, false },
};
