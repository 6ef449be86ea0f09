"""What a lab learns of the customer follows the supplier's setting: the least it accepts."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from otoorder.orders import services
from otoorder.orders.documents import build_document
from tests.factories import bte_item

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "mode,expected",
    [("numeric_code", "{number}"), ("initials_code", "EM-{number}"), ("full_name", "Mustermann, Erika ({number})")],
)
def test_customer_reference_per_supplier(transaction_obj, customer, dreve, dreve_supplier, alice, mode, expected):
    dreve_supplier.customer_reference_mode = mode
    dreve_supplier.save()
    order = services.place_order(
        transaction_obj=transaction_obj, company=dreve, supplier=dreve_supplier, items=[bte_item()], user=alice
    )
    assert build_document(order).customer_reference == expected.format(number=customer.customer_number)


def test_mode_is_set_in_branch_administration_and_the_api(client, dave, dreve_supplier):
    client.force_login(dave)
    page = client.get(reverse("branches:supplier_edit", args=[dreve_supplier.pk])).content.decode()
    assert 'name="customer_reference_mode"' in page
    api = APIClient()
    api.force_authenticate(dave)
    body = api.get(f"/api/v1/suppliers/{dreve_supplier.pk}/").json()
    assert body["customer_reference_mode"] == "initials_code"
