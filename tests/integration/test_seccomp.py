"""linux.seccomp seen from inside the container: blocked calls fail with the
errno the profile names, argument rules match only their values, kill and
trap actions end the process with SIGSYS, SCMP_ACT_LOG lets calls through,
unknown names are skipped only when that is safe, bad profiles fail with
the field's path and leave nothing behind, and SCMP_ACT_NOTIFY hands the
listener fd to an agent that answers the container's calls."""

import copy
import errno
import json
import re
import signal
from pathlib import Path

import pytest

from conftest import assert_error
from helpers.seccomp_listener import ListenerProcess

SIGSYS_EXIT = 128 + signal.SIGSYS
UNISTD_64 = Path("/usr/include/x86_64-linux-gnu/asm/unistd_64.h")
# mkdir's syscall numbers on x86_64: busybox may use either.
MKDIR_NRS = {83, 258}


def seccomp(default="SCMP_ACT_ALLOW", syscalls=(), **fields):
    """config_changes that set linux.seccomp."""
    profile = {"defaultAction": default, "syscalls": list(syscalls), **fields}
    return {"linux": {"seccomp": profile}}


def rule(names, action, **fields):
    return {"names": list(names), "action": action, **fields}


def arg(index, value, op, value_two=None):
    entry = {"index": index, "value": value, "op": op}
    if value_two is not None:
        entry["valueTwo"] = value_two
    return entry


MKDIR_ERRNO_38 = seccomp(syscalls=[rule(["mkdir", "mkdirat"], "SCMP_ACT_ERRNO", errnoRet=errno.ENOSYS)])



def without_cores(changes):
    """Killed processes must not leave core files in the rootfs."""
    changes = copy.deepcopy(changes)
    limits = [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}, {"type": "RLIMIT_CORE", "hard": 0, "soft": 0}]
    changes["process"] = {"rlimits": limits}
    return changes


# --- errno actions ---------------------------------------------------------


def test_errno_ret_is_what_the_blocked_call_returns(ward, bundle):
    out = ward.run_ok("mkdir /tmp/x 2>&1; echo rc=$?", MKDIR_ERRNO_38)
    assert "Function not implemented" in out
    assert out.rstrip().endswith("rc=1")
    assert not (bundle.rootfs / "tmp" / "x").exists()


def test_errno_without_errno_ret_is_eperm(ward, bundle):
    (bundle.rootfs / "tmp" / "f").write_text("")
    changes = seccomp(syscalls=[rule(["chmod", "fchmodat", "fchmod"], "SCMP_ACT_ERRNO")])
    out = ward.run_ok("chmod 600 /tmp/f 2>&1; echo rc=$?", changes)
    assert "Operation not permitted" in out
    assert out.rstrip().endswith("rc=1")


def test_other_calls_still_work_under_a_filter(ward):
    out = ward.run_ok("touch /tmp/y && ls /tmp && rm /tmp/y && echo fine", MKDIR_ERRNO_38)
    assert out.splitlines() == ["y", "fine"]


def test_filter_is_inherited_by_children(ward):
    # The shell forks for mkdir; the child is filtered too.
    out = ward.run_ok("sh -c 'mkdir /tmp/x' 2>&1; echo rc=$?", MKDIR_ERRNO_38)
    assert "Function not implemented" in out


# --- arguments -------------------------------------------------------------


def chmod_rules(args_for_chmod, args_for_fchmodat, errno_ret=errno.EACCES):
    """One rule for chmod (mode is argument 1) and one for fchmodat (2)."""
    return seccomp(
        syscalls=[
            rule(["chmod"], "SCMP_ACT_ERRNO", errnoRet=errno_ret, args=args_for_chmod),
            rule(["fchmodat"], "SCMP_ACT_ERRNO", errnoRet=errno_ret, args=args_for_fchmodat),
        ]
    )


def chmod_results(ward, bundle, changes, modes):
    """{mode: exit status of `chmod MODE` on a file} inside one container."""
    (bundle.rootfs / "tmp" / "f").write_text("")
    script = "; ".join(f"chmod {mode} /tmp/f 2>/dev/null; echo {mode}=$?" for mode in modes)
    out = ward.run_ok(script, changes)
    return {mode: int(code) for mode, code in (line.split("=") for line in out.split())}


def test_arg_rule_matches_only_its_value(ward, bundle):
    changes = chmod_rules([arg(1, 0o700, "SCMP_CMP_EQ")], [arg(2, 0o700, "SCMP_CMP_EQ")])
    assert chmod_results(ward, bundle, changes, ["700", "755"]) == {"700": 1, "755": 0}


