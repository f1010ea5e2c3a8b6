"""LSM labels and process attributes, seen from inside the container.

linux.personality, process.ioPriority and process.scheduler take effect in
the container's process; values the kernel would refuse (or ignore) fail
`create` before anything is made.  AppArmor and SELinux labels asked for on
a host (or a build) without that LSM fail closed: exit 1, one message naming
the label, and nothing left behind -- never a container running unconfined.
"""

import os
import platform
from pathlib import Path

import pytest

from conftest import assert_error, merge

# /proc/PID/stat fields after the command name, counted from 1 as in proc(5)
# (which starts at pid): nice is field 19, rt_priority 40, policy 41.
STAT_NICE = 19
STAT_RT_PRIORITY = 40
STAT_POLICY = 41
SCHED_RR, SCHED_BATCH = 2, 3


def apparmor_enabled():
    try:
        return Path("/sys/module/apparmor/parameters/enabled").read_text().strip() == "Y"
    except OSError:
        return False


def selinux_enabled():
    return os.path.exists("/sys/fs/selinux/enforce")


def stat_field(stat_line, field):
    """Field `field` (1-based, proc(5) numbering) of a /proc/PID/stat line;
    the command name may hold spaces, so count from its closing parenthesis."""
    after_comm = stat_line[stat_line.rindex(")") + 2 :].split()
    return int(after_comm[field - 3])


def refused(ward, bundle, command, config_changes):
    """`command` (create or run) with `config_changes` must be refused:
    returns (the one error message, the config.json text), after checking
    that nothing is left behind."""
    merge(bundle.config, config_changes)
    container_id = ward.new_id()
    text = bundle.write_config(container_id).read_text()
    message = assert_error(ward(command, "--bundle", bundle.path, container_id))
    assert ward.leftovers() == []
    return message, text


def create_and_fail(ward, bundle, config_changes):
    return refused(ward, bundle, "create", config_changes)


def run_and_fail(ward, bundle, config_changes):
    """`run` must be refused before the container's process ran."""
    shared = bundle.share()
    bundle.config["process"]["args"] = ["sh", "-c", "touch /out/ran"]
    message, _ = refused(ward, bundle, "run", config_changes)
    assert not (shared / "ran").exists(), "the container's process ran although ward refused the config"
    return message


def position_of(text, token):
    offset = text.index(token)
    return text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)


# ---------------------------------------------------------------------------
# linux.personality


@pytest.mark.skipif(platform.machine() != "x86_64", reason="LINUX32 reports i686 only on x86_64 hosts")
def test_personality_linux32_changes_uname(ward):
    out = ward.run_ok("uname -m", {"linux": {"personality": {"domain": "LINUX32"}}})
    assert out.strip() == "i686"


def test_personality_linux_keeps_native_machine(ward):
    out = ward.run_ok("uname -m", {"linux": {"personality": {"domain": "LINUX"}}})
    assert out.strip() == platform.machine()


def test_personality_flags_are_refused(ward, bundle):
    message, text = create_and_fail(
        ward, bundle, {"linux": {"personality": {"domain": "LINUX", "flags": ["ADDR_NO_RANDOMIZE"]}}}
    )
    line, column = position_of(text, '"ADDR_NO_RANDOMIZE"')
    assert message == (
        'config.json: linux.personality.flags[0]: unknown flag "ADDR_NO_RANDOMIZE" (the runtime spec defines '
        f"no personality flags) at line {line}, column {column}"
    )


def test_personality_unknown_domain(ward, bundle):
    message, text = create_and_fail(ward, bundle, {"linux": {"personality": {"domain": "LINUX64"}}})
    line, column = position_of(text, '"LINUX64"')
    assert message == (
        f'config.json: linux.personality.domain: unknown domain "LINUX64" (expected LINUX or LINUX32) '
        f"at line {line}, column {column}"
    )


# ---------------------------------------------------------------------------
# process.ioPriority


def require_ionice(bundle):
    if not (bundle.rootfs / "bin" / "ionice").exists():
        pytest.skip("busybox in the image has no ionice applet to read the I/O priority with")


@pytest.mark.parametrize(
    "io_class, level, shown",
    [("IOPRIO_CLASS_BE", 4, "best-effort: prio 4"), ("IOPRIO_CLASS_IDLE", 0, "idle")],
)
def test_io_priority_seen_by_ionice(ward, bundle, io_class, level, shown):
    require_ionice(bundle)
    out = ward.run_ok("ionice -p $$", {"process": {"ioPriority": {"class": io_class, "priority": level}}})
    assert out.strip() == shown


def test_io_priority_unknown_class(ward, bundle):
    message, text = create_and_fail(ward, bundle, {"process": {"ioPriority": {"class": "X", "priority": 4}}})
    line, column = position_of(text, '"X"')
    assert message == f'config.json: process.ioPriority.class: unknown class "X" at line {line}, column {column}'


def test_io_priority_out_of_range(ward, bundle):
    message, text = create_and_fail(
        ward, bundle, {"process": {"ioPriority": {"class": "IOPRIO_CLASS_BE", "priority": 8}}}
    )
    line, column = position_of(text, '"priority": 8')
    column += len('"priority": ')
    assert message == f"config.json: process.ioPriority.priority: 8 is out of range 0..7 at line {line}, column {column}"


# ---------------------------------------------------------------------------
# process.scheduler


