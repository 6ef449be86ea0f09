"""Table-driven tests of the pure resolver: every rule and every tie-break."""

from datetime import date
from types import SimpleNamespace

import pytest

from branches.resolver import NO_ORDER, READY, SUPPLIER_REQUIRED, find_tie, resolve

TODAY = date(2026, 11, 24)
MITTE, NORD = "branch-mitte", "branch-nord"
DREVE, EGGER, AUDIA = "co-dreve", "co-egger", "co-audia"


def supplier(name, company_id, active=True):
    return SimpleNamespace(id=f"sup-{name}", display_name=name, company_id=company_id, is_active=active)


S_DREVE = supplier("Dreve Otoplastik", DREVE)
S_EGGER = supplier("egger Otoplastik", EGGER)
S_WHOLESALE = supplier("Akustik Großhandel", None)
S_INACTIVE = supplier("Alter Lieferant", DREVE, active=False)
SUPPLIERS = [S_WHOLESALE, S_EGGER, S_DREVE, S_INACTIVE]


def definition(name, *, companies=(), branch=None, active_from=None, supplier=None, active=True, chain="hoerwelt"):
    return SimpleNamespace(
        pk=name,
        name=name,
        backend="standard",
        chain_id=chain,
        branch_id=branch,
        company_ids=set(companies),
        active_from=active_from,
        supplier=supplier,
        supplier_id=supplier.id if supplier else None,
        is_active=active,
    )


def company(company_id):
    return SimpleNamespace(id=company_id)


D_GENERAL = definition("general, chain-wide", supplier=S_WHOLESALE)
D_GENERAL_MITTE = definition("general, Mitte", branch=MITTE, supplier=S_WHOLESALE)
D_DREVE = definition("Dreve, chain-wide", companies=[DREVE], supplier=S_DREVE)
D_DREVE_MITTE = definition("Dreve, Mitte", companies=[DREVE], branch=MITTE, supplier=S_DREVE)
D_DREVE_NORD = definition("Dreve, Nord", companies=[DREVE], branch=NORD, supplier=S_DREVE)
D_DREVE_FUTURE = definition("Dreve, from 2027", companies=[DREVE], active_from=date(2027, 1, 1), supplier=S_DREVE)
D_DREVE_OLD = definition("Dreve, since 2020", companies=[DREVE], active_from=date(2020, 1, 1), supplier=S_DREVE)
D_DREVE_NEW = definition("Dreve, since 2026", companies=[DREVE], active_from=date(2026, 6, 1), supplier=S_DREVE)
D_DREVE_INACTIVE = definition("Dreve, switched off", companies=[DREVE], branch=MITTE, supplier=S_DREVE, active=False)
D_EGGER_NO_SUPPLIER = definition("egger without supplier", companies=[EGGER])
D_DREVE_EGGER = definition("Dreve and egger", companies=[DREVE, EGGER], supplier=S_DREVE)


