"""ward as Podman's OCI runtime, through conmon, as a person runs Podman.

Podman gets a storage root, run root and tmpdir of its own in a temporary
directory, the cgroupfs manager and a cgroup parent beneath our own cgroup
(without one, conmon moves itself out of the cgroup it started in), and the
shipped contrib/podman/containers.conf with ward's path set to $WARD_BINARY,
through CONTAINERS_CONF (Podman then reads no other containers.conf).  The
image is engine_image's busybox docker-archive, `podman load`ed.  Every
container runs with `--network none`.

Where ward keeps its state under Podman: as root, Podman passes the runtime
no --root, so ward uses its default, /run/ward (runc standing in: /run/runc).
Podman passes `--log-format=json --log FILE` to create and exec (ward is in
the file's runtime_supports_json), and on failure shows the last error
message of that file to the user.

After every container: `ward state` no longer knows it, no state directory,
no cgroup directory beneath our parent, no mount naming it, no process of
it (container or conmon).  The module's teardown removes whatever is left,
also when a test failed, and fails if it had to.
"""

import json
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import WARD_BINARY, TOP, process_start_time, wait_until
from engine_image import engine_image_archive, own_cgroup_parent  # noqa: F401 (a fixture)

PODMAN = shutil.which("podman")
SHIPPED_CONF = TOP / "contrib" / "podman" / "containers.conf"
SHIPPED_WARD_PATH = "/usr/local/bin/ward"
TIMEOUT = 30
# ward's default --root; Podman passes none (see the module's docstring).
STATE_ROOT = Path("/run") / Path(WARD_BINARY).name
# default_ulimits in the shipped containers.conf, lowered by the policy:
# conmon does not pass the tests' WARD_CONF on, so ward applies the
# default policy, agent-default, as on any host without a ward.conf.
_AGENT_DEFAULT_RLIMITS = json.loads((TOP / "policy-profiles" / "agent-default.json").read_text())["rlimits"]
NOFILE = str(min(20000, _AGENT_DEFAULT_RLIMITS["nofile"]))
NPROC = str(min(32768, _AGENT_DEFAULT_RLIMITS["nproc"]))
TRAP_TERM = "trap 'exit 7' TERM; echo ready; while :; do sleep 0.1; done"


# ---------------------------------------------------------------------------
# The host, as seen from here


def cgroup_hierarchies():
    """Mount points of the host's cgroup hierarchies (v1 and v2)."""
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        fstype = line.partition(" - ")[2].split()[0]
        if fstype in ("cgroup", "cgroup2"):
            points.append(Path(fields[4]))
    return points


def live_pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()]


def read_proc(pid, name):
    try:
        return Path(f"/proc/{pid}/{name}").read_bytes().decode(errors="replace")
    except OSError:
        return ""


def processes_mentioning(*needles):
    """Live processes whose command line or cgroups name one of `needles`."""
    found = []
    for pid in live_pids():
        text = read_proc(pid, "cmdline").replace("\0", " ") + read_proc(pid, "cgroup")
        if any(needle in text for needle in needles) and process_start_time(pid) is not None:
            found.append(pid)
    return found


def mounts_naming(*needles):
    text = Path("/proc/self/mountinfo").read_text()
    return [line for line in text.splitlines() if any(needle in line for needle in needles)]


def frozen(pid):
    """Whether the freezer of the process's cgroup is frozen (v1 or v2)."""
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if "freezer" in controllers.split(","):
            return (Path(f"/sys/fs/cgroup/freezer{path}") / "freezer.state").read_text().strip() == "FROZEN"
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        if line.startswith("0::"):
            events = Path(f"/sys/fs/cgroup{line[3:]}/cgroup.events").read_text()
            return "frozen 1" in events
    raise AssertionError(f"no freezer for {pid}: {Path(f'/proc/{pid}/cgroup').read_text()}")


# ---------------------------------------------------------------------------
# Podman


