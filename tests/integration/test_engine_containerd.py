"""ward under containerd: the runc shim (io.containerd.runc.v2) driving ward as
its runc, as `ctr run --runc-binary ward` and a Kubernetes node configured with
contrib/containerd/config.toml do.

One containerd per module, with everything of its own in a temporary
directory: root, state, sockets, the shim's --root for ward, the IO fifos.
The CRI plugin is disabled (ctr does not need it), so nothing touches the
host's network.  Each container's cgroup is beneath our own memory cgroup.
Every test removes its containers, tasks and snapshots even when it fails, and
fails if ward left state, a cgroup, a mount or a process behind.

The contrib files (containerd snippet, RuntimeClass, pod) are checked against
each other, and the snippet is loaded by containerd itself.
"""

import fnmatch
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import tomllib
import uuid
from pathlib import Path

import pytest

from conftest import WARD_BINARY, wait_until
from engine_image import IMAGE_OUTPUT, engine_image_archive, own_cgroup_parent  # noqa: F401 (a fixture)

TOP = Path(__file__).resolve().parents[2]
CONTRIB_CONFIG = TOP / "contrib" / "containerd" / "config.toml"
RUNTIMECLASS = TOP / "contrib" / "kubernetes" / "runtimeclass.yaml"
POD = TOP / "contrib" / "kubernetes" / "pod.yaml"
CRI_RUNTIMES = ("plugins", "io.containerd.grpc.v1.cri", "containerd", "runtimes")

NAMESPACE = "ward-test"
CGROUP_NAME = "ward-ctr-test"
CTR_TIMEOUT = 30
TOOLS = ("containerd", "ctr", "containerd-shim-runc-v2")
# Snapshotters that cannot work here and would only try to load kernel modules.
DISABLED_PLUGINS = [
    "io.containerd.grpc.v1.cri",
    "io.containerd.snapshotter.v1.aufs",
    "io.containerd.snapshotter.v1.btrfs",
    "io.containerd.snapshotter.v1.devmapper",
    "io.containerd.snapshotter.v1.zfs",
]


# ---------------------------------------------------------------------------
# The contrib snippet


def contrib_runtimes():
    """{name: runtime table} of the CRI runtimes contrib/containerd/config.toml registers."""
    table = tomllib.loads(CONTRIB_CONFIG.read_text())
    for key in CRI_RUNTIMES:
        table = table.get(key, {})
    return table


def toml_value(value):
    # JSON strings, booleans, numbers and arrays of them are valid TOML.
    return json.dumps(value)


def toml_table(header, entries):
    lines = [f"[{header}]"]
    lines += [f"  {key} = {toml_value(value)}" for key, value in entries.items() if not isinstance(value, dict)]
    return "\n".join(lines) + "\n"


def daemon_config(tmp, ward_root):
    """containerd's config: everything in `tmp`, plus contrib's runtime with
    this tree's ward and a --root for ward in `tmp`."""
    text = f"""version = 2
root = {toml_value(str(tmp / "root"))}
state = {toml_value(str(tmp / "state"))}
disabled_plugins = {toml_value(DISABLED_PLUGINS)}

[grpc]
  address = {toml_value(str(tmp / "containerd.sock"))}
[ttrpc]
  address = {toml_value(str(tmp / "containerd.sock.ttrpc"))}
[debug]
  level = "debug"
[plugins."io.containerd.internal.v1.opt"]
  path = {toml_value(str(tmp / "opt"))}
"""
    prefix = 'plugins."io.containerd.grpc.v1.cri".containerd.runtimes'
    for name, runtime in contrib_runtimes().items():
        options = dict(runtime.get("options", {}), BinaryName=WARD_BINARY, Root=str(ward_root))
        text += "\n" + toml_table(f"{prefix}.{name}", runtime)
        text += toml_table(f"{prefix}.{name}.options", options)
    return text


# ---------------------------------------------------------------------------
# What a container may leave on the host


def cgroup_mounts():
    """Mount points of the host's cgroup hierarchies (v1 controllers, cgroup2)."""
    mounts = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        fstype = line.partition(" - ")[2].split()[0]
        if fstype in ("cgroup", "cgroup2"):
            mounts.append(Path(fields[4]))
    return mounts


def in_cgroup(proc_self_cgroup_lines, path):
    """Whether /proc/self/cgroup (as lines) puts the process in `path` (in
    the memory hierarchy, or the unified one on a cgroup v2 host)."""
    return any(line.endswith(":" + path) for line in proc_self_cgroup_lines)


