"""Rules of interface definitions that forms and the API share."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from otoorder.backends import registry
from otoorder.backends.exceptions import ConfigurationError

from .models import InterfaceDefinition
from .resolver import find_tie


def definitions_for_branch(branch):
    """Active definitions serving ``branch``, each with ``company_ids`` for the resolver."""
    definitions = list(
        InterfaceDefinition.objects.for_branch(branch)
        .select_related("supplier__company")
        .prefetch_related("companies")
    )
    for definition in definitions:
        definition.company_ids = {c.pk for c in definition.companies.all()}
    return definitions


def validate_definition(definition, *, company_ids, option_values):
    """Validate a definition before it is saved (form and API alike).

    Returns ``(options, secrets)`` cleaned by the backend's schema; raises ValidationError
    keyed by field (``options`` errors keyed ``options.<name>``) otherwise.
    """
    errors = {}
    if definition.branch_id and definition.branch.chain_id != definition.chain_id:
        errors["branch"] = _("Die Filiale gehört nicht zu dieser Filialkette.")
    try:
        backend_class = registry.get_backend_class(definition.backend)
    except ConfigurationError as exc:
        raise ValidationError({"backend": str(exc)}) from None
    if not backend_class.available:
        errors["backend"] = _("Die Schnittstelle „%(label)s“ ist noch nicht verfügbar.") % {
            "label": backend_class.label
        }
    options = secrets = {}
    if "backend" not in errors:
        try:
            options, secrets = backend_class.validate_options(
                option_values, stored_secrets=definition.secrets if definition.pk else {}
            )
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                errors[f"options.{name}"] = messages
    definition.company_ids = set(company_ids)
    others = InterfaceDefinition.objects.filter(chain_id=definition.chain_id, is_active=True).prefetch_related(
        "companies"
    )
    for other in others:
        other.company_ids = {c.pk for c in other.companies.all()}
    tie = find_tie(definition, others)
    if tie is not None:
        errors["companies"] = _(
            "Diese Definition würde mit „%(name)s“ gleichrangig konkurrieren (gleiche Filiale, "
            "gleiche Firmen, gleiches Startdatum). Ändern Sie Firmenbelegung, Filiale oder "
            "„aktiv ab“, oder deaktivieren Sie „%(name)s“."
        ) % {"name": tie.name}
    if errors:
        raise ValidationError(errors)
    return options, secrets
