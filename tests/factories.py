"""factory_boy factories for the whole suite."""

import factory
from django.contrib.auth import get_user_model

from branches.models import Branch, Chain, InterfaceDefinition, Membership, Role, SupplierAccount
from otoorder.transactions.models import Customer, StepType, TemplateStep, Transaction, TransactionTemplate
from suppliers.models import Company, OrderMethod, Supplier

PASSWORD = "test-password-1"


class ChainFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Chain
        django_get_or_create = ("name",)

    name = "Hörwelt"


class BranchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Branch

    chain = factory.SubFactory(ChainFactory)
    name = factory.Sequence(lambda n: f"Filiale {n}")
    street = "Hauptstraße 1"
    postal_code = "10115"
    city = "Berlin"
    email = factory.Sequence(lambda n: f"filiale{n}@hoerwelt.test")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    # Never the customer fixture's "Erika": staff names reach the lab (the prescriber), and the
    # privacy checks look for the customer's name in what the lab receives.
    first_name = factory.Faker("first_name_male", locale="de_DE")
    last_name = factory.Faker("last_name", locale="de_DE")

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.set_password(extracted or PASSWORD)
        if create:
            self.save(update_fields=["password"])


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    branch = factory.SubFactory(BranchFactory)
    chain = factory.LazyAttribute(lambda m: m.branch.chain if m.branch else ChainFactory())
    role = Role.STAFF


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Labor {n}")


class SupplierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Supplier

    company = factory.SubFactory(CompanyFactory)
    order_method = OrderMethod.EMAIL
    order_email = factory.Sequence(lambda n: f"bestellung{n}@labor.test")


class SupplierAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SupplierAccount

    branch = factory.SubFactory(BranchFactory)
    supplier = factory.SubFactory(SupplierFactory)
    account_number = factory.Sequence(lambda n: f"K{40000 + n}")


class InterfaceDefinitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InterfaceDefinition
        skip_postgeneration_save = True

    chain = factory.SubFactory(ChainFactory)
    name = factory.Sequence(lambda n: f"Definition {n}")
    backend = "standard"

    @factory.post_generation
    def companies(self, create, extracted, **kwargs):
        if create and extracted:
            self.companies.set(extracted)


PORTAL_URL = "https://portal.audia.example/otoorder"
PORTAL_SECRET = "portal-geheimnis-2"


def portal_definition(chain, company, supplier):
    """audia's web portal for ``company``, ordering at ``supplier`` (signed with ``PORTAL_SECRET``)."""
    return InterfaceDefinitionFactory(
        chain=chain,
        name="audia Portal",
        backend="audia_easy_order_portal",
        companies=[company],
        supplier=supplier,
        options={"portal_url": PORTAL_URL},
        secrets={"shared_secret": PORTAL_SECRET},
    )


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    branch = factory.SubFactory(BranchFactory)
    first_name = factory.Faker("first_name", locale="de_DE")
    last_name = factory.Faker("last_name", locale="de_DE")


class TemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TransactionTemplate
        django_get_or_create = ("name",)
        skip_postgeneration_save = True

    name = "Otoplastik"

    @factory.post_generation
    def steps(self, create, extracted, **kwargs):
        if not create or self.steps.exists():
            return
        TemplateStep.objects.create(template=self, position=1, title="Abdruck nehmen")
        TemplateStep.objects.create(
            template=self,
            position=2,
            step_type=StepType.ORDER_SERVICE,
            title="Otoplastik bestellen",
            predefined_company=kwargs.get("company"),
            predefined_supplier=kwargs.get("supplier"),
        )


class TransactionFactory(factory.django.DjangoModelFactory):
    """Starts a transaction the way the application does: steps copied from the template."""

    class Meta:
        model = Transaction

    customer = factory.SubFactory(CustomerFactory)
    template = factory.SubFactory(TemplateFactory)

    @classmethod
    def _create(cls, model_class, customer, template, **kwargs):
        return Transaction.objects.start(customer=customer, template=template, user=kwargs.get("started_by"))


def bte_item(side="right", **overrides):
    """A complete behind-the-ear mould item as the API and services take it."""
    return {
        "side": side,
        "product_family": "bte",
        "style": "shell",
        "material": "acrylic",
        "colour": "transparent",
        "vent_type": "parallel",
        "vent_diameter_mm": "1.5",
        "tube": "standard_2_1",
        **overrides,
    }


def ric_item(side="left", **overrides):
    return {
        "side": side,
        "product_family": "ric",
        "style": "canal",
        "material": "silicone",
        "colour": "beige",
        "vent_type": "none",
        "receiver_power": "M",
        "receiver_length": 2,
        **overrides,
    }


def bulk_orders(transaction_obj, supplier, count, *, sides=("right", "left"), prefix="WL", start=1, **fields):
    """``count`` orders of one transaction in two queries (orders, then their ears) for lists
    that must not grow with their rows; ``fields`` set on every order (status, eta, ...)."""
    from otoorder.orders.models import EarmouldOrder, OrderItem

    orders = EarmouldOrder.objects.bulk_create(
        EarmouldOrder(
            number=f"{prefix}-{start + n:06d}",
            transaction=transaction_obj,
            customer=transaction_obj.customer,
            branch=transaction_obj.branch,
            company=supplier.company,
            supplier=supplier,
            backend="standard",
            **fields,
        )
        for n in range(count)
    )
    OrderItem.objects.bulk_create(
        OrderItem(order=order, side=side, style="shell", material="acrylic") for order in orders for side in sides
    )
    return orders
