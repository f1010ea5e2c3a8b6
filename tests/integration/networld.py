"""A network world of its own for the egress tests (issue 8, item 7).

Nothing here touches the host's network namespace and no packet can leave the
machine: every interface, address, route and sysctl lives in network
namespaces the test creates, each held by a `sleep` we started (no named
netns, no bind mounts), and they all vanish when the world is torn down.

    internet N  ── veth ──  engine E  ── veth ──  container C1, C2, ...
    (servers)               (ward, hooks,        (one per container,
                             forwarding)          joined by path)

* **engine** E: where ward runs (`nsenter --net=E ward ...`), and so the hooks
  it starts and whatever they fork.  E forwards IPv4 and IPv6 (sysctls set in
  E only) and routes everything to N by default.
* **container** C: one per `world.container_netns()`, a point-to-point link to
  E from 203.0.113.128/25 and 2001:db8:c0:K::/64, lo up, default routes via E.
  A ward container joins it by path (`world.join(bundle)`).
* **internet** N: every server address on its lo, reached from E over the
  link 192.0.2.0/30 / 2001:db8:ff::/64.  It runs

  - dnsmasq on 192.0.2.53 and 2001:db8:53::53 (UDP and TCP): the upstream
    resolver serving the names below with TTL `DNS_TTL`, NXDOMAIN for others;
  - a second dnsmasq on 203.0.113.53 and 2001:db8:53::153 answering
    allowed.test differently (`STRAY_DNS_ANSWER_V4`/`_V6`), so a test can tell
    which server actually answered a query;
  - an HTTP server on every `HTTP_SERVERS` address and port, whose `GET /`
    body names the address and port it was reached on (`http_body`), and
    `GET /bytes/N` returns N bytes; a UDP echo on `UDP_ECHO_SERVERS` that
    also answers a TFTP read request (busybox's nc has no -u: in a container,
    `tftp -g -r WORD -l - HOST 7` prints `echo HOST:7 WORD`).  Both append
    every request to a JSON-lines access log (`world.http_requests()`).

Usage, in a test module (conftest.py imports the fixture, so every module has it):

    from networld import ALLOWED_NAME, ALLOWED_V4, OTHER_V4, WARD_CONF_DNS_UPSTREAM, http_body, url

    def test_something(ward, net_world, tmp_path):
        (tmp_path / "ward.conf").write_text(WARD_CONF_DNS_UPSTREAM + f"audit_dir = {tmp_path}/audit\n")
        ward.env = {**os.environ, "WARD_CONF": str(tmp_path / "ward.conf")}
        path = net_world.join(ward.bundle)   # a fresh container netns C, and resolv.conf
        assert ward.run_ok(f"wget -q -O - {url(ALLOWED_V4)}") == http_body(ALLOWED_V4)
        assert net_world.http_requests(server=ALLOWED_V4, client=net_world.container(path).v4)
        assert not net_world.http_requests(server=OTHER_V4)

(busybox 1.35's static wget crashes with -T: use `timeout N wget ...`.)

The fixture runs ward in E (it sets `ward.argv_prefix`), and on teardown
deletes the test's containers (`ward.cleanup()`, before their namespaces go),
stops the servers, fails the test if any other process is still alive in one
of the world's namespaces (a hook's supervisor that outlived its container,
say; it is killed by pid), then ends the namespace holders.  Every process
it starts also dies with the test run (PR_SET_PDEATHSIG), so a killed pytest
leaves no world behind either.
"""

import ctypes
import ipaddress
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

DNSMASQ = "/usr/sbin/dnsmasq"
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
NSENTER = shutil.which("nsenter") or "/usr/bin/nsenter"
UNSHARE = shutil.which("unshare") or "/usr/bin/unshare"
IP = shutil.which("ip") or "/usr/sbin/ip"
SLEEP = shutil.which("sleep") or "/bin/sleep"

READY_TIMEOUT = 10.0

# ---------------------------------------------------------------------------
# Addresses (documentation ranges, plus the "must be blocked" ones)

# The link between the engine E and the internet N.
ENGINE_UPLINK_V4, INTERNET_LINK_V4, UPLINK_PREFIX_V4 = "192.0.2.1", "192.0.2.2", 30
ENGINE_UPLINK_V6, INTERNET_LINK_V6, UPLINK_PREFIX_V6 = "2001:db8:ff::1", "2001:db8:ff::2", 64