@dataclass
class Seen:
    """A container as `podman inspect` showed it while it ran."""

    container_id: str
    pid: int = 0
    pid_started: int = None
    conmon_pid: int = 0
    conmon_started: int = None
    merged_dir: str = ""


class Podman:
    def __init__(self, workdir, cgroup_parent):
        self.workdir = workdir
        self.cgroup_parent = cgroup_parent
        self.conf = workdir / "containers.conf"
        text = SHIPPED_CONF.read_text()
        assert SHIPPED_WARD_PATH in text, f"{SHIPPED_CONF} no longer names {SHIPPED_WARD_PATH}"
        self.conf.write_text(text.replace(SHIPPED_WARD_PATH, str(Path(WARD_BINARY).resolve())))
        self.env = dict(os.environ, CONTAINERS_CONF=str(self.conf))
        self.storage = [
            "--root", workdir / "root",
            "--runroot", workdir / "runroot",
            "--tmpdir", workdir / "tmp",
            "--cgroup-manager", "cgroupfs",
        ]  # fmt: skip
        self.ids = set()

    def argv(self, args, runtime=True):
        """Every `run` and `create` gets `--network none` and our cgroup parent."""
        args = [str(a) for a in args]
        if args[0] in ("run", "create"):
            args[1:1] = ["--network", "none", "--cgroup-parent", self.cgroup_parent]
        runtime_option = ["--runtime", WARD_BINARY] if runtime else []
        return [PODMAN, *map(str, self.storage), *runtime_option, *args]

    def __call__(self, *args, timeout=TIMEOUT, input=None, runtime=True):
        """Run podman; a text CompletedProcess.  Output goes through files:
        conmon, detached, must not hold a pipe of ours open."""
        argv = self.argv(args, runtime)
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            stdin = {"stdin": subprocess.DEVNULL} if input is None else {"input": input.encode()}
            proc = subprocess.run(argv, **stdin, stdout=out, stderr=err, env=self.env, timeout=timeout)
            out.seek(0)
            err.seek(0)
            return subprocess.CompletedProcess(
                argv, proc.returncode, out.read().decode(errors="replace"), err.read().decode(errors="replace")
            )

    def ok(self, *args, **kwargs):
        result = self(*args, **kwargs)
        assert result.returncode == 0, f"podman {' '.join(map(str, args))} exited {result.returncode}: {result.stderr}"
        return result.stdout

    def start_detached(self, *command, image):
        """`podman run -d IMAGE COMMAND...`: the Seen container, running."""
        container_id = self.ok("run", "-d", image, *command).strip().splitlines()[-1]
        self.ids.add(container_id)
        return self.seen(container_id)

    def inspect(self, container_id):
        return json.loads(self.ok("inspect", "--format", "json", container_id))[0]

    def seen(self, container_id):
        data = self.inspect(container_id)
        state = data["State"]
        return Seen(
            container_id=container_id,
            pid=state.get("Pid") or 0,
            pid_started=process_start_time(state["Pid"]) if state.get("Pid") else None,
            conmon_pid=state.get("ConmonPid") or 0,
            conmon_started=process_start_time(state["ConmonPid"]) if state.get("ConmonPid") else None,
            merged_dir=(data.get("GraphDriver") or {}).get("Data", {}).get("MergedDir", ""),
        )

    def status(self, container_id):
        return self.inspect(container_id)["State"]["Status"]

    def wait_logs(self, container_id, text, timeout=10.0):
        found = wait_until(lambda: text in self.ok("logs", container_id), timeout, interval=0.1)
        assert found, f"{container_id} never printed {text!r}: {self('logs', container_id).stdout!r}"

    def cid_file(self):
        """A --cidfile path: how a `run --rm` container's id is learnt."""
        return self.workdir / f"cid-{uuid.uuid4().hex[:8]}"

    def traces(self, container):
        """What is left of a container Podman has removed."""
        container_id = container.container_id
        found = []
        result = subprocess.run([WARD_BINARY, "state", container_id], capture_output=True, text=True, timeout=TIMEOUT)
        if result.returncode == 0:
            found.append(f"`{WARD_BINARY} state {container_id}` still answers: {result.stdout.strip()}")
        if (STATE_ROOT / container_id).exists():
            found.append(f"state directory {STATE_ROOT / container_id}")
        for hierarchy in cgroup_hierarchies():
            directory = Path(f"{hierarchy}{self.cgroup_parent}") / f"libpod-{container_id}"
            if directory.exists():
                found.append(f"cgroup {directory}")
        needles = [container_id] + ([container.merged_dir] if container.merged_dir else [])
        found += [f"mount {line}" for line in mounts_naming(*needles)]
        for pid, started, what in (
            (container.pid, container.pid_started, "container process"),
            (container.conmon_pid, container.conmon_started, "conmon"),
        ):
            if pid and started is not None and process_start_time(pid) == started:
                found.append(f"{what} {pid} ({read_proc(pid, 'cmdline').replace(chr(0), ' ')})")
        found += [f"process {pid} ({read_proc(pid, 'cmdline')!r})" for pid in processes_mentioning(container_id)]
        return found

    def assert_gone(self, container):
        # conmon outlives `podman rm` by a moment.
        wait_until(lambda: not self.traces(container), timeout=5.0, interval=0.1)
        left = self.traces(container)
        assert not left, f"left behind by {container.container_id}:\n" + "\n".join(left)