def test_arg_rule_errno_is_seen_inside(ward, bundle):
    (bundle.rootfs / "tmp" / "f").write_text("")
    changes = chmod_rules([arg(1, 0o700, "SCMP_CMP_EQ")], [arg(2, 0o700, "SCMP_CMP_EQ")])
    out = ward.run_ok("chmod 700 /tmp/f 2>&1; chmod 755 /tmp/f && echo ok", changes)
    assert "Permission denied" in out
    assert out.rstrip().endswith("ok")


def test_entries_on_the_same_index_are_ored(ward, bundle):
    # As runc: two comparisons of one argument mean "either value".
    changes = chmod_rules(
        [arg(1, 0o700, "SCMP_CMP_EQ"), arg(1, 0o750, "SCMP_CMP_EQ")],
        [arg(2, 0o700, "SCMP_CMP_EQ"), arg(2, 0o750, "SCMP_CMP_EQ")],
    )
    assert chmod_results(ward, bundle, changes, ["700", "750", "755"]) == {"700": 1, "750": 1, "755": 0}


def test_masked_eq_compares_under_the_mask(ward, bundle):
    # value is the mask, valueTwo the datum: refuse modes with no bits for others.
    changes = chmod_rules(
        [arg(1, 0o007, "SCMP_CMP_MASKED_EQ", 0)],
        [arg(2, 0o007, "SCMP_CMP_MASKED_EQ", 0)],
    )
    assert chmod_results(ward, bundle, changes, ["770", "775", "604"]) == {"770": 1, "775": 0, "604": 0}


def test_range_operators(ward, bundle):
    changes = chmod_rules([arg(1, 0o700, "SCMP_CMP_GT")], [arg(2, 0o700, "SCMP_CMP_GT")])
    assert chmod_results(ward, bundle, changes, ["644", "700", "755"]) == {"644": 0, "700": 0, "755": 1}


# --- kill, trap, log -------------------------------------------------------


@pytest.mark.parametrize("action", ["SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP", "SCMP_ACT_KILL"])
def test_killing_actions_end_the_process_with_sigsys(ward, bundle, action):
    changes = without_cores(seccomp(syscalls=[rule(["mkdir", "mkdirat"], action)]))
    code, out, err = ward.run_container(["mkdir", "/tmp/x"], changes)
    assert code == SIGSYS_EXIT, f"exit {code}; stdout={out!r} stderr={err!r}"
    assert not (bundle.rootfs / "tmp" / "x").exists()


def test_log_lets_the_call_through(ward, bundle):
    changes = seccomp(syscalls=[rule(["mkdir", "mkdirat"], "SCMP_ACT_LOG")])
    assert ward.run_ok("mkdir /tmp/logged && echo made", changes) == "made\n"
    assert (bundle.rootfs / "tmp" / "logged").is_dir()


# --- default action, architectures, unknown names --------------------------


def host_syscall_names():
    """Every x86_64 syscall the kernel headers name: an allow list that lets
    a busybox container run under a deny-by-default profile."""
    if not UNISTD_64.exists():
        pytest.skip(f"{UNISTD_64} is not installed")
    return re.findall(r"^#define __NR_(\w+) \d+$", UNISTD_64.read_text(), re.MULTILINE)


def test_default_errno_ret_applies_to_what_no_rule_allows(ward, bundle):
    allowed = [name for name in host_syscall_names() if name not in ("mkdir", "mkdirat")]
    changes = seccomp("SCMP_ACT_ERRNO", [rule(allowed, "SCMP_ACT_ALLOW")], defaultErrnoRet=errno.EACCES)
    out = ward.run_ok("mkdir /tmp/x 2>&1; echo rc=$?; echo still running", changes)
    assert "Permission denied" in out
    assert out.splitlines()[-2:] == ["rc=1", "still running"]


def test_unknown_names_are_skipped_when_the_default_is_stricter(ward):
    # Allow rules for names libseccomp does not know, under a deny default:
    # skipping them keeps those calls denied, so the container runs.
    allowed = [name for name in host_syscall_names() if name not in ("mkdir", "mkdirat")]
    allowed += ["ward_no_such_call", "another_future_call"]
    changes = seccomp("SCMP_ACT_ERRNO", [rule(allowed, "SCMP_ACT_ALLOW")])
    out = ward.run_ok("mkdir /tmp/x 2>&1; echo ran", changes)
    assert "Operation not permitted" in out
    assert out.rstrip().endswith("ran")