# Container links: the K-th container netns gets 203.0.113.(128+4K)/30 (E side
# .+1, container .+2) and 2001:db8:c0:K::/64 (E ::1, container ::2).
CONTAINER_POOL_V4 = ipaddress.ip_network("203.0.113.128/25")
CONTAINER_PREFIX_V6 = "2001:db8:c0"
MAX_CONTAINER_NETNS = CONTAINER_POOL_V4.num_addresses // 4

# The upstream resolver (the supervisor's, and the one containers are told of).
DNS_V4 = "192.0.2.53"
DNS_V6 = "2001:db8:53::53"
DNS_TTL = 10  # the TTL of every answer dnsmasq gives from its configuration
# The ward.conf line that makes ward-hook's supervisor ask this resolver.
WARD_CONF_DNS_UPSTREAM = f"dns_upstream = {DNS_V4}, {DNS_V6}\n"

# Another resolver that answers allowed.test with its own addresses: a query
# sent to it but answered with ALLOWED_V4 was answered by someone else.
STRAY_DNS_V4 = "203.0.113.53"
STRAY_DNS_V6 = "2001:db8:53::153"
STRAY_DNS_ANSWER_V4 = "198.51.100.99"
STRAY_DNS_ANSWER_V6 = "2001:db8:100::99"

# Hosts and their names.
ALLOWED_NAME = "allowed.test"  # A and AAAA
ALLOWED_V4 = "198.51.100.10"
ALLOWED_V6 = "2001:db8:100::10"
OTHER_NAME = "other.test"  # a host the tests do not allow
OTHER_V4 = "198.51.100.20"
OTHER_V6 = "2001:db8:100::20"
SUFFIX_DOMAIN = "allowed-suffix.test"  # for the `*.allowed-suffix.test` rule
SUFFIX_SUB_NAME = "api.allowed-suffix.test"  # (any name under it answers the same)
SUFFIX_SUB_V4 = "198.51.100.30"
SUFFIX_SUB_V6 = "2001:db8:100::30"
SUFFIX_APEX_V4 = "198.51.100.31"  # allowed-suffix.test itself
SUFFIX_APEX_V6 = "2001:db8:100::31"
ALIAS_NAME = "alias.test"  # CNAME allowed.test
V6_NAME = "v6.test"  # AAAA only: ALLOWED_V6
METADATA_NAME = "metadata.test"  # resolves to the metadata addresses
METADATA_V4 = "169.254.169.254"
METADATA_V6 = "fd00:ec2::254"
PRIVATE_NAME = "private.test"  # resolves to the private addresses
PRIVATE_V4 = "10.0.0.5"
PRIVATE_V6 = "fc00::5"
MISSING_NAME = "missing.test"  # NXDOMAIN upstream too (as is any name not above)

HTTP_PORT = 80
ALT_HTTP_PORT = 8080
UDP_ECHO_PORT = 7

# Every (address, port) the HTTP server listens on.
HTTP_SERVERS = [
    (ALLOWED_V4, HTTP_PORT),
    (ALLOWED_V4, ALT_HTTP_PORT),
    (ALLOWED_V6, HTTP_PORT),
    (ALLOWED_V6, ALT_HTTP_PORT),
    (OTHER_V4, HTTP_PORT),
    (OTHER_V6, HTTP_PORT),
    (SUFFIX_SUB_V4, HTTP_PORT),
    (SUFFIX_SUB_V6, HTTP_PORT),
    (SUFFIX_APEX_V4, HTTP_PORT),
    (SUFFIX_APEX_V6, HTTP_PORT),
    (STRAY_DNS_ANSWER_V4, HTTP_PORT),
    (STRAY_DNS_ANSWER_V6, HTTP_PORT),
    (METADATA_V4, HTTP_PORT),
    (METADATA_V6, HTTP_PORT),
    (PRIVATE_V4, HTTP_PORT),
    (PRIVATE_V6, HTTP_PORT),
]
UDP_ECHO_SERVERS = [(ALLOWED_V4, UDP_ECHO_PORT), (ALLOWED_V6, UDP_ECHO_PORT), (OTHER_V4, UDP_ECHO_PORT)]

