"""What a container looks like from inside: namespaces, root, mounts, devices
and the process's own attributes, each as the config asked for."""

import os
import uuid
from pathlib import Path

import pytest

from conftest import mount_at, ns_link, parse_mountinfo


def mountinfo_inside(ward, config_changes=None):
    return parse_mountinfo(ward.run_ok("cat /proc/self/mountinfo", config_changes))


def status_fields(text):
    """/proc/self/status as {field: value}."""
    return {k: v.strip() for k, _, v in (line.partition(":") for line in text.splitlines()) if v}


def host_mount_of(path):
    """The host mount holding `path`, and `path` as the mount's filesystem sees it."""
    mounts = parse_mountinfo(Path("/proc/self/mountinfo").read_text())
    holder = max(
        (m for m in mounts if str(path) == m.mount_point or str(path).startswith(m.mount_point.rstrip("/") + "/")),
        key=lambda m: len(m.mount_point),
    )
    relative = os.path.relpath(path, holder.mount_point)
    return holder, os.path.normpath(os.path.join(holder.root, relative))


# --- namespaces ------------------------------------------------------------


def test_pid_namespace_makes_the_process_pid_1(ward):
    out = ward.run_ok("echo $$; exec grep NSpid /proc/self/status")
    assert out.splitlines() == ["1", "NSpid:\t1"]


def test_pid_namespace_hides_host_processes(ward):
    out = ward.run_ok("ls /proc | grep -E '^[0-9]+$'")
    assert str(os.getpid()) not in out.split()
    assert len(out.split()) <= 3  # sh, ls, grep


def test_uts_namespace_sets_the_hostname(ward):
    assert ward.run_ok("hostname", {"hostname": "box-1"}) == "box-1\n"
    assert os.uname().nodename != "box-1"


def test_domainname_is_set(ward):
    assert ward.run_ok("cat /proc/sys/kernel/domainname", {"domainname": "example.test"}) == "example.test\n"
    assert Path("/proc/sys/kernel/domainname").read_text() != "example.test\n"


@pytest.mark.parametrize("name", ["ipc", "net", "mnt", "uts", "pid", "cgroup"])
def test_namespaces_differ_from_the_hosts(ward, bundle, name):
    bundle.set_namespace("cgroup")
    out = ward.run_ok(f"readlink /proc/self/ns/{name}")
    assert out.strip() != ns_link(name)
    assert out.strip().startswith(f"{name}:[")


def test_namespace_left_out_of_config_is_shared_with_the_host(ward, bundle):
    bundle.config["linux"]["namespaces"] = [ns for ns in bundle.config["linux"]["namespaces"] if ns["type"] != "ipc"]
    out = ward.run_ok("readlink /proc/self/ns/ipc; readlink /proc/self/ns/net")
    ipc, net = out.split()
    assert ipc == ns_link("ipc")
    assert net != ns_link("net")


def test_joining_another_containers_network_namespace(ward, bundle, make_bundle):
    first = ward.create()
    first_pid = ward.state(first)["pid"]
    target = ns_link("net", first_pid)
    assert target != ns_link("net")
    joiner = ward.add_bundle(make_bundle("joiner"))
    joiner.set_namespace("network", f"/proc/{first_pid}/ns/net")
    out = ward.run_ok("readlink /proc/self/ns/net; readlink /proc/self/ns/uts", bundle=joiner)
    net, uts = out.split()
    assert net == target
    assert uts != ns_link("uts", first_pid)


def test_time_namespace_offsets_boottime(ward, bundle):
    offset = 400 * 86400
    bundle.set_namespace("time")
    bundle.config["linux"]["timeOffsets"] = {"boottime": {"secs": offset, "nanosecs": 0}}
    out = ward.run_ok("readlink /proc/self/ns/time; cat /proc/uptime")
    link, uptime = out.splitlines()
    host_uptime = float(Path("/proc/uptime").read_text().split()[0])
    assert link != ns_link("time")
    assert abs(float(uptime.split()[0]) - (host_uptime + offset)) < 30


