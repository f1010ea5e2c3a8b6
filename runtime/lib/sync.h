/* The conversation between ward (the parent that prepares a container)
 * and the container's init (the child that becomes it), over a
 * SOCK_SEQPACKET socketpair: one message per step, so neither side can
 * misread a boundary.
 *
 *   parent → init   SYNC_GO        ids are mapped (and cgroups joined): go on
 *   init → parent   SYNC_HOOKS     run prestart and createRuntime hooks now; the reply,
 *                                  SYNC_GO, carries the state JSON for createContainer
 *   init → parent   SYNC_READY     set up and waiting for `start`
 *   init → parent   SYNC_SECCOMP   the seccomp listener fd (SCM_RIGHTS): hand it to
 *                                  the agent at listenerPath, then reply SYNC_GO
 *   init → parent   SYNC_ERROR     setup failed: `text` says why; init exits
 */
#ifndef WARD_SYNC_H
#define WARD_SYNC_H

#include <stdint.h>

#include "error.h"

enum sync_type
{
  SYNC_GO = 1,
  SYNC_HOOKS,
  SYNC_READY,
  SYNC_ERROR,
  SYNC_SECCOMP,
};

#define SYNC_TEXT_MAX 65536

struct sync_message
{
  uint32_t type;
  int32_t errnum;
  char text[SYNC_TEXT_MAX];
};

int sync_send (int fd, enum sync_type type, const char *text, struct ward_error **err);
/* The same, passing `passed_fd` along with SCM_RIGHTS. */
int sync_send_fd (int fd, enum sync_type type, int passed_fd, struct ward_error **err);
/* Peer closed without a message: fails with `what` ("container init exited"). */
int sync_receive (int fd, struct sync_message *out, const char *peer, struct ward_error **err);
/* As sync_receive; *received_fd is a passed fd or -1. */
int sync_receive_fd (int fd, struct sync_message *out, int *received_fd, const char *peer,
                     struct ward_error **err);
/* Wait for one message of `type`; a SYNC_ERROR becomes our error. */
int sync_expect (int fd, enum sync_type type, const char *peer, struct ward_error **err);

/* Report an error to the parent and end the init: used only in the child. */
__attribute__ ((noreturn)) void sync_fail_and_exit (int fd, struct ward_error *err);

#endif
