"""Issue 9: `ward audit` shows a container's audit log (also once the
container is gone) and `ward top` draws the budgets of the running ones.
The logs and usage snapshots here are written by the test, so that what is
checked is the CLI alone, not the supervisor that writes them in real use."""

import json
import os
import select
import shutil
import signal
import subprocess
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from conftest import WARD_BINARY, assert_error, wait_until


def rfc3339(when):
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


def record(when, event, blocked, **fields):
    return json.dumps({"time": rfc3339(when), "id": "c", "event": event, "blocked": blocked, **fields})


@pytest.fixture
def audit_env(tmp_path):
    """A ward.conf of our own whose audit_dir is a fresh directory."""
    audit_dir = tmp_path / "audit"
    audit_dir.mkdir()
    conf = tmp_path / "ward.conf"
    conf.write_text(f"audit_dir = {audit_dir}\n")
    env = dict(os.environ, WARD_CONF=str(conf), TZ="UTC")
    return audit_dir, env


def audit(env, *args, timeout=30):
    return subprocess.run([WARD_BINARY, "audit", *args], capture_output=True, text=True, timeout=timeout, env=env)


NOW = datetime.now(timezone.utc)
OLD = NOW - timedelta(hours=3)


def write_log(audit_dir, container_id, lines):
    path = audit_dir / f"{container_id}.jsonl"
    path.write_text("".join(line + "\n" for line in lines))
    return path


LOG = [
    record(OLD, "container.create", False, policy="agent-default", budget={"timeout": 90}),
    record(NOW, "dns.refused", True, name="evil.example", reason="not on the allow list"),
    "this line is not JSON",
    record(NOW, "container.exit", False, status=0, cpu_seconds=1.25),
]


def test_audit_prints_a_readable_line_a_record(audit_env):
    audit_dir, env = audit_env
    write_log(audit_dir, "gone", LOG)
    result = audit(env, "gone")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 4, lines
    create, refused, malformed, exit_ = lines
    assert create.startswith(OLD.strftime("%Y-%m-%d %H:%M:%S."))
    assert "container.create" in create and "allowed" in create
    assert "policy=agent-default" in create and 'budget={"timeout":90}' in create
    assert "dns.refused" in refused and "BLOCKED" in refused
    assert "name=evil.example" in refused and 'reason="not on the allow list"' in refused
    assert "line 3: malformed record: this line is not JSON" in malformed
    assert "status=0" in exit_ and "cpu_seconds=1.25" in exit_
    # Not a terminal: no colour.
    assert "\033[" not in result.stdout


def test_audit_json_prints_the_records_as_they_are(audit_env):
    audit_dir, env = audit_env
    write_log(audit_dir, "gone", LOG)
    result = audit(env, "--json", "gone")
    assert result.returncode == 0
    printed = result.stdout.splitlines()
    assert printed == [LOG[0], LOG[1], LOG[3]]
    assert all(json.loads(line) for line in printed)
    assert "line 3" in result.stderr and "malformed" in result.stderr


def test_audit_since_leaves_older_records_out(audit_env):
    audit_dir, env = audit_env
    write_log(audit_dir, "gone", LOG)
    five_minutes_ago = NOW - timedelta(minutes=5)
    for since in ("1h", rfc3339(five_minutes_ago), five_minutes_ago.strftime("%Y-%m-%dT%H:%M:%S+00:00")):
        result = audit(env, "--since", since, "--json", "gone")
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines() == [LOG[1], LOG[3]], since
    assert_error(audit(env, "--since", "yesterday", "gone"), "--since", "yesterday")


def test_audit_of_an_unknown_container_is_one_clear_error(audit_env):
    _, env = audit_env
    assert_error(audit(env, "no-such-container"), 'no audit log for container "no-such-container"')
    assert_error(audit(env, "../../etc/passwd"), "invalid container id")
    assert_error(audit(env), "audit")


class LineReader:
    """Lines from a pipe, each waited for at most `timeout` seconds (None
    when none came): select on the fd, since a buffered file would hide
    lines already read from it."""

    def __init__(self, fd):
        self.fd = fd
        self.buffer = b""

    def line(self, timeout):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                return None
            chunk = os.read(self.fd, 65536)
            if not chunk:
                return None
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.decode()


