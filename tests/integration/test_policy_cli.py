"""Issue 7: the shipped policy profiles load, `ward policy list` / `show`
present them, and `ward policy explain` shows what create would change."""

import json
import os
import subprocess
from pathlib import Path

from conftest import TOP, WARD_BINARY, assert_error

POLICY_DIR = TOP / "policy-profiles"


def policy(*args, policy_dir=POLICY_DIR):
    env = dict(os.environ, WARD_POLICY_DIR=str(policy_dir))
    return subprocess.run([WARD_BINARY, "policy", *args], capture_output=True, text=True, timeout=30, env=env)


def test_list_names_every_shipped_profile():
    result = policy("list")
    assert result.returncode == 0, result.stderr
    names = [line.split("\t")[0] for line in result.stdout.splitlines()]
    assert names == ["agent-default", "agent-dev", "agent-strict"]


def test_show_prints_the_profile_as_loaded():
    result = policy("show", "agent-strict")
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["name"] == "agent-strict"
    assert shown["capabilities"]["maximum"] == []
    assert shown["noNewPrivileges"] is True
    assert shown["user"]["forceNonRoot"] is True
    assert shown["namespaces"]["network"] == "new"


def test_show_output_is_itself_a_valid_profile(tmp_path):
    shown = policy("show", "agent-default").stdout
    (tmp_path / "agent-default.json").write_text(shown)
    (tmp_path / "seccomp").mkdir()
    (tmp_path / "seccomp" / "agent.json").write_text((POLICY_DIR / "seccomp" / "agent.json").read_text())
    again = policy("show", "agent-default", policy_dir=tmp_path)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == json.loads(shown)


def test_unknown_and_malformed_profiles_are_refused(tmp_path):
    assert_error(policy("show", "no-such-policy"), "no-such-policy")
    assert_error(policy("show", "../etc/passwd"), "../etc/passwd")
    (tmp_path / "broken.json").write_text('{"name": "broken", "capabilities": {"maximum": ["CAP_FLY"]}}')
    assert_error(policy("show", "broken", policy_dir=tmp_path), "broken.json")


def explain(bundle, *options):
    return policy("explain", "--bundle", str(bundle.path), *options)


def test_explain_tightens_and_refuses_field_by_field(bundle):
    """The issue's example: every capability, a writable root, the Docker
    socket mounted.  Capabilities and root are tightened; the socket is
    refused; nothing is run."""
    every = ["CAP_SYS_ADMIN", "CAP_NET_RAW", "CAP_CHOWN", "CAP_SYS_PTRACE"]
    bundle.config["process"]["capabilities"] = {k: every for k in ("bounding", "effective", "permitted")}
    bundle.config["root"]["readonly"] = False
    bundle.add_mount("/var/run/docker.sock", "bind", "/var/run/docker.sock", ["rbind"])
    bundle.write_config()
    result = explain(bundle, "--policy", "agent-default")
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert any(l.startswith("changed") and "process.capabilities.bounding" in l and "CAP_SYS_ADMIN" in l for l in lines)
    assert any(l.startswith("changed") and "root.readonly" in l for l in lines)
    assert any(l.startswith("refused") and "/var/run/docker.sock" in l for l in lines)


def test_explain_of_a_config_the_policy_accepts_exits_zero(bundle):
    bundle.write_config()
    result = explain(bundle, "--policy", "agent-dev")
    assert result.returncode == 0, result.stdout + result.stderr
    assert not any(line.startswith("refused") for line in result.stdout.splitlines())


def test_explain_chooses_the_policy_as_create_does(bundle):
    """Without --policy: the run.ward.policy annotation, else ward.conf's
    default (unconfined in this test run)."""
    bundle.write_config()
    assert policy("explain", "--bundle", str(bundle.path)).stdout == "policy unconfined: nothing is changed\n"
    bundle.config["annotations"] = {"run.ward.policy": "agent-strict"}
    bundle.write_config()
    result = explain(bundle)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[0] == "policy agent-strict"
    assert any("process.user" in line and "65534" in line for line in result.stdout.splitlines())
