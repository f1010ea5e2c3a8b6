"""The network world the egress tests run in (networld.py), shown from ward
containers joined to it, with no egress firewall: every host and name the
firewall tests will refuse is reachable here, so a refusal there is the
firewall's doing.  The world lives in namespaces of its own and leaves
nothing behind, in the host's network namespace least of all."""

import os
import subprocess
from pathlib import Path

import pytest

import networld
from conftest import ns_link
from networld import (
    ALIAS_NAME,
    ALLOWED_NAME,
    ALLOWED_V4,
    ALLOWED_V6,
    ALT_HTTP_PORT,
    DNS_TTL,
    DNS_V4,
    DNS_V6,
    METADATA_V4,
    METADATA_V6,
    MISSING_NAME,
    OTHER_NAME,
    OTHER_V4,
    PRIVATE_V4,
    PRIVATE_V6,
    STRAY_DNS_ANSWER_V4,
    STRAY_DNS_V4,
    SUFFIX_APEX_V4,
    SUFFIX_DOMAIN,
    SUFFIX_SUB_NAME,
    SUFFIX_SUB_V4,
    UDP_ECHO_PORT,
    V6_NAME,
    NetWorld,
    http_body,
    url,
)


@pytest.fixture(autouse=True)
def unconfined(ward, tmp_path):
    """No policy, so no egress firewall: the world as it is."""
    conf = tmp_path / "ward.conf"
    conf.write_text("allow_unconfined = true\ndefault_policy = unconfined\n" + networld.WARD_CONF_DNS_UPSTREAM)
    ward.env = {**os.environ, "WARD_CONF": str(conf)}


def fetch(ward, address, port=80):
    return ward.run_ok(f"wget -q -O - {url(address, port)}")


def nslookup(ward, name, server=DNS_V4):
    """busybox nslookup's output, and whether it exited 0."""
    code, out, err = ward.run_container(["nslookup", name, server])
    return code, out + err


# --- reaching the internet from a container -------------------------------


def test_http_by_ip_literal(ward, net_world):
    path = net_world.join(ward.bundle)
    assert fetch(ward, ALLOWED_V4) == http_body(ALLOWED_V4)
    assert fetch(ward, ALLOWED_V4, ALT_HTTP_PORT) == http_body(ALLOWED_V4, ALT_HTTP_PORT)
    container = net_world.container(path)
    seen = net_world.http_requests(server=ALLOWED_V4)
    assert [(r["client"], r["port"], r["path"]) for r in seen] == [(container.v4, 80, "/"), (container.v4, 8080, "/")]
    assert net_world.http_requests(server=OTHER_V4) == []


def test_http_over_ipv6(ward, net_world):
    path = net_world.join(ward.bundle)
    assert fetch(ward, ALLOWED_V6) == http_body(ALLOWED_V6)
    [request] = net_world.http_requests(server=ALLOWED_V6)
    assert request["client"] == net_world.container(path).v6


def test_the_container_is_in_its_own_namespace_and_ward_in_the_engine(ward, net_world, tmp_path):
    """The container's process is in the joined namespace C; ward, and the
    hooks it runs in its own namespaces (where ward-hook will run), are in E."""
    path = net_world.join(ward.bundle)
    record = tmp_path / "hook-netns"
    hook = {"path": "/bin/sh", "args": ["sh", "-c", f"readlink /proc/self/ns/net > {record}"]}
    out = ward.run_ok("readlink /proc/self/ns/net", {"hooks": {"createRuntime": [hook]}})
    assert out.strip() == f"net:[{net_world.container(path).inode}]"
    assert record.read_text().strip() == f"net:[{net_world.engine.inode}]"
    assert net_world.engine.inode != net_world.container(path).inode
    assert ns_link("net") not in (out.strip(), record.read_text().strip())


def test_metadata_and_private_addresses_answer_without_a_firewall(ward, net_world):
    net_world.join(ward.bundle)
    for address in (METADATA_V4, METADATA_V6, PRIVATE_V4, PRIVATE_V6, OTHER_V4):
        assert fetch(ward, address) == http_body(address)


