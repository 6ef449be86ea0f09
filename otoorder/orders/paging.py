"""Pages of long lists that count at most ``BOUND`` rows.

Django's ``Paginator`` counts every row of the list for "page 3 of 2,000" and "100,000 orders
found": a ``COUNT(*)`` over everything the filters leave, on every page and every status check,
for a number nobody reads beyond "many". ``BoundedPaginator`` counts at most ``BOUND + 1`` rows
(``SELECT COUNT(*) FROM (… LIMIT BOUND + 1)``, which stops early along the list's index). A list
of at most ``BOUND`` rows pages as before; a longer one says "more than BOUND" and its pages are
read one row ahead (``has_next`` from the page's own rows), so every page of the list stays
reachable and none costs more than its own rows.
"""

from functools import cached_property

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator

from .live import MAX_PAGE

#: Rows counted at most; a longer list reads "more than 1,000".
BOUND = 1000


class BoundedPage(Page):
    @property
    def capped(self):
        return self.paginator.capped

    def has_next(self):
        if self.paginator.capped:
            return self.more
        return super().has_next()


class BoundedPaginator(Paginator):
    def __init__(self, object_list, per_page, bound=BOUND, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.bound = bound

    @cached_property
    def count(self):
        """The number of rows, at most ``bound + 1`` (``capped`` says when there are more)."""
        return self.object_list[: self.bound + 1].count()

    @property
    def capped(self):
        return self.count > self.bound

    def validate_number(self, number):
        """A whole number from 1; past the bound the last page is not known, only
        ``MAX_PAGE`` bounds it (``page`` finds an empty one)."""
        if not self.capped:
            return super().validate_number(number)
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        if number > MAX_PAGE:
            raise EmptyPage(self.error_messages["no_results"])
        return number

    def page(self, number):
        if not self.capped:
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows and number > 1:
            raise EmptyPage(self.error_messages["no_results"])
        page = self._get_page(rows[: self.per_page], number, self)
        page.more = len(rows) > self.per_page
        return page

    def _get_page(self, *args, **kwargs):
        return BoundedPage(*args, **kwargs)