def test_audit_follow_prints_appended_records_until_interrupted(audit_env):
    audit_dir, env = audit_env
    path = write_log(audit_dir, "live", LOG[:2])
    follower = subprocess.Popen(
        [WARD_BINARY, "audit", "--follow", "live"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    lines = LineReader(follower.stdout.fileno())
    try:
        assert "container.create" in lines.line(10)
        assert "dns.refused" in lines.line(10)
        assert lines.line(0.5) is None, "follow printed something nobody wrote"
        with path.open("a") as log:
            # Written in two pieces: a half line is held until its end arrives.
            log.write(record(NOW, "budget.breach", True, limit="timeout")[:20])
            log.flush()
            time.sleep(0.5)
            log.write(record(NOW, "budget.breach", True, limit="timeout")[20:] + "\n")
        line = lines.line(5)
        assert line is not None, "the appended record did not show"
        assert "budget.breach" in line and "BLOCKED" in line and "limit=timeout" in line
        follower.send_signal(signal.SIGINT)
        assert follower.wait(timeout=5) == 0
    finally:
        if follower.poll() is None:
            follower.kill()
            follower.wait()


# ---------------------------------------------------------------------------
# ward top


def usage_snapshot(wall, cpu, egress, cost, breach=None):
    return {
        "time": rfc3339(datetime.now(timezone.utc)),
        "wall_seconds": wall,
        "cpu_seconds": cpu,
        "egress_bytes": egress,
        "connections": 3,
        "cost": cost,
        "breach": breach,
        "limits": {
            "policy": "agent-default",
            "timeout": 1800,
            "cpu_seconds": 1800,
            "egress_bytes": 256 << 20,
            "connections": 1024,
            "connect_rate": 120,
            "budget": 5000,
            "rates": {"cpu_second": 1, "wall_minute": 1, "egress_mebibyte": 1, "connection": 1},
            "on_breach": "kill",
            "grace": 10,
        },
    }


def write_usage(ward, container_id, snapshot):
    path = ward.root / container_id / "usage.json"
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(snapshot))
    temporary.rename(path)


@pytest.fixture
def sleeping(ward, bundle):
    """Two created containers (their init waiting): one with a usage
    snapshot, one without."""
    bundle.config["process"]["args"] = ["sleep", "60"]
    with_usage = ward.create(container_id=f"wt-a{uuid.uuid4().hex[:8]}")
    without = ward.create(container_id=f"wt-b{uuid.uuid4().hex[:8]}")
    ward.ids += [with_usage, without]
    write_usage(ward, with_usage, usage_snapshot(900, 450.5, 128 << 20, 2500))
    return with_usage, without


def test_top_once_draws_a_bar_per_budget(ward, sleeping):
    with_usage, without = sleeping
    result = ward("top", "--once")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "\033[" not in out, "escapes in a frame meant for a pipe"
    assert "2 containers" in out
    block = out[out.index(with_usage) : out.index(without)]
    assert "policy agent-default" in block
    rows = {line.split()[0]: line for line in block.splitlines()[1:] if line.strip()}
    assert "15m00s / 30m00s (50%)" in rows["time"] and "[" in rows["time"] and "#" in rows["time"]
    assert "7m30s / 30m00s (25%)" in rows["cpu"]
    assert "128.0 MiB / 256.0 MiB (50%)" in rows["egress"]
    assert "3 / 1024" in rows["conns"]
    assert "2500.00 / 5000.00 (50%)" in rows["cost"]
    # Half the bar is filled for a half-used budget.
    bar = rows["time"][rows["time"].index("[") + 1 : rows["time"].index("]")]
    assert abs(bar.count("#") - len(bar) / 2) <= 1
    # Without a snapshot: said so, and time and CPU from ward's own state and cgroup.
    rest = out[out.index(without) :]
    assert "no supervisor" in rest.splitlines()[0]
    assert "time" in rest and "cpu" in rest


def test_top_once_shows_a_breach_and_no_containers(ward, sleeping, tmp_path):
    with_usage, _ = sleeping
    write_usage(ward, with_usage, usage_snapshot(1800, 10, 0, 40, breach="timeout"))
    out = ward("top", "--once").stdout
    assert "BREACHED: timeout" in out
    assert "(100%)" in out
    empty = subprocess.run(
        [WARD_BINARY, "--root", str(tmp_path / "empty"), "top", "--once"], capture_output=True, text=True, timeout=30
    )
    assert empty.returncode == 0 and "0 containers" in empty.stdout and "no running containers" in empty.stdout


def tmux(*args):
    return subprocess.run(["tmux", *args], capture_output=True, text=True, timeout=10)


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_top_refreshes_in_place_in_a_terminal(ward, sleeping):
    with_usage, _ = sleeping
    session = f"ward-top-{uuid.uuid4().hex[:8]}"
    command = f"{WARD_BINARY} --root {ward.root} top"
    started = tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "40", command)
    assert started.returncode == 0, started.stderr
    try:

        def screen():
            return tmux("capture-pane", "-p", "-t", session).stdout

        assert wait_until(lambda: "cost" in screen(), timeout=10), screen()
        first = screen()
        assert first.splitlines()[0].startswith("ward top"), first
        assert "15m00s / 30m00s (50%)" in first and "[####" in first
        write_usage(ward, with_usage, usage_snapshot(1620, 450.5, 128 << 20, 4800))
        assert wait_until(lambda: "27m00s / 30m00s (90%)" in screen(), timeout=5), screen()
        refreshed = screen()
        # Redrawn in place: one header, one block per container, no scrolling copies.
        assert refreshed.count("ward top") == 1 and refreshed.count(with_usage) == 1
        assert "4800.00 / 5000.00 (96%)" in refreshed
        tmux("send-keys", "-t", session, "q")
        assert wait_until(lambda: tmux("has-session", "-t", session).returncode != 0, timeout=5), "q did not quit"
    finally:
        tmux("kill-session", "-t", session)