def test_udp_echo_through_busybox_tftp(ward, net_world):
    """busybox's nc has no -u; its tftp client is the container's UDP probe."""
    path = net_world.join(ward.bundle)
    for address in (ALLOWED_V4, ALLOWED_V6):
        out = ward.run_ok(f"tftp -g -r hello -l - {address} {UDP_ECHO_PORT}")
        assert out == f"echo {networld.host_port(address, UDP_ECHO_PORT)} hello\n"
    echoes = net_world.http_requests(proto="udp")
    container = net_world.container(path)
    assert [(e["client"], e["server"], e["data"]) for e in echoes] == [
        (container.v4, ALLOWED_V4, "hello"),
        (container.v6, ALLOWED_V6, "hello"),
    ]


# --- DNS ------------------------------------------------------------------


def test_the_resolver_answers_a_container_over_ipv4_and_ipv6(ward, net_world):
    path = net_world.join(ward.bundle)
    for server in (DNS_V4, DNS_V6):
        code, out = nslookup(ward, ALLOWED_NAME, server)
        assert code == 0, out
        assert ALLOWED_V4 in out and ALLOWED_V6 in out
    container = net_world.container(path)
    queries = net_world.dns_queries()
    assert ("A", ALLOWED_NAME, container.v4) in queries
    assert ("A", ALLOWED_NAME, container.v6) in queries
    assert net_world.dns_queries(stray=True) == []


def test_names_through_resolv_conf(ward, net_world):
    """join() writes /etc/resolv.conf: wget by name works."""
    net_world.join(ward.bundle)
    out = ward.run_ok(f"wget -q -O - http://{ALLOWED_NAME}:{ALT_HTTP_PORT}/")
    assert out in (http_body(ALLOWED_V4, ALT_HTTP_PORT), http_body(ALLOWED_V6, ALT_HTTP_PORT))


@pytest.mark.parametrize(
    "name, expected, absent",
    [
        (ALIAS_NAME, [f"canonical name = {ALLOWED_NAME}", ALLOWED_V4, ALLOWED_V6], []),
        (SUFFIX_SUB_NAME, [SUFFIX_SUB_V4], [SUFFIX_APEX_V4]),
        (f"deeper.{SUFFIX_SUB_NAME}", [SUFFIX_SUB_V4], [SUFFIX_APEX_V4]),
        (SUFFIX_DOMAIN, [SUFFIX_APEX_V4], [SUFFIX_SUB_V4]),
        (V6_NAME, [ALLOWED_V6], [ALLOWED_V4]),
        (OTHER_NAME, [OTHER_V4], []),
    ],
)
def test_the_worlds_names(ward, net_world, name, expected, absent):
    net_world.join(ward.bundle)
    code, out = nslookup(ward, name)
    assert code == 0, out
    for text in expected:
        assert text in out
    for text in absent:
        assert text not in out


def test_unknown_names_are_nxdomain(ward, net_world):
    net_world.join(ward.bundle)
    for name in (MISSING_NAME, "example.com"):
        code, out = nslookup(ward, name)
        assert "NXDOMAIN" in out, out


def test_the_stray_resolver_answers_differently(ward, net_world):
    """So a query to it that comes back with ALLOWED_V4 was answered by someone else."""
    net_world.join(ward.bundle)
    code, out = nslookup(ward, ALLOWED_NAME, STRAY_DNS_V4)
    assert code == 0, out
    assert STRAY_DNS_ANSWER_V4 in out and ALLOWED_V4 not in out
    assert {q[:2] for q in net_world.dns_queries(stray=True)} == {("A", ALLOWED_NAME), ("AAAA", ALLOWED_NAME)}
    assert net_world.dns_queries() == []


def test_upstream_from_the_engine_with_ttl_over_udp_and_tcp(net_world):
    """Where ward-hook's supervisor will ask: from E, over UDP and TCP."""
    for tcp in (False, True):
        answer = net_world.dns_lookup(ALLOWED_NAME, "A", tcp=tcp)
        assert answer["rcode"] == 0
        assert answer["answers"] == [["A", ALLOWED_V4, DNS_TTL]]
    cname = net_world.dns_lookup(ALIAS_NAME, "AAAA", server=DNS_V6)
    assert cname["answers"] == [["CNAME", ALLOWED_NAME, DNS_TTL], ["AAAA", ALLOWED_V6, DNS_TTL]]
    assert net_world.dns_lookup(MISSING_NAME)["rcode"] == 3


# --- more than one container ------------------------------------------------


