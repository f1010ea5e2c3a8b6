"""`ward features` and `ward --version`: what an engine reads before it
writes a config.json (runtime-spec features.md), and what a person reads to
know which build they run."""

import json
import re
import subprocess

from conftest import WARD_BINARY

HOOK_POINTS = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"]
NAMESPACES = ["cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"]
WARD_ANNOTATIONS = [
    "run.ward.policy",
    "run.ward.egress",
    "run.ward.timeout",
    "run.ward.cpu-seconds",
    "run.ward.egress-bytes",
    "run.ward.budget",
]


def run(*args):
    return subprocess.run([WARD_BINARY, *args], capture_output=True, text=True, timeout=30)


def features():
    result = run("features")
    assert result.returncode == 0, f"features failed ({result.returncode}): {result.stderr}"
    assert result.stderr == ""
    return result.stdout, json.loads(result.stdout)


def test_features_is_pretty_printed_json():
    text, _ = features()
    assert text.startswith("{\n  \"ociVersionMin\"")
    assert text.endswith("}\n")


def test_features_versions_and_hooks():
    _, doc = features()
    assert doc["ociVersionMin"] == "1.0.0"
    assert doc["ociVersionMax"] == "1.2.0"
    assert doc["hooks"] == HOOK_POINTS


def test_features_mount_options():
    _, doc = features()
    options = doc["mountOptions"]
    assert len(options) == len(set(options))
    for option in ("bind", "rbind", "ro", "rw", "nosuid", "nodev", "noexec", "rprivate", "rslave", "strictatime"):
        assert option in options
    # Refused by mounts.c: listing them would promise what ward does not do.
    assert "idmap" not in options and "ridmap" not in options


def test_features_linux():
    _, doc = features()
    linux = doc["linux"]
    assert linux["namespaces"] == NAMESPACES
    caps = linux["capabilities"]
    assert "CAP_SYS_ADMIN" in caps and "CAP_CHOWN" in caps and "CAP_NET_BIND_SERVICE" in caps
    assert all(re.fullmatch(r"CAP_[A-Z_]+", cap) for cap in caps), caps
    assert len(caps) == len(set(caps))
    assert linux["cgroup"] == {"v1": True, "v2": True, "systemd": False, "systemdUser": False, "rdma": False}
    assert isinstance(linux["apparmor"]["enabled"], bool)
    assert isinstance(linux["selinux"]["enabled"], bool)
    assert linux["intelRdt"] == {"enabled": False}
    assert linux["mountExtensions"] == {"idmap": {"enabled": False}}


def test_features_seccomp():
    _, doc = features()
    seccomp = doc["linux"]["seccomp"]
    assert seccomp["enabled"] is True
    for action in ("SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_NOTIFY", "SCMP_ACT_LOG"):
        assert action in seccomp["actions"]
    assert set(seccomp["operators"]) == {
        "SCMP_CMP_NE",
        "SCMP_CMP_LT",
        "SCMP_CMP_LE",
        "SCMP_CMP_EQ",
        "SCMP_CMP_GE",
        "SCMP_CMP_GT",
        "SCMP_CMP_MASKED_EQ",
    }
    assert "SCMP_ARCH_X86_64" in seccomp["archs"] and "SCMP_ARCH_AARCH64" in seccomp["archs"]
    assert "SECCOMP_FILTER_FLAG_LOG" in seccomp["knownFlags"]
    assert set(seccomp["supportedFlags"]) <= set(seccomp["knownFlags"])


def test_features_annotations():
    _, doc = features()
    annotations = doc["annotations"]
    assert all(isinstance(value, str) for value in annotations.values()), annotations
    for key in WARD_ANNOTATIONS:
        assert key in annotations
    assert annotations["org.opencontainers.runc.checkpoint.enabled"] == "false"
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", annotations["io.github.ward.version"])


def test_features_takes_no_arguments():
    result = run("features", "extra")
    assert result.returncode == 1
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("ward: ")


def test_version_lines():
    result = run("--version")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) >= 3, lines
    assert re.fullmatch(r"ward version \d+\.\d+\.\d+.*", lines[0]), lines
    assert "spec: 1.2.0" in lines
    flags = " ".join(lines[2:]).split()
    assert "+SECCOMP" in flags and "+CAP" in flags
    assert {"+SELINUX", "-SELINUX"} & set(flags)
    assert {"+APPARMOR", "-APPARMOR"} & set(flags)


def test_version_agrees_with_features():
    _, doc = features()
    version = run("--version").stdout.splitlines()[0].split()[-1]
    assert doc["annotations"]["io.github.ward.version"] == version
    flags = run("--version").stdout.split()
    assert ("+APPARMOR" in flags) == doc["linux"]["apparmor"]["enabled"]
    assert ("+SELINUX" in flags) == doc["linux"]["selinux"]["enabled"]