def test_scheduler_batch_and_nice(ward):
    out = ward.run_ok("cat /proc/self/stat", {"process": {"scheduler": {"policy": "SCHED_BATCH", "nice": 7}}})
    assert stat_field(out, STAT_POLICY) == SCHED_BATCH
    assert stat_field(out, STAT_NICE) == 7


def test_scheduler_reset_on_fork(ward):
    """The container's own process runs at nice -5; what it forks starts
    afresh at nice 0 (the kernel resets a negative nice, and real-time
    policies, on fork).  The trailing `exit` keeps sh from exec'ing the last
    cat in its own place instead of forking it."""
    out = ward.run_ok(
        "cat /proc/$$/stat; cat /proc/self/stat; exit 0",
        {"process": {"scheduler": {"policy": "SCHED_OTHER", "nice": -5, "flags": ["SCHED_FLAG_RESET_ON_FORK"]}}},
    )
    shell, child = out.splitlines()
    assert stat_field(shell, STAT_NICE) == -5
    assert stat_field(child, STAT_NICE) == 0


def test_scheduler_real_time(ward):
    """SCHED_RR with a priority: field 40 of stat is the real-time priority.
    With real-time group scheduling (v1 cpu.rt_runtime_us), a real-time
    task needs a budget in its cgroup, which the config grants."""
    changes = {"process": {"scheduler": {"policy": "SCHED_RR", "priority": 1}}}
    if Path("/sys/fs/cgroup/cpu/cpu.rt_runtime_us").exists():
        changes["linux"] = {"resources": {"cpu": {"realtimePeriod": 1000000, "realtimeRuntime": 10000}}}
    out = ward.run_ok("cat /proc/self/stat", changes)
    assert stat_field(out, STAT_POLICY) == SCHED_RR
    assert stat_field(out, STAT_RT_PRIORITY) == 1


def test_scheduler_default_is_untouched(ward):
    out = ward.run_ok("cat /proc/self/stat")
    assert stat_field(out, STAT_POLICY) == os.sched_getscheduler(0) & ~getattr(os, "SCHED_RESET_ON_FORK", 0)


def test_scheduler_iso_is_not_supported(ward, bundle):
    message, text = create_and_fail(ward, bundle, {"process": {"scheduler": {"policy": "SCHED_ISO"}}})
    line, column = position_of(text, '"SCHED_ISO"')
    assert message == (
        "config.json: process.scheduler.policy: SCHED_ISO is not supported: mainline Linux has no such policy "
        f"at line {line}, column {column}"
    )


def test_scheduler_nice_out_of_range(ward, bundle):
    message, text = create_and_fail(ward, bundle, {"process": {"scheduler": {"policy": "SCHED_OTHER", "nice": 20}}})
    line, column = position_of(text, '"nice": 20')
    column += len('"nice": ')
    assert message == f"config.json: process.scheduler.nice: 20 is out of range -20..19 at line {line}, column {column}"


def test_scheduler_deadline_fields_need_deadline_policy(ward, bundle):
    message, text = create_and_fail(
        ward, bundle, {"process": {"scheduler": {"policy": "SCHED_BATCH", "runtime": 1000000}}}
    )
    line, column = position_of(text, '"runtime": 1000000')
    column += len('"runtime": ')
    assert message == (
        "config.json: process.scheduler.runtime: only SCHED_DEADLINE takes runtime, deadline and period "
        f"at line {line}, column {column}"
    )


# ---------------------------------------------------------------------------
# AppArmor and SELinux: fail closed


@pytest.mark.skipif(apparmor_enabled(), reason="AppArmor is enabled here: the refusal needs a host without it")
def test_apparmor_profile_refused_without_apparmor(ward, bundle):
    message = run_and_fail(ward, bundle, {"process": {"apparmorProfile": "x"}})
    assert message == 'apparmor profile "x" requested but AppArmor is not enabled on this host'


@pytest.mark.skipif(selinux_enabled(), reason="SELinux is enabled here: the refusal needs a host without it")
def test_selinux_label_refused_without_selinux(ward, bundle):
    label = "system_u:system_r:container_t:s0:c1,c2"
    message = run_and_fail(ward, bundle, {"process": {"selinuxLabel": label}})
    assert message == f'selinux label "{label}" requested but SELinux is not enabled on this host'


@pytest.mark.skipif(selinux_enabled(), reason="SELinux is enabled here: the refusal needs a host without it")
def test_mount_label_refused_without_selinux(ward, bundle):
    label = "system_u:object_r:container_file_t:s0:c1,c2"
    message = run_and_fail(ward, bundle, {"linux": {"mountLabel": label}})
    assert message == f'linux.mountLabel "{label}" requested but SELinux is not enabled on this host'


@pytest.mark.skipif(apparmor_enabled(), reason="AppArmor is enabled here: the refusal needs a host without it")
def test_lsm_refusal_with_create(ward, bundle):
    message, _ = create_and_fail(ward, bundle, {"process": {"apparmorProfile": "ward-default"}})
    assert message == 'apparmor profile "ward-default" requested but AppArmor is not enabled on this host'


def test_empty_labels_mean_unset(ward):
    """Generators write "" for labels they leave unset: that runs."""
    out = ward.run_ok(
        "echo ok", {"process": {"apparmorProfile": "", "selinuxLabel": ""}, "linux": {"mountLabel": ""}}
    )
    assert out.strip() == "ok"
