"""Egress allowlists (issue 8): ward-hook's firewall and DNS supervisor, seen
from ward containers in the network world (networld.py) and from the audit
log.  Every container here runs under agent-default (annotation
run.ward.policy) with its allowlist in the annotation run.ward.egress; ward
injects ward-hook as the first createRuntime hook; this module names the
tree's ward-hook binary (hook_path), so ward execs it, where the other
modules get the same code run in a child of ward."""

import json
import os
import signal
import subprocess
import time

import pytest

import networld
from conftest import POLICY_DIR, TOP, pid_alive, wait_until
from networld import (
    ALLOWED_NAME,
    ALLOWED_V4,
    ALLOWED_V6,
    ALT_HTTP_PORT,
    DNS_V4,
    METADATA_V4,
    METADATA_V6,
    OTHER_NAME,
    OTHER_V4,
    OTHER_V6,
    PRIVATE_V4,
    STRAY_DNS_ANSWER_V4,
    STRAY_DNS_V4,
    SUFFIX_APEX_V4,
    SUFFIX_DOMAIN,
    SUFFIX_SUB_NAME,
    SUFFIX_SUB_V4,
    http_body,
    url,
)

HOOK = TOP / "ward-hook"
RUNC = "/usr/sbin/runc"
POLICY = "agent-default"


@pytest.fixture
def audit_dir(tmp_path):
    return tmp_path / "audit"


@pytest.fixture
def conf(ward, tmp_path, audit_dir):
    """ward.conf: the world's resolver upstream, the tree's hook and profiles."""
    path = tmp_path / "ward.conf"
    path.write_text(
        "allow_unconfined = true\ndefault_policy = unconfined\n"
        + networld.WARD_CONF_DNS_UPSTREAM
        + f"audit_dir = {audit_dir}\nhook_path = {HOOK}\npolicy_dir = {POLICY_DIR}\n"
    )
    ward.env = {**os.environ, "WARD_CONF": str(path)}
    return path


def confine(bundle, egress, policy=POLICY):
    annotations = bundle.config.setdefault("annotations", {})
    annotations["run.ward.policy"] = policy
    if egress is not None:
        annotations["run.ward.egress"] = egress


def audit(audit_dir, container_id):
    path = audit_dir / f"{container_id}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def events(records, event):
    return [r for r in records if r["event"] == event]


def run(ward, script):
    """(exit code, stdout + stderr, container id) of `sh -c script`."""
    code, out, err = ward.run_container(["sh", "-c", script])
    return code, out + err, ward.ids[-1]


def fetch_script(address, port=80, seconds=5):
    return f"timeout {seconds} wget -q -O - {url(address, port)}"


@pytest.fixture
def world(ward, net_world, conf):
    return net_world