# What the primary resolver answers, for the tests' expectations: name -> (A, AAAA).
DNS_RECORDS = {
    ALLOWED_NAME: ([ALLOWED_V4], [ALLOWED_V6]),
    OTHER_NAME: ([OTHER_V4], [OTHER_V6]),
    SUFFIX_DOMAIN: ([SUFFIX_APEX_V4], [SUFFIX_APEX_V6]),
    SUFFIX_SUB_NAME: ([SUFFIX_SUB_V4], [SUFFIX_SUB_V6]),
    ALIAS_NAME: ([ALLOWED_V4], [ALLOWED_V6]),
    V6_NAME: ([], [ALLOWED_V6]),
    METADATA_NAME: ([METADATA_V4], [METADATA_V6]),
    PRIVATE_NAME: ([PRIVATE_V4], [PRIVATE_V6]),
}

SERVER_ADDRESSES = sorted(
    {a for a, _ in HTTP_SERVERS} | {DNS_V4, DNS_V6, STRAY_DNS_V4, STRAY_DNS_V6},
    key=lambda a: (ipaddress.ip_address(a).version, ipaddress.ip_address(a)),
)


def host_port(address, port):
    """'198.51.100.10:80' or '[2001:db8:100::10]:80'."""
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def url(address, port=HTTP_PORT, path="/"):
    return f"http://{host_port(address, port)}{path}"


def http_body(address, port=HTTP_PORT):
    """The body of `GET /` from the server reached at address:port."""
    return f"networld {host_port(address, port)}\n"


# ---------------------------------------------------------------------------
# The servers run in N: an HTTP server (and UDP echo), and a readiness probe
# run in E, both as scripts written into the world's directory.

SERVER_SCRIPT = r'''
import json, socket, socketserver, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

log_path, listeners, udp_listeners = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
lock = threading.Lock()
log = open(log_path, "a", buffering=1)


def record(**entry):
    entry["time"] = time.time()
    with lock:
        log.write(json.dumps(entry) + "\n")
        log.flush()


def host_port(address, port):
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    server_version = "networld"
    sys_version = ""

    def reply(self, send_body):
        server, port = self.connection.getsockname()[:2]
        client, client_port = self.client_address[:2]
        record(proto="http", client=client, client_port=client_port, server=server, port=port,
               method=self.command, path=self.path, host=self.headers.get("Host"))
        if self.path.startswith("/bytes/") and self.path[7:].isdigit():
            body = b"x" * int(self.path[7:])
        else:
            body = f"networld {host_port(server, port)}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def do_GET(self):
        self.reply(True)

    def do_HEAD(self):
        self.reply(False)

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def server_bind(self):
        # Not HTTPServer's, which asks the (unreachable) resolver for a name.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


def server_for(address, port):
    Server.address_family = socket.AF_INET6 if ":" in address else socket.AF_INET
    return Server((address, port), Handler)


def udp_echo(sock):
    """Echoes a datagram back, prefixed with where it arrived.  A TFTP read
    request (busybox has no UDP nc, but has tftp) gets one DATA block with
    that echo of the file name, so `tftp -g -r NAME -l - HOST PORT` prints
    it; TFTP acks are neither answered nor logged."""
    server, port = sock.getsockname()[:2]
    while True:
        data, peer = sock.recvfrom(65535)
        if data[:2] == b"\0\4":
            continue
        tftp = data[:2] == b"\0\1"
        text = data[2:].split(b"\0")[0] if tftp else data
        record(proto="udp", client=peer[0], client_port=peer[1], server=server, port=port,
               data=text.decode(errors="replace"), tftp=tftp)
        reply = b"echo " + host_port(server, port).encode() + b" " + text
        sock.sendto(b"\0\3\0\1" + reply + b"\n" if tftp else reply, peer)


servers = [server_for(a, p) for a, p in listeners]
udp = []
for a, p in udp_listeners:
    s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((a, p))
    udp.append(s)
for s in servers:
    threading.Thread(target=s.serve_forever, daemon=True).start()
for s in udp:
    threading.Thread(target=udp_echo, args=(s,), daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
'''

