"""A seccomp agent for the tests: the far end of linux.seccomp.listenerPath.

Run as a program (so a broken runtime can never hang the test process:
the test kills it at its deadline):

    seccomp_listener.py SOCKET REPORT [--errno N | --value N] [--timeout S]

It binds SOCKET, accepts one connection, receives the container process
state and the listener fd (SCM_RIGHTS), then answers every notification on
that fd: with -N (errno N) or with the fake return value N, until the
container's processes are gone (the fd reports POLLHUP) or the timeout
passes.  REPORT then receives JSON: the state it got, how many fds came,
whether the runtime closed the connection after sending, each
notification (syscall nr, pid, arch, args) and any error.
"""

import argparse
import errno
import fcntl
import json
import os
import select
import socket
import struct
import subprocess
import sys
import time

# From <linux/seccomp.h>: _IOWR('!', 0, struct seccomp_notif) and
# _IOWR('!', 1, struct seccomp_notif_resp).
SECCOMP_IOCTL_NOTIF_RECV = 0xC0502100
SECCOMP_IOCTL_NOTIF_SEND = 0xC0182101
# struct seccomp_notif: u64 id, u32 pid, u32 flags, then struct seccomp_data
# {int nr; u32 arch; u64 instruction_pointer; u64 args[6]}: 80 bytes.
NOTIF = struct.Struct("=QIIiIQ6Q")
# struct seccomp_notif_resp: u64 id, s64 val, s32 error, u32 flags.
NOTIF_RESP = struct.Struct("=QqiI")
assert NOTIF.size == 80 and NOTIF_RESP.size == 24

MAX_MESSAGE = 1 << 20
# How long the runtime may take to close the connection after its message.
CLOSE_GRACE = 5.0


def receive_state(listener, deadline):
    """Accept one connection; return (parsed JSON, [fds], whether the runtime
    closed the connection after sending, as the runtime spec requires)."""
    listener.settimeout(max(0.1, deadline - time.monotonic()))
    conn, _ = listener.accept()
    with conn:
        conn.settimeout(max(0.1, deadline - time.monotonic()))
        data, fds, _, _ = socket.recv_fds(conn, MAX_MESSAGE, 4)
        received = data
        # The message may come in several reads; it is complete once it parses.
        while True:
            try:
                state = json.loads(received)
                break
            except ValueError:
                data = conn.recv(MAX_MESSAGE)
                if not data:
                    raise
                received += data
        conn.settimeout(CLOSE_GRACE)
        try:
            closed = conn.recv(1) == b""
        except socket.timeout:
            closed = False
    return state, fds, closed


def answer(fd, notif_id, errno_answer, value_answer):
    if errno_answer is not None:
        response = NOTIF_RESP.pack(notif_id, 0, -errno_answer, 0)
    else:
        response = NOTIF_RESP.pack(notif_id, value_answer, 0, 0)
    try:
        fcntl.ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, bytearray(response), True)
    except OSError as error:
        if error.errno != errno.ENOENT:  # the caller died meanwhile
            raise


def serve(fd, deadline, errno_answer, value_answer):
    """Answer notifications until the filter has no users left."""
    seen = []
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    while time.monotonic() < deadline:
        events = poller.poll(100)
        if not events:
            continue
        _, mask = events[0]
        if mask & select.POLLIN:
            buffer = bytearray(NOTIF.size)  # the kernel wants it zeroed
            try:
                fcntl.ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, buffer, True)
            except OSError as error:
                if error.errno == errno.ENOENT:  # the caller died before we read it
                    continue
                raise
            notif_id, pid, _flags, nr, arch, _ip, *args = NOTIF.unpack(buffer)
            seen.append({"nr": nr, "pid": pid, "arch": arch, "args": args})
            answer(fd, notif_id, errno_answer, value_answer)
        elif mask & (select.POLLHUP | select.POLLERR):
            break
    return seen


class ListenerProcess:
    """This program run by a test: start() it, run the container, then
    report() waits (bounded) for it and returns what it saw.  It binds the
    socket by name from inside its directory, so paths longer than
    sockaddr_un allows work too."""

    def __init__(self, socket_path, report_path, errno_answer=None, value_answer=0, timeout=30.0):
        self.socket_path = os.path.abspath(socket_path)
        self.report_path = os.path.abspath(report_path)
        self.timeout = timeout
        name = os.path.basename(self.socket_path)
        self.argv = [sys.executable, os.path.abspath(__file__), name, self.report_path, "--timeout", str(timeout)]
        if errno_answer is not None:
            self.argv += ["--errno", str(errno_answer)]
        else:
            self.argv += ["--value", str(value_answer)]
        self.process = None

    def start(self):
        self.process = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, cwd=os.path.dirname(self.socket_path))
        deadline = time.monotonic() + 10
        while not os.path.exists(self.socket_path):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"seccomp listener did not bind {self.socket_path}")
            time.sleep(0.02)
        return self

    def report(self):
        try:
            self.process.wait(timeout=self.timeout + 5)
        finally:
            self.stop()
        with open(self.report_path) as f:
            return json.load(f)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("socket")
    parser.add_argument("report")
    parser.add_argument("--errno", type=int)
    parser.add_argument("--value", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=30.0)
    options = parser.parse_args()
    deadline = time.monotonic() + options.timeout

    report = {"state": None, "fds_received": 0, "closed_after_send": None, "notifications": [], "error": None}
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(options.socket)
        listener.listen(1)
        state, fds, closed = receive_state(listener, deadline)
        report["state"] = state
        report["closed_after_send"] = closed
        report["fds_received"] = len(fds)
        if fds:
            report["notifications"] = serve(fds[0], deadline, options.errno, options.value)
        for fd in fds:
            os.close(fd)
    except Exception as error:  # reported to the test, which asserts on it
        report["error"] = f"{type(error).__name__}: {error}"
    finally:
        listener.close()
        partial = options.report + ".partial"
        with open(partial, "w") as out:
            json.dump(report, out)
        os.rename(partial, options.report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