def test_time_namespace_offsets_monotonic(ward, bundle):
    offset = 300 * 86400
    bundle.set_namespace("time")
    bundle.config["linux"]["timeOffsets"] = {"monotonic": {"secs": offset, "nanosecs": 0}}
    # /proc/uptime follows boottime; the monotonic clock shows in /proc/self/timens_offsets.
    out = ward.run_ok("cat /proc/self/timens_offsets")
    offsets = {line.split()[0]: int(line.split()[1]) for line in out.splitlines()}
    assert offsets["monotonic"] == offset
    assert offsets["boottime"] == 0


# --- the root --------------------------------------------------------------


def test_pivot_root_hides_the_host(ward, bundle):
    out = ward.run_ok(
        f"ls -a /; echo ---; test -e {bundle.path}/config.json && echo HOST-VISIBLE; cat /proc/self/mountinfo"
    )
    listing, mountinfo = out.split("---\n")
    assert set(listing.split()) - {".", ".."} == set(os.listdir(bundle.rootfs))
    assert "HOST-VISIBLE" not in mountinfo
    mounts = parse_mountinfo(mountinfo)
    _, expected_root = host_mount_of(bundle.rootfs)
    assert mount_at(mounts, "/").root == expected_root
    destinations = {m["destination"] for m in bundle.config["mounts"]}
    for mount in mounts:
        assert mount.mount_point == "/" or any(
            mount.mount_point == d or mount.mount_point.startswith(d + "/") for d in destinations
        ), f"{mount.mount_point} is neither the rootfs nor under a configured mount"


def test_no_pivot_still_confines_to_the_rootfs(ward, bundle):
    bundle.config["process"]["args"] = ["sh", "-c", f"cat /etc/passwd; test -e {bundle.path} && echo HOST-VISIBLE"]
    container_id = ward.new_id()
    bundle.write_config(container_id)
    result = ward("run", "--no-pivot", "--bundle", bundle.path, container_id)
    assert result.stdout == (bundle.rootfs / "etc" / "passwd").read_text()
    assert result.returncode == 1  # the `test` failed: the host path is not there


def test_readonly_root_refuses_writes(ward, bundle):
    bundle.config["root"]["readonly"] = True
    bundle.add_mount("/tmp", "tmpfs", "tmpfs", ["nosuid", "nodev"])
    out = ward.run_ok("touch /created 2>&1; echo tmp-ok > /tmp/f && cat /tmp/f; echo ---; cat /proc/self/mountinfo")
    writes, mountinfo = out.split("---\n")
    assert "Read-only file system" in writes
    assert "tmp-ok" in writes
    assert "ro" in mount_at(parse_mountinfo(mountinfo), "/").options
    assert not (bundle.rootfs / "created").exists()


def test_writable_root_accepts_writes(ward, bundle):
    ward.run_ok("echo hello > /created")
    assert (bundle.rootfs / "created").read_text() == "hello\n"


@pytest.mark.parametrize(
    "propagation, tag",
    [("private", None), ("rprivate", None), ("slave", None), ("shared", "shared:"), ("unbindable", "unbindable")],
)
def test_rootfs_propagation(ward, propagation, tag):
    """The container's / has the propagation asked for.  A slave of a private
    host mount has no master, so "slave" only shows as "not shared"."""
    root = mount_at(mountinfo_inside(ward, {"linux": {"rootfsPropagation": propagation}}), "/")
    tags = [t for t in root.propagation if not t.startswith("master:")]
    if tag is None:
        assert tags == [], root.propagation
    else:
        assert [t for t in tags if t.startswith(tag)], root.propagation


# --- mounts ----------------------------------------------------------------