def supervisors():
    """pids of live ward-hook supervisors."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if open(f"/proc/{entry}/comm").read().strip() == "ward-supervisor" and pid_alive(int(entry)):
                    found.append(int(entry))
            except OSError:
                pass
    return found


# --- the core: allowed name, other name, IP literal --------------------------


def test_an_allowed_name_resolves_and_answers(ward, world, audit_dir):
    world.join(ward.bundle)
    confine(ward.bundle, f"{ALLOWED_NAME}:80")
    code, out, cid = run(ward, f"nslookup {ALLOWED_NAME} && wget -q -O - http://{ALLOWED_NAME}/")
    assert code == 0, out
    assert ALLOWED_V4 in out
    assert http_body(ALLOWED_V4) in out or http_body(ALLOWED_V6) in out
    records = audit(audit_dir, cid)
    [installed] = events(records, "egress.installed")
    assert installed["policy"] == POLICY and installed["rules"] == [f"tcp/{ALLOWED_NAME}:80"]
    assert installed["blocked"] is False and installed["proxy_port"] > 0
    allowed = events(records, "dns.allowed")
    assert {r["name"] for r in allowed} == {ALLOWED_NAME}
    assert any(ALLOWED_V4 in r["addresses"] for r in allowed)
    assert events(records, "supervisor.exit")
    assert all(r["id"] == cid and r["time"].endswith("Z") for r in records)


def test_a_name_not_on_the_list_is_nxdomain_and_logged(ward, world, audit_dir):
    world.join(ward.bundle)
    confine(ward.bundle, f"{ALLOWED_NAME}:80")
    code, out, cid = run(ward, f"nslookup {OTHER_NAME}")
    assert code != 0 and "NXDOMAIN" in out, out
    refused = events(audit(audit_dir, cid), "dns.refused")
    assert refused and refused[0]["name"] == OTHER_NAME and refused[0]["blocked"] is True
    assert not [q for q in world.dns_queries() if q[1] == OTHER_NAME]


def test_the_ip_literal_of_another_host_is_refused_and_logged(ward, world, audit_dir):
    world.join(ward.bundle)
    confine(ward.bundle, f"{ALLOWED_NAME}:80")
    start = time.monotonic()
    code, out, cid = run(ward, fetch_script(OTHER_V4))
    assert code != 0 and time.monotonic() - start < 4, out
    assert not world.http_requests(server=OTHER_V4)
    refused = events(audit(audit_dir, cid), "egress.refused")
    assert {"destination": OTHER_V4, "port": 80, "protocol": "tcp", "reason": "not allowed"}.items() <= refused[
        0
    ].items()
    assert refused[0]["blocked"] is True


def test_an_allowed_address_on_another_port_is_refused(ward, world, audit_dir):
    world.join(ward.bundle)
    confine(ward.bundle, f"{ALLOWED_V4}:80")
    code, out, _ = run(ward, fetch_script(ALLOWED_V4))
    assert code == 0 and out == http_body(ALLOWED_V4)
    code, out, _ = run(ward, fetch_script(ALLOWED_V4, ALT_HTTP_PORT))
    assert code != 0
    assert not world.http_requests(server=ALLOWED_V4, port=ALT_HTTP_PORT)


def test_the_metadata_address_is_refused(ward, world, audit_dir):
    world.join(ward.bundle)
    confine(ward.bundle, "metadata.test")
    code, out, cid = run(ward, f"{fetch_script(METADATA_V4)}; {fetch_script(METADATA_V6)}; "
                         f"timeout 5 wget -q -O - http://metadata.test/")
    assert code != 0
    assert not world.http_requests(server=METADATA_V4) and not world.http_requests(server=METADATA_V6)
    records = audit(audit_dir, cid)
    refused = events(records, "egress.refused")
    assert {r["destination"] for r in refused} >= {METADATA_V4, METADATA_V6}
    assert all(r["reason"] == "blocked range" for r in refused if r["destination"] in (METADATA_V4, METADATA_V6))
    assert any(METADATA_V4 in r.get("blocked_addresses", []) for r in events(records, "dns.allowed"))


def test_ipv6_behaves_the_same(ward, world, audit_dir):
    world.join(ward.bundle)
    confine(ward.bundle, f"{ALLOWED_NAME}:80")
    code, out, cid = run(
        ward, f"nslookup -type=AAAA {ALLOWED_NAME} && wget -q -O - http://[{ALLOWED_V6}]/ && {fetch_script(OTHER_V6)}"
    )
    # The literal was allowed by the earlier answer; the other host is not.
    assert http_body(ALLOWED_V6) in out
    assert code != 0
    assert not world.http_requests(server=OTHER_V6)
    refused = events(audit(audit_dir, cid), "egress.refused")
    assert [r["destination"] for r in refused] == [OTHER_V6]


def test_dns_to_another_server_is_redirected(ward, world):
    world.join(ward.bundle, resolver=STRAY_DNS_V4)
    confine(ward.bundle, ALLOWED_NAME)
    code, out, _ = run(ward, f"nslookup {ALLOWED_NAME} {STRAY_DNS_V4}")
    assert code == 0, out
    assert ALLOWED_V4 in out and STRAY_DNS_ANSWER_V4 not in out
    assert world.dns_queries(stray=True) == []
    assert world.dns_queries()


def test_a_suffix_rule_matches_subdomains_only(ward, world, audit_dir):
    world.join(ward.bundle)
    confine(ward.bundle, f"*.{SUFFIX_DOMAIN}")
    code, out, _ = run(ward, f"wget -q -O - http://{SUFFIX_SUB_NAME}/")
    assert code == 0 and out in (http_body(SUFFIX_SUB_V4), http_body(networld.SUFFIX_SUB_V6)), out
    code, out, cid = run(ward, f"nslookup {SUFFIX_DOMAIN}")
    assert code != 0 and "NXDOMAIN" in out and SUFFIX_APEX_V4 not in out
    assert events(audit(audit_dir, cid), "dns.refused")[0]["name"] == SUFFIX_DOMAIN


def test_private_ranges_stay_blocked(ward, world, audit_dir):
    world.join(ward.bundle)
    confine(ward.bundle, "private.test")
    code, out, cid = run(ward, fetch_script(PRIVATE_V4))
    assert code != 0 and not world.http_requests(server=PRIVATE_V4)
    [refused] = events(audit(audit_dir, cid), "egress.refused")
    assert refused["reason"] == "blocked range"


def test_udp_to_an_allowed_port_only(ward, world, audit_dir):
    world.join(ward.bundle)
    confine(ward.bundle, f"udp/{ALLOWED_V4}:7")
    code, out, _ = run(ward, f"tftp -g -r hi -l - {ALLOWED_V4} 7")
    assert code == 0 and "echo" in out, out
    code, out, cid = run(ward, f"timeout 3 tftp -g -r hi -l - {OTHER_V4} 7")
    assert code != 0
    refused = events(audit(audit_dir, cid), "egress.refused")
    assert refused[0]["protocol"] == "udp" and refused[0]["destination"] == OTHER_V4


# --- the container cannot undo it ------------------------------------------

NFT_PROBE = r"""
#include <errno.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
/* A netfilter batch that deletes table inet ward: what `nft flush ruleset`
 * sends.  Prints the error the kernel answers with. */