def test_each_container_gets_its_own_namespace(ward, net_world, make_bundle):
    first = net_world.join(ward.bundle)
    other = ward.add_bundle(make_bundle("other"))
    second = net_world.join(other)
    assert first != second
    script = f"readlink /proc/self/ns/net; wget -q -O - {url(OTHER_V4)}"
    for bundle, path in ((ward.bundle, first), (other, second)):
        out = ward.run_ok(script, bundle=bundle)
        assert out == f"net:[{net_world.container(path).inode}]\n" + http_body(OTHER_V4)
    clients = [r["client"] for r in net_world.http_requests(server=OTHER_V4)]
    assert clients == [net_world.container(first).v4, net_world.container(second).v4]


def test_config_changes_join_a_namespace(ward, net_world):
    """netns_changes() for run_container's config_changes, instead of join()."""
    path = net_world.container_netns()
    changes = net_world.netns_changes(ward.bundle.config, path)
    assert ward.run_ok("readlink /proc/self/ns/net", changes).strip() == f"net:[{net_world.container(path).inode}]"
    types = [ns["type"] for ns in ward.bundle.config["linux"]["namespaces"]]
    assert sorted(types) == sorted(["pid", "ipc", "uts", "mount", "network"])


# --- leaving nothing behind -------------------------------------------------


def host_network():
    """What the host's network namespace looks like, to compare."""
    commands = [["ip", "-d", "-o", "link"], ["ip", "-o", "addr"], ["ip", "route", "show", "table", "all"],
                ["ip", "-6", "route", "show", "table", "all"], ["ip", "netns", "list"]]
    text = [subprocess.run(c, capture_output=True, text=True).stdout for c in commands]
    for key in ("ipv4/ip_forward", "ipv6/conf/all/forwarding", "ipv6/conf/default/accept_dad"):
        text.append(Path(f"/proc/sys/net/{key}").read_text())
    return text


def namespace_is_gone(inode):
    """No process has the namespace and no mount pins it."""
    for pid in (p for p in Path("/proc").iterdir() if p.name.isdigit()):
        try:
            if (pid / "ns" / "net").stat().st_ino == inode:
                return False
        except OSError:
            pass
    return f"net:[{inode}]" not in Path("/proc/self/mountinfo").read_text()


def test_the_world_leaves_nothing_behind(ward, tmp_path):
    before = host_network()
    world = NetWorld(tmp_path / "world")
    try:
        world.start()
        ward.argv_prefix = world.engine_argv()
        world.join(ward.bundle)
        assert fetch(ward, ALLOWED_V4) == http_body(ALLOWED_V4)
        pids = [p.pid for p in world._procs]
        inodes = [ns.inode for ns in world._holders]
        assert len(set(inodes)) == 3 and ns_link("net") not in [f"net:[{i}]" for i in inodes]
        assert host_network() == before
        assert ward.cleanup() == []
    finally:
        ward.argv_prefix = []
        problems = world.stop()
    assert problems == []
    assert not any(networld._start_time(pid) for pid in pids)
    for inode in inodes:
        assert namespace_is_gone(inode)
    assert host_network() == before
    assert not [line for line in Path("/proc/self/mountinfo").read_text().splitlines() if str(tmp_path) in line]


def test_a_process_left_in_the_world_is_reported_and_killed(tmp_path):
    world = NetWorld(tmp_path / "world")
    try:
        world.start()
        left = subprocess.Popen([*world.enter_argv(world.engine), "sleep", "60"])
        networld._wait_until(lambda: left.pid in world.processes_inside(), 5)
    finally:
        problems = world.stop(stray_grace=0.2)
    left.wait(timeout=5)
    assert len(problems) == 1 and f"process {left.pid}" in problems[0] and "engine namespace" in problems[0]


def test_a_world_that_does_not_come_up_is_torn_down(tmp_path, monkeypatch):
    """A listener on an address N does not have: start() fails, and the
    fixture's stop() still removes all it made."""
    monkeypatch.setattr(networld, "HTTP_SERVERS", networld.HTTP_SERVERS + [("198.51.100.77", 80)])
    monkeypatch.setattr(networld, "READY_TIMEOUT", 1.0)
    world = NetWorld(tmp_path / "world")
    with pytest.raises(RuntimeError, match="did not come up"):
        try:
            world.start()
        finally:
            inodes = [ns.inode for ns in world._holders]
            pids = [p.pid for p in world._procs]
            assert world.stop() == []
    assert len(inodes) == 2 and all(namespace_is_gone(i) for i in inodes)
    assert not any(networld._start_time(pid) for pid in pids)
