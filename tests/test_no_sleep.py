"""No test waits for a fixed time: a sleep that "should be long enough" passes by luck on a
quiet machine and fails on a busy one. Tests wait for a condition (``tests/waiting.py``) or an
event. Allowed: the polling interval of ``wait_for`` itself, and the lab simulators (a class
whose name ends in ``Lab``, or ``tests/labs/``), where stalling is the behaviour under test.
"""

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
SLEEPS = {"sleep", "wait_for_timeout"}
ALLOWED_FILES = {TESTS / "waiting.py"}
ALLOWED_FOLDERS = {TESTS / "labs"}


def sleeps_in(path):
    """``(line, call)`` of every sleep outside a lab simulator class in ``path``."""
    found = []

    def visit(node, in_lab):
        if isinstance(node, ast.ClassDef):
            in_lab = in_lab or node.name.endswith("Lab")
        if isinstance(node, ast.Call) and not in_lab:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in SLEEPS:
                found.append((node.lineno, ast.unparse(func)))
        for child in ast.iter_child_nodes(node):
            visit(child, in_lab)

    visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)), False)
    return found


def test_no_test_waits_for_a_fixed_time():
    offenders = [
        f"{path.relative_to(TESTS.parent)}:{line}: {call}()"
        for path in sorted(TESTS.rglob("*.py"))
        if path not in ALLOWED_FILES and not any(folder in path.parents for folder in ALLOWED_FOLDERS)
        for line, call in sleeps_in(path)
    ]
    assert offenders == [], "wait for a condition (tests/waiting.py) instead:\n" + "\n".join(offenders)


def test_the_check_finds_a_sleep(tmp_path):
    sample = tmp_path / "test_sample.py"
    sample.write_text(
        "import time\n"
        "class SlowLab:\n    def stall(self):\n        time.sleep(5)\n"
        "def test_x(page):\n    time.sleep(1.5)\n    page.wait_for_timeout(300)\n"
    )
    assert sleeps_in(sample) == [(6, "time.sleep"), (7, "page.wait_for_timeout")]
