from django.apps import AppConfig


class SandboxAppConfig(AppConfig):
    """The demo of ``make run``: the sandbox lab and the demo commands (``load_demo_data``,
    ``sandbox_lab``, ``demo_mail_sink``). Installed always, so the commands exist; no
    production module imports it (an import-linter contract checks that)."""

    name = "otoorder.sandbox"
    label = "sandbox"
