"""Issue 7: every container is tightened by its policy, seen from inside.

The run's ward.conf (conftest) makes `unconfined` the default so the other
modules test the runtime itself; here each container names its policy with
the run.ward.policy annotation, as Kubernetes, Podman and containerd pass
it, or a test writes a ward.conf of its own.  The issue's example config —
every capability, a writable root, the Docker socket, the host network —
is tightened where it can be (capabilities, root) and refused where it
cannot (socket, host network), each shown from inside or by its refusal.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import POLICY_ANNOTATION, POLICY_DIR, assert_error, container_cgroup_dirs

PROBE_SOURCE = Path(__file__).parent / "probes" / "syscall_probe.c"
EVERY_CAPABILITY = ["CAP_SYS_ADMIN", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_SYS_PTRACE", "CAP_CHOWN", "CAP_SYS_MODULE"]


def under(policy, **more):
    """config_changes naming `policy` (and any more annotations)."""
    return {"annotations": {POLICY_ANNOTATION: policy, **more}}


def status_field(out, name):
    for line in out.splitlines():
        if line.startswith(name + ":"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"{name} not in {out!r}")


def profile(name):
    return json.loads((POLICY_DIR / f"{name}.json").read_text())


def every_capability(bundle):
    bundle.config["process"]["capabilities"] = {
        kind: list(EVERY_CAPABILITY) for kind in ("bounding", "effective", "permitted", "ambient")
    }


def write_conf(tmp_path, ward, text):
    conf = tmp_path / "ward.conf"
    conf.write_text(text + f"\npolicy_dir = {POLICY_DIR}\n")
    ward.env = {**os.environ, "WARD_CONF": str(conf)}


# --- the example: tightened ------------------------------------------


def test_every_capability_asked_for_none_held(ward, bundle):
    every_capability(bundle)
    out = ward.run_ok("cat /proc/self/status", under("agent-default"))
    for field in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert status_field(out, field) == "0000000000000000", out
    assert status_field(out, "NoNewPrivs") == "1"
    # The policy's filter is loaded although the config asks for none.
    assert status_field(out, "Seccomp") == "2"


def test_agent_dev_keeps_only_its_small_set(ward, bundle):
    every_capability(bundle)
    out = ward.run_ok("cat /proc/self/status", under("agent-dev"))
    held = int(status_field(out, "CapEff"), 16)
    # CAP_CHOWN (0) is in agent-dev's maximum; CAP_SYS_ADMIN (21), CAP_NET_ADMIN (12), CAP_NET_RAW (13),
    # CAP_SYS_PTRACE (19) and CAP_SYS_MODULE (16) are not.
    assert held == 1 << 0, hex(held)


def test_writable_root_made_read_only_with_sized_scratch(ward, bundle):
    bundle.config["root"]["readonly"] = False
    script = "touch /written 2>&1; echo scratch > /tmp/x && cat /tmp/x; grep -E ' / | /tmp | /home/agent ' /proc/mounts"
    out = ward.run_ok(script, under("agent-default"))
    assert "Read-only file system" in out, out
    assert "scratch" in out
    mounts = {line.split()[1]: line.split()[3].split(",") for line in out.splitlines() if line.startswith(("/", "tmpfs"))}
    assert "ro" in mounts["/"], out
    assert "size=262144k" in mounts["/tmp"] and "nosuid" in mounts["/tmp"], out
    assert "size=1048576k" in mounts["/home/agent"], out
    assert not (bundle.rootfs / "written").exists()


def test_scratch_is_size_limited(ward, bundle):
    out = ward.run_ok(
        "dd if=/dev/zero of=/tmp/fill bs=1M count=100 2>&1; ls -l /tmp/fill", under("agent-strict")
    )
    assert "No space left on device" in out, out


def test_core_dumps_off_and_limits_lowered(ward, bundle):
    bundle.config["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "hard": 1048576, "soft": 1048576}]
    out = ward.run_ok("ulimit -c; ulimit -n", under("agent-default"))
    assert out.split() == ["0", str(profile("agent-default")["rlimits"]["nofile"])]


def test_strict_forces_a_non_root_user_who_owns_the_scratch(ward, bundle):
    out = ward.run_ok("id -u; id -g; touch /home/agent/mine && echo home-ok; touch /tmp/t && echo tmp-ok", under("agent-strict"))
    assert out.split() == ["65534", "65534", "home-ok", "tmp-ok"], out


def test_strict_has_no_tcp_connect_even_on_loopback(ward, bundle):
    """Landlock (ABI >= 4): agent-strict has no egress, so connect() is
    refused by the kernel (EACCES) before any listener is looked for; under
    agent-dev the same connect finds no listener (ECONNREFUSED)."""
    script = "ip link set lo up 2>/dev/null; nc 127.0.0.1 9 </dev/null 2>&1; true"
    strict = ward.run_ok(script, under("agent-strict"))
    assert "Permission denied" in strict, strict
    dev = ward.run_ok(script, under("agent-dev"))
    assert "Connection refused" in dev or "Network is unreachable" in dev, dev


def test_resources_get_the_policy_defaults_and_maxima(ward, bundle):
    bundle.config["linux"]["resources"]["pids"] = {"limit": 100000}
    bundle.config["annotations"] = {POLICY_ANNOTATION: "agent-default"}
    bundle.config["process"]["args"] = ["sleep", "30"]
    container_id = ward.create()
    limits = {}
    for directory in container_cgroup_dirs(container_id):
        for name in ("pids.max", "memory.limit_in_bytes"):
            if (directory / name).exists():
                limits[name] = (directory / name).read_text().strip()
    assert limits["pids.max"] == str(profile("agent-default")["resources"]["maximum"]["pids"]), limits
    assert limits["memory.limit_in_bytes"] == str(2 << 30), limits
    assert ward("delete", "--force", container_id).returncode == 0


def test_exec_cannot_ask_for_more(ward, bundle):
    bundle.config["annotations"] = {POLICY_ANNOTATION: "agent-default"}
    bundle.config["process"]["args"] = ["sleep", "30"]
    container_id = ward.create()
    assert ward("start", container_id).returncode == 0
    result = ward("exec", "--cap", "CAP_SYS_ADMIN", "--user", "0", container_id, "cat", "/proc/self/status")
    assert result.returncode == 0, result.stderr
    assert status_field(result.stdout, "CapEff") == "0000000000000000"
    assert status_field(result.stdout, "Seccomp") == "2"
    assert ward("delete", "--force", container_id).returncode == 0


def test_config_filter_and_policy_filter_are_stacked(ward, bundle):
    """The config's own filter allows everything but uname: both apply, so
    uname fails (config) and so does unshare (policy)."""
    bundle.config["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["uname"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}],
    }
    out = ward.run_ok("grep Seccomp_filters /proc/self/status; uname 2>&1; unshare -u true 2>&1; true", under("agent-default"))
    assert "Seccomp_filters:\t2" in out, out
    assert "Operation not permitted" in out, out


# --- the example: refused --------------------------------------------


def assert_refused_and_nothing_left(ward, bundle, *fragments):
    container_id = ward.new_id()
    bundle.write_config(container_id)
    result = ward("create", "--bundle", bundle.path, container_id)
    assert_error(result, *fragments)
    assert ward("state", container_id).returncode != 0
    assert ward.leftovers() == []


def test_docker_socket_bind_refused(ward, bundle, tmp_path):
    socket_path = tmp_path / "docker.sock"
    # The shipped list names the real socket; on this host it may not exist,
    # so bind the real path (refused as written) rather than rely on it.
    bundle.add_mount("/var/run/docker.sock", "bind", "/var/run/docker.sock", ["rbind"])
    bundle.config["annotations"] = {POLICY_ANNOTATION: "agent-default"}
    assert_refused_and_nothing_left(
        ward, bundle, "policy agent-default: mounts[", "/var/run/docker.sock", "is not allowed"
    )
    assert not socket_path.exists()


def test_host_network_namespace_refused(ward, bundle):
    bundle.config["linux"]["namespaces"] = [
        ns if ns["type"] != "network" else {"type": "network", "path": f"/proc/{os.getpid()}/ns/net"}
        for ns in bundle.config["linux"]["namespaces"]
    ]
    bundle.config["annotations"] = {POLICY_ANNOTATION: "agent-default"}
    assert_refused_and_nothing_left(
        ward, bundle, "policy agent-default: linux.namespaces: joining the host network namespace is not allowed"
    )


def test_no_network_namespace_at_all_refused(ward, bundle):
    bundle.config["linux"]["namespaces"] = [ns for ns in bundle.config["linux"]["namespaces"] if ns["type"] != "network"]
    bundle.config["annotations"] = {POLICY_ANNOTATION: "agent-default"}
    assert_refused_and_nothing_left(
        ward, bundle, "policy agent-default: linux.namespaces: sharing the host network namespace is not allowed"
    )


def test_unconfined_seccomp_refused(ward, bundle):
    bundle.config["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW"}
    bundle.config["annotations"] = {POLICY_ANNOTATION: "agent-default"}
    assert_refused_and_nothing_left(ward, bundle, "policy agent-default: linux.seccomp", "unconfined")


def test_privileged_device_refused(ward, bundle):
    bundle.config["linux"]["devices"] = [{"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11}]
    bundle.config["annotations"] = {POLICY_ANNOTATION: "agent-default"}
    assert_refused_and_nothing_left(ward, bundle, "policy agent-default: linux.devices")


# --- selection ----------------------------------------------------------------


def test_ward_conf_default_policy_applies_without_annotation(ward, bundle, tmp_path):
    write_conf(tmp_path, ward, "default_policy = agent-strict")
    assert ward.run_ok("id -u").split() == ["65534"]


def test_without_default_policy_agent_default_applies(ward, bundle, tmp_path):
    write_conf(tmp_path, ward, "# nothing chosen here")
    every_capability(bundle)
    out = ward.run_ok("grep CapEff /proc/self/status; touch / 2>&1; true")
    assert "0000000000000000" in out and "Read-only file system" in out, out


def test_policy_not_allowed_by_ward_conf_refused(ward, bundle, tmp_path):
    write_conf(tmp_path, ward, "default_policy = agent-default\nallowed_policies = agent-strict")
    bundle.config["annotations"] = {POLICY_ANNOTATION: "agent-dev"}
    assert_refused_and_nothing_left(ward, bundle, 'policy "agent-dev" is not allowed by', str(tmp_path / "ward.conf"))


def test_unconfined_only_when_ward_conf_says_so(ward, bundle, tmp_path):
    write_conf(tmp_path, ward, "default_policy = agent-default")
    bundle.config["annotations"] = {POLICY_ANNOTATION: "unconfined"}
    assert_refused_and_nothing_left(ward, bundle, '"unconfined" is not allowed', "allow_unconfined")


def test_unknown_policy_and_bad_ward_conf_are_clear_errors(ward, bundle, tmp_path):
    bundle.config["annotations"] = {POLICY_ANNOTATION: "no-such-policy"}
    assert_refused_and_nothing_left(ward, bundle, 'no profile "no-such-policy" in', str(POLICY_DIR))
    bundle.config["annotations"] = {}
    (tmp_path / "bad.conf").write_text("default_policy = agent-default\ncolour = blue\n")
    ward.env = {**os.environ, "WARD_CONF": str(tmp_path / "bad.conf")}
    assert_refused_and_nothing_left(ward, bundle, "bad.conf:2: unknown setting \"colour\"")


# --- the seccomp cache --------------------------------------------------------


def test_policy_filter_is_compiled_once_and_cached(ward, bundle):
    ward.run_ok("true", under("agent-default"))
    cache = ward.root / "@cache"
    # Create compiles the profile once: with the audited calls notifying
    # the syscall auditor (exec's plain variant is cached apart, when used).
    entries = sorted(cache.glob("*.bpf"))
    assert len(entries) == 1, entries
    first = [e.stat().st_mtime_ns for e in entries]
    ward.run_ok("true", under("agent-strict"))  # same profile file: the same entries
    assert [e.stat().st_mtime_ns for e in sorted(cache.glob("*.bpf"))] == first
    # A damaged entry is ignored and rewritten, never trusted.
    entries[0].write_bytes(b"WARDSCMP garbage")
    out = ward.run_ok("grep Seccomp: /proc/self/status; unshare -u true 2>&1; true", under("agent-default"))
    assert "Seccomp:\t2" in out and "Operation not permitted" in out, out
    assert entries[0].read_bytes().startswith(b"WARDSCMP") and entries[0].stat().st_size > 100


# --- the probe under the policy ------------------------------------------------


@pytest.fixture(scope="module")
def syscall_probe(tmp_path_factory):
    binary = tmp_path_factory.mktemp("probe") / "syscall-probe"
    subprocess.run(["gcc", "-static", "-O2", "-o", str(binary), str(PROBE_SOURCE), "-lpthread"], check=True)
    return binary


def test_probe_sees_every_denial_under_the_policy(ward, bundle, syscall_probe):
    """The same probe as test_agent_seccomp, with the profile coming from the
    policy rather than from config.json, and every capability asked for."""
    from test_agent_seccomp import ALLOWED, DENIED, mismatches, parse_probe

    every_capability(bundle)
    shutil.copy2(syscall_probe, bundle.rootfs / "bin" / "syscall-probe")
    code, out, err = ward.run_container(["/bin/syscall-probe"], under("agent-default"))
    assert code == 0, err
    results = parse_probe(out)
    assert mismatches(results, ALLOWED) == {}
    host_int80 = subprocess.run([str(syscall_probe), "int80"], capture_output=True, text=True).stdout
    expected = dict(DENIED)
    if "int80 ok" not in host_int80:
        expected.pop("int80", None)
        expected.pop("int80_thread", None)
    assert mismatches(results, expected) == {}


def test_update_cannot_raise_a_limit_above_the_policy(ward, bundle, tmp_path):
    bundle.config["annotations"] = {POLICY_ANNOTATION: "agent-default"}
    bundle.config["process"]["args"] = ["sleep", "30"]
    container_id = ward.create()
    maximum = profile("agent-default")["resources"]["maximum"]["pids"]
    request = tmp_path / "resources.json"
    request.write_text(json.dumps({"pids": {"limit": maximum * 10}}))
    result = ward("update", "--resources", request, container_id)
    assert result.returncode == 0, result.stderr
    pids_max = [d / "pids.max" for d in container_cgroup_dirs(container_id) if (d / "pids.max").exists()]
    assert [p.read_text().strip() for p in pids_max] == [str(maximum)]
    request.write_text(json.dumps({"pids": {"limit": 7}}))
    assert ward("update", "--resources", request, container_id).returncode == 0
    assert [p.read_text().strip() for p in pids_max] == ["7"]
    assert ward("delete", "--force", container_id).returncode == 0


@pytest.fixture
def engine_policy(ward, tmp_path):
    """A profile like agent-default whose forbidden list names a fake engine
    state root in tmp, with the engines' per-container files excepted, as
    the shipped profiles do for /var/lib/docker and the others."""
    engine = tmp_path / "engine"
    directory = tmp_path / "policies"
    (directory / "seccomp").mkdir(parents=True)
    shutil.copy2(POLICY_DIR / "seccomp" / "agent.json", directory / "seccomp" / "agent.json")
    text = profile("agent-default")
    text["name"] = "engine-test"
    text["forbiddenBindSources"] = text["forbiddenBindSources"] + [str(engine)]
    text["engineBindSources"] = [f"{engine}/containers/*/*"]
    (directory / "engine-test.json").write_text(json.dumps(text))
    (tmp_path / "ward.conf").write_text(f"default_policy = engine-test\npolicy_dir = {directory}\n")
    ward.env = {**os.environ, "WARD_CONF": str(tmp_path / "ward.conf")}
    (engine / "containers" / "abc").mkdir(parents=True)
    return engine


def test_engine_per_container_files_may_be_bound_but_not_its_state_or_sockets(ward, bundle, engine_policy):
    hosts = engine_policy / "containers" / "abc" / "hosts"
    hosts.write_text("192.0.2.7 engine-written\n")
    bundle.add_mount("/etc/hosts", "bind", hosts, ["rbind", "ro"])
    assert ward.run_ok("cat /etc/hosts") == "192.0.2.7 engine-written\n"

    for refused in (engine_policy, engine_policy / "containers", engine_policy / "containers" / "abc"):
        bundle.config["mounts"][-1]["source"] = str(refused)
        assert_refused_and_nothing_left(ward, bundle, "policy engine-test: mounts[", "is not allowed")

    import socket

    api = engine_policy / "containers" / "abc" / "api.sock"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(api))
    try:
        bundle.config["mounts"][-1]["source"] = str(api)
        assert_refused_and_nothing_left(ward, bundle, "policy engine-test: mounts[", str(api))
    finally:
        listener.close()

    # A link planted among the engine's files is judged where it leads.
    planted = engine_policy / "containers" / "abc" / "resolv.conf"
    planted.symlink_to("/etc/passwd")
    bundle.config["mounts"][-1]["source"] = str(planted)
    assert_refused_and_nothing_left(ward, bundle, "policy engine-test: mounts[", "forbidden bind source: /etc")