# ---------------------------------------------------------------------------
# Setting up and tearing down


def created_cgroup_dirs(cgroup_parent):
    """The directories of `cgroup_parent` and above it that do not exist yet,
    in every hierarchy: what Podman will create and the teardown removes."""
    missing = []
    for hierarchy in cgroup_hierarchies():
        directory = Path(f"{hierarchy}{cgroup_parent}")
        while directory != hierarchy and not directory.exists():
            missing.append(directory)
            directory = directory.parent
    return missing


def tear_down(podman, new_cgroup_dirs):
    """Remove all the module made, also after failures; returns what had to
    be removed by force (a container, a process, a mount)."""
    problems = []
    listed = podman("ps", "-a", "-q", "--no-trunc", timeout=60)
    left = set(listed.stdout.split()) if listed.returncode == 0 else set()
    if left:
        problems.append(f"containers still known to podman: {sorted(left)}")
        podman("rm", "-f", "-t", "0", *sorted(left), timeout=120)
    for container_id in sorted(podman.ids | left):
        if subprocess.run([WARD_BINARY, "state", container_id], capture_output=True, timeout=TIMEOUT).returncode == 0:
            problems.append(f"ward still had container {container_id}")
            subprocess.run([WARD_BINARY, "delete", "--force", container_id], capture_output=True, timeout=TIMEOUT)
    # Whatever still runs in our cgroups or names our directory is ours:
    # conmon, a container's process, a hung runtime.
    stray = processes_mentioning(str(podman.workdir), f"{podman.cgroup_parent}/")
    for pid in stray:
        problems.append(f"process {pid} ({read_proc(pid, 'cmdline')!r}) was still running")
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    wait_until(lambda: not processes_mentioning(str(podman.workdir), f"{podman.cgroup_parent}/"), timeout=5.0)
    # Podman's overlay mounts: `podman system reset` would also remove the
    # host's network definitions, so unmount what is under our directory.
    mounts = sorted(
        {line.split()[4] for line in mounts_naming(str(podman.workdir))}, key=lambda p: p.count("/"), reverse=True
    )
    for mount_point in mounts:
        problems.append(f"mount {mount_point}")
        subprocess.run(["umount", "-l", mount_point], capture_output=True, timeout=TIMEOUT)
    # Beneath our parent only podman's own "conmon" cgroup may remain.
    for hierarchy in cgroup_hierarchies():
        parent = Path(f"{hierarchy}{podman.cgroup_parent}")
        if parent.is_dir():
            problems += [f"cgroup {d}" for d in parent.iterdir() if d.is_dir() and d.name != "conmon"]

    def remove_cgroups():
        for directory in sorted(new_cgroup_dirs, key=lambda p: len(p.parts), reverse=True):
            for child in sorted(directory.glob("**/"), key=lambda p: len(p.parts), reverse=True):
                try:
                    child.rmdir()
                except OSError:
                    pass
        return not any(d.exists() for d in new_cgroup_dirs)

    if not wait_until(remove_cgroups, timeout=5.0, interval=0.1):
        problems.append(f"cgroups not removable: {[str(d) for d in new_cgroup_dirs if d.exists()]}")
    shutil.rmtree(podman.workdir, ignore_errors=True)
    if podman.workdir.exists():
        problems.append(f"{podman.workdir} could not be removed")
    return problems


