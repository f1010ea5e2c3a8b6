"""A console-socket receiver for the tests: the far end of --console-socket,
as containerd (go-runc's console.go) and conmon are.

It binds a unix stream socket, accepts one connection and takes the pty
master from its message: up to 4096 bytes of payload (the pty's name, e.g.
"/dev/pts/0") and the first fd of the SCM_RIGHTS control message.

    with open_console_socket(path) as console:
        ... ward create --console-socket path ...
        master, name = console.receive(timeout=10)

Run as a program, it prints the name and then copies what the container
writes to its terminal to stdout until the container is gone:

    console_socket.py SOCKET [--timeout S]
"""

import argparse
import errno
import os
import select
import socket
import sys
import time

# What containerd reads; runc (and ward) send only the pty's name.
MAX_PAYLOAD = 4096
# sun_path is 108 bytes with its NUL; pytest's directories can be longer.
SUN_PATH_MAX = 107


def bind_unix(sock, path):
    """bind() that also works for paths longer than sun_path, through a
    file descriptor of the socket's directory."""
    path = os.fspath(path)
    if len(os.fsencode(path)) <= SUN_PATH_MAX:
        sock.bind(path)
        return
    directory, name = os.path.split(path)
    dirfd = os.open(directory, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        sock.bind(f"/proc/self/fd/{dirfd}/{name}")
    finally:
        os.close(dirfd)


class ConsoleSocket:
    def __init__(self, path):
        self.path = os.fspath(path)
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            bind_unix(self.listener, self.path)
            self.listener.listen(1)
        except BaseException:
            self.listener.close()
            raise

    def receive(self, timeout=10.0):
        """Accept the runtime's connection and return (master fd, name).
        The fd is close-on-exec and ours to close."""
        deadline = time.monotonic() + timeout
        self.listener.settimeout(timeout)
        conn, _ = self.listener.accept()
        with conn:
            conn.settimeout(max(0.1, deadline - time.monotonic()))
            data, fds, _, _ = socket.recv_fds(conn, MAX_PAYLOAD, 4)
        for extra in fds[1:]:
            os.close(extra)
        if not fds:
            raise RuntimeError(f"the console socket's message carried no fd (payload {data!r})")
        # recv_fds hands them out inheritable; ward's children must not get it.
        os.set_inheritable(fds[0], False)
        return fds[0], data.decode(errors="replace")

    def close(self):
        self.listener.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def open_console_socket(path):
    return ConsoleSocket(path)


def read_until(fd, done, timeout=10.0):
    """Read the master `fd` until done(bytes so far) is true, the container's
    side hangs up (EIO) or the timeout passes; returns the bytes read."""
    deadline = time.monotonic() + timeout
    received = b""
    while not done(received):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            break
        try:
            chunk = os.read(fd, 4096)
        except OSError as error:
            if error.errno == errno.EIO:  # every slave fd is closed
                break
            raise
        if not chunk:
            break
        received += chunk
    return received


def read_to_hangup(fd, timeout=10.0):
    """Everything the container writes to its terminal until it is gone."""
    return read_until(fd, lambda _: False, timeout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("socket")
    parser.add_argument("--timeout", type=float, default=30.0)
    options = parser.parse_args()
    with open_console_socket(options.socket) as console:
        master, name = console.receive(options.timeout)
    print(name, flush=True)
    try:
        sys.stdout.buffer.write(read_to_hangup(master, options.timeout))
    finally:
        os.close(master)


if __name__ == "__main__":
    main()
