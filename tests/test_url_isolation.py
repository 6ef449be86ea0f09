"""Branch isolation, walked from the URL conf itself.

Every URL pattern that takes an object id is requested with an object owned by branch A:

* by staff and by the chain admin of branch B (another chain) → 404, as if it did not exist
  (staff without an admin role meet branch administration's door first: 403 for any id);
* anonymously → the login page (HTML) or 401 (API);
* by its owner → anything but 404.

Which object a URL takes comes from the table ``KINDS`` (URL name → kwarg → kind). A URL added
later with an id and without a row in that table fails ``test_every_url_with_an_id_is_known``,
so nobody has to remember to write a new isolation test. A GET answered with 405 is repeated as
a POST (the action URLs).
"""

import re
import warnings

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from branches.access import Role
from branches.models import SupplierAccount
from otoorder.complaints import photos
from otoorder.complaints.models import Complaint, ComplaintReason
from otoorder.notifications.choices import Kind
from otoorder.notifications.models import Notification
from otoorder.orders import attachments, parcels, scans, services
from suppliers.models import CatalogueEntry, CatalogueRule
from tests import factories as f
from tests import scan_files
from tests.factories import bte_item

#: Kinds of objects owned by branch A (other branches must not reach them).
OWNED = {
    "customer", "transaction", "order", "impression", "attachment", "definition", "account", "branch", "admin_branch",
    "notification", "physical_impression", "parcel", "complaint", "complaint_photo", "complaint_reason",
}  # fmt: skip
#: Kinds of branch administration: staff without an admin role are stopped at its door (403,
#: whatever the id) before any lookup; the admins of branch B must get 404.
ADMINISTERED = {"definition", "account", "admin_branch"}
#: Kinds a chain admin maintains for the whole chain (complaint reasons): the owner is chain A's admin.
CHAIN_ADMINISTERED = {"complaint_reason"}
#: Kinds that belong to no branch: master data every chain shares (companies, suppliers, their
#: catalogues, transaction templates). Their URLs are checked for login and for the owner only.
SHARED = {"company", "supplier", "template", "catalogue_entry", "catalogue_rule"}
#: Kwargs that are not ids: a fixed valid value.
VALUES = {"side": "right", "kind": "entries"}

#: URL name → {kwarg: kind}. Add a row for every new URL that takes an id.
KINDS = {
    "transactions:customer_detail": {"pk": "customer"},
    "transactions:transaction_start": {"pk": "customer"},
    "transactions:customer_reorder": {"pk": "customer"},
    "transactions:follow_up_order": {"pk": "customer"},
    "transactions:follow_up_preview": {"pk": "customer"},
    "transactions:transaction_detail": {"pk": "transaction"},
    "transactions:step_done": {"pk": "transaction"},
    "transactions:order_service": {"pk": "transaction"},
    "transactions:order_service_preview": {"pk": "transaction"},
    "orders:order_detail": {"pk": "order"},
    "orders:order_resend": {"pk": "order"},
    "orders:order_confirm": {"pk": "order"},
    "orders:order_cancel": {"pk": "order"},
    "orders:order_cancel_report": {"pk": "order"},
    "orders:order_message": {"pk": "order"},
    "orders:order_question": {"pk": "order"},
    "orders:order_receive": {"pk": "order"},
    "orders:order_serial": {"pk": "order"},
    "orders:order_fit": {"pk": "order"},
    "orders:order_close": {"pk": "order"},
    "orders:order_remake": {"pk": "order"},
    "orders:portal_handoff": {"pk": "order"},
    "orders:order_pdf": {"pk": "order"},
    "orders:customer_impressions": {"customer_pk": "customer"},
    "orders:impression_create": {"customer_pk": "customer", "side": None},
    "orders:impression_detail": {"pk": "impression"},
    "orders:impression_file": {"pk": "impression"},
    "orders:impression_label": {"pk": "physical_impression"},
    "orders:parcel_detail": {"pk": "parcel"},
    "orders:parcel_packing_list": {"pk": "parcel"},
    "orders:parcel_close": {"pk": "parcel"},
    "orders:attachment_upload": {"pk": "order"},
    "orders:attachment_download": {"pk": "attachment"},
    "branches:definition_edit": {"pk": "definition"},
    "branches:definition_test": {"pk": "definition"},
    "branches:branch_edit": {"pk": "admin_branch"},
    "branches:account_edit": {"pk": "account"},
    "branches:account_delete": {"pk": "account"},
    "branches:company_edit": {"pk": "company"},
    "branches:supplier_edit": {"pk": "supplier"},
    "branches:catalogue": {"pk": "supplier"},
    "branches:catalogue_entry_create": {"pk": "supplier"},
    "branches:catalogue_entry_edit": {"pk": "supplier", "item": "catalogue_entry"},
    "branches:catalogue_entry_delete": {"pk": "supplier", "item": "catalogue_entry"},
    "branches:catalogue_rule_create": {"pk": "supplier"},
    "branches:catalogue_rule_edit": {"pk": "supplier", "item": "catalogue_rule"},
    "branches:catalogue_rule_delete": {"pk": "supplier", "item": "catalogue_rule"},
    "branches:catalogue_export": {"pk": "supplier", "kind": None},
    "branches:catalogue_import": {"pk": "supplier"},
    "api:order-attachments": {"pk": "order"},
    "api:branch-detail": {"pk": "branch"},
    "api:interface-definition-detail": {"pk": "definition"},
    "api:company-detail": {"pk": "company"},
    "api:supplier-detail": {"pk": "supplier"},
    "api:supplier-scorecard": {"pk": "supplier"},
    "api:customer-detail": {"pk": "customer"},
    "api:transaction-template-detail": {"pk": "template"},
    "api:transaction-detail": {"pk": "transaction"},
    "api:transaction-preview": {"pk": "transaction"},
    "api:order-detail": {"pk": "order"},
    "api:order-cancel": {"pk": "order"},
    "api:order-messages": {"pk": "order"},
    "api:order-close": {"pk": "order"},
    "api:order-confirm": {"pk": "order"},
    "api:order-fit": {"pk": "order"},
    "api:order-receive": {"pk": "order"},
    "api:order-serial": {"pk": "order"},
    "api:order-resend": {"pk": "order"},
    "notifications:open": {"pk": "notification"},
    "notifications:read": {"pk": "notification"},
    "api:notification-read": {"pk": "notification"},
    "api:parcel-detail": {"pk": "parcel"},
    "api:parcel-close": {"pk": "parcel"},
    "complaints:complaint_create": {"pk": "order"},
    "complaints:complaint_detail": {"pk": "complaint"},
    "complaints:complaint_report": {"pk": "complaint"},
    "complaints:complaint_decide": {"pk": "complaint"},
    "complaints:complaint_close": {"pk": "complaint"},
    "complaints:photo_download": {"pk": "complaint_photo"},
    "complaints:reason_edit": {"pk": "complaint_reason"},
    "api:order-complaints": {"pk": "order"},
    "api:complaint-detail": {"pk": "complaint"},
    "api:complaint-decision": {"pk": "complaint"},
    "api:complaint-photo": {"pk": "complaint", "photo_id": "complaint_photo"},
}

