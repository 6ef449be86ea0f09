"""Who may see what: the one access rule of otoorder, as queryset methods.

Health data: staff see only the customers, transactions, orders, impressions and attachments
of their own branches; a chain admin sees every branch of the chain; a superuser everything;
an anonymous user nothing. Administration is narrower: branch admins administer their branch
(definitions restricted to it, its account numbers), chain admins the whole chain.

Every model whose rows belong to a branch gets its manager from ``VisibleQuerySet`` (or
``AdministeredQuerySet``) with the path from the row to its branch, so that every view, API
endpoint, serializer field and form asks the same question:
``Customer.objects.visible_to(user)``. This module imports no model: the rule is written over
the relations of ``Membership`` (``memberships`` of a branch, a chain and a user), which is why
the models can be built on it.
"""

from django.db import models
from django.db.models import BooleanField, Expression, F, Q, Subquery
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    STAFF = "staff", _("Mitarbeiter")
    BRANCH_ADMIN = "branch_admin", _("Filialadministrator")
    CHAIN_ADMIN = "chain_admin", _("Kettenadministrator")


def _at(path, lookup):
    return f"{path}__{lookup}" if path else lookup


def member_filter(user, branch_path):
    """The branch at ``branch_path`` is one ``user`` may see: a membership of the branch
    (staff, branch admin) or the administration of its chain."""
    return Q(**{_at(branch_path, "memberships__user"): user}) | Q(
        **{
            _at(branch_path, "chain__memberships__user"): user,
            _at(branch_path, "chain__memberships__role"): Role.CHAIN_ADMIN,
        }
    )


def chain_admin_filter(user, chain_path):
    """The chain at ``chain_path`` is one ``user`` administers as a whole (chain admin)."""
    return Q(**{_at(chain_path, "memberships__user"): user, _at(chain_path, "memberships__role"): Role.CHAIN_ADMIN})


def admin_filter(user, branch_path):
    """The branch at ``branch_path`` is one ``user`` administers (branch or chain admin)."""
    return Q(
        **{
            _at(branch_path, "memberships__user"): user,
            _at(branch_path, "memberships__role"): Role.BRANCH_ADMIN,
        }
    ) | chain_admin_filter(user, _at(branch_path, "chain"))


class InBranches(Expression):
    """``<branch column> IN (<branches>)``; on PostgreSQL ``= ANY(ARRAY(<branches>))``.

    The branches are computed once (an InitPlan) and the rows are found over the index of
    their branch column. As a semi-join (``IN (SELECT …)``, or the rows' ids whose branch has
    a membership of the user) the planner cannot estimate the join over memberships: it
    guessed 31 of 51 branches for a member of one and read all 100,000 orders along the
    ``created_at`` index for a page of 50 (bench/README.md, pages).
    """

    output_field = BooleanField()
    conditional = True

    def __init__(self, path, branches):
        super().__init__()
        self.column, self.branches = F(path), Subquery(branches)

    def get_source_expressions(self):
        return [self.column, self.branches]

    def set_source_expressions(self, expressions):
        self.column, self.branches = expressions

    def _parts(self, compiler):
        column, column_params = compiler.compile(self.column)
        branches, branch_params = compiler.compile(self.branches)
        return column, branches, (*column_params, *branch_params)

    def as_sql(self, compiler, connection):
        column, branches, params = self._parts(compiler)
        return f"{column} IN {branches}", params

    def as_postgresql(self, compiler, connection):
        column, branches, params = self._parts(compiler)
        return f"{column} = ANY(ARRAY{branches})", params


class _ScopedQuerySet(models.QuerySet):
    #: The path from a row to its ``Branch`` ("" for a branch itself).
    branch_path = "branch"

    def _rows_where(self, user, condition):
        if user is None or not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        # The joins over memberships stay inside the subquery: no duplicate rows, no DISTINCT.
        return self.filter(pk__in=self.model._base_manager.filter(condition).values("pk"))

    def _branch_model(self):
        model = self.model
        for name in self.branch_path.split("__"):
            model = model._meta.get_field(name).related_model
        return model

    def _in_branches(self, user, branch_condition):
        """Rows whose branch meets ``branch_condition`` (written from a ``Branch``): the
        subquery selects the user's few branches, the rows are narrowed by their branch
        column (``InBranches``)."""
        if not self.branch_path:
            return self._rows_where(user, branch_condition)
        if user is None or not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        branches = self._branch_model()._base_manager.filter(branch_condition).order_by().values("pk").distinct()
        return self.filter(InBranches(self.branch_path, branches))


class VisibleQuerySet(_ScopedQuerySet):
    """Rows of a branch; ``visible_to(user)`` keeps those of the branches the user may see."""

    def visible_to(self, user):
        return self._in_branches(user, member_filter(user, ""))


class AdministeredQuerySet(_ScopedQuerySet):
    """Rows of branch administration (account numbers): ``visible_to(user)`` keeps those of
    the branches the user administers."""

    def visible_to(self, user):
        return self._in_branches(user, admin_filter(user, ""))


class DefinitionQuerySet(_ScopedQuerySet):
    """Interface definitions: ``visible_to(user)`` keeps the definitions of the chains the user
    administers (or administers a branch of) that are chain-wide or restricted to a branch the
    user administers."""

    def visible_to(self, user):
        chain_administered = Q(chain__memberships__user=user, chain__memberships__role=Role.CHAIN_ADMIN) | Q(
            chain__branches__memberships__user=user, chain__branches__memberships__role=Role.BRANCH_ADMIN
        )
        for_them = Q(branch__isnull=True) | admin_filter(user, "branch")
        return self._rows_where(user, chain_administered & for_them)
