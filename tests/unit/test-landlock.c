/* Landlock: the rights granted for each ABI, then real enforcement.  Every
 * enforcement test restricts a forked child, never this process (a domain
 * cannot be left); the child's failed checks print there and come back as
 * its exit status.  A kernel whose ABI is too old skips the test with a
 * note.  The expected masks are written as the uapi's bit numbers, so that
 * they check the values landlock.c spells out for old headers. */
#include "config.h"
#include "harness.h"
#include "landlock.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/capability.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define BIT(n) (1ULL << (n))

/* EXECUTE, READ_FILE, READ_DIR. */
#define READ_RIGHTS (BIT (0) | BIT (2) | BIT (3))
/* Bits 0-12 are ABI 1's rights; 6 and 11 make device nodes, never granted. */
#define WRITE_RIGHTS_ABI1 ((BIT (13) - 1) & ~(BIT (6) | BIT (11)))

TEST (read_rights_are_read_and_execute_on_every_abi)
{
  CHECK_INT_EQ (landlock_fs_rights_for_abi (0, false), 0);
  for (int abi = 1; abi <= 8; abi++)
    CHECK_INT_EQ (landlock_fs_rights_for_abi (abi, false), READ_RIGHTS);
}

TEST (write_rights_grow_with_the_abi)
{
  CHECK_INT_EQ (landlock_fs_rights_for_abi (0, true), 0);
  CHECK_INT_EQ (landlock_fs_rights_for_abi (1, true), WRITE_RIGHTS_ABI1);
  /* REFER (ABI 2), TRUNCATE (ABI 3), IOCTL_DEV (ABI 5); 4, 6 and 7 add
   * network and scope features only. */
  CHECK_INT_EQ (landlock_fs_rights_for_abi (2, true), WRITE_RIGHTS_ABI1 | BIT (13));
  CHECK_INT_EQ (landlock_fs_rights_for_abi (3, true), WRITE_RIGHTS_ABI1 | BIT (13) | BIT (14));
  CHECK_INT_EQ (landlock_fs_rights_for_abi (4, true), WRITE_RIGHTS_ABI1 | BIT (13) | BIT (14));
  for (int abi = 5; abi <= 8; abi++)
    CHECK_INT_EQ (landlock_fs_rights_for_abi (abi, true), WRITE_RIGHTS_ABI1 | BIT (13) | BIT (14) | BIT (15));
  for (int abi = 1; abi <= 8; abi++)
    CHECK ((landlock_fs_rights_for_abi (abi, true) & READ_RIGHTS) == READ_RIGHTS);
}

TEST (abi_is_the_kernels)
{
  long abi = syscall (SYS_landlock_create_ruleset, NULL, 0, 1U /* LANDLOCK_CREATE_RULESET_VERSION */);
  CHECK_INT_EQ (landlock_abi (), abi > 0 ? abi : 0);
  printf ("  running kernel: Landlock ABI %d\n", landlock_abi ());
}

static bool
abi_at_least (int needed)
{
  int abi = landlock_abi ();
  if (abi >= needed)
    return true;
  printf ("  skipped: needs Landlock ABI %d, kernel has %d\n", needed, abi);
  return false;
}

static void
run_in_child_at (const char *file, int line, void (*body) (const void *), const void *arg)
{
  pid_t pid = fork ();
  if (pid < 0)
    {
      harness_check (false, file, line, "fork");
      return;
    }
  if (pid == 0)
    {
      harness_failed_checks = 0;
      body (arg);
      fflush (stdout);
      _exit (harness_failed_checks == 0 ? 0 : 1);
    }
  int status = 0;
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  harness_check (WIFEXITED (status) && WEXITSTATUS (status) == 0, file, line, "child's checks passed");
}

#define RUN_IN_CHILD(body, arg) run_in_child_at (__FILE__, __LINE__, (body), (arg))

/* In the child: no_new_privs, as the container's init has it, then apply. */
static bool
apply (const struct landlock_policy *policy, struct landlock_result *reached)
{
  if (!CHECK (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0))
    return false;
  struct ward_error *err = NULL;
  if (landlock_apply (policy, reached, &err) < 0)
    {
      printf ("  landlock_apply: %s\n", err->message);
      ward_error_free (&err);
      CHECK (false);
      return false;
    }
  CHECK_INT_EQ (reached->abi, landlock_abi ());
  return CHECK (reached->fs);
}

static bool
can_write (const char *path)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return false;
  bool ok = write (fd, "x", 1) == 1;
  close (fd);
  return ok;
}

static bool
write_denied (const char *path)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0)
    {
      close (fd);
      return false;
    }
  return errno == EACCES;
}