@pytest.fixture(scope="module")
def podman_engine(engine_image_archive):  # noqa: F811 (the imported fixture)
    if PODMAN is None or shutil.which("conmon") is None:
        reason = "Podman is not installed (Debian packages: podman, conmon)"
        print(f"SKIP: {reason}")
        pytest.skip(reason)
    cgroup_parent = own_cgroup_parent(f"podman-{os.getpid()}")
    new_cgroup_dirs = created_cgroup_dirs(cgroup_parent)
    workdir = Path(tempfile.mkdtemp(prefix="ward-podman-"))
    runtime = Podman(workdir, cgroup_parent)
    # ward keeps compiled seccomp programs beside the containers; in the
    # default root, what these tests made is theirs to remove.
    state_root_existed, cache_existed = STATE_ROOT.exists(), (STATE_ROOT / "@cache").exists()
    try:
        loaded = runtime.ok("load", "-i", engine_image_archive.archive, timeout=120)
        assert engine_image_archive.name in loaded, loaded
        yield runtime
    finally:
        problems = tear_down(runtime, new_cgroup_dirs)
        if not cache_existed:
            shutil.rmtree(STATE_ROOT / "@cache", ignore_errors=True)
        if not state_root_existed:
            try:
                STATE_ROOT.rmdir()
            except OSError:
                pass
        assert not problems, "left behind by the Podman tests:\n" + "\n".join(problems)


@pytest.fixture
def podman(podman_engine):
    """The module's Podman; a test that leaves a container fails, and the
    container is removed before the next test."""
    yield podman_engine
    listed = podman_engine("ps", "-a", "-q", "--no-trunc")
    left = listed.stdout.split()
    if left:
        podman_engine("rm", "-f", "-t", "0", *left, timeout=120)
    assert listed.returncode == 0 and not left, f"containers left by the test: {left} {listed.stderr}"


@pytest.fixture
def image(engine_image_archive):  # noqa: F811
    return engine_image_archive.name


# ---------------------------------------------------------------------------
# Running


def test_containers_conf_selects_ward(podman, image):
    """Without --runtime the shipped file's `runtime = "ward"` applies."""
    info = podman.ok("info", "--format", "{{.Host.OCIRuntime.Name}} {{.Host.OCIRuntime.Path}}", runtime=False)
    assert info.split() == ["ward", str(Path(WARD_BINARY).resolve())]
    cid_file = podman.cid_file()
    result = podman("run", "--rm", "--cidfile", cid_file, image, runtime=False)
    assert (result.returncode, result.stdout) == (0, "ward-image-ok\n"), result.stderr
    podman.assert_gone(Seen(cid_file.read_text().strip()))


def test_run_prints_output_and_exit_status(podman, image):
    cid_file = podman.cid_file()
    script = "echo hello from ward; ulimit -n; ulimit -u; ls /sys/class/net; cat /proc/self/cgroup; exit 3"
    result = podman("run", "--rm", "--cidfile", cid_file, image, "sh", "-c", script)
    container_id = cid_file.read_text().strip()
    assert result.returncode == 3, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:4] == ["hello from ward", NOFILE, NPROC, "lo"], result.stdout
    # agent-default gives every container a cgroup namespace of its own, so
    # each hierarchy shows the container's cgroup as its root.
    assert len(lines) > 4, result.stdout
    for line in lines[4:]:
        assert line.split(":", 2)[2] == "/", result.stdout
    assert result.stderr == ""
    podman.assert_gone(Seen(container_id))