def test_32_bit_architectures_are_accepted(ward):
    changes = copy.deepcopy(MKDIR_ERRNO_38)
    changes["linux"]["seccomp"]["architectures"] = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
    out = ward.run_ok("mkdir /tmp/x 2>&1; echo rc=$?", changes)
    assert "Function not implemented" in out


def test_filter_flags_are_accepted(ward):
    changes = copy.deepcopy(MKDIR_ERRNO_38)
    changes["linux"]["seccomp"]["flags"] = ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"]
    out = ward.run_ok("mkdir /tmp/x 2>&1; echo rc=$?", changes)
    assert "Function not implemented" in out


# --- bad profiles ----------------------------------------------------------


def config_text_with(config, path, bad_value):
    """config.json text with the value at `path` (a list of keys and indexes)
    replaced by `bad_value`, and the 1-based (line, column) where it starts."""
    config = copy.deepcopy(config)
    holder = config
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = "__wt_value__"
    text = json.dumps(config, indent=2)
    offset = text.index('"__wt_value__"')
    line, column = text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)
    return text.replace('"__wt_value__"', json.dumps(bad_value)), line, column


def fails_cleanly(ward, bundle, text, *fragments):
    """`create` and `run` both exit 1 with one `ward: ...` line holding each
    fragment, and leave nothing behind."""
    bundle.config_path.write_text(text)
    for command in ("create", "run"):
        result = ward(command, "--bundle", bundle.path, ward.new_id())
        message = assert_error(result, *fragments)
        assert ward.leftovers() == [], f"{command} left things behind"
    return message


BASE_PROFILE = seccomp(
    syscalls=[
        rule(["mkdir"], "SCMP_ACT_ERRNO"),
        rule(["chmod"], "SCMP_ACT_ERRNO", args=[arg(1, 0o700, "SCMP_CMP_EQ")]),
    ]
)["linux"]["seccomp"]

# (id, path in linux.seccomp, bad value, message after "config.json: linux.seccomp.")
BAD_PROFILES = [
    ("unknown-action", ["syscalls", 0, "action"], "SCMP_ACT_FOO", 'syscalls[0].action: unknown action "SCMP_ACT_FOO"'),
    ("unknown-default", ["defaultAction"], "SCMP_ACT_NOPE", 'defaultAction: unknown action "SCMP_ACT_NOPE"'),
    ("bad-op", ["syscalls", 1, "args", 0, "op"], "SCMP_CMP_FOO",
     'syscalls[1].args[0].op: unknown operator "SCMP_CMP_FOO"'),
    ("index-6", ["syscalls", 1, "args", 0, "index"], 6, "syscalls[1].args[0].index: 6 is out of range (0 to 5)"),
    ("empty-names", ["syscalls", 0, "names"], [], "syscalls[0].names: expected at least one syscall name"),
    ("metadata-without-path", ["listenerMetadata"], "x", "listenerMetadata: is set without listenerPath"),
    (
        "unknown-name-stricter-than-default",
        ["syscalls", 0, "names", 0],
        "ward_no_such_call",
        'syscalls[0].names[0]: unknown syscall "ward_no_such_call": skipping its SCMP_ACT_ERRNO rule would leave it '
        "to the less strict default action SCMP_ACT_ALLOW",
    ),
    ("arch-not-a-list", ["architectures"], "SCMP_ARCH_X86", "architectures: expected an array"),
    ("unknown-arch", ["architectures", 0], "SCMP_ARCH_VAX", 'architectures[0]: unknown architecture "SCMP_ARCH_VAX"'),
    ("errno-not-a-number", ["syscalls", 0, "errnoRet"], "EPERM",
     "syscalls[0].errnoRet: expected a non-negative integer"),
]


@pytest.mark.parametrize("path, bad_value, expected", [pytest.param(*case[1:], id=case[0]) for case in BAD_PROFILES])
def test_bad_profile_names_the_field(ward, bundle, path, bad_value, expected):
    bundle.config["linux"]["seccomp"] = copy.deepcopy(BASE_PROFILE)
    bundle.config["linux"]["seccomp"]["architectures"] = ["SCMP_ARCH_X86_64"]
    text, line, column = config_text_with(bundle.config, ["linux", "seccomp", *path], bad_value)
    fails_cleanly(ward, bundle, text, f"config.json: linux.seccomp.{expected}", f" at line {line}, column {column}")


