"""Docker runs its containers with ward: `docker run --runtime ward`.

The module starts one containerd and one dockerd, each with its root, state,
pid file and socket in a temporary directory of its own, and stops them by pid
at the end.  dockerd learns of ward twice: as "ward" from the shipped
contrib/docker/daemon.json (its path rewritten to $WARD_BINARY, passed with
--config-file) and as "ward-cli" from --add-runtime.  Containers' cgroups go
beneath our own memory cgroup (--cgroup-parent), the containers have no
network (--network none) and dockerd leaves the host's network settings alone
(--iptables=false --ip-forward=false ...): the module fails if ip_forward or
the iptables rules change.

The image is engine_image.py's busybox archive, `docker load`ed once.  Every
test removes its containers, also when it fails, and then fails if ward's
state, a cgroup beneath our parent, a mount, a container process or a shim
was left behind.
"""

import fcntl
import json
import os
import pty
import re
import select
import shutil
import signal
import struct
import subprocess
import tempfile
import termios
import time
import uuid
from pathlib import Path

import pytest

from conftest import COMMAND_TIMEOUT, TOP, WARD_BINARY, process_start_time, wait_until
from engine_image import IMAGE_OUTPUT, engine_image_archive, own_cgroup_parent  # noqa: F401

# /usr/local/bin/docker on this kind of host is another client: use Debian's.
DOCKER = "/usr/bin/docker"
DOCKERD = next((p for p in ("/usr/sbin/dockerd", "/usr/bin/dockerd") if os.access(p, os.X_OK)), None)
CONTAINERD = shutil.which("containerd", path="/usr/bin:/usr/sbin")
CONTAINERD_SHIM = shutil.which("containerd-shim-runc-v2", path="/usr/bin:/usr/sbin")
SHIPPED_DAEMON_JSON = TOP / "contrib" / "docker" / "daemon.json"
INSTALLED_WARD = "/usr/local/bin/ward"  # where contrib/setup.sh installs it

CGROUP_PARENT = own_cgroup_parent("ward-docker-test")
STARTUP_TIMEOUT = 30
MiB = 1024 * 1024
# Docker's default capability set (CHOWN DAC_OVERRIDE FOWNER FSETID KILL
# SETGID SETUID SETPCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE
# SETFCAP), as a /proc/PID/status mask.
DOCKER_DEFAULT_CAPS = "00000000a80425fb"
DOCKER_MASKED_PATHS = (
    "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
)  # fmt: skip

# Host settings dockerd would change without the flags below.
FORWARDING_SYSCTLS = ("/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/ipv6/conf/all/forwarding")
# Host paths dockerd or containerd create unless told otherwise; whichever
# this module created it removes again.
HOST_PATHS = ("/etc/docker/key.json", "/opt/containerd", "/run/docker/plugins", "/run/docker",
              "/run/containerd/s", "/run/containerd")  # fmt: skip


def skip(reason):
    print(f"SKIP: {reason}")
    pytest.skip(reason)


# ---------------------------------------------------------------------------
# The host: cgroups, mounts, processes, network settings


def cgroup_hierarchies():
    """[(mount point, mount root, is_v2, controllers)] of every cgroup mount."""
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, _, right = line.partition(" - ")
        fields, (fstype, _source, options) = left.split(), right.split()[:3]
        if fstype not in ("cgroup", "cgroup2"):
            continue
        mount_point = Path(fields[4])
        if fstype == "cgroup2":
            controllers = set((mount_point / "cgroup.controllers").read_text().split())
        else:
            controllers = set(options.split(","))
        found.append((mount_point, fields[3], fstype == "cgroup2", controllers))
    return found


def beneath(mount_point, mount_root, cgroup_path):
    """The directory of `cgroup_path` in a hierarchy mounted with root `mount_root`."""
    relative = cgroup_path
    if mount_root != "/" and cgroup_path.startswith(mount_root + "/"):
        relative = cgroup_path[len(mount_root) :]
    return Path(f"{mount_point}{relative}")


def parent_dirs():
    """Our cgroup parent's directory in every hierarchy."""
    return [beneath(m, root, CGROUP_PARENT) for m, root, _, _ in cgroup_hierarchies()]


def container_cgroup_file(container_id, controller, v1_name, v2_name):
    """The host's file `v1_name` (or `v2_name` on cgroup2) of the container's
    cgroup in the hierarchy carrying `controller`."""
    for mount_point, root, is_v2, controllers in cgroup_hierarchies():
        if controller in controllers:
            return beneath(mount_point, root, f"{CGROUP_PARENT}/{container_id}") / (v2_name if is_v2 else v1_name)
    raise AssertionError(f"no cgroup hierarchy carries {controller}")


