"""Rules R0–R6 of the seed, through the order service and the database."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from branches.models import InterfaceDefinition
from branches.services import validate_definition
from otoorder.orders import services
from otoorder.orders.models import Dispatch, EarmouldOrder, OrderEvent
from otoorder.transactions.models import Transaction
from tests import factories as f
from tests.factories import bte_item
from tests.unavailable_backend import unavailable_backend  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


def counts():
    return EarmouldOrder.objects.count(), Dispatch.objects.count(), OrderEvent.objects.count()


def place(transaction_obj, company, supplier=None, user=None):
    return services.place_order(
        transaction_obj=transaction_obj, company=company, supplier=supplier, items=[bte_item("right")], user=user
    )


class TestR0Scope:
    def test_interface_definitions_have_no_workstation_scope(self):
        names = {field.name for field in InterfaceDefinition._meta.get_fields()}
        assert not {name for name in names if "workstation" in name or "computer" in name}

    def test_chain_wide_definition_serves_every_branch(self, chain, mitte, nord, dreve, dreve_supplier, template):
        definition = f.InterfaceDefinitionFactory(chain=chain, companies=[dreve], supplier=dreve_supplier)
        for branch in (mitte, nord):
            txn = f.TransactionFactory(customer=f.CustomerFactory(branch=branch), template=template)
            assert services.resolve_for(txn, dreve).definition == definition

    def test_branch_restricted_definition_serves_only_its_branch(self, chain, mitte, nord, dreve, dreve_supplier, template):
        f.InterfaceDefinitionFactory(chain=chain, branch=mitte, companies=[dreve], supplier=dreve_supplier)
        txn_nord = f.TransactionFactory(customer=f.CustomerFactory(branch=nord), template=template)
        resolution = services.resolve_for(txn_nord, dreve)
        assert resolution.definition is None

    def test_definition_with_future_start_is_not_used(self, chain, transaction_obj, dreve, dreve_supplier):
        f.InterfaceDefinitionFactory(
            chain=chain, companies=[dreve], supplier=dreve_supplier, active_from=timezone.localdate() + timedelta(days=1)
        )
        assert services.resolve_for(transaction_obj, dreve).definition is None


class TestR1NoCompanyNoOrder:
    def test_no_company_creates_nothing(self, transaction_obj, alice):
        before = counts()
        with pytest.raises(services.NoCompany):
            place(transaction_obj, None, user=alice)
        assert counts() == before


class TestR2CompanyToInterface:
    def test_company_specific_definition_has_priority_over_general(self, chain, transaction_obj, dreve, dreve_supplier, alice):
        wholesale = f.SupplierFactory(name="Großhandel")
        f.InterfaceDefinitionFactory(chain=chain, name="Allgemein", supplier=wholesale)
        specific = f.InterfaceDefinitionFactory(chain=chain, name="Dreve", companies=[dreve], supplier=dreve_supplier)
        order = place(transaction_obj, dreve, user=alice)
        assert order.interface_definition == specific
        assert order.supplier == dreve_supplier

    def test_general_definition_serves_companies_without_their_own(self, chain, transaction_obj, dreve, dreve_supplier, alice):
        egger = f.CompanyFactory(name="egger")
        wholesale = f.SupplierFactory(name="Großhandel")
        general = f.InterfaceDefinitionFactory(chain=chain, name="Allgemein", supplier=wholesale)
        f.InterfaceDefinitionFactory(chain=chain, name="Dreve", companies=[dreve], supplier=dreve_supplier)
        order = place(transaction_obj, egger, user=alice)
        assert order.interface_definition == general

    def test_no_definition_uses_the_standard_process(self, transaction_obj, dreve, dreve_supplier, alice):
        order = place(transaction_obj, dreve, supplier=dreve_supplier, user=alice)
        assert order.interface_definition is None
        assert order.backend == "standard"


class TestR3SupplierSet:
    def test_order_is_created_for_the_definition_s_supplier(self, chain, transaction_obj, dreve, dreve_supplier, alice):
        other = f.SupplierFactory(company=dreve, name="Dreve Großkunden")
        f.InterfaceDefinitionFactory(chain=chain, companies=[dreve], supplier=dreve_supplier)
        order = place(transaction_obj, dreve, supplier=other, user=alice)
        assert order.supplier == dreve_supplier


class TestR4NoSupplierMustChoose:
    def test_supplier_required_creates_nothing(self, chain, transaction_obj, dreve, dreve_supplier, alice):
        f.InterfaceDefinitionFactory(chain=chain, companies=[dreve], supplier=None)
        before = counts()
        with pytest.raises(services.SupplierRequired) as caught:
            place(transaction_obj, dreve, user=alice)
        assert counts() == before
        assert caught.value.context["candidates"][0] == dreve_supplier

    def test_chosen_supplier_creates_the_order(self, chain, transaction_obj, dreve, dreve_supplier, alice):
        definition = f.InterfaceDefinitionFactory(chain=chain, companies=[dreve], supplier=None)
        order = place(transaction_obj, dreve, supplier=dreve_supplier, user=alice)
        assert (order.interface_definition, order.supplier, order.status) == (definition, dreve_supplier, "queued")


class TestR5OneStepServesAllLabs:
    def test_one_order_service_step_reaches_each_company_s_interface(self, chain, template, transaction_obj, dreve, dreve_supplier, alice):
        egger = f.CompanyFactory(name="egger")
        egger_supplier = f.SupplierFactory(company=egger)
        d_dreve = f.InterfaceDefinitionFactory(chain=chain, name="Dreve", companies=[dreve], supplier=dreve_supplier)
        d_egger = f.InterfaceDefinitionFactory(chain=chain, name="egger", companies=[egger], supplier=egger_supplier)
        assert template.steps.filter(step_type="order_service").count() == 1
        assert place(transaction_obj, dreve, user=alice).interface_definition == d_dreve
        assert place(transaction_obj, egger, user=alice).interface_definition == d_egger


class TestR6PredefinedLab:
    def test_predefined_lab_is_copied_into_the_transaction(self, customer, dreve, dreve_supplier):
        template = f.TemplateFactory(name="Otoplastik R6", steps__company=dreve, steps__supplier=dreve_supplier)
        txn = Transaction.objects.start(customer=customer, template=template)
        step = txn.order_service_step
        assert (step.predefined_company, step.predefined_supplier) == (dreve, dreve_supplier)

    def test_template_edits_do_not_change_running_transactions(self, customer, dreve, dreve_supplier):
        template = f.TemplateFactory(name="Otoplastik R6b", steps__company=dreve, steps__supplier=dreve_supplier)
        txn = Transaction.objects.start(customer=customer, template=template)
        template.steps.update(title="geändert", predefined_company=None)
        step = txn.steps.get(step_type="order_service")
        assert step.title == "Otoplastik bestellen" and step.predefined_company == dreve


class TestTieRefusedAtSave:
    def test_second_definition_that_would_tie_is_refused_naming_the_first(self, chain, dreve, dreve_supplier):
        f.InterfaceDefinitionFactory(chain=chain, name="Dreve Standard", companies=[dreve], supplier=dreve_supplier)
        second = InterfaceDefinition(chain=chain, name="Dreve zweite", backend="standard")
        with pytest.raises(ValidationError) as caught:
            validate_definition(second, company_ids=[dreve.pk], option_values={})
        assert "Dreve Standard" in " ".join(caught.value.message_dict["companies"])

    def test_unavailable_backend_is_refused(self, chain, unavailable_backend):
        definition = InterfaceDefinition(chain=chain, name="Dreve API", backend=unavailable_backend)
        with pytest.raises(ValidationError) as caught:
            validate_definition(definition, company_ids=[], option_values={})
        assert "noch nicht verfügbar" in " ".join(caught.value.message_dict["backend"])

    def test_unknown_option_is_named(self, chain):
        definition = InterfaceDefinition(chain=chain, name="Std", backend="standard")
        with pytest.raises(ValidationError) as caught:
            validate_definition(definition, company_ids=[], option_values={"smtp_passwort": "x"})
        assert "smtp_passwort" in " ".join(caught.value.message_dict["options.smtp_passwort"])


@pytest.mark.django_db
@pytest.mark.parametrize(
    "header, field",
    [
        ({"cost_bearer": "insurer"}, "cost_bearer"),
        ({"cost_amount": "zwölf"}, "cost_amount"),
        ({"cost_amount": "-1"}, "cost_amount"),
        ({"reason_category": "colour"}, "reason_category"),
    ],
)
def test_header_refuses_unknown_cost_bearer_amount_and_category(header, field):
    from otoorder.orders.services import clean_header

    with pytest.raises(ValidationError) as exc:
        clean_header(header, customer_id=None, supplier=None)
    assert field in exc.value.message_dict


def test_amount_accepts_german_decimal_comma():
    from decimal import Decimal

    from otoorder.orders.services import clean_amount

    assert clean_amount("45,5") == Decimal("45.50")
    assert clean_amount("") is None
