"""Issue 5: `exec` joins a running container — its namespaces, its cgroup,
its seccomp filter, capabilities and no_new_privs — and reports the
process's exit status; plus the environment defaults and socket
activation every process gets, as runc gives them."""

import json
import os
import subprocess
from pathlib import Path

from conftest import WARD_BINARY, assert_error, wait_until


def running(ward, bundle, script="sleep 60", changes=None):
    bundle.config["process"]["args"] = ["sh", "-c", script]
    if changes:
        from conftest import merge

        merge(bundle.config, changes)
    container_id = ward.create(bundle)
    assert ward("start", container_id).returncode == 0
    return container_id, ward.state(container_id)["pid"]


def test_exec_joins_every_namespace_and_the_cgroup(ward, bundle):
    container_id, pid = running(ward, bundle)
    result = ward(
        "exec", container_id, "sh", "-c",
        "for ns in mnt pid net ipc uts; do readlink /proc/self/ns/$ns; done; cat /proc/self/cgroup; hostname",
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    for i, ns in enumerate(("mnt", "pid", "net", "ipc", "uts")):
        assert lines[i] == os.readlink(f"/proc/{pid}/ns/{ns}"), ns
    init_cgroups = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    assert lines[5 : 5 + len(init_cgroups)] == init_cgroups
    assert lines[-1] == "ward-test"


def test_exec_exit_status_is_the_processes(ward, bundle):
    container_id, _ = running(ward, bundle)
    assert ward("exec", container_id, "sh", "-c", "exit 7").returncode == 7
    assert ward("exec", container_id, "sh", "-c", "kill -KILL $$").returncode == 137


def test_exec_inherits_capabilities_nnp_and_seccomp(ward, bundle):
    seccomp = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}],
    }
    container_id, pid = running(ward, bundle, changes={"linux": {"seccomp": seccomp}})
    result = ward("exec", container_id, "sh", "-c", "grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status; mkdir /tmp/x")
    assert result.returncode != 0
    fields = dict(line.split(":\t") for line in result.stdout.splitlines())
    init = dict(l.split(":\t") for l in Path(f"/proc/{pid}/status").read_text().splitlines() if ":\t" in l)
    assert fields["CapEff"] == init["CapEff"]
    assert fields["NoNewPrivs"] == "1"
    assert fields["Seccomp"] == "2"
    assert "Function not implemented" in result.stderr


def test_exec_options_user_env_cwd_cap(ward, bundle):
    container_id, _ = running(ward, bundle)
    result = ward(
        "exec", "--user", "1000:1000", "--env", "GREETING=hello", "--cwd", "/tmp", container_id,
        "sh", "-c", "id -u; id -g; echo $GREETING; pwd",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["1000", "1000", "hello", "/tmp"]
    capped = ward("exec", "--cap", "CAP_SYS_ADMIN", container_id, "grep", "CapEff", "/proc/self/status")
    assert int(capped.stdout.split()[1], 16) & (1 << 21)


def test_exec_process_json_as_engines_send_it(ward, bundle, tmp_path):
    container_id, _ = running(ward, bundle)
    process = {
        "terminal": False,
        "user": {"uid": 65534, "gid": 65534},
        "args": ["sh", "-c", "id -u; echo $MODE"],
        "env": ["PATH=/bin", "MODE=json"],
        "cwd": "/",
    }
    process_file = tmp_path / "process.json"
    process_file.write_text(json.dumps(process))
    result = ward("exec", "--process", process_file, container_id)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["65534", "json"]


def test_exec_detach_writes_the_pid_file(ward, bundle, tmp_path):
    container_id, _ = running(ward, bundle)
    pid_file = tmp_path / "exec.pid"
    result = ward("exec", "--detach", "--pid-file", pid_file, container_id, "sleep", "30")
    assert result.returncode == 0, result.stderr
    text = pid_file.read_text()
    assert text.isdigit(), repr(text)
    pid = int(text)
    assert Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"sleep")
    listed = json.loads(ward("ps", "--format", "json", container_id).stdout)
    assert pid in listed


