"""The Bestellservice form: fields per family, per-ear impressions, header of remakes,
errors that name the field and keep the input, and nothing created when invalid."""

import pytest
from django.urls import reverse

from otoorder.vocabulary import ImpressionKind
from otoorder.orders.models import EarmouldOrder, Impression, OrderItem
from otoorder.orders.order_forms import EarForm
from tests import factories as f
from tests.lifecycle_fixtures import client_alice, client_bob, dreve_template, dreve_txn, ordered_order  # noqa: F401

pytestmark = pytest.mark.django_db


def url(txn, query=""):
    return reverse("transactions:order_service", kwargs={"pk": txn.pk}) + query


def ear(side, item=None, order=True):
    item = dict(item or {})
    item.pop("side", None)
    data = {f"{side}-vent_type": "none", f"{side}-quantity": "1", f"{side}-acoustic_modification": "none"}
    if order:
        data[f"{side}-order"] = "on"
    data.update({f"{side}-{k}": "" if v is None else str(v) for k, v in item.items()})
    return data


def post_data(supplier, *ears, **header):
    data = {
        "company": str(supplier.company.pk),
        "supplier": str(supplier.pk),
        "order_type": "new",
        "priority": "standard",
        "date_required": "",
        "notes": "",
        "original_order": "",
        "reason": "",
        **header,
    }
    for e in ears:
        data.update(e)
    return data


def test_family_dependent_fields_are_marked_for_the_script():
    form = EarForm(side="right")
    attrs = {name: form.fields[name].widget.attrs for name in form.fields}
    assert attrs["tube"]["data-families"] == "bte thin_tube"
    assert attrs["receiver_power"]["data-families"] == "ric"
    assert attrs["receiver_length"]["data-families"] == "ric"
    assert attrs["receiver_type"]["data-families"] == "ric"
    assert attrs["protection_filter"]["data-families"] == "hearing_protection"
    assert attrs["shore_hardness"]["data-materials"] == "silicone thermotec"


def test_form_page_has_every_per_ear_field_and_the_copy_actions(client_alice, dreve_txn):
    page = client_alice.get(url(dreve_txn)).content.decode()
    for name in (
        "shore_hardness", "surface_finish", "acoustic_modification", "canal_length", "receiver_type",
        "protection_filter", "extraction_cord", "engraving", "impression", "tube", "receiver_power",
    ):
        assert f'name="right-{name}"' in page and f'name="left-{name}"' in page, name
    assert 'id="copy-right-to-left"' in page and 'id="copy-left-to-right"' in page
    assert 'name="original_order"' in page and 'name="reason"' in page
    assert "Lieferzeit des Labors" in page  # the default date required is shown


def test_full_specification_is_stored(client_alice, dreve_txn, dreve_supplier, customer):
    impression = Impression.objects.create(customer=customer, side="left", kind=ImpressionKind.PHYSICAL, reference="Box 7")
    protection = {
        "product_family": "hearing_protection", "style": "canal", "material": "silicone", "shore_hardness": 40,
        "protection_filter": "music_15", "surface_finish": "matte", "canal_length": "long",
        "extraction_cord": "on", "engraving": "ANNA", "impression": impression.pk, "colour": "rot",
    }
    response = client_alice.post(url(dreve_txn), post_data(dreve_supplier, ear("left", protection)))
    assert response.status_code == 302, response.content.decode()[:3000]
    item = OrderItem.objects.get()
    assert (item.side, item.product_family, item.shore_hardness, item.protection_filter) == (
        "left", "hearing_protection", 40, "music_15"
    )
    assert (item.surface_finish, item.canal_length, item.extraction_cord, item.engraving, item.impression) == (
        "matte", "long", True, "ANNA", impression
    )


@pytest.mark.parametrize(
    "item, field, words",
    [
        (f.bte_item("right", tube=""), "tube", "Schlauch"),
        (f.ric_item("right", receiver_power=""), "receiver_power", "Hörerleistung"),
        (f.ric_item("right", receiver_length=""), "receiver_length", "Hörerlänge"),
        (f.bte_item("right", protection_filter="sleep"), "protection_filter", "nur bei Gehörschutz"),
        (f.bte_item("right", shore_hardness=40), "shore_hardness", "weichen Materialien"),
    ],
)
def test_family_rules_are_enforced_on_the_server(client_alice, dreve_txn, dreve_supplier, item, field, words):
    response = client_alice.post(url(dreve_txn), post_data(dreve_supplier, ear("right", item)))
    assert response.status_code == 200
    form = response.context["forms"].ears[0]
    assert words in " ".join(form.errors[field])
    assert EarmouldOrder.objects.count() == 0


def test_errors_keep_everything_typed(client_alice, dreve_txn, dreve_supplier):
    right = ear("right", f.ric_item("right", receiver_power="", colour="karamell", engraving="LINKS?"))
    left = ear("left", f.bte_item("left", colour="blau-glitzer", notes="bitte weich"))
    response = client_alice.post(url(dreve_txn), post_data(dreve_supplier, right, left, notes="Eilig, Urlaub"))
    page = response.content.decode()
    assert response.status_code == 200
    for typed in ("karamell", "LINKS?", "blau-glitzer", "bitte weich", "Eilig, Urlaub"):
        assert typed in page
    assert "Die Bestellung wurde nicht erstellt" in page
    assert EarmouldOrder.objects.count() == 0 and OrderItem.objects.count() == 0


