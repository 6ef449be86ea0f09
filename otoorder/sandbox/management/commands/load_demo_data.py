"""Demo data for ``make run``: a chain with two branches, two logins, labs, a template, customers,
and a history of orders and complaints (``otoorder/sandbox/history.py``) for the lab scorecards.

Besides the labs of the Standard Bestellprozess (e-mail, fax, print, phone), one lab per
ordering interface is configured against the sandbox lab that ``make run`` starts
(``otoorder/sandbox/``), and the sandbox's own configuration is written to
``var/sandbox.json`` — so every interface works without a lab account.

Idempotent: every row is looked up by its natural key and written only when it is missing or
differs, so a second run changes nothing. Refuses to run outside demo mode, which settings
never enable in production.
"""

import os
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from branches.models import Branch, Chain, InterfaceDefinition, Membership, Role, SupplierAccount
from branches.services import validate_definition
from otoorder.backends.registry import STANDARD
from otoorder.backends.transports.files import exchange_root
from otoorder.backends.transports.subprocess import allowed_folders
from otoorder.notifications.overdue import notify_overdue
from otoorder.orders.choices import EventSource, OrderStatus
from otoorder.orders import parcels
from otoorder.orders.models import EarmouldOrder, Impression, OrderEvent, OrderItem, Parcel
from otoorder.orders.schedule import compute_eta
from otoorder.sandbox import history
from otoorder.sandbox.config import write_config
from otoorder.transactions.models import Customer, StepType, TemplateStep, Transaction, TransactionTemplate
from otoorder.vocabulary import Carrier, GermanState, ImpressionKind, Material, Style, Tube
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
        "state": GermanState.BE,
    },
    "Filiale Nord": {
        "code": "NO",
        "street": "Hafenstraße 21",
        "postal_code": "20459",
        "city": "Hamburg",
        "phone": "040 5550200",
        "email": "nord@hoerwelt-demo.test",
        "state": GermanState.HH,
    },
}

# username: (first name, last name, role, branch or None for the whole chain)
USERS = {
    "demo-staff": ("Dana", "Demo", Role.STAFF, "Filiale Mitte"),
    "demo-admin": ("Armin", "Admin", Role.CHAIN_ADMIN, None),
}

# Labs and their supplier: every address is a sandbox one; e-mail goes to the demo mail sink.
LABS = {
    "Dreve": {
        "order_method": OrderMethod.EMAIL,
        "order_email": "bestellung@dreve.sandbox.test",
        "delivery_days": 7,
        "turnaround_days": 6,
        "shipping_days": 1,
        "carrier": Carrier.DHL,
    },
    "egger": {
        "order_method": OrderMethod.EMAIL,
        "order_email": "auftrag@egger.sandbox.test",
        "delivery_days": 8,
        "shipping_days": 2,
        "carrier": Carrier.DPD,
    },
    "audia": {"order_method": OrderMethod.FAX, "fax_number": "+49 30 5550900", "delivery_days": 10},
    "Hörluchs": {
        "order_method": OrderMethod.PRINT,
        "phone_number": "+49 711 5550180",
        "fax_number": "+49 711 5550189",
        "delivery_days": 12,
    },
    "Otoplastik Nord": {"order_method": OrderMethod.PHONE, "phone_number": "+49 40 5550990", "delivery_days": 5},
}

# Our account number (Kundennummer) at each lab, per branch.
ACCOUNTS = {
    "Filiale Mitte": {"Dreve": "D-104711", "egger": "E-22013", "audia": "A-7301", "Hörluchs": "HL-118"},
    "Filiale Nord": {"Dreve": "D-104712", "egger": "E-22014", "Otoplastik Nord": "ON-55"},
}

