"""The resolver of the Bestellservice step: rules R1–R4 in one pure function.

Given a branch's interface definitions, the selected company (or none) and an optional
chosen supplier, it answers exactly one of

* ``no_order`` – no company selected (R1): nothing is created, nothing is sent;
* ``supplier_required`` – the interface names no supplier and none was chosen (R4), with the
  candidate suppliers, the company's own first;
* ``ready`` – the interface definition (``None`` for the standard ordering process) and the
  supplier (R2, R3).

Which definition serves a company (R2), most specific first:

1. assigned to the company and restricted to this branch,
2. assigned to the company, chain-wide,
3. general (no companies) and restricted to this branch,
4. general, chain-wide,
5. none: the standard ordering process.

Definitions not yet active on the day are ignored. Within one level, a definition with a
later start date supersedes one with an earlier start (a successor scheduled in advance);
two with the same start would tie and are refused when saved (see ``find_tie``).
"""

from dataclasses import dataclass, field
from datetime import date

from otoorder.backends.registry import STANDARD

NO_ORDER = "no_order"
SUPPLIER_REQUIRED = "supplier_required"
READY = "ready"


@dataclass(frozen=True)
class Resolution:
    outcome: str
    definition: object = None
    supplier: object = None
    candidates: tuple = field(default_factory=tuple)

    @property
    def backend_key(self):
        return self.definition.backend if self.definition is not None else STANDARD


def _level(definition, branch_id, company_id):
    """Lower is more specific; None when the definition does not serve this case."""
    company_ids = definition.company_ids
    if definition.branch_id is not None and definition.branch_id != branch_id:
        return None
    branch_rank = 0 if definition.branch_id is not None else 1
    if company_ids:
        if company_id not in company_ids:
            return None
        return branch_rank
    return 2 + branch_rank


def select_definition(definitions, *, branch_id, company_id, today):
    """The definition that serves ``company_id`` in the branch, or None (standard process)."""
    best, best_key = None, None
    for definition in definitions:
        if not definition.is_active or (definition.active_from and definition.active_from > today):
            continue
        level = _level(definition, branch_id, company_id)
        if level is None:
            continue
        # Most specific level first; within it the latest start date (None = the oldest).
        key = (level, -(definition.active_from or date.min).toordinal())
        if best_key is None or key < best_key:
            best, best_key = definition, key
    return best


def order_candidates(suppliers, company_id):
    """Active suppliers, the company's own first, each group by name."""
    active = [s for s in suppliers if s.is_active]
    return tuple(
        sorted(active, key=lambda s: (s.company_id != company_id, s.display_name.lower()))
    )


def resolve(*, branch_id, company, supplier=None, definitions, suppliers, today):
    """Apply R1–R4. ``definitions`` carry ``company_ids`` (a set); all inputs are plain."""
    if company is None:
        return Resolution(NO_ORDER)
    definition = select_definition(
        definitions, branch_id=branch_id, company_id=company.id, today=today
    )
    if definition is not None and definition.supplier_id is not None:
        return Resolution(READY, definition=definition, supplier=definition.supplier)
    if supplier is not None:
        return Resolution(READY, definition=definition, supplier=supplier)
    return Resolution(
        SUPPLIER_REQUIRED, definition=definition, candidates=order_candidates(suppliers, company.id)
    )


def ties(a, b):
    """Would definitions ``a`` and ``b`` serve the same case at the same level and start?"""
    if a.chain_id != b.chain_id or a.branch_id != b.branch_id:
        return False
    if (a.active_from or date.min) != (b.active_from or date.min):
        return False
    if bool(a.company_ids) != bool(b.company_ids):
        return False
    return not a.company_ids or bool(a.company_ids & b.company_ids)


def find_tie(candidate, others):
    """The first active definition among ``others`` that ``candidate`` would tie with."""
    if not candidate.is_active:
        return None
    for other in others:
        if other.pk != candidate.pk and other.is_active and ties(candidate, other):
            return other
    return None
