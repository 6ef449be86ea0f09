"""Production settings: ``check --deploy`` is clean, and demo mode never switches on."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432/otoorder"


def production_env(**extra):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OTOORDER_", "DJANGO_", "SECURE_", "CSRF_"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "otoorder.settings",
            "DJANGO_ENV": "production",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "OTOORDER_SECRET_SALT": secrets.token_urlsafe(24),
            "ALLOWED_HOSTS": "otoorder.example.test",
            "CSRF_TRUSTED_ORIGINS": "https://otoorder.example.test",
            "DATABASE_URL": os.environ.get("DATABASE_URL", LOCAL_POSTGRES),
            "CELERY_BROKER_URL": "redis://127.0.0.1:6379/15",
            "EMAIL_URL": "smtp://127.0.0.1:2525",
        }
    )
    env.update(extra)
    return env


def run(args, env):
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_is_clean_in_production():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_demo_mode_is_off_in_production_whatever_the_environment_says():
    code = "import django; django.setup(); from django.conf import settings; print(settings.DEMO_MODE, settings.DEBUG)"
    result = run(["-c", code], production_env(OTOORDER_DEMO_MODE="true", DEBUG="true"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]


def test_demo_data_refused_in_production():
    result = run(["manage.py", "load_demo_data"], production_env(OTOORDER_DEMO_MODE="true"))
    assert result.returncode != 0
    assert "demo mode only" in result.stderr


@pytest.mark.parametrize("missing", ["SECRET_KEY", "OTOORDER_SECRET_SALT", "ALLOWED_HOSTS"])
def test_production_refuses_to_start_without_its_secrets(missing):
    env = production_env()
    del env[missing]
    result = run(["manage.py", "check"], env)
    assert result.returncode != 0
    assert missing in result.stderr


# --- production refuses the embedded development defaults -----------------------------------

SQLITE = {"DATABASE_URL": "sqlite:////tmp/otoorder-production-test.sqlite3"}
FILE_BROKER = {"CELERY_BROKER_URL": "filesystem://"}


def embedded_defaults_env(case):
    env = production_env(**{"sqlite": SQLITE, "file_broker": FILE_BROKER}.get(case, {}))
    if case == "no_database_url":
        del env["DATABASE_URL"]
    return env


@pytest.mark.parametrize(
    ("case", "ids"),
    [
        ("no_database_url", ["otoorder.E001", "otoorder.E002"]),
        ("sqlite", ["otoorder.E002"]),
        ("file_broker", ["otoorder.E003"]),
    ],
)
def test_check_deploy_refuses_the_embedded_defaults(case, ids):
    result = run(["manage.py", "check", "--deploy"], embedded_defaults_env(case))
    assert result.returncode != 0
    found = {line.split("(")[1].split(")")[0] for line in result.stderr.splitlines() if "(otoorder.E" in line}
    assert found == set(ids), result.stderr
    assert "production" in result.stderr


def test_no_broker_url_means_the_file_broker_and_is_refused():
    env = production_env()
    del env["CELERY_BROKER_URL"]
    result = run(["manage.py", "check"], env)
    assert result.returncode != 0 and "otoorder.E003" in result.stderr


PROCESSES = {
    "web": ["-m", "gunicorn", "--bind", "127.0.0.1:0", "--workers", "1", "otoorder.wsgi"],
    "worker": ["-m", "celery", "-A", "otoorder", "worker", "--pool", "solo", "--loglevel", "warning"],
    # A schedule file of the test's own: beat removes a schedule file it cannot read.
    "beat": ["-m", "celery", "-A", "otoorder", "beat", "--loglevel", "warning", "--schedule"],
}


@pytest.mark.parametrize("process", PROCESSES)
def test_processes_refuse_to_start_on_the_embedded_defaults(process, tmp_path):
    env = production_env(**SQLITE, **FILE_BROKER)
    args = PROCESSES[process] + ([str(tmp_path / "beat-schedule")] if process == "beat" else [])
    result = run(args, env)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "otoorder refuses to start in production" in output
    assert "otoorder.E002" in output and "otoorder.E003" in output


def test_web_application_loads_in_a_proper_production_setup():
    result = run(["-c", "import otoorder.wsgi; print('loaded')"], production_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "loaded"
