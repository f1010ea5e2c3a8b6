"""Issue 7 item 4: the agent seccomp profile, policy-profiles/seccomp/agent.json.

An allow list (default SCMP_ACT_ERRNO, EPERM) of what agent workloads need:
shells, Python, Node, compilers, git.  The test loads the JSON and sets it as
config.json's linux.seccomp (there is no policy machinery yet), then checks:

- the probe (probes/syscall_probe.c) sees EPERM for every denied call, even
  with every capability, ENOSYS for clone3, and is killed by SIGSYS for a
  call through another ABI (int $0x80, x32), while the allowed calls work;
- without the profile the same probes end otherwise, so the EPERMs are the
  filter's and not the kernel's;
- real workloads still run under it: a busybox script, and the host's
  python3, gcc, node and git with the host's /usr bound read-only;
- the profile is plain OCI: runc runs the same script and probe with it.
"""

import copy
import errno
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import CGROUP_PARENT, COMMAND_TIMEOUT, container_cgroup_dirs, merge, wait_until

TOP = Path(__file__).resolve().parents[2]
PROFILE_PATH = TOP / "policy-profiles" / "seccomp" / "agent.json"
PROBE_SOURCE = Path(__file__).parent / "probes" / "syscall_probe.c"
RUNC = Path("/usr/sbin/runc")

EPERM, ENOSYS, SIGSYS = "1", "38", "killed 31"

# probe name -> what it must print under the profile.
DENIED = {
    name: EPERM
    for name in (
        "ptrace",
        "process_vm_readv",
        "process_vm_writev",
        "userfaultfd",
        "keyctl",
        "add_key",
        "request_key",
        "bpf",
        "perf_event_open",
        "kexec_load",
        "kexec_file_load",
        "init_module",
        "finit_module",
        "delete_module",
        "mount",
        "umount2",
        "pivot_root",
        "open_tree",
        "move_mount",
        "fsopen",
        "fsconfig",
        "fsmount",
        "fspick",
        "mount_setattr",
        "unshare",
        "setns",
        "clone_newuser",
        "clone_newns",
        "clone_newuts",
        "clone_newipc",
        "clone_newpid",
        "clone_newnet",
        "clone_newcgroup",
        "io_uring_setup",
        "io_uring_enter",
        "io_uring_register",
        "acct",
        "swapon",
        "swapoff",
        "reboot",
        "clock_settime",
        "settimeofday",
        "adjtimex",
        "clock_adjtime",
        "name_to_handle_at",
        "open_by_handle_at",
        "socket_packet",
        "netlink_audit",
        "socket_alg",
        "socket_vsock",
        "socket_key",
        "socket_packet_high_bits",
        "socketpair_inet",
    )
}
DENIED["clone3"] = ENOSYS
DENIED["int80"] = SIGSYS
# From a second thread: the whole process is killed, not only the thread.
DENIED["int80_thread"] = SIGSYS
DENIED["x32"] = SIGSYS

# probe name -> what it must print, with the profile or without.
ALLOWED = {
    name: "ok"
    for name in (
        "getpid",
        "socket_unix",
        "socket_inet",
        "socket_inet6",
        "netlink_route",
        "socketpair_unix",
        "fork",
        "thread",
        "pipe",
        "file",
        "clone_plain",
    )
}
# Answers that are no refusal by the filter either: a kernel without IPv6.
ALSO_FINE = {"socket_inet6": {str(errno.EAFNOSUPPORT)}}

# Probes that a host's settings may refuse with EPERM even without a filter
# (kernel.kexec_load_disabled, kernel.modules_disabled, lockdown,
# kernel.io_uring_disabled=2): the control test lets them answer EPERM.
HOST_GATED = {"kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "io_uring_setup"}

# Syscalls newer than this host's kernel headers that the profile names.
NEWER_SYSCALLS = {
    "cachestat", "fchmodat2", "map_shadow_stack", "futex_wake", "futex_wait", "futex_requeue", "statmount",
    "listmount", "lsm_get_self_attr", "lsm_list_modules", "mseal", "setxattrat", "getxattrat", "listxattrat",
    "removexattrat", "file_getattr", "file_setattr",
}  # fmt: skip
UNISTD_64 = Path("/usr/include/x86_64-linux-gnu/asm/unistd_64.h")

ALL_CAPS = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
    "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
    "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
    "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
]  # fmt: skip  (in the order of their numbers)


