"""What a user administers (branch administration), for the decisions of its pages and API:
which branches and chains a form offers, whether a definition may be changed. Which rows a
user may see at all is the rule in ``access`` (``<Model>.objects.visible_to(user)``).
"""

from dataclasses import dataclass

from django.db.models import Q, Value

from .access import admin_filter, chain_admin_filter
from .models import Branch, Chain


@dataclass(frozen=True)
class AdminScope:
    """What a user administers in branch administration."""

    #: Chains the user administers as a whole (chain admin).
    chain_ids: frozenset
    #: Every branch the user administers: as its branch admin or through its chain.
    branch_ids: frozenset

    @property
    def exists(self):
        return bool(self.chain_ids or self.branch_ids)

    def is_chain_admin(self, chain_id=None):
        return bool(self.chain_ids) if chain_id is None else chain_id in self.chain_ids

    def can_admin_branch(self, branch):
        return branch.pk in self.branch_ids or branch.chain_id in self.chain_ids

    def branches(self):
        return Branch.objects.filter(Q(pk__in=self.branch_ids) | Q(chain__in=self.chain_ids))

    def chains(self):
        """Chains the user works in as an administrator of the chain or one of its branches."""
        return Chain.objects.filter(
            Q(pk__in=self.chain_ids) | Q(branches__pk__in=self.branch_ids)
        ).distinct()

    def can_admin_definition(self, definition):
        if definition.branch_id is None:
            return definition.chain_id in self.chain_ids
        return definition.branch_id in self.branch_ids or definition.chain_id in self.chain_ids


def admin_scope(user):
    """The user's ``AdminScope``, read through the one rule in ``access`` (no copy of it here),
    in one query (every page asks it for its navigation)."""
    if not user.is_authenticated:
        return AdminScope(frozenset(), frozenset())
    chains, branches = Chain.objects.all(), Branch.objects.all()
    if not user.is_superuser:
        chains, branches = chains.filter(chain_admin_filter(user, "")), branches.filter(admin_filter(user, ""))
    rows = (
        chains.order_by().annotate(kind=Value("chain")).values_list("kind", "pk")
        .union(branches.order_by().annotate(kind=Value("branch")).values_list("kind", "pk"), all=True)
    )
    ids = {"chain": set(), "branch": set()}
    for kind, pk in rows:
        ids[kind].add(pk)
    return AdminScope(frozenset(ids["chain"]), frozenset(ids["branch"]))