def test_readonly_bind_mount(ward, bundle, tmp_path):
    source = tmp_path / "data"
    source.mkdir()
    (source / "file").write_text("from the host\n")
    bundle.add_mount("/data", "bind", source, ["bind", "ro"])
    out = ward.run_ok("cat /data/file; touch /data/new 2>&1; grep ' /data ' /proc/self/mountinfo")
    lines = out.splitlines()
    assert lines[0] == "from the host"
    assert "Read-only file system" in lines[1]
    assert "ro" in parse_mountinfo(lines[2])[0].options
    assert not (source / "new").exists()


def test_writable_bind_mount_reaches_the_host(ward, bundle, tmp_path):
    source = tmp_path / "data"
    source.mkdir()
    bundle.add_mount("/data", "bind", source, ["bind", "rw"])
    ward.run_ok("echo written > /data/new")
    assert (source / "new").read_text() == "written\n"


@pytest.mark.parametrize("option, submount_seen", [("rbind", True), ("bind", False)])
def test_rbind_brings_submounts(ward, bundle, option, submount_seen):
    host_dev, _ = host_mount_of("/dev/null")
    assert host_dev.mount_point == "/dev"
    bundle.add_mount("/hostdev", "bind", "/dev", [option, "ro"])
    mounts = mountinfo_inside(ward)
    assert mount_at(mounts, "/hostdev").fstype == host_dev.fstype
    assert any(m.mount_point == "/hostdev/pts" for m in mounts) == submount_seen


def test_tmpfs_options(ward, bundle):
    bundle.add_mount("/scratch", "tmpfs", "tmpfs", ["nosuid", "nodev", "noexec", "size=1m", "mode=0750"])
    out = ward.run_ok(
        "stat -c %a /scratch; cp /bin/busybox /scratch/bb; /scratch/bb true 2>&1; echo exec=$?; "
        "grep ' /scratch ' /proc/self/mountinfo"
    )
    mode, exec_error, exec_status, line = out.splitlines()
    assert mode == "750"
    assert "Permission denied" in exec_error and exec_status != "exec=0"
    mount = parse_mountinfo(line)[0]
    assert mount.fstype == "tmpfs"
    assert {"nosuid", "nodev", "noexec"} <= mount.options
    assert {"size=1024k", "mode=750"} <= mount.super_options


def test_mount_flags_default_off(ward, bundle):
    bundle.add_mount("/scratch", "tmpfs", "tmpfs", [])
    mount = mount_at(mountinfo_inside(ward), "/scratch")
    assert not {"nosuid", "nodev", "noexec", "ro"} & mount.options


@pytest.mark.parametrize("link_target", ["/", "../../..", "/../../../.."])
@pytest.mark.parametrize("kind", ["tmpfs", "bind"])
def test_mount_destination_through_a_symlink_stays_in_the_rootfs(ward, bundle, tmp_path, link_target, kind):
    name = f"wt-escape-{uuid.uuid4().hex[:8]}"
    (bundle.rootfs / "link").symlink_to(link_target)
    if kind == "bind":
        source = tmp_path / "source"
        source.mkdir()
        (source / "file").write_text("bound\n")
        bundle.add_mount(f"/link/{name}", "bind", source, ["bind"])
    else:
        bundle.add_mount(f"/link/{name}", "tmpfs", "tmpfs", ["size=1m"])
    out = ward.run_ok(f"grep ' /{name} ' /proc/self/mountinfo; ls /{name}")
    assert parse_mountinfo(out.splitlines()[0])[0].mount_point == f"/{name}"
    assert (bundle.rootfs / name).is_dir()
    for host_place in (Path("/"), tmp_path, tmp_path.parent, tmp_path.parent.parent):
        assert not (host_place / name).exists(), f"the mount escaped to {host_place / name}"


