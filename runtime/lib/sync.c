#include "config.h"
#include "sync.h"
#include "unix_socket.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int
sync_send (int fd, enum sync_type type, const char *text, struct ward_error **err)
{
  struct sync_message message = { .type = type };
  if (text)
    snprintf (message.text, sizeof message.text, "%s", text);
  size_t length = offsetof (struct sync_message, text) + strlen (message.text) + 1;
  ssize_t n;
  do
    n = send (fd, &message, length, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return ward_fail (err, errno, "send to container init");
  return 0;
}

int
sync_send_fd (int fd, enum sync_type type, int passed_fd, struct ward_error **err)
{
  struct sync_message message = { .type = type };
  if (unix_send_with_fd (fd, &message, offsetof (struct sync_message, text) + 1, passed_fd, err) < 0)
    return ward_error_prefix (err, "send fd to ward");
  return 0;
}

int
sync_receive (int fd, struct sync_message *out, const char *peer, struct ward_error **err)
{
  int received = -1;
  if (sync_receive_fd (fd, out, &received, peer, err) < 0)
    return -1;
  if (received >= 0)
    close (received);
  return 0;
}

int
sync_receive_fd (int fd, struct sync_message *out, int *received_fd, const char *peer,
                 struct ward_error **err)
{
  memset (out, 0, sizeof *out);
  *received_fd = -1;
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } control;
  struct iovec iov = { .iov_base = out, .iov_len = sizeof *out };
  struct msghdr msg = {
    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf
  };
  ssize_t n;
  do
    n = recvmsg (fd, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  for (struct cmsghdr *c = n > 0 ? CMSG_FIRSTHDR (&msg) : NULL; c; c = CMSG_NXTHDR (&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
      memcpy (received_fd, CMSG_DATA (c), sizeof (int));
  if (n < 0)
    return ward_fail (err, errno, "receive from %s", peer);
  if (n == 0)
    return ward_fail (err, 0, "%s exited before finishing setup", peer);
  if ((size_t)n < offsetof (struct sync_message, text))
    return ward_fail (err, 0, "short message from %s", peer);
  out->text[sizeof out->text - 1] = '\0';
  return 0;
}

int
sync_expect (int fd, enum sync_type type, const char *peer, struct ward_error **err)
{
  struct sync_message message;
  if (sync_receive (fd, &message, peer, err) < 0)
    return -1;
  if (message.type == SYNC_ERROR)
    return ward_fail (err, 0, "%s", message.text);
  if (message.type != type)
    return ward_fail (err, 0, "unexpected message %u from %s", message.type, peer);
  return 0;
}

void
sync_fail_and_exit (int fd, struct ward_error *err)
{
  sync_send (fd, SYNC_ERROR, err ? err->message : "container init failed", NULL);
  _exit (1);
}