def test_exec_of_a_missing_program_fails_cleanly(ward, bundle):
    container_id, _ = running(ward, bundle)
    result = ward("exec", container_id, "/no/such/program")
    assert_error(result, "/no/such/program")
    assert ward.state(container_id)["status"] == "running"


def test_exec_into_unknown_or_stopped_container(ward, bundle):
    assert_error(ward("exec", "nope", "true"), 'container "nope" does not exist')
    container_id, pid = running(ward, bundle, "true")
    ward.wait_for_status(container_id, "stopped")
    assert_error(ward("exec", container_id, "true"), "stopped")


def test_exec_runs_from_a_sealed_copy_of_ward(ward, bundle, tmp_path):
    """CVE-2019-5736: the process that exec hands to the container is, until
    its execve, a copy of ward; what /proc/PID/exe shows of it must be a
    sealed in-memory binary, never ward's file on the host."""
    container_id, _ = running(ward, bundle)
    with open(tmp_path / "exec.out", "w") as output:
        proc = subprocess.Popen(
            [WARD_BINARY, "--root", str(ward.root), "exec", container_id, "sleep", "5"],
            stdin=subprocess.DEVNULL, stdout=output, stderr=output,
        )
    try:
        assert wait_until(lambda: os.path.exists(f"/proc/{proc.pid}/exe") and "memfd" in os.readlink(f"/proc/{proc.pid}/exe")), \
            os.readlink(f"/proc/{proc.pid}/exe")
        exe = os.readlink(f"/proc/{proc.pid}/exe")
        assert exe.startswith("/memfd:ward"), exe
        with open(f"/proc/{proc.pid}/exe", "rb") as binary:
            import fcntl
            F_GET_SEALS = 1034
            seals = fcntl.fcntl(binary.fileno(), F_GET_SEALS)
        assert seals & 0x8, f"F_SEAL_WRITE missing: {seals:#x}"
        try:
            with open(f"/proc/{proc.pid}/exe", "r+b") as binary:
                binary.write(b"pwned")
            wrote = True
        except OSError:
            wrote = False
        assert not wrote
    finally:
        proc.kill()
        proc.wait()


def test_home_and_path_default_as_runc(ward, bundle):
    bundle.config["process"]["env"] = []
    bundle.rootfs.joinpath("etc/passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\nagent:x:1000:1000::/home/agent:/bin/sh\n"
    )
    out = ward.run_ok("echo $HOME; echo $PATH", {"process": {"env": []}})
    assert out.splitlines() == ["/root", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
    out = ward.run_ok("echo $HOME", {"process": {"env": ["PATH=/bin"], "user": {"uid": 1000, "gid": 1000}}})
    assert out.strip() == "/home/agent"
    out = ward.run_ok("echo $HOME", {"process": {"env": ["PATH=/bin", "HOME=/given"]}})
    assert out.strip() == "/given"


def test_socket_activation_fds_reach_the_container(ward, bundle, tmp_path):
    """Started with LISTEN_FDS for itself, ward passes those fds on with
    LISTEN_FDS=N and LISTEN_PID=1, as runc does."""
    marker = tmp_path / "activation"
    marker.write_text("socket activated\n")
    bundle.config["process"]["args"] = ["sh", "-c", "echo $LISTEN_FDS $LISTEN_PID; cat <&3"]
    container_id = ward.new_id()
    bundle.write_config(container_id)
    script = 'exec 3<"$1"; shift; LISTEN_FDS=1 LISTEN_PID=$$ exec "$@"'
    proc = subprocess.run(
        ["sh", "-c", script, "sh", str(marker), WARD_BINARY, "--root", str(ward.root), "run", "--bundle",
         str(bundle.path), container_id],
        capture_output=True, text=True, timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["1 1", "socket activated"]
