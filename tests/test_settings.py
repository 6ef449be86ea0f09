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
