"""Harness for ward's integration tests.

Every test gets a bundle (a copy of a busybox rootfs and a config.json written
from a Python dict) and a `ward` helper that runs the binary under test with a
state directory of its own.  Whatever a test creates is deleted afterwards,
also when the test fails, and the teardown fails the test if anything was
left behind: a state directory, a process still in the bundle, a mount of it.

The binary is $WARD_BINARY (default: ./ward at the top of the tree).  runc can
stand in for it (WARD_BINARY=/usr/sbin/runc): ward follows runc's names, flags,
outputs and exit codes.
"""

import copy
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

TOP = Path(__file__).resolve().parents[2]
WARD_BINARY = os.environ.get("WARD_BINARY", str(TOP / "ward"))
COMMAND_TIMEOUT = 30

# runc and ward both nest a relative cgroupsPath beneath their own cgroup; an
# absolute one would land at the roots of the host's hierarchies.
CGROUP_PARENT = "ward-test"

PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
GROUP = "root:x:0:\nnogroup:x:65534:\n"


# ward.conf for the whole run.  Most tests are about the runtime itself, so
# their containers run without a policy; the policy tests name theirs with
# the run.ward.policy annotation.  The profiles are the tree's, not the
# installed ones, and the audit log goes to a temporary directory.
POLICY_DIR = TOP / "policy-profiles"
POLICY_ANNOTATION = "run.ward.policy"
TEST_WARD_CONF = """\
default_policy = unconfined
allow_unconfined = true
policy_dir = {policy_dir}
audit_dir = {audit_dir}
"""


def pytest_configure(config):
    if os.geteuid() != 0:
        raise pytest.UsageError("ward's integration tests create containers: run them as root")
    if not os.access(WARD_BINARY, os.X_OK):
        raise pytest.UsageError(f"WARD_BINARY={WARD_BINARY} is not an executable (build ward, or point at runc)")
    # Every ward the run starts reads it, also through the engines' daemons.
    conf_dir = Path(tempfile.mkdtemp(prefix="ward-test-conf-"))
    (conf_dir / "ward.conf").write_text(TEST_WARD_CONF.format(policy_dir=POLICY_DIR, audit_dir=conf_dir / "audit"))
    os.environ["WARD_CONF"] = str(conf_dir / "ward.conf")
    os.environ.pop("WARD_POLICY_DIR", None)
    config.ward_conf_dir = conf_dir


def pytest_unconfigure(config):
    conf_dir = getattr(config, "ward_conf_dir", None)
    if conf_dir:
        shutil.rmtree(conf_dir, ignore_errors=True)


# ---------------------------------------------------------------------------
# The image and the base config


@pytest.fixture(scope="session")
def busybox_rootfs(tmp_path_factory):
    """A minimal rootfs built once: static busybox with all its applets in /bin."""
    rootfs = tmp_path_factory.mktemp("image") / "rootfs"
    bindir = rootfs / "bin"
    bindir.mkdir(parents=True)
    shutil.copy2("/bin/busybox", bindir / "busybox")
    applets = subprocess.run(["/bin/busybox", "--list"], check=True, capture_output=True, text=True).stdout.split()
    for applet in applets:
        if applet != "busybox":  # the list names busybox itself
            (bindir / applet).symlink_to("busybox")
    for name in ("proc", "sys", "dev", "tmp", "etc", "root", "run", "mnt"):
        (rootfs / name).mkdir(exist_ok=True)
    (rootfs / "tmp").chmod(0o1777)
    (rootfs / "etc" / "passwd").write_text(PASSWD)
    (rootfs / "etc" / "group").write_text(GROUP)
    return rootfs


def base_config(args):
    """Close to `runc spec`, but without a terminal and with a writable root."""
    caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    return {
        "ociVersion": "1.0.2-dev",
        "process": {
            "terminal": False,
            "user": {"uid": 0, "gid": 0},
            "args": list(args),
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            "cwd": "/",
            "capabilities": {kind: list(caps) for kind in ("bounding", "effective", "permitted", "ambient")},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": "rootfs", "readonly": False},
        "hostname": "ward-test",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {
                "destination": "/dev",
                "type": "tmpfs",
                "source": "tmpfs",
                "options": ["nosuid", "strictatime", "mode=755", "size=65536k"],
            },
            {
                "destination": "/dev/pts",
                "type": "devpts",
                "source": "devpts",
                "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
            },
            {
                "destination": "/dev/shm",
                "type": "tmpfs",
                "source": "shm",
                "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
            },
            {
                "destination": "/dev/mqueue",
                "type": "mqueue",
                "source": "mqueue",
                "options": ["nosuid", "noexec", "nodev"],
            },
            {
                "destination": "/sys",
                "type": "sysfs",
                "source": "sysfs",
                "options": ["nosuid", "noexec", "nodev", "ro"],
            },
        ],
        "linux": {
            "resources": {"devices": [{"allow": False, "access": "rwm"}]},
            "namespaces": [{"type": t} for t in ("pid", "ipc", "uts", "mount", "network")],
            "maskedPaths": [
                "/proc/acpi",
                "/proc/asound",
                "/proc/kcore",
                "/proc/keys",
                "/proc/latency_stats",
                "/proc/timer_list",
                "/proc/timer_stats",
                "/proc/sched_debug",
                "/sys/firmware",
                "/proc/scsi",
            ],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
        },
    }


