"""Bad input fails cleanly: exit 1, one `ward: <message>` line on stderr that
says what and where, the same message as a JSON error line in the --log
file, and nothing left behind (state, processes, mounts, cgroups)."""

import copy
import json
import os

import pytest

from conftest import assert_error, host_mounts_naming, processes_in

SENTINEL = '"__wt_value__"'


def fails_cleanly(ward, bundle, args, *fragments):
    """Run `args` twice, plain and with a JSON log; both fail the same way and
    leave nothing behind.  Returns the message."""
    message = assert_error(ward(*args), *fragments)
    log = bundle.path.parent / "ward-log.json"
    logged = ward(*args, global_options=["--log", log, "--log-format", "json"])
    assert logged.returncode == 1
    if logged.stderr:  # stderr may stay quiet when there is a log file; if not, it says the same
        assert assert_error(logged) == message, "stderr differs when logging to a file"
    entry = json.loads(log.read_text().splitlines()[-1])
    assert entry["level"] == "error"
    assert entry["msg"] == message
    assert entry["time"]
    assert ward.leftovers() == []
    return message


def create_args(ward, bundle):
    return ["create", "--bundle", bundle.path, ward.new_id()]


def position_of(text, token):
    """1-based line and column of the first character of `token` in `text`."""
    offset = text.index(token)
    return text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)


def config_text_with(config, path, bad_value):
    """config.json text with the value at `path` (dotted) replaced by
    `bad_value`, and the 1-based (line, column) where that value starts."""
    config = copy.deepcopy(config)
    *parents, key = path.split(".")
    holder = config
    for name in parents:
        holder = holder[name]
    holder[key] = "__wt_value__"
    text = json.dumps(config, indent=2)
    line, column = position_of(text, SENTINEL)
    return text.replace(SENTINEL, json.dumps(bad_value)), line, column


WRONG_TYPES = [
    ("process.args", "sh -c true", "an array of strings"),
    ("process.terminal", "yes", "a boolean"),
    ("process.cwd", 7, "a string"),
    ("hostname", 42, "a string"),
    ("process", ["sh"], "an object"),
    ("root", "rootfs", "an object"),
    ("process.oomScoreAdj", "high", "an integer"),
]


@pytest.mark.parametrize("path, bad_value, expected", [pytest.param(*case, id=case[0]) for case in WRONG_TYPES])
def test_wrong_type_names_field_and_position(ward, bundle, path, bad_value, expected):
    text, line, column = config_text_with(bundle.config, path, bad_value)
    bundle.write_config(text=text)
    message = fails_cleanly(ward, bundle, create_args(ward, bundle))
    assert message == f"config.json: {path}: expected {expected} at line {line}, column {column}"


def test_wrong_type_position_in_hand_written_config(ward, bundle):
    """The contract's own example: args on line 4, its value at column 12."""
    text = (
        '{\n  "ociVersion": "1.0.2-dev",\n  "process": {\n   "args": "sh", "cwd": "/"\n  },\n'
        '  "root": {"path": "rootfs"}\n}\n'
    )
    assert position_of(text, '"sh"') == (4, 12)
    bundle.write_config(text=text)
    message = fails_cleanly(ward, bundle, create_args(ward, bundle))
    assert message == "config.json: process.args: expected an array of strings at line 4, column 12"


def test_missing_oci_version(ward, bundle):
    del bundle.config["ociVersion"]
    bundle.write_config()
    message = fails_cleanly(ward, bundle, create_args(ward, bundle), "ociVersion", "required")
    assert message == "config.json: ociVersion: required field is missing"


def test_malformed_json_names_the_position(ward, bundle):
    text = '{\n  "ociVersion": "1.0.2-dev",\n  "process": @\n}\n'
    bundle.write_config(text=text)
    line, column = position_of(text, "@")
    message = fails_cleanly(ward, bundle, create_args(ward, bundle), "config.json: invalid JSON: ")
    # The parser may notice the bad character on it or just past it.
    assert message.endswith((f" at line {line}, column {column}", f" at line {line}, column {column + 1}")), message


def test_truncated_json(ward, bundle):
    bundle.write_config(text='{"ociVersion": "1.0.2-dev", "process": {')
    fails_cleanly(ward, bundle, create_args(ward, bundle), "config.json: invalid JSON: ", " at line 1, column ")


def test_malformed_json_with_run(ward, bundle):
    bundle.write_config(text="{ nope }")
    fails_cleanly(ward, bundle, ["run", "--bundle", bundle.path, ward.new_id()], "config.json: invalid JSON: ")


def test_missing_config(ward, bundle):
    message = fails_cleanly(ward, bundle, create_args(ward, bundle), "config.json", "No such file or directory")
    assert message.startswith("open ")


def test_missing_rootfs(ward, bundle):
    bundle.write_config()
    os.rename(bundle.rootfs, bundle.path / "elsewhere")
    fails_cleanly(ward, bundle, create_args(ward, bundle), str(bundle.rootfs))


def test_empty_args(ward, bundle):
    bundle.config["process"]["args"] = []
    bundle.write_config()
    fails_cleanly(ward, bundle, create_args(ward, bundle), "args")


def test_bind_mount_of_a_missing_source(ward, bundle, tmp_path):
    source = tmp_path / "no-such-source"
    bundle.add_mount("/data", "bind", source, ["bind"])
    bundle.write_config()
    fails_cleanly(ward, bundle, create_args(ward, bundle), str(source))


def test_bind_mount_of_a_missing_source_with_run(ward, bundle, tmp_path):
    source = tmp_path / "no-such-source"
    bundle.add_mount("/data", "bind", source, ["bind"])
    bundle.config["process"]["args"] = ["sh", "-c", "touch /ran"]
    bundle.write_config()
    fails_cleanly(ward, bundle, ["run", "--bundle", bundle.path, ward.new_id()], str(source))
    assert not (bundle.rootfs / "ran").exists()


@pytest.mark.parametrize("command", ["state", "start", "delete"])
def test_unknown_id(ward, bundle, command):
    container_id = ward.new_id()
    fails_cleanly(ward, bundle, [command, container_id], f'container "{container_id}" does not exist')


@pytest.mark.parametrize("bad_id", ["../escape", "a/b", "..", ""])
def test_invalid_id_is_refused_and_creates_nothing_outside_root(ward, bundle, bad_id):
    bundle.write_config()
    result = ward("create", "--bundle", bundle.path, bad_id)
    assert_error(result)
    assert not (ward.root.parent / "escape").exists()
    assert ward.leftovers() == []


def test_existing_id_keeps_the_first_and_leaves_nothing_else(ward, bundle, make_bundle):
    container_id = ward.create()
    first = ward.state(container_id)
    states_before = sorted(os.listdir(ward.root))
    other = ward.add_bundle(make_bundle("other"))
    other.write_config(container_id)
    args = ["create", "--bundle", other.path, container_id]
    message = assert_error(ward(*args), f'container "{container_id}" already exists')
    log = other.path.parent / "ward-log.json"
    assert ward(*args, global_options=["--log", log, "--log-format", "json"]).returncode == 1
    assert json.loads(log.read_text().splitlines()[-1])["msg"] == message
    assert sorted(os.listdir(ward.root)) == states_before
    assert processes_in(other) == [] and host_mounts_naming(other.path) == []
    after = ward.state(container_id)
    assert (after["pid"], after["bundle"], after["status"]) == (first["pid"], first["bundle"], "created")
