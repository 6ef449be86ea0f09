"""The multi-host test's schema, people and lab, written from the web host into the data host's database.

Run as ``python -m tests.integration.multihost_seed``: migrates (one Django start instead of
two on a busy machine), then prints the ids the test needs as one JSON line. The interface
itself is configured by dave through the API.
"""

import json

import django


def main():
    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    from branches.models import Role
    from suppliers.models import OrderMethod
    from tests import factories as f

    chain = f.ChainFactory()
    mitte = f.BranchFactory(chain=chain, name="Filiale Mitte")
    alice = f.UserFactory(username="alice")
    f.MembershipFactory(user=alice, branch=mitte, chain=chain, role=Role.STAFF)
    dave = f.UserFactory(username="dave")
    f.MembershipFactory(user=dave, branch=None, chain=chain, role=Role.CHAIN_ADMIN)
    customer = f.CustomerFactory(branch=mitte, first_name="Erika", last_name="Mustermann")
    template = f.TemplateFactory(name="Otoplastik")
    transaction = f.TransactionFactory(customer=customer, template=template, started_by=alice)
    company = f.CompanyFactory(name="Hörluchs")
    supplier = f.SupplierFactory(company=company, order_method=OrderMethod.INTERFACE, order_email="")
    f.SupplierAccountFactory(branch=mitte, supplier=supplier, account_number="HL-2002")
    print(
        json.dumps(
            {
                "customer": str(customer.pk),
                "transaction": str(transaction.pk),
                "company": str(company.pk),
                "supplier": str(supplier.pk),
            }
        )
    )


if __name__ == "__main__":
    main()