def test_ward_state_lives_in_its_default_root_while_running(podman, image):
    container = podman.start_detached("sleep", "1000", image=image)
    state = json.loads(subprocess.check_output([WARD_BINARY, "state", container.container_id], timeout=TIMEOUT))
    assert (state["status"], state["pid"]) == ("running", container.pid)
    assert (STATE_ROOT / container.container_id).is_dir()
    assert container.merged_dir and mounts_naming(container.merged_dir)
    podman.ok("rm", "-f", "-t", "0", container.container_id)
    podman.assert_gone(container)


def test_exec(podman, image):
    container = podman.start_detached("sleep", "1000", image=image)
    result = podman("exec", container.container_id, "sh", "-c", "echo in-exec; cat /proc/1/cmdline; exit 4")
    assert (result.returncode, result.stdout) == (4, "in-exec\nsleep\x001000\x00"), result.stderr
    piped = podman("exec", "-i", container.container_id, "sh", "-c", "tr a-z A-Z", input="through stdin\n")
    assert (piped.returncode, piped.stdout) == (0, "THROUGH STDIN\n"), piped.stderr
    missing = podman("exec", container.container_id, "/no/such/binary")
    assert missing.returncode == 127, missing
    assert "/no/such/binary" in missing.stderr and "no such file or directory" in missing.stderr.lower(), missing.stderr
    podman.ok("rm", "-f", "-t", "0", container.container_id)
    podman.assert_gone(container)


def test_pause_and_unpause(podman, image):
    container = podman.start_detached("sleep", "1000", image=image)
    podman.ok("pause", container.container_id)
    assert podman.status(container.container_id) == "paused"
    assert podman.inspect(container.container_id)["State"]["Paused"] is True
    assert frozen(container.pid)
    podman.ok("unpause", container.container_id)
    assert podman.status(container.container_id) == "running"
    assert not frozen(container.pid)
    assert podman.ok("exec", container.container_id, "echo", "thawed") == "thawed\n"
    podman.ok("rm", "-f", "-t", "0", container.container_id)
    podman.assert_gone(container)


def test_stop_delivers_sigterm(podman, image):
    container = podman.start_detached("sh", "-c", TRAP_TERM, image=image)
    podman.wait_logs(container.container_id, "ready")
    started = time.monotonic()
    podman.ok("stop", "-t", "10", container.container_id)
    assert time.monotonic() - started < 5, "SIGTERM did not end the container: Podman fell back to SIGKILL"
    state = podman.inspect(container.container_id)["State"]
    assert (state["Status"], state["ExitCode"]) == ("exited", 7)
    podman.ok("rm", container.container_id)
    podman.assert_gone(container)


def test_stop_falls_back_to_sigkill(podman, image):
    # sleep as pid 1 of its namespace has no handler: SIGTERM does nothing.
    container = podman.start_detached("sleep", "1000", image=image)
    podman.ok("stop", "-t", "1", container.container_id)
    state = podman.inspect(container.container_id)["State"]
    assert (state["Status"], state["ExitCode"]) == ("exited", 137)
    podman.ok("rm", container.container_id)
    podman.assert_gone(container)


# ---------------------------------------------------------------------------
# A terminal


def run_in_pty(argv, env, timeout=TIMEOUT):
    """Run `argv` with a pty of ours as its controlling terminal and stdio;
    returns (exit code, output with "\\r\\n" turned into "\\n")."""
    pid, master = pty.fork()
    if pid == 0:
        try:
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    output = b""
    deadline = time.monotonic() + timeout
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                os.kill(pid, signal.SIGKILL)
                break
            ready, _, _ = select.select([master], [], [], remaining)
            if not ready:
                continue
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the last holder of the pty's slave is gone
                break
            if not chunk:
                break
            output += chunk
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(master)
    return os.waitstatus_to_exitcode(status), output.decode(errors="replace").replace("\r\n", "\n")


