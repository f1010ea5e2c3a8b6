"""Issue 3: the container's process holds exactly the privileges its
config.json grants — capabilities, no_new_privs, user namespaces — and the
runtime leaves nothing of itself inside (file descriptors, its binary)."""

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import WARD_BINARY, assert_error, pid_alive, wait_until

CAP_CHOWN = 0
CAP_KILL = 5
CAP_NET_BIND_SERVICE = 10
CAP_SYS_ADMIN = 21


def status_fields(text):
    fields = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return fields


def capability_sets(ward, capabilities, user=None):
    changes = {"process": {"capabilities": capabilities}}
    if user:
        changes["process"]["user"] = user
    status = status_fields(ward.run_ok("cat /proc/self/status", changes))
    return {name: int(status[name], 16) for name in ("CapBnd", "CapEff", "CapPrm", "CapInh", "CapAmb")}


def mask(*caps):
    value = 0
    for cap in caps:
        value |= 1 << cap
    return value


def test_root_process_holds_exactly_the_configured_capabilities(ward):
    names = ["CAP_CHOWN", "CAP_NET_BIND_SERVICE"]
    sets = capability_sets(
        ward, {"bounding": names, "effective": names, "permitted": names, "inheritable": [], "ambient": []}
    )
    expected = mask(CAP_CHOWN, CAP_NET_BIND_SERVICE)
    assert sets == {"CapBnd": expected, "CapEff": expected, "CapPrm": expected, "CapInh": 0, "CapAmb": 0}


def test_non_root_process_keeps_ambient_capabilities(ward):
    names = ["CAP_NET_BIND_SERVICE"]
    sets = capability_sets(
        ward,
        {"bounding": names, "effective": names, "permitted": names, "inheritable": names, "ambient": names},
        user={"uid": 1000, "gid": 1000},
    )
    expected = mask(CAP_NET_BIND_SERVICE)
    assert sets == {"CapBnd": expected, "CapEff": expected, "CapPrm": expected, "CapInh": expected, "CapAmb": expected}


def test_non_root_process_without_capabilities_has_none(ward):
    sets = capability_sets(
        ward,
        {"bounding": ["CAP_KILL"], "effective": [], "permitted": [], "inheritable": [], "ambient": []},
        user={"uid": 1000, "gid": 1000},
    )
    assert sets == {"CapBnd": mask(CAP_KILL), "CapEff": 0, "CapPrm": 0, "CapInh": 0, "CapAmb": 0}


def test_dropped_capability_is_really_gone(ward):
    """Without CAP_CHOWN even root cannot chown a file it does not own."""
    names = ["CAP_KILL"]
    code, out, err = ward.run_container(
        ["sh", "-c", "touch /tmp/f && chown 1000 /tmp/f"],
        {"process": {"capabilities": {"bounding": names, "effective": names, "permitted": names}}},
    )
    assert code != 0
    assert "Operation not permitted" in err


def test_unknown_capability_is_refused(ward):
    ward.bundle.config["process"]["capabilities"]["bounding"] = ["CAP_KILL", "CAP_FLY"]
    ward.bundle.write_config()
    result = ward("run", "--bundle", ward.bundle.path, ward.new_id())
    assert_error(result, "CAP_FLY", "process.capabilities.bounding")
    assert not ward.leftovers()


@pytest.mark.parametrize("nnp, expected", [(True, "1"), (False, "0")])
def test_no_new_privileges(ward, nnp, expected):
    status = status_fields(ward.run_ok("cat /proc/self/status", {"process": {"noNewPrivileges": nnp}}))
    assert status["NoNewPrivs"] == expected


def test_rlimit_above_the_callers_hard_limit_applies_to_a_non_root_user(ward):
    """Raised while still privileged, then kept after the switch to uid 1000."""
    out = ward.run_ok(
        "cat /proc/self/limits; id -u",
        {
            "process": {
                "user": {"uid": 1000, "gid": 1000},
                "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 4096, "soft": 2048}],
            }
        },
    )
    line = next(l for l in out.splitlines() if l.startswith("Max open files"))
    assert line.split()[3:5] == ["2048", "4096"]
    assert out.splitlines()[-1] == "1000"