def test_proc_sysfs_devpts_mqueue_mounts(ward):
    mounts = mountinfo_inside(ward)
    assert mount_at(mounts, "/proc").fstype == "proc"
    sys = mount_at(mounts, "/sys")
    assert sys.fstype == "sysfs" and "ro" in sys.options
    pts = mount_at(mounts, "/dev/pts")
    assert pts.fstype == "devpts"
    assert {"gid=5", "mode=620", "ptmxmode=666"} <= pts.super_options
    assert mount_at(mounts, "/dev/mqueue").fstype == "mqueue"
    assert mount_at(mounts, "/dev/shm").fstype == "tmpfs"


def test_cgroup_mount_is_the_containers_own_cgroup(ward, bundle):
    """/sys/fs/cgroup is read-only and shows the container's cgroup: every
    process listed there is one of the container's (pids outside its pid
    namespace would read as 0)."""
    bundle.add_mount("/sys/fs/cgroup", "cgroup", "cgroup", ["nosuid", "noexec", "nodev", "relatime", "ro"])
    out = ward.run_ok(
        "cat /proc/self/mountinfo; echo ---; "
        "cat /sys/fs/cgroup/pids/cgroup.procs 2>/dev/null || cat /sys/fs/cgroup/cgroup.procs"
    )
    mountinfo, procs = out.split("---\n")
    cgroup_mounts = [m for m in parse_mountinfo(mountinfo) if m.fstype in ("cgroup", "cgroup2")]
    assert cgroup_mounts, "no cgroup filesystem under /sys/fs/cgroup"
    assert all(m.mount_point.startswith("/sys/fs/cgroup") for m in cgroup_mounts)
    assert all("ro" in m.options for m in cgroup_mounts)
    pids = procs.split()
    assert "1" in pids and "0" not in pids, pids
    assert len(pids) <= 3, pids


def test_mqueue_is_the_containers_own(ward):
    out = ward.run_ok("touch /dev/mqueue/wt-queue 2>&1; ls /dev/mqueue")
    assert "wt-queue" in out


# --- devices ---------------------------------------------------------------

DEFAULT_DEVICES = {
    "/dev/null": (1, 3),
    "/dev/zero": (1, 5),
    "/dev/full": (1, 7),
    "/dev/random": (1, 8),
    "/dev/urandom": (1, 9),
    "/dev/tty": (5, 0),
}


def test_default_devices_are_the_right_char_devices(ward):
    out = ward.run_ok("stat -c '%n %F %t %T' " + " ".join(DEFAULT_DEVICES))
    seen = {}
    for line in out.splitlines():
        path, rest = line.split(" ", 1)
        kind, major, minor = rest.rsplit(" ", 2)
        assert kind == "character special file", line
        seen[path] = (int(major, 16), int(minor, 16))
    assert seen == DEFAULT_DEVICES


def test_default_devices_work(ward):
    out = ward.run_ok(
        "echo x > /dev/null && echo null-ok; head -c 4 /dev/zero | od -An -tx1; "
        "echo x > /dev/full 2>&1 || echo full-refused; head -c 8 /dev/urandom | wc -c"
    )
    lines = [line.strip() for line in out.splitlines()]
    assert lines[0] == "null-ok"
    assert lines[1] == "00 00 00 00"
    assert "full-refused" in lines
    assert lines[-1] == "8"


def test_dev_links_and_pseudo_filesystems(ward):
    out = ward.run_ok(
        "for l in fd stdin stdout stderr; do echo $l=$(readlink /dev/$l); done; "
        "readlink /dev/ptmx || stat -c '%t:%T' /dev/ptmx; test -d /dev/pts && echo pts-dir; "
        "echo shm > /dev/shm/f && cat /dev/shm/f"
    )
    lines = out.splitlines()
    assert lines[:4] == [
        "fd=/proc/self/fd",
        "stdin=/proc/self/fd/0",
        "stdout=/proc/self/fd/1",
        "stderr=/proc/self/fd/2",
    ]
    assert lines[4] in ("pts/ptmx", "/dev/pts/ptmx", "5:2")
    assert lines[5:] == ["pts-dir", "shm"]


