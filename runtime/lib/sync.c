#include "config.h"
#include "sync.h"

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
sync_receive (int fd, struct sync_message *out, const char *peer, struct ward_error **err)
{
  memset (out, 0, sizeof *out);
  ssize_t n;
  do
    n = recv (fd, out, sizeof *out, 0);
  while (n < 0 && errno == EINTR);
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
