/* process.terminal: a pty allocated inside the container (from its own
 * devpts), its slave the process's controlling terminal and stdio, its
 * master handed out over a console socket as runc does (containerd, Docker
 * and conmon rely on it), or relayed to ward's own terminal by `run`. */
#ifndef WARD_TERMINAL_H
#define WARD_TERMINAL_H

#include <stdbool.h>

#include "error.h"
#include "spec.h"

/* ward, before the init exists: connect to the engine's console socket
 * (a unix SOCK_STREAM path, long paths allowed).  Returns a connected fd
 * (CLOEXEC) the init inherits. */
int terminal_connect_console_socket (const char *path, struct ward_error **err);

/* In the init, after pivot_root (so /dev/ptmx and /dev/pts are the
 * container's): open a pty, give the slave to process.user, apply
 * consoleSize, make the slave our controlling terminal and fds 0, 1, 2.
 * Returns the master fd. */
int terminal_setup_in_container (const struct spec_process *process, struct ward_error **err);

/* Send the master over the console socket (SCM_RIGHTS, with the pty's
 * name as payload, as runc's console protocol), then close both. */
int terminal_send_master (int console_socket, int master_fd, struct ward_error **err);

/* Receive a master sent by terminal_send_master (for `run` without
 * --console-socket, and for tests). */
int terminal_receive_master (int console_socket, struct ward_error **err);

/* `run`, before the container starts: give the master the size of the
 * terminal ward runs in (stdout's, else stdin's), so that the process sees
 * it from its first instruction; best effort, a no-op without a terminal. */
void terminal_inherit_window_size (int master_fd);

/* `run` in the foreground: copy between ward's stdin/stdout and the master
 * until the master hangs up (the container exited), with ward's terminal in
 * raw mode (restored afterwards) and its window size forwarded on SIGWINCH. */
int terminal_relay (int master_fd, struct ward_error **err);

#endif
