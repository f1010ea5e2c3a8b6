"""process.terminal: the container's process gets a pty of its own devpts as
its controlling terminal and stdio; the master goes to the engine over
--console-socket (runc's protocol, which containerd and conmon speak), or,
for `run` in the foreground, is relayed to the terminal ward runs in."""

import fcntl
import os
import pty
import re
import signal
import struct
import termios
import time

import pytest

from conftest import WARD_BINARY, assert_error
from helpers.console_socket import open_console_socket, read_to_hangup, read_until

TIMEOUT = 20.0
# _IOR('T', 0x30, unsigned int): Python's termios does not name it.
TIOCGPTN = 0x80045430


def lines(output):
    """The pty turns "\\n" into "\\r\\n"; compare text line by line."""
    return output.decode(errors="replace").replace("\r\n", "\n").splitlines()


def is_pty_master(fd):
    try:
        fcntl.ioctl(fd, TIOCGPTN, b"\0\0\0\0")
        return True
    except OSError:
        return False


def set_window_size(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


@pytest.fixture
def console(tmp_path):
    with open_console_socket(tmp_path / "console.sock") as socket_:
        yield socket_


def create_with_terminal(ward, bundle, console, args, changes=None):
    """`create --console-socket` a container whose process has a terminal;
    returns (id, master fd, the pty's name as sent)."""
    bundle.config["process"]["terminal"] = True
    bundle.config["process"]["args"] = list(args)
    for key, value in (changes or {}).items():
        bundle.config["process"][key] = value
    container_id = ward.create(bundle, "--console-socket", console.path)
    master, name = console.receive(TIMEOUT)
    return container_id, master, name


def test_console_socket_gets_the_master_of_the_containers_own_pty(ward, bundle, console):
    # With a pty of the host's held open, a first pty of the host's devpts
    # cannot be /dev/pts/0: the container's must come from its own instance.
    host_master, host_slave = os.openpty()
    try:
        container_id, master, name = create_with_terminal(
            ward,
            bundle,
            console,
            ["sh", "-c", "tty; stty size; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo interactive; ls /dev/pts"],
            {"consoleSize": {"height": 30, "width": 100}},
        )
    finally:
        os.close(host_master)
        os.close(host_slave)
    try:
        assert name == "/dev/pts/0"
        assert is_pty_master(master)
        result = ward("start", container_id)
        assert result.returncode == 0, result.stderr
        output = read_to_hangup(master, TIMEOUT)
    finally:
        os.close(master)
    tty, size, interactive, pts = lines(output)
    assert (tty, size, interactive) == ("/dev/pts/0", "30 100", "interactive")
    assert pts.split() == ["0", "ptmx"]  # ls in columns: a tty's
    ward.wait_for_status(container_id, "stopped")
    assert ward("delete", container_id).returncode == 0


def test_long_console_socket_path(ward, bundle, tmp_path):
    """Engines keep their sockets in deep directories; sun_path holds 108 bytes."""
    deep = tmp_path / ("d" * 100) / ("e" * 100)
    deep.mkdir(parents=True)
    with open_console_socket(deep / "console.sock") as console:
        assert len(console.path) > 108
        container_id, master, name = create_with_terminal(ward, bundle, console, ["echo", "long"])
    try:
        assert ward("start", container_id).returncode == 0
        output = read_to_hangup(master, TIMEOUT)
    finally:
        os.close(master)
    assert lines(output) == ["long"]
    ward.wait_for_status(container_id, "stopped")


def test_pty_belongs_to_the_process_user(ward, bundle, console):
    """Its owner becomes the process's uid; its group stays the one devpts
    gives (gid=5 in the config), as runc leaves it."""
    container_id, master, _ = create_with_terminal(
        ward, bundle, console, ["sh", "-c", "stat -c '%u %g %a' $(tty)"], {"user": {"uid": 1000, "gid": 1000}}
    )
    try:
        assert ward("start", container_id).returncode == 0
        output = read_to_hangup(master, TIMEOUT)
    finally:
        os.close(master)
    assert lines(output) == ["1000 5 620"]
    ward.wait_for_status(container_id, "stopped")


def test_pty_round_trip_with_an_interactive_shell(ward, bundle, console):
    container_id, master, _ = create_with_terminal(ward, bundle, console, ["sh"])
    try:
        assert ward("start", container_id).returncode == 0
        os.write(master, b"echo round-trip\n")
        # The shell echoes the command line; its output is a line of its own.
        answer = re.compile(rb"[\r\n]round-trip\r\n")
        output = read_until(master, answer.search, TIMEOUT)
        assert answer.search(output), f"no answer from the shell: {output!r}"
        assert ward("state", container_id).returncode == 0
        os.write(master, b"exit\n")
        read_to_hangup(master, TIMEOUT)
    finally:
        os.close(master)
    ward.wait_for_status(container_id, "stopped")


def test_terminal_needs_a_console_socket_on_create(ward, bundle):
    bundle.config["process"]["terminal"] = True
    container_id = ward.new_id()
    bundle.write_config(container_id)
    result = ward("create", "--bundle", bundle.path, container_id)
    assert_error(result, "terminal", "console-socket")
    assert ward("state", container_id).returncode != 0
    assert ward.leftovers() == []


# ---------------------------------------------------------------------------
# `run` in the foreground, in a terminal of the test's


def line_discipline(master):
    """The local modes of a pty (tcgetattr on the master reads the slave's)."""
    return termios.tcgetattr(master)[3]


class WardInPty:
    """`ward run` whose controlling terminal, stdin, stdout and stderr are a
    pty of the test's (pty.fork): as a person at a terminal runs it."""

    def __init__(self, ward, bundle, container_id, rows=40, cols=120):
        argv = [WARD_BINARY, "--root", str(ward.root), "run", "--bundle", str(bundle.path), container_id]
        self.pid, self.master = pty.fork()
        if self.pid == 0:
            try:
                set_window_size(0, rows, cols)
                os.execv(argv[0], argv)
            finally:
                os._exit(127)

    def read_until(self, pattern):
        regex = re.compile(pattern)
        output = read_until(self.master, regex.search, TIMEOUT)
        assert regex.search(output), f"{pattern!r} not in {output!r}"
        return output

    def finish(self):
        """Everything still to come, and ward's exit status."""
        output = read_to_hangup(self.master, TIMEOUT)
        deadline = time.monotonic() + TIMEOUT
        while True:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"ward run did not exit; its terminal showed {output!r}")
            time.sleep(0.05)
        self.pid = None
        return output, os.waitstatus_to_exitcode(status)

    def close(self):
        if self.pid:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self.master)


