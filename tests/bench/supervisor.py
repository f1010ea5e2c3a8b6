#!/usr/bin/python3
"""The supervisor's overhead: CPU and memory of ward-hook's per-container
supervisor while its container sleeps (issue 9: aim < 1 % of a core and
< 2 MiB RSS).

Starts one container (`sleep`) under agent-default with ward (the tree's
ward and ward-hook, or --ward/--hook), finds its supervisor, samples its
utime + stime from /proc/PID/stat over --seconds, reads VmRSS (and Pss from
smaps_rollup: RSS counts every shared library page the process maps, Pss
only its share of them), prints the result and deletes the container.

This is a benchmark, not a test: nothing here asserts.  Must run as root:

    sudo /usr/bin/python3 tests/bench/supervisor.py --seconds 5
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import DEFAULT_WARD, build_bundle, runc_like_config  # noqa: E402

TOP = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def supervisors():
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as f:
                    if f.read().strip() == "ward-supervisor":
                        found.add(int(entry))
            except OSError:
                pass
    return found


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime (fields 14, 15)


def cpu_ns(pid):
    """Time on a CPU, in ns (schedstat; stat's ticks are too coarse for an idle process)."""
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0])


def status_kib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None


def pss_kib(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def measure(ward, hook, seconds, busybox, out):
    work = tempfile.mkdtemp(prefix="ward-supervisor-bench-")
    bundle = os.path.join(work, "bundle")
    root = os.path.join(work, "root")
    os.makedirs(bundle)
    build_bundle(bundle, busybox)
    config = runc_like_config({"run.ward.policy": "agent-default"})
    config["process"]["args"] = ["sleep", "600"]
    config["linux"]["cgroupsPath"] = "ward-bench-supervisor"
    with open(os.path.join(bundle, "config.json"), "w") as f:
        json.dump(config, f)
    conf = os.path.join(work, "ward.conf")
    with open(conf, "w") as f:
        f.write(f"hook_path = {hook}\npolicy_dir = {TOP}/policy-profiles\naudit_dir = {work}/audit\n")
    env = {**os.environ, "WARD_CONF": conf}
    cid = f"wb-supervisor-{os.getpid()}"

    def call(*args):
        # Through a file, not a pipe: the detached container inherits it.
        with tempfile.TemporaryFile(mode="w+") as err:
            result = subprocess.run([ward, "--root", root, *args], env=env, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=err, timeout=60)
            err.seek(0)
            result.stderr = err.read()
            return result

    before = supervisors()
    try:
        result = call("create", "--bundle", bundle, cid)
        if result.returncode != 0:
            raise RuntimeError(f"create: {result.stderr.strip()}")
        call("start", cid)
        mine = supervisors() - before
        if len(mine) != 1:
            raise RuntimeError(f"expected one new supervisor, found {sorted(mine)}")
        pid = mine.pop()
        time.sleep(1)  # past the first polls
        hz = os.sysconf("SC_CLK_TCK")
        t0, c0, n0 = time.monotonic(), cpu_ticks(pid), cpu_ns(pid)
        time.sleep(seconds)
        t1, c1, n1 = time.monotonic(), cpu_ticks(pid), cpu_ns(pid)
        cpu_percent = 100.0 * (n1 - n0) / 1e9 / (t1 - t0)
        rss, pss = status_kib(pid, "VmRSS"), pss_kib(pid)
        anon, file_backed = status_kib(pid, "RssAnon"), status_kib(pid, "RssFile")
        print("ward-hook supervisor overhead (idle container: sleep, agent-default, watchdog polling)", file=out)
        print(f"  cpu: {cpu_percent:.3f} % of a core over {t1 - t0:.1f} s "
              f"({(n1 - n0) / 1e6:.2f} ms on a CPU, {c1 - c0} ticks at {hz} Hz; aim < 1 %)", file=out)
        print(f"  memory: {rss / 1024:.2f} MiB VmRSS ({anon / 1024:.2f} anonymous, {file_backed / 1024:.2f} "
              f"file-backed: libnftables, libc and the other libraries), "
              f"{pss / 1024 if pss else float('nan'):.2f} MiB Pss (aim < 2 MiB)", file=out)
        return 0
    finally:
        call("delete", "--force", cid)
        subprocess.run(["rm", "-rf", work])


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ward", default=DEFAULT_WARD)
    parser.add_argument("--hook", default=os.path.join(TOP, "ward-hook"))
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--busybox", default="/bin/busybox")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("supervisor.py: must run as root", file=sys.stderr)
        return 2
    try:
        return measure(os.path.abspath(args.ward), os.path.abspath(args.hook), args.seconds, args.busybox,
                       sys.stdout)
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        print(f"supervisor.py: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