PROBE_SCRIPT = r'''
import json, random, socket, struct, sys, time

checks, deadline = json.loads(sys.argv[1]), time.monotonic() + float(sys.argv[2])


def dns_query(name):
    qid = random.randrange(65536)
    question = b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0" + struct.pack("!HH", 1, 1)
    return qid, struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + question


def dns_ok(kind, address, name):
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    qid, query = dns_query(name)
    if kind == "udp":
        with socket.socket(family, socket.SOCK_DGRAM) as s:
            s.settimeout(0.3)
            s.sendto(query, (address, 53))
            reply = s.recv(4096)
    else:
        with socket.create_connection((address, 53), timeout=0.5) as s:
            s.sendall(struct.pack("!H", len(query)) + query)
            reply = s.recv(4096)[2:]
    ident, flags, _, answers = struct.unpack("!HHHH", reply[:8])
    return ident == qid and flags & 0xF == 0 and answers > 0


def http_ok(address, port):
    with socket.create_connection((address, port), timeout=0.5) as s:
        s.sendall(b"HEAD /networld-ready HTTP/1.0\r\n\r\n")
        return s.recv(100).startswith(b"HTTP/1.0 200")


def udp_ok(address, port):
    with socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.3)
        s.sendto(b"networld-ready", (address, port))
        return s.recv(100).startswith(b"echo ")


pending = [tuple(c) for c in checks]
while pending:
    failed = []
    for check in pending:
        try:
            ok = {"dns": lambda: dns_ok(check[1], check[2], check[3]), "http": lambda: http_ok(check[1], check[2]),
                  "udp": lambda: udp_ok(check[1], check[2])}[check[0]]()
        except OSError as e:
            ok = False
        if not ok:
            failed.append(check)
    pending = failed
    if pending:
        if time.monotonic() > deadline:
            print("not ready:", pending)
            sys.exit(1)
        time.sleep(0.05)
'''

DNS_CLIENT_SCRIPT = r'''
import ipaddress, json, random, socket, struct, sys

name, qtype, server, tcp = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "tcp"
TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28, "ANY": 255}
NAMES = {v: k for k, v in TYPES.items()}
qid = random.randrange(65536)
question = b"".join(bytes([len(l)]) + l.encode() for l in name.split(".") if l) + b"\0"
query = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + question + struct.pack("!HH", TYPES[qtype], 1)
family = socket.AF_INET6 if ":" in server else socket.AF_INET
if tcp:
    with socket.create_connection((server, 53), timeout=5) as s:
        s.sendall(struct.pack("!H", len(query)) + query)
        data = b""
        while len(data) < 2 or len(data) < 2 + struct.unpack("!H", data[:2])[0]:
            chunk = s.recv(65535)
            if not chunk:
                break
            data += chunk
        reply = data[2:]
else:
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        s.sendto(query, (server, 53))
        reply = s.recv(65535)


def read_name(offset):
    labels, jumped, end = [], False, None
    while True:
        length = reply[offset]
        if length >= 0xC0:
            if end is None:
                end = offset + 2
            offset = struct.unpack("!H", reply[offset:offset + 2])[0] & 0x3FFF
        elif length == 0:
            return ".".join(labels), (end if end is not None else offset + 1)
        else:
            labels.append(reply[offset + 1:offset + 1 + length].decode())
            offset += 1 + length


ident, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", reply[:12])
offset = 12
for _ in range(qd):
    _, offset = read_name(offset)
    offset += 4
answers = []
for _ in range(an):
    _, offset = read_name(offset)
    rtype, _, ttl, length = struct.unpack("!HHIH", reply[offset:offset + 10])
    offset += 10
    rdata = reply[offset:offset + length]
    if rtype in (1, 28):
        value = str(ipaddress.ip_address(rdata))
    elif rtype in (2, 5, 12):
        value = read_name(offset)[0]
    else:
        value = rdata.hex()
    answers.append([NAMES.get(rtype, str(rtype)), value, ttl])
    offset += length
print(json.dumps({"id_matches": ident == qid, "rcode": flags & 0xF, "flags": flags, "answers": answers}))
'''


# ---------------------------------------------------------------------------
# Processes


_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


def _die_with_parent():
    """preexec_fn: our children (namespace holders, servers) get SIGKILL if
    the test run itself dies, so nothing of a world can outlive pytest."""
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _start_time(pid):
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return None if fields[0] in ("Z", "X") else int(fields[19])


def _ns_id(path):
    st = os.stat(path)
    return (st.st_dev, st.st_ino)


