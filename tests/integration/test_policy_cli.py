"""Issue 7 (first slice): the shipped policy profiles load, and `ward policy
list` / `show` present them.  (The tighten-only merge is the next slice.)"""

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


def test_explain_is_not_there_yet():
    assert_error(policy("explain", "--bundle", "."), "not implemented")