@pytest.fixture
def run_in_pty(ward, bundle):
    started = []

    def start(args, **size):
        bundle.config["process"]["terminal"] = True
        bundle.config["process"]["args"] = list(args)
        container_id = ward.new_id()
        bundle.write_config(container_id)
        started.append(WardInPty(ward, bundle, container_id, **size))
        return started[-1]

    yield start
    for process in started:
        process.close()


def test_run_relays_the_terminal_to_wards_own(run_in_pty):
    ward_run = run_in_pty(["sh", "-c", "tty; [ -t 0 ] && echo interactive; echo done; exit 3"])
    output, status = ward_run.finish()
    assert lines(output) == ["/dev/pts/0", "interactive", "done"]
    assert status == 3


def test_run_passes_input_to_the_container(run_in_pty):
    ward_run = run_in_pty(["sh"])
    ward_run.read_until(rb"/ # ")  # the prompt: the shell reads its terminal
    # ward's terminal is raw while it relays (the container's pty does the
    # echoing and line editing), and cooked again once ward is done.
    assert not line_discipline(ward_run.master) & (termios.ICANON | termios.ECHO)
    os.write(ward_run.master, b"echo round-trip\r")
    ward_run.read_until(rb"[\r\n]round-trip\r\n")
    os.write(ward_run.master, b"exit 5\r")
    _, status = ward_run.finish()
    assert status == 5
    assert line_discipline(ward_run.master) & (termios.ICANON | termios.ECHO) == termios.ICANON | termios.ECHO


def test_run_gives_the_container_the_size_of_wards_terminal(run_in_pty):
    ward_run = run_in_pty(["stty", "size"], rows=40, cols=120)
    output, status = ward_run.finish()
    assert lines(output) == ["40 120"]
    assert status == 0


def test_run_forwards_window_size_changes(run_in_pty):
    ward_run = run_in_pty(["sh"], rows=40, cols=120)
    ward_run.read_until(rb"/ # ")
    os.write(ward_run.master, b"stty size\r")
    ward_run.read_until(rb"[\r\n]40 120\r\n")
    # The kernel sends SIGWINCH to ward, the foreground of this terminal,
    # before the ioctl returns: pending before the next command is typed.
    set_window_size(ward_run.master, 50, 132)
    os.write(ward_run.master, b"stty size\r")
    ward_run.read_until(rb"[\r\n]50 132\r\n")
    os.write(ward_run.master, b"exit\r")
    _, status = ward_run.finish()
    assert status == 0


def test_run_with_a_terminal_but_not_in_one(ward):
    """stdin at EOF and stdout a file, as in CI: the output still comes
    through the pty, and the exit status is the container's."""
    code, out, err = ward.run_container(
        ["sh", "-c", "[ -t 1 ] && echo on-a-pty; exit 4"], {"process": {"terminal": True}}
    )
    assert (code, lines(out.encode())) == (4, ["on-a-pty"]), err
