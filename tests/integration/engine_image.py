"""A test image for the container engines (containerd, Docker, Podman).

The image is Debian's static busybox with its applet links, an /etc/passwd
and /etc/group, built with umoci and written by skopeo as a docker-archive,
which `ctr images import`, `docker load` and `podman load` all read.  It is
built once per test session, in a pytest temporary directory.

API (keep it small and stable; the engine test modules share it):

    from engine_image import engine_image_archive  # noqa: F401 (a fixture)
    from engine_image import own_cgroup_parent, IMAGE_NAME, IMAGE_OUTPUT

    def test_something(engine_image_archive):
        archive, name = engine_image_archive     # an EngineImage

- `engine_image_archive`: session-scoped fixture returning an EngineImage
  named tuple `(archive, name)`: `archive` is the Path of the docker-archive,
  `name` the reference the archive tags it with, fully qualified so that
  `ctr`, `docker` and `podman` all accept it verbatim once loaded:
  IMAGE_NAME = "docker.io/ward-test/busybox:latest".  The image's
  default command is `sh -c 'echo ward-image-ok'` (IMAGE_OUTPUT), its PATH the
  usual one, its working directory /.  The archive is built once per session
  even when several modules import the fixture.  Skips (with the reason) when
  umoci or skopeo is not installed.
- `own_cgroup_parent(name)`: "/<our own memory cgroup>/<name>", a cgroup path
  beneath the cgroup this test process runs in, to hand to an engine as its
  cgroup parent (`ctr run --cgroup`, `--cgroup-parent=`).  Nothing may be
  placed above or beside our own cgroup on this machine.
- `build_engine_image(workdir)`: the same build without pytest; returns the
  EngineImage.
"""

import os
import shutil
import subprocess
from pathlib import Path
from typing import NamedTuple

import pytest

IMAGE_NAME = "docker.io/ward-test/busybox:latest"
IMAGE_OUTPUT = "ward-image-ok"
IMAGE_PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
BUSYBOX = "/bin/busybox"
PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
GROUP = "root:x:0:\nnogroup:x:65534:\n"
BUILD_TIMEOUT = 120


class EngineImage(NamedTuple):
    archive: Path
    name: str


def own_cgroup_path():
    """Our own cgroup: the memory controller's path on cgroup v1 or hybrid
    hosts, the unified one on a v2-only host."""
    unified = None
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            return path
        if controllers == "":
            unified = path
    if unified is None:
        raise RuntimeError("/proc/self/cgroup names neither a memory nor a unified cgroup")
    return unified


def own_cgroup_parent(name):
    """A cgroup path beneath our own (memory) cgroup: "/OWN/name"."""
    return f"{own_cgroup_path().rstrip('/')}/{name.strip('/')}"


def _run(argv, cwd=None):
    result = subprocess.run(
        [str(a) for a in argv], cwd=cwd, capture_output=True, text=True, timeout=BUILD_TIMEOUT
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(map(str, argv))} exited {result.returncode}:\n{result.stdout}{result.stderr}"
        )
    return result.stdout


def _fill_rootfs(rootfs):
    bindir = rootfs / "bin"
    bindir.mkdir(parents=True, exist_ok=True)
    shutil.copy2(BUSYBOX, bindir / "busybox")
    for applet in _run([BUSYBOX, "--list"]).split():
        if applet != "busybox":  # the list names busybox itself
            (bindir / applet).symlink_to("busybox")
    for directory in ("proc", "sys", "dev", "etc", "root", "run", "mnt", "tmp"):
        (rootfs / directory).mkdir(exist_ok=True)
    (rootfs / "tmp").chmod(0o1777)
    (rootfs / "etc" / "passwd").write_text(PASSWD)
    (rootfs / "etc" / "group").write_text(GROUP)


def build_engine_image(workdir):
    """Build the image's docker-archive in `workdir` (which must exist)."""
    workdir = Path(workdir)
    layout = workdir / "oci"
    bundle = workdir / "bundle"
    archive = workdir / "busybox.tar"
    image = f"{layout}:latest"
    _run(["umoci", "init", "--layout", layout])
    _run(["umoci", "new", "--image", image])
    _run(["umoci", "unpack", "--image", image, bundle])
    _fill_rootfs(bundle / "rootfs")
    _run(["umoci", "repack", "--image", image, bundle])
    _run(
        [
            "umoci", "config", "--image", image,
            "--config.cmd", "sh", "--config.cmd", "-c", "--config.cmd", f"echo {IMAGE_OUTPUT}",
            "--config.env", IMAGE_PATH_ENV,
            "--config.workingdir", "/",
        ]
    )  # fmt: skip
    _run(["skopeo", "--insecure-policy", "copy", f"oci:{image}", f"docker-archive:{archive}:{IMAGE_NAME}"])
    # The unpacked bundle is only a build step; the archive is what is used.
    shutil.rmtree(bundle)
    return EngineImage(archive, IMAGE_NAME)


# Several test modules import the fixture, and pytest then gives each its own
# copy: the first build of the session is remembered here.
_built = {}


@pytest.fixture(scope="session")
def engine_image_archive(tmp_path_factory):
    """The test image as a docker-archive: EngineImage(archive, name)."""
    missing = [tool for tool in ("umoci", "skopeo") if shutil.which(tool) is None]
    if missing:
        reason = f"the test image needs {' and '.join(missing)} (Debian packages: {' '.join(missing)})"
        print(f"SKIP: {reason}")
        pytest.skip(reason)
    if not os.access(BUSYBOX, os.X_OK):
        reason = f"the test image needs {BUSYBOX} (Debian package busybox-static)"
        print(f"SKIP: {reason}")
        pytest.skip(reason)
    basetemp = tmp_path_factory.getbasetemp()
    if basetemp not in _built:
        _built[basetemp] = build_engine_image(tmp_path_factory.mktemp("engine-image"))
    return _built[basetemp]