def cgroup_dirs(path):
    """Where the cgroup `path` exists, in every hierarchy."""
    return [mount / path.lstrip("/") for mount in cgroup_mounts() if (mount / path.lstrip("/")).is_dir()]


def pids_in_cgroup(path):
    found = set()
    for directory in cgroup_dirs(path):
        for procs in [directory / "cgroup.procs", *directory.glob("**/cgroup.procs")]:
            try:
                found.update(int(p) for p in procs.read_text().split())
            except OSError:
                pass
    return sorted(found)


def start_time(pid):
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return None if fields[0] in ("Z", "X") else int(fields[19])


def pids_with_cmdline(*fragments):
    """Live processes whose command line contains every fragment (bytes)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            line = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if all(f in line for f in fragments) and start_time(int(entry)) is not None:
            found.append(int(entry))
    return found


def freezer_state(path):
    """FROZEN or THAWED from the v1 freezer, or from cgroup.freeze on cgroup v2."""
    for directory in cgroup_dirs(path):
        if (directory / "freezer.state").exists():
            return (directory / "freezer.state").read_text().strip()
    for directory in cgroup_dirs(path):
        if (directory / "cgroup.freeze").exists():
            return "FROZEN" if (directory / "cgroup.freeze").read_text().strip() == "1" else "THAWED"
    return None


# ---------------------------------------------------------------------------
# The daemon


class Containerd:
    def __init__(self, tmp):
        self.tmp = tmp
        self.address = tmp / "containerd.sock"
        self.ward_root = tmp / "ward-root"
        self.fifo_dir = tmp / "fifo"
        self.config = tmp / "config.toml"
        self.log = tmp / "containerd.log"
        self.process = None
        self.image = None

    def ctr(self, *args, timeout=CTR_TIMEOUT):
        """`ctr -a SOCK -n ward-test ARGS...`: a text CompletedProcess (exit
        124 when it hung).  Output goes through files: nothing a container
        starts can hold them open."""
        argv = ["ctr", "-a", str(self.address), "-n", NAMESPACE, *map(str, args)]
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            try:
                proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, timeout=timeout)
            except subprocess.TimeoutExpired:
                return subprocess.CompletedProcess(argv, 124, "", f"ctr hung for {timeout}s (killed)")
            out.seek(0)
            err.seek(0)
            return subprocess.CompletedProcess(
                argv, proc.returncode, out.read().decode(errors="replace"), err.read().decode(errors="replace")
            )

    def ctr_ok(self, *args, timeout=CTR_TIMEOUT):
        result = self.ctr(*args, timeout=timeout)
        assert result.returncode == 0, (
            f"{' '.join(result.args)} exited {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
            f"\n{self.log_tail()}"
        )
        return result.stdout

    def log_tail(self, lines=30):
        try:
            text = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "containerd log (last lines):\n" + "\n".join(text[-lines:])

    def start(self):
        self.fifo_dir.mkdir()
        self.ward_root.mkdir()
        self.config.write_text(daemon_config(self.tmp, self.ward_root))
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                ["containerd", "--config", str(self.config)], stdin=subprocess.DEVNULL, stdout=log, stderr=log
            )
        ready = wait_until(
            lambda: self.process.poll() is not None or self.ctr("version", timeout=5).returncode == 0, timeout=30
        )
        assert ready and self.process.poll() is None, f"containerd did not start\n{self.log_tail()}"

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)

    def task_status(self, container_id):
        """(pid, STATUS) of the task from `ctr task ls`, or None."""
        for line in self.ctr("task", "ls").stdout.splitlines()[1:]:
            fields = line.split()
            if fields and fields[0] == container_id:
                return int(fields[1]), fields[2]
        return None

    def shims(self, container_id=None):
        """Shim processes this daemon started (for one container, or all)."""
        fragments = [str(self.address).encode()]
        if container_id:
            fragments.append(b"\0" + container_id.encode() + b"\0")
        return [pid for pid in pids_with_cmdline(b"containerd-shim", *fragments)]


def require_containerd():
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        reason = f"containerd is not installed ({', '.join(missing)} missing; Debian package: containerd)"
        print(f"SKIP: {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="module")
def containerd(tmp_path_factory, engine_image_archive):  # noqa: F811 (the fixture imported above)
    require_containerd()
    # Cgroup directories above the containers' that exist now are not ours to remove.
    parent = own_cgroup_parent(CGROUP_NAME)
    ancestors = [parent]
    while os.path.dirname(ancestors[-1]) not in ("/", ""):
        ancestors.append(os.path.dirname(ancestors[-1]))
    existing = {str(d) for a in ancestors for d in cgroup_dirs(a)}

    daemon = Containerd(tmp_path_factory.mktemp("containerd"))
    try:
        daemon.start()
        daemon.ctr_ok("images", "import", engine_image_archive.archive, timeout=60)
        daemon.image = engine_image_archive.name
        yield daemon
    finally:
        for line in (daemon.ctr("containers", "ls", "-q").stdout.split() if daemon.process else []):
            remove_container(daemon, line)
        daemon.stop()
        for pid in daemon.shims():  # a shim of a task that could not be deleted
            os.kill(pid, signal.SIGKILL)
        for ancestor in ancestors:  # deepest first
            for directory in cgroup_dirs(ancestor):
                if str(directory) not in existing:
                    try:
                        directory.rmdir()
                    except OSError:
                        pass


def remove_container(daemon, container_id):
    """Everything ctr can do to be rid of a container, whatever state it is in."""
    daemon.ctr("task", "resume", container_id)  # a frozen task would not die
    daemon.ctr("task", "kill", "-s", "SIGKILL", container_id)
    wait_until(lambda: (daemon.task_status(container_id) or (0, "STOPPED"))[1] == "STOPPED", timeout=5)
    if daemon.ctr("task", "delete", container_id).returncode != 0:
        daemon.ctr("task", "delete", "--force", container_id)
    daemon.ctr("containers", "delete", container_id)
    daemon.ctr("snapshots", "rm", container_id)


class Containers:
    """Runs containers with ward (ctr run --runc-binary) and remembers them."""

    def __init__(self, daemon):
        self.daemon = daemon
        self.ids = []
        self.pids = {}  # pid -> start time, of every container process seen

    def new_id(self):
        container_id = f"wc-{uuid.uuid4().hex[:10]}"
        self.ids.append(container_id)
        return container_id

    @staticmethod
    def cgroup(container_id):
        return own_cgroup_parent(f"{CGROUP_NAME}/{container_id}")

    def run_args(self, container_id, *options, runtime_options=None):
        runtime_options = runtime_options or ["--runc-binary", WARD_BINARY]
        return [
            "run",
            *options,
            "--fifo-dir", self.daemon.fifo_dir,
            *runtime_options,
            "--runc-root", self.daemon.ward_root,
            "--cgroup", self.cgroup(container_id),
            self.daemon.image,
            container_id,
        ]  # fmt: skip

    def run(self, *command, options=("--rm",), runtime_options=None):
        """`ctr run` in the foreground: the CompletedProcess."""
        container_id = self.new_id()
        args = self.run_args(container_id, *options, runtime_options=runtime_options)
        return self.daemon.ctr(*args, *command)

    def start(self, *command):
        """`ctr run -d`: the container's id, once its task is RUNNING."""
        container_id = self.new_id()
        self.daemon.ctr_ok(*self.run_args(container_id, "-d", "--null-io"), *command)
        status = wait_until(lambda: self.daemon.task_status(container_id))
        assert status and status[1] == "RUNNING", f"task {container_id}: {status}"
        self.remember(status[0])
        return container_id

    def remember(self, pid):
        started = start_time(pid)
        if started is not None:
            self.pids[pid] = started

    def task_pids(self, container_id):
        lines = self.daemon.ctr_ok("task", "ps", container_id).splitlines()
        assert lines and lines[0].split()[:2] == ["PID", "INFO"], f"task ps printed {lines!r}"
        pids = [int(line.split()[0]) for line in lines[1:] if line.strip()]
        for pid in pids:
            self.remember(pid)
        return pids

    def leftovers(self, container_id):
        """What ward, the shim or containerd left of a deleted container."""
        found = []
        daemon = self.daemon
        if (daemon.ward_root / NAMESPACE / container_id).exists():
            found.append(f"ward state {daemon.ward_root / NAMESPACE / container_id}")
        found += [f"cgroup {d}" for d in cgroup_dirs(self.cgroup(container_id))]
        bundle = daemon.tmp / "state" / "io.containerd.runtime.v2.task" / NAMESPACE / container_id
        mounts = Path("/proc/self/mountinfo").read_text().splitlines()
        found += [f"mount {line}" for line in mounts if str(bundle) in line]
        if bundle.exists():
            found.append(f"bundle {bundle}")
        found += [f"container process {pid}" for pid in pids_in_cgroup(self.cgroup(container_id))]
        shims = daemon.shims(container_id)
        found += [f"shim {pid}" for pid in shims]
        named = pids_with_cmdline(b"\0" + container_id.encode() + b"\0")
        found += [f"ward process {pid}" for pid in named if pid not in shims]
        if container_id in daemon.ctr("containers", "ls", "-q").stdout.split():
            found.append(f"container {container_id} in containerd")
        if container_id in daemon.ctr("snapshots", "ls").stdout.split():
            found.append(f"snapshot {container_id}")
        return found

    def all_leftovers(self):
        found = [item for container_id in self.ids for item in self.leftovers(container_id)]
        found += [
            f"process {pid} seen in a container" for pid, started in self.pids.items() if start_time(pid) == started
        ]
        return found

    def cleanup(self):
        for container_id in self.ids:
            remove_container(self.daemon, container_id)
        # The shim exits, and the kernel lets go of killed processes, shortly after.
        wait_until(lambda: not self.all_leftovers(), timeout=10)
        problems = self.all_leftovers()
        for pid, started in self.pids.items():
            if start_time(pid) == started:
                os.kill(pid, signal.SIGKILL)
        for container_id in self.ids:
            for shim in self.daemon.shims(container_id):
                os.kill(shim, signal.SIGKILL)
            for directory in reversed(cgroup_dirs(self.cgroup(container_id))):
                wait_until(lambda: not try_rmdir(directory), timeout=2)
        return problems


