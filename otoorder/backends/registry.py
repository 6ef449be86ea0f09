"""The registry of ordering backends: key → dotted path, imported lazily.

Model choices derive from it. Adding an interface is one module and one line here
(see ``docs/interfaces/README.md``).
"""

from functools import cache

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from .base import CAPABILITIES, ITEM_FIELDS, BaseBackend, overrides
from .exceptions import ConfigurationError

BACKENDS = {
    "standard": ("otoorder.backends.standard.StandardBackend", "Standard Bestellprozess"),
    "audia_easy_order": ("otoorder.backends.audia_easy_order.AudiaEasyOrderBackend", "Audia Easy Order"),
    "audia_easy_order_portal": (
        "otoorder.backends.audia_easy_order_portal.AudiaEasyOrderPortalBackend",
        "Audia Easy Order Web-Portal",
    ),
    "dreve_smartorder": ("otoorder.backends.dreve_smartorder.DreveSmartOrderBackend", "Dreve SmartOrder"),
    "egger_bestellsystem": (
        "otoorder.backends.egger_bestellsystem.EggerBestellsystemBackend",
        "Egger Bestellsystem",
    ),
    "egger_erp": ("otoorder.backends.egger_erp.EggerErpBackend", "Egger ERP Bestellung"),
    "hoerluchs_partner": (
        "otoorder.backends.hoerluchs_partner.HoerluchsPartnerBackend",
        "Hörluchs-Partner Bestell-System",
    ),
    "command_line": ("otoorder.backends.command_line.CommandLineBackend", "Kommandozeilenbefehl"),
    "otofaktur_otoport": ("otoorder.backends.otofaktur_otoport.OtofakturOtoportBackend", "Otofaktur Otoport"),
}

STANDARD = "standard"


def choices():
    """Model/form choices; a callable so migrations do not change with the registry."""
    return [(key, label) for key, (_path, label) in BACKENDS.items()]


def label(key):
    try:
        return BACKENDS[key][1]
    except KeyError:
        return key


@cache
def get_backend_class(key):
    """The backend class registered under ``key``, checked against the protocol.

    An unknown key is a ``ConfigurationError`` (a definition names a backend that is gone);
    a registered class that breaks the protocol is a developer's error, ``ImproperlyConfigured``.
    """
    try:
        path, registered_label = BACKENDS[key]
    except KeyError:
        raise ConfigurationError(code="unknown_backend", params={"key": key}) from None
    backend_class = import_string(path)
    check_backend_class(backend_class, key, registered_label)
    return backend_class


def check_backend_class(backend_class, key, registered_label):
    """Refuse a class that is no backend, lacks ``key``/``label`` or misdeclares a capability."""
    name = getattr(backend_class, "__qualname__", repr(backend_class))
    if not (isinstance(backend_class, type) and issubclass(backend_class, BaseBackend)):
        raise ImproperlyConfigured(f"Backend {key!r}: {name} is not a subclass of BaseBackend.")
    if not backend_class.key or not backend_class.label:
        raise ImproperlyConfigured(f"Backend {key!r}: {name} must set both `key` and `label`.")
    if backend_class.key != key:
        raise ImproperlyConfigured(f"Backend {key!r}: {name}.key is {backend_class.key!r}.")
    if str(backend_class.label) != str(registered_label):
        raise ImproperlyConfigured(
            f"Backend {key!r}: {name}.label {str(backend_class.label)!r} differs from the registry's "
            f"{registered_label!r}."
        )
    for flag, hooks in CAPABILITIES.items():
        missing = [hook for hook in hooks if getattr(backend_class, flag) and not overrides(backend_class, hook)]
        if missing:
            raise ImproperlyConfigured(
                f"Backend {key!r}: {name} declares {flag} but does not implement {', '.join(missing)}()."
            )
    unknown = set(backend_class.refused_item_fields) - set(ITEM_FIELDS)
    if unknown:
        raise ImproperlyConfigured(f"Backend {key!r}: refused_item_fields names no item field: {sorted(unknown)}.")


def all_backend_classes():
    return [get_backend_class(key) for key in BACKENDS]
