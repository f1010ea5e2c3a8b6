#!/usr/bin/python3
"""Lifecycle benchmark: ward vs crun vs runc.

Times N cycles of  create -> start -> wait -> delete  of /bin/true for each
runtime on the same bundle, interleaving the runtimes round-robin so that
machine noise hits all of them equally, and prints median/min/max per cycle
and the ratios of ward to the others.

This is a benchmark, not a test: nothing here asserts on time.  Python 3
standard library only.  Must run as root, e.g.

    sudo /usr/bin/python3 tests/bench/bench.py --ward ./ward -n 50

See tests/bench/README.md.
"""

import argparse
import ctypes
import gc
import json
import os
import platform
import re
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time

SCRIPT = os.path.abspath(__file__)
SCRIPT_DIR = os.path.dirname(SCRIPT)
DEFAULT_WARD = os.path.normpath(os.path.join(SCRIPT_DIR, "..", "..", "ward"))
KNOWN_RUNTIMES = ("ward", "crun", "runc")
PHASES = ("create", "start", "wait", "delete")
CGROUP_PREFIX = "ward-bench"  # every cgroup we name starts with this
ID_PREFIX = "wb-"  # every container id we create starts with this
PR_SET_CHILD_SUBREAPER = 36


# --------------------------------------------------------------------------
# small helpers


class BenchError(Exception):
    """A runtime could not be set up or a cycle failed."""

    def __init__(self, message, phase=None, cmd=None, returncode=None, stderr=None):
        super().__init__(message)
        self.message = message
        self.phase = phase
        self.cmd = cmd
        self.returncode = returncode
        self.stderr = stderr

    def to_dict(self):
        return {"message": self.message, "phase": self.phase, "cmd": self.cmd,
                "returncode": self.returncode, "stderr": self.stderr}

    @classmethod
    def from_dict(cls, d):
        return cls(d.get("message", "?"), d.get("phase"), d.get("cmd"), d.get("returncode"), d.get("stderr"))

    def describe(self):
        lines = [self.message]
        if self.cmd:
            lines.append("command: " + " ".join(self.cmd))
        if self.stderr and self.stderr.strip():
            lines.append("stderr:")
            lines.extend("  | " + l for l in self.stderr.rstrip().splitlines())
        return "\n".join(lines)