#: Orders already at the lab, to show the ETA: (number, branch, customer, lab, status, days since
#: sending, date required in days from the load, tracking number). Created once, never updated.
SCHEDULE_ORDERS = [
    ("DEMO-UEBERFAELLIG", "Filiale Mitte", ("Erika", "Mustermann"), "Dreve", OrderStatus.CONFIRMED, 16, None, ""),
    ("DEMO-GEFAEHRDET", "Filiale Mitte", ("Hanna", "Beispiel"), "egger", OrderStatus.IN_PRODUCTION, 1, 4, ""),
    ("DEMO-VERSANDT", "Filiale Mitte", ("Max", "Mustermann"), "Dreve", OrderStatus.SHIPPED, 8, None, "00340434161094015902"),
    # Shipped long enough ago to be at the branch by now: "Wareneingang offen" on the start page.
    ("DEMO-ANGEKOMMEN", "Filiale Mitte", ("Hanna", "Beispiel"), "Dreve", OrderStatus.SHIPPED, 14, None, "00340434161094033335"),
    # Received at the branch, not yet fitted: "Anpassung offen".
    ("DEMO-ANPASSUNG", "Filiale Mitte", ("Erika", "Mustermann"), "Dreve", OrderStatus.RECEIVED, 15, None, ""),
    # Hörluchs takes orders on paper: printed, waiting for staff to confirm it went out ("wird bestellt").
    ("DEMO-DRUCK", "Filiale Mitte", ("Max", "Mustermann"), "Hörluchs", OrderStatus.AWAITING_MANUAL, 0, None, ""),
]

#: Orders whose impressions came by post (number, customer, ears, status, days since sending) and
#: the parcels they travel in (tracking number, orders, received by the lab): DEMO-ABDRUCK's
#: impressions are still to be packed on the parcel page.
PARCEL_ORDERS = [
    ("DEMO-PAKET-1", ("Erika", "Mustermann"), ("right", "left"), OrderStatus.ORDERED, 1),
    ("DEMO-PAKET-2", ("Hanna", "Beispiel"), ("right",), OrderStatus.ORDERED, 1),
    ("DEMO-PAKET-ALT", ("Max", "Mustermann"), ("left",), OrderStatus.IN_PRODUCTION, 5),
    ("DEMO-ABDRUCK", ("Max", "Mustermann"), ("right", "left"), OrderStatus.ORDERED, 0),
]
DEMO_PARCELS = [
    ("00340434161094027318", ("DEMO-PAKET-1", "DEMO-PAKET-2"), False),
    ("00340434161094011206", ("DEMO-PAKET-ALT",), True),
]

TEMPLATE_NAME = "Otoplastik"
# position: (step type, title, predefined lab)
TEMPLATE_STEPS = {
    1: (StepType.IMPRESSION, "Abdruck nehmen", None),
    2: (StepType.ORDER_SERVICE, "Otoplastik bestellen", "Dreve"),
    3: (StepType.GOODS_RECEIPT, "Wareneingang prüfen", None),
}

DEFINITION_NAME = "Dreve – Standard Bestellprozess"

SANDBOX_URL_ENV = "OTOORDER_SANDBOX_URL"
DEFAULT_SANDBOX_URL = "http://127.0.0.1:8700"
#: Where otoorder itself answers, for the sandbox's egger pushes (make run sets it from PORT).
BASE_URL_ENV = "OTOORDER_BASE_URL"
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
SANDBOX_BIN = settings.BASE_DIR / "otoorder" / "sandbox" / "bin"
DEMO_PROGRAM = SANDBOX_BIN / "demo-lab-order"
DEMO_CANCEL_PROGRAM = SANDBOX_BIN / "demo-lab-cancel"
OTOPORT_OUTBOX, OTOPORT_INBOX = "otoport/out", "otoport/in"

# Demo credentials of the sandbox lab: not secret, the sandbox runs on loopback in demo mode only.
SANDBOX_SECRETS = {
    "dreve_smartorder": {"api_key": "sandbox-dreve-key"},
    "audia_easy_order": {"password": "sandbox-audia"},
    "audia_easy_order_portal": {"shared_secret": "sandbox-audia-portal-secret"},
    "egger_erp": {"password": "sandbox-egger", "shared_secret": "sandbox-egger-secret"},
    "egger_bestellsystem": {"shared_secret": "sandbox-egger-portal-secret"},
    "hoerluchs_partner": {"password": "sandbox-hoerluchs"},
    "otofaktur_otoport": {},
    "command_line": {},
}


