"""Demo data for ``make run``: a chain with two branches, two logins, labs, a template, customers.

Idempotent: every row is looked up by its natural key and written only when it is missing or
differs, so a second run changes nothing. Refuses to run outside demo mode, which settings
never enable in production.
"""

from datetime import date

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from branches.models import Branch, Chain, InterfaceDefinition, Membership, Role, SupplierAccount
from branches.services import validate_definition
from otoorder.backends.registry import STANDARD
from otoorder.transactions.models import Customer, StepType, TemplateStep, TransactionTemplate
from suppliers.models import Company, OrderMethod, Supplier

DEMO_PASSWORD = "otoorder-demo"
CHAIN_NAME = "Hörwelt Demo"

BRANCHES = {
    "Filiale Mitte": {
        "code": "MI",
        "street": "Marktplatz 3",
        "postal_code": "10117",
        "city": "Berlin",
        "phone": "030 5550100",
        "email": "mitte@hoerwelt-demo.test",
    },
    "Filiale Nord": {
        "code": "NO",
        "street": "Hafenstraße 21",
        "postal_code": "20459",
        "city": "Hamburg",
        "phone": "040 5550200",
        "email": "nord@hoerwelt-demo.test",
    },
}

# username: (first name, last name, role, branch or None for the whole chain)
USERS = {
    "demo-staff": ("Dana", "Demo", Role.STAFF, "Filiale Mitte"),
    "demo-admin": ("Armin", "Admin", Role.CHAIN_ADMIN, None),
}

# Labs and their supplier: every address is a sandbox one; e-mail goes to the demo mail sink.
LABS = {
    "Dreve": {"order_method": OrderMethod.EMAIL, "order_email": "bestellung@dreve.sandbox.test", "delivery_days": 7},
    "egger": {"order_method": OrderMethod.EMAIL, "order_email": "auftrag@egger.sandbox.test", "delivery_days": 8},
    "audia": {"order_method": OrderMethod.FAX, "fax_number": "+49 30 5550900", "delivery_days": 10},
    "Hörluchs": {"order_method": OrderMethod.PRINT, "delivery_days": 12},
    "Otoplastik Nord": {"order_method": OrderMethod.PHONE, "phone_number": "+49 40 5550990", "delivery_days": 5},
}

# Our account number (Kundennummer) at each lab, per branch.
ACCOUNTS = {
    "Filiale Mitte": {"Dreve": "D-104711", "egger": "E-22013", "audia": "A-7301", "Hörluchs": "HL-118"},
    "Filiale Nord": {"Dreve": "D-104712", "egger": "E-22014", "Otoplastik Nord": "ON-55"},
}

TEMPLATE_NAME = "Otoplastik"
# position: (step type, title, predefined lab)
TEMPLATE_STEPS = {
    1: (StepType.TASK, "Abdruck nehmen", None),
    2: (StepType.ORDER_SERVICE, "Otoplastik bestellen", "Dreve"),
    3: (StepType.TASK, "Wareneingang prüfen", None),
}

DEFINITION_NAME = "Dreve – Standard Bestellprozess"

# Invented people: first name, last name, birth date.
CUSTOMERS = {
    "Filiale Mitte": [
        ("Erika", "Mustermann", date(1949, 3, 12)),
        ("Max", "Mustermann", date(1946, 11, 2)),
        ("Hanna", "Beispiel", date(1958, 7, 24)),
    ],
    "Filiale Nord": [
        ("Jens", "Probst", date(1952, 1, 30)),
        ("Greta", "Testmann", date(1961, 9, 8)),
    ],
}