def try_rmdir(directory):
    try:
        directory.rmdir()
    except FileNotFoundError:
        pass
    except OSError:
        return True  # still there
    return False


@pytest.fixture
def containers(containerd):
    made = Containers(containerd)
    yield made
    problems = made.cleanup()
    assert not problems, "left behind after the test:\n" + "\n".join(problems)


def assert_gone(containers, container_id):
    """The deleted container left nothing (waiting for the shim to exit)."""
    wait_until(lambda: not containers.leftovers(container_id), timeout=10)
    left = containers.leftovers(container_id)
    assert not left, f"{container_id} left behind:\n" + "\n".join(left)


# ---------------------------------------------------------------------------
# Running containers


def test_run_prints_the_containers_output(containers):
    script = "grep NoNewPrivs /proc/self/status; hostname; cat /proc/self/cgroup"
    result = containers.run("sh", "-c", script)
    assert result.returncode == 0, f"ctr run failed: {result.stderr}\n{containers.daemon.log_tail()}"
    lines = result.stdout.splitlines()
    assert re.fullmatch(r"NoNewPrivs:\s+1", lines[0]), lines
    # ctr sets no hostname: the new UTS namespace starts with the host's.
    assert lines[1] == socket.gethostname(), lines
    assert in_cgroup(lines[2:], containers.cgroup(containers.ids[-1])), f"not in the cgroup asked for: {lines}"
    assert_gone(containers, containers.ids[-1])


