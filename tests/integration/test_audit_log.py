"""Issue 9 items 3 and 5: the records ward itself writes to a container's
audit log — created (with the policy's changes) or refused, started,
exited (status, signal, duration, CPU), deleted — and the system calls the
agent profile refuses, answered by the container's syscall auditor and
logged with their names.  The log stays, readable with `ward audit`, once
the container is gone."""

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from audit_doc import documented_fields, logs_in, undocumented
from conftest import POLICY_ANNOTATION, POLICY_DIR, TOP, WARD_BINARY, wait_until

PROBE_SOURCE = Path(__file__).parent / "probes" / "syscall_probe.c"
DOC = TOP / "docs" / "audit.md"
# The calls whose denials the auditor logs (runtime/lib/syscall_auditor.c).
AUDITED = (
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "mount",
    "umount2",
    "pivot_root",
    "open_by_handle_at",
    "bpf",
    "perf_event_open",
    "unshare",
    "setns",
    "keyctl",
    "add_key",
    "request_key",
    "init_module",
    "finit_module",
    "kexec_load",
)


@pytest.fixture(autouse=True)
def records_match_the_doc(request):
    """After each test that had an audit log: every field of every record
    it wrote is documented under its event in docs/audit.md."""
    # Asked for now: at teardown it would be gone.
    directory = request.getfixturevalue("audit_dir") if "audit_dir" in request.fixturenames else None
    yield
    if directory is not None:
        assert undocumented(logs_in(directory)) == [], "written but not in docs/audit.md"


@pytest.fixture
def audit_dir(ward, tmp_path):
    """A ward.conf like test_policy's, with the audit log in tmp."""
    directory = tmp_path / "audit"
    conf = tmp_path / "ward.conf"
    conf.write_text(f"policy_dir = {POLICY_DIR}\naudit_dir = {directory}\n")
    ward.env = {**os.environ, "WARD_CONF": str(conf)}
    return directory


def under(policy):
    return {"annotations": {POLICY_ANNOTATION: policy}}


def records(audit_dir, container_id):
    path = audit_dir / f"{container_id}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def events(audit_dir, container_id, event):
    return [r for r in records(audit_dir, container_id) if r["event"] == event]


def test_run_writes_create_start_exit_delete(ward, bundle, audit_dir):
    code, out, err = ward.run_container(["sh", "-c", "sleep 0.3; exit 3"], under("agent-default"))
    assert code == 3, err
    container_id = ward.ids[-1]
    log = records(audit_dir, container_id)
    lifecycle = [r["event"] for r in log if r["event"].startswith("container.")]
    assert lifecycle == ["container.create", "container.start", "container.exit", "container.delete"], log
    for r in log:
        assert r["id"] == container_id
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z", r["time"]), r
    create, start, exit_, delete = (next(r for r in log if r["event"] == e) for e in lifecycle)
    assert not any(r["blocked"] for r in (create, start, exit_, delete))
    assert create["policy"] == "agent-default"
    assert create["bundle"] == str(bundle.path)
    assert create["syscall_audit"] == "on"
    assert start["pid"] == create["pid"] > 0
    assert exit_["status"] == 3 and exit_["signal"] is None
    assert exit_["observed_by"] == "run"
    assert 0.3 <= exit_["duration_seconds"] < 10
    assert isinstance(exit_["cpu_seconds"], float) and exit_["cpu_seconds"] >= 0
    assert delete["force"] is True


def test_the_merge_changes_are_in_the_create_record(ward, bundle, audit_dir):
    bundle.config["process"]["capabilities"] = {
        kind: ["CAP_SYS_ADMIN", "CAP_CHOWN"] for kind in ("bounding", "effective", "permitted", "ambient")
    }
    bundle.config["root"]["readonly"] = False
    ward.run_ok("true", under("agent-default"))
    (create,) = events(audit_dir, ward.ids[-1], "container.create")
    changes = {c["field"]: c for c in create["changes"]}
    bounding = changes["process.capabilities.bounding"]
    assert bounding["kind"] == "changed" and "CAP_SYS_ADMIN" in bounding["reason"]
    assert changes["root.readonly"]["kind"] == "changed"
    assert all(c["kind"] in ("changed", "noted") for c in create["changes"])
    assert all(isinstance(c["reason"], str) for c in create["changes"])