def read_int(path):
    text = Path(path).read_text().strip()
    return text if text == "max" else int(text)


def frozen_on_host(container_id):
    path = container_cgroup_file(container_id, "freezer", "freezer.state", "cgroup.events")
    text = path.read_text()
    return text.strip() == "FROZEN" if path.name == "freezer.state" else "frozen 1" in text.splitlines()


def mountinfo_lines():
    return Path("/proc/self/mountinfo").read_text().splitlines()


def mount_point_of(line):
    return line.split()[4].replace("\\040", " ")


def pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def read_proc(pid, name):
    try:
        return Path(f"/proc/{pid}/{name}").read_bytes()
    except OSError:
        return b""


def forwarding_settings():
    return {path: Path(path).read_text().strip() for path in FORWARDING_SYSCTLS if Path(path).exists()}


def iptables_rules():
    """The host's iptables rules without counters, or None without iptables-save."""
    rules = {}
    for tool in ("iptables-save", "ip6tables-save"):
        if shutil.which(tool) is None:
            return None
        result = subprocess.run([tool], capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
        if result.returncode != 0:
            return None
        rules[tool] = [
            re.sub(r"\[\d+:\d+\]", "", line) for line in result.stdout.splitlines() if not line.startswith("#")
        ]
    return rules


def missing_cgroup_ancestors():
    """Directories above and including our cgroup parent that do not exist yet:
    ward creates them, the module removes them."""
    missing = []
    for directory in parent_dirs():
        while not directory.exists() and directory != directory.parent:
            missing.append(directory)
            directory = directory.parent
    return missing


def remove_cgroup_dirs(ancestors):
    """rmdir our cgroup parent with whatever is beneath it, then each of the
    `ancestors` ward created for it, deepest first and only if empty: another
    engine's tests may be using them.  Retried while the kernel lets go of
    processes just killed; true once our parent is gone everywhere."""

    def deepest_first(directories):
        return sorted(directories, key=lambda d: len(d.parts), reverse=True)

    def remove_all():
        for parent in parent_dirs():
            for directory in deepest_first(parent.glob("**/")):
                try:
                    directory.rmdir()
                except OSError:
                    pass
        return not any(d.exists() for d in parent_dirs())

    removed = wait_until(remove_all, timeout=5.0, interval=0.1)
    for directory in deepest_first(ancestors):
        try:
            directory.rmdir()
        except OSError:
            pass
    return removed


# ---------------------------------------------------------------------------
# The daemons


class Docker:
    """A containerd and a dockerd in `workdir`, and the docker client for them."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.containerd_socket = workdir / "containerd.sock"
        self.docker_socket = workdir / "docker.sock"
        self.data_root = workdir / "docker-data"
        self.exec_root = workdir / "docker-exec"
        self.containerd_log = workdir / "containerd.log"
        self.dockerd_log = workdir / "dockerd.log"
        self.daemon_json = workdir / "daemon.json"
        self.containerd = None
        self.dockerd = None
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
        self.env.update(DOCKER_HOST=f"unix://{self.docker_socket}", DOCKER_CONFIG=str(workdir / "client"))

    # -- starting and stopping ------------------------------------------------

    def start_containerd(self):
        config = self.workdir / "containerd.toml"
        config.write_text(
            f"""version = 2
root = "{self.workdir}/containerd-root"
state = "{self.workdir}/containerd-state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = "{self.containerd_socket}"

[ttrpc]
  address = "{self.containerd_socket}.ttrpc"

[debug]
  address = ""

[metrics]
  address = ""

# Otherwise containerd creates /opt/containerd on the host.
[plugins."io.containerd.internal.v1.opt"]
  path = "{self.workdir}/containerd-opt"
"""
        )
        with open(self.containerd_log, "wb") as log:
            self.containerd = subprocess.Popen(
                [CONTAINERD, "--config", str(config)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        up = wait_until(lambda: self.containerd.poll() is not None or self.containerd_socket.exists(), STARTUP_TIMEOUT)
        if not up or self.containerd.poll() is not None:
            raise RuntimeError(f"containerd did not start:\n{self.log_tail(self.containerd_log)}")

    def write_daemon_json(self):
        """The shipped daemon.json with ward's path rewritten to the binary
        under test; the trust key goes to our directory, not /etc/docker."""
        config = json.loads(SHIPPED_DAEMON_JSON.read_text())
        config["runtimes"]["ward"]["path"] = WARD_BINARY
        config["deprecated-key-path"] = str(self.workdir / "key.json")
        self.daemon_json.write_text(json.dumps(config, indent=2))

    def start_dockerd(self):
        self.write_daemon_json()
        argv = [
            DOCKERD,
            "--config-file", self.daemon_json,
            "--data-root", self.data_root,
            "--exec-root", self.exec_root,
            "--pidfile", self.workdir / "dockerd.pid",
            "-H", f"unix://{self.docker_socket}",
            "--containerd", self.containerd_socket,
            "--exec-opt", "native.cgroupdriver=cgroupfs",
            f"--cgroup-parent={CGROUP_PARENT}",
            # Without these dockerd rewrites the host's firewall and turns on
            # its ip_forward.
            "--iptables=false", "--ip6tables=false", "--ip-forward=false", "--ip-masq=false", "--bridge=none",
            "--add-runtime", f"ward-cli={WARD_BINARY}",
        ]  # fmt: skip
        with open(self.dockerd_log, "wb") as log:
            self.dockerd = subprocess.Popen(
                [str(a) for a in argv],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=self.env,
                start_new_session=True,
            )  # fmt: skip

        def answers():
            if self.dockerd.poll() is not None:
                return True
            return self("version", timeout=10).returncode == 0

        wait_until(answers, STARTUP_TIMEOUT, interval=0.2)
        if self.dockerd.poll() is not None or self("version").returncode != 0:
            raise RuntimeError(f"dockerd did not start:\n{self.log_tail(self.dockerd_log)}")

    def stop(self):
        """Remove every container, then stop dockerd and containerd by pid and
        end any shim or container process they left (ours: we started them)."""
        problems = []
        if self.dockerd and self.dockerd.poll() is None:
            ids = self("ps", "-aq").stdout.split()
            if ids:
                self("rm", "-f", *ids, timeout=60)
        for name, proc in (("dockerd", self.dockerd), ("containerd", self.containerd)):
            if proc is None or proc.poll() is not None:
                continue
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                problems.append(f"{name} (pid {proc.pid}) ignored SIGTERM for 30s")
                proc.kill()
                proc.wait()
        for pid in self.shim_pids() + self.container_pids():
            problems.append(f"process {pid} ({read_proc(pid, 'cmdline')[:80]!r}) outlived the daemons")
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return problems

    # -- the client -----------------------------------------------------------

    def __call__(self, *args, timeout=COMMAND_TIMEOUT):
        return subprocess.run(
            [DOCKER, *map(str, args)],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, env=self.env, timeout=timeout,
        )  # fmt: skip

    def ok(self, *args, timeout=COMMAND_TIMEOUT):
        """Run `docker ARGS...`, assert it exited 0, return its stdout."""
        result = self(*args, timeout=timeout)
        assert result.returncode == 0, (
            f"docker {' '.join(map(str, args))} exited {result.returncode}\n"
            f"stdout: {result.stdout}\nstderr: {result.stderr}\n{self.diagnostics()}"
        )
        return result.stdout

    def inspect(self, name, template):
        return self.ok("inspect", "-f", template, name).strip()

    def status(self, name):
        return self.inspect(name, "{{.State.Status}}")

    # -- what is left on the host -----------------------------------------------

    def shim_pids(self):
        marker = f"\0{self.containerd_socket}".encode()
        found = []
        for pid in pids():
            argv = read_proc(pid, "cmdline")
            if b"containerd-shim" in argv and marker in argv:
                found.append(pid)
        return found

    @staticmethod
    def container_pids():
        """Processes in a cgroup beneath our parent: containers' processes."""
        marker = f":{CGROUP_PARENT}/".encode()
        return [pid for pid in pids() if marker in read_proc(pid, "cgroup")]

    def ward_state_dirs(self):
        """ward's state directories: dockerd passes the runtime
        `--root <exec-root>/runtime-<name>/moby`."""
        return [d for d in self.exec_root.glob("runtime-*/*/*") if d.is_dir()]

    def leftovers(self, container_ids=()):
        """What no container, running or not, may leave behind once removed."""
        found = [f"ward state directory {d}" for d in self.ward_state_dirs()]
        for directory in parent_dirs():
            if directory.exists():
                found += [f"cgroup {child}" for child in directory.iterdir() if child.is_dir()]
        found += [f"container process {pid}: {read_proc(pid, 'cmdline')[:80]!r}" for pid in self.container_pids()]
        found += [f"shim {pid}: {read_proc(pid, 'cmdline')[:120]!r}" for pid in self.shim_pids()]
        for line in mountinfo_lines():
            point = mount_point_of(line)
            # dockerd keeps its data root bind-mounted while it runs.
            ours = point.startswith(f"{self.workdir}/") and point != str(self.data_root)
            if ours or any(cid in line for cid in container_ids):
                found.append(f"mount {line}")
        return found

    @staticmethod
    def log_tail(path, lines=25):
        try:
            return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
        except OSError as error:
            return f"({path}: {error})"

    def diagnostics(self):
        return (
            f"--- dockerd log ({self.dockerd_log}), last lines:\n{self.log_tail(self.dockerd_log)}\n"
            f"--- containerd log ({self.containerd_log}), last lines:\n{self.log_tail(self.containerd_log)}"
        )


def tools_or_skip():
    wanted = {"dockerd (Debian package docker.io)": DOCKERD,
              f"{DOCKER} (Debian package docker.io)": DOCKER if os.access(DOCKER, os.X_OK) else None,
              "containerd (Debian package containerd)": CONTAINERD,
              "containerd-shim-runc-v2 (Debian package containerd)": CONTAINERD_SHIM}  # fmt: skip
    missing = [what for what, path in wanted.items() if path is None]
    if missing:
        skip(f"Docker is not installed: no {', '.join(missing)}; apt-get install docker.io containerd")


@pytest.fixture(scope="module")
def docker():
    tools_or_skip()
    before_forwarding = forwarding_settings()
    before_rules = iptables_rules()
    absent_host_paths = [Path(p) for p in HOST_PATHS if not os.path.lexists(p)]
    missing_cgroups = missing_cgroup_ancestors()
    daemons = Docker(Path(tempfile.mkdtemp(prefix="ward-docker-")))
    problems = []
    try:
        daemons.start_containerd()
        daemons.start_dockerd()
        assert forwarding_settings() == before_forwarding, "dockerd changed the host's ip forwarding"
        yield daemons
    finally:
        problems += daemons.stop()
        problems += cleanup_host(daemons, missing_cgroups, absent_host_paths)
        after_forwarding = forwarding_settings()
        if after_forwarding != before_forwarding:
            problems.append(f"ip forwarding changed from {before_forwarding} to {after_forwarding}; restored")
            for path, value in before_forwarding.items():
                Path(path).write_text(value)
        if before_rules is not None and iptables_rules() != before_rules:
            problems.append("the host's iptables rules changed")
    assert not problems, "the Docker module left the host changed:\n" + "\n".join(problems)


def cleanup_host(daemons, missing_cgroups, absent_host_paths):
    problems = []
    for line in reversed(mountinfo_lines()):
        point = mount_point_of(line)
        if point.startswith(f"{daemons.workdir}/"):
            problems.append(f"mount left at {point}")
            subprocess.run(["umount", "-l", point], capture_output=True)
    if not remove_cgroup_dirs(missing_cgroups):
        problems.append(f"cgroup directories left: {[str(d) for d in parent_dirs() if d.exists()]}")
    for path in absent_host_paths:  # listed children first
        if path.is_dir():
            try:
                path.rmdir()
            except OSError:
                pass  # in use: another engine's (containerd's shim sockets)
        elif os.path.lexists(path):
            path.unlink()
            problems.append(f"{path} was created (removed)")
    shutil.rmtree(daemons.workdir, ignore_errors=True)
    return problems


@pytest.fixture(scope="module")
def image(docker, engine_image_archive):
    archive, name = engine_image_archive
    out = docker.ok("load", "-i", archive, timeout=120)
    assert "Loaded image" in out, out
    return name


class Containers:
    """The containers one test runs, by name, removed at its end."""

    def __init__(self, docker, image):
        self.docker = docker
        self.image = image
        self.names = []
        self.ids = []

    def new_name(self):
        name = f"ward-{uuid.uuid4().hex[:12]}"
        self.names.append(name)
        return name

    def run_argv(self, *options, script, runtime="ward", name=None):
        return ["run", "--runtime", runtime, "--network", "none", "--name", name or self.new_name(),
                *options, self.image, "sh", "-c", script]  # fmt: skip

    def run(self, script, *options, runtime="ward"):
        """`docker run --rm` in the foreground: CompletedProcess."""
        return self.docker(*self.run_argv("--rm", *options, script=script, runtime=runtime))

    def detached(self, script, *options, ready=None):
        """`docker run -d`: returns (name, full id, init pid).  With `ready`,
        waits until the container's log shows it."""
        name = self.new_name()
        container_id = self.docker.ok(*self.run_argv("-d", *options, script=script, name=name)).strip()
        self.ids.append(container_id)
        assert self.docker.status(name) == "running", self.docker.diagnostics()
        if ready is not None:
            shown = wait_until(lambda: ready in self.docker("logs", name).stdout, timeout=10)
            assert shown, f"{name} never printed {ready!r}: {self.docker('logs', name)}"
        return name, container_id, int(self.docker.inspect(name, "{{.State.Pid}}"))

    def remove_all(self):
        present = [n for n in self.names if self.docker("inspect", n).returncode == 0]
        if present:
            self.docker("rm", "-f", *present, timeout=60)


@pytest.fixture
def containers(docker, image):
    tracked = Containers(docker, image)
    yield tracked
    tracked.remove_all()
    gone = wait_until(lambda: not docker.leftovers(tracked.ids), timeout=10)
    assert gone, "left behind after the test:\n" + "\n".join(docker.leftovers(tracked.ids))


def assert_cleaned_up(docker, container_id, pid, started):
    """Nothing of the removed container is left: ward's state, cgroups,
    mounts, processes (its init by pid and start time, and any in its cgroup)."""
    wait_until(lambda: not docker.leftovers([container_id]), timeout=10)
    assert not docker.leftovers([container_id]), "\n".join(docker.leftovers([container_id])) + docker.diagnostics()
    assert process_start_time(pid) != started, f"the container's init {pid} is still alive"
    assert container_id not in docker.ok("ps", "-aq", "--no-trunc")


def counter(pid):
    """The count the container's loop writes to /tmp/count, read from the host."""

    def read():
        try:
            text = Path(f"/proc/{pid}/root/tmp/count").read_text().strip()
        except OSError:
            return None
        return int(text) if text.isdigit() else None

    return wait_until(read, timeout=5)


# Renamed into place, so that a freeze never catches the file half-written.
COUNTER = "i=0; while :; do i=$((i+1)); echo $i > /tmp/count.new; mv /tmp/count.new /tmp/count; sleep 0.05; done"


def run_on_pty(argv, env, timeout=COMMAND_TIMEOUT):
    """Run argv with a pty as its controlling terminal, stdin and stdout;
    return (exit status, everything it wrote)."""
    pid, master = pty.fork()
    if pid == 0:  # the child: nothing but exec
        try:
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    output = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], deadline - time.monotonic())
            if not ready:
                continue
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: every slave descriptor is closed
                break
            if not chunk:
                break
            output += chunk
        else:
            os.kill(pid, signal.SIGKILL)
    finally:
        os.close(master)
        _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), output.decode(errors="replace")


