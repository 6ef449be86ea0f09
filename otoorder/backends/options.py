"""Typed option schemas of backends.

A backend declares its options as a tuple of :class:`Option`. The schema validates what an
administrator enters (unknown and missing options are errors naming the option), tells the
UI which fields to render (secrets as write-only password inputs) and describes itself as
JSON Schema for ``GET /api/v1/backends/``.
"""

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.utils.translation import gettext_lazy as _

LOOPBACK_HOSTS = {"localhost"}


def is_loopback_host(host):
    if not host:
        return False
    if host.lower() in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def validate_lab_url(value):
    """Lab and portal URLs are https; plain http only to loopback (tests, sandbox lab)."""
    URLValidator(schemes=["http", "https"])(value)
    parts = urlsplit(value)
    if parts.scheme != "https" and not is_loopback_host(parts.hostname):
        raise ValidationError(
            _("Die Adresse muss mit https:// beginnen (unverschlüsselt nur für 127.0.0.1/localhost)."),
            code="insecure_url",
        )


@dataclass(frozen=True)
class Option:
    name: str
    label: str
    kind: str = "string"  # string | url | email | int | bool | list | choice
    required: bool = True
    secret: bool = False
    default: object = None
    help_text: str = ""
    choices: tuple = ()
    min_value: int | None = None
    max_value: int | None = None

    def clean(self, value):
        """Return the validated value or raise ValidationError with a German message."""
        if self.kind == "bool":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in {"true", "1", "ja", "on"}:
                return True
            if isinstance(value, str) and value.lower() in {"false", "0", "nein", "off", ""}:
                return False
            raise ValidationError(_("Ja oder nein erwartet."), code="invalid")
        if self.kind == "int":
            try:
                number = int(value)
            except (TypeError, ValueError):
                raise ValidationError(_("Bitte eine ganze Zahl angeben."), code="invalid") from None
            if self.min_value is not None and number < self.min_value:
                raise ValidationError(
                    _("Mindestens %(min)s.") % {"min": self.min_value}, code="min_value"
                )
            if self.max_value is not None and number > self.max_value:
                raise ValidationError(
                    _("Höchstens %(max)s.") % {"max": self.max_value}, code="max_value"
                )
            return number
        if self.kind == "list":
            if isinstance(value, str):
                value = [line for line in value.splitlines() if line.strip()]
            if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
                raise ValidationError(_("Eine Liste von Texten erwartet."), code="invalid")
            return list(value)
        if not isinstance(value, str):
            raise ValidationError(_("Text erwartet."), code="invalid")
        value = value.strip()
        if self.kind == "url":
            validate_lab_url(value)
        elif self.kind == "email":
            EmailValidator(message=_("Keine gültige E-Mail-Adresse."))(value)
        elif self.kind == "choice" and value not in dict(self.choices):
            raise ValidationError(
                _("Erlaubt sind: %(values)s.") % {"values": ", ".join(dict(self.choices))},
                code="invalid_choice",
            )
        return value

    def is_empty(self, value):
        return value is None or value == "" or value == []

    def formfield(self):
        """The Django form field that edits this option in branch administration."""
        common = {"label": self.label, "required": False, "help_text": self.help_text}
        if self.secret:
            return forms.CharField(
                widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
                **common,
            )
        if self.kind == "bool":
            return forms.BooleanField(initial=self.default, **common)
        if self.kind == "int":
            return forms.IntegerField(
                initial=self.default, min_value=self.min_value, max_value=self.max_value, **common
            )
        if self.kind == "list":
            return forms.CharField(
                widget=forms.Textarea(attrs={"rows": 3}),
                initial="\n".join(self.default or []),
                **{**common, "help_text": self.help_text or _("Ein Eintrag pro Zeile.")},
            )
        if self.kind == "choice":
            return forms.ChoiceField(choices=[("", "—"), *self.choices], initial=self.default, **common)
        return forms.CharField(initial=self.default, **common)

    def json_schema(self):
        kinds = {
            "string": {"type": "string"},
            "url": {"type": "string", "format": "uri"},
            "email": {"type": "string", "format": "email"},
            "int": {"type": "integer"},
            "bool": {"type": "boolean"},
            "list": {"type": "array", "items": {"type": "string"}},
            "choice": {"type": "string", "enum": [key for key, _label in self.choices]},
        }
        schema = {**kinds[self.kind], "title": str(self.label)}
        if self.help_text:
            schema["description"] = str(self.help_text)
        if self.default is not None:
            schema["default"] = self.default
        if self.secret:
            schema["writeOnly"] = True
        return schema


class OptionsSchema:
    def __init__(self, options):
        self.options = tuple(options)
        self.by_name = {option.name: option for option in self.options}

    def __iter__(self):
        return iter(self.options)

    @property
    def secret_names(self):
        return [o.name for o in self.options if o.secret]

    def validate(self, values, *, stored_secrets=None):
        """Validate options as entered; returns ``(options, secrets)``, cleaned.

        Secrets are write-only: an empty or missing secret keeps the stored one.
        Raises ValidationError with one message per option name.
        """
        values = dict(values or {})
        stored_secrets = stored_secrets or {}
        errors = {}
        for name in values:
            if name not in self.by_name:
                errors[name] = ValidationError(
                    _("Unbekannte Option „%(name)s“.") % {"name": name}, code="unknown_option"
                )
        options, secrets = {}, {}
        for option in self.options:
            value = values.get(option.name)
            if option.is_empty(value):
                if option.secret and stored_secrets.get(option.name):
                    secrets[option.name] = stored_secrets[option.name]
                elif option.default is not None:
                    options[option.name] = option.default
                elif option.required:
                    errors[option.name] = ValidationError(
                        _("Die Option „%(label)s“ fehlt.") % {"label": option.label}, code="required"
                    )
                continue
            try:
                cleaned = option.clean(value)
            except ValidationError as exc:
                errors[option.name] = exc
                continue
            (secrets if option.secret else options)[option.name] = cleaned
        if errors:
            raise ValidationError(errors)
        return options, secrets

    def json_schema(self):
        return {
            "type": "object",
            "properties": {o.name: o.json_schema() for o in self.options},
            "required": [o.name for o in self.options if o.required and o.default is None],
            "additionalProperties": False,
        }