def test_a_killed_container_exits_by_its_signal(ward, bundle, audit_dir):
    bundle.config["annotations"] = {POLICY_ANNOTATION: "agent-default"}
    bundle.config["process"]["args"] = ["sleep", "30"]
    container_id = ward.new_id()
    bundle.write_config(container_id)
    # ward run in the background; the container's pid 1 is killed from outside.
    run = subprocess.Popen(
        [WARD_BINARY, "--root", str(ward.root), "run", "--bundle", str(bundle.path), container_id],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=ward.env,
    )
    assert wait_until(lambda: events(audit_dir, container_id, "container.start"), 10)
    assert ward("kill", container_id, "KILL").returncode == 0
    assert run.wait(timeout=30) == 128 + 9
    (exit_,) = events(audit_dir, container_id, "container.exit")
    assert exit_["status"] is None and exit_["signal"] == "SIGKILL" and exit_["observed_by"] == "run"


def test_delete_records_the_exit_of_a_detached_container(ward, bundle, audit_dir):
    bundle.config["annotations"] = {POLICY_ANNOTATION: "agent-default"}
    bundle.config["process"]["args"] = ["sleep", "30"]
    container_id = ward.create()
    assert ward("start", container_id).returncode == 0
    time.sleep(0.2)
    result = ward("delete", "--force", container_id)
    assert result.returncode == 0, result.stderr
    log = records(audit_dir, container_id)
    assert [r["event"] for r in log if r["event"].startswith("container.")] == [
        "container.create",
        "container.start",
        "container.exit",
        "container.delete",
    ]
    exit_ = next(r for r in log if r["event"] == "container.exit")
    # Killed by delete --force, which is what ward saw.
    assert exit_["signal"] == "SIGKILL" and exit_["observed_by"] == "delete"
    assert exit_["duration_seconds"] >= 0.2
    delete = next(r for r in log if r["event"] == "container.delete")
    assert delete["status"] == "running" and delete["force"] is True


def test_a_created_never_started_container_has_no_exit(ward, bundle, audit_dir):
    bundle.config["annotations"] = {POLICY_ANNOTATION: "agent-default"}
    bundle.config["process"]["args"] = ["true"]
    container_id = ward.create()
    assert ward("delete", "--force", container_id).returncode == 0
    assert [r["event"] for r in records(audit_dir, container_id) if r["event"].startswith("container.")] == [
        "container.create",
        "container.delete",
    ]


def test_a_refused_create_is_recorded_naming_the_field(ward, bundle, audit_dir):
    bundle.add_mount("/var/run/docker.sock", "bind", "/var/run/docker.sock", ["rbind"])
    bundle.config["annotations"] = {POLICY_ANNOTATION: "agent-default"}
    container_id = ward.new_id()
    bundle.write_config(container_id)
    result = ward("create", "--bundle", bundle.path, container_id)
    assert result.returncode != 0
    assert ward("state", container_id).returncode != 0
    log = records(audit_dir, container_id)
    assert [r["event"] for r in log] == ["container.refused"], log
    (refused,) = log
    assert refused["blocked"] is True
    assert refused["policy"] == "agent-default"
    assert "mounts[" in refused["message"] and "/var/run/docker.sock" in refused["message"]
    refusals = [c for c in refused["changes"] if c["kind"] == "refused"]
    assert refusals and refusals[0]["field"].startswith("mounts[")
    assert "/var/run/docker.sock" in refusals[0]["reason"]