def set_child_subreaper():
    """Container init processes are orphaned when `RT create` exits; become
    their subreaper (as a containerd shim would) so that we reap them
    ourselves instead of relying on whatever the host's pid 1 does."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def reap_orphans(exclude=()):
    """Reap any zombie children (orphans reparented to us), except `exclude`."""
    while True:
        try:
            info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return
        if info is None or info.si_pid in exclude or info.si_pid == 0:
            return
        try:
            os.waitpid(info.si_pid, 0)
        except ChildProcessError:
            pass


def tail(text, limit=4000):
    text = text or ""
    return text if len(text) <= limit else "...\n" + text[-limit:]


def elf_has_interp(path):
    """True if `path` is a dynamically linked ELF (has PT_INTERP), False if
    static, None if it is not an ELF we understand."""
    try:
        with open(path, "rb") as f:
            hdr = f.read(64)
            if len(hdr) < 52 or hdr[:4] != b"\x7fELF":
                return None
            end = "<" if hdr[5] == 1 else ">"
            if hdr[4] == 2:
                phoff = struct.unpack_from(end + "Q", hdr, 32)[0]
                phentsize, phnum = struct.unpack_from(end + "HH", hdr, 54)
            else:
                phoff = struct.unpack_from(end + "I", hdr, 28)[0]
                phentsize, phnum = struct.unpack_from(end + "HH", hdr, 42)
            f.seek(phoff)
            for _ in range(phnum):
                ph = f.read(phentsize)
                if len(ph) >= 4 and struct.unpack_from(end + "I", ph, 0)[0] == 3:  # PT_INTERP
                    return True
            return False
    except OSError:
        return None


def runtime_version(path):
    try:
        p = subprocess.run([path, "--version"], stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    out = (p.stdout or p.stderr or "").strip().splitlines()
    return out[0].strip() if out and p.returncode == 0 else None


# --------------------------------------------------------------------------
# cgroups: where are we, and what may we remove


def _unescape_mountinfo(s):
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), s)


def parse_mountinfo(path="/proc/self/mountinfo"):
    mounts = []
    with open(path) as f:
        for line in f:
            left, _, right = line.rstrip("\n").partition(" - ")
            fl, fr = left.split(" "), right.split(" ")
            if len(fl) < 5 or len(fr) < 2:
                continue
            mounts.append({"root": _unescape_mountinfo(fl[3]), "mountpoint": _unescape_mountinfo(fl[4]),
                           "fstype": fr[0], "superopts": fr[2] if len(fr) > 2 else ""})
    return mounts


def parse_proc_cgroup(path="/proc/self/cgroup"):
    """[(hierarchy_id, controllers, path)]"""
    out = []
    with open(path) as f:
        for line in f:
            hid, ctrls, cgpath = line.rstrip("\n").split(":", 2)
            out.append((hid, ctrls, cgpath))
    return out


def cgroup_hierarchies():
    """For each mounted cgroup hierarchy in which our own cgroup is visible:
    {"label", "mountpoint", "own_path" (path inside the hierarchy), "own_dir"
    (directory of our own cgroup on disk), "hid"}."""
    own = parse_proc_cgroup()
    result, seen = [], set()
    for m in parse_mountinfo():
        entry = None
        if m["fstype"] == "cgroup2":
            entry = next((e for e in own if e[0] == "0" and e[1] == ""), None)
        elif m["fstype"] == "cgroup":
            opts = set(m["superopts"].split(","))
            for e in own:
                if e[1] and all(c in opts for c in e[1].split(",")):
                    entry = e
                    break
        if entry is None or m["mountpoint"] in seen:
            continue
        hid, ctrls, path = entry
        root = m["root"]
        if root == "/":
            rel = path
        elif path == root or path.startswith(root.rstrip("/") + "/"):
            rel = path[len(root):]
        else:
            continue  # our cgroup is not visible in this mount
        seen.add(m["mountpoint"])
        result.append({"label": ctrls or "unified", "hid": hid, "mountpoint": m["mountpoint"],
                       "own_path": path,
                       "own_dir": os.path.normpath(os.path.join(m["mountpoint"], rel.lstrip("/")))})
    return result


def check_cgroup_containment(pid):
    """Return a list of problems if process `pid` sits in a cgroup outside the
    subtree of our own cgroup in any hierarchy."""
    own = {e[0]: e for e in parse_proc_cgroup()}
    problems = []
    try:
        theirs = parse_proc_cgroup("/proc/%d/cgroup" % pid)
    except OSError as e:
        return ["cannot read /proc/%d/cgroup: %s" % (pid, e)]
    for hid, ctrls, path in theirs:
        mine = own.get(hid)
        if mine is None:
            continue
        base = mine[2].rstrip("/")
        if not (path == mine[2] or path.startswith(base + "/")):
            problems.append("%s: container is in %s, outside the benchmark's own cgroup %s"
                            % (ctrls or "unified", path, mine[2]))
    return problems


def cleanup_cgroups(cg_name):
    """rmdir (bottom-up) <own cgroup>/<cg_name> in every hierarchy.  Only
    directories beneath our own cgroup are touched, and only by rmdir (which
    the kernel refuses for cgroups that still have processes or children);
    nothing is ever written to any cgroup file.  Returns (removed, warnings)."""
    removed, warnings = [], []
    for h in cgroup_hierarchies():
        target = os.path.join(h["own_dir"], cg_name)
        if os.path.isdir(target):
            dirs = [d for d, _, _ in os.walk(target, topdown=False)]
            for d in dirs:
                for attempt in range(50):
                    try:
                        os.rmdir(d)
                        removed.append(d)
                        break
                    except FileNotFoundError:
                        break
                    except OSError as e:
                        if attempt == 49:
                            warnings.append("could not remove cgroup %s: %s" % (d, e))
                        else:
                            time.sleep(0.02)  # a dying task may still be leaving it
        # A runtime that treated the relative cgroupsPath as absolute would
        # have created it at the root of the hierarchy: report, never touch.
        stray = os.path.join(h["mountpoint"], cg_name)
        if os.path.normpath(stray) != os.path.normpath(target) and os.path.exists(stray):
            warnings.append("found %s outside the benchmark's own cgroup (a runtime did not nest the "
                            "relative cgroupsPath); NOT removed" % stray)
    return removed, warnings


# --------------------------------------------------------------------------
# the bundle


def runc_like_config(annotations):
    caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    config = {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": False,
            "user": {"uid": 0, "gid": 0},
            "args": ["/bin/true"],
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            "cwd": "/",
            "capabilities": {k: list(caps) for k in ("bounding", "effective", "permitted", "ambient")},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": "rootfs", "readonly": True},
        "hostname": "ward-bench",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
             "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs",
             "options": ["nosuid", "noexec", "nodev", "ro"]},
        ],
        "linux": {
            "cgroupsPath": "",  # set per cycle, always relative
            "resources": {"devices": [{"allow": False, "access": "rwm"}]},
            "namespaces": [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount")],
            "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                            "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
                            "/proc/scsi"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
        },
    }
    if annotations:
        config["annotations"] = dict(annotations)
    return config


def build_bundle(bundle, busybox):
    if not os.access(busybox, os.X_OK):
        raise BenchError("busybox not found at %s (apt-get install busybox-static)" % busybox)
    if elf_has_interp(busybox):
        raise BenchError("%s is dynamically linked; a static busybox is needed (apt-get install "
                         "busybox-static)" % busybox)
    rootfs = os.path.join(bundle, "rootfs")
    for d in ("bin", "dev", "etc", "proc", "sys", "tmp", "root"):
        os.makedirs(os.path.join(rootfs, d), exist_ok=True)
    os.chmod(os.path.join(rootfs, "tmp"), 0o1777)
    os.chmod(os.path.join(rootfs, "root"), 0o700)
    shutil.copy2(busybox, os.path.join(rootfs, "bin", "busybox"))
    listing = subprocess.run([busybox, "--list"], stdin=subprocess.DEVNULL, capture_output=True,
                             text=True, check=True).stdout.split()
    for applet in listing:
        if applet == "busybox" or "/" in applet:
            continue
        os.symlink("busybox", os.path.join(rootfs, "bin", applet))
    with open(os.path.join(rootfs, "etc", "passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
    with open(os.path.join(rootfs, "etc", "group"), "w") as f:
        f.write("root:x:0:\ntty:x:5:\nnogroup:x:65534:\n")
    return len(listing)


def write_config(bundle, template, cgroups_path):
    config = json.loads(json.dumps(template))
    config["linux"]["cgroupsPath"] = cgroups_path
    tmp = os.path.join(bundle, ".config.json.tmp")
    with open(tmp, "w") as f:
        json.dump(config, f, indent=1)
    os.replace(tmp, os.path.join(bundle, "config.json"))


# --------------------------------------------------------------------------
# running one runtime


def run_timed(cmd, capture_stdout, err, timeout):
    """subprocess.run(cmd, timeout=...), but woken by the exit itself.

    subprocess.run with a timeout waits by polling waitpid with sleeps of
    1, 2, 4, 8, 16... ms, so a command that takes 8 ms is seen to end at
    15 ms: every phase time would be rounded up to the next step.  A pidfd
    becomes readable the moment the process exits."""
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE if capture_stdout else subprocess.DEVNULL, stderr=err)
    with p:
        try:
            if capture_stdout:
                out, _ = p.communicate(timeout=timeout)
            else:
                out = None
                pidfd = os.pidfd_open(p.pid)
                try:
                    poller = select.poll()
                    poller.register(pidfd, select.POLLIN)
                    if not poller.poll(timeout * 1000):
                        raise subprocess.TimeoutExpired(cmd, timeout)
                finally:
                    os.close(pidfd)
            p.wait()
        except BaseException:
            p.kill()
            p.wait()
            raise
    return subprocess.CompletedProcess(cmd, p.returncode, out)


class LocalRuntime:
    """Runs cycles of one runtime in this process."""

    def __init__(self, name, path, root, global_args, bundle, template, workdir, pid_from, timeout):
        self.name, self.path, self.root = name, path, root
        self.global_args = list(global_args)
        self.bundle, self.template = bundle, template
        self.pid_from, self.timeout = pid_from, timeout
        self.pidfile = os.path.join(workdir, name + ".pid")
        self.errfile = os.path.join(workdir, name + ".stderr")
        os.makedirs(root, mode=0o700, exist_ok=True)

    def _cmd(self, args):
        return [self.path, "--root", self.root] + self.global_args + list(args)

    def _run(self, phase, args, capture_stdout=False, check=True):
        cmd = self._cmd(args)
        # stderr goes to a regular file, never a pipe: after `create` the
        # container process inherits the runtime's stdio and would hold a
        # pipe open until it exits.
        with open(self.errfile, "w+") as err:
            try:
                p = run_timed(cmd, capture_stdout, err, self.timeout)
            except subprocess.TimeoutExpired:
                err.seek(0)
                raise BenchError("%s %s timed out after %ss" % (self.name, phase, self.timeout),
                                 phase, cmd, None, tail(err.read()))
            except OSError as e:
                raise BenchError("%s %s: cannot execute %s: %s" % (self.name, phase, self.path, e), phase, cmd)
            if check and p.returncode != 0:
                err.seek(0)
                raise BenchError("%s %s exited with status %d" % (self.name, phase, p.returncode),
                                 phase, cmd, p.returncode, tail(err.read()))
        return p.stdout.decode(errors="replace") if capture_stdout else None

    def _container_pid(self, cid):
        if self.pid_from == "pidfile":
            try:
                with open(self.pidfile) as f:
                    return int(f.read().strip())
            except (OSError, ValueError):
                pass  # fall back to `state`
        out = self._run("state", ["state", cid], capture_stdout=True)
        try:
            pid = int(json.loads(out)["pid"])
        except (ValueError, KeyError, TypeError):
            raise BenchError("%s state: no pid in output" % self.name, "state", self._cmd(["state", cid]),
                             stderr=tail(out))
        if pid <= 0:
            raise BenchError("%s state: pid %d right after create" % (self.name, pid), "state")
        return pid

    def _wait_pidfd(self, pidfd, timeout):
        p = select.poll()
        p.register(pidfd, select.POLLIN)
        if not p.poll(timeout * 1000):
            raise BenchError("%s: container process did not exit within %ss after start" % (self.name, timeout),
                             "wait")
        try:  # reap it if it is ours (we are the subreaper)
            os.waitid(os.P_PIDFD, pidfd, os.WEXITED)
        except ChildProcessError:
            pass

    def cycle(self, cid, cgroups_path, check_cgroups=False):
        """One timed cycle; returns [create, start, wait, delete, total] in ns."""
        write_config(self.bundle, self.template, cgroups_path)
        try:
            os.unlink(self.pidfile)
        except FileNotFoundError:
            pass
        pidfd = -1
        try:
            t0 = time.perf_counter_ns()
            create = ["create", "--bundle", self.bundle]
            if self.pid_from == "pidfile":
                create += ["--pid-file", self.pidfile]
            self._run("create", create + [cid])
            t1 = time.perf_counter_ns()
            pid = self._container_pid(cid)
            pidfd = os.pidfd_open(pid)
            if check_cgroups:
                problems = check_cgroup_containment(pid)
                if problems:
                    raise BenchError("%s placed the container outside the benchmark's cgroup "
                                     "(relative cgroupsPath %r not nested):\n  %s"
                                     % (self.name, cgroups_path, "\n  ".join(problems)), "create")
            self._run("start", ["start", cid])
            t2 = time.perf_counter_ns()
            self._wait_pidfd(pidfd, self.timeout)
            t3 = time.perf_counter_ns()
            self._run("delete", ["delete", cid])
            t4 = time.perf_counter_ns()
            return [t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0]
        except BaseException:
            self._force_remove(cid, pidfd)
            raise
        finally:
            if pidfd >= 0:
                os.close(pidfd)

    def _force_remove(self, cid, pidfd=-1):
        for args in (["kill", cid, "KILL"], ["delete", "--force", cid]):
            try:
                self._run("cleanup", args, check=False)
            except BenchError:
                pass
        if pidfd >= 0:  # the runtime could not kill it: do it through the pidfd (no pid reuse race)
            if not select.select([pidfd], [], [], 0)[0]:
                try:
                    signal.pidfd_send_signal(pidfd, signal.SIGKILL)
                except OSError:
                    pass
            try:
                os.waitid(os.P_PIDFD, pidfd, os.WEXITED)
            except (ChildProcessError, OSError):
                pass

    def close(self):
        """Force-delete every container of ours still known to the runtime."""
        try:
            leftovers = [e for e in os.listdir(self.root) if e.startswith(ID_PREFIX)]
        except OSError:
            leftovers = []
        for cid in leftovers:
            self._force_remove(cid)
        return leftovers


class HelperRuntime:
    """Runs the cycles of one runtime in a helper process started once in a
    private mount namespace in which the cgroup2 'unified' hierarchy is
    unmounted (crun 1.8.1 refuses hybrid cgroup hosts).  The helper times the
    cycles itself, so the cost of unshare is not counted."""

    def __init__(self, spec, unmount, workdir):
        self.name = spec["name"]
        self.errpath = os.path.join(workdir, self.name + ".helper.stderr")
        self.errf = open(self.errpath, "w+")
        unshare = shutil.which("unshare") or "/usr/bin/unshare"
        script = " && ".join(["umount '%s'" % m.replace("'", "'\\''") for m in unmount] + ['exec "$@"'])
        self.cmd = [unshare, "-m", "--propagation", "private", "sh", "-c", script, "sh",
                    sys.executable, SCRIPT, "--_helper"]
        try:
            self.proc = subprocess.Popen(self.cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=self.errf, text=True, bufsize=1)
        except OSError as e:
            raise BenchError("%s: cannot start helper: %s" % (self.name, e), "setup", self.cmd)
        self._request(spec, "setup")

    def _helper_stderr(self):
        try:
            self.errf.flush()
            self.errf.seek(0)
            return tail(self.errf.read())
        except (OSError, ValueError):
            return ""

    def _request(self, obj, phase):
        try:
            self.proc.stdin.write(json.dumps(obj) + "\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        except (BrokenPipeError, OSError, ValueError):
            line = ""
        if not line:
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            raise BenchError("%s: helper process (unshare -m) died (status %s)" % (self.name, self.proc.returncode),
                             phase, self.cmd, self.proc.returncode, self._helper_stderr())
        reply = json.loads(line)
        if not reply.get("ok"):
            raise BenchError.from_dict(reply.get("error") or {})
        return reply

    def cycle(self, cid, cgroups_path, check_cgroups=False):
        return self._request({"op": "cycle", "id": cid, "cgroup": cgroups_path, "check": check_cgroups},
                             "cycle")["ns"]

    def close(self):
        leftovers = []
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()  # EOF: helper force-deletes its leftovers and exits
            except OSError:
                pass
            try:
                out = self.proc.stdout.read()
                for line in out.splitlines():
                    leftovers += json.loads(line).get("leftovers", [])
            except (OSError, ValueError):
                pass
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for f in (self.proc.stdout, self.proc.stdin):
            try:
                f.close()
            except (OSError, ValueError):
                pass
        self.errf.close()
        return leftovers


def helper_main():
    """Entry point inside the private mount namespace (see HelperRuntime)."""
    # Ctrl-C reaches the whole process group: let the parent coordinate the
    # shutdown (it closes our stdin).  A Python handler, unlike SIG_IGN, is
    # not inherited by the runtimes we exec.
    signal.signal(signal.SIGINT, lambda *_: None)
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    set_child_subreaper()

    def reply(obj):
        proto.write(json.dumps(obj) + "\n")
        proto.flush()

    spec = json.loads(sys.stdin.readline())
    rt = LocalRuntime(spec["name"], spec["path"], spec["root"], spec["global_args"], spec["bundle"],
                      spec["template"], spec["workdir"], spec["pid_from"], spec["timeout"])
    reply({"ok": True})
    try:
        while True:
            line = sys.stdin.readline()
            if not line:
                break
            req = json.loads(line)
            try:
                ns = rt.cycle(req["id"], req["cgroup"], req.get("check", False))
                reply({"ok": True, "ns": ns})
            except BenchError as e:
                reply({"ok": False, "error": e.to_dict()})
            reap_orphans()
    finally:
        leftovers = rt.close()
        reap_orphans()
        try:
            reply({"ok": True, "leftovers": leftovers})
        except OSError:
            pass
    return 0


# --------------------------------------------------------------------------
# main


def parse_args(argv):
    ap = argparse.ArgumentParser(
        description="Time create -> start -> wait -> delete of /bin/true for ward, crun and runc "
                    "(benchmark, not a test).")
    ap.add_argument("--ward", default=DEFAULT_WARD, help="ward binary (default: %(default)s)")
    ap.add_argument("--crun", default=shutil.which("crun") or "/usr/bin/crun", help="crun binary (default: %(default)s)")
    ap.add_argument("--runc", default=shutil.which("runc") or "/usr/sbin/runc", help="runc binary (default: %(default)s)")
    ap.add_argument("-n", "--cycles", type=int, default=50, help="measured cycles per runtime (default: 50)")
    ap.add_argument("--warmup", type=int, default=3, help="cycles per runtime run first and discarded (default: 3)")
    ap.add_argument("--runtimes", default="ward,crun,runc", help="comma-separated subset and order of "
                    "ward,crun,runc (default: %(default)s)")
    ap.add_argument("--json", action="store_true", help="also print machine-readable results (JSON) at the end")
    ap.add_argument("--annotation", action="append", default=[], metavar="K=V",
                    help="add an annotation to config.json (repeatable)")
    ap.add_argument("--busybox", default="/bin/busybox", help="static busybox for the rootfs (default: %(default)s)")
    ap.add_argument("--pid-from", choices=("pidfile", "state"), default="pidfile",
                    help="how to learn the container pid before start: `create --pid-file` (default) or "
                         "`RT state` (an extra runtime call inside the timed cycle)")
    ap.add_argument("--timeout", type=float, default=30, help="seconds before a runtime command or the "
                    "container's exit counts as hung (default: 30)")
    ap.add_argument("--_helper", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._helper:
        return args
    if args.cycles < 1 or args.warmup < 0:
        ap.error("--cycles must be >= 1 and --warmup >= 0")
    names = [n.strip() for n in args.runtimes.split(",") if n.strip()]
    bad = [n for n in names if n not in KNOWN_RUNTIMES]
    if bad or not names or len(set(names)) != len(names):
        ap.error("--runtimes: give a comma-separated list of distinct names from %s" % ",".join(KNOWN_RUNTIMES))
    args.names = names
    args.annotations = {}
    for a in args.annotation:
        k, eq, v = a.partition("=")
        if not eq or not k:
            ap.error("--annotation %r: expected KEY=VALUE" % a)
        args.annotations[k] = v
    return args


def cgroup_mode():
    types = {m["fstype"] for m in parse_mountinfo() if m["fstype"] in ("cgroup", "cgroup2")}
    if types == {"cgroup2"}:
        return "unified (v2)"
    if types == {"cgroup", "cgroup2"}:
        return "hybrid (v1 + v2 unified)"
    if types == {"cgroup"}:
        return "legacy (v1)"
    return "none"


def summarize(samples_ns):
    ms = [s / 1e6 for s in samples_ns]
    return {"median_ms": statistics.median(ms), "min_ms": min(ms), "max_ms": max(ms),
            "mean_ms": statistics.fmean(ms), "stdev_ms": statistics.stdev(ms) if len(ms) > 1 else 0.0}


def main(argv):
    args = parse_args(argv)
    if args._helper:
        return helper_main()
    if os.geteuid() != 0:
        print("bench.py: must run as root (sudo /usr/bin/python3 %s ...)" % os.path.relpath(SCRIPT),
              file=sys.stderr)
        return 2

    def on_term(signum, _frame):
        raise KeyboardInterrupt("signal %d" % signum)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)
    set_child_subreaper()

    paths = {"ward": os.path.abspath(args.ward), "crun": args.crun, "runc": args.runc}
    cg_name = "%s-%d" % (CGROUP_PREFIX, os.getpid())
    mode = cgroup_mode()
    cgroup2_mounts = [m["mountpoint"] for m in parse_mountinfo() if m["fstype"] == "cgroup2"]
    notes, warnings = [], []
    runners, failures, versions = {}, {}, {}
    samples = {n: [] for n in args.names}
    interrupted = False
    workdir = tempfile.mkdtemp(prefix="ward-bench-")
    bundle = os.path.join(workdir, "bundle")
    template = runc_like_config(args.annotations)
    cleanup_report = {}
    n_applets = 0
    try:
        os.makedirs(bundle)
        n_applets = build_bundle(bundle, args.busybox)
        write_config(bundle, template, "%s/setup" % cg_name)

        for name in args.names:
            path = paths[name]
            if not (os.path.isfile(path) and os.access(path, os.X_OK)):
                hint = " (build ward first: ./autogen.sh && ./configure && make)" if name == "ward" else ""
                failures[name] = BenchError("%s: not found or not executable: %s%s" % (name, path, hint), "setup")
                continue
            versions[name] = runtime_version(path)
            root = os.path.join(workdir, "root-" + name)
            try:
                if name == "crun":
                    global_args = ["--cgroup-manager=disabled"]
                    if mode.startswith("hybrid"):
                        spec = {"name": name, "path": path, "root": root, "global_args": global_args,
                                "bundle": bundle, "template": template, "workdir": workdir,
                                "pid_from": args.pid_from, "timeout": args.timeout}
                        runners[name] = HelperRuntime(spec, [m for m in cgroup2_mounts if m != "/sys/fs/cgroup"],
                                                      workdir)
                        notes.append("crun ran in a private mount namespace (one `unshare -m` helper per run, not "
                                     "timed) with %s unmounted, because crun 1.8.1 refuses hybrid cgroup hosts, "
                                     "and with --cgroup-manager=disabled: crun did no cgroup work at all, which "
                                     "favours crun." % ", ".join(m for m in cgroup2_mounts if m != "/sys/fs/cgroup"))
                    else:
                        runners[name] = LocalRuntime(name, path, root, global_args, bundle, template, workdir,
                                                     args.pid_from, args.timeout)
                        notes.append("crun ran with --cgroup-manager=disabled: it did no cgroup work at all, "
                                     "which favours crun.")
                else:
                    runners[name] = LocalRuntime(name, path, root, [], bundle, template, workdir,
                                                 args.pid_from, args.timeout)
            except BenchError as e:
                failures[name] = e

        total = args.warmup + args.cycles
        tty = sys.stderr.isatty()
        exclude = {r.proc.pid for r in runners.values() if isinstance(r, HelperRuntime)}
        gc_was = gc.isenabled()
        gc.disable()
        try:
            for i in range(total):
                active = [n for n in args.names if n in runners and n not in failures]
                if not active:
                    break
                if tty:
                    sys.stderr.write("\r%s %d/%d (%s)   " % ("warmup" if i < args.warmup else "cycle",
                                                           i + 1 if i < args.warmup else i - args.warmup + 1,
                                                           args.warmup if i < args.warmup else args.cycles,
                                                           ",".join(active)))
                    sys.stderr.flush()
                for name in active:
                    cid = "%s%s-%d" % (ID_PREFIX, name, i)
                    try:
                        ns = runners[name].cycle(cid, "%s/%s-%d" % (cg_name, name, i), check_cgroups=(i == 0))
                    except BenchError as e:
                        e.cycle = i
                        failures[name] = e
                        continue
                    finally:
                        reap_orphans(exclude)
                    if i >= args.warmup:
                        samples[name].append(ns)
        finally:
            if gc_was:
                gc.enable()
            if tty:
                sys.stderr.write("\r" + " " * 60 + "\r")
    except KeyboardInterrupt:
        interrupted = True
        print("\ninterrupted; cleaning up", file=sys.stderr)
    except BenchError as e:
        print("bench.py: %s" % e.describe(), file=sys.stderr)
        return 2
    finally:
        # Cleanup even on failure or Ctrl-C: containers, temp dirs, cgroups.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for name, r in runners.items():
            try:
                left = r.close()
                if left:
                    warnings.append("%s: force-deleted leftover containers %s" % (name, ", ".join(left)))
            except Exception as e:  # keep cleaning up
                warnings.append("%s: cleanup failed: %s" % (name, e))
        reap_orphans()
        shutil.rmtree(workdir, ignore_errors=True)
        if os.path.exists(workdir):
            warnings.append("could not fully remove %s" % workdir)
        removed, cg_warnings = cleanup_cgroups(cg_name)
        warnings += cg_warnings
        cleanup_report = {"cgroup_dirs_removed": len(removed)}
        signal.signal(signal.SIGINT, signal.default_int_handler)

    # ---------------------------------------------------------------- report
    results = {}
    for name in args.names:
        s = samples[name]
        r = {"path": paths[name], "version": versions.get(name), "cycles": len(s), "ok": False}
        if s:
            r.update(summarize([x[4] for x in s]))
            r["phases_median_ms"] = {p: statistics.median(x[k] for x in s) / 1e6 for k, p in enumerate(PHASES)}
            r["samples_ms"] = [round(x[4] / 1e6, 4) for x in s]
        if name in failures:
            r["error"] = failures[name].to_dict()
            r["error"]["cycle"] = getattr(failures[name], "cycle", None)
        r["ok"] = bool(s) and name not in failures and len(s) == args.cycles
        results[name] = r

    out = sys.stdout
    print("ward lifecycle benchmark: create -> start -> wait -> delete of /bin/true", file=out)
    print("  host: %s %s %s, %d CPUs, cgroups %s" % (platform.system(), platform.release(), platform.machine(),
                                                      os.cpu_count() or 0, mode), file=out)
    print("  cycles: %d per runtime (+%d warmup), interleaved round-robin: %s; pid via %s"
          % (args.cycles, args.warmup, ", ".join(args.names), args.pid_from), file=out)
    print("  bundle: busybox rootfs (%d applets), readonly root, pid/net/ipc/uts/mount namespaces, "
          "cgroupsPath %s/<runtime>-<i> (relative)" % (n_applets, cg_name), file=out)
    if args.annotations:
        print("  annotations: %s" % ", ".join("%s=%s" % kv for kv in args.annotations.items()), file=out)
    for name in args.names:
        print("  %-5s %s%s" % (name + ":", paths[name], "  (%s)" % versions[name] if versions.get(name) else ""),
              file=out)
    for n in notes:
        print("  note: " + n, file=out)
    print(file=out)

    print("%-8s %10s %9s %9s %7s" % ("runtime", "median_ms", "min_ms", "max_ms", "cycles"), file=out)
    for name in args.names:
        r = results[name]
        if r["cycles"]:
            print("%-8s %10.2f %9.2f %9.2f %7d%s" % (name, r["median_ms"], r["min_ms"], r["max_ms"], r["cycles"],
                                                      "" if r["ok"] else "  (incomplete)"), file=out)
        else:
            print("%-8s %10s %9s %9s %7d" % (name, "FAILED", "-", "-", 0), file=out)
    timed = [n for n in args.names if results[n]["cycles"]]
    if timed:
        print(file=out)
        print("%-8s %s" % ("phase", " ".join("%9s" % p for p in PHASES)) + "   (median ms)", file=out)
        for name in timed:
            ph = results[name]["phases_median_ms"]
            print("%-8s %s" % (name, " ".join("%9.2f" % ph[p] for p in PHASES)), file=out)

    ratios = {}
    if len(timed) > 1:
        subject = "ward" if "ward" in timed else timed[0]
        print(file=out)
        for other in timed:
            if other == subject:
                continue
            x = results[subject]["median_ms"] / results[other]["median_ms"]
            if abs(x - 1) < 0.005:
                verdict = "about the same"
            else:
                verdict = "%s %s" % (subject, "faster" if x < 1 else "slower")
            ratios["%s/%s" % (subject, other)] = x
            print("%s/%s = %.2fx (%s)" % (subject, other, x, verdict), file=out)

    for name in args.names:
        if name in failures:
            e = failures[name]
            cyc = getattr(e, "cycle", None)
            where = "" if cyc is None else " (in %s cycle %d)" % ("warmup" if cyc < args.warmup else "measured",
                                                                  cyc + 1 if cyc < args.warmup else cyc - args.warmup + 1)
            print("\n%s FAILED%s:\n%s" % (name, where, "\n".join("  " + l for l in e.describe().splitlines())),
                  file=out)
    for w in warnings:
        print("warning: " + w, file=out)
    if interrupted:
        print("\n(interrupted: partial results)", file=out)

    if args.json:
        doc = {"benchmark": "create-start-wait-delete /bin/true", "cycles": args.cycles, "warmup": args.warmup,
               "order": args.names, "pid_from": args.pid_from, "annotations": args.annotations,
               "host": {"kernel": platform.release(), "cpus": os.cpu_count(), "cgroups": mode},
               "notes": notes, "warnings": warnings, "interrupted": interrupted, "cleanup": cleanup_report,
               "runtimes": results, "ratios": ratios}
        print(file=out)
        print(json.dumps(doc, indent=2), file=out)

    if interrupted:
        return 130
    return 0 if any(results[n]["ok"] for n in args.names) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
