/* process.terminal: the pty is made inside the container, so that the slave
 * belongs to the container's own devpts instance (its name there is
 * /dev/pts/N, and nothing of the host's devpts is reachable), and only the
 * master leaves it, over the console socket, as in runc's protocol. */
#include "config.h"
#include "terminal.h"
#include "unix_socket.h"
#include "cleanup.h"
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

/* containerd's receiver reads at most this much payload (go-runc). */
#define CONSOLE_MESSAGE_MAX 4096
#define PTY_NAME_MAX 32
#define RELAY_BUFFER_SIZE 4096

/* ---------------------------------------------------------------------------
 * The console socket */

int
terminal_connect_console_socket (const char *path, struct ward_error **err)
{
  int sock = unix_connect (path, err);
  if (sock < 0)
    return ward_error_prefix (err, "console socket");
  return sock;
}

/* "/dev/pts/N" from the kernel's pty number: the name the pty has in the
 * devpts instance it was opened from (the container's, in the init). */
static int
pty_name (int master_fd, char name[PTY_NAME_MAX], struct ward_error **err)
{
  unsigned number;
  if (ioctl (master_fd, TIOCGPTN, &number) < 0)
    return ward_fail (err, errno, "terminal: get pty number");
  snprintf (name, PTY_NAME_MAX, "/dev/pts/%u", number);
  return 0;
}

int
terminal_send_master (int console_socket, int master_fd, struct ward_error **err)
{
  cleanup_close int sock = console_socket;
  cleanup_close int master = master_fd;
  char name[PTY_NAME_MAX];
  if (pty_name (master, name, err) < 0)
    return -1;
  if (unix_send_with_fd (sock, name, strlen (name), master, err) < 0)
    return ward_error_prefix (err, "send the terminal over the console socket");
  return 0;
}