def merge(config, changes):
    """Merge the dict `changes` into `config` in place: nested dicts merge,
    anything else (lists too) replaces."""
    for key, value in (changes or {}).items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            merge(config[key], value)
        else:
            config[key] = copy.deepcopy(value)
    return config


class Bundle:
    """A bundle directory: rootfs/ (a copy of the image) and config.json."""

    def __init__(self, path, image):
        self.path = path
        self.rootfs = path / "rootfs"
        path.mkdir(parents=True)
        shutil.copytree(image, self.rootfs, symlinks=True)
        self.config = base_config(["true"])

    @property
    def config_path(self):
        return self.path / "config.json"

    def add_mount(self, destination, type_="bind", source=None, options=None):
        mount = {"destination": destination, "type": type_, "source": str(source or type_)}
        if options is not None:
            mount["options"] = list(options)
        self.config["mounts"].append(mount)
        return mount

    def share(self, destination="/out", name="shared"):
        """A host directory beside the bundle, bind-mounted read-write at
        `destination`: how a test sees what the container did."""
        host_dir = self.path.parent / f"{name}-of-{self.path.name}"
        host_dir.mkdir(exist_ok=True)
        self.add_mount(destination, "bind", host_dir, ["rbind", "rw"])
        return host_dir

    def set_namespace(self, type_, path=None):
        namespaces = [ns for ns in self.config["linux"]["namespaces"] if ns["type"] != type_]
        namespaces.append({"type": type_, "path": str(path)} if path else {"type": type_})
        self.config["linux"]["namespaces"] = namespaces

    def write_config(self, container_id=None, text=None):
        """Write config.json, as JSON from self.config unless `text` is given.
        A container id gives the config its relative cgroupsPath."""
        if text is None:
            config = copy.deepcopy(self.config)
            if container_id is not None:
                config["linux"]["cgroupsPath"] = f"{CGROUP_PARENT}/{container_id}"
            text = json.dumps(config, indent=2)
        self.config_path.write_text(text)
        return self.config_path


# ---------------------------------------------------------------------------
# Processes, mounts, namespaces seen from the host


def process_start_time(pid):
    """The start time from /proc/PID/stat, or None for a dead or zombie process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def pid_alive(pid):
    return process_start_time(pid) is not None


def cmdline(pid):
    """/proc/PID/cmdline as bytes (NUL-separated), b"" once the process is gone."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def process_is_in(pid, bundle):
    """Whether the process's root or cwd is the bundle's rootfs or under the bundle."""
    try:
        rootfs = os.stat(bundle.rootfs)
    except OSError:
        return False
    for link in ("root", "cwd"):
        try:
            target = os.readlink(f"/proc/{pid}/{link}")
            st = os.stat(f"/proc/{pid}/{link}")
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == (rootfs.st_dev, rootfs.st_ino):
            return True
        if target == str(bundle.path) or target.startswith(str(bundle.path) + "/"):
            return True
    return False


def processes_in(bundle):
    pids = [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()]
    return [pid for pid in pids if pid_alive(pid) and process_is_in(pid, bundle)]


@dataclass
class Mount:
    mount_id: int
    parent_id: int
    root: str
    mount_point: str
    options: set
    propagation: list
    fstype: str
    source: str
    super_options: set


def unescape_mountinfo(field):
    return field.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")


def parse_mountinfo(text):
    mounts = []
    for line in text.splitlines():
        left, _, right = line.partition(" - ")
        fields = left.split()
        fstype, source, super_options = (right.split() + [""])[:3]
        mounts.append(
            Mount(
                mount_id=int(fields[0]),
                parent_id=int(fields[1]),
                root=unescape_mountinfo(fields[3]),
                mount_point=unescape_mountinfo(fields[4]),
                options=set(fields[5].split(",")),
                propagation=fields[6:],
                fstype=fstype,
                source=source,
                super_options=set(super_options.split(",")),
            )
        )
    return mounts