def test_config_devices_are_created(ward, bundle):
    bundle.config["linux"]["devices"] = [
        {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o640, "uid": 0, "gid": 0}
    ]
    out = ward.run_ok("stat -c '%F %t %T %a %u %g' /dev/fuse")
    assert out.strip() == "character special file a e5 640 0 0"


def test_rootfs_dev_is_not_the_hosts(ward):
    """Host devices that were not asked for are not there."""
    out = ward.run_ok("ls /dev")
    assert "vda" not in out.split() and "kmsg" not in out.split()
    assert "null" in out.split()


# --- the process -----------------------------------------------------------


def test_args_are_passed_verbatim(ward):
    code, out, _ = ward.run_container(["sh", "-c", 'printf "%s|" "$0" "$@"', "a b", "c'd", '"e"', ""])
    assert code == 0
    assert out == "a b|c'd|\"e\"||"


def test_env_is_exactly_the_configs(ward, bundle):
    bundle.config["process"]["env"] = ["PATH=/bin", "FOO=bar baz", "EMPTY="]
    out = ward.run_ok("env")
    env = dict(line.split("=", 1) for line in out.splitlines())
    assert env.get("FOO") == "bar baz"
    assert env.get("EMPTY") == ""
    assert "PYTEST_CURRENT_TEST" not in env and "WARD_BINARY" not in env


def test_cwd_is_the_configs(ward, bundle):
    bundle.config["process"]["cwd"] = "/etc"
    assert ward.run_ok("pwd") == "/etc\n"


def test_user_uid_gid_and_additional_gids(ward, bundle):
    bundle.config["process"]["user"] = {"uid": 1000, "gid": 1001, "additionalGids": [2000, 3000]}
    out = ward.run_ok("id -u; id -g; id -G; cat /proc/self/status")
    uid, gid, groups, status = out.split("\n", 3)
    assert (uid, gid) == ("1000", "1001")
    assert set(groups.split()) - {"1001"} == {"2000", "3000"}
    fields = status_fields(status)
    assert fields["Uid"].split() == ["1000"] * 4
    assert fields["Gid"].split() == ["1001"] * 4
    assert set(fields["Groups"].split()) - {"1001"} == {"2000", "3000"}


def test_user_without_additional_gids_has_no_groups(ward, bundle):
    bundle.config["process"]["user"] = {"uid": 65534, "gid": 65534}
    fields = status_fields(ward.run_ok("cat /proc/self/status"))
    assert fields["Uid"].split()[0] == "65534"
    assert set(fields.get("Groups", "").split()) <= {"65534"}


@pytest.mark.parametrize("umask, expected", [(0o027, "0027"), (0o077, "0077"), (None, "0022")])
def test_umask(ward, bundle, umask, expected):
    if umask is not None:
        bundle.config["process"]["user"]["umask"] = umask
    out = ward.run_ok("grep Umask /proc/self/status; touch /tmp/f; stat -c %a /tmp/f")
    line, mode = out.splitlines()
    assert line == f"Umask:\t{expected}"
    assert int(mode, 8) == 0o666 & ~int(expected, 8)


def test_rlimits(ward, bundle):
    bundle.config["process"]["rlimits"] = [
        {"type": "RLIMIT_NOFILE", "soft": 512, "hard": 768},
        {"type": "RLIMIT_CPU", "soft": 100, "hard": 200},
        {"type": "RLIMIT_CORE", "soft": 0, "hard": 0},
    ]
    out = ward.run_ok("cat /proc/self/limits")
    limits = {line[:26].strip(): line[26:].split() for line in out.splitlines()[1:]}
    assert limits["Max open files"][:2] == ["512", "768"]
    assert limits["Max cpu time"][:2] == ["100", "200"]
    assert limits["Max core file size"][:2] == ["0", "0"]


def test_oom_score_adj(ward, bundle):
    bundle.config["process"]["oomScoreAdj"] = 500
    assert ward.run_ok("cat /proc/self/oom_score_adj") == "500\n"