def test_errno_ret_on_an_action_without_errno_is_refused(ward, bundle):
    bundle.config["linux"]["seccomp"] = seccomp(syscalls=[rule(["mkdir"], "SCMP_ACT_KILL")])["linux"]["seccomp"]
    text, line, column = config_text_with(bundle.config, ["linux", "seccomp", "syscalls", 0, "errnoRet"], 1)
    fails_cleanly(
        ward,
        bundle,
        text,
        "config.json: linux.seccomp.syscalls[0].errnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno, "
        f"not SCMP_ACT_KILL at line {line}, column {column}",
    )


def test_notify_without_listener_path_is_refused(ward, bundle):
    bundle.config["linux"]["seccomp"] = seccomp(syscalls=[rule(["mkdir"], "SCMP_ACT_NOTIFY")])["linux"]["seccomp"]
    fails_cleanly(
        ward, bundle, json.dumps(bundle.config), "linux.seccomp.listenerPath: required when a rule uses SCMP_ACT_NOTIFY"
    )


# --- SCMP_ACT_NOTIFY -------------------------------------------------------


def notify_profile(socket_path, names=("mkdir", "mkdirat"), metadata=None):
    fields = {"listenerPath": str(socket_path)}
    if metadata is not None:
        fields["listenerMetadata"] = metadata
    return seccomp(syscalls=[rule(names, "SCMP_ACT_NOTIFY")], **fields)


def test_notify_agent_answers_with_an_errno(ward, bundle, tmp_path):
    socket_path = tmp_path / "agent.sock"
    changes = notify_profile(socket_path, metadata="MKDIR=deny")
    with ListenerProcess(socket_path, tmp_path / "report.json", errno_answer=errno.EACCES) as agent:
        code, out, err = ward.run_container(["mkdir", "/tmp/x"], changes)
        report = agent.report()
    assert report["error"] is None, report
    assert code == 1, f"exit {code}; stdout={out!r} stderr={err!r}"
    assert "Permission denied" in out + err

    state = report["state"]
    assert state["ociVersion"] == "1.2.0"
    assert state["fds"] == ["seccompFd"]
    assert state["metadata"] == "MKDIR=deny"
    assert state["state"]["id"] == ward.ids[-1]
    assert state["state"]["status"] == "creating"
    assert state["state"]["pid"] == state["pid"]
    assert report["fds_received"] == 1
    assert report["closed_after_send"], "the runtime kept the listener connection open"

    mkdirs = [n for n in report["notifications"] if n["nr"] in MKDIR_NRS]
    assert mkdirs, f"the agent saw no mkdir: {report['notifications']}"
    # mkdir was the container's process itself (process.args), so its pid.
    assert {n["pid"] for n in mkdirs} == {state["pid"]}
    assert not (bundle.rootfs / "tmp" / "x").exists()


def test_notify_agent_can_fake_success(ward, bundle, tmp_path):
    socket_path = tmp_path / "agent.sock"
    with ListenerProcess(socket_path, tmp_path / "report.json", value_answer=0) as agent:
        script = "mkdir /tmp/x && echo said-yes; test -d /tmp/x || echo but-nothing-made"
        out = ward.run_ok(script, notify_profile(socket_path))
        report = agent.report()
    assert report["error"] is None, report
    assert out.split() == ["said-yes", "but-nothing-made"]
    assert "metadata" not in report["state"]
    assert any(n["nr"] in MKDIR_NRS for n in report["notifications"])


def test_notify_with_a_long_listener_path(ward, tmp_path):
    # Longer than sockaddr_un.sun_path (108 bytes): ward must still reach it.
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    socket_path = deep / "agent.sock"
    assert len(str(socket_path)) > 108
    with ListenerProcess(socket_path, tmp_path / "report.json", errno_answer=errno.EPERM) as agent:
        out = ward.run_ok("mkdir /tmp/x 2>&1; echo rc=$?", notify_profile(socket_path))
        report = agent.report()
    assert report["error"] is None, report
    assert "Operation not permitted" in out


def test_unreachable_listener_fails_cleanly(ward, bundle, tmp_path):
    socket_path = tmp_path / "nobody-listens.sock"
    merged = copy.deepcopy(bundle.config)
    merged["linux"]["seccomp"] = notify_profile(socket_path)["linux"]["seccomp"]
    fails_cleanly(ward, bundle, json.dumps(merged), str(socket_path))