def sandbox_options(backend, sandbox_url):
    """The options (not the secrets) of each interface, pointing at the sandbox lab."""
    return {
        "dreve_smartorder": {"endpoint_url": f"{sandbox_url}/dreve/api/v1"},
        "audia_easy_order": {"endpoint_url": f"{sandbox_url}/audia/api", "username": "hoerwelt-demo"},
        "audia_easy_order_portal": {"portal_url": f"{sandbox_url}/audia-portal/"},
        "egger_erp": {"endpoint_url": f"{sandbox_url}/egger/erp", "username": "hoerwelt-demo", "buyer_id": "HW-DEMO"},
        "egger_bestellsystem": {"portal_url": f"{sandbox_url}/egger-portal/"},
        "hoerluchs_partner": {"endpoint_url": f"{sandbox_url}/hoerluchs/api", "username": "hoerwelt-demo"},
        "otofaktur_otoport": {"outbox_dir": OTOPORT_OUTBOX, "inbox_dir": OTOPORT_INBOX},
        "command_line": {
            "executable": str(DEMO_PROGRAM),
            "arguments": ["{order_id}", "{order_file}"],
            "cancel_command": str(DEMO_CANCEL_PROGRAM),
            "cancel_arguments": ["{order_id}", "{order_file}", "{idempotency_key}", "{reason}"],
        },
    }[backend]


# One lab per interface (company = its only supplier), configured against the sandbox lab:
# company name → (backend, account number at Filiale Mitte, at Filiale Nord).
INTERFACE_LABS = {
    "Dreve SmartOrder": ("dreve_smartorder", "DS-104711", "DS-104712"),
    "audia Easy Order": ("audia_easy_order", "AE-7301", "AE-7302"),
    "audia Portal": ("audia_easy_order_portal", "AP-7301", "AP-7302"),
    "egger ERP": ("egger_erp", "E-22013", "E-22014"),
    "egger (alt)": ("egger_bestellsystem", "EA-22013", "EA-22014"),
    "Hörluchs Partner": ("hoerluchs_partner", "HLP-118", "HLP-119"),
    "Otofaktur Labor": ("otofaktur_otoport", "OF-501", "OF-502"),
    "Labor Skript": ("command_line", "LS-1", "LS-2"),
}

