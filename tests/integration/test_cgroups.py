"""Issue 4: the container's cgroups on this host.  ward places a container
beneath its own cgroup in every hierarchy (v1 controllers and the unified
cgroup2 mount of a hybrid host), writes the limits of linux.resources there,
and the kernel enforces them; update, pause/resume, ps, events, kill --all and
delete --force act on that cgroup.  Each behaviour is observed from inside the
container, in the cgroup files, or in what the CLI prints for an engine."""

import ctypes
import json
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import (
    CGROUP_PARENT,
    COMMAND_TIMEOUT,
    WARD_BINARY,
    assert_error,
    cmdline,
    container_cgroup_dirs,
    merge,
    pid_alive,
    wait_until,
)

MiB = 1024 * 1024
CGROUP_ROOT = Path("/sys/fs/cgroup")
UNIFIED = CGROUP_ROOT / "unified"

# A cgroup mount inside the container, as `runc spec` has it.
CGROUP_MOUNT = ("/sys/fs/cgroup", "cgroup", "cgroup", ["ro", "nosuid", "noexec", "nodev"])


# ---------------------------------------------------------------------------
# Helpers: where our cgroups are, where a container's are


def own_cgroup_lines():
    """[(hierarchy id, controllers field, path)] from /proc/self/cgroup."""
    lines = []
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        number, controllers, path = line.split(":", 2)
        lines.append((number, controllers, path))
    return lines


def own_path(controller):
    """Our path in the hierarchy carrying `controller` ("unified" for the
    cgroup2 line "0::")."""
    for _, controllers, path in own_cgroup_lines():
        if controller == "unified" and controllers == "":
            return path
        if controller in controllers.split(","):
            return path
    return None


def mount_of(controller):
    if controller == "unified":
        return UNIFIED if UNIFIED.is_dir() else CGROUP_ROOT
    return CGROUP_ROOT / controller.replace("name=", "")


def nested(own, container_id):
    """The path a relative cgroupsPath "ward-test/<id>" gets beneath `own`."""
    return f"{own.rstrip('/')}/{CGROUP_PARENT}/{container_id}"


def cg_dir(container_id, controller):
    """The container's directory in the hierarchy of `controller`."""
    own = own_path(controller)
    assert own is not None, f"this process is in no {controller} hierarchy"
    return Path(f"{mount_of(controller)}{nested(own, container_id)}")


def cg_read(container_id, controller, name):
    return (cg_dir(container_id, controller) / name).read_text().strip()


def keyed(text):
    """"key value" lines (memory.oom_control, cpu.stat, pids.events)."""
    values = {}
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        values[key] = value.strip()
    return values


def cgroup_procs(container_id, controller="pids"):
    text = cg_read(container_id, controller, "cgroup.procs")
    return sorted(int(p) for p in text.split())


def start(ward, bundle, args, resources=None, changes=None):
    """create + start a container running `args` with linux.resources
    merged with `resources`; returns (id, init pid)."""
    bundle.config["process"]["args"] = list(args)
    if resources:
        bundle.config["linux"]["resources"].update(resources)
    if changes:
        merge(bundle.config, changes)
    container_id = ward.create(bundle)
    result = ward("start", container_id)
    assert result.returncode == 0, f"start failed: {result.stderr}"
    return container_id, ward.state(container_id)["pid"]


def ward_with_input(ward, *args, text, timeout=COMMAND_TIMEOUT):
    """Run ward with `text` on its standard input (as containerd feeds
    `update --resources -`)."""
    argv = [WARD_BINARY, "--root", str(ward.root), *map(str, args)]
    return subprocess.run(argv, input=text, capture_output=True, text=True, timeout=timeout)


def read_int_file(path):
    """An integer a container keeps rewriting (`echo N > file`): None while
    the file is absent or caught between truncation and write."""
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def assert_nothing_left(ward, container_id):
    assert not container_cgroup_dirs(container_id), container_cgroup_dirs(container_id)
    assert not ward.leftovers(), ward.leftovers()


# ---------------------------------------------------------------------------
# Placement


def expected_lines(container_id):
    """/proc/<pid>/cgroup of a container: our own lines, each path with
    /ward-test/<id> appended."""
    return [f"{n}:{c}:{nested(p, container_id)}" for n, c, p in own_cgroup_lines()]


