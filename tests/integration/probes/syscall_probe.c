/* syscall_probe: tries the calls the agent seccomp profile
 * (policy-profiles/seccomp/agent.json) denies, and a few it must allow, and
 * prints one line per probe: "NAME ok", "NAME ERRNO", or for the probes run
 * in a child that the filter may kill, "NAME killed SIGNAL".
 *
 * Built static (gcc -static) by tests/integration/test_agent_seccomp.py and
 * run as a container's process.  Every call is made through syscall(2), so
 * libc can neither emulate it nor pick another call than the one named.
 *
 * The arguments are chosen to be harmless when a call is let through, even
 * with every capability: a missing path, a bad fd, a file system type that
 * does not exist, an invalid time, a clock read (adjtimex with modes 0).
 * Calls that would change the probe itself when they succeed (ptrace
 * TRACEME, unshare, clone with namespace flags, clone3) run in a child that
 * exits at once.  Without a filter most probes so end with an error other
 * than EPERM, which tells a refusal by the filter from a refusal by the
 * kernel.
 *
 * Names given as arguments select the probes to run (all by default), so
 * that one probe, say int80, can also be run on the host. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <linux/reboot.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef AF_ALG
#define AF_ALG 38
#endif
#ifndef AF_KEY
#define AF_KEY 15
#endif
#define NETLINK_ROUTE 0
#define NETLINK_AUDIT 9
#define PF_KEY_V2 2
#define FSCONFIG_CMD_CREATE 6
#define KEXEC_SEGMENT_MAX 16

/* The missing path every path-taking probe names. */
#define NOWHERE "/nonexistent-ward-probe"

static int selected_count;
static char **selected;

static bool
wanted (const char *name)
{
  if (selected_count == 0)
    return true;
  for (int i = 0; i < selected_count; i++)
    if (strcmp (selected[i], name) == 0)
      return true;
  return false;
}

/* The call is made only when its probe is selected. */
#define PROBE(name, call)                                                                                    \
  do                                                                                                         \
    {                                                                                                        \
      if (wanted (name))                                                                                     \
        report (name, (call));                                                                               \
    }                                                                                                        \
  while (0)
#define PROBE_FD(name, call)                                                                                 \
  do                                                                                                         \
    {                                                                                                        \
      if (wanted (name))                                                                                     \
        report_fd (name, (call));                                                                            \
    }                                                                                                        \
  while (0)

static void
report (const char *name, long ret)
{
  if (ret < 0)
    printf ("%s %d\n", name, errno);
  else
    printf ("%s ok\n", name);
  fflush (stdout);
}

/* A call that returns an fd when it works: close the fd again. */
static void
report_fd (const char *name, long ret)
{
  int saved = errno;
  if (ret >= 0)
    close ((int)ret);
  errno = saved;
  report (name, ret);
}

/* Runs fn in a forked child and reports what the child said: its exit
 * status is 0 for success or the errno, and a signal that killed it is
 * printed as "killed SIGNAL".  A child the filter kills must not dump core
 * (into the rootfs, or to a core_pattern helper on the host). */
static void
in_child (const char *name, long (*fn) (void))
{
  if (!wanted (name))
    return;
  fflush (stdout);
  pid_t pid = fork ();
  if (pid < 0)
    {
      report (name, -1);
      return;
    }
  if (pid == 0)
    {
      struct rlimit none = { 0, 0 };
      setrlimit (RLIMIT_CORE, &none);
      prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);
      long ret = fn ();
      _exit (ret < 0 ? (errno & 0xff) : 0);
    }
  int status;
  if (waitpid (pid, &status, 0) < 0)
    {
      report (name, -1);
      return;
    }
  if (WIFSIGNALED (status))
    printf ("%s killed %d\n", name, WTERMSIG (status));
  else if (WEXITSTATUS (status) == 0)
    printf ("%s ok\n", name);
  else
    printf ("%s %d\n", name, WEXITSTATUS (status));
  fflush (stdout);
}

/* --- calls run in a child ---------------------------------------------------- */

static long
do_ptrace_traceme (void)
{
  return syscall (SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0);
}

static long
do_unshare_user (void)
{
  return syscall (SYS_unshare, CLONE_NEWUSER);
}