# Invented people: first name, last name, birth date.
CUSTOMERS = {
    "Filiale Mitte": [
        ("Erika", "Mustermann", date(1949, 3, 12)),
        ("Max", "Mustermann", date(1946, 11, 2)),
        ("Hanna", "Beispiel", date(1958, 7, 24)),
        ("Walter", "Muster", date(1941, 5, 17)),
        ("Ingrid", "Probe", date(1944, 12, 3)),
        ("Klaus", "Exempel", date(1955, 2, 14)),
    ],
    "Filiale Nord": [
        ("Jens", "Probst", date(1952, 1, 30)),
        ("Greta", "Testmann", date(1961, 9, 8)),
        ("Uwe", "Vorlage", date(1950, 8, 21)),
        ("Renate", "Entwurf", date(1947, 4, 9)),
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
        sandbox = self.interface_labs(chain, branches)
        for branch_name, people in CUSTOMERS.items():
            for first_name, last_name, birth_date in people:
                self.upsert(
                    Customer,
                    {"branch": branches[branch_name], "first_name": first_name, "last_name": last_name},
                    {"birth_date": birth_date},
                )
        self.schedule_orders(branches, suppliers)
        self.parcels(branches, suppliers)
        self.created += history.load(
            chain=chain,
            branches=branches,
            suppliers=suppliers,
            users={
                "Filiale Mitte": get_user_model().objects.get(username="demo-staff"),
                "Filiale Nord": get_user_model().objects.get(username="demo-admin"),
            },
            template=TransactionTemplate.objects.get(name=TEMPLATE_NAME),
            definition=InterfaceDefinition.objects.filter(name=DEFINITION_NAME).first(),
        )
        # The bell of demo-staff: the demo orders' events notify after commit (confirmed,
        # shipped); the overdue one is told today rather than at beat's next hour.
        notify_overdue()
        if write_config(settings.VAR_DIR / "sandbox.json", sandbox):
            self.stdout.write(f"Sandbox lab configuration written to {settings.VAR_DIR / 'sandbox.json'}.")

    def schedule_orders(self, branches, suppliers):
        """Orders at the lab that are overdue, at risk, shipped (with a tracking link), due at the
        branch and received, so that every count of the start page has an order.

        Recorded as sent by the standard process (no outbox row: no worker touches them), once:
        an existing demo order is left as it is, however old it has become.
        """
        for number, branch_name, (first, last), lab, status, days_ago, required_in, tracking in SCHEDULE_ORDERS:
            if EarmouldOrder.objects.filter(number=number).exists():
                continue
            order = self.order_at_lab(
                number, branches[branch_name], (first, last), suppliers[lab], status, days_ago, required_in, tracking
            )
            OrderItem.objects.create(
                order=order, side="right", style=Style.FULL_SHELL, material=Material.ACRYLIC, tube=Tube.STANDARD,
                serial_number="R-2611-0815" if status == OrderStatus.RECEIVED else "",
            )  # fmt: skip

    def order_at_lab(self, number, branch, name, supplier, status, days_ago, required_in=None, tracking=""):
        """An order recorded as sent by the standard process (no outbox row: no worker touches it)."""
        template = TransactionTemplate.objects.get(name=TEMPLATE_NAME)
        staff = get_user_model().objects.get(username="demo-staff")
        definition = InterfaceDefinition.objects.filter(name=DEFINITION_NAME).first()
        now = timezone.now()
        customer = Customer.objects.get(branch=branch, first_name=name[0], last_name=name[1])
        txn = Transaction.objects.start(customer=customer, template=template, user=staff)
        order = EarmouldOrder(
            number=number,
            transaction=txn,
            step=txn.order_service_step,
            customer=customer,
            branch=branch,
            company=supplier.company,
            supplier=supplier,
            interface_definition=definition if supplier.company.name == "Dreve" else None,
            backend=STANDARD,
            status=status,
            prescriber=staff,
            created_by=staff,
            ordered_at=None if status == OrderStatus.AWAITING_MANUAL else now - timedelta(days=days_ago),
            date_required=timezone.localdate() + timedelta(days=required_in) if required_in is not None else None,
            tracking_number=tracking,
            shipped_at=now - timedelta(days=max(1, days_ago - 7)) if status in (OrderStatus.SHIPPED, OrderStatus.RECEIVED) else None,
            received_at=now - timedelta(days=1) if status == OrderStatus.RECEIVED else None,
        )
        order.eta = compute_eta(order)
        order.save()
        self.created += 1
        OrderEvent.objects.create(
            order=order,
            from_status=OrderStatus.QUEUED,
            to_status=status,
            source=EventSource.SYSTEM,
            message="Demodaten: Bestellung beim Labor.",
            data={"code": "demo_data", "params": {}},
        )
        return order

    def parcels(self, branches, suppliers):
        """Impression logistics: orders whose impressions came by post, one open parcel (on its
        way to Dreve), one closed by the lab's receipt, and impressions still to be packed.
        Created once through the parcel services, like staff and the lab would."""
        staff = get_user_model().objects.get(username="demo-staff")
        branch, dreve = branches["Filiale Mitte"], suppliers["Dreve"]
        for number, name, sides, status, days_ago in PARCEL_ORDERS:
            if EarmouldOrder.objects.filter(number=number).exists():
                continue
            order = self.order_at_lab(number, branch, name, dreve, status, days_ago)
            for side in sides:
                impression = Impression.objects.create(
                    customer=order.customer, side=side, kind=ImpressionKind.PHYSICAL, uploaded_by=staff
                )
                OrderItem.objects.create(
                    order=order, side=side, style=Style.FULL_SHELL, material=Material.ACRYLIC, tube=Tube.STANDARD,
                    impression=impression,
                )  # fmt: skip
        for tracking, numbers, received in DEMO_PARCELS:
            if Parcel.objects.filter(tracking_number=tracking).exists():
                continue
            impressions = list(
                Impression.objects.filter(items__order__number__in=numbers, parcel_item__isnull=True).values_list("pk", flat=True)
            )
            if not impressions:
                continue
            parcels.create_parcel(user=staff, supplier=dreve, impressions=impressions, carrier=Carrier.DHL, tracking_number=tracking)
            self.created += 1
            if received:
                for order in EarmouldOrder.objects.filter(number__in=numbers):
                    parcels.record_lab_receipt(order, list(order.items.values_list("side", flat=True)))

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
        self.definition(chain, DEFINITION_NAME, STANDARD, dreve_supplier, {})

    def interface_labs(self, chain, branches):
        """One lab per interface against the sandbox; returns the sandbox's configuration."""
        sandbox_url = os.environ.get(SANDBOX_URL_ENV, DEFAULT_SANDBOX_URL).rstrip("/")
        definitions = {}
        for company_name, (backend, *numbers) in INTERFACE_LABS.items():
            if not self.usable_here(backend):
                continue
            company = self.upsert(Company, {"name": company_name}, {"is_active": True})
            supplier = self.upsert(
                Supplier,
                {"company": company, "name": ""},
                {"is_active": True, "order_method": OrderMethod.INTERFACE, "delivery_days": 7},
            )
            for branch, number in zip(branches.values(), numbers):
                self.upsert(SupplierAccount, {"branch": branch, "supplier": supplier}, {"account_number": number})
            option_values = {**sandbox_options(backend, sandbox_url), **SANDBOX_SECRETS[backend]}
            definitions[backend] = self.definition(
                chain, f"{company_name} (Sandbox-Labor)", backend, supplier, option_values
            )
        return self.sandbox_config(definitions)

    def usable_here(self, backend):
        """Command line and file exchange need the operator's settings that make run sets."""
        if backend == "command_line" and str(os.path.realpath(SANDBOX_BIN)) not in allowed_folders():
            self.stdout.write(f"Skipped the command-line lab: OTOORDER_COMMAND_ALLOWLIST does not contain {SANDBOX_BIN}.")
            return False
        if backend == "otofaktur_otoport" and not exchange_root():
            self.stdout.write("Skipped the Otoport lab: OTOORDER_EXCHANGE_ROOT is not set.")
            return False
        return True

    def sandbox_config(self, definitions):
        def secret(backend, name):
            return SANDBOX_SECRETS[backend][name]

        config = {
            "otoorder_url": os.environ.get(BASE_URL_ENV, DEFAULT_BASE_URL).rstrip("/"),
            "dreve": {"api_key": secret("dreve_smartorder", "api_key")},
            "audia": {"username": "hoerwelt-demo", "password": secret("audia_easy_order", "password")},
            "hoerluchs": {"username": "hoerwelt-demo", "password": secret("hoerluchs_partner", "password")},
            "egger": {
                "username": "hoerwelt-demo",
                "password": secret("egger_erp", "password"),
                "definition_id": str(definitions["egger_erp"].pk),
                "shared_secret": secret("egger_erp", "shared_secret"),
            },
            "portals": {
                "audia": {"shared_secret": secret("audia_easy_order_portal", "shared_secret")},
                "egger": {"shared_secret": secret("egger_bestellsystem", "shared_secret")},
            },
        }
        if "otofaktur_otoport" in definitions:
            root = exchange_root()
            config["otoport"] = {
                "outbox": os.path.join(root, OTOPORT_OUTBOX),
                "inbox": os.path.join(root, OTOPORT_INBOX),
            }
        return config

    def definition(self, chain, name, backend, supplier, option_values):
        """A chain-wide definition for ``supplier``'s company, created or brought up to date."""
        definition = InterfaceDefinition.objects.filter(chain=chain, name=name).first()
        is_new = definition is None
        definition = definition or InterfaceDefinition(chain=chain, name=name)
        wanted = {
            "backend": backend,
            "branch": None,
            "active_from": None,
            "supplier": supplier,
            "is_active": True,
        }
        changed = [name for name, value in wanted.items() if getattr(definition, name) != value]
        for name in changed:
            setattr(definition, name, wanted[name])
        company_ids = {supplier.company_id}
        options, secrets = validate_definition(definition, company_ids=company_ids, option_values=option_values)
        if definition.options != options:
            definition.options = options
            changed.append("options")
        if definition.secrets != secrets:
            definition.secrets = secrets
            changed.append("secrets")
        if is_new or changed:
            definition.save()
            self.created += is_new
            self.updated += not is_new
        if {c.pk for c in definition.companies.all()} != company_ids:
            definition.companies.set(company_ids)
            self.updated += not is_new
        return definition