def test_run_uses_the_images_default_command(containers):
    result = containers.run()
    assert result.returncode == 0, f"ctr run failed: {result.stderr}\n{containers.daemon.log_tail()}"
    assert result.stdout.strip() == IMAGE_OUTPUT


def test_running_container_is_where_the_leftover_checks_look(containers):
    """ward's state is in the --root the shim was given, and every check
    that a deleted container left nothing sees the running one."""
    container_id = containers.start("sleep", "1000")
    state = json.loads((containers.daemon.ward_root / NAMESPACE / container_id / "state.json").read_text())
    assert state, "ward's state.json is empty"
    seen = containers.leftovers(container_id)
    for kind in ("ward state", "cgroup", "mount", "bundle", "container process", "shim", "container ", "snapshot"):
        assert any(item.startswith(kind) for item in seen), f"a running container shows no {kind}: {seen}"


def test_task_exec_output(containers):
    container_id = containers.start("sleep", "1000")
    out = containers.daemon.ctr_ok(
        "task", "exec", "--fifo-dir", containers.daemon.fifo_dir, "--exec-id", "probe", container_id,
        "sh", "-c", "echo exec-ok; grep NoNewPrivs /proc/self/status; cat /proc/self/cgroup",
    )  # fmt: skip
    lines = out.splitlines()
    assert lines[0] == "exec-ok", lines
    assert re.fullmatch(r"NoNewPrivs:\s+1", lines[1]), lines
    assert in_cgroup(lines[2:], containers.cgroup(container_id)), f"exec ran outside the container's cgroup: {lines}"


