#!/usr/bin/env bash
# Set up ward on a fresh Debian 12 from a fresh clone, as root:
#
#   sudo bash contrib/setup.sh
#
# Installs the build and run dependencies, builds with warnings as errors,
# installs ward into /usr/local, and runs a demo container from a busybox
# root filesystem.  Safe to run again: every step either repeats the same
# work or is skipped.  WARD_SETUP_NO_DEMO=1 skips the demo.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

step () { printf '\n==> %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
  echo "contrib/setup.sh: run as root (sudo bash contrib/setup.sh)" >&2
  exit 1
fi

# runc and crun are not needed by ward; the benchmark and the comparison
# tests run them side by side with ward.  containerd, Docker and Podman
# are the engines the tests drive ward through (they start their own
# daemons, in temporary directories).
packages=(
  build-essential autoconf automake libtool pkg-config
  libyajl-dev libseccomp-dev libcap-dev libselinux1-dev libapparmor-dev libnftables-dev
  busybox-static python3 python3-pytest python3-yaml iproute2
  dnsmasq-base nftables tmux
  runc crun
  containerd docker.io podman umoci skopeo
)

step "installing dependencies: ${packages[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
# Installing docker.io or containerd must not start their daemons on this
# machine (dockerd would set up a bridge and firewall rules on the host):
# deny service starts while apt runs, unless a policy is already in place.
own_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  own_policy=1
fi
apt-get install -y --no-install-recommends "${packages[@]}"
if [ "$own_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi

step "building ward"
./autogen.sh
./configure --enable-werror
make -j2

step "installing ward"
make install
ward=/usr/local/bin/ward
"$ward" --version

if [ "${WARD_SETUP_NO_DEMO:-0}" = 1 ]; then
  step "skipping the demo (WARD_SETUP_NO_DEMO=1)"
  exit 0
fi

step "demo: a read-only busybox container"
demo_dir=$(mktemp -d -t ward-demo.XXXXXX)
state="$demo_dir/state"
bundle="$demo_dir/bundle"
id="demo-$$"

cleanup ()
{
  "$ward" --root "$state" delete --force "$id" >/dev/null 2>&1 || true
  # --one-file-system: should a mount have leaked into the host's
  # namespace, removing the demo must not reach through it.
  rm -rf --one-file-system "$demo_dir"
}
trap cleanup EXIT

rootfs="$bundle/rootfs"
mkdir -p "$rootfs"/{bin,dev,etc,proc,root,sys,tmp}
cp /bin/busybox "$rootfs/bin/busybox"
for applet in $("$rootfs/bin/busybox" --list); do
  # The list names busybox itself; linking it would replace the binary.
  [ "$applet" = busybox ] || ln -sf busybox "$rootfs/bin/$applet"
done
echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"
echo 'root:x:0:' >"$rootfs/etc/group"

"$ward" spec --bundle "$bundle"
# The default config wants a terminal; the demo prints to this one instead.
python3 - "$bundle/config.json" <<'EOF'
import json
import sys

path = sys.argv[1]
with open(path) as f:
    config = json.load(f)
config["process"]["terminal"] = False
config["process"]["args"] = [
    "sh",
    "-c",
    'echo hello from ward; id; hostname; cat /proc/self/status | grep -E "^(NoNewPrivs|CapEff)"',
]
config["root"]["readonly"] = True
with open(path, "w") as f:
    json.dump(config, f, indent=2)
EOF

echo "+ ward --root $state run --bundle $bundle $id"
"$ward" --root "$state" run --bundle "$bundle" "$id"

step "ward is installed as $ward; next: sudo make check"