def _comm(pid):
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "?"


def _cmdline(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def _wait_until(predicate, timeout, interval=0.02):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


class Netns:
    """A network namespace held by a `sleep` we started in it."""

    def __init__(self, world, role):
        self.role = role
        self.proc = subprocess.Popen(
            [UNSHARE, "--net", "--", SLEEP, "infinity"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )
        world._procs.append(self.proc)
        self.pid = self.proc.pid
        self.path = f"/proc/{self.pid}/ns/net"
        # Once it runs sleep, unshare has made the namespace.
        if not _wait_until(lambda: _comm(self.pid) == "sleep" or self.proc.poll() is not None, 5.0):
            raise RuntimeError(f"the {role} namespace holder did not start")
        if self.proc.poll() is not None:
            raise RuntimeError(f"unshare --net failed for the {role} namespace ({self.proc.returncode})")
        self.id = _ns_id(self.path)
        if self.id == _ns_id("/proc/self/ns/net"):
            raise RuntimeError(f"the {role} namespace is the host's")
        self.inode = self.id[1]

    def __str__(self):
        return self.path

    def __fspath__(self):
        return self.path


# ---------------------------------------------------------------------------
# The world


class NetWorld:
    def __init__(self, directory):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.http_log_path = self.dir / "http.jsonl"
        self.dns_log_path = self.dir / "dnsmasq.log"
        self.stray_dns_log_path = self.dir / "dnsmasq-stray.log"
        self._procs = []  # every Popen we started: holders and servers
        self._servers = []  # (name, Popen)
        self._holders = []  # Netns, in creation order
        self.containers = []  # Netns of container_netns()
        self.engine = None
        self.internet = None
        self._http_mark = 0
        self._dns_marks = {}

    # -- running commands ---------------------------------------------------

    def enter_argv(self, netns):
        """argv prefix that runs a command in `netns` (a Netns or a path)."""
        return [NSENTER, f"--net={netns}"]

    def engine_argv(self):
        return self.enter_argv(self.engine)

    def run_in(self, netns, argv, check=False, timeout=30, input=None):
        """Run `argv` in the network namespace `netns` (self.engine,
        self.internet, a container netns or a path); a text CompletedProcess."""
        return subprocess.run(
            [*self.enter_argv(netns), *map(str, argv)],
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=check,
        )

    def _configure(self, netns, sysctls=(), ip_batch=()):
        """Set sysctls (in `netns` only: /proc/sys/net is the opener's
        namespace) and run `ip -batch` commands there, in one process."""
        script = "set -e\n" + "".join(f"echo {value} > /proc/sys/{key.replace('.', '/')}\n" for key, value in sysctls)
        if ip_batch:
            script += f"{IP} -batch - <<'EOF'\n" + "\n".join(ip_batch) + "\nEOF\n"
        result = self.run_in(netns, ["/bin/sh", "-c", script])
        if result.returncode != 0:
            raise RuntimeError(f"configuring the {getattr(netns, 'role', netns)} namespace failed: {result.stderr}")

    # -- building -----------------------------------------------------------

    def _netns(self, role):
        ns = Netns(self, role)
        self._holders.append(ns)
        return ns

    def start(self):
        self.engine = self._netns("engine")
        self.internet = self._netns("internet")
        no_dad = [("net.ipv6.conf.all.accept_dad", 0), ("net.ipv6.conf.default.accept_dad", 0)]
        self._configure(self.internet, no_dad)
        self._configure(
            self.engine,
            no_dad
            + [
                ("net.ipv4.ip_forward", 1),
                ("net.ipv6.conf.all.forwarding", 1),
                ("net.ipv4.conf.all.rp_filter", 0),
                ("net.ipv4.conf.default.rp_filter", 0),
            ],
            [
                "link set lo up",
                f"link add uplink type veth peer name downlink netns {self.internet.pid}",
                "link set uplink up",
                f"addr add {ENGINE_UPLINK_V4}/{UPLINK_PREFIX_V4} dev uplink",
                f"addr add {ENGINE_UPLINK_V6}/{UPLINK_PREFIX_V6} dev uplink nodad",
                f"route add default via {INTERNET_LINK_V4}",
                f"route add ::/0 via {INTERNET_LINK_V6}",
            ],
        )
        self._configure(
            self.internet,
            (),
            [
                "link set lo up",
                "link set downlink up",
                f"addr add {INTERNET_LINK_V4}/{UPLINK_PREFIX_V4} dev downlink",
                f"addr add {INTERNET_LINK_V6}/{UPLINK_PREFIX_V6} dev downlink nodad",
                *(
                    f"addr add {a}/{32 if ':' not in a else 128} dev lo" + (" nodad" if ":" in a else "")
                    for a in SERVER_ADDRESSES
                ),
                f"route add default via {ENGINE_UPLINK_V4}",
                f"route add ::/0 via {ENGINE_UPLINK_V6}",
            ],
        )
        self._start_servers()
        self._wait_ready()

    def _server(self, name, argv):
        out = open(self.dir / f"{name}.out", "wb")
        try:
            proc = subprocess.Popen(
                [*self.enter_argv(self.internet), *argv],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
                cwd=self.dir,
            )
        finally:
            out.close()
        self._procs.append(proc)
        self._servers.append((name, proc))
        return proc

    def _dnsmasq(self, name, addresses, records, log):
        argv = [
            DNSMASQ,
            "--keep-in-foreground",
            "--conf-file=/dev/null",  # not /etc/dnsmasq.conf, nor /etc/dnsmasq.d
            "--no-resolv",
            "--no-hosts",
            "--no-poll",
            f"--pid-file={self.dir / (name + '.pid')}",
            "--bind-interfaces",
            *(f"--listen-address={a}" for a in addresses),
            "--user=root",
            "--group=root",
            "--log-queries",
            f"--log-facility={log}",
            f"--local-ttl={DNS_TTL}",
            "--local=/test/",  # other .test names: NXDOMAIN
            "--address=/#/",  # any other name: NXDOMAIN
            *records,
        ]
        return self._server(name, argv)

    def _start_servers(self):
        self._dnsmasq(
            "dnsmasq",
            [DNS_V4, DNS_V6],
            [
                f"--host-record={ALLOWED_NAME},{ALLOWED_V4},{ALLOWED_V6}",
                f"--host-record={OTHER_NAME},{OTHER_V4},{OTHER_V6}",
                # the domain and every name under it, then the domain itself
                f"--address=/{SUFFIX_DOMAIN}/{SUFFIX_SUB_V4}",
                f"--address=/{SUFFIX_DOMAIN}/{SUFFIX_SUB_V6}",
                f"--host-record={SUFFIX_DOMAIN},{SUFFIX_APEX_V4},{SUFFIX_APEX_V6}",
                f"--cname={ALIAS_NAME},{ALLOWED_NAME}",
                f"--host-record={V6_NAME},{ALLOWED_V6}",
                f"--host-record={METADATA_NAME},{METADATA_V4},{METADATA_V6}",
                f"--host-record={PRIVATE_NAME},{PRIVATE_V4},{PRIVATE_V6}",
            ],
            self.dns_log_path,
        )
        self._dnsmasq(
            "dnsmasq-stray",
            [STRAY_DNS_V4, STRAY_DNS_V6],
            [f"--host-record={ALLOWED_NAME},{STRAY_DNS_ANSWER_V4},{STRAY_DNS_ANSWER_V6}"],
            self.stray_dns_log_path,
        )
        script = self.dir / "httpd.py"
        script.write_text(SERVER_SCRIPT)
        self.http_log_path.touch()
        self._server(
            "httpd",
            [PYTHON, "-u", script, self.http_log_path, json.dumps(HTTP_SERVERS), json.dumps(UDP_ECHO_SERVERS)],
        )

    def _wait_ready(self):
        """Poll, from E (so through the uplink and N's routes), until both
        resolvers answer over UDP and TCP on each address and every HTTP and
        UDP echo listener answers."""
        resolvers = (DNS_V4, DNS_V6, STRAY_DNS_V4, STRAY_DNS_V6)
        checks = [("dns", kind, a, ALLOWED_NAME) for a in resolvers for kind in ("udp", "tcp")]
        checks += [("http", a, p) for a, p in HTTP_SERVERS] + [("udp", a, p) for a, p in UDP_ECHO_SERVERS]
        script = self.dir / "probe.py"
        script.write_text(PROBE_SCRIPT)
        argv = [PYTHON, script, json.dumps(checks), READY_TIMEOUT]
        result = self.run_in(self.engine, argv, timeout=READY_TIMEOUT + 10)
        if result.returncode != 0:
            dead = [
                f"{n} exited {p.returncode}: {self._output_of(n)}"
                for n, p in self._servers if p.poll() is not None
            ]
            raise RuntimeError(f"the network world did not come up: {result.stdout}{result.stderr} {dead}")
        # What the probe did is not the test's.
        self._http_mark = self.http_log_path.stat().st_size
        self._dns_marks = {p: p.stat().st_size for p in (self.dns_log_path, self.stray_dns_log_path)}

    def _output_of(self, name):
        try:
            return (self.dir / f"{name}.out").read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    # -- containers ---------------------------------------------------------

    def container_netns(self):
        """A new container network namespace linked to E; returns its path
        (/proc/PID/ns/net of its holder) for the OCI config."""
        k = len(self.containers)
        if k >= MAX_CONTAINER_NETNS:
            raise RuntimeError(f"a world has room for {MAX_CONTAINER_NETNS} container namespaces")
        ns = self._netns(f"container{k}")
        self.containers.append(ns)
        v4 = CONTAINER_POOL_V4.network_address + 4 * k
        ns.engine_v4, ns.v4 = str(v4 + 1), str(v4 + 2)
        net_v6 = ipaddress.ip_network(f"{CONTAINER_PREFIX_V6}:{k:x}::/64")
        ns.engine_v6, ns.v6 = str(net_v6.network_address + 1), str(net_v6.network_address + 2)
        ns.engine_if = f"ctr{k}"
        self._configure(ns, [("net.ipv6.conf.all.accept_dad", 0), ("net.ipv6.conf.default.accept_dad", 0)])
        self._configure(
            self.engine,
            (),
            [
                f"link add {ns.engine_if} type veth peer name eth0 netns {ns.pid}",
                f"link set {ns.engine_if} up",
                f"addr add {ns.engine_v4}/30 dev {ns.engine_if}",
                f"addr add {ns.engine_v6}/64 dev {ns.engine_if} nodad",
            ],
        )
        self._configure(
            ns,
            (),
            [
                "link set lo up",
                "link set eth0 up",
                f"addr add {ns.v4}/30 dev eth0",
                f"addr add {ns.v6}/64 dev eth0 nodad",
                f"route add default via {ns.engine_v4}",
                f"route add ::/0 via {ns.engine_v6}",
            ],
        )
        return ns.path

    def container(self, path):
        """The Netns of a path container_netns() returned (for .v4, .v6, ...)."""
        return next(ns for ns in self.containers if ns.path == str(path))

    @staticmethod
    def netns_changes(config, path):
        """config_changes for ward.run_container: `config`'s namespaces with
        the network entry joining `path` (lists replace in merge())."""
        namespaces = [ns for ns in config["linux"]["namespaces"] if ns["type"] != "network"]
        return {"linux": {"namespaces": namespaces + [{"type": "network", "path": str(path)}]}}

    def join(self, bundle, path=None, resolver=DNS_V4):
        """Make `bundle`'s container join `path` (default: a new container
        netns) and give its rootfs an /etc/resolv.conf naming `resolver`
        (None: leave it alone).  Returns the path."""
        path = path or self.container_netns()
        bundle.set_namespace("network", path)
        if resolver:
            (bundle.rootfs / "etc" / "resolv.conf").write_text(f"nameserver {resolver}\n")
        return path

    # -- what the servers saw -----------------------------------------------

    def http_requests(self, server=None, port=None, client=None, proto=None, since_start=True):
        """Access log entries (dicts: proto http|udp, client, client_port,
        server, port, method, path, host | data), oldest first, optionally
        filtered.  Addresses are compared as addresses."""
        with open(self.http_log_path, "rb") as f:
            if since_start:
                f.seek(self._http_mark)
            entries = [json.loads(line) for line in f.read().decode().splitlines() if line.strip()]

        def same(a, b):
            return b is None or ipaddress.ip_address(a.removeprefix("::ffff:")) == ipaddress.ip_address(str(b))

        return [
            e
            for e in entries
            if same(e["server"], server)
            and same(e["client"], client)
            and (port is None or e["port"] == port)
            and (proto is None or e["proto"] == proto)
        ]

    def dns_queries(self, stray=False, since_start=True):
        """(qtype, name, client) of every query the primary resolver (or,
        with stray=True, the other one) received."""
        path = self.stray_dns_log_path if stray else self.dns_log_path
        with open(path, "rb") as f:
            if since_start:
                f.seek(self._dns_marks.get(path, 0))
            text = f.read().decode(errors="replace")
        queries = []
        for line in text.splitlines():
            _, _, message = line.partition("]: ")
            if message.startswith("query["):
                qtype, _, rest = message[len("query[") :].partition("] ")
                name, _, client = rest.partition(" from ")
                client = client.strip()
                try:
                    client = str(ipaddress.ip_address(client))
                except ValueError:
                    pass
                queries.append((qtype, name, client))
        return queries

    def dns_lookup(self, name, qtype="A", server=DNS_V4, netns=None, tcp=False):
        """Ask `server` for `name` from `netns` (default: E, where ward-hook's
        supervisor asks) with a plain DNS client; returns {"rcode": int,
        "answers": [[type, value, ttl], ...], ...}."""
        script = self.dir / "dns_client.py"
        if not script.exists():
            script.write_text(DNS_CLIENT_SCRIPT)
        result = self.run_in(netns or self.engine, [PYTHON, script, name, qtype, server, "tcp" if tcp else "udp"])
        if result.returncode != 0:
            raise RuntimeError(f"DNS query {name} {qtype} to {server} failed: {result.stderr}")
        return json.loads(result.stdout)

    # -- teardown -----------------------------------------------------------

    def namespace_ids(self):
        return {ns.id for ns in self._holders if getattr(ns, "id", None)}

    def processes_inside(self):
        """pid -> namespace role of every live process in one of the
        world's namespaces, other than the holders."""
        ids = {ns.id: ns.role for ns in self._holders if getattr(ns, "id", None)}
        holders = {ns.pid for ns in self._holders}
        found = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) in holders or int(entry) == os.getpid():
                continue
            try:
                role = ids.get(_ns_id(f"/proc/{entry}/ns/net"))
            except OSError:
                continue
            if role and _start_time(entry) is not None:
                found[int(entry)] = role
        return found

    def stop(self, stray_grace=2.0):
        """Tear the world down, servers first, holders last; never raises.
        Returns the problems found: processes other than ours still alive in
        the world's namespaces (killed), anything that would not die."""
        problems = []
        for name, proc in reversed(self._servers):
            if proc.poll() is None:
                proc.terminate()
        for name, proc in reversed(self._servers):
            try:
                proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        ours = {p.pid for p in self._procs}

        def others():
            # dnsmasq forks a child per TCP connection: ours, gone once it ends.
            return {p: r for p, r in self.processes_inside().items() if p not in ours and _comm(p) != "dnsmasq"}

        # A hook's supervisor may take a moment to notice its container is gone.
        _wait_until(lambda: not others(), stray_grace)
        for pid, role in sorted(self.processes_inside().items()):
            if pid in ours:
                continue
            if _comm(pid) != "dnsmasq":
                problems.append(f"process {pid} ({_cmdline(pid)!r}) was still alive in the {role} namespace")
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for ns in reversed(self._holders):
            if ns.proc.poll() is None:
                ns.proc.kill()
        for proc in self._procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                problems.append(f"process {proc.pid} ({proc.args!r}) did not die")
        if not _wait_until(lambda: not self.processes_inside(), 2.0):
            problems += [f"process {p} would not leave the {r} namespace" for p, r in self.processes_inside().items()]
        return problems


@pytest.fixture
def net_world(tmp_path, ward):
    """A NetWorld with ward running in its engine namespace.  Teardown
    deletes the test's containers first, then the world; it fails the test
    for whatever had to be cleaned up by force."""
    world = NetWorld(tmp_path / "networld")
    try:
        world.start()
    except BaseException:
        world.stop()
        raise
    ward.argv_prefix = world.engine_argv()
    problems = []
    try:
        yield world
    finally:
        try:
            problems += ward.cleanup()  # while E and the container namespaces still exist
        finally:
            ward.argv_prefix = []
            problems += world.stop()
    assert not problems, "left behind in the network world:\n" + "\n".join(problems)