CASES = [
    # (id, branch, company, chosen supplier, definitions, outcome, expected definition, expected supplier)
    ("R1 no company", MITTE, None, None, [D_DREVE, D_GENERAL], NO_ORDER, None, None),
    ("R1 no company even with supplier", MITTE, None, S_DREVE, [D_DREVE], NO_ORDER, None, None),
    ("R2 company-specific", MITTE, DREVE, None, [D_DREVE], READY, D_DREVE, S_DREVE),
    ("R2 specific beats general", MITTE, DREVE, None, [D_GENERAL, D_DREVE], READY, D_DREVE, S_DREVE),
    ("R2 general when no specific", MITTE, AUDIA, None, [D_GENERAL, D_DREVE], READY, D_GENERAL, S_WHOLESALE),
    ("R2 specific chain-wide beats general for branch", MITTE, DREVE, None, [D_GENERAL_MITTE, D_DREVE], READY, D_DREVE, S_DREVE),
    ("branch-restricted beats chain-wide (specific)", MITTE, DREVE, None, [D_DREVE, D_DREVE_MITTE], READY, D_DREVE_MITTE, S_DREVE),
    ("branch-restricted beats chain-wide (general)", MITTE, AUDIA, None, [D_GENERAL, D_GENERAL_MITTE], READY, D_GENERAL_MITTE, S_WHOLESALE),
    ("other branch's definition ignored", NORD, DREVE, None, [D_DREVE_MITTE, D_DREVE], READY, D_DREVE, S_DREVE),
    ("only other branch's definition: standard", NORD, AUDIA, S_EGGER, [D_GENERAL_MITTE], READY, None, S_EGGER),
    ("not yet active ignored", MITTE, DREVE, None, [D_DREVE_FUTURE, D_GENERAL], READY, D_GENERAL, S_WHOLESALE),
    ("switched off ignored", MITTE, DREVE, None, [D_DREVE_INACTIVE, D_DREVE], READY, D_DREVE, S_DREVE),
    ("later start supersedes earlier", MITTE, DREVE, None, [D_DREVE_OLD, D_DREVE_NEW], READY, D_DREVE_NEW, S_DREVE),
    ("later start supersedes open start", MITTE, DREVE, None, [D_DREVE, D_DREVE_NEW], READY, D_DREVE_NEW, S_DREVE),
    ("multi-company assignment serves egger", MITTE, EGGER, None, [D_GENERAL, D_DREVE_EGGER], READY, D_DREVE_EGGER, S_DREVE),
    ("R3 definition supplier wins over chosen", MITTE, DREVE, S_EGGER, [D_DREVE], READY, D_DREVE, S_DREVE),
    ("R4 no supplier: must choose", MITTE, EGGER, None, [D_EGGER_NO_SUPPLIER], SUPPLIER_REQUIRED, D_EGGER_NO_SUPPLIER, None),
    ("R4 chosen supplier: ready", MITTE, EGGER, S_WHOLESALE, [D_EGGER_NO_SUPPLIER], READY, D_EGGER_NO_SUPPLIER, S_WHOLESALE),
    ("no definition: standard needs a supplier", MITTE, AUDIA, None, [D_DREVE], SUPPLIER_REQUIRED, None, None),
    ("no definition: standard with chosen supplier", MITTE, AUDIA, S_WHOLESALE, [], READY, None, S_WHOLESALE),
]


@pytest.mark.parametrize(
    "branch,company_id,chosen,definitions,outcome,expected_definition,expected_supplier",
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_resolve(branch, company_id, chosen, definitions, outcome, expected_definition, expected_supplier):
    result = resolve(
        branch_id=branch,
        company=company(company_id) if company_id else None,
        supplier=chosen,
        definitions=definitions,
        suppliers=SUPPLIERS,
        today=TODAY,
    )
    assert result.outcome == outcome
    assert result.definition is expected_definition
    assert result.supplier is expected_supplier
    if outcome == READY:
        assert result.backend_key == (expected_definition.backend if expected_definition else "standard")


def test_definition_active_from_today_is_active():
    starts_today = definition("today", companies=[DREVE], active_from=TODAY, supplier=S_DREVE)
    result = resolve(branch_id=MITTE, company=company(DREVE), definitions=[starts_today, D_GENERAL], suppliers=SUPPLIERS, today=TODAY)
    assert result.definition is starts_today


def test_candidates_put_the_company_s_own_suppliers_first_and_skip_inactive():
    result = resolve(branch_id=MITTE, company=company(DREVE), definitions=[], suppliers=SUPPLIERS, today=TODAY)
    assert result.outcome == SUPPLIER_REQUIRED
    assert list(result.candidates) == [S_DREVE, S_WHOLESALE, S_EGGER]


TIES = [
    ("both general chain-wide", definition("a"), definition("b"), True),
    ("both general, different branches", definition("a", branch=MITTE), definition("b", branch=NORD), False),
    ("general vs branch", definition("a"), definition("b", branch=MITTE), False),
    ("same company", definition("a", companies=[DREVE]), definition("b", companies=[DREVE]), True),
    ("overlapping companies", definition("a", companies=[DREVE, EGGER]), definition("b", companies=[EGGER]), True),
    ("disjoint companies", definition("a", companies=[DREVE]), definition("b", companies=[EGGER]), False),
    ("specific vs general", definition("a", companies=[DREVE]), definition("b"), False),
    ("different start dates", definition("a", companies=[DREVE]), definition("b", companies=[DREVE], active_from=date(2027, 1, 1)), False),
    ("same start date", definition("a", active_from=date(2027, 1, 1)), definition("b", active_from=date(2027, 1, 1)), True),
    ("other chain", definition("a"), definition("b", chain="other"), False),
    ("inactive other", definition("a"), definition("b", active=False), False),
]


@pytest.mark.parametrize("a,b,tie", [case[1:] for case in TIES], ids=[case[0] for case in TIES])
def test_find_tie(a, b, tie):
    assert (find_tie(a, [b]) is b) is tie


def test_find_tie_ignores_the_definition_itself():
    a = definition("a")
    assert find_tie(a, [a]) is None
