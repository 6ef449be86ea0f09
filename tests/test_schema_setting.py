"""The openTRANS schema comes from ``OTOORDER_OPENTRANS_XSD``: a copy elsewhere is used, and a
missing one skips the tests that need it with the reason locally and fails them under ``CI=true``.

Each case runs pytest on ``tests/test_docs_examples.py`` (two schema validations, no database)
in a subprocess with its own environment.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.schemas import opentrans_xsd

REPO = Path(__file__).resolve().parents[1]
REASON = "the openTRANS 2.1 schema is not there"


def run_schema_tests(xsd, ci):
    env = {**os.environ, "OTOORDER_OPENTRANS_XSD": str(xsd), "CI": ci}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/test_docs_examples.py", "-q", "-rs", "-p", "no:cacheprovider"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.returncode, result.stdout + result.stderr


def test_a_copy_named_by_the_setting_is_used(tmp_path):
    copy = tmp_path / "elsewhere"
    shutil.copytree(opentrans_xsd().parent, copy)
    code, output = run_schema_tests(copy / "opentrans_2_1.xsd", ci="true")
    assert code == 0, output
    assert re.search(r"\b[1-9]\d* passed", output) and "skipped" not in output, output


@pytest.mark.parametrize(("ci", "code", "outcome"), [("", 0, "skipped"), ("true", 1, "errors")])
def test_a_missing_schema_skips_locally_and_fails_in_ci(tmp_path, ci, code, outcome):
    returncode, output = run_schema_tests(tmp_path / "missing" / "opentrans_2_1.xsd", ci=ci)
    assert returncode == code, output
    # Every example of the docs is skipped (locally) or errors (in CI); none passes.
    assert re.search(rf"\b[1-9]\d* {outcome}", output) and "passed" not in output, output
    assert f"{REASON} (OTOORDER_OPENTRANS_XSD='{tmp_path / 'missing' / 'opentrans_2_1.xsd'}')" in output
