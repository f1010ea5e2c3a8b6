"""OCI hooks at every point of the lifecycle: each one gets the container's
state on stdin and runs where the runtime-spec says (prestart, createRuntime,
poststart and poststop in the runtime's namespaces; createContainer and
startContainer in the container's), in order; a failing creation hook stops
create and leaves nothing behind, a failing poststart or poststop hook is
only a warning, and a hook that overstays its timeout is killed."""

import json
import time
from pathlib import Path

from conftest import assert_error, ns_link, pid_alive, wait_until

POINTS = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"]
STATUS_AT = {
    "prestart": "creating",
    "createRuntime": "creating",
    "createContainer": "creating",
    "startContainer": "created",
    "poststart": "running",
    "poststop": "stopped",
}
# Where each point's hooks run: the runtime's namespaces or the container's.
IN_CONTAINER = {"createContainer", "startContainer"}

HOOK_ENV = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]

# Records what a hook saw: its stdin (the state), its mount and pid
# namespaces, and its place in the order of all hooks.  $1 names the record,
# $2 is the directory to write to, as the hook sees it.
RECORDER = """#!/bin/sh
name=$1
out=$2
cat > "$out/$name.state"
readlink /proc/self/ns/mnt > "$out/$name.mnt"
readlink /proc/self/ns/pid > "$out/$name.pidns"
echo "$name" >> "$out/order"
"""


def write_script(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)
    return path


class Hooks:
    """Hook scripts for a bundle and the directory they report to.

    Host hooks run scripts under tmp_path; startContainer runs after
    pivot_root, so its script is inside the rootfs and it reports to the
    shared directory as the container sees it (/out)."""

    def __init__(self, bundle, tmp_path):
        self.bundle = bundle
        self.out = bundle.share("/out", name="hooks-out")
        self.host_dir = tmp_path / "hook-scripts"
        self.recorder = write_script(self.host_dir / "record.sh", RECORDER)
        write_script(bundle.rootfs / "hooks" / "record.sh", RECORDER)
        bundle.config["hooks"] = {}

    def script(self, name, text, in_container=False):
        """A #!/bin/sh script; returns the path the hook must be given."""
        if in_container:
            write_script(self.bundle.rootfs / "hooks" / name, "#!/bin/sh\n" + text)
            return f"/hooks/{name}"
        return str(write_script(self.host_dir / name, "#!/bin/sh\n" + text))

    def add(self, point, path, args=None, timeout=None):
        hook = {"path": str(path), "env": list(HOOK_ENV)}
        if args is not None:
            hook["args"] = [str(path), *map(str, args)]
        if timeout is not None:
            hook["timeout"] = timeout
        self.bundle.config["hooks"].setdefault(point, []).append(hook)

    def add_recorder(self, point, name=None):
        name = name or point
        if point == "startContainer":
            self.add(point, "/hooks/record.sh", [name, "/out"])
        else:
            self.add(point, self.recorder, [name, self.out])

    def order(self):
        path = self.out / "order"
        return path.read_text().split() if path.exists() else []

    def state(self, name):
        return json.loads((self.out / f"{name}.state").read_text())

    def namespace(self, name, kind):
        return (self.out / f"{name}.{kind}").read_text().strip()


def test_hooks_see_state_and_run_in_the_right_namespaces_and_order(ward, bundle, tmp_path):
    hooks = Hooks(bundle, tmp_path)
    for point in POINTS:
        hooks.add_recorder(point)
    bundle.config["process"]["args"] = ["sleep", "1000"]
    bundle.config["annotations"] = {"org.example.hooks": "yes"}

    container_id = ward.create()
    init_pid = ward.state(container_id)["pid"]
    container_mnt, container_pidns = ns_link("mnt", init_pid), ns_link("pid", init_pid)
    host_mnt, host_pidns = ns_link("mnt"), ns_link("pid")
    assert container_mnt != host_mnt and container_pidns != host_pidns
    assert hooks.order() == ["prestart", "createRuntime", "createContainer"]

    result = ward("start", container_id)
    assert result.returncode == 0, result.stderr
    assert hooks.order() == ["prestart", "createRuntime", "createContainer", "startContainer", "poststart"]

    result = ward("kill", container_id, "KILL")
    assert result.returncode == 0, result.stderr
    ward.wait_for_status(container_id, "stopped")
    result = ward("delete", container_id)
    assert result.returncode == 0, result.stderr
    assert hooks.order() == POINTS

    for point in POINTS:
        state = hooks.state(point)
        assert state["id"] == container_id, (point, state)
        assert state["status"] == STATUS_AT[point], (point, state)
        assert state["bundle"] == str(bundle.path), (point, state)
        assert state["ociVersion"], (point, state)
        assert state.get("annotations", {}).get("org.example.hooks") == "yes", (point, state)
        if point != "poststop":
            assert state["pid"] == init_pid, (point, state)
        if point in IN_CONTAINER:
            expected = (container_mnt, container_pidns)
        else:
            expected = (host_mnt, host_pidns)
        assert (hooks.namespace(point, "mnt"), hooks.namespace(point, "pidns")) == expected, point


def test_hooks_of_one_point_run_in_order(ward, bundle, tmp_path):
    hooks = Hooks(bundle, tmp_path)
    for point in ("createRuntime", "poststart"):
        for n in range(3):
            hooks.add_recorder(point, f"{point}-{n}")
    ward.run_ok("true")
    assert hooks.order() == [f"createRuntime-{n}" for n in range(3)] + [f"poststart-{n}" for n in range(3)]