/* clone with the given flags and no new stack: the child, if there is one,
 * goes on from here on a copy of this one's and leaves at once. */
static unsigned long clone_flags;

static long
do_clone (void)
{
  long ret = syscall (SYS_clone, clone_flags | SIGCHLD, 0, NULL, NULL, 0);
  if (ret == 0)
    _exit (0);
  if (ret > 0)
    waitpid ((pid_t)ret, NULL, 0);
  return ret;
}

static long
do_clone3 (void)
{
  struct clone_args args;
  memset (&args, 0, sizeof args);
  args.exit_signal = SIGCHLD;
  long ret = syscall (SYS_clone3, &args, sizeof args);
  if (ret == 0)
    _exit (0);
  if (ret > 0)
    waitpid ((pid_t)ret, NULL, 0);
  return ret;
}

/* getpid through the i386 ABI (int $0x80, eax = 20): another architecture
 * than the filter's, which libseccomp answers with its bad-arch action. */
static long
do_int80 (void)
{
  long ret;
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
  if (ret < 0)
    {
      errno = (int)-ret;
      return -1;
    }
  return 0;
}

static void *
int80_thread_main (void *unused)
{
  (void)unused;
  do_int80 ();
  return NULL;
}

/* The same call from a second thread: a filter that killed only the
 * calling thread would let the process go on (and try again). */
static long
do_int80_in_a_thread (void)
{
  pthread_t thread;
  if (pthread_create (&thread, NULL, int80_thread_main, NULL) != 0)
    return -1;
  pthread_join (thread, NULL);
  return 0;
}

/* getpid through the x32 ABI (the __X32_SYSCALL_BIT on x86_64's number):
 * ENOSYS from a kernel without x32, unless the filter kills it first. */
static long
do_x32 (void)
{
  return syscall (0x40000000L | SYS_getpid);
}

/* --- allowed calls ----------------------------------------------------------- */

static long
do_fork (void)
{
  pid_t pid = fork ();
  if (pid == 0)
    _exit (7);
  if (pid < 0)
    return -1;
  int status;
  if (waitpid (pid, &status, 0) < 0)
    return -1;
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 7)
    {
      errno = ECHILD;
      return -1;
    }
  return 0;
}

static void *
thread_main (void *arg)
{
  return arg;
}

/* pthread_create: glibc tries clone3 first and takes clone on ENOSYS. */
static long
do_thread (void)
{
  pthread_t thread;
  void *result = NULL;
  int rc = pthread_create (&thread, NULL, thread_main, (void *)42);
  if (rc != 0)
    {
      errno = rc;
      return -1;
    }
  pthread_join (thread, &result);
  return result == (void *)42 ? 0 : -1;
}

static long
do_pipe (void)
{
  int fds[2];
  char buf[4] = { 0 };
  if (syscall (SYS_pipe2, fds, O_CLOEXEC) < 0)
    return -1;
  long ret
      = write (fds[1], "abc", 3) == 3 && read (fds[0], buf, 3) == 3 && memcmp (buf, "abc", 3) == 0 ? 0 : -1;
  close (fds[0]);
  close (fds[1]);
  return ret;
}