int main (void)
{
  int fd = socket (AF_NETLINK, SOCK_RAW, NETLINK_NETFILTER);
  if (fd < 0) { printf ("socket: %s\n", strerror (errno)); return 2; }
  struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
  char buf[4096];
  memset (buf, 0, sizeof buf);
  struct nlmsghdr *h = (struct nlmsghdr *)buf;
  /* NFT_MSG_DELTABLE = 2, family inet = 1, no attributes: flush all tables */
  h->nlmsg_len = NLMSG_LENGTH (sizeof (struct nfgenmsg));
  h->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | 2;
  h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  h->nlmsg_seq = 1;
  struct nfgenmsg *g = NLMSG_DATA (h);
  g->nfgen_family = 1;
  if (sendto (fd, buf, h->nlmsg_len, 0, (struct sockaddr *)&sa, sizeof sa) < 0)
    { printf ("send: %s\n", strerror (errno)); return 1; }
  int n = recv (fd, buf, sizeof buf, 0);
  if (n < 0) { printf ("recv: %s\n", strerror (errno)); return 1; }
  if (h->nlmsg_type == NLMSG_ERROR)
    {
      struct nlmsgerr *e = NLMSG_DATA (h);
      printf ("answer: %s\n", e->error ? strerror (-e->error) : "OK");
      return e->error ? 1 : 0;
    }
  printf ("answer: type %d\n", h->nlmsg_type);
  return 0;
}
"""


def test_nft_flush_inside_fails(ward, world, tmp_path, audit_dir):
    source = tmp_path / "nft_probe.c"
    source.write_text(NFT_PROBE)
    subprocess.run(["cc", "-static", "-O", "-o", ward.bundle.rootfs / "bin" / "nft-probe", source], check=True)
    world.join(ward.bundle)
    confine(ward.bundle, f"{ALLOWED_NAME}:80")
    code, out, _ = run(ward, f"nft-probe; {fetch_script(OTHER_V4)} && echo REACHED")
    assert "Operation not permitted" in out, out
    assert "REACHED" not in out
    assert not world.http_requests(server=OTHER_V4)


# --- refusals and leftovers -------------------------------------------------


def test_a_container_in_the_engines_namespace_is_refused(ward, world, audit_dir):
    """ward refuses it at the policy merge already, before any hook runs."""
    ward.bundle.set_namespace("network", f"/proc/{world.engine.pid}/ns/net")
    confine(ward.bundle, ALLOWED_NAME)
    before = supervisors()
    code, out, cid = run(ward, "true")
    assert code != 0 and "network namespace" in out, out
    assert supervisors() == before
    assert ward("state", cid).returncode != 0


def test_a_failing_hook_leaves_nothing(ward, world, conf):
    """The hook fails after it has installed the firewall (an upstream
    resolver it cannot parse): the container is refused and no supervisor,
    state or process is left."""
    world.join(ward.bundle)
    confine(ward.bundle, ALLOWED_NAME)
    text = "".join(line for line in conf.read_text().splitlines(True) if not line.startswith("dns_upstream"))
    conf.write_text(text + "dns_upstream = not-an-address\n")
    before = supervisors()
    code, out, cid = run(ward, "true")
    assert code != 0 and "ward-hook" in out and "not-an-address" in out, out
    assert supervisors() == before
    assert ward("state", cid).returncode != 0


def test_a_bad_egress_annotation_is_refused(ward, world):
    world.join(ward.bundle)
    confine(ward.bundle, "300.1.1.1")
    code, out, cid = run(ward, "true")
    assert code != 0 and "run.ward.egress" in out, out
    assert ward("state", cid).returncode != 0


def test_the_supervisor_exits_with_the_container(ward, world, audit_dir):
    world.join(ward.bundle)
    confine(ward.bundle, ALLOWED_NAME)
    ward.bundle.config["process"]["args"] = ["sleep", "60"]
    before = set(supervisors())
    cid = ward.create()
    [supervisor] = set(supervisors()) - before
    assert ward("start", cid).returncode == 0
    init = ward.state(cid)["pid"]
    os.kill(init, signal.SIGKILL)
    assert wait_until(lambda: not pid_alive(supervisor), 5)
    assert events(audit(audit_dir, cid), "supervisor.exit")
    assert ward("delete", cid).returncode == 0


def test_the_supervisor_exits_on_delete_force(ward, world):
    world.join(ward.bundle)
    confine(ward.bundle, ALLOWED_NAME)
    ward.bundle.config["process"]["args"] = ["sleep", "60"]
    before = set(supervisors())
    cid = ward.create()
    [supervisor] = set(supervisors()) - before
    assert ward("delete", "--force", cid).returncode == 0
    assert wait_until(lambda: not pid_alive(supervisor), 5)


# --- the same hook on runc ---------------------------------------------------


@pytest.fixture
def runc(tmp_path, world, conf):
    root = tmp_path / "runc-root"
    ids = []

    def call(*args):
        argv = [*world.engine_argv(), RUNC, "--root", str(root), *map(str, args)]
        return subprocess.run(argv, capture_output=True, text=True, timeout=30, env={**os.environ, "WARD_CONF": str(conf)})

    call.ids = ids
    yield call
    for cid in ids:
        call("delete", "--force", cid)


def runc_run(runc, bundle, script, container_id):
    bundle.config["process"]["args"] = ["sh", "-c", script]
    bundle.config["hooks"] = {"createRuntime": [{"path": str(HOOK), "args": ["ward-hook"]}]}
    bundle.write_config(container_id)
    runc.ids.append(container_id)
    result = runc("run", "--bundle", bundle.path, container_id)
    return result.returncode, result.stdout + result.stderr


def test_the_hook_on_runc(ward, world, runc, audit_dir):
    """The core, with runc and ward-hook from config.json (the policy's
    profile applies only to what the hook does: runc knows no policies)."""
    world.join(ward.bundle)
    confine(ward.bundle, f"{ALLOWED_NAME}:80")
    code, out = runc_run(runc, ward.bundle, f"wget -q -O - http://{ALLOWED_NAME}/", "runc-allowed")
    assert code == 0, out
    assert out in (http_body(ALLOWED_V4), http_body(ALLOWED_V6))
    code, out = runc_run(runc, ward.bundle, f"nslookup {OTHER_NAME}", "runc-other")
    assert code != 0 and "NXDOMAIN" in out
    code, out = runc_run(runc, ward.bundle, fetch_script(OTHER_V4), "runc-literal")
    assert code != 0
    assert not world.http_requests(server=OTHER_V4)
    assert events(audit(audit_dir, "runc-other"), "dns.refused")
    assert events(audit(audit_dir, "runc-literal"), "egress.refused")


def test_the_hook_refuses_the_engines_namespace_on_runc(ward, world, runc):
    """runc knows no policy: the hook is what refuses a container left in
    the engine's network namespace."""
    confine(ward.bundle, ALLOWED_NAME)
    ward.bundle.set_namespace("network", None)
    ward.bundle.config["linux"]["namespaces"] = [
        ns for ns in ward.bundle.config["linux"]["namespaces"] if ns["type"] != "network"
    ]
    before = supervisors()
    code, out = runc_run(runc, ward.bundle, "true", "runc-hostnet")
    assert code != 0
    assert "ward-hook: container runc-hostnet shares the host's network namespace; policy agent-default controls egress" in out, out
    assert supervisors() == before
    assert runc("state", "runc-hostnet").returncode != 0
