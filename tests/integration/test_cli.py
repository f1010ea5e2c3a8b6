"""The command line: subcommands, flags, outputs and exit codes, as engines use them."""

import json
import os
import re
import signal
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest

from conftest import assert_error, cmdline, pid_alive, processes_in, wait_until

RFC3339 = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$")
SLEEP = ["sleep", "60"]


def parse_rfc3339(text):
    match = RFC3339.match(text)
    assert match, f"not an RFC 3339 time: {text!r}"
    zone = "+00:00" if match.group(3) == "Z" else match.group(3)
    return datetime.fromisoformat(match.group(1) + zone)


def running(ward, args=SLEEP, bundle=None):
    """A started container running `args`; returns (id, pid)."""
    (bundle or ward.bundle).config["process"]["args"] = list(args)
    container_id = ward.create(bundle)
    assert ward("start", container_id).returncode == 0
    ward.wait_for_status(container_id, "running")
    return container_id, ward.state(container_id)["pid"]


# --- version and spec ------------------------------------------------------


def test_version_names_the_runtime_version_and_the_spec(ward):
    result = ward("--version")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert re.match(r"^\S+ version \d+\.\d+\.\d+", lines[0]), lines
    assert any(re.match(r"^spec: \d+\.\d+\.\d+", line) for line in lines), lines


def test_spec_writes_a_default_config(ward, tmp_path):
    result = ward("spec", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["ociVersion"].startswith("1.")
    assert config["root"]["path"] == "rootfs"
    assert config["process"]["args"] == ["sh"]
    types = {ns["type"] for ns in config["linux"]["namespaces"]}
    assert {"pid", "mount", "network", "ipc", "uts"} <= types
    assert "user" not in types


def test_spec_refuses_to_overwrite_config(ward, tmp_path):
    (tmp_path / "config.json").write_text('{"mine": true}')
    assert_error(ward("spec", cwd=tmp_path), "config.json", "exist")
    assert (tmp_path / "config.json").read_text() == '{"mine": true}'


def test_spec_bundle_flag_writes_into_the_bundle(ward, tmp_path):
    result = ward("spec", "--bundle", tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "config.json").read_text())["root"]["path"] == "rootfs"