def test_run_with_a_terminal(podman, image):
    cid_file = podman.cid_file()
    script = "tty; [ -t 1 ] && echo stdout-is-a-tty; [ -t 0 ] && echo stdin-is-a-tty; exit 5"
    argv = podman.argv(["run", "--rm", "-t", "--cidfile", cid_file, image, "sh", "-c", script])
    code, output = run_in_pty(argv, podman.env)
    assert code == 5, output
    lines = output.splitlines()
    assert re.fullmatch(r"/dev/pts/\d+", lines[0]), output
    assert lines[1:] == ["stdout-is-a-tty", "stdin-is-a-tty"], output
    podman.assert_gone(Seen(cid_file.read_text().strip()))


# ---------------------------------------------------------------------------
# Errors


def oci_log_error(podman, container_id):
    """The last error message ward wrote to the --log file Podman gave it."""
    log = podman.workdir / "runroot" / "overlay-containers" / container_id / "userdata" / "oci-log"
    errors = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    errors = [entry["msg"] for entry in errors if entry.get("level") == "error"]
    assert errors, f"no error in {log}: {log.read_text()!r}"
    return errors[-1]


def test_create_error_reaches_the_user_with_wards_message(podman, image):
    name = f"ward-missing-{uuid.uuid4().hex[:8]}"
    result = podman("run", "--name", name, image, "/no/such/binary")
    container_id = podman.ok("inspect", "--format", "{{.Id}}", name).strip()
    podman.ids.add(container_id)
    assert result.returncode == 127, result
    message = oci_log_error(podman, container_id)
    assert "/no/such/binary" in message and "no such file or directory" in message.lower(), message
    # Podman prefixes the runtime's path and adds its own explanation.
    assert f"Error: {WARD_BINARY}: {message}" in result.stderr, result.stderr
    assert podman.status(container_id) in ("created", "configured", "stopped", "exited")
    podman.ok("rm", container_id)
    podman.assert_gone(Seen(container_id))


def test_failed_create_is_cleaned_up_quietly(podman, image):
    """After a failed create Podman runs `delete --force` for a container the
    runtime has already removed; runc answers 0 and the user sees only the
    error.  Anything else adds a runtime line and Podman's "Removing
    container ... from runtime after creation failed" to the output."""
    cid_file = podman.cid_file()
    result = podman("run", "--rm", "--cidfile", cid_file, image, "/no/such/binary")
    assert result.returncode == 127, result
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {WARD_BINARY}: "), result.stderr
    podman.assert_gone(Seen(cid_file.read_text().strip()))


# ---------------------------------------------------------------------------
# Robustness


@pytest.mark.parametrize("how", ["podman kill", "SIGKILL from the host"])
def test_container_killed_mid_run(podman, image, how):
    container = podman.start_detached("sleep", "1000", image=image)
    if how == "podman kill":
        podman.ok("kill", container.container_id)
    else:
        assert process_start_time(container.pid) == container.pid_started
        os.kill(container.pid, signal.SIGKILL)
    assert podman.ok("wait", container.container_id).strip() == "137"
    assert podman.status(container.container_id) == "exited"
    podman.ok("rm", container.container_id)
    podman.assert_gone(container)


def test_rm_force_running_and_paused_containers(podman, image):
    running = podman.start_detached("sh", "-c", TRAP_TERM, image=image)
    paused = podman.start_detached("sleep", "1000", image=image)
    podman.wait_logs(running.container_id, "ready")
    podman.ok("pause", paused.container_id)
    assert podman.status(paused.container_id) == "paused"
    started = time.monotonic()
    podman.ok("rm", "-f", running.container_id, paused.container_id)
    assert time.monotonic() - started < 8, "rm -f waited for its SIGKILL timeout"
    for container in (running, paused):
        podman.assert_gone(container)