def test_container_sees_itself_beneath_our_cgroups_in_every_hierarchy(ward):
    out = ward.run_ok("cat /proc/self/cgroup")
    container_id = ward.ids[-1]
    lines = out.splitlines()
    assert sorted(lines) == sorted(expected_lines(container_id))
    unified = [line for line in lines if line.startswith("0::")]
    assert unified == [f"0::{nested(own_path('unified'), container_id)}"]
    memory = next(line for line in lines if line.split(":")[1] == "memory")
    assert memory.split(":", 2)[2].startswith(own_path("memory") + f"/{CGROUP_PARENT}/{container_id}")


def test_container_in_a_cgroup_namespace_sees_root_paths(ward, bundle):
    bundle.set_namespace("cgroup")
    out = ward.run_ok("cat /proc/self/cgroup")
    lines = [line.split(":", 2) for line in out.splitlines()]
    assert [(n, c) for n, c, _ in lines] == [(n, c) for n, c, _ in own_cgroup_lines()]
    assert all(path == "/" for _, _, path in lines), out


def test_host_sees_the_container_beneath_our_cgroups(ward, bundle):
    container_id, pid = start(ward, bundle, ["sleep", "100"])
    lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    assert sorted(lines) == sorted(expected_lines(container_id))
    for _, controllers, _ in own_cgroup_lines():
        controller = controllers.split(",")[0] if controllers else "unified"
        assert pid in cgroup_procs(container_id, controller), f"{pid} not in its {controller} cgroup"


# ---------------------------------------------------------------------------
# Memory

LIMIT_32M = {"memory": {"limit": 32 * MiB, "swap": 32 * MiB}}


def test_memory_limit_is_in_the_cgroup_and_visible_inside(ward, bundle):
    out = bundle.share()
    bundle.add_mount(*CGROUP_MOUNT)
    script = "cat /sys/fs/cgroup/memory/memory.limit_in_bytes > /out/limit; exec sleep 100"
    container_id, _ = start(ward, bundle, ["sh", "-c", script], LIMIT_32M)
    assert cg_read(container_id, "memory", "memory.limit_in_bytes") == str(32 * MiB)
    assert cg_read(container_id, "memory", "memory.memsw.limit_in_bytes") == str(32 * MiB)
    assert wait_until(lambda: read_int_file(out / "limit") is not None)
    assert read_int_file(out / "limit") == 32 * MiB


def test_process_allocating_past_the_limit_is_oom_killed(ward, bundle):
    """tail buffers 64 MiB without a newline: the OOM killer kills it; the
    container's shell, ward and the host carry on."""
    out = bundle.share()
    # The pipeline volunteers as the OOM killer's first choice, so that the
    # shell that reports on it is never the victim.
    script = (
        "(echo 1000 > /proc/self/oom_score_adj && head -c 64m /dev/zero | tail); "
        "echo $? > /out/status; exec sleep 100"
    )
    container_id, pid = start(ward, bundle, ["sh", "-c", script], LIMIT_32M)
    assert wait_until(lambda: read_int_file(out / "status") is not None or not pid_alive(pid), timeout=20)
    assert pid_alive(pid), f"the container's init died: {ward.state(container_id)}"
    assert read_int_file(out / "status") == 128 + 9, "the allocating process was not SIGKILLed"
    oom = keyed(cg_read(container_id, "memory", "memory.oom_control"))
    assert int(oom["oom_kill"]) >= 1, oom
    assert int(cg_read(container_id, "memory", "memory.max_usage_in_bytes")) <= 32 * MiB
    # The init survived (only the offender died) and ward still answers.
    assert wait_until(lambda: cmdline(pid) == b"sleep\x00100\x00")
    assert ward.state(container_id)["status"] == "running"


def test_tmpfs_writes_count_against_the_limit(ward):
    """/dev/shm (tmpfs, 64 MiB) is charged to the container: dd filling it
    past 32 MiB is killed, and `run` reports the kill."""
    args = ["dd", "if=/dev/zero", "of=/dev/shm/x", "bs=1M", "count=64"]
    code, _, err = ward.run_container(args, {"linux": {"resources": LIMIT_32M}})
    assert code == 128 + 9, f"dd was not killed: exit {code}, {err!r}"


PR_SET_CHILD_SUBREAPER = 36


def set_child_subreaper(on):
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1 if on else 0, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