def test_spec_rootless_maps_the_caller_in_a_user_namespace(ward, tmp_path):
    result = ward("spec", "--rootless", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    linux = json.loads((tmp_path / "config.json").read_text())["linux"]
    assert "user" in {ns["type"] for ns in linux["namespaces"]}
    assert linux["uidMappings"] == [{"containerID": 0, "hostID": os.geteuid(), "size": 1}]
    assert linux["gidMappings"] == [{"containerID": 0, "hostID": os.getegid(), "size": 1}]


# --- lifecycle -------------------------------------------------------------


def test_lifecycle_created_running_stopped_deleted(ward, bundle):
    marker = bundle.share()
    bundle.config["process"]["args"] = ["sh", "-c", "echo ran > /out/marker; exec sleep 60"]
    container_id = ward.create()
    created = ward.state(container_id)
    assert created["status"] == "created"
    assert pid_alive(created["pid"])
    assert not (marker / "marker").exists()

    assert ward("start", container_id).returncode == 0
    assert wait_until(lambda: (marker / "marker").exists())
    running_state = ward.state(container_id)
    assert running_state["status"] == "running"
    assert running_state["pid"] == created["pid"]

    assert ward("kill", container_id, "KILL").returncode == 0
    ward.wait_for_status(container_id, "stopped")

    result = ward("delete", container_id)
    assert result.returncode == 0, result.stderr
    assert_error(ward("state", container_id), f'container "{container_id}" does not exist')
    assert not os.listdir(ward.root)


def test_state_reports_the_oci_fields(ward, bundle):
    bundle.config["annotations"] = {"org.ward.test": "yes"}
    container_id = ward.create()
    state = ward.state(container_id)
    assert state["ociVersion"].startswith("1.")
    assert state["id"] == container_id
    assert state["status"] == "created"
    assert isinstance(state["pid"], int) and pid_alive(state["pid"])
    assert state["bundle"] == str(bundle.path)
    assert state["rootfs"] == str(bundle.rootfs)
    assert state["owner"] in ("", "root")
    assert state["annotations"] == {"org.ward.test": "yes"}
    age = datetime.now(timezone.utc) - parse_rfc3339(state["created"])
    assert 0 <= age.total_seconds() < 60


def test_state_is_printed_with_two_space_indent(ward):
    container_id = ward.create()
    out = ward("state", container_id).stdout
    assert out.rstrip("\n") == json.dumps(json.loads(out), indent=2)


def test_pid_file_holds_the_bare_pid(ward, tmp_path):
    pid_file = tmp_path / "init.pid"
    container_id = ward.create(None, "--pid-file", pid_file)
    text = pid_file.read_text()
    assert re.fullmatch(r"[1-9][0-9]*", text), repr(text)
    assert int(text) == ward.state(container_id)["pid"]


@pytest.mark.parametrize(
    "form",
    [
        pytest.param(lambda b: ["-b", b], id="-b"),
        pytest.param(lambda b: ["--bundle", b], id="--bundle"),
        pytest.param(lambda b: [f"--bundle={b}"], id="--bundle="),
        pytest.param(lambda b: ["-bundle", b], id="-bundle"),
    ],
)
def test_bundle_flag_forms(ward, bundle, form):
    container_id = ward.new_id()
    bundle.write_config(container_id)
    result = ward("create", *form(bundle.path), container_id)
    assert result.returncode == 0, result.stderr
    assert ward.state(container_id)["bundle"] == str(bundle.path)


def test_pid_file_equals_form(ward, bundle, tmp_path):
    container_id = ward.new_id()
    bundle.write_config(container_id)
    pid_file = tmp_path / "eq.pid"
    result = ward("create", f"-bundle={bundle.path}", f"--pid-file={pid_file}", container_id)
    assert result.returncode == 0, result.stderr
    assert pid_file.read_text() == str(ward.state(container_id)["pid"])


def test_run_exit_status_and_output_are_the_containers(ward):
    code, out, err = ward.run_container(["sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 7"])
    assert code == 7
    assert out == "to-stdout\n"
    assert "to-stderr" in err
    assert not os.listdir(ward.root)


def test_run_reports_death_by_signal_like_a_shell(ward):
    # Outside a pid namespace: there, init cannot be killed from inside.
    no_pid_ns = {"linux": {"namespaces": [{"type": "mount"}, {"type": "uts"}]}}
    code, _, err = ward.run_container(["sh", "-c", "kill -KILL $$"], no_pid_ns)
    assert code == 128 + signal.SIGKILL, err


def test_run_detach_leaves_the_container_running(ward, bundle):
    container_id = ward.new_id()
    bundle.config["process"]["args"] = ["sleep", "61"]
    bundle.write_config(container_id)
    result = ward("run", "--detach", "--bundle", bundle.path, container_id, timeout=15)
    assert result.returncode == 0, result.stderr
    state = ward.state(container_id)
    assert state["status"] == "running"
    assert cmdline(state["pid"]) == b"sleep\x0061\x00"


# --- kill ------------------------------------------------------------------

TRAP_SCRIPT = (
    "trap 'echo TERM > /out/signal; exit 0' TERM; trap 'echo USR1 > /out/signal; exit 0' USR1; "
    "echo ready > /out/ready; while :; do sleep 0.1; done"
)


@pytest.mark.parametrize(
    "signal_args, expected",
    [((), "TERM"), (("TERM",), "TERM"), (("USR1",), "USR1"), (("SIGUSR1",), "USR1"), (("10",), "USR1")],
    ids=["default", "TERM", "USR1", "SIGUSR1", "10"],
)
def test_kill_delivers_the_named_signal(ward, bundle, signal_args, expected):
    out = bundle.share()
    container_id, _ = running(ward, ["sh", "-c", TRAP_SCRIPT])
    assert wait_until(lambda: (out / "ready").exists())
    result = ward("kill", container_id, *signal_args)
    assert result.returncode == 0, result.stderr
    ward.wait_for_status(container_id, "stopped")
    assert (out / "signal").read_text() == f"{expected}\n"


@pytest.mark.parametrize("name", ["KILL", "SIGKILL", "9"])
def test_kill_sigkill_stops_the_container(ward, name):
    container_id, pid = running(ward)
    result = ward("kill", container_id, name)
    assert result.returncode == 0, result.stderr
    ward.wait_for_status(container_id, "stopped")
    assert not pid_alive(pid)


def test_kill_unknown_signal_fails(ward):
    container_id, pid = running(ward)
    result = ward("kill", container_id, "SIGNOPE")
    assert result.returncode == 1
    assert "SIGNOPE" in result.stderr or "signal" in result.stderr
    assert pid_alive(pid)


def test_kill_all_signals_every_process(ward, bundle):
    out = bundle.share()
    script = (
        "trap 'echo USR1 >> /out/init' USR1; sleep 100 & echo ready > /out/ready; "
        "while :; do sleep 0.1; done"
    )
    container_id, init_pid = running(ward, ["sh", "-c", script])
    assert wait_until(lambda: (out / "ready").exists())
    children = wait_until(lambda: [p for p in processes_in(bundle) if cmdline(p) == b"sleep\x00100\x00"])
    assert len(children) == 1, children

    result = ward("kill", "--all", container_id, "USR1")
    assert result.returncode == 0, result.stderr
    assert wait_until(lambda: not pid_alive(children[0])), "kill --all did not reach the child"
    # The shell creates the file before it writes the line: wait for the line.
    assert wait_until(lambda: (out / "init").exists() and (out / "init").read_text() == "USR1\n")
    assert ward.state(container_id)["status"] == "running"
    assert pid_alive(init_pid)


# --- delete ----------------------------------------------------------------


def test_delete_refuses_a_running_container(ward):
    container_id, pid = running(ward)
    message = assert_error(ward("delete", container_id))
    assert "running" in message and "--force" in message
    assert ward.state(container_id)["status"] == "running"
    assert pid_alive(pid)


def test_delete_force_removes_a_running_container(ward):
    container_id, pid = running(ward)
    result = ward("delete", "--force", container_id)
    assert result.returncode == 0, result.stderr
    assert wait_until(lambda: not pid_alive(pid))
    assert_error(ward("state", container_id), "does not exist")
    assert not os.listdir(ward.root)


def test_delete_removes_a_created_container_and_its_process(ward):
    container_id = ward.create()
    pid = ward.state(container_id)["pid"]
    result = ward("delete", "--force", container_id)
    assert result.returncode == 0, result.stderr
    assert wait_until(lambda: not pid_alive(pid))
    assert not os.listdir(ward.root)


# --- list ------------------------------------------------------------------


def test_list_table(ward, bundle, make_bundle):
    other = ward.add_bundle(make_bundle("other"))
    created = ward.create()
    started, pid = running(ward, bundle=other)
    lines = ward("list").stdout.splitlines()
    assert lines[0].split() == ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert set(rows) == {created, started}
    assert rows[started][1:4] == [str(pid), "running", str(other.path)]
    assert rows[created][2:4] == ["created", str(bundle.path)]
    parse_rfc3339(rows[started][4])


def test_list_quiet_prints_ids_only(ward, make_bundle):
    other = ward.add_bundle(make_bundle("other"))
    first = ward.create()
    second = ward.create(other)
    assert sorted(ward("list", "--quiet").stdout.split("\n")) == sorted(["", first, second])
    assert sorted(ward("list", "-q").stdout.split()) == sorted([first, second])


def test_list_json_is_an_array_of_states(ward):
    container_id = ward.create()
    listed = json.loads(ward("list", "--format", "json").stdout)
    assert isinstance(listed, list) and len(listed) == 1
    entry = listed[0]
    state = ward.state(container_id)
    for field in ("id", "pid", "status", "bundle", "created"):
        assert entry[field] == state[field], field


def test_list_json_is_an_empty_array_without_containers(ward):
    result = ward("list", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


# --- errors ----------------------------------------------------------------


@pytest.mark.parametrize(
    "command", [["state"], ["start"], ["kill"], ["delete"], ["kill", "--all"]], ids=" ".join
)
def test_unknown_id_fails(ward, command):
    container_id = ward.new_id()
    args = command + [container_id] + (["KILL"] if command[0] == "kill" else [])
    assert_error(ward(*args), f'container "{container_id}" does not exist')


def test_create_with_an_existing_id_fails_and_keeps_the_first(ward, make_bundle):
    container_id = ward.create()
    first = ward.state(container_id)
    other = ward.add_bundle(make_bundle("other"))
    other.write_config(container_id)
    assert_error(ward("create", "--bundle", other.path, container_id), f'container "{container_id}" already exists')
    again = ward.state(container_id)
    assert (again["pid"], again["bundle"], again["status"]) == (first["pid"], first["bundle"], "created")
    assert pid_alive(first["pid"])
    assert not processes_in(other)


def test_log_file_gets_a_json_error_line(ward, tmp_path):
    log = tmp_path / "log.json"
    container_id = ward.new_id()
    result = ward("state", container_id, global_options=["--log", log, "--log-format", "json"])
    assert result.returncode == 1
    entry = json.loads(log.read_text().splitlines()[-1])
    assert entry["level"] == "error"
    assert f'container "{container_id}" does not exist' in entry["msg"]
    parse_rfc3339(entry["time"])


def test_systemd_cgroup_is_refused_clearly(ward, bundle):
    container_id = ward.new_id()
    bundle.write_config(container_id)
    result = ward("create", "--bundle", bundle.path, container_id, global_options=["--systemd-cgroup"])
    assert_error(result, "systemd")
    assert_error(ward("state", container_id), "does not exist")


def test_unknown_command_fails(ward):
    result = ward("frobnicate")
    assert result.returncode != 0
    assert "frobnicate" in result.stderr


# --- concurrency -----------------------------------------------------------


def test_concurrent_force_deletes_are_serialised(ward):
    container_id, pid = running(ward)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: ward("delete", "--force", container_id), range(4)))
    for result in results:
        assert result.returncode in (0, 1), result
        if result.returncode == 1:
            assert_error(result, f'container "{container_id}" does not exist')
        assert "panic" not in result.stderr and "goroutine" not in result.stderr
    assert any(r.returncode == 0 for r in results)
    assert wait_until(lambda: not pid_alive(pid))
    assert_error(ward("state", container_id), "does not exist")
    assert not os.listdir(ward.root)


def test_concurrent_creates_of_one_id_make_one_container(ward, bundle):
    container_id = ward.new_id()
    bundle.write_config(container_id)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: ward("create", "--bundle", bundle.path, container_id), range(4)))
    winners = [r for r in results if r.returncode == 0]
    assert len(winners) == 1, [(r.returncode, r.stderr) for r in results]
    for result in results:
        if result.returncode != 0:
            assert_error(result, f'container "{container_id}" already exists')
    state = ward.state(container_id)
    assert state["status"] == "created"
    assert processes_in(bundle) == [state["pid"]]