# ---------------------------------------------------------------------------
# User namespaces

HOST_BASE = 100000


@pytest.fixture
def userns_bundle(ward, bundle):
    """The rootfs owned by the mapped root, as engines prepare it, in a
    directory the mapped root can reach."""
    for parent in [bundle.path, *bundle.path.parents]:
        if parent == Path("/"):
            break
        os.chmod(parent, os.stat(parent).st_mode | 0o055)
    subprocess.run(["chown", "-R", "-h", f"{HOST_BASE}:{HOST_BASE}", str(bundle.rootfs)], check=True)
    bundle.set_namespace("user")
    bundle.config["linux"]["uidMappings"] = [{"containerID": 0, "hostID": HOST_BASE, "size": 65536}]
    bundle.config["linux"]["gidMappings"] = [{"containerID": 0, "hostID": HOST_BASE, "size": 65536}]
    return bundle


def test_user_namespace_maps_ids(ward, userns_bundle):
    out = ward.run_ok("cat /proc/self/uid_map /proc/self/gid_map; id -u; ls -ln /bin/busybox")
    lines = out.splitlines()
    assert lines[0].split() == ["0", str(HOST_BASE), "65536"]
    assert lines[1].split() == ["0", str(HOST_BASE), "65536"]
    assert lines[2] == "0"
    # The mapped root owns its rootfs: files show as uid 0 inside.
    assert lines[3].split()[2:4] == ["0", "0"]


def test_user_namespace_process_user(ward, userns_bundle):
    out = ward.run_ok("id -u; id -g; touch /tmp/made; ls -ln /tmp/made", {"process": {"user": {"uid": 1000, "gid": 1000}}})
    lines = out.splitlines()
    assert lines[:2] == ["1000", "1000"]
    assert lines[2].split()[2:4] == ["1000", "1000"]


def test_user_namespace_root_is_not_host_root(ward, userns_bundle):
    """Root in the container cannot use the host's privileges: loading a
    module needs CAP_SYS_MODULE in the initial user namespace."""
    names = ["CAP_SYS_ADMIN", "CAP_SYS_MODULE", "CAP_KILL"]
    out = ward.run_ok(
        "grep CapEff /proc/self/status; cat /proc/self/uid_map",
        {"process": {"capabilities": {"bounding": names, "effective": names, "permitted": names}}},
    )
    assert str(HOST_BASE) in out
    # The container's CAP_SYS_ADMIN is real inside its namespace only.
    assert int(out.split()[1], 16) & mask(CAP_SYS_ADMIN)


def test_user_namespace_without_mappings_is_refused(ward, bundle):
    bundle.set_namespace("user")
    bundle.write_config()
    result = ward("run", "--bundle", bundle.path, ward.new_id())
    assert_error(result, "uidMappings")
    assert not ward.leftovers()


# ---------------------------------------------------------------------------
# Nothing of the runtime inside


def running_container(ward, bundle, script, *create_options):
    bundle.config["process"]["args"] = ["sh", "-c", script]
    container_id = ward.create(bundle, *create_options)
    result = ward("start", container_id)
    assert result.returncode == 0, result.stderr
    return container_id, ward.state(container_id)["pid"]


def test_no_runtime_fd_leaks_into_the_container(ward, bundle):
    """CVE-2024-21626: only 0, 1 and 2 reach the process, and its cwd is
    inside the rootfs."""
    container_id, pid = running_container(ward, bundle, "exec sleep 60")
    assert wait_until(lambda: Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"sleep"))
    assert sorted(os.listdir(f"/proc/{pid}/fd"), key=int) == ["0", "1", "2"]
    # Seen from the host the pivoted root reads as "/": compare inodes.
    cwd, rootfs = os.stat(f"/proc/{pid}/cwd"), os.stat(bundle.rootfs)
    assert (cwd.st_dev, cwd.st_ino) == (rootfs.st_dev, rootfs.st_ino)


