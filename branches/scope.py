"""What a user administers (branch administration), for the decisions of its pages and API:
which branches and chains a form offers, whether a definition may be changed. Which rows a
user may see at all is the rule in ``access`` (``<Model>.objects.visible_to(user)``).
"""

from dataclasses import dataclass

from django.db.models import Q

from .access import Role
from .models import Branch, Chain, Membership


@dataclass(frozen=True)
class AdminScope:
    """What a user administers in branch administration."""

    chain_ids: frozenset
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
    if not user.is_authenticated:
        return AdminScope(frozenset(), frozenset())
    if user.is_superuser:
        return AdminScope(
            frozenset(Chain.objects.values_list("pk", flat=True)),
            frozenset(Branch.objects.values_list("pk", flat=True)),
        )
    rows = Membership.objects.filter(
        user=user, role__in=[Role.BRANCH_ADMIN, Role.CHAIN_ADMIN]
    ).values_list("role", "chain_id", "branch_id")
    chains = frozenset(chain for role, chain, _branch in rows if role == Role.CHAIN_ADMIN)
    branches = frozenset(branch for role, _chain, branch in rows if role == Role.BRANCH_ADMIN)
    return AdminScope(chains, branches)