# ---------------------------------------------------------------------------
# Configuration


def test_shipped_daemon_json_names_the_installed_ward():
    config = json.loads(SHIPPED_DAEMON_JSON.read_text())
    assert config == {"runtimes": {"ward": {"path": INSTALLED_WARD}}}


def test_dockerd_knows_ward_from_daemon_json_and_add_runtime(docker):
    runtimes = json.loads(docker.ok("info", "--format", "{{json .Runtimes}}"))
    assert runtimes["ward"]["path"] == WARD_BINARY, runtimes  # from --config-file
    assert runtimes["ward-cli"]["path"] == WARD_BINARY, runtimes  # from --add-runtime
    assert docker.ok("info", "--format", "{{.CgroupDriver}}").strip() == "cgroupfs"


# ---------------------------------------------------------------------------
# docker run


def test_run_prints_and_shows_wards_hardening(docker, containers):
    # Docker's masked paths that this kernel has: each must read empty.
    masked = [p for p in DOCKER_MASKED_PATHS if os.path.exists(p)]
    script = (
        "echo hello-from-ward; hostname; grep memory /proc/self/cgroup; "
        "grep -E '^(NoNewPrivs|Seccomp|CapBnd|CapEff):' /proc/self/status; "
        f"for p in {' '.join(masked)}; do "
        '  if [ -d $p ]; then echo $p=$(ls -A $p | wc -l); else echo $p=$(wc -c < $p); fi; '
        "done; "
        "echo x 2>/dev/null > /proc/sys/kernel/hostname && echo proc-sys-writable || echo proc-sys-read-only; "
        "touch /sys/fs/cgroup/x 2>/dev/null && echo cgroupfs-writable || echo cgroupfs-read-only"
    )
    result = containers.run(script, "--security-opt", "no-new-privileges")
    assert result.returncode == 0, f"{result.stderr}\n{docker.diagnostics()}"
    lines = result.stdout.splitlines()
    assert lines[0] == "hello-from-ward"
    hostname = lines[1]
    memory = re.fullmatch(r"\d+:memory:(.*)/([0-9a-f]{64})", lines[2])
    assert memory, f"no memory cgroup line: {lines[2]!r}"
    assert memory.group(1) == CGROUP_PARENT, "the container's cgroup is not beneath our parent"
    assert hostname == memory.group(2)[:12], "the hostname is not the container's short id"
    status = dict(line.split(":\t") for line in lines[3:7])
    assert status == {"NoNewPrivs": "1", "Seccomp": "2", "CapBnd": DOCKER_DEFAULT_CAPS, "CapEff": DOCKER_DEFAULT_CAPS}
    assert lines[7:] == [f"{p}=0" for p in masked] + ["proc-sys-read-only", "cgroupfs-read-only"]


