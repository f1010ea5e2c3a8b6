"""Issue 3: every container joins a fresh session keyring, so it cannot
reach the keys of the host's session (or another container's) through the
shared one; --no-new-keyring keeps the caller's, as runc does."""

import shutil
import subprocess
from pathlib import Path

import pytest

PROBE_SOURCE = Path(__file__).parent / "probes" / "session_keyring.c"


@pytest.fixture(scope="session")
def keyring_probe(tmp_path_factory):
    binary = tmp_path_factory.mktemp("probe") / "session-keyring"
    subprocess.run(["gcc", "-static", "-O2", "-o", str(binary), str(PROBE_SOURCE)], check=True)
    return binary


def session_keyring(ward, bundle, probe, *create_options):
    shutil.copy2(probe, bundle.rootfs / "bin" / "session-keyring")
    bundle.config["process"]["args"] = ["/bin/session-keyring"]
    container_id = ward.new_id()
    bundle.write_config(container_id)
    result = ward("run", *create_options, "--bundle", bundle.path, container_id)
    assert result.returncode == 0, result.stderr
    serial, description = result.stdout.split()
    return int(serial), description


def host_session_keyring(probe):
    serial, description = subprocess.run([str(probe)], capture_output=True, text=True, check=True).stdout.split()
    return int(serial), description


def test_each_container_gets_a_fresh_session_keyring(ward, make_bundle, keyring_probe):
    host, _ = host_session_keyring(keyring_probe)
    first, description = session_keyring(ward, ward.bundle, keyring_probe)
    second, _ = session_keyring(ward, ward.add_bundle(make_bundle("second")), keyring_probe)
    assert len({host, first, second}) == 3
    # An anonymous session keyring, named by the kernel "_ses".
    assert description.endswith(";_ses")


def test_no_new_keyring_keeps_the_callers(ward, keyring_probe):
    host, host_description = host_session_keyring(keyring_probe)
    serial, description = session_keyring(ward, ward.bundle, keyring_probe, "--no-new-keyring")
    assert (serial, description) == (host, host_description)
