"""The registry of ordering backends: key → dotted path, imported lazily.

Model choices derive from it. Adding an interface is one module and one line here
(see ``docs/interfaces/README.md``).
"""

from functools import cache

from django.utils.module_loading import import_string

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
    try:
        path, _label = BACKENDS[key]
    except KeyError:
        raise ConfigurationError(f"Unbekannte Schnittstelle „{key}“.") from None
    return import_string(path)


def all_backend_classes():
    return [get_backend_class(key) for key in BACKENDS]
