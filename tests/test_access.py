"""The one access rule (``branches/access.py``) by role, for every model built on it.

One chain with the branches Mitte and Nord (fixtures of conftest.py) and a second chain: staff
see their branch, a chain admin the whole chain, a superuser everything, an anonymous user
nothing; definitions and account numbers only those who administer them.
"""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import SimpleUploadedFile

from branches.access import Role
from branches.models import Branch, InterfaceDefinition, SupplierAccount
from branches.scope import admin_scope
from otoorder.orders import attachments, scans, services
from otoorder.orders.models import EarmouldOrder, Impression, OrderAttachment
from otoorder.transactions.models import Customer, Transaction
from tests import factories as f
from tests import scan_files
from tests.factories import bte_item

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"


def branch_rows(branch, template, company, supplier, user):
    """One row of every branch-owned model, in ``branch``."""
    customer = f.CustomerFactory(branch=branch)
    transaction = f.TransactionFactory(customer=customer, template=template, started_by=user)
    order = services.place_order(
        transaction_obj=transaction, company=company, supplier=supplier, items=[bte_item("right")], user=user
    )
    impression = scans.create_impression(
        customer=customer,
        side="right",
        kind="scan",
        upload=SimpleUploadedFile("rechts.stl", scan_files.stl_binary()),
        user=user,
    )
    attachment = attachments.add_attachment(order, SimpleUploadedFile("a.pdf", PDF), user=user)
    return {
        Branch: branch,
        Customer: customer,
        Transaction: transaction,
        EarmouldOrder: order,
        Impression: impression,
        OrderAttachment: attachment,
    }


@pytest.fixture
def world(chain, mitte, nord, alice, bob, dave, dreve, dreve_supplier, template):
    other_chain = f.ChainFactory(name="Andere Kette")
    elsewhere = f.BranchFactory(chain=other_chain, name="Filiale Süd")
    return {
        "mitte": branch_rows(mitte, template, dreve, dreve_supplier, alice),
        "nord": branch_rows(nord, template, dreve, dreve_supplier, bob),
        "elsewhere": branch_rows(elsewhere, template, dreve, dreve_supplier, alice),
    }


def seen(model, user):
    return set(model.objects.visible_to(user))


@pytest.mark.parametrize("model", [Branch, Customer, Transaction, EarmouldOrder, Impression, OrderAttachment])
def test_rows_of_a_branch_by_role(world, model, alice, carol, dave):
    mitte, nord, elsewhere = (world[name][model] for name in ("mitte", "nord", "elsewhere"))
    superuser = f.UserFactory(is_superuser=True)
    assert seen(model, alice) == {mitte}  # staff: their branch
    assert seen(model, carol) == {mitte}  # branch admin: their branch
    assert seen(model, dave) == {mitte, nord}  # chain admin: the chain, not another chain
    assert seen(model, superuser) >= {mitte, nord, elsewhere}
    assert seen(model, AnonymousUser()) == set()
    # A chain admin of the other chain sees nothing of this one.
    other_admin = f.UserFactory()
    f.MembershipFactory(user=other_admin, chain=elsewhere_chain(world), branch=None, role=Role.CHAIN_ADMIN)
    assert seen(model, other_admin) == {elsewhere}


def elsewhere_chain(world):
    return world["elsewhere"][Branch].chain


def test_a_user_in_two_branches_sees_both_once(world, alice, nord):
    f.MembershipFactory(user=alice, chain=nord.chain, branch=nord, role=Role.STAFF)
    customers = list(Customer.objects.visible_to(alice))
    assert set(customers) == {world["mitte"][Customer], world["nord"][Customer]}
    assert len(customers) == 2  # no duplicates from the joins over memberships


def test_definitions_for_their_administrators(chain, mitte, nord, alice, carol, dave):
    chain_wide = f.InterfaceDefinitionFactory(chain=chain)
    for_mitte = f.InterfaceDefinitionFactory(chain=chain, branch=mitte)
    for_nord = f.InterfaceDefinitionFactory(chain=chain, branch=nord)
    other = f.InterfaceDefinitionFactory(chain=f.ChainFactory(name="Andere Kette"))
    assert seen(InterfaceDefinition, carol) == {chain_wide, for_mitte}
    assert seen(InterfaceDefinition, dave) == {chain_wide, for_mitte, for_nord}
    assert seen(InterfaceDefinition, alice) == set()  # staff administer nothing
    assert other not in seen(InterfaceDefinition, dave)
    assert seen(InterfaceDefinition, AnonymousUser()) == set()


def test_account_numbers_for_their_administrators(mitte, nord, alice, carol, dave, dreve_supplier):
    (at_mitte,) = SupplierAccount.objects.filter(branch=mitte)
    at_nord = f.SupplierAccountFactory(branch=nord, supplier=dreve_supplier)
    assert seen(SupplierAccount, carol) == {at_mitte}
    assert seen(SupplierAccount, dave) == {at_mitte, at_nord}
    assert seen(SupplierAccount, alice) == set()


def test_admin_scope_reads_the_same_rule(chain, mitte, nord, alice, carol, dave):
    """Branch administration's scope comes from the rule too: branch admins their branch, chain
    admins the chain and all its branches, staff and anonymous users nothing."""
    other = f.ChainFactory(name="Andere Kette")
    f.BranchFactory(chain=other, name="Fremde Filiale")
    superuser = f.UserFactory(username="root", is_superuser=True)
    assert (admin_scope(carol).chain_ids, admin_scope(carol).branch_ids) == (frozenset(), {mitte.pk})
    assert (admin_scope(dave).chain_ids, admin_scope(dave).branch_ids) == ({chain.pk}, {mitte.pk, nord.pk})
    assert not admin_scope(alice).exists and not admin_scope(AnonymousUser()).exists
    assert admin_scope(superuser).chain_ids == {chain.pk, other.pk}
    assert len(admin_scope(superuser).branch_ids) == 3