def test_impression_of_the_other_ear_is_refused(client_alice, dreve_txn, dreve_supplier, customer):
    left_box = Impression.objects.create(customer=customer, side="left", reference="Box L")
    form = EarForm(side="right", impressions=[])
    assert [value for value, _label in form.fields["impression"].choices] == [""]
    response = client_alice.post(
        url(dreve_txn), post_data(dreve_supplier, ear("right", f.bte_item("right", impression=left_box.pk)))
    )
    assert response.status_code == 200
    assert "impression" in response.context["forms"].ears[0].errors
    assert EarmouldOrder.objects.count() == 0


def test_impressions_offered_per_ear_are_the_customers_of_that_side(client_alice, dreve_txn, customer, nord):
    right = Impression.objects.create(customer=customer, side="right", reference="Box R")
    left = Impression.objects.create(customer=customer, side="left", reference="Box L")
    Impression.objects.create(customer=f.CustomerFactory(branch=nord), side="right", reference="Fremd")
    forms = client_alice.get(url(dreve_txn)).context["forms"]
    offered = {e.side: [v for v, _l in e.fields["impression"].choices if v] for e in forms.ears}
    assert offered == {"right": [str(right.pk)], "left": [str(left.pk)]}


def test_remake_needs_original_and_reason_and_creates_nothing_without(client_alice, dreve_txn, dreve_supplier, alice):
    original = ordered_order(dreve_txn, dreve_supplier, alice)
    before = EarmouldOrder.objects.count()
    response = client_alice.post(
        url(dreve_txn), post_data(dreve_supplier, ear("right", f.bte_item("right")), order_type="remake")
    )
    header = response.context["forms"].header
    assert "original_order" in header.errors and "reason" in header.errors
    assert EarmouldOrder.objects.count() == before
    response = client_alice.post(
        url(dreve_txn),
        post_data(
            dreve_supplier, ear("right", f.bte_item("right")),
            order_type="remake", original_order=str(original.pk), reason="drückt",
        ),
    )
    assert response.status_code == 302
    remake = EarmouldOrder.objects.exclude(pk=original.pk).get()
    assert (remake.original_order, remake.reason, remake.order_type) == (original, "drückt", "remake")


def test_original_order_select_offers_only_the_customers_orders(client_alice, dreve_txn, dreve_supplier, alice, nord, bob):
    own = ordered_order(dreve_txn, dreve_supplier, alice)
    forms = client_alice.get(url(dreve_txn)).context["forms"]
    assert [v for v, _l in forms.header.fields["original_order"].choices if v] == [str(own.pk)]


def test_empty_date_required_gets_the_suppliers_delivery_days(client_alice, dreve_txn, dreve_supplier):
    from otoorder.orders.services import default_date_required

    response = client_alice.post(url(dreve_txn), post_data(dreve_supplier, ear("right", f.bte_item("right"))))
    assert response.status_code == 302
    assert EarmouldOrder.objects.get().date_required == default_date_required(dreve_supplier)


def test_bob_cannot_open_the_form_of_mitte(client_bob, dreve_txn):
    assert client_bob.get(url(dreve_txn)).status_code == 404
    assert client_bob.get(url(dreve_txn, "?reorder=right")).status_code == 404


def test_form_offers_only_the_labs_catalogue_and_the_server_enforces_it(client_alice, dreve_txn, dreve_supplier):
    from suppliers.models import CatalogueEntry

    for value, code in (("shell", "S1"), ("canal", "C1")):
        CatalogueEntry.objects.create(supplier=dreve_supplier, field="style", value=value, code=code)
    forms = client_alice.get(url(dreve_txn)).context["forms"]
    for form in forms.ears:
        assert [v for v, _l in form.fields["style"].choices] == ["", "shell", "canal"]
        assert len(form.fields["material"].choices) > 3  # not in the catalogue: unrestricted
    response = client_alice.post(
        url(dreve_txn), post_data(dreve_supplier, ear("left", f.bte_item("left", style="half_shell")))
    )
    assert response.status_code == 200
    left = response.context["forms"].ears[1]
    assert "bietet" in " ".join(left.errors["style"])
    assert 'value="half_shell" selected' in response.content.decode()
    assert EarmouldOrder.objects.count() == 0


def test_prescriber_is_offered_from_the_branch_and_stored(client_alice, dreve_txn, dreve_supplier, alice, carol, bob, dave):
    forms = client_alice.get(url(dreve_txn)).context["forms"]
    offered = set(forms.header.fields["prescriber"].queryset)
    assert {alice, carol, dave} <= offered and bob not in offered
    response = client_alice.post(
        url(dreve_txn), post_data(dreve_supplier, ear("right", f.bte_item("right")), prescriber=str(carol.pk))
    )
    assert response.status_code == 302
    assert EarmouldOrder.objects.get().prescriber == carol
    response = client_alice.post(
        url(dreve_txn), post_data(dreve_supplier, ear("right", f.bte_item("right")), prescriber=str(bob.pk))
    )
    assert "prescriber" in response.context["forms"].header.errors
    assert EarmouldOrder.objects.count() == 1


def test_prescriber_defaults_to_the_user(client_alice, dreve_txn, dreve_supplier, alice):
    client_alice.post(url(dreve_txn), post_data(dreve_supplier, ear("right", f.bte_item("right")), prescriber=""))
    assert EarmouldOrder.objects.get().prescriber == alice