def test_run_image_default_command_and_exit_status(docker, containers, image):
    name = containers.new_name()
    out = docker.ok("run", "--rm", "--runtime", "ward", "--network", "none", "--name", name, image)
    assert out.strip() == IMAGE_OUTPUT
    result = containers.run("echo to-stderr >&2; exit 3")
    assert (result.returncode, result.stderr.strip()) == (3, "to-stderr")


def test_run_through_add_runtime(docker, containers):
    result = containers.run("echo via-add-runtime", runtime="ward-cli")
    assert result.returncode == 0, f"{result.stderr}\n{docker.diagnostics()}"
    assert result.stdout.splitlines()[0] == "via-add-runtime"


def test_container_is_run_by_ward(docker, containers):
    """dockerd's runc shim runs the binary of the runtime, with --root under
    dockerd's exec-root: ward's own `state` reads the container there."""
    name, container_id, pid = containers.detached("sleep 1000")
    assert docker.inspect(name, "{{.HostConfig.Runtime}}") == "ward"
    state_dirs = [d for d in docker.ward_state_dirs() if d.name == container_id]
    assert len(state_dirs) == 1, f"no ward state directory: {docker.ward_state_dirs()}"
    root = state_dirs[0].parent
    result = subprocess.run([WARD_BINARY, "--root", root, "state", container_id], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    state = json.loads(result.stdout)
    assert (state["id"], state["status"], state["pid"]) == (container_id, "running", pid)
    assert f":{CGROUP_PARENT}/{container_id}" in read_proc(pid, "cgroup").decode()


# ---------------------------------------------------------------------------
# A running container: exec, top, pause, update, limits


def test_exec(docker, containers):
    name, container_id, _ = containers.detached("sleep 1000")
    out = docker.ok("exec", name, "sh", "-c", "echo exec-ok; hostname; grep memory /proc/self/cgroup")
    lines = out.splitlines()
    assert lines[:2] == ["exec-ok", container_id[:12]], out
    assert lines[2].endswith(f":memory:{CGROUP_PARENT}/{container_id}"), "exec did not join the container's cgroup"
    assert docker("exec", name, "sh", "-c", "exit 7").returncode == 7
    assert docker.ok("exec", "-u", "65534", name, "id", "-u").strip() == "65534"
    out = docker.ok("exec", "-w", "/tmp", "-e", "GREETING=hi", name, "sh", "-c", "pwd; echo $GREETING")
    assert out.split() == ["/tmp", "hi"]


def test_top(docker, containers):
    name, _, pid = containers.detached("sleep 1000")
    docker.ok("exec", "-d", name, "sleep", "999")
    shown = wait_until(lambda: "sleep 999" in docker.ok("top", name), timeout=5)
    top = docker.ok("top", name)
    assert shown, top
    rows = [line.split() for line in top.splitlines()[1:]]
    assert str(pid) in [row[1] for row in rows], top
    assert any(line.endswith("sleep 1000") for line in top.splitlines()), top


def test_pause_and_unpause(docker, containers):
    name, container_id, pid = containers.detached(COUNTER)
    assert counter(pid) is not None
    docker.ok("pause", name)
    assert docker.status(name) == "paused"
    assert frozen_on_host(container_id)
    frozen_at = counter(pid)
    assert frozen_at is not None
    time.sleep(0.5)
    assert counter(pid) == frozen_at, "the counter went on while paused"
    docker.ok("unpause", name)
    assert docker.status(name) == "running"
    assert not frozen_on_host(container_id)
    assert wait_until(lambda: (counter(pid) or 0) > frozen_at, timeout=5), "the counter did not resume"


def test_update_memory(docker, containers):
    name, container_id, _ = containers.detached("sleep 1000")
    docker.ok("update", "--memory", "64m", "--memory-swap", "64m", name)
    limit = container_cgroup_file(container_id, "memory", "memory.limit_in_bytes", "memory.max")
    assert read_int(limit) == 64 * MiB
    if limit.name == "memory.limit_in_bytes":
        swap = limit.with_name("memory.memsw.limit_in_bytes")
        if swap.exists():
            assert read_int(swap) == 64 * MiB
        inside = docker.ok("exec", name, "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes")
        assert int(inside) == 64 * MiB
    else:
        assert read_int(limit.with_name("memory.swap.max")) == 0
    assert docker.inspect(name, "{{.HostConfig.Memory}}") == str(64 * MiB)


def test_memory_and_pids_limits_at_run_time(docker, containers):
    name, container_id, _ = containers.detached("sleep 1000", "--memory", "32m", "--pids-limit", "20")
    memory = container_cgroup_file(container_id, "memory", "memory.limit_in_bytes", "memory.max")
    pids_max = container_cgroup_file(container_id, "pids", "pids.max", "pids.max")
    assert read_int(memory) == 32 * MiB
    assert read_int(pids_max) == 20
    if memory.name == "memory.limit_in_bytes":  # the container's own view on v1
        files = ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/pids/pids.max")
        inside = docker.ok("exec", name, "cat", *files)
        assert inside.split() == [str(32 * MiB), "20"]
    # The limit holds: 30 more processes cannot all start (the shell gives
    # up at the first fork the kernel refuses).
    result = docker("exec", name, "sh", "-c", "n=0; while [ $n -lt 30 ]; do sleep 60 & n=$((n+1)); echo $n; done")
    assert len(result.stdout.split()) < 30, result
    assert "fork" in result.stderr, result
    assert read_int(pids_max.with_name("pids.current")) <= 20


# ---------------------------------------------------------------------------
# Stopping, killing, removing


def test_stop_exits_in_time(docker, containers):
    name, container_id, pid = containers.detached(
        "trap 'echo got-TERM; exit 0' TERM; echo ready; while :; do sleep 0.1; done", ready="ready"
    )
    started = process_start_time(pid)
    began = time.monotonic()
    docker.ok("stop", "-t", "10", name)
    assert time.monotonic() - began < 5, "docker stop waited for its timeout: SIGTERM was not delivered"
    assert docker.inspect(name, "{{.State.Status}} {{.State.ExitCode}}") == "exited 0"
    assert "got-TERM" in docker.ok("logs", name)
    assert process_start_time(pid) != started


def test_stop_kills_what_ignores_sigterm(docker, containers):
    name, _, pid = containers.detached("trap '' TERM; echo ready; while :; do sleep 0.1; done", ready="ready")
    started = process_start_time(pid)
    began = time.monotonic()
    docker.ok("stop", "-t", "1", name)
    assert time.monotonic() - began < 8
    assert docker.inspect(name, "{{.State.Status}} {{.State.ExitCode}}") == "exited 137"
    assert process_start_time(pid) != started


def test_kill_mid_run(docker, containers):
    name, container_id, pid = containers.detached(COUNTER)
    started = process_start_time(pid)
    assert counter(pid) is not None
    docker.ok("kill", name)
    assert wait_until(lambda: docker.status(name) == "exited", timeout=10)
    assert docker.inspect(name, "{{.State.ExitCode}}") == "137"
    # Docker keeps the exited container, but its task is deleted: ward's
    # state and the cgroups go now, the mounts with `docker rm`.
    def task_gone():
        cgroups = [d / container_id for d in parent_dirs() if (d / container_id).exists()]
        return not cgroups and not [d for d in docker.ward_state_dirs() if d.name == container_id]

    assert wait_until(task_gone, timeout=10), (docker.ward_state_dirs(), parent_dirs())
    assert process_start_time(pid) != started
    docker.ok("rm", name)
    assert_cleaned_up(docker, container_id, pid, started)


def test_rm_force_running(docker, containers):
    name, container_id, pid = containers.detached(COUNTER)
    started = process_start_time(pid)
    began = time.monotonic()
    docker.ok("rm", "-f", name)
    assert time.monotonic() - began < 10
    assert_cleaned_up(docker, container_id, pid, started)


def test_rm_force_paused(docker, containers):
    name, container_id, pid = containers.detached(COUNTER)
    started = process_start_time(pid)
    docker.ok("pause", name)
    assert docker.status(name) == "paused"
    began = time.monotonic()
    docker.ok("rm", "-f", name)
    assert time.monotonic() - began < 10
    assert_cleaned_up(docker, container_id, pid, started)


def test_failed_create_shows_wards_message_and_leaves_nothing(docker, containers, image):
    name = containers.new_name()
    result = docker("run", "--runtime", "ward", "--network", "none", "--name", name, image, "/no/such/binary")
    assert result.returncode != 0
    # The shim passes on the last error line of ward's JSON log.
    assert 'OCI runtime create failed: exec: "/no/such/binary": stat /no/such/binary:' in result.stderr, result.stderr
    assert "no such file or directory" in result.stderr.lower(), result.stderr
    assert docker.status(name) == "created"
    docker.ok("rm", name)
    assert wait_until(lambda: not docker.leftovers(), timeout=10), docker.leftovers()


def test_missing_or_unexecutable_command_exits_127_or_126_as_with_runc(docker, containers, image):
    """Docker's convention: 127 when the command is not found, 126 when it
    cannot be executed (dockerd records these as the exit code, and so does
    the CLI's own status)."""
    for command, expected in (("/no/such/binary", 127), ("/etc/passwd", 126)):
        name = containers.new_name()
        result = docker("run", "--runtime", "ward", "--network", "none", "--name", name, image, command)
        assert docker.inspect(name, "{{.State.ExitCode}}") == str(expected), result.stderr
        assert result.returncode == expected, result.stderr


def test_engines_log_no_ward_errors(docker, containers):
    """Over a container's life and its removal (also by force, also paused),
    the shim runs ward a dozen times; none of these may fail.  The shim logs a
    failure to containerd's log as `<path> did not terminate successfully:
    exit status N: <stderr>`, and ward's stderr starts with "ward:".  (The
    shim's cleanup of a dead shim sometimes reports an empty "exit status
    255" with runc as well: that is the engines' own race, not ward's.)"""
    seen = len(docker.containerd_log.read_text(errors="replace").splitlines())
    assert containers.run("true").returncode == 0
    for pause in (False, True):
        name, _, _ = containers.detached("sleep 1000")
        docker.ok("exec", name, "true")
        if pause:
            docker.ok("pause", name)
        docker.ok("rm", "-f", name)

    def new_lines():
        return docker.containerd_log.read_text(errors="replace").splitlines()[seen:]

    # The shims clean up after they disconnect, a moment after docker returns.
    wait_until(lambda: sum("cleaning up dead shim" in line for line in new_lines()) >= 3, timeout=5)
    failed = re.compile(r"did not terminate successfully: exit status \d+: ward:")
    failures = [line for line in new_lines() if failed.search(line)]
    assert not failures, "ward failed under the shim:\n" + "\n".join(failures)


# ---------------------------------------------------------------------------
# Terminals


def test_run_with_a_tty(docker, containers):
    argv = [DOCKER, *containers.run_argv("-t", "--rm", script="tty; [ -t 1 ] && echo is-a-tty")]
    status, output = run_on_pty(argv, docker.env)
    assert status == 0, f"{output}\n{docker.diagnostics()}"
    # The container's pty turns "\n" into "\r\n", and ours does it again.
    lines = [line.rstrip("\r") for line in output.split("\n")]
    assert re.fullmatch(r"/dev/pts/\d+", lines[0]), output
    assert lines[1] == "is-a-tty", output


def test_exec_with_a_tty(docker, containers):
    name, _, _ = containers.detached("sleep 1000")
    status, output = run_on_pty([DOCKER, "exec", "-t", name, "sh", "-c", "tty; [ -t 1 ] && echo is-a-tty"], docker.env)
    assert status == 0, f"{output}\n{docker.diagnostics()}"
    lines = [line.rstrip("\r") for line in output.split("\n")]
    assert re.fullmatch(r"/dev/pts/\d+", lines[0]) and lines[1] == "is-a-tty", output
