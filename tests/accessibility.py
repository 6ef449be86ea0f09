"""The accessibility check of every browser test: axe-core (npm, node_modules/axe-core) with
the WCAG 2.2 A and AA rules on every page a test visits.

``tests/axe_runner.js`` runs in each document of the test's page after axe-core itself (both
as init scripts: the Content-Security-Policy of our pages allows no injected <script> element).
It checks the document once it has loaded and again after each htmx swap and reports every
result through a binding. While a check runs it shows a marker element; a locator handler
makes each action and each auto-waiting assertion of the test wait for the check, and
``page.goto``, ``reload`` and ``go_back`` wait too, so a test never leaves a page unchecked.
At the end of the test, any violation of impact "critical" or "serious" fails it, named by
rule, element and page URL.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
RUNNER = Path(__file__).resolve().parent / "axe_runner.js"
#: The impacts that fail a test ("moderate" and "minor" are reported by axe-core but pass).
FAILING = frozenset({"critical", "serious"})
MARKER = "#otoorder-a11y-pending"

IDLE = "() => window.__otoorderA11y ? window.__otoorderA11y.idle() : null"
CHECK_NOW = "() => window.__otoorderA11y ? window.__otoorderA11y.check() : null"


class AccessibilityCheck:
    """The findings on one page over a whole test (``page.a11y``)."""

    def __init__(self, page):
        self.page = page
        self.violations = []
        self.unfinished = []
        self.checked = []

    def install(self, context):
        if not AXE.exists():
            raise RuntimeError(f"axe-core is missing ({AXE}); `make test` installs it with the other assets")
        context.expose_binding("otoorderA11yReport", self._report)
        context.add_init_script(path=str(AXE))
        context.add_init_script(path=str(RUNNER))
        self.page.add_locator_handler(self.page.locator(MARKER), self.wait)
        for name in ("goto", "reload", "go_back", "go_forward"):
            self._wait_before(name)

    def _wait_before(self, name):
        navigate = getattr(self.page, name)

        def waiting(*args, **kwargs):
            self.wait()
            return navigate(*args, **kwargs)

        setattr(self.page, name, waiting)

    def _report(self, source, payload):
        url = payload["url"]
        if payload.get("unfinished"):
            self.unfinished.append(url)
            return
        self.checked.append(url)
        for violation in payload["violations"]:
            violation["url"] = url
            if violation not in self.violations:
                self.violations.append(violation)

    def wait(self):
        """Waits until the check of the current document has reported."""
        from playwright.sync_api import Error

        if self.page.is_closed():
            return
        try:
            self.page.evaluate(IDLE)
        except Error as error:
            # The document went away meanwhile; its runner said so if it was left unchecked.
            if "context was destroyed" not in error.message and "navigation" not in error.message:
                raise

    def check(self):
        """Checks the document as it is now (for a state that no load or htmx swap brings)
        and returns the failing violations found on the page so far."""
        self.page.evaluate(CHECK_NOW)
        return self.failing()

    def failing(self):
        return [violation for violation in self.violations if violation["impact"] in FAILING]

    def clear(self):
        self.violations.clear()
        self.unfinished.clear()

    def report(self):
        """The failure message of a test, or ``""`` when it passed the check."""
        lines = [describe(violation) for violation in self.failing()]
        lines += [f"- left before its accessibility check ended: {url}" for url in self.unfinished]
        if not lines:
            return ""
        return "Accessibility violations (axe-core, WCAG 2.2 AA):\n" + "\n".join(lines)


def describe(violation):
    summary = " ".join(violation["summary"].split())
    return (
        f"- {violation['rule']} ({violation['impact']}) at {violation['target']} on {violation['url']}: "
        f"{violation['help']}\n    {violation['html'][:200]}\n    {summary[:400]}"
    )