# --- masked and read-only paths, sysctl -------------------------------------


def test_masked_file_reads_empty(ward, bundle):
    bundle.config["linux"]["maskedPaths"].append("/proc/cpuinfo")
    assert Path("/proc/cpuinfo").read_text()
    assert ward.run_ok("wc -c < /proc/cpuinfo").strip() == "0"


def test_masked_directory_is_empty(ward, bundle):
    secret = bundle.rootfs / "secret"
    secret.mkdir()
    (secret / "key").write_text("hunter2\n")
    (bundle.rootfs / "secret.txt").write_text("hunter2\n")
    bundle.config["linux"]["maskedPaths"] += ["/secret", "/secret.txt"]
    out = ward.run_ok("ls -A /secret; cat /secret.txt; cat /secret/key 2>&1; echo done")
    assert "hunter2" not in out
    assert out.splitlines()[-1] == "done"
    assert "No such file" in out


def test_masked_path_that_does_not_exist_is_ignored(ward, bundle):
    bundle.config["linux"]["maskedPaths"].append("/no/such/path")
    assert ward.run_ok("echo ok") == "ok\n"


def test_proc_sys_is_read_only(ward):
    out = ward.run_ok("{ echo wt > /proc/sys/kernel/domainname; } 2>&1; cat /proc/sys/kernel/domainname")
    assert "Read-only file system" in out
    assert "wt" not in out.splitlines()[-1]


def test_readonly_path_in_rootfs(ward, bundle):
    (bundle.rootfs / "data").mkdir()
    bundle.config["linux"]["readonlyPaths"].append("/data")
    out = ward.run_ok("touch /data/x 2>&1; touch /other && echo other-ok")
    assert "Read-only file system" in out
    assert "other-ok" in out
    assert not (bundle.rootfs / "data" / "x").exists()


def test_sysctl_in_the_containers_namespaces(ward, bundle):
    host_forward = Path("/proc/sys/net/ipv4/ip_forward").read_text()
    host_domain = Path("/proc/sys/kernel/domainname").read_text()
    bundle.config["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1", "kernel.domainname": "sysctl.test"}
    out = ward.run_ok("cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/domainname")
    assert out.splitlines() == ["1", "sysctl.test"]
    assert Path("/proc/sys/net/ipv4/ip_forward").read_text() == host_forward
    assert Path("/proc/sys/kernel/domainname").read_text() == host_domain


def test_rro_makes_submounts_read_only_too(ward):
    """"rro" reaches the submounts an rbind brings along (here the host's
    /dev/shm under /dev), which a plain "ro" leaves writable."""
    probe = "touch /data/shm/ward-rro-probe-$$ 2>&1 && rm /data/shm/ward-rro-probe-$$ && echo writable"
    base = list(ward.bundle.config["mounts"])

    def with_dev_at_data(read_only_option):
        mount = {"destination": "/data", "type": "bind", "source": "/dev", "options": ["rbind", read_only_option]}
        return {"mounts": base + [mount]}

    plain = ward.run_ok(probe + "; true", with_dev_at_data("ro"))
    assert "writable" in plain
    recursive = ward.run_ok(probe + "; true", with_dev_at_data("rro"))
    assert "Read-only file system" in recursive and "writable" not in recursive


def test_loopback_is_up_in_a_new_network_namespace(ward):
    """As with runc: a service on 127.0.0.1 inside works without the
    container having to bring lo up (it could not, without CAP_NET_ADMIN)."""
    out = ward.run_ok(
        "ip -o link show lo; nc -l -p 5555 > /tmp/got & sleep 0.3; echo over-loopback | nc 127.0.0.1 5555; "
        "wait; cat /tmp/got"
    )
    flags = out.split("<", 1)[1].split(">", 1)[0].split(",")
    assert "UP" in flags
    assert out.strip().endswith("over-loopback")