def own_capabilities():
    """Every capability this process's bounding set holds, which is all a
    container can get (a sandboxed host may lack some, CAP_SYS_RESOURCE...)."""
    status = Path("/proc/self/status").read_text()
    bounding = int(next(line.split()[1] for line in status.splitlines() if line.startswith("CapBnd:")), 16)
    return [name for number, name in enumerate(ALL_CAPS) if bounding & (1 << number)]


# Killed children must not leave core files in the rootfs.
RLIMITS = [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}, {"type": "RLIMIT_CORE", "hard": 0, "soft": 0}]


@pytest.fixture(scope="session")
def agent_profile():
    return json.loads(PROFILE_PATH.read_text())


@pytest.fixture(scope="session")
def syscall_probe(tmp_path_factory):
    binary = tmp_path_factory.mktemp("probe") / "syscall-probe"
    subprocess.run(["gcc", "-static", "-O2", "-o", str(binary), str(PROBE_SOURCE), "-lpthread"], check=True)
    return binary


def with_profile(profile, caps=None):
    """config_changes: the profile as linux.seccomp, no core files, and
    `caps` (all four sets) when given."""
    changes = {"linux": {"seccomp": copy.deepcopy(profile)} if profile else {}, "process": {"rlimits": RLIMITS}}
    if caps is not None:
        changes["process"]["capabilities"] = {kind: list(caps) for kind in ("bounding", "effective", "permitted")}
    return changes


def parse_probe(out):
    """{probe: result} from the probe's "NAME RESULT" lines; it must have
    reached its last line."""
    lines = out.splitlines()
    assert lines and lines[-1] == "done", f"the probe did not finish: {out!r}"
    results = {}
    for line in lines[:-1]:
        name, _, result = line.partition(" ")
        assert name not in results, f"{name} printed twice: {out!r}"
        results[name] = result
    return results


def run_probe(ward, bundle, probe, changes):
    shutil.copy2(probe, bundle.rootfs / "bin" / "syscall-probe")
    code, out, err = ward.run_container(["/bin/syscall-probe"], changes, bundle)
    assert code == 0, f"probe exited {code}; stdout={out!r} stderr={err!r}"
    return parse_probe(out)


def mismatches(results, expected):
    """{probe: (got, wanted)} for the probes that did not print what `expected` says."""
    return {
        name: (results.get(name), want)
        for name, want in expected.items()
        if results.get(name) != want and results.get(name) not in ALSO_FINE.get(name, ())
    }


@pytest.fixture(scope="session")
def host_int80(syscall_probe):
    """What int $0x80 does on this host without a filter: "ok" with IA32
    emulation; otherwise the child dies of SIGSEGV, and no filter ever sees
    the call.  (The probe, given names, runs only those probes.)"""
    out = subprocess.run([str(syscall_probe), "int80"], capture_output=True, text=True, check=True).stdout
    return parse_probe(out)["int80"]


@pytest.fixture(scope="session")
def denied(host_int80):
    """DENIED, for this host."""
    expected = dict(DENIED)
    if host_int80 != "ok":
        expected["int80"] = expected["int80_thread"] = host_int80
    return expected


# --- the probe ------------------------------------------------------------------