@pytest.fixture
def reaper():
    """This test process as the child subreaper of what it starts, as an
    engine's shim is: a detached container's init becomes our child once
    `create` exits, and waitpid gives its exit status.  Yields the list of
    pids to reap at the end (after the `ward` fixture's teardown)."""
    set_child_subreaper(True)
    adopted = []
    try:
        yield adopted
    finally:
        set_child_subreaper(False)
        for pid in adopted:
            wait_until(lambda: reap(pid) is not None, timeout=5)


def parent_of(pid):
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rindex(")") + 2 :].split()[1])


def reap(pid):
    """The wait status of our child `pid` once it has ended, else None."""
    try:
        done, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return -1
    return status if done == pid else None


def start_events(ward, container_id, sink_path, *options):
    with open(sink_path, "wb") as sink:
        return subprocess.Popen(
            [WARD_BINARY, "--root", str(ward.root), "events", *options, container_id],
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


def stop_events(events):
    if events is not None and events.poll() is None:
        events.kill()
        events.wait()


def event_lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


# Waits for /out/go, so that `events` watches before the OOM; then the init
# itself (tail buffering /dev/zero) is what the OOM killer kills.
OOM_SCRIPT = "while [ ! -e /out/go ]; do sleep 0.05; done; exec tail /dev/zero"


def test_events_reports_the_oom_kill_and_the_init_dies_of_it(reaper, ward, bundle, tmp_path):
    out = bundle.share()
    container_id, pid = start(ward, bundle, ["sh", "-c", OOM_SCRIPT], LIMIT_32M)
    reaper.append(pid)
    assert parent_of(pid) == os.getpid(), "the init was not reparented to us (the subreaper)"
    events_out = tmp_path / "events.jsonl"
    events = start_events(ward, container_id, events_out, "--interval", "1s")
    try:
        assert wait_until(lambda: events_out.read_text().strip() != "", timeout=5), "events printed nothing"
        (out / "go").write_text("")
        status = wait_until(lambda: reap(pid), timeout=20)
        assert status is not None, "the init was not killed"
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == 9, f"wait status {status:#x}"
        assert events.wait(timeout=10) == 0, events_out.read_text()
    finally:
        stop_events(events)
    lines = event_lines(events_out)
    assert {"type": "oom", "id": container_id} in lines, [line["type"] for line in lines]
    stats = [line for line in lines if line["type"] == "stats"]
    assert stats and all(line["id"] == container_id for line in stats)
    assert stats[0]["data"]["memory"]["usage"]["limit"] == 32 * MiB
    assert ward.state(container_id)["status"] == "stopped"
    assert int(keyed(cg_read(container_id, "memory", "memory.oom_control"))["oom_kill"]) >= 1


def test_events_reports_the_oom_kill_that_ends_a_run_container(ward, bundle, tmp_path):
    """The same with `run`: run exits with the killed status (137) and
    removes the container at once; events must still report the OOM."""
    out = bundle.share()
    bundle.config["process"]["args"] = ["sh", "-c", OOM_SCRIPT]
    bundle.config["linux"]["resources"].update(LIMIT_32M)
    container_id = ward.new_id()
    bundle.write_config(container_id)
    result = {}

    def run():
        result["run"] = ward("run", "--bundle", bundle.path, container_id, timeout=30)

    runner = threading.Thread(target=run)
    runner.start()
    events_out = tmp_path / "events.jsonl"
    events = None
    try:
        assert wait_until(lambda: ward("state", container_id).returncode == 0, timeout=10)
        ward.wait_for_status(container_id, "running")
        events = start_events(ward, container_id, events_out, "--interval", "1s")
        assert wait_until(lambda: events_out.read_text().strip() != "", timeout=5), "events printed nothing"
        (out / "go").write_text("")
        runner.join(30)
        assert not runner.is_alive(), "run did not return"
        assert events.wait(timeout=10) == 0, events_out.read_text()
    finally:
        stop_events(events)
        runner.join(30)
    assert result["run"].returncode == 128 + 9, result["run"]
    lines = event_lines(events_out)
    assert {"type": "oom", "id": container_id} in lines, [line["type"] for line in lines]


# ---------------------------------------------------------------------------
# pids


def test_pids_limit_stops_a_fork_loop(ward, bundle):
    out = bundle.share()
    script = (
        "(for i in $(seq 1 50); do sleep 100 & done) 2>/out/errors; "
        "echo done > /out/done; exec sleep 100"
    )
    container_id, _ = start(ward, bundle, ["sh", "-c", script], {"pids": {"limit": 20}})
    assert cg_read(container_id, "pids", "pids.max") == "20"
    assert wait_until(lambda: (out / "done").exists(), timeout=15)
    errors = (out / "errors").read_text()
    assert "can't fork" in errors or "Resource temporarily unavailable" in errors, errors
    current = int(cg_read(container_id, "pids", "pids.current"))
    assert 10 <= current <= 20, current
    assert len(cgroup_procs(container_id)) <= 20
    events = keyed(cg_read(container_id, "pids", "pids.events"))
    assert int(events["max"]) >= 1, events


# ---------------------------------------------------------------------------
# cpu


def test_cpu_quota_period_and_shares_are_written_and_throttle(ward, bundle):
    resources = {"cpu": {"quota": 20000, "period": 100000, "shares": 512}}
    container_id, _ = start(ward, bundle, ["sh", "-c", "while :; do :; done"], resources)
    assert cg_read(container_id, "cpu", "cpu.cfs_quota_us") == "20000"
    assert cg_read(container_id, "cpu", "cpu.cfs_period_us") == "100000"
    assert cg_read(container_id, "cpu", "cpu.shares") == "512"
    # A busy loop at 20% of one CPU is throttled within a few periods.
    throttled = wait_until(
        lambda: int(keyed(cg_read(container_id, "cpu", "cpu.stat"))["nr_throttled"]) > 0, timeout=5
    )
    assert throttled, cg_read(container_id, "cpu", "cpu.stat")


# ---------------------------------------------------------------------------
# update


def limits(container_id):
    return (
        int(cg_read(container_id, "memory", "memory.limit_in_bytes")),
        cg_read(container_id, "pids", "pids.max"),
    )


def test_update_flags_change_a_running_container(ward, bundle):
    container_id, _ = start(ward, bundle, ["sleep", "100"], {"memory": {"limit": 32 * MiB}, "pids": {"limit": 20}})
    assert limits(container_id) == (32 * MiB, "20")
    result = ward("update", "--memory", "64m", "--pids-limit", "30", container_id)
    assert result.returncode == 0, result.stderr
    assert limits(container_id) == (64 * MiB, "30")
    assert ward.state(container_id)["status"] == "running"


def test_update_resources_from_stdin_as_containerd_sends_them(ward, bundle):
    container_id, _ = start(ward, bundle, ["sleep", "100"], {**LIMIT_32M, "pids": {"limit": 20}})
    resources = {
        "memory": {"limit": 96 * MiB, "swap": 96 * MiB},
        "cpu": {"shares": 256, "quota": 50000, "period": 100000},
        "pids": {"limit": 40},
    }
    result = ward_with_input(ward, "update", "--resources", "-", container_id, text=json.dumps(resources))
    assert result.returncode == 0, result.stderr
    assert limits(container_id) == (96 * MiB, "40")
    assert cg_read(container_id, "memory", "memory.memsw.limit_in_bytes") == str(96 * MiB)
    assert cg_read(container_id, "cpu", "cpu.shares") == "256"
    assert cg_read(container_id, "cpu", "cpu.cfs_quota_us") == "50000"


@pytest.mark.parametrize(
    "how, args, stdin, fragments",
    [
        ("stdin-string-limit", ("--resources", "-"), '{"memory": {"limit": "abc"}}', ("memory", "limit")),
        ("stdin-not-json", ("--resources", "-"), "{memory", ()),
        ("flag-bad-size", ("--memory", "abc"), None, ("abc",)),
        ("flag-bad-pids", ("--pids-limit", "many"), None, ("many",)),
        ("kernel-refuses-cpuset", ("--cpuset-cpus", "99"), None, ("cpuset.cpus", "99")),
    ],
)
def test_update_with_a_bad_value_fails_clearly_and_keeps_the_limits(ward, bundle, how, args, stdin, fragments):
    container_id, _ = start(ward, bundle, ["sleep", "100"], {"memory": {"limit": 32 * MiB}, "pids": {"limit": 20}})
    cpus = cg_read(container_id, "cpuset", "cpuset.cpus")
    if stdin is None:
        result = ward("update", *args, container_id)
    else:
        result = ward_with_input(ward, "update", *args, container_id, text=stdin)
    assert_error(result, *fragments)
    assert limits(container_id) == (32 * MiB, "20")
    assert cg_read(container_id, "cpuset", "cpuset.cpus") == cpus
    assert ward.state(container_id)["status"] == "running"


# ---------------------------------------------------------------------------
# pause / resume

COUNTER = "i=0; while :; do i=$((i+1)); echo $i > /out/counter; sleep 0.02; done"


def counter_advances(path, timeout=3.0):
    first = wait_until(lambda: read_int_file(path), timeout=timeout)
    return wait_until(lambda: (read_int_file(path) or 0) > first, timeout=timeout)


def test_pause_freezes_and_resume_thaws(ward, bundle):
    out = bundle.share()
    container_id, _ = start(ward, bundle, ["sh", "-c", COUNTER])
    counter = out / "counter"
    assert counter_advances(counter)

    result = ward("pause", container_id)
    assert result.returncode == 0, result.stderr
    assert ward.state(container_id)["status"] == "paused"
    assert cg_read(container_id, "freezer", "freezer.state") == "FROZEN"
    frozen_at = wait_until(lambda: read_int_file(counter), timeout=2)
    time.sleep(0.5)
    assert read_int_file(counter) == frozen_at, "the counter advanced while paused"

    result = ward("resume", container_id)
    assert result.returncode == 0, result.stderr
    assert ward.state(container_id)["status"] == "running"
    assert cg_read(container_id, "freezer", "freezer.state") == "THAWED"
    assert wait_until(lambda: (read_int_file(counter) or 0) > frozen_at, timeout=3), "no progress after resume"


# ---------------------------------------------------------------------------
# ps

TWO_CHILDREN = ["sh", "-c", "sleep 100 & sleep 100 & wait"]


def start_with_children(ward, bundle, changes=None):
    container_id, pid = start(ward, bundle, TWO_CHILDREN, changes=changes)
    assert wait_until(lambda: len(cgroup_procs(container_id)) == 3), cgroup_procs(container_id)
    return container_id, pid


def test_ps_json_is_the_cgroups_pids(ward, bundle):
    container_id, pid = start_with_children(ward, bundle)
    result = ward("ps", "--format", "json", container_id)
    assert result.returncode == 0, result.stderr
    pids = json.loads(result.stdout)
    assert isinstance(pids, list) and all(isinstance(p, int) for p in pids), result.stdout
    assert sorted(pids) == cgroup_procs(container_id)
    assert pid in pids


def test_ps_table_has_a_pid_header_and_lists_the_processes(ward, bundle):
    container_id, _ = start_with_children(ward, bundle)
    result = ward("ps", container_id)
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    columns = header.split()
    assert "PID" in columns, header
    listed = sorted(int(row.split()[columns.index("PID")]) for row in rows)
    assert listed == cgroup_procs(container_id)


# ---------------------------------------------------------------------------
# events --stats


def test_events_stats_prints_one_json_line(ward, bundle):
    container_id, _ = start(ward, bundle, ["sleep", "100"], {"memory": {"limit": 32 * MiB}})
    result = ward("events", "--stats", container_id)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1, lines
    event = json.loads(lines[0])
    assert event["type"] == "stats" and event["id"] == container_id
    data = event["data"]
    assert data["memory"]["usage"]["limit"] == 32 * MiB
    assert data["pids"]["current"] >= 1
    assert data["cpu"]["usage"]["total"] > 0


# ---------------------------------------------------------------------------
# kill --all, delete --force


def test_kill_all_kills_every_process_of_the_cgroup(ward, bundle):
    """Without a pid namespace the children outlive the init: only the
    cgroup knows them all."""
    no_pid_ns = {"linux": {"namespaces": [{"type": t} for t in ("ipc", "uts", "mount", "network")]}}
    container_id, _ = start_with_children(ward, bundle, no_pid_ns)
    pids = cgroup_procs(container_id)
    result = ward("kill", "--all", container_id, "KILL")
    assert result.returncode == 0, result.stderr
    assert wait_until(lambda: not any(pid_alive(p) for p in pids)), [p for p in pids if pid_alive(p)]
    assert wait_until(lambda: cgroup_procs(container_id) == [])
    ward.wait_for_status(container_id, "stopped")


@pytest.mark.parametrize("paused", [False, True], ids=["running", "paused"])
def test_delete_force_leaves_no_cgroup_and_no_process(ward, bundle, paused):
    container_id, _ = start_with_children(ward, bundle)
    pids = cgroup_procs(container_id)
    if paused:
        assert ward("pause", container_id).returncode == 0
        assert ward.state(container_id)["status"] == "paused"
    result = ward("delete", "--force", container_id, timeout=15)
    assert result.returncode == 0, result.stderr
    assert not any(pid_alive(p) for p in pids), [p for p in pids if pid_alive(p)]
    assert container_cgroup_dirs(container_id) == []
    assert ward("state", container_id).returncode != 0


# ---------------------------------------------------------------------------
# A value the kernel refuses


def test_a_value_the_kernel_refuses_fails_create_and_leaves_nothing(ward, bundle):
    cpus = os.cpu_count()
    bundle.config["process"]["args"] = ["sleep", "100"]
    bundle.config["linux"]["resources"]["cpu"] = {"cpus": "99"}
    assert cpus < 99
    container_id = ward.new_id()
    bundle.write_config(container_id)
    result = ward("create", "--bundle", bundle.path, container_id)
    assert_error(result, "cpuset.cpus", "99")
    assert_nothing_left(ward, container_id)


# ---------------------------------------------------------------------------
# cgroup v2: the unified mount of this hybrid host


def unified_hierarchy_or_skip():
    if not (UNIFIED / "cgroup.controllers").exists():
        pytest.skip("this host has no cgroup2 mount at /sys/fs/cgroup/unified (not hybrid)")


def hugetlb_or_skip():
    unified_hierarchy_or_skip()
    own = Path(f"{UNIFIED}{own_path('unified').rstrip('/')}")
    if "hugetlb" not in (own / "cgroup.controllers").read_text().split():
        pytest.skip("hugetlb is not available in our unified cgroup")
    if not Path("/sys/kernel/mm/hugepages/hugepages-2048kB").is_dir():
        pytest.skip("this kernel has no 2MB huge pages")


def test_container_is_placed_in_the_unified_hierarchy(ward, bundle):
    unified_hierarchy_or_skip()
    container_id, pid = start(ward, bundle, ["sleep", "100"])
    directory = cg_dir(container_id, "unified")
    assert directory == Path(f"{UNIFIED}{nested(own_path('unified'), container_id)}")
    assert pid in [int(p) for p in (directory / "cgroup.procs").read_text().split()]
    assert (directory / "cgroup.freeze").exists()
    assert (directory / "cgroup.kill").exists()


def test_hugepage_limit_is_written_to_the_unified_hugetlb_file(ward, bundle):
    hugetlb_or_skip()
    resources = {"hugepageLimits": [{"pageSize": "2MB", "limit": 4 * MiB}]}
    container_id, _ = start(ward, bundle, ["sleep", "100"], resources)
    assert cg_read(container_id, "unified", "hugetlb.2MB.max") == str(4 * MiB)


def test_unified_key_is_written(ward, bundle):
    hugetlb_or_skip()
    container_id, _ = start(ward, bundle, ["sleep", "100"], {"unified": {"hugetlb.2MB.max": "2097152"}})
    assert cg_read(container_id, "unified", "hugetlb.2MB.max") == "2097152"


@pytest.mark.parametrize(
    "key, fragments",
    [
        ("nosuch.knob", ('"nosuch.knob"',)),
        # memory is a v1 controller here: its v2 file cannot be honoured.
        ("memory.max", ('"memory.max"', "v1")),
        # A file that acts on processes, not a limit.
        ("cgroup.kill", ('"cgroup.kill"',)),
    ],
    ids=["unknown", "v1-controller", "not-a-limit"],
)
def test_unified_key_that_cannot_be_honoured_is_refused(ward, bundle, key, fragments):
    unified_hierarchy_or_skip()
    bundle.config["process"]["args"] = ["sleep", "100"]
    bundle.config["linux"]["resources"]["unified"] = {key: "1"}
    container_id = ward.new_id()
    bundle.write_config(container_id)
    result = ward("create", "--bundle", bundle.path, container_id)
    assert_error(result, *fragments)
    assert_nothing_left(ward, container_id)