def mount_at(mounts, mount_point):
    """The mount visible at `mount_point`: the last one mounted there."""
    found = [m for m in mounts if m.mount_point == mount_point]
    assert found, f"nothing is mounted at {mount_point}: {[m.mount_point for m in mounts]}"
    return found[-1]


def host_mounts_naming(path):
    text = Path("/proc/self/mountinfo").read_text()
    return [line for line in text.splitlines() if str(path) in line]


def ns_link(name, pid="self"):
    """'net:[4026531840]'-style identity of a namespace."""
    return os.readlink(f"/proc/{pid}/ns/{name}")


def wait_until(predicate, timeout=10.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


# ---------------------------------------------------------------------------
# Driving the runtime


class Ward:
    """Runs WARD_BINARY with a per-test --root and remembers every container
    id the test used, so that the teardown can delete them."""

    def __init__(self, root, bundle):
        self.root = root
        self.bundle = bundle
        self.bundles = [bundle]
        self.ids = []
        self.pids = {}  # pid -> start time, from `state`
        # Run ward through these first (e.g. nsenter into a test network
        # namespace), with this environment (None: ours).
        self.argv_prefix = []
        self.env = None

    def __call__(self, *args, timeout=COMMAND_TIMEOUT, global_options=(), cwd=None):
        """Run `ward --root ROOT [global_options] ARGS...`; returns a text
        CompletedProcess.  Output goes through files, not pipes: a detached
        container inherits them and would otherwise hold a pipe open."""
        argv = [*self.argv_prefix, WARD_BINARY, "--root", str(self.root), *map(str, global_options), *map(str, args)]
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            proc = subprocess.run(
                argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, timeout=timeout, cwd=cwd, env=self.env
            )
            out.seek(0)
            err.seek(0)
            return subprocess.CompletedProcess(
                argv, proc.returncode, out.read().decode(errors="replace"), err.read().decode(errors="replace")
            )

    def new_id(self):
        container_id = f"wt-{uuid.uuid4().hex[:12]}"
        self.ids.append(container_id)
        return container_id

    def add_bundle(self, bundle):
        self.bundles.append(bundle)
        return bundle

    def create(self, bundle=None, *options, container_id=None):
        """`create` a container from `bundle` (default: the test's bundle),
        assert it worked and return its id."""
        bundle = bundle or self.bundle
        container_id = container_id or self.new_id()
        bundle.write_config(container_id)
        result = self("create", "--bundle", bundle.path, *options, container_id)
        assert result.returncode == 0, f"create failed ({result.returncode}): {result.stderr}"
        self.state(container_id)
        return container_id

    def state(self, container_id):
        result = self("state", container_id)
        assert result.returncode == 0, f"state {container_id} failed ({result.returncode}): {result.stderr}"
        state = json.loads(result.stdout)
        self.remember_pid(state.get("pid"))
        return state

    def remember_pid(self, pid):
        if pid:
            started = process_start_time(pid)
            if started is not None:
                self.pids[pid] = started

    def wait_for_status(self, container_id, status, timeout=10.0):
        reached = wait_until(lambda: self.state(container_id)["status"] == status, timeout)
        assert reached, f"{container_id} did not become {status}: {self.state(container_id)}"

    def run_container(self, args, config_changes=None, bundle=None, options=()):
        """`run` a container in the foreground with process.args = `args`
        (after applying `config_changes`); returns (exit code, stdout, stderr)."""
        bundle = bundle or self.bundle
        bundle.config["process"]["args"] = list(args)
        merge(bundle.config, config_changes)
        container_id = self.new_id()
        bundle.write_config(container_id)
        result = self("run", "--bundle", bundle.path, *options, container_id)
        return result.returncode, result.stdout, result.stderr

    def run_ok(self, script, config_changes=None, bundle=None):
        """Run `sh -c SCRIPT`, assert it exited 0 and return its stdout."""
        code, out, err = self.run_container(["sh", "-c", script], config_changes, bundle)
        assert code == 0, f"container exited {code}; stdout={out!r} stderr={err!r}"
        return out

    def leftovers(self, bundle=None):
        """What a failed or finished command may have left behind: state
        directories, processes in the bundle, mounts naming the bundle."""
        found = []
        if self.root.exists():
            # "@cache" holds compiled seccomp programs, not a container.
            found += [f"state directory {self.root / name}" for name in os.listdir(self.root) if name != "@cache"]
        for b in [bundle] if bundle else self.bundles:
            found += [f"process {pid} in {b.path}" for pid in processes_in(b)]
            found += [f"mount {line}" for line in host_mounts_naming(b.path)]
        for container_id in self.ids:
            found += [f"cgroup {d}" for d in container_cgroup_dirs(container_id)]
        return found

    def cleanup(self):
        """Delete every container the test used, and end by pid any of their
        processes that survived that.  Returns what had to be cleaned by force."""
        problems = []
        for container_id in self.ids:
            try:
                result = self("state", container_id)
                if result.returncode == 0:
                    try:
                        self.remember_pid(json.loads(result.stdout).get("pid"))
                    except ValueError:
                        problems.append(f"state {container_id} printed no JSON: {result.stdout!r}")
                self("delete", "--force", container_id)
            except subprocess.TimeoutExpired as timeout:
                problems.append(f"{' '.join(timeout.cmd)} hung for {timeout.timeout}s")
        survivors = []
        for pid, started in self.pids.items():
            if process_start_time(pid) == started and any(process_is_in(pid, b) for b in self.bundles):
                survivors.append(pid)
                problems.append(f"container process {pid} was still alive after delete --force")
        for bundle in self.bundles:
            for pid in processes_in(bundle):
                if pid not in survivors:
                    survivors.append(pid)
                    problems.append(f"process {pid} was still running in {bundle.path}")
        for pid in survivors:
            os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not any(pid_alive(pid) for pid in survivors))
        return problems

    def remove_cgroups(self):
        """Remove what the runtime left of the containers' cgroups: empty by
        now, or soon, once the kernel has let go of processes just killed."""

        def remove_all():
            for container_id in self.ids:
                for directory in container_cgroup_dirs(container_id):
                    try:
                        directory.rmdir()
                    except OSError:
                        pass
            return not any(container_cgroup_dirs(container_id) for container_id in self.ids)

        wait_until(remove_all, timeout=2.0)


