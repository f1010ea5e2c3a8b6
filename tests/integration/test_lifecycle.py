"""create and start precisely: after `create` the init waits in the
container's namespaces with the rootfs pivoted, and the user program has not
run; `start` runs it, once, in that same process."""

import os
import subprocess
import time
from pathlib import Path

from conftest import assert_error, cmdline, ns_link, pid_alive, wait_until

PROGRAM = ["sh", "-c", "echo ran >> /out/marker; exec sleep 60"]


def created_container(ward, bundle):
    out = bundle.share()
    bundle.config["process"]["args"] = PROGRAM
    container_id = ward.create()
    return container_id, ward.state(container_id)["pid"], out / "marker"


def test_create_puts_init_in_the_containers_namespaces(ward, bundle):
    _, pid, _ = created_container(ward, bundle)
    for name in ("mnt", "net", "uts", "ipc", "pid"):
        assert ns_link(name, pid) != ns_link(name), f"init is still in the host's {name} namespace"


def test_create_pivots_the_init_into_the_rootfs(ward, bundle):
    _, pid, _ = created_container(ward, bundle)
    assert set(os.listdir(f"/proc/{pid}/root")) == set(os.listdir(bundle.rootfs))
    assert Path(f"/proc/{pid}/root/etc/passwd").read_text() == (bundle.rootfs / "etc/passwd").read_text()
    # The container's own procfs is mounted already: it shows only the init, as pid 1.
    assert [p for p in os.listdir(f"/proc/{pid}/root/proc") if p.isdigit()] == ["1"]
    hostname = subprocess.run(["nsenter", "-t", str(pid), "-u", "hostname"], capture_output=True, text=True)
    assert hostname.stdout == "ward-test\n"


def test_create_does_not_run_the_program(ward, bundle):
    container_id, pid, marker = created_container(ward, bundle)
    time.sleep(0.3)
    assert not marker.exists()
    assert ward.state(container_id)["status"] == "created"
    assert cmdline(pid) != b"sleep\x0060\x00"

    assert ward("start", container_id).returncode == 0
    assert wait_until(lambda: marker.exists())
    assert wait_until(lambda: cmdline(pid) == b"sleep\x0060\x00"), (
        "the program does not run in the init process that create made"
    )
    assert ward.state(container_id)["pid"] == pid


def test_start_twice_fails_and_runs_the_program_once(ward, bundle):
    container_id, pid, marker = created_container(ward, bundle)
    assert ward("start", container_id).returncode == 0
    assert wait_until(lambda: marker.exists())
    assert_error(ward("start", container_id))
    time.sleep(0.2)
    assert marker.read_text() == "ran\n"
    assert ward.state(container_id)["status"] == "running"
    assert pid_alive(pid)


def test_start_of_a_stopped_container_fails(ward, bundle):
    bundle.config["process"]["args"] = ["true"]
    container_id = ward.create()
    assert ward("start", container_id).returncode == 0
    ward.wait_for_status(container_id, "stopped")
    assert_error(ward("start", container_id))
    assert ward.state(container_id)["status"] == "stopped"


def test_container_that_exits_becomes_stopped_and_deletes_without_force(ward, bundle):
    bundle.config["process"]["args"] = ["sh", "-c", "exit 3"]
    container_id = ward.create()
    pid = ward.state(container_id)["pid"]
    assert ward("start", container_id).returncode == 0
    ward.wait_for_status(container_id, "stopped")
    assert not pid_alive(pid)
    result = ward("delete", container_id)
    assert result.returncode == 0, result.stderr
    assert not os.listdir(ward.root)


def test_kill_of_a_created_container_stops_it(ward, bundle):
    container_id, pid, marker = created_container(ward, bundle)
    assert ward("kill", container_id, "KILL").returncode == 0
    ward.wait_for_status(container_id, "stopped")
    assert not pid_alive(pid)
    assert not marker.exists()