def test_preserved_fds_reach_the_container(ward, bundle, tmp_path):
    marker = tmp_path / "preserved"
    marker.write_text("from the host\n")
    bundle.config["process"]["args"] = ["sh", "-c", "cat <&3; ls /proc/self/fd"]
    container_id = ward.new_id()
    bundle.write_config(container_id)
    # A shell opens the file as fd 3 for ward, as an engine would pass it.
    proc = subprocess.run(
        ["sh", "-c", 'exec 3<"$1"; shift; exec "$@"', "sh", str(marker), WARD_BINARY, "--root", str(ward.root),
         "run", "--preserve-fds", "1", "--bundle", str(bundle.path), container_id],
        capture_output=True, text=True, timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "from the host"
    # ls's own directory fd is the only other one.
    assert set(lines[1:]) - {"0", "1", "2", "3"} <= {"4"}


def test_proc_mount_over_a_symlink_is_refused(ward, bundle):
    """CVE-2019-16884: proc must be mounted on a real directory of the
    rootfs, not wherever a symlink in the image points."""
    (bundle.rootfs / "proc").rmdir()
    (bundle.rootfs / "proc").symlink_to("/tmp")
    bundle.write_config()
    result = ward("run", "--bundle", bundle.path, ward.new_id())
    assert_error(result, "/proc")
    assert not ward.leftovers()


def test_runtime_binary_cannot_be_overwritten_by_a_process_that_sees_the_init(ward, make_bundle, tmp_path):
    """CVE-2019-5736: a container sharing its pid namespace with another
    container's waiting init can open that init's /proc/PID/exe.  Once the
    runtime has exited, writing through that fd must not reach the
    runtime's binary on the host."""
    binary = tmp_path / "ward-copy"
    shutil.copy2(WARD_BINARY, binary)
    digest = hashlib.sha256(binary.read_bytes()).hexdigest()

    attacker = ward.bundle
    out = attacker.share()
    all_caps = [f"CAP_{n}" for n in ("CHOWN", "DAC_OVERRIDE", "FOWNER", "KILL", "SYS_PTRACE", "SYS_ADMIN")]
    attacker.config["process"]["capabilities"] = {k: all_caps for k in ("bounding", "effective", "permitted")}
    script = (
        "while [ ! -e /out/go ]; do sleep 0.05; done; "
        "for p in /proc/[0-9]*; do n=${p#/proc/}; [ $n = 1 ] || [ $n = $$ ] || victim=$n; done; "
        "ls -l /proc/*/exe > /out/log 2>&1; exec 3< /proc/$victim/exe 2>>/out/log && echo $victim > /out/opened; "
        "while [ ! -e /out/write ]; do sleep 0.05; done; "
        "if echo pwned >> /proc/self/fd/3; then touch /out/wrote; fi; touch /out/done; sleep 60"
    )
    attacker_id, attacker_pid = running_container(ward, attacker, script)

    victim = ward.add_bundle(make_bundle("victim"))
    victim.set_namespace("pid", f"/proc/{attacker_pid}/ns/pid")
    victim_id = ward.new_id()
    victim.write_config(victim_id)
    # Output to a file, not a pipe: the waiting init keeps its stdio open.
    with open(tmp_path / "create.err", "w+") as errors:
        created = subprocess.run(
            [str(binary), "--root", str(ward.root), "create", "--bundle", str(victim.path), victim_id],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors, timeout=30,
        )
        errors.seek(0)
        assert created.returncode == 0, errors.read()
    (out / "go").touch()
    assert wait_until(lambda: (out / "opened").exists()), (out / "log").read_text()

    # The runtime is gone: nothing keeps the binary busy any more.
    assert ward("delete", "--force", victim_id).returncode == 0
    (out / "write").touch()
    assert wait_until(lambda: (out / "done").exists())
    assert not (out / "wrote").exists()
    assert hashlib.sha256(binary.read_bytes()).hexdigest() == digest