def test_an_unconfined_container_writes_nothing(ward, bundle, tmp_path):
    directory = tmp_path / "audit"
    conf = tmp_path / "ward.conf"
    conf.write_text(f"default_policy = unconfined\nallow_unconfined = true\naudit_dir = {directory}\n")
    ward.env = {**os.environ, "WARD_CONF": str(conf)}
    ward.run_ok("true")
    assert not (directory / f"{ward.ids[-1]}.jsonl").exists()


@pytest.fixture(scope="module")
def syscall_probe(tmp_path_factory):
    binary = tmp_path_factory.mktemp("probe") / "syscall-probe"
    subprocess.run(["gcc", "-static", "-O2", "-o", str(binary), str(PROBE_SOURCE), "-lpthread"], check=True)
    return binary


def test_denied_syscalls_are_logged_with_their_names(ward, bundle, audit_dir, syscall_probe):
    from test_agent_seccomp import DENIED, parse_probe

    shutil.copy2(syscall_probe, bundle.rootfs / "bin" / "syscall-probe")
    code, out, err = ward.run_container(["/bin/syscall-probe"], under("agent-default"))
    assert code == 0, err
    results = parse_probe(out)
    # Still refused with EPERM, now by the auditor.
    for name in AUDITED:
        if name in results:
            assert results[name] == DENIED[name], (name, results[name])
    container_id = ward.ids[-1]
    denied = events(audit_dir, container_id, "syscall.denied")
    logged = {r["syscall"] for r in denied}
    probed = {name for name in AUDITED if name in results}
    assert probed >= {"ptrace", "mount", "bpf", "keyctl", "setns", "init_module"}, probed
    # unshare is probed in a child of the probe; the others directly.
    assert probed <= logged, probed - logged
    for r in denied:
        assert r["blocked"] is True and r["errno"] == "EPERM" and r["arch"] == "x86_64"
        assert r["pid"] > 0 and r["command"] == "syscall-probe"
    # The log outlives the container, and ward audit shows it.
    assert not (ward.root / container_id).exists()
    shown = subprocess.run(
        [WARD_BINARY, "audit", container_id], capture_output=True, text=True, env=ward.env, timeout=30
    )
    assert shown.returncode == 0, shown.stderr
    mount_lines = [line for line in shown.stdout.splitlines() if "syscall.denied" in line and "syscall=mount" in line]
    assert mount_lines and "BLOCKED" in mount_lines[0] and "command=syscall-probe" in mount_lines[0]
    # The supervisor may still be writing its last records as delete ends.
    assert any("container.delete" in line for line in shown.stdout.splitlines())


def test_busybox_unshare_and_mount_are_logged(ward, bundle, audit_dir):
    out = ward.run_ok(
        "unshare -m true 2>&1; echo unshare=$?; mount -t tmpfs none /mnt 2>&1; echo mount=$?", under("agent-default")
    )
    assert "unshare=0" not in out and "mount=0" not in out and "Operation not permitted" in out, out
    denied = events(audit_dir, ward.ids[-1], "syscall.denied")
    assert {"unshare", "mount"} <= {r["syscall"] for r in denied}, denied
    assert {r["command"] for r in denied} <= {"unshare", "mount"}


def test_the_auditor_leaves_with_the_container(ward, bundle, audit_dir):
    bundle.config["annotations"] = {POLICY_ANNOTATION: "agent-default"}
    bundle.config["process"]["args"] = ["sleep", "30"]
    container_id = ward.create()
    auditors = lambda: [p for p in auditor_pids() if container_id in cmdline_of_log(p)]  # noqa: E731
    assert ward("start", container_id).returncode == 0
    assert auditors(), "no auditor for the container"
    assert ward("delete", "--force", container_id).returncode == 0
    assert wait_until(lambda: not auditors(), 5), auditors()


def auditor_pids():
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "ward-sysaudit":
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