@pytest.fixture
def make_bundle(tmp_path, busybox_rootfs):
    """Factory for more bundles in one test (`make_bundle("other")`)."""
    made = set()

    def make(name="bundle"):
        assert name not in made
        made.add(name)
        return Bundle(tmp_path / name, busybox_rootfs)

    return make


@pytest.fixture
def bundle(make_bundle):
    return make_bundle()


@pytest.fixture
def ward(tmp_path, bundle):
    runtime = Ward(tmp_path / "root", bundle)
    yield runtime
    problems = runtime.cleanup()
    problems += runtime.leftovers()
    runtime.remove_cgroups()
    assert not problems, "left behind after the test:\n" + "\n".join(problems)


def own_cgroup_dirs():
    """This process's cgroup directories, one per hierarchy (v1 and v2)."""
    dirs = []
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controllers:
            mounts = [Path("/sys/fs/cgroup") / c.replace("name=", "") for c in controllers.split(",")]
        else:
            mounts = [Path("/sys/fs/cgroup/unified"), Path("/sys/fs/cgroup")]
        for mount in mounts:
            candidate = Path(f"{mount}{path.rstrip('/')}")
            if candidate.is_dir() and (candidate / "cgroup.procs").exists():
                dirs.append(candidate)
                break
    return dirs


def container_cgroup_dirs(container_id):
    """Where a container's cgroup directories exist (should be nowhere once deleted)."""
    return [d / CGROUP_PARENT / container_id for d in own_cgroup_dirs() if (d / CGROUP_PARENT / container_id).exists()]


@pytest.fixture(scope="session", autouse=True)
def remove_test_cgroup_parents():
    """The runtime removes each container's cgroup; the parent directory it
    made for them beneath our own cgroups is ours to remove."""
    yield
    for own in own_cgroup_dirs():
        try:
            (own / CGROUP_PARENT).rmdir()
        except OSError:
            pass


def assert_error(result, *fragments):
    """ward's error contract: exit status 1 and exactly one line on stderr,
    `ward: <message>`, containing each fragment."""
    lines = result.stderr.splitlines()
    assert result.returncode == 1, f"expected exit 1, got {result.returncode}: {result.stderr!r}"
    assert len(lines) == 1, f"expected one error line on stderr, got {lines!r}"
    assert lines[0].startswith("ward: "), f"error line does not start with 'ward: ': {lines[0]!r}"
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
    return lines[0][len("ward: ") :]


# The network world of the egress tests: the net_world fixture.
from networld import net_world  # noqa: E402,F401