def test_hook_args_and_env_are_passed_exactly(ward, bundle, tmp_path):
    hooks = Hooks(bundle, tmp_path)
    script = hooks.script(
        "args.sh", f'printf "%s\\n" "$@" > {hooks.out}/args\nenv | grep -v "^PWD=" | sort > {hooks.out}/env\n'
    )
    bundle.config["hooks"]["prestart"] = [
        {"path": script, "args": [script, "one", "two words", ""], "env": ["A=1", "B=two words"]}
    ]
    ward.run_ok("true")
    assert (hooks.out / "args").read_text() == "one\ntwo words\n\n"
    assert (hooks.out / "env").read_text() == "A=1\nB=two words\n"


def test_failing_create_runtime_hook_stops_create(ward, bundle, tmp_path):
    hooks = Hooks(bundle, tmp_path)
    hooks.add_recorder("prestart")
    failing = hooks.script("fail.sh", "cat > /dev/null\necho 'hook says no' >&2\nexit 7\n")
    hooks.add("createRuntime", failing)
    hooks.add_recorder("createRuntime", "after-failure")
    hooks.add_recorder("createContainer")

    container_id = ward.new_id()
    bundle.write_config(container_id)
    result = ward("create", "--bundle", bundle.path, container_id)
    assert_error(result, f"createRuntime hook {failing}: exited with status 7", "hook says no")
    assert hooks.order() == ["prestart"]
    assert ward("state", container_id).returncode != 0
    assert ward.leftovers() == []


def test_failing_create_container_hook_stops_create(ward, bundle, tmp_path):
    hooks = Hooks(bundle, tmp_path)
    failing = hooks.script("fail.sh", "echo 'inside: no' >&2\nexit 5\n")
    hooks.add("createContainer", failing)

    container_id = ward.new_id()
    bundle.write_config(container_id)
    result = ward("create", "--bundle", bundle.path, container_id)
    assert_error(result, f"createContainer hook {failing}: exited with status 5", "inside: no")
    assert ward("state", container_id).returncode != 0
    assert ward.leftovers() == []


def test_failing_poststart_hook_is_only_a_warning(ward, bundle, tmp_path):
    hooks = Hooks(bundle, tmp_path)
    failing = hooks.script("fail.sh", "echo 'poststart broke' >&2\nexit 2\n")
    hooks.add("poststart", failing)
    hooks.add_recorder("poststart", "after-failure")
    bundle.config["process"]["args"] = ["sleep", "1000"]

    container_id = ward.create()
    result = ward("start", container_id)
    assert result.returncode == 0, result.stderr
    assert f"poststart hook {failing}: exited with status 2: poststart broke" in result.stderr
    assert "warning" in result.stderr
    assert hooks.order() == ["after-failure"]
    assert ward.state(container_id)["status"] == "running"


def test_failing_poststop_hook_is_only_a_warning(ward, bundle, tmp_path):
    hooks = Hooks(bundle, tmp_path)
    failing = hooks.script("fail.sh", "exit 9\n")
    hooks.add("poststop", failing)
    hooks.add_recorder("poststop", "after-failure")

    container_id = ward.create()
    result = ward("start", container_id)
    assert result.returncode == 0, result.stderr
    ward.wait_for_status(container_id, "stopped")
    result = ward("delete", container_id)
    assert result.returncode == 0, result.stderr
    assert f"poststop hook {failing}: exited with status 9" in result.stderr
    assert hooks.order() == ["after-failure"]
    assert ward("state", container_id).returncode != 0


def test_run_exit_status_survives_a_failing_poststop_hook(ward, bundle, tmp_path):
    hooks = Hooks(bundle, tmp_path)
    hooks.add("poststop", hooks.script("fail.sh", "exit 1\n"))
    code, _, err = ward.run_container(["sh", "-c", "exit 3"])
    assert code == 3, err
    assert "poststop hook" in err


def test_failing_start_container_hook_fails_start(ward, bundle, tmp_path):
    hooks = Hooks(bundle, tmp_path)
    failing = hooks.script("fail.sh", "echo 'not ready' >&2\nexit 4\n", in_container=True)
    hooks.add("startContainer", failing)
    bundle.config["process"]["args"] = ["sleep", "1000"]

    container_id = ward.create()
    result = ward("start", container_id)
    assert_error(result, f"startContainer hook {failing}: exited with status 4", "not ready")


def test_hook_timeout_kills_the_hook_and_fails_create(ward, bundle, tmp_path):
    hooks = Hooks(bundle, tmp_path)
    slow = hooks.script("slow.sh", f"echo $$ > {hooks.out}/slow.pid\nexec sleep 30\n")
    hooks.add("createRuntime", slow, timeout=1)

    container_id = ward.new_id()
    bundle.write_config(container_id)
    started = time.monotonic()
    result = ward("create", "--bundle", bundle.path, container_id)
    elapsed = time.monotonic() - started
    assert_error(result, f"createRuntime hook {slow}: timed out after 1 s")
    assert elapsed < 10, elapsed
    hook_pid = int((hooks.out / "slow.pid").read_text())
    assert wait_until(lambda: not pid_alive(hook_pid), timeout=5)
    assert ward.leftovers() == []


def test_hook_that_ignores_its_stdin_does_not_block(ward, bundle, tmp_path):
    hooks = Hooks(bundle, tmp_path)
    hooks.add("prestart", hooks.script("quiet.sh", "exit 0\n"))
    # A state bigger than a pipe holds, which the hook never reads.
    bundle.config["annotations"] = {"org.example.big": "x" * (256 * 1024)}
    started = time.monotonic()
    ward.run_ok("true")
    assert time.monotonic() - started < 20


def test_no_hooks_configured_is_fine(ward, bundle, tmp_path):
    hooks = Hooks(bundle, tmp_path)
    bundle.config["hooks"] = {point: [] for point in POINTS}
    ward.run_ok("true")
    assert hooks.order() == []
    assert Path(hooks.out).is_dir()