def test_task_ps_lists_the_containers_processes(containers):
    # (busybox sh execs the last command of -c in place: hence the `wait`)
    container_id = containers.start("sh", "-c", "sleep 1000 & sleep 1000 & wait")
    init_pid, _ = containers.daemon.task_status(container_id)
    pids = wait_until(lambda: len(containers.task_pids(container_id)) == 3 and containers.task_pids(container_id))
    assert pids, f"task ps: {containers.task_pids(container_id)}, expected sh and two sleeps"
    assert init_pid in pids
    assert sorted(pids) == pids_in_cgroup(containers.cgroup(container_id))


def test_task_pause_and_resume(containers):
    container_id = containers.start("sleep", "1000")
    cgroup = containers.cgroup(container_id)
    containers.daemon.ctr_ok("task", "pause", container_id)
    assert containers.daemon.task_status(container_id)[1] == "PAUSED"
    assert freezer_state(cgroup) == "FROZEN"
    containers.daemon.ctr_ok("task", "resume", container_id)
    assert containers.daemon.task_status(container_id)[1] == "RUNNING"
    assert freezer_state(cgroup) == "THAWED"


def test_task_metrics(containers):
    container_id = containers.start("sleep", "1000")
    metrics = json.loads(containers.daemon.ctr_ok("task", "metrics", "--format", "json", container_id))
    assert metrics["pids"]["current"] >= 1, metrics
    assert "memory" in metrics and "cpu" in metrics, sorted(metrics)
    table = containers.daemon.ctr_ok("task", "metrics", container_id)
    assert "pids.current" in table, table


def test_kill_then_delete(containers):
    container_id = containers.start("sleep", "1000")
    daemon = containers.daemon
    daemon.ctr_ok("task", "kill", "-s", "SIGKILL", container_id)
    stopped = wait_until(lambda: daemon.task_status(container_id)[1] == "STOPPED")
    assert stopped, f"after SIGKILL: {daemon.task_status(container_id)}"
    daemon.ctr_ok("task", "delete", container_id)
    daemon.ctr_ok("containers", "delete", container_id)
    assert_gone(containers, container_id)


def test_create_error_reaches_the_user(containers):
    result = containers.run("/no/such/binary")
    assert result.returncode != 0, f"ctr run of a missing binary succeeded: {result.stdout}"
    # The shim shows the last {"level":"error","msg":...} line of ward's log.
    assert 'exec: "/no/such/binary"' in result.stderr, result.stderr
    assert "no such file or directory" in result.stderr.lower(), result.stderr
    assert_gone(containers, containers.ids[-1])


def test_exec_error_reaches_the_user(containers):
    container_id = containers.start("sleep", "1000")
    daemon = containers.daemon
    exec_args = ["--fifo-dir", daemon.fifo_dir, "--exec-id", "bad", container_id, "/no/such/binary"]
    result = daemon.ctr("task", "exec", *exec_args)
    assert result.returncode != 0, f"ctr task exec of a missing binary succeeded: {result.stdout}"
    assert 'exec: "/no/such/binary"' in result.stderr, result.stderr
    assert daemon.task_status(container_id)[1] == "RUNNING"


@pytest.mark.parametrize("how", ["kill-then-force-delete", "force-delete-running"])
def test_container_killed_mid_run_leaves_nothing(containers, how):
    container_id = containers.start("sh", "-c", "sleep 1000 & sleep 1000 & wait")
    daemon = containers.daemon
    daemon.ctr_ok(
        "task", "exec", "-d", "--fifo-dir", daemon.fifo_dir, "--exec-id", "busy", container_id, "sleep", "1000"
    )
    wait_until(lambda: len(containers.task_pids(container_id)) >= 4)
    if how == "kill-then-force-delete":
        daemon.ctr_ok("task", "kill", "-s", "KILL", container_id)
        stopped = wait_until(lambda: daemon.task_status(container_id)[1] == "STOPPED")
        assert stopped, f"after KILL: {daemon.task_status(container_id)}"
    daemon.ctr_ok("task", "delete", "--force", container_id)
    daemon.ctr_ok("containers", "rm", container_id)
    assert_gone(containers, container_id)
    alive = [pid for pid, started in containers.pids.items() if start_time(pid) == started]
    assert not alive, f"container processes still alive: {alive}"