def cmdline_of_log(pid):
    """The log the auditor holds open (its only fd besides the listener and /dev/null)."""
    try:
        return " ".join(os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return ""


def test_a_config_with_its_own_listener_gets_no_auditor(ward, bundle, audit_dir, tmp_path):
    """The kernel allows one listener a filter chain: config.json's wins,
    and the create record says so."""
    import socket
    import threading

    listener = tmp_path / "listener.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(listener))
    server.listen(1)
    received = []

    def accept():
        connection, _ = server.accept()
        received.append(connection.recv(65536, socket.MSG_CMSG_CLOEXEC))
        connection.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    bundle.config["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "listenerPath": str(listener),
        "syscalls": [{"names": ["sethostname"], "action": "SCMP_ACT_NOTIFY"}],
    }
    bundle.config["annotations"] = {POLICY_ANNOTATION: "agent-default"}
    bundle.config["process"]["args"] = ["true"]
    container_id = ward.create()
    thread.join(5)
    server.close()
    (create,) = events(audit_dir, container_id, "container.create")
    assert create["syscall_audit"].startswith("off: config.json's filter has a listener"), create
    assert ward("delete", "--force", container_id).returncode == 0


# --- docs/audit.md names every event the code writes -------------------------


def events_in_sources():
    """Every event name passed to audit_record_begin in the C sources."""
    names = set()
    for path in list((TOP / "runtime").rglob("*.c")) + list((TOP / "hooks").rglob("*.c")):
        text = path.read_text(errors="replace")
        names.update(re.findall(r'audit_record_begin\s*\([^,]*,\s*"([a-z_.]+)"', text))
    return names


def test_docs_audit_md_names_every_event_the_code_writes():
    documented = set(re.findall(r"^###\s+`([a-z_.]+)`", DOC.read_text(), re.MULTILINE))
    written = events_in_sources()
    assert {"container.create", "syscall.denied", "egress.refused"} <= written, written
    assert written - documented == set(), f"written but not in docs/audit.md: {written - documented}"


def test_docs_audit_md_lists_fields_for_every_event():
    fields = documented_fields()
    assert fields[None] == {"time", "id", "event", "blocked"}
    assert {"status", "signal", "duration_seconds", "observed_by"} <= fields["container.exit"]
    assert {"metered_connections", "final", "cost"} <= fields["budget.usage"]
    assert {"limit", "used", "allowed", "unit", "action"} == fields["watchdog.breach"]
    # Every event but watchdog.freeze (no fields of its own) has a table.
    assert [e for e, f in fields.items() if e and not f] == ["watchdog.freeze"]
    # The check catches a field the document does not have.
    record = {"time": "t", "id": "c", "event": "container.start", "blocked": False, "pid": 1, "colour": "red"}
    assert undocumented([record]) == [("container.start", "colour")]


def test_one_run_writes_only_documented_fields(ward, bundle, audit_dir, tmp_path):
    """Most events in one run: lifecycle, a denied call, a refused DNS
    query, the firewall and the budget, periodic and final usage, the
    supervisor's exit (the autouse fixture checks them all again)."""
    conf = tmp_path / "ward.conf"
    conf.write_text(conf.read_text() + "usage_record_interval = 1\n")
    script = "mount -t tmpfs none /mnt; nslookup forbidden.example 127.0.0.1; sleep 2.5; true"
    code, out, err = ward.run_container(["sh", "-c", script], under("agent-default"))
    assert code == 0, err
    container_id = ward.ids[-1]
    assert wait_until(lambda: events(audit_dir, container_id, "supervisor.exit"), 10)
    log = records(audit_dir, container_id)
    written = {r["event"] for r in log}
    expected = {"container.create", "container.start", "container.exit", "container.delete", "syscall.denied"}
    expected |= {"egress.installed", "budget", "budget.usage", "supervisor.exit", "dns.refused"}
    assert expected <= written, written
    usages = events(audit_dir, container_id, "budget.usage")
    assert [u["final"] for u in usages][-1] is True and not all(u["final"] for u in usages), usages
    assert undocumented(log) == []