class Command(BaseCommand):
    help = "Load the demo chain, logins, labs, template and customers (demo mode only; idempotent)."

    def handle(self, *args, **options):
        if not settings.DEMO_MODE:
            raise CommandError("Demo data is available in demo mode only (never with DJANGO_ENV=production).")
        self.created = self.updated = 0
        try:
            with transaction.atomic():
                self.load()
        except ValidationError as exc:
            raise CommandError(f"Demo data conflicts with existing data: {exc.messages}") from exc
        self.stdout.write(f"Demo data: {self.created} created, {self.updated} updated.")

    def load(self):
        chain = self.upsert(Chain, {"name": CHAIN_NAME}, {})
        branches = {
            name: self.upsert(Branch, {"chain": chain, "name": name}, values) for name, values in BRANCHES.items()
        }
        for username, (first_name, last_name, role, branch_name) in USERS.items():
            self.user(username, first_name, last_name, role, chain, branches.get(branch_name))
        suppliers = {}
        for company_name, values in LABS.items():
            company = self.upsert(Company, {"name": company_name}, {"is_active": True})
            suppliers[company_name] = self.upsert(
                Supplier, {"company": company, "name": ""}, {"is_active": True, **values}
            )
        for branch_name, numbers in ACCOUNTS.items():
            for company_name, number in numbers.items():
                self.upsert(
                    SupplierAccount,
                    {"branch": branches[branch_name], "supplier": suppliers[company_name]},
                    {"account_number": number},
                )
        self.template(suppliers)
        self.dreve_definition(chain, suppliers["Dreve"])
        for branch_name, people in CUSTOMERS.items():
            for first_name, last_name, birth_date in people:
                self.upsert(
                    Customer,
                    {"branch": branches[branch_name], "first_name": first_name, "last_name": last_name},
                    {"birth_date": birth_date},
                )

    def upsert(self, model, lookup, values):
        """Get the row by its natural key; create it, or update only the fields that differ."""
        obj = model.objects.filter(**lookup).first()
        if obj is None:
            self.created += 1
            return model.objects.create(**lookup, **values)
        changed = [name for name, value in values.items() if getattr(obj, name) != value]
        if changed:
            for name in changed:
                setattr(obj, name, values[name])
            obj.save(update_fields=changed)
            self.updated += 1
        return obj

    def user(self, username, first_name, last_name, role, chain, branch):
        user = self.upsert(
            get_user_model(),
            {"username": username},
            {
                "first_name": first_name,
                "last_name": last_name,
                "email": f"{username}@hoerwelt-demo.test",
                "is_active": True,
                "is_staff": False,
                "is_superuser": False,
            },
        )
        if not user.check_password(DEMO_PASSWORD):
            # A new user has no usable password yet: that is part of creating it.
            self.updated += bool(user.password)
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        self.upsert(Membership, {"user": user, "chain": chain, "branch": branch}, {"role": role})

    def template(self, suppliers):
        template = self.upsert(TransactionTemplate, {"name": TEMPLATE_NAME}, {"is_active": True})
        for position, (step_type, title, lab) in TEMPLATE_STEPS.items():
            supplier = suppliers[lab] if lab else None
            self.upsert(
                TemplateStep,
                {"template": template, "position": position},
                {
                    "step_type": step_type,
                    "title": title,
                    "predefined_company": supplier.company if supplier else None,
                    "predefined_supplier": supplier,
                },
            )

    def dreve_definition(self, chain, dreve_supplier):
        """Dreve's orders go by the standard process to Dreve's own supplier, chain-wide."""
        definition = InterfaceDefinition.objects.filter(chain=chain, name=DEFINITION_NAME).first()
        is_new = definition is None
        definition = definition or InterfaceDefinition(chain=chain, name=DEFINITION_NAME)
        wanted = {
            "backend": STANDARD,
            "branch": None,
            "active_from": None,
            "supplier": dreve_supplier,
            "is_active": True,
        }
        changed = [name for name, value in wanted.items() if getattr(definition, name) != value]
        for name in changed:
            setattr(definition, name, wanted[name])
        company_ids = {dreve_supplier.company_id}
        options, secrets = validate_definition(definition, company_ids=company_ids, option_values={})
        if definition.options != options:
            definition.options = options
            changed.append("options")
        if is_new or changed:
            definition.secrets = secrets
            definition.save()
            self.created += is_new
            self.updated += not is_new
        if {c.pk for c in definition.companies.all()} != company_ids:
            definition.companies.set(company_ids)
            self.updated += not is_new
