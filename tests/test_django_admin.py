"""The Django admin is for superusers only; ``is_staff`` alone does not open it."""

import pytest
from django.urls import reverse

from branches.models import InterfaceDefinition
from tests import factories as f

SECRET = "geheim-im-admin-7"


@pytest.fixture
def superuser(db):
    return f.UserFactory(username="root", is_staff=True, is_superuser=True)


def test_staff_flag_without_superuser_cannot_open_admin(client, db):
    staff = f.UserFactory(username="staffer", is_staff=True, is_superuser=False)
    client.force_login(staff)
    response = client.get("/django-admin/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))
    assert client.get(reverse("admin:branches_branch_changelist")).status_code == 302


def test_branch_and_chain_admins_cannot_open_admin(client, carol, dave):
    for user in (carol, dave):
        client.force_login(user)
        assert client.get("/django-admin/").status_code == 302


def test_superuser_can_open_admin(client, superuser):
    client.force_login(superuser)
    assert client.get("/django-admin/").status_code == 200


def test_inactive_superuser_cannot_open_admin(client, superuser):
    superuser.is_active = False
    superuser.save()
    client.force_login(superuser)
    assert client.get("/django-admin/").status_code == 302


def test_admin_pages_open_for_superuser(client, superuser, transaction_obj, dreve_supplier):
    client.force_login(superuser)
    for name in [
        "branches_chain", "branches_branch", "branches_membership", "branches_supplieraccount",
        "branches_interfacedefinition", "suppliers_company", "suppliers_supplier",
        "transactions_transactiontemplate", "transactions_customer", "transactions_transaction",
        "orders_earmouldorder", "orders_orderevent", "orders_dispatch", "orders_attempt", "orders_impression",
    ]:
        assert client.get(reverse(f"admin:{name}_changelist")).status_code == 200, name


def test_interface_definition_admin_hides_secrets_and_is_read_only(client, superuser, chain):
    definition = f.InterfaceDefinitionFactory(chain=chain, name="Mit Geheimnis", secrets={"password": SECRET})
    client.force_login(superuser)
    page = client.get(reverse("admin:branches_interfacedefinition_change", args=[definition.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert SECRET not in html
    assert 'name="secrets"' not in html
    assert "password" in html  # the name of the set secret, never its value
    client.post(reverse("admin:branches_interfacedefinition_change", args=[definition.pk]), {"name": "Geändert"})
    definition.refresh_from_db()
    assert definition.name == "Mit Geheimnis"
    assert client.get(reverse("admin:branches_interfacedefinition_add")).status_code == 403
    assert InterfaceDefinition.objects.count() == 1


def test_order_events_cannot_be_deleted_in_admin(client, superuser):
    from django.contrib import admin

    from otoorder.orders.models import OrderEvent

    model_admin = admin.site._registry[OrderEvent]
    request = type("Request", (), {"user": superuser})()
    assert not model_admin.has_delete_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_add_permission(request)