def test_profile_is_an_oci_seccomp_object(agent_profile):
    assert agent_profile["defaultAction"] == "SCMP_ACT_ERRNO"
    assert agent_profile["defaultErrnoRet"] == 1
    assert agent_profile["architectures"] == ["SCMP_ARCH_X86_64"]
    allowed_fields = {"names", "action", "errnoRet", "args"}
    for entry in agent_profile["syscalls"]:
        assert set(entry) <= allowed_fields, entry
        assert entry["names"] and entry["action"].startswith("SCMP_ACT_")
    allowed = {n for e in agent_profile["syscalls"] if e["action"] == "SCMP_ACT_ALLOW" for n in e["names"]}
    # Nothing on the deny list is allowed, not even with argument conditions
    # (clone and socket are, but only through their argument rules).
    never = {
        "io_uring_setup", "io_uring_enter", "io_uring_register", "ptrace", "process_vm_readv",
        "process_vm_writev", "userfaultfd", "keyctl", "add_key", "request_key", "bpf", "perf_event_open",
        "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "mount", "umount2",
        "pivot_root", "move_mount", "fsopen", "fsconfig", "fsmount", "fspick", "open_tree", "mount_setattr",
        "unshare", "setns", "clone3", "acct", "swapon", "swapoff", "reboot", "settimeofday", "clock_settime",
        "clock_adjtime", "adjtimex", "open_by_handle_at", "name_to_handle_at",
    }  # fmt: skip
    assert allowed & never == set()
    if UNISTD_64.exists():
        known = set(re.findall(r"^#define __NR_(\w+) \d+$", UNISTD_64.read_text(), re.MULTILINE))
        named = {n for e in agent_profile["syscalls"] for n in e["names"]}
        assert named - known - NEWER_SYSCALLS == set(), "names that are no x86_64 syscall"
    clone_rules = [e for e in agent_profile["syscalls"] if "clone" in e["names"]]
    assert [e.get("args") for e in clone_rules] == [
        [{"index": 0, "value": 0x7E020000, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]
    ]


def test_denied_calls_fail_and_allowed_calls_work(ward, bundle, syscall_probe, agent_profile, denied):
    # Every capability: EPERM must come from the filter, not from a missing one.
    results = run_probe(ward, bundle, syscall_probe, with_profile(agent_profile, own_capabilities()))
    assert set(results) == set(DENIED) | set(ALLOWED), f"unexpected probes: {results}"
    assert mismatches(results, ALLOWED) == {}, "allowed calls failed (got, wanted)"
    assert mismatches(results, denied) == {}, "denied calls ended otherwise (got, wanted)"


def test_without_the_profile_the_probes_end_otherwise(ward, bundle, syscall_probe, host_int80):
    """The control: with every capability and no filter, the probe's
    arguments make the kernel answer with something else than the filter
    would, so the test above sees the filter's answers."""
    results = run_probe(ward, bundle, syscall_probe, with_profile(None, own_capabilities()))
    assert mismatches(results, ALLOWED) == {}, "allowed calls failed without a filter (got, wanted)"
    same = {name: result for name, result in results.items() if DENIED.get(name) == result}
    same = {name: result for name, result in same.items() if not (name in HOST_GATED and result == EPERM)}
    assert same == {}, "these probes end the same with and without the profile"
    # The 32-bit getpid is a call in the container as on the host.
    assert results["int80"] == host_int80
    assert results["int80_thread"] == host_int80


# --- workloads ----------------------------------------------------------------------

BUSYBOX_SCRIPT = r"""
set -e
mkdir -p /tmp/work/src && cd /tmp/work
for i in 1 2 3 4 5; do echo "line $i $((i * i))" > src/f$i.txt; done
cat src/*.txt | sort -t' ' -k3 -n -r | head -n 2 | cut -d' ' -f3 | tr '\n' ' ' > top; echo >> top
find src -name 'f*.txt' -type f | sort | wc -l > count
sed -i 's/^line/LINE/' src/f1.txt
awk '{ s += $3 } END { print "sum", s }' src/*.txt > sum
tar -czf src.tgz src && mkdir out && tar -xzf src.tgz -C out && diff -r src out/src
gzip -k top && gunzip -c top.gz > top2 && cmp top top2
(sleep 0.2; echo slow > bg1) & (echo fast > bg2) & wait
sleep 30 & pid=$!; kill $pid; wait $pid || echo "killed $?" > bg3
mkfifo fifo && (echo through-fifo > fifo &) && cat fifo > fifo.out
ln -s src/f2.txt link && readlink link > link.out && chmod 600 src/f3.txt && stat -c %a src/f3.txt > mode
date +%Y > year && df /tmp > /dev/null && ps > /dev/null && id -u > uid
seq 1 1000 | xargs -n 100 echo | md5sum | cut -c1-8 > xargs.md5
printf 'b\na\nc\n' | sort | tr -d '\n' > sorted; echo >> sorted
ip link show lo | head -n 1 | cut -d' ' -f2 > iplink
cat top count sum bg1 bg2 bg3 fifo.out link.out mode uid sorted iplink
head -n 1 src/f1.txt
test "$(cat year)" -ge 2024 && echo year-ok
"""

BUSYBOX_EXPECTED = [
    "25 16 ",
    "5",
    "sum 55",
    "slow",
    "fast",
    "killed 143",
    "through-fifo",
    "src/f2.txt",
    "600",
    "0",
    "abc",
    "lo:",
    "LINE 1 1",
    "year-ok",
]


def check_busybox_output(out):
    assert out.splitlines() == BUSYBOX_EXPECTED, out


def test_busybox_script_runs_under_the_profile(ward, bundle, agent_profile):
    check_busybox_output(ward.run_ok(BUSYBOX_SCRIPT, with_profile(agent_profile)))


# The host's toolchains: /usr bound read-only at /usr (and /lib*, which on a
# merged-/usr host are symlinks into it), a tmpfs at /tmp.

PYTHON_SNIPPET = r"""
import asyncio, hashlib, json, multiprocessing, socket, sqlite3, subprocess, tempfile, threading

def square(x):
    return x * x

async def echo_once():
    async def handle(reader, writer):
        writer.write(await reader.readline())
        await writer.drain()
        writer.close()
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"ping\n")
    line = await reader.readline()
    writer.close()
    server.close()
    await server.wait_closed()
    return line.decode().strip()

if __name__ == "__main__":
    results = {}
    results["sha256"] = hashlib.sha256(b"ward").hexdigest()[:12]
    with tempfile.TemporaryDirectory() as d:
        db = sqlite3.connect(d + "/t.db")
        db.execute("create table t (x integer)")
        db.executemany("insert into t values (?)", [(i,) for i in range(10)])
        db.commit()
        results["sqlite"] = db.execute("select sum(x) from t").fetchone()[0]
        db.close()
    results["subprocess"] = subprocess.run(["sh", "-c", "echo $((6 * 7))"], capture_output=True, text=True,
                                           check=True).stdout.strip()
    box = []
    thread = threading.Thread(target=box.append, args=("thread",))
    thread.start()
    thread.join()
    results["thread"] = box[0]
    with multiprocessing.Pool(2) as pool:
        results["pool"] = pool.map(square, range(5))
    results["echo"] = asyncio.run(echo_once())
    results["interfaces"] = [name for _, name in socket.if_nameindex()]
    results["addrconfig"] = len(socket.getaddrinfo("127.0.0.1", 80, flags=socket.AI_ADDRCONFIG)) > 0
    print(json.dumps(results, sort_keys=True))
"""

PYTHON_EXPECTED = {
    "addrconfig": True,
    "echo": "ping",
    "interfaces": ["lo"],
    "pool": [0, 1, 4, 9, 16],
    "sha256": "",  # filled in below: the host computes the same digest
    "sqlite": 45,
    "subprocess": "42",
    "thread": "thread",
}

C_SOURCE = r"""
#include <pthread.h>
#include <stdio.h>
static void *run (void *arg) { return arg; }
int main (void)
{
  pthread_t t;
  void *r;
  pthread_create (&t, NULL, run, "threads");
  pthread_join (t, &r);
  printf ("hello from gcc with %s\n", (char *) r);
  return 0;
}
"""

NODE_SNIPPET = r"""
const { execFileSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const net = require('net');
const { Worker } = require('worker_threads');
fs.writeFileSync('/tmp/n.txt', 'node');
const out = {
  file: fs.readFileSync('/tmp/n.txt', 'utf8'),
  child: execFileSync('sh', ['-c', 'echo $((6 * 7))']).toString().trim(),
  sha: crypto.createHash('sha256').update('ward').digest('hex').slice(0, 12),
};
const worker = new Worker('require("worker_threads").parentPort.postMessage(6 * 7)', { eval: true });
worker.on('message', (m) => {
  out.worker = m;
  const server = net.createServer((s) => s.pipe(s)).listen(0, '127.0.0.1', () => {
    const c = net.connect(server.address().port, '127.0.0.1', () => c.write('ping'));
    c.on('data', (d) => {
      out.echo = d.toString();
      c.end();
      server.close();
      console.log(JSON.stringify(out));
    });
  });
});
"""

GIT_SCRIPT = r"""
set -e
export HOME=/tmp/home GIT_CONFIG_NOSYSTEM=1
mkdir -p $HOME /tmp/repo && cd /tmp/repo
git init -q -b main .
git config user.email agent@example.com && git config user.name agent
echo one > a && git add a && git commit -q -m first
echo two >> a && git commit -q -am second
git log --format=%s | tr '\n' ' '; echo
git diff HEAD~1 --stat | tail -n 1
git clone -q /tmp/repo /tmp/clone && cat /tmp/clone/a | tr '\n' ' '; echo
"""


def bind_host_usr(bundle):
    """Bind the host's /usr read-only at /usr, its /lib* directories too;
    /lib* symlinks (merged /usr) are copied as symlinks.  /tmp: a tmpfs."""
    bundle.add_mount("/usr", "bind", "/usr", ["rbind", "ro", "nosuid", "nodev"])
    for lib in sorted(Path("/").glob("lib*")):
        target = bundle.rootfs / lib.name
        if lib.is_symlink():
            target.symlink_to(os.readlink(lib))
        elif lib.is_dir():
            bundle.add_mount(f"/{lib.name}", "bind", lib, ["rbind", "ro", "nosuid", "nodev"])
    bundle.add_mount("/tmp", "tmpfs", "tmpfs", ["nosuid", "nodev", "mode=1777", "size=262144k"])


@pytest.fixture
def host_usr_bundle(ward, bundle):
    """The test's bundle with the host's /usr in it; skips (saying why) if
    the container cannot even start with that mount."""
    bind_host_usr(bundle)
    code, out, err = ward.run_container(["/usr/bin/env", "true"], {}, bundle)
    if code != 0:
        pytest.skip(f"binding the host's /usr into the container failed ({code}): {err.strip() or out.strip()}")
    return bundle


# ward, unlike runc, leaves lo down in a new network namespace: the
# workloads that talk TCP over 127.0.0.1 bring it up first (busybox ip, over
# NETLINK_ROUTE, which the profile allows), with CAP_NET_ADMIN for that.
BASE_CAPS = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
LO_UP = 'ip link set lo up && exec "$0" "$@"'


def with_lo_up(args):
    return ["sh", "-c", LO_UP, *args]


def need(path):
    if not os.access(path, os.X_OK):
        pytest.skip(f"{path} is not installed on the host")


def test_python_runs_under_the_profile(ward, host_usr_bundle, agent_profile):
    need("/usr/bin/python3")
    (host_usr_bundle.rootfs / "root" / "snippet.py").write_text(PYTHON_SNIPPET)
    changes = with_profile(agent_profile, BASE_CAPS + ["CAP_NET_ADMIN"])
    code, out, err = ward.run_container(with_lo_up(["/usr/bin/python3", "/root/snippet.py"]), changes)
    assert code == 0, f"python exited {code}; stdout={out!r} stderr={err!r}"
    expected = dict(PYTHON_EXPECTED, sha256=hashlib.sha256(b"ward").hexdigest()[:12])
    assert json.loads(out) == expected


def test_gcc_compiles_and_runs_under_the_profile(ward, host_usr_bundle, agent_profile):
    need("/usr/bin/gcc")
    (host_usr_bundle.rootfs / "root" / "hello.c").write_text(C_SOURCE)
    script = "cd /tmp && gcc -O2 -pthread -o hello /root/hello.c && ./hello"
    assert ward.run_ok(script, with_profile(agent_profile)) == "hello from gcc with threads\n"


def test_node_runs_under_the_profile(ward, host_usr_bundle, agent_profile):
    need("/usr/bin/node")
    (host_usr_bundle.rootfs / "root" / "snippet.js").write_text(NODE_SNIPPET)
    changes = with_profile(agent_profile, BASE_CAPS + ["CAP_NET_ADMIN"])
    code, out, err = ward.run_container(with_lo_up(["/usr/bin/node", "/root/snippet.js"]), changes)
    assert code == 0, f"node exited {code}; stdout={out!r} stderr={err!r}"
    assert json.loads(out) == {
        "file": "node",
        "child": "42",
        "sha": hashlib.sha256(b"ward").hexdigest()[:12],
        "worker": 42,
        "echo": "ping",
    }


def test_git_runs_under_the_profile(ward, host_usr_bundle, agent_profile):
    need("/usr/bin/git")
    out = ward.run_ok(GIT_SCRIPT, with_profile(agent_profile))
    assert out.splitlines() == ["second first ", " 1 file changed, 1 insertion(+)", "one two "]


# --- runc ----------------------------------------------------------------------------


def runc_run(ward, bundle, args, changes):
    """`runc run` the bundle in the foreground with its own --root, then
    delete whatever is left; returns (exit code, stdout, stderr)."""
    bundle.config["process"]["args"] = list(args)
    merge(bundle.config, changes)
    container_id = ward.new_id()  # the fixture's teardown checks its cgroups too
    bundle.write_config(container_id)
    assert json.loads(bundle.config_path.read_text())["linux"]["cgroupsPath"] == f"{CGROUP_PARENT}/{container_id}"
    root = Path(tempfile.mkdtemp(prefix="runc-root-", dir=bundle.path.parent))
    try:
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            proc = subprocess.run(
                [str(RUNC), "--root", str(root), "run", "--bundle", str(bundle.path), container_id],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                timeout=COMMAND_TIMEOUT,
            )
            out.seek(0)
            err.seek(0)
            return proc.returncode, out.read().decode(errors="replace"), err.read().decode(errors="replace")
    finally:
        subprocess.run([str(RUNC), "--root", str(root), "delete", "--force", container_id], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
        wait_until(lambda: not container_cgroup_dirs(container_id), timeout=2.0)


@pytest.fixture
def runc_bundle(ward, make_bundle):
    if not os.access(RUNC, os.X_OK):
        pytest.skip(f"{RUNC} is not installed")
    return ward.add_bundle(make_bundle("runc"))


def test_runc_runs_the_script_with_the_profile(ward, runc_bundle, agent_profile):
    code, out, err = runc_run(ward, runc_bundle, ["sh", "-c", BUSYBOX_SCRIPT], with_profile(agent_profile))
    assert code == 0, f"runc: exit {code}; stdout={out!r} stderr={err!r}"
    check_busybox_output(out)


def test_runc_gives_the_probe_the_same_answers(ward, runc_bundle, syscall_probe, agent_profile, denied):
    shutil.copy2(syscall_probe, runc_bundle.rootfs / "bin" / "syscall-probe")
    changes = with_profile(agent_profile, own_capabilities())
    code, out, err = runc_run(ward, runc_bundle, ["/bin/syscall-probe"], changes)
    assert code == 0, f"runc: exit {code}; stdout={out!r} stderr={err!r}"
    results = parse_probe(out)
    assert mismatches(results, ALLOWED) == {}
    # runc kills only the calling thread on a foreign ABI; ward the process.
    runc_expected = dict(denied, int80_thread=results.get("int80_thread"))
    assert mismatches(results, runc_expected) == {}
