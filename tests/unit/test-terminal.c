/* The console protocol (a master and its name over SCM_RIGHTS), the
 * console-socket connection (long paths too), the pty set up as a
 * process's terminal, and the relay `run` uses, each against real ptys. */
#include "config.h"
#include "harness.h"
#include "terminal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

/* A child that hangs must fail its test, not the whole run. */
#define CHILD_DEADLINE 10

static int
open_master (void)
{
  int master = posix_openpt (O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master >= 0 && unlockpt (master) < 0)
    {
      close (master);
      return -1;
    }
  return master;
}

static int
pty_number (int fd)
{
  unsigned number;
  return ioctl (fd, TIOCGPTN, &number) == 0 ? (int)number : -1;
}

/* Receives as containerd does: up to 4096 bytes of payload, the first fd. */
static int
receive_raw (int sock, char *payload, size_t size)
{
  union
  {
    char buffer[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } control;
  struct iovec iov = { .iov_base = payload, .iov_len = size - 1 };
  struct msghdr msg = {
    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buffer, .msg_controllen = sizeof control.buffer
  };
  ssize_t n = recvmsg (sock, &msg, MSG_CMSG_CLOEXEC);
  payload[n > 0 ? n : 0] = '\0';
  struct cmsghdr *cmsg = n > 0 ? CMSG_FIRSTHDR (&msg) : NULL;
  if (cmsg == NULL || cmsg->cmsg_type != SCM_RIGHTS)
    return -1;
  int fd;
  memcpy (&fd, CMSG_DATA (cmsg), sizeof fd);
  return fd;
}

static int
wait_status (pid_t pid)
{
  int status;
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return -1;
  return status;
}

/* Everything readable from fd until EOF (or EIO: a master whose slave is
 * gone), NUL-terminated. */
static void
read_all (int fd, char *out, size_t size)
{
  size_t used = 0;
  for (;;)
    {
      ssize_t n = read (fd, out + used, size - 1 - used);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0 || (used += n) == size - 1)
        break;
    }
  out[used] = '\0';
}