int
terminal_receive_master (int console_socket, struct ward_error **err)
{
  char payload[CONSOLE_MESSAGE_MAX];
  /* Room for a few fds: whatever comes beyond the first is closed, not
   * leaked. */
  union
  {
    char buffer[CMSG_SPACE (4 * sizeof (int))];
    struct cmsghdr align;
  } control;
  struct iovec iov = { .iov_base = payload, .iov_len = sizeof payload };
  struct msghdr msg = {
    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buffer, .msg_controllen = sizeof control.buffer
  };
  ssize_t n;
  do
    n = recvmsg (console_socket, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return ward_fail (err, errno, "receive the terminal from the console socket");
  int master = -1;
  for (struct cmsghdr *c = CMSG_FIRSTHDR (&msg); c; c = CMSG_NXTHDR (&msg, c))
    {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
        continue;
      size_t count = (c->cmsg_len - CMSG_LEN (0)) / sizeof (int);
      for (size_t i = 0; i < count; i++)
        {
          int fd;
          memcpy (&fd, CMSG_DATA (c) + i * sizeof (int), sizeof fd);
          if (master < 0)
            master = fd;
          else
            close (fd);
        }
    }
  if (master < 0)
    return ward_fail (err, 0, "console socket: %s",
                      n == 0 ? "closed before a terminal was sent" : "message carried no terminal");
  return master;
}

/* ---------------------------------------------------------------------------
 * The init's side */

static int
open_pty_master (struct ward_error **err)
{
  int master = open ("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  /* A /dev without the ptmx link still has the instance's own node. */
  if (master < 0 && errno == ENOENT)
    master = open ("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0)
    return ward_fail (err, errno, "terminal: open /dev/ptmx");
  return master;
}

/* TIOCGPTPEER opens the slave from the master itself, so no path lookup
 * can hand us some other node; older kernels (< 4.13) only have the name. */
static int
open_pty_slave (int master, struct ward_error **err)
{
  int slave = ioctl (master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave >= 0)
    return slave;
  if (errno != EINVAL && errno != ENOTTY)
    return ward_fail (err, errno, "terminal: open the pty slave");
  char name[PTY_NAME_MAX];
  if (ptsname_r (master, name, sizeof name) != 0)
    return ward_fail (err, errno, "terminal: ptsname");
  slave = open (name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0)
    return ward_fail (err, errno, "terminal: open %s", name);
  return slave;
}

/* The slave becomes fds 0, 1 and 2, inherited across execve; when it
 * already is one of them, its close-on-exec flag must go by hand. */
static int
slave_as_stdio (int slave, struct ward_error **err)
{
  for (int fd = 0; fd <= 2; fd++)
    {
      int ret = fd == slave ? fcntl (fd, F_SETFD, 0) : dup2 (slave, fd);
      if (ret < 0)
        return ward_fail (err, errno, "terminal: make the pty fd %d", fd);
    }
  if (slave > 2)
    close (slave);
  return 0;
}

int
terminal_setup_in_container (const struct spec_process *process, struct ward_error **err)
{
  cleanup_close int master = open_pty_master (err);
  if (master < 0)
    return -1;
  if (unlockpt (master) < 0)
    return ward_fail (err, errno, "terminal: unlockpt");
  cleanup_close int slave = open_pty_slave (master, err);
  if (slave < 0)
    return -1;
  /* The process may drop to another user before execve: the terminal it
   * reads and writes must be its own.  Only the owner changes, as runc
   * does: the group stays devpts's (gid=5, "tty", in the usual mount), which
   * is what lets write(1) and wall(1) reach it. */
  if (fchown (slave, process->user.uid, (gid_t)-1) < 0)
    return ward_fail (err, errno, "terminal: chown the pty to uid %u", (unsigned)process->user.uid);
  if (process->has_console_size)
    {
      struct winsize size = { .ws_row = process->console_height, .ws_col = process->console_width };
      if (ioctl (slave, TIOCSWINSZ, &size) < 0)
        return ward_fail (err, errno, "terminal: set the console size");
    }
  /* Only a session leader without a terminal may acquire one; the init may
   * already lead its session (then setsid fails with EPERM). */
  if (setsid () < 0 && (errno != EPERM || getsid (0) != getpid ()))
    return ward_fail (err, errno, "terminal: setsid");
  if (ioctl (slave, TIOCSCTTY, 0) < 0)
    return ward_fail (err, errno, "terminal: make the pty the controlling terminal");
  if (slave_as_stdio (steal_fd (&slave), err) < 0)
    return -1;
  return steal_fd (&master);
}

/* ---------------------------------------------------------------------------
 * `run`: relaying between ward's terminal and the master */

struct relay
{
  int master;
  int tty;         /* ward's terminal whose size the container follows, or -1 */
  bool stdin_open; /* until EOF or an error on fd 0 */
  char input[RELAY_BUFFER_SIZE];
  size_t input_used, input_sent;
};

/* The terminal ward runs in, whose size the container follows: stdout's,
 * as the container draws there, else stdin's; -1 when neither is one. */
static int
ward_terminal (void)
{
  if (isatty (STDOUT_FILENO))
    return STDOUT_FILENO;
  if (isatty (STDIN_FILENO))
    return STDIN_FILENO;
  return -1;
}

static void
copy_window_size (int tty, int master_fd)
{
  struct winsize size;
  /* Best effort: a size that cannot be read or set is not worth ending the
   * session for. */
  if (tty >= 0 && ioctl (tty, TIOCGWINSZ, &size) == 0)
    ioctl (master_fd, TIOCSWINSZ, &size);
}

void
terminal_inherit_window_size (int master_fd)
{
  copy_window_size (ward_terminal (), master_fd);
}

/* Returns 1 when the container's side hung up, 0 to go on, -1 on error. */
static int
relay_output (struct relay *r, struct ward_error **err)
{
  char buffer[RELAY_BUFFER_SIZE];
  ssize_t n = read (r->master, buffer, sizeof buffer);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return 0;
  /* EIO: every slave fd is closed, the container's processes are gone. */
  if (n == 0 || (n < 0 && errno == EIO))
    return 1;
  if (n < 0)
    return ward_fail (err, errno, "terminal: read from the container");
  if (fs_write_all (STDOUT_FILENO, buffer, n) < 0)
    return ward_fail (err, errno, "terminal: write to stdout");
  return 0;
}

/* stdin is read only when what came before has been passed on, so a
 * container that does not read its input cannot block its output. */
static void
read_input (struct relay *r)
{
  ssize_t n = read (STDIN_FILENO, r->input, sizeof r->input);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return;
  if (n <= 0)
    {
      /* EOF (or a stdin that cannot be read): the container's output still
       * matters, so only this direction stops. */
      r->stdin_open = false;
      return;
    }
  r->input_used = n;
  r->input_sent = 0;
}

static int
relay_input (struct relay *r, struct ward_error **err)
{
  ssize_t n = write (r->master, r->input + r->input_sent, r->input_used - r->input_sent);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return 0;
  if (n < 0 && errno == EIO)
    return 1;
  if (n < 0)
    return ward_fail (err, errno, "terminal: write to the container");
  r->input_sent += n;
  if (r->input_sent == r->input_used)
    r->input_used = r->input_sent = 0;
  return 0;
}

static int
relay_loop (struct relay *r, int winch_fd, struct ward_error **err)
{
  for (;;)
    {
      bool pending = r->input_used > 0;
      struct pollfd fds[3] = {
        { .fd = r->master, .events = POLLIN | (pending ? POLLOUT : 0) },
        { .fd = r->stdin_open && !pending ? STDIN_FILENO : -1, .events = POLLIN },
        { .fd = winch_fd, .events = POLLIN },
      };
      if (poll (fds, WARD_ARRAY_SIZE (fds), -1) < 0)
        {
          if (errno == EINTR)
            continue;
          return ward_fail (err, errno, "terminal: poll");
        }
      if (fds[2].revents & POLLIN)
        {
          struct signalfd_siginfo info;
          if (read (winch_fd, &info, sizeof info) > 0)
            copy_window_size (r->tty, r->master);
        }
      int done = 0;
      if (fds[0].revents & (POLLIN | POLLHUP | POLLERR))
        done = relay_output (r, err);
      if (done == 0 && (fds[0].revents & POLLOUT))
        done = relay_input (r, err);
      if (done != 0)
        return done < 0 ? -1 : 0;
      if (fds[1].revents & POLLNVAL)
        r->stdin_open = false;
      else if (fds[1].revents & (POLLIN | POLLHUP | POLLERR))
        read_input (r);
    }
}

int
terminal_relay (int master_fd, struct ward_error **err)
{
  struct relay r = { .master = master_fd, .tty = ward_terminal (), .stdin_open = true };

  int flags = fcntl (master_fd, F_GETFL);
  if (flags < 0 || fcntl (master_fd, F_SETFL, flags | O_NONBLOCK) < 0)
    return ward_fail (err, errno, "terminal: make the master non-blocking");

  /* SIGWINCH comes through a signalfd, so poll() sees it with no handler
   * and no race; the mask is ours to restore afterwards. */
  cleanup_close int winch_fd = -1;
  sigset_t winch, old_mask;
  sigemptyset (&winch);
  sigaddset (&winch, SIGWINCH);
  bool masked = false;
  if (r.tty >= 0)
    {
      if (sigprocmask (SIG_BLOCK, &winch, &old_mask) < 0)
        return ward_fail (err, errno, "terminal: block SIGWINCH");
      masked = true;
      winch_fd = signalfd (-1, &winch, SFD_CLOEXEC | SFD_NONBLOCK);
      if (winch_fd < 0)
        {
          sigprocmask (SIG_SETMASK, &old_mask, NULL);
          return ward_fail (err, errno, "terminal: signalfd");
        }
    }
  /* Again, in case the size changed before SIGWINCH was ours to see. */
  copy_window_size (r.tty, r.master);

  /* Raw: the container's line discipline does the echoing and editing, and
   * ^C reaches it as a byte instead of killing ward. */
  struct termios saved;
  bool raw = false;
  if (isatty (STDIN_FILENO) && tcgetattr (STDIN_FILENO, &saved) == 0)
    {
      struct termios mode = saved;
      cfmakeraw (&mode);
      raw = tcsetattr (STDIN_FILENO, TCSANOW, &mode) == 0;
    }

  int ret = relay_loop (&r, winch_fd, err);

  if (raw)
    tcsetattr (STDIN_FILENO, TCSANOW, &saved);
  if (masked)
    sigprocmask (SIG_SETMASK, &old_mask, NULL);
  return ret;
}