# ---------------------------------------------------------------------------
# The configuration users copy


def test_contrib_snippet_registers_ward():
    runtimes = contrib_runtimes()
    assert "ward" in runtimes, f"{CONTRIB_CONFIG} registers {sorted(runtimes)}"
    ward = runtimes["ward"]
    assert ward["runtime_type"] == "io.containerd.runc.v2"
    assert ward["options"]["BinaryName"] == "/usr/local/bin/ward"
    assert ward["options"]["SystemdCgroup"] is False


def test_containerd_loads_the_contrib_snippet():
    """containerd decodes the snippet into its CRI config (a misspelt key
    would be dropped from the dump)."""
    require_containerd()
    result = subprocess.run(
        ["containerd", "--config", str(CONTRIB_CONFIG), "config", "dump"],
        capture_output=True, text=True, timeout=CTR_TIMEOUT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    dumped = tomllib.loads(result.stdout)
    for key in CRI_RUNTIMES:
        dumped = dumped[key]
    expected = contrib_runtimes()["ward"]
    assert dumped["ward"]["runtime_type"] == expected["runtime_type"]
    assert dumped["ward"]["pod_annotations"] == expected.get("pod_annotations", [])
    assert dumped["ward"]["options"] == expected["options"]


def test_container_through_the_configured_runtime(containers):
    """The snippet's runtime type and options, as ctr passes them (the CRI
    plugin reads the same table), with this tree's ward as BinaryName."""
    ward = contrib_runtimes()["ward"]
    runtime_options = ["--runtime", ward["runtime_type"], "--runc-binary", WARD_BINARY]
    if ward["options"].get("SystemdCgroup"):
        runtime_options.append("--runc-systemd-cgroup")
    result = containers.run(runtime_options=runtime_options)
    assert result.returncode == 0, f"ctr run failed: {result.stderr}\n{containers.daemon.log_tail()}"
    assert result.stdout.strip() == IMAGE_OUTPUT
    assert_gone(containers, containers.ids[-1])


def load_yaml(path):
    """PyYAML (python3-yaml) when installed, else a reader for the plain
    nested mappings these files use (lists are skipped)."""
    try:
        import yaml
    except ImportError:
        return read_plain_yaml(path.read_text())
    return yaml.safe_load(path.read_text())


def read_plain_yaml(text):
    root = {}
    stack = [(-1, root)]
    skip_deeper_than = None
    for raw in text.splitlines():
        line = raw.split(" #")[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        if skip_deeper_than is not None and indent > skip_deeper_than:
            continue
        skip_deeper_than = None
        if line.lstrip().startswith("- "):
            skip_deeper_than = indent
            continue
        key, _, value = line.strip().partition(":")
        while stack[-1][0] >= indent:
            stack.pop()
        if value.strip():
            stack[-1][1][key] = value.strip().strip("\"'")
        else:
            stack[-1][1][key] = {}
            stack.append((indent, stack[-1][1][key]))
    return root


def test_runtimeclass_handler_is_the_containerd_runtime():
    runtimeclass = load_yaml(RUNTIMECLASS)
    assert runtimeclass["apiVersion"] == "node.k8s.io/v1"
    assert runtimeclass["kind"] == "RuntimeClass"
    assert runtimeclass["metadata"]["name"] == "ward"
    assert runtimeclass["handler"] == "ward"
    assert runtimeclass["handler"] in contrib_runtimes(), f"no runtime {runtimeclass['handler']!r} in {CONTRIB_CONFIG}"


def test_pod_uses_the_runtimeclass_and_its_annotation_reaches_ward():
    pod = load_yaml(POD)
    runtimeclass = load_yaml(RUNTIMECLASS)
    assert pod["kind"] == "Pod"
    assert pod["spec"]["runtimeClassName"] == runtimeclass["metadata"]["name"]
    annotations = pod["metadata"]["annotations"]
    assert annotations["run.ward.policy"] == "agent-default"
    # CRI copies a pod annotation into config.json only when the runtime lists it.
    passed = contrib_runtimes()[runtimeclass["handler"]].get("pod_annotations", [])
    for name in annotations:
        assert any(fnmatch.fnmatchcase(name, pattern) for pattern in passed), f"{name} not in {passed}"