TEST (send_master_carries_the_pty_name_and_the_master)
{
  int pair[2];
  REQUIRE (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
  int master = open_master ();
  REQUIRE (master >= 0);
  char expected[32];
  snprintf (expected, sizeof expected, "/dev/pts/%d", pty_number (master));

  struct ward_error *err = NULL;
  CHECK_INT_EQ (terminal_send_master (pair[0], master, &err), 0);
  CHECK (err == NULL);
  /* Both were handed over and closed. */
  CHECK (fcntl (pair[0], F_GETFD) < 0 && errno == EBADF);

  char payload[4096];
  int received = receive_raw (pair[1], payload, sizeof payload);
  CHECK_STR_EQ (payload, expected);
  CHECK (received >= 0);
  CHECK_INT_EQ (pty_number (received), atoi (expected + strlen ("/dev/pts/")));
  close (received);
  close (pair[1]);
}

TEST (receive_master_returns_a_cloexec_pty_master)
{
  int pair[2];
  REQUIRE (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
  int master = open_master ();
  REQUIRE (master >= 0);
  int number = pty_number (master);
  struct ward_error *err = NULL;
  REQUIRE (terminal_send_master (pair[0], master, &err) == 0);

  int received = terminal_receive_master (pair[1], &err);
  CHECK (err == NULL);
  REQUIRE (received >= 0);
  CHECK_INT_EQ (pty_number (received), number);
  CHECK (fcntl (received, F_GETFD) & FD_CLOEXEC);
  close (received);
  close (pair[1]);
}

TEST (receive_master_fails_when_the_peer_sends_nothing)
{
  int pair[2];
  REQUIRE (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
  close (pair[0]);
  struct ward_error *err = NULL;
  CHECK_INT_EQ (terminal_receive_master (pair[1], &err), -1);
  REQUIRE (err != NULL);
  CHECK_STR_EQ (err->message, "console socket: closed before a terminal was sent");
  ward_error_free (&err);

  REQUIRE (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
  CHECK_INT_EQ (write (pair[0], "x", 1), 1);
  CHECK_INT_EQ (terminal_receive_master (pair[1], &err), -1);
  REQUIRE (err != NULL);
  CHECK_STR_EQ (err->message, "console socket: message carried no terminal");
  ward_error_free (&err);
  close (pair[0]);
  close (pair[1]);
}

static int
listen_at (const char *path)
{
  int sock = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  /* Bind through the directory for paths too long for sun_path. */
  char dir[4096];
  snprintf (dir, sizeof dir, "%s", path);
  *strrchr (dir, '/') = '\0';
  int dirfd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  snprintf (addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/%s", dirfd, strrchr (path, '/') + 1);
  int ok = dirfd >= 0 && bind (sock, (struct sockaddr *)&addr, sizeof addr) == 0 && listen (sock, 1) == 0;
  if (dirfd >= 0)
    close (dirfd);
  if (!ok)
    {
      close (sock);
      return -1;
    }
  return sock;
}

static void
check_connects (const char *path)
{
  int listener = listen_at (path);
  REQUIRE (listener >= 0);
  struct ward_error *err = NULL;
  int sock = terminal_connect_console_socket (path, &err);
  CHECK (err == NULL);
  CHECK (sock >= 0);
  CHECK (fcntl (sock, F_GETFD) & FD_CLOEXEC);
  int peer = accept (listener, NULL, NULL);
  CHECK (peer >= 0);
  CHECK_INT_EQ (write (sock, "x", 1), 1);
  char c = 0;
  CHECK_INT_EQ (read (peer, &c, 1), 1);
  CHECK_INT_EQ (c, 'x');
  close (peer);
  close (sock);
  close (listener);
  unlink (path);
}

TEST (connect_console_socket_short_and_long_paths)
{
  char base[] = "/tmp/ward-test-terminal-XXXXXX";
  REQUIRE (mkdtemp (base) != NULL);
  char path[4096];
  snprintf (path, sizeof path, "%s/console.sock", base);
  check_connects (path);

  /* Deeper than sun_path's 108 bytes. */
  char deep[256];
  snprintf (deep, sizeof deep, "%s/%0120d", base, 0);
  REQUIRE (mkdir (deep, 0700) == 0);
  snprintf (path, sizeof path, "%s/console.sock", deep);
  REQUIRE (strlen (path) > sizeof ((struct sockaddr_un *)0)->sun_path);
  check_connects (path);
  rmdir (deep);
  rmdir (base);
}

TEST (connect_console_socket_error_names_the_path)
{
  struct ward_error *err = NULL;
  CHECK_INT_EQ (terminal_connect_console_socket ("/nonexistent/console.sock", &err), -1);
  REQUIRE (err != NULL);
  CHECK_STR_EQ (err->message,
                "console socket: connect to /nonexistent/console.sock: No such file or directory");
  ward_error_free (&err);
}

/* What the init does, in a child: the pty becomes its terminal and stdio,
 * the master goes to us over a socket.  The child reports failed checks in
 * its exit status, one bit each. */
static int
child_sets_up_terminal (int sock)
{
  struct spec_process process = { .has_console_size = true, .console_height = 30, .console_width = 100 };
  process.user.uid = getuid ();
  process.user.gid = getgid ();
  struct ward_error *err = NULL;
  int master = terminal_setup_in_container (&process, &err);
  if (master < 0)
    {
      fprintf (stderr, "terminal_setup_in_container: %s\n", err->message);
      return 0x80;
    }
  int failed = 0;
  for (int fd = 0; fd <= 2; fd++)
    if (!isatty (fd) || (fcntl (fd, F_GETFD) & FD_CLOEXEC))
      failed |= 1;
  struct winsize size = { 0 };
  if (ioctl (0, TIOCGWINSZ, &size) < 0 || size.ws_row != 30 || size.ws_col != 100)
    failed |= 2;
  /* The pty is our controlling terminal, and we lead its session. */
  if (tcgetsid (0) != getpid ())
    failed |= 4;
  if (!(fcntl (master, F_GETFD) & FD_CLOEXEC))
    failed |= 8;
  if (terminal_send_master (sock, master, &err) < 0)
    return failed | 0x40;
  if (write (1, "ok\n", 3) != 3)
    failed |= 16;
  return failed;
}

TEST (setup_in_container_makes_the_pty_the_controlling_terminal)
{
  int pair[2];
  REQUIRE (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
  fflush (stdout);
  pid_t pid = fork ();
  REQUIRE (pid >= 0);
  if (pid == 0)
    {
      alarm (CHILD_DEADLINE);
      close (pair[1]);
      _exit (child_sets_up_terminal (pair[0]));
    }
  close (pair[0]);
  struct ward_error *err = NULL;
  int master = terminal_receive_master (pair[1], &err);
  close (pair[1]);
  if (err)
    printf ("  %s\n", err->message);
  int status = wait_status (pid);
  CHECK (WIFEXITED (status));
  CHECK_INT_EQ (WEXITSTATUS (status), 0);
  REQUIRE (master >= 0);
  char output[256];
  read_all (master, output, sizeof output);
  /* The line discipline turns "\n" into "\r\n" (ONLCR). */
  CHECK_STR_EQ (output, "ok\r\n");
  close (master);
}

/* The test process whose stdin and stdout the relay uses: a child, so that
 * our own stdio stays as it is. */
static void
run_relay (int master, const int in[2], const int out[2])
{
  alarm (CHILD_DEADLINE);
  /* Only the test keeps the other ends, so that EOF comes through. */
  close (in[1]);
  close (out[0]);
  dup2 (in[0], STDIN_FILENO);
  dup2 (out[1], STDOUT_FILENO);
  struct ward_error *err = NULL;
  if (terminal_relay (master, &err) < 0)
    {
      fprintf (stderr, "terminal_relay: %s\n", err->message);
      _exit (1);
    }
  _exit (0);
}

/* Opens the slave (before any relaying: the relay ends once no slave is
 * open), then forks `container`, which gets it. */
static pid_t
start_container (int master, void (*container) (int slave))
{
  char name[64];
  if (ptsname_r (master, name, sizeof name) != 0)
    return -1;
  int slave = open (name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0)
    return -1;
  fflush (stdout);
  pid_t pid = fork ();
  if (pid == 0)
    {
      alarm (CHILD_DEADLINE);
      container (slave);
      _exit (0);
    }
  close (slave);
  return pid;
}

static void
says_hello (int slave)
{
  if (write (slave, "hello\n", 6) != 6)
    _exit (1);
}

/* Reads a line, answers with it, so input must reach it before it exits. */
static void
echoes_a_line (int slave)
{
  char line[64] = "";
  ssize_t n = read (slave, line, sizeof line - 1);
  if (n <= 0)
    _exit (1);
  line[n] = '\0';
  line[strcspn (line, "\r\n")] = '\0';
  char answer[128];
  int length = snprintf (answer, sizeof answer, "got %s\n", line);
  if (write (slave, answer, length) != length)
    _exit (1);
}

/* Relays `input` (then EOF) to a container and returns its output. */
static void
relay_with (void (*container) (int slave), const char *input, char *output, size_t size)
{
  output[0] = '\0';
  int master = open_master ();
  REQUIRE (master >= 0);
  pid_t container_pid = start_container (master, container);
  REQUIRE (container_pid > 0);
  int in[2], out[2];
  REQUIRE (pipe2 (in, O_CLOEXEC) == 0 && pipe2 (out, O_CLOEXEC) == 0);
  fflush (stdout);
  pid_t relay_pid = fork ();
  REQUIRE (relay_pid >= 0);
  if (relay_pid == 0)
    run_relay (master, in, out);
  close (master);
  close (in[0]);
  close (out[1]);
  CHECK_INT_EQ (write (in[1], input, strlen (input)), strlen (input));
  close (in[1]);
  read_all (out[0], output, size);
  close (out[0]);

  int status = wait_status (relay_pid);
  CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  status = wait_status (container_pid);
  CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0);
}

TEST (relay_copies_output_until_the_slave_closes)
{
  char output[256];
  relay_with (says_hello, "", output, sizeof output);
  CHECK_STR_EQ (output, "hello\r\n");
}

TEST (relay_passes_input_to_the_container)
{
  char output[256];
  relay_with (echoes_a_line, "ping\n", output, sizeof output);
  /* The slave echoes the input line before the answer comes. */
  CHECK_STR_EQ (output, "ping\r\ngot ping\r\n");
}

/* With stdout a terminal of 40x120, the master takes that size. */
TEST (inherit_window_size_copies_the_size_of_wards_terminal)
{
  int outer = open_master ();
  int inner = open_master ();
  REQUIRE (outer >= 0 && inner >= 0);
  struct winsize size = { .ws_row = 40, .ws_col = 120 };
  REQUIRE (ioctl (outer, TIOCSWINSZ, &size) == 0);
  char name[64];
  REQUIRE (ptsname_r (outer, name, sizeof name) == 0);
  fflush (stdout);
  pid_t pid = fork ();
  REQUIRE (pid >= 0);
  if (pid == 0)
    {
      int tty = open (name, O_RDWR | O_NOCTTY);
      if (tty < 0 || dup2 (tty, STDOUT_FILENO) < 0)
        _exit (1);
      terminal_inherit_window_size (inner);
      _exit (0);
    }
  int status = wait_status (pid);
  CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  struct winsize inherited = { 0 };
  CHECK (ioctl (inner, TIOCGWINSZ, &inherited) == 0);
  CHECK_INT_EQ (inherited.ws_row, 40);
  CHECK_INT_EQ (inherited.ws_col, 120);
  close (outer);
  close (inner);
}

static const struct harness_test tests[] = {
  TEST_ENTRY (send_master_carries_the_pty_name_and_the_master),
  TEST_ENTRY (receive_master_returns_a_cloexec_pty_master),
  TEST_ENTRY (receive_master_fails_when_the_peer_sends_nothing),
  TEST_ENTRY (connect_console_socket_short_and_long_paths),
  TEST_ENTRY (connect_console_socket_error_names_the_path),
  TEST_ENTRY (setup_in_container_makes_the_pty_the_controlling_terminal),
  TEST_ENTRY (relay_copies_output_until_the_slave_closes),
  TEST_ENTRY (relay_passes_input_to_the_container),
  TEST_ENTRY (inherit_window_size_copies_the_size_of_wards_terminal),
};

HARNESS_MAIN (tests)