#: URLs with an id that this walk does not request, each with the reason.
EXEMPT = {
    "api:callback": "a lab's callback: authenticated by the definition's signature, not by a user "
    "(test_callbacks.py); orders are looked up among that definition's orders only",
}
#: Whole namespaces left out, with the reason.
EXEMPT_NAMESPACES = {
    "admin": "Django's admin, for superusers only (is_staff is never given to branch staff)",
}

ID_CONVERTERS = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>|\(\?P<(?P<regex_name>\w+)>")


def walk(patterns, namespace=None):
    """(namespaced URL name, kwarg names) of every pattern, resolvers followed recursively."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace
            if namespace and inner:
                inner = f"{namespace}:{inner}"
            yield from walk(pattern.url_patterns, inner or namespace)
        elif isinstance(pattern, URLPattern):
            kwargs = [m["name"] or m["regex_name"] for m in ID_CONVERTERS.finditer(str(pattern.pattern))]
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield name or str(pattern.pattern), namespace, kwargs


def urls_with_kwargs():
    return [(name, ns, kwargs) for name, ns, kwargs in walk(get_resolver().url_patterns) if kwargs]


def requested_urls():
    return sorted(
        name
        for name, namespace, _kwargs in urls_with_kwargs()
        if namespace not in EXEMPT_NAMESPACES and name not in EXEMPT
    )


def test_every_url_with_an_id_is_known(record_property):
    """A URL with a kwarg must have its row in KINDS (or a reason in EXEMPT)."""
    unknown = []
    for name, namespace, kwargs in urls_with_kwargs():
        if namespace in EXEMPT_NAMESPACES or name in EXEMPT:
            continue
        table = KINDS.get(name, {})
        missing = [kwarg for kwarg in kwargs if kwarg not in table]
        if missing:
            unknown.append(f"{name} ({', '.join(missing)})")
    stale = sorted(set(KINDS) - set(requested_urls()))
    assert not unknown, "URLs with an id and no row in KINDS (add one, with the object's kind): " + "; ".join(
        unknown
    )
    assert not stale, f"rows in KINDS for URLs that no longer exist: {stale}"
    count = len(requested_urls())
    record_property("isolated_urls", count)
    print(f"URL isolation covers {count} URLs with an object id")
    warnings.warn(f"URL isolation covers {count} URLs with an object id", UserWarning, stacklevel=1)


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"


def member(role, chain, branch=None):
    user = f.UserFactory()
    f.MembershipFactory(user=user, chain=chain, branch=branch, role=role)
    return user


@pytest.fixture
def world(db):
    """Branch A (chain A) owns one object of every kind; branch B lies in another chain."""
    chain_a, chain_b = f.ChainFactory(name="Kette A"), f.ChainFactory(name="Kette B")
    branch_a = f.BranchFactory(chain=chain_a, name="Filiale A")
    branch_b = f.BranchFactory(chain=chain_b, name="Filiale B")
    staff_a = member(Role.STAFF, chain_a, branch_a)
    company = f.CompanyFactory(name="Labor Isolation")
    supplier = f.SupplierFactory(company=company)
    template = f.TemplateFactory(name="Otoplastik Isolation", steps__company=company, steps__supplier=supplier)
    customer = f.CustomerFactory(branch=branch_a)
    transaction = f.TransactionFactory(customer=customer, template=template, started_by=staff_a)
    order = services.place_order(
        transaction_obj=transaction, company=company, supplier=supplier, items=[bte_item("right")], user=staff_a
    )
    pdf = SimpleUploadedFile("audiogramm.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    objects = {
        "customer": customer,
        "transaction": transaction,
        "order": order,
        "impression": scans.create_impression(
            customer=customer,
            side="right",
            kind="scan",
            upload=SimpleUploadedFile("rechts.stl", scan_files.stl_binary()),
            user=staff_a,
        ),
        "attachment": attachments.add_attachment(order, pdf, user=staff_a),
        "definition": f.InterfaceDefinitionFactory(chain=chain_a, branch=branch_a),
        "account": SupplierAccount.objects.create(branch=branch_a, supplier=supplier, account_number="K-1"),
        "branch": branch_a,
        "admin_branch": branch_a,
        "company": company,
        "supplier": supplier,
        "template": template,
        "catalogue_entry": CatalogueEntry.objects.create(supplier=supplier, field="style", value="shell", code="S"),
        "catalogue_rule": CatalogueRule.objects.create(supplier=supplier, style="shell", max_vent_mm="2.0"),
    }
    physical = scans.create_impression(customer=customer, side="left", kind="physical", user=staff_a)
    parcelled = services.place_order(
        transaction_obj=transaction, company=company, supplier=supplier, items=[bte_item("left", impression=physical)], user=staff_a
    )
    objects["physical_impression"] = physical
    objects["parcel"] = parcels.create_parcel(
        user=staff_a, supplier=supplier, impressions=[physical.pk], carrier="dhl", tracking_number="00340434"
    )
    assert parcelled.parcel_items.exists()
    objects["complaint"] = Complaint.objects.create(
        order=order, sides=["right"], reason=ComplaintReason.objects.get(chain=chain_a, code="feedback")
    )
    photos.store_photos(objects["complaint"], photos.check_photos([SimpleUploadedFile("ohr.png", b"\x89PNG\r\n\x1a\n" + b"0" * 32)]))
    objects["complaint_photo"] = objects["complaint"].photos.get()
    objects["complaint_reason"] = objects["complaint"].reason
    owner = member(Role.BRANCH_ADMIN, chain_a, branch_a)
    # A notification is its recipient's alone (the owner's here).
    objects["notification"] = Notification.objects.create(recipient=owner, order=order, kind=Kind.CONFIRMED)
    return {
        "objects": objects,
        # The owner: administers branch A and works in it; the chain admin for the shared data.
        "owner": owner,
        "chain_admin_a": member(Role.CHAIN_ADMIN, chain_a),
        "others": {"staff B": member(Role.STAFF, chain_b, branch_b), "chain admin B": member(Role.CHAIN_ADMIN, chain_b)},
    }


def url_for(name, objects):
    kwargs = {}
    for kwarg, kind in KINDS[name].items():
        kwargs[kwarg] = VALUES[kwarg] if kind is None else objects[kind].pk
    return reverse(name, kwargs=kwargs)


def request(client, url):
    response = client.get(url)
    if response.status_code == 405:
        response = client.post(url)
    return response


@pytest.mark.parametrize("name", requested_urls())
def test_url_is_isolated(client, world, name):
    url = url_for(name, world["objects"])
    kinds = {kind for kind in KINDS[name].values() if kind is not None}
    is_api = name.startswith("api:")

    if kinds & OWNED:
        for label, user in world["others"].items():
            client.force_login(user)
            response = request(client, url)
            expected = {403, 404} if kinds & ADMINISTERED and label == "staff B" else {404}
            assert response.status_code in expected, f"{label} reached {url} ({response.status_code})"
            client.logout()

    response = request(client, url)
    if is_api:
        assert response.status_code == 401, f"anonymous: {url} answered {response.status_code}"
    else:
        assert response.status_code == 302, f"anonymous: {url} answered {response.status_code}"
        assert response["Location"].startswith(reverse("login")), response["Location"]

    client.force_login(world["owner"] if kinds & OWNED and not kinds & CHAIN_ADMINISTERED else world["chain_admin_a"])
    response = request(client, url)
    assert response.status_code != 404, f"the owner got 404 from {url}"
    assert response.status_code < 500, f"the owner got {response.status_code} from {url}"