static int
exec_status (const char *program)
{
  pid_t pid = fork ();
  if (pid == 0)
    {
      execl (program, program, (char *)NULL);
      _exit (errno == EACCES ? 126 : 127);
    }
  int status = 0;
  if (pid < 0 || waitpid (pid, &status, 0) < 0)
    return -1;
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

struct fs_paths
{
  char base[64], writable[80], read_only[80], existing[96], writable_file[80];
};

static void
fs_body (const void *arg)
{
  const struct fs_paths *paths = arg;
  const char *writable[] = { paths->writable, paths->writable_file, "/nonexistent-ward-landlock-test" };
  const char *readable[] = { "/" };
  struct landlock_policy policy = {
    .writable_paths = writable,
    .writable_count = 3,
    .readable_paths = readable,
    .readable_count = 1,
  };
  struct landlock_result reached;
  if (!apply (&policy, &reached))
    return;
  CHECK (!reached.net);
  CHECK (!reached.scoped);

  char path[160];
  snprintf (path, sizeof path, "%s/new", paths->writable);
  CHECK (can_write (path));
  CHECK (unlink (path) == 0);
  snprintf (path, sizeof path, "%s/dir", paths->writable);
  CHECK (mkdir (path, 0755) == 0);
  CHECK (rmdir (path) == 0);
  /* A file in the list gets the file rights of a writable path. */
  CHECK (can_write (paths->writable_file));

  snprintf (path, sizeof path, "%s/new", paths->read_only);
  CHECK (write_denied (path));
  CHECK (write_denied (paths->existing));
  snprintf (path, sizeof path, "%s/dir", paths->read_only);
  CHECK (mkdir (path, 0755) < 0 && errno == EACCES);
  snprintf (path, sizeof path, "%s/outside", paths->base);
  CHECK (write_denied (path));

  int fd = open ("/etc/hostname", O_RDONLY | O_CLOEXEC);
  char buf[64];
  CHECK (fd >= 0 && read (fd, buf, sizeof buf) >= 0);
  if (fd >= 0)
    close (fd);
  DIR *dir = opendir ("/etc");
  CHECK (dir != NULL);
  if (dir)
    closedir (dir);
  CHECK_INT_EQ (exec_status ("/bin/true"), 0);
  /* Not asked to scope signals: the parent is still reachable. */
  CHECK (kill (getppid (), 0) == 0);
}

static int
remove_entry (const char *path, const struct stat *st, int type, struct FTW *ftw)
{
  (void)st, (void)type, (void)ftw;
  return remove (path);
}

TEST (writes_only_beneath_writable_paths)
{
  if (!abi_at_least (1))
    return;
  struct fs_paths paths;
  snprintf (paths.base, sizeof paths.base, "/tmp/ward-landlock-test-%d", (int)getpid ());
  snprintf (paths.writable, sizeof paths.writable, "%s/w", paths.base);
  snprintf (paths.read_only, sizeof paths.read_only, "%s/r", paths.base);
  snprintf (paths.existing, sizeof paths.existing, "%s/existing", paths.read_only);
  snprintf (paths.writable_file, sizeof paths.writable_file, "%s/wfile", paths.base);
  REQUIRE (mkdir (paths.base, 0755) == 0);
  CHECK (mkdir (paths.writable, 0755) == 0);
  CHECK (mkdir (paths.read_only, 0755) == 0);
  CHECK (can_write (paths.existing));
  CHECK (can_write (paths.writable_file));

  RUN_IN_CHILD (fs_body, &paths);
  CHECK (nftw (paths.base, remove_entry, 8, FTW_DEPTH | FTW_PHYS) == 0);
}

enum
{
  PORT_ALLOWED = 4001,
  PORT_DENIED = 4002,
  PORT_BIND = 4003,
};

/* The loopback of a fresh network namespace is down. */
static bool
bring_up_loopback (void)
{
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct ifreq ifr = { 0 };
  strcpy (ifr.ifr_name, "lo");
  bool ok = fd >= 0 && ioctl (fd, SIOCGIFFLAGS, &ifr) == 0;
  ifr.ifr_flags |= IFF_UP;
  ok = ok && ioctl (fd, SIOCSIFFLAGS, &ifr) == 0;
  if (fd >= 0)
    close (fd);
  return ok;
}

/* Its own network namespace, so no host port or interface is touched.
 * Without the privilege for one (CI as a user), the caller skips. */
static bool
enter_private_network (void)
{
  if (unshare (CLONE_NEWNET) < 0)
    {
      if (errno == EPERM)
        printf ("  skipped: no privilege for a private network namespace\n");
      else
        CHECK (false);
      return false;
    }
  return CHECK (bring_up_loopback ());
}

static struct sockaddr_in
loopback (uint16_t port)
{
  return (struct sockaddr_in){ .sin_family = AF_INET,
                               .sin_port = htons (port),
                               .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
}

static int
tcp_listen (uint16_t port)
{
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in addr = loopback (port);
  if (fd < 0 || bind (fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen (fd, 4) < 0)
    return -1;
  return fd;
}

/* 0, or the errno of the failed connect. */
static int
tcp_connect_errno (uint16_t port)
{
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in addr = loopback (port);
  int result = connect (fd, (struct sockaddr *)&addr, sizeof addr) == 0 ? 0 : errno;
  close (fd);
  return result;
}

static void
net_body (const void *arg)
{
  (void)arg;
  if (!enter_private_network ())
    return;
  int allowed = tcp_listen (PORT_ALLOWED), denied = tcp_listen (PORT_DENIED);
  if (!CHECK (allowed >= 0 && denied >= 0))
    return;

  const char *readable[] = { "/" };
  const uint16_t ports[] = { PORT_ALLOWED };
  struct landlock_policy policy = {
    .readable_paths = readable,
    .readable_count = 1,
    .connect_ports = ports,
    .connect_count = 1,
    .restrict_connect = true,
  };
  struct landlock_result reached;
  if (!apply (&policy, &reached))
    return;
  CHECK (reached.net);
  CHECK_INT_EQ (tcp_connect_errno (PORT_DENIED), EACCES);
  CHECK_INT_EQ (tcp_connect_errno (PORT_ALLOWED), 0);
  /* Only connect is restricted: a server may still listen. */
  int server = tcp_listen (PORT_BIND);
  CHECK (server >= 0);
}

TEST (connects_only_to_listed_tcp_ports)
{
  if (abi_at_least (4))
    RUN_IN_CHILD (net_body, NULL);
}

static volatile sig_atomic_t got_signal;

static void
note_signal (int sig)
{
  (void)sig;
  got_signal = 1;
}

static void
signal_body (const void *arg)
{
  (void)arg;
  const char *readable[] = { "/" };
  struct landlock_policy policy = { .readable_paths = readable, .readable_count = 1, .scope_signals = true };
  struct landlock_result reached;
  if (!apply (&policy, &reached))
    return;
  CHECK (reached.scoped);
  /* Signal 0 is checked like any other, and harms nobody if let through. */
  CHECK (kill (getppid (), 0) < 0 && errno == EPERM);

  signal (SIGUSR1, note_signal);
  CHECK (kill (getpid (), SIGUSR1) == 0);
  CHECK (got_signal);
  /* A child inherits the domain, so it is inside. */
  pid_t inner = fork ();
  if (inner == 0)
    {
      pause ();
      _exit (0);
    }
  CHECK (inner > 0 && kill (inner, SIGKILL) == 0);
  int status = 0;
  CHECK (waitpid (inner, &status, 0) == inner && WIFSIGNALED (status));
}

TEST (signals_stay_inside_the_domain)
{
  if (abi_at_least (6))
    RUN_IN_CHILD (signal_body, NULL);
}

static socklen_t
abstract_address (struct sockaddr_un *addr, const char *name)
{
  *addr = (struct sockaddr_un){ .sun_family = AF_UNIX };
  size_t len = strlen (name);
  memcpy (addr->sun_path + 1, name, len);
  return offsetof (struct sockaddr_un, sun_path) + 1 + len;
}

static int
abstract_listen (const char *name)
{
  struct sockaddr_un addr;
  socklen_t len = abstract_address (&addr, name);
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || bind (fd, (struct sockaddr *)&addr, len) < 0 || listen (fd, 4) < 0)
    return -1;
  return fd;
}

static int
abstract_connect_errno (const char *name)
{
  struct sockaddr_un addr;
  socklen_t len = abstract_address (&addr, name);
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int result = connect (fd, (struct sockaddr *)&addr, len) == 0 ? 0 : errno;
  close (fd);
  return result;
}

static void
abstract_unix_body (const void *arg)
{
  const char *outside = arg;
  /* Before the domain exists, the socket is reachable. */
  CHECK_INT_EQ (abstract_connect_errno (outside), 0);

  const char *readable[] = { "/" };
  struct landlock_policy policy
      = { .readable_paths = readable, .readable_count = 1, .scope_abstract_unix = true };
  struct landlock_result reached;
  if (!apply (&policy, &reached))
    return;
  CHECK (reached.scoped);
  CHECK_INT_EQ (abstract_connect_errno (outside), EPERM);

  char inside[128];
  snprintf (inside, sizeof inside, "%s-inside", outside);
  int listener = abstract_listen (inside);
  CHECK (listener >= 0);
  CHECK_INT_EQ (abstract_connect_errno (inside), 0);
}

TEST (abstract_unix_sockets_stay_inside_the_domain)
{
  if (!abi_at_least (6))
    return;
  char name[64];
  snprintf (name, sizeof name, "ward-landlock-test-%d", (int)getpid ());
  int listener = abstract_listen (name);
  REQUIRE (listener >= 0);
  RUN_IN_CHILD (abstract_unix_body, name);
  close (listener);
}

struct older_abi
{
  int abi;
  char outside[64];
};

/* What a kernel with each older ABI enforces: the rights it knows, no more,
 * and the result says which parts were reached. */
static void
older_abi_body (const void *arg)
{
  const struct older_abi *older = arg;
  int abi = older->abi;
  if (!enter_private_network ())
    return;
  int listener = tcp_listen (PORT_DENIED);
  if (!CHECK (listener >= 0) || !CHECK (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0))
    return;

  const char *readable[] = { "/" };
  const uint16_t ports[] = { PORT_ALLOWED };
  struct landlock_policy policy = {
    .readable_paths = readable,
    .readable_count = 1,
    .connect_ports = ports,
    .connect_count = 1,
    .restrict_connect = true,
    .scope_abstract_unix = true,
    .scope_signals = true,
  };
  struct landlock_result reached;
  struct ward_error *err = NULL;
  if (landlock_apply_at_abi (&policy, abi, &reached, &err) < 0)
    {
      printf ("  ABI %d: %s\n", abi, err->message);
      ward_error_free (&err);
      CHECK (false);
      return;
    }
  CHECK_INT_EQ (reached.abi, abi);
  CHECK (reached.fs == (abi >= 1));
  CHECK (reached.net == (abi >= 4));
  CHECK (reached.scoped == (abi >= 6));
  if (abi >= 1)
    CHECK (write_denied (older->outside));
  CHECK_INT_EQ (tcp_connect_errno (PORT_DENIED), abi >= 4 ? EACCES : 0);
  CHECK_INT_EQ (kill (getppid (), 0) == 0 ? 0 : errno, abi >= 6 ? EPERM : 0);
}

TEST (older_abis_enforce_what_they_know)
{
  struct older_abi older;
  snprintf (older.outside, sizeof older.outside, "/tmp/ward-landlock-test-%d-outside", (int)getpid ());
  for (older.abi = 0; older.abi <= landlock_abi (); older.abi++)
    {
      printf ("  ABI %d\n", older.abi);
      RUN_IN_CHILD (older_abi_body, &older);
    }
  unlink (older.outside);
}

static void
unprivileged_body (const void *arg)
{
  (void)arg;
  /* No no_new_privs and no CAP_SYS_ADMIN: the kernel refuses the domain. */
  struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3 };
  struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
  if (!CHECK (syscall (SYS_capget, &header, data) == 0))
    return;
  data[0].effective &= ~(1U << CAP_SYS_ADMIN);
  if (!CHECK (syscall (SYS_capset, &header, data) == 0))
    return;

  const char *readable[] = { "/" };
  struct landlock_policy policy = { .readable_paths = readable, .readable_count = 1 };
  struct landlock_result reached;
  struct ward_error *err = NULL;
  CHECK_INT_EQ (landlock_apply (&policy, &reached, &err), -1);
  if (!CHECK (err != NULL))
    return;
  CHECK_INT_EQ (err->errnum, EPERM);
  CHECK (strstr (err->message, "no_new_privs") != NULL);
  printf ("  message: %s\n", err->message);
  ward_error_free (&err);
  CHECK (!reached.fs);
}

TEST (refused_without_no_new_privs_or_cap_sys_admin)
{
  if (abi_at_least (1))
    RUN_IN_CHILD (unprivileged_body, NULL);
}

static const struct harness_test tests[] = {
  TEST_ENTRY (read_rights_are_read_and_execute_on_every_abi),
  TEST_ENTRY (write_rights_grow_with_the_abi),
  TEST_ENTRY (abi_is_the_kernels),
  TEST_ENTRY (writes_only_beneath_writable_paths),
  TEST_ENTRY (connects_only_to_listed_tcp_ports),
  TEST_ENTRY (signals_stay_inside_the_domain),
  TEST_ENTRY (abstract_unix_sockets_stay_inside_the_domain),
  TEST_ENTRY (older_abis_enforce_what_they_know),
  TEST_ENTRY (refused_without_no_new_privs_or_cap_sys_admin),
};

HARNESS_MAIN (tests)
