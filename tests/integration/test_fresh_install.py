"""A fresh production install: ``requirements.txt`` alone, in a new virtual environment, must
be enough to run a worker and beat against Redis.

The test requirements pull in packages the runtime needs as well (``packaging``, imported by
kombu's Redis transport, came only with pytest), so the suite's own venv cannot show a missing
runtime dependency. Here pip installs ``requirements.txt`` from the registry (with pip's cache)
into an empty venv, and the worker and beat run from that venv in production mode.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import BROKER_URL, REPO, test_database_url, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True), pytest.mark.timeout(900)]

PIP_TIMEOUT = 720


def _clean_environment(**extra):
    """Only what a production host would set: nothing of the suite's venv leaks in."""
    keep = {key: os.environ[key] for key in ("HOME", "LANG", "LC_ALL", "TMPDIR") if key in os.environ}
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", **keep, **extra}


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory):
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    result = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", "requirements.txt"],
        cwd=REPO,
        env=_clean_environment(),
        capture_output=True,
        text=True,
        timeout=PIP_TIMEOUT,
    )
    assert result.returncode == 0, f"pip install -r requirements.txt failed:\n{result.stdout}\n{result.stderr}"
    return python


class Process:
    def __init__(self, args, env, log_path):
        self.log_path = log_path
        self._log = open(log_path, "ab")
        self.process = subprocess.Popen(
            args, cwd=REPO, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def log(self):
        return self.log_path.read_text(errors="replace")

    def alive_and_logged(self, text):
        if self.process.poll() is not None:
            raise AssertionError(f"{self.process.args[3]} exited ({self.process.returncode}):\n{self.log()[-4000:]}")
        return text in self.log()

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait(timeout=5)
        self._log.close()


def test_requirements_alone_run_worker_and_beat_in_production_mode(fresh_venv, tmp_path, broker):
    python = fresh_venv
    # The venv sees only what requirements.txt brought (not the suite's site-packages).
    probe = subprocess.run(
        [str(python), "-c", "import sys, kombu; print(kombu.__file__)"], capture_output=True, text=True, check=True
    )
    assert Path(probe.stdout.strip()).is_relative_to(python.parents[1])

    env = _clean_environment(
        DJANGO_ENV="production",
        SECRET_KEY="fresh-install-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        OTOORDER_SECRET_SALT="fresh-install-test-salt",
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=test_database_url(),
        CELERY_BROKER_URL=BROKER_URL,
        OTOORDER_VAR_DIR=str(tmp_path / "var"),
        OTOORDER_SWEEP_INTERVAL="0.5",
        CONN_MAX_AGE="0",
        PYTHONUNBUFFERED="1",
    )
    node = "fresh@localhost"
    celery = [str(python), "-m", "celery", "-A", "otoorder"]
    worker = Process(
        [*celery, "worker", "-l", "info", "--pool", "solo", "-n", node, "--without-gossip", "--without-mingle"],
        env,
        tmp_path / "worker.log",
    )
    beat = None
    try:
        wait_for(lambda: worker.alive_and_logged(" ready."), timeout=60, message="the worker to be ready")
        ping = subprocess.run(
            [*celery, "inspect", "ping", "-d", node, "--timeout", "10"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert ping.returncode == 0 and "pong" in ping.stdout, ping.stdout + ping.stderr

        beat = Process(
            [*celery, "beat", "-l", "info", "--schedule", str(tmp_path / "celerybeat-schedule")],
            env,
            tmp_path / "beat.log",
        )
        wait_for(
            lambda: beat.alive_and_logged("Sending due task sweep-dispatches"),
            timeout=60,
            message="beat's first tick",
        )
        # The worker ran what beat sent: the whole chain works from requirements.txt alone.
        wait_for(
            lambda: worker.alive_and_logged("otoorder.orders.tasks.sweep_dispatches[")
            and "succeeded" in worker.log(),
            timeout=60,
            message="the worker to run the sweeper",
        )
    finally:
        if beat is not None:
            beat.stop()
        worker.stop()
