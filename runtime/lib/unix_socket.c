#include "config.h"
#include "unix_socket.h"
#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int
socket_address (const char *path, struct sockaddr_un *addr, int *dir_fd, struct ward_error **err)
{
  memset (addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  size_t length = strlen (path);
  if (length == 0)
    return ward_fail (err, 0, "connect to a socket: empty path");
  if (length < sizeof addr->sun_path)
    {
      memcpy (addr->sun_path, path, length + 1);
      return 0;
    }
  const char *slash = strrchr (path, '/');
  if (slash == NULL || slash[1] == '\0')
    return ward_fail (err, ENAMETOOLONG, "connect to %s", path);
  cleanup_free char *dir = strndup (path, slash == path ? 1 : (size_t)(slash - path));
  if (dir == NULL)
    return ward_fail (err, ENOMEM, "connect to %s", path);
  *dir_fd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (*dir_fd < 0)
    return ward_fail (err, errno, "connect to %s: open %s", path, dir);
  int n = snprintf (addr->sun_path, sizeof addr->sun_path, "/proc/self/fd/%d/%s", *dir_fd, slash + 1);
  if (n < 0 || (size_t)n >= sizeof addr->sun_path)
    return ward_fail (err, ENAMETOOLONG, "connect to %s", path);
  return 0;
}

int
unix_connect (const char *path, struct ward_error **err)
{
  struct sockaddr_un addr;
  cleanup_close int dir_fd = -1;
  if (socket_address (path, &addr, &dir_fd, err) < 0)
    return -1;
  cleanup_close int sock = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0)
    return ward_fail (err, errno, "connect to %s: socket", path);
  while (connect (sock, (struct sockaddr *)&addr, sizeof addr) < 0)
    if (errno != EINTR)
      return ward_fail (err, errno, "connect to %s", path);
  return steal_fd (&sock);
}

int
unix_send_with_fd (int sock, const void *data, size_t length, int fd, struct ward_error **err)
{
  union
  {
    char buffer[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } control = { 0 };
  struct iovec iov = { .iov_base = (void *)data, .iov_len = length };
  struct msghdr msg = {
    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buffer, .msg_controllen = sizeof control.buffer
  };
  struct cmsghdr *cmsg = CMSG_FIRSTHDR (&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (cmsg), &fd, sizeof fd);
  ssize_t n;
  while ((n = sendmsg (sock, &msg, MSG_NOSIGNAL)) < 0)
    if (errno != EINTR)
      return ward_fail (err, errno, "send");
  for (size_t done = n; done < length; done += n)
    while ((n = send (sock, (const char *)data + done, length - done, MSG_NOSIGNAL)) < 0)
      if (errno != EINTR)
        return ward_fail (err, errno, "send");
  return 0;
}