static long
do_file (void)
{
  char buf[64];
  int fd = (int)syscall (SYS_openat, AT_FDCWD, "/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  long n = read (fd, buf, sizeof buf);
  close (fd);
  if (n <= 0 || strncmp (buf, "Name:", 5) != 0)
    {
      errno = EIO;
      return -1;
    }
  return 0;
}

static long
do_socketpair (int family)
{
  int sv[2];
  long ret = syscall (SYS_socketpair, family, SOCK_STREAM, 0, sv);
  if (ret == 0)
    {
      close (sv[0]);
      close (sv[1]);
    }
  return ret;
}

int
main (int argc, char **argv)
{
  selected_count = argc - 1;
  selected = argv + 1;

  /* --- allowed ----------------------------------------------------------------- */
  PROBE ("getpid", syscall (SYS_getpid));
  PROBE_FD ("socket_unix", syscall (SYS_socket, AF_UNIX, SOCK_STREAM, 0));
  PROBE_FD ("socket_inet", syscall (SYS_socket, AF_INET, SOCK_STREAM, 0));
  PROBE_FD ("socket_inet6", syscall (SYS_socket, AF_INET6, SOCK_DGRAM, 0));
  PROBE_FD ("netlink_route", syscall (SYS_socket, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  PROBE ("socketpair_unix", do_socketpair (AF_UNIX));
  PROBE ("fork", do_fork ());
  PROBE ("thread", do_thread ());
  PROBE ("pipe", do_pipe ());
  PROBE ("file", do_file ());

  /* --- debugging and other processes' memory ----------------------------------- */
  in_child ("ptrace", do_ptrace_traceme);
  {
    char src[8] = "ward", dst[8] = { 0 };
    struct iovec local = { dst, sizeof dst }, remote = { src, sizeof src };
    PROBE ("process_vm_readv", syscall (SYS_process_vm_readv, getpid (), &local, 1, &remote, 1, 0));
    PROBE ("process_vm_writev", syscall (SYS_process_vm_writev, getpid (), &remote, 1, &local, 1, 0));
  }
  PROBE_FD ("userfaultfd", syscall (SYS_userfaultfd, 0));

  /* --- keys, BPF, perf --------------------------------------------------------- */
  PROBE ("keyctl", syscall (SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0));
  PROBE ("add_key", syscall (SYS_add_key, "user", "ward-probe", "x", 1, KEY_SPEC_PROCESS_KEYRING));
  PROBE ("request_key", syscall (SYS_request_key, "user", "ward-probe-none", NULL, 0));
  {
    union bpf_attr attr;
    memset (&attr, 0, sizeof attr);
    attr.prog_type = BPF_PROG_TYPE_UNSPEC; /* junk: no program of that type */
    PROBE_FD ("bpf", syscall (SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr));
  }
  {
    struct perf_event_attr attr;
    memset (&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_CPU_CLOCK;
    attr.disabled = 1;
    PROBE_FD ("perf_event_open", syscall (SYS_perf_event_open, &attr, 0, -1, -1, 0));
  }

  /* --- kernel images and modules ----------------------------------------------- */
  /* Too many segments: EINVAL when let through, never an unload (0 segments). */
  PROBE ("kexec_load", syscall (SYS_kexec_load, 0, KEXEC_SEGMENT_MAX + 1, NULL, 0));
  PROBE ("kexec_file_load", syscall (SYS_kexec_file_load, -1, -1, 0, "", 0));
  PROBE ("init_module", syscall (SYS_init_module, NULL, 0, ""));
  PROBE ("finit_module", syscall (SYS_finit_module, -1, "", 0));
  PROBE ("delete_module", syscall (SYS_delete_module, "ward_probe_none", O_NONBLOCK));

  /* --- mounts ------------------------------------------------------------------ */
  PROBE ("mount", syscall (SYS_mount, "none", "/tmp", "ward_no_such_fs", 0, NULL));
  PROBE ("umount2", syscall (SYS_umount2, NOWHERE, 0));
  PROBE ("pivot_root", syscall (SYS_pivot_root, NOWHERE, NOWHERE));
  PROBE_FD ("open_tree", syscall (SYS_open_tree, AT_FDCWD, "/tmp", 0));
  PROBE ("move_mount", syscall (SYS_move_mount, AT_FDCWD, NOWHERE, AT_FDCWD, NOWHERE, 0));
  PROBE_FD ("fsopen", syscall (SYS_fsopen, "tmpfs", 0));
  PROBE ("fsconfig", syscall (SYS_fsconfig, -1, FSCONFIG_CMD_CREATE, NULL, NULL, 0));
  PROBE_FD ("fsmount", syscall (SYS_fsmount, -1, 0, 0));
  PROBE_FD ("fspick", syscall (SYS_fspick, AT_FDCWD, NOWHERE, 0));
  PROBE ("mount_setattr", syscall (SYS_mount_setattr, -1, "", 0, NULL, 0));

  /* --- namespaces -------------------------------------------------------------- */
  in_child ("unshare", do_unshare_user);
  PROBE ("setns", syscall (SYS_setns, -1, 0));
  static const struct
  {
    const char *name;
    unsigned long flag;
  } namespaces[] = {
    { "clone_newuser", CLONE_NEWUSER },     { "clone_newns", CLONE_NEWNS },
    { "clone_newuts", CLONE_NEWUTS },       { "clone_newipc", CLONE_NEWIPC },
    { "clone_newpid", CLONE_NEWPID },       { "clone_newnet", CLONE_NEWNET },
    { "clone_newcgroup", CLONE_NEWCGROUP },
  };
  for (size_t i = 0; i < sizeof namespaces / sizeof namespaces[0]; i++)
    {
      clone_flags = namespaces[i].flag;
      in_child (namespaces[i].name, do_clone);
    }
  clone_flags = 0;
  in_child ("clone_plain", do_clone);
  in_child ("clone3", do_clone3);

  /* --- io_uring ---------------------------------------------------------------- */
  {
    struct io_uring_params params;
    memset (&params, 0, sizeof params);
    PROBE_FD ("io_uring_setup", syscall (SYS_io_uring_setup, 1, &params));
    PROBE ("io_uring_enter", syscall (SYS_io_uring_enter, -1, 0, 0, 0, NULL, 0));
    PROBE ("io_uring_register", syscall (SYS_io_uring_register, -1, 0, NULL, 0));
  }

  /* --- system-wide state ------------------------------------------------------- */
  PROBE ("acct", syscall (SYS_acct, NULL));
  PROBE ("swapon", syscall (SYS_swapon, NOWHERE, 0));
  PROBE ("swapoff", syscall (SYS_swapoff, NOWHERE));
  PROBE ("reboot",
         syscall (SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_CAD_OFF, NULL));
  {
    /* Invalid times (EINVAL when let through): the clock is never set. */
    struct timespec bad_ts = { 0, -1 };
    struct timeval bad_tv = { 0, -1 };
    PROBE ("clock_settime", syscall (SYS_clock_settime, CLOCK_REALTIME, &bad_ts));
    PROBE ("settimeofday", syscall (SYS_settimeofday, &bad_tv, NULL));
    /* modes 0: only reads the clock's state. */
    struct timex tx;
    memset (&tx, 0, sizeof tx);
    PROBE ("adjtimex", syscall (SYS_adjtimex, &tx));
    memset (&tx, 0, sizeof tx);
    PROBE ("clock_adjtime", syscall (SYS_clock_adjtime, CLOCK_REALTIME, &tx));
  }

  /* --- file handles ------------------------------------------------------------ */
  {
    struct
    {
      unsigned int handle_bytes;
      int handle_type;
      unsigned char f_handle[128];
    } handle;
    int mount_id;
    memset (&handle, 0, sizeof handle);
    handle.handle_bytes = sizeof handle.f_handle;
    PROBE ("name_to_handle_at", syscall (SYS_name_to_handle_at, AT_FDCWD, "/", &handle, &mount_id, 0));
    memset (&handle, 0xff, sizeof handle);
    handle.handle_bytes = 8;
    PROBE_FD ("open_by_handle_at", syscall (SYS_open_by_handle_at, AT_FDCWD, &handle, O_RDONLY));
  }

  /* --- socket families --------------------------------------------------------- */
  PROBE_FD ("socket_packet", syscall (SYS_socket, AF_PACKET, SOCK_RAW, 0));
  PROBE_FD ("netlink_audit", syscall (SYS_socket, AF_NETLINK, SOCK_RAW, NETLINK_AUDIT));
  PROBE_FD ("socket_alg", syscall (SYS_socket, AF_ALG, SOCK_SEQPACKET, 0));
  PROBE_FD ("socket_vsock", syscall (SYS_socket, AF_VSOCK, SOCK_STREAM, 0));
  PROBE_FD ("socket_key", syscall (SYS_socket, AF_KEY, SOCK_RAW, PF_KEY_V2));
  /* The kernel reads the family as an int, dropping the register's high
   * half: a rule refusing family 17 would miss this AF_PACKET socket, the
   * profile's rules allowing families by equality do not. */
  PROBE_FD ("socket_packet_high_bits", syscall (SYS_socket, (1UL << 32) | AF_PACKET, SOCK_RAW, 0));
  PROBE ("socketpair_inet", do_socketpair (AF_INET));

  /* --- other ABIs -------------------------------------------------------------- */
  in_child ("int80", do_int80);
  in_child ("int80_thread", do_int80_in_a_thread);
  in_child ("x32", do_x32);

  printf ("done\n");
  return 0;
}
