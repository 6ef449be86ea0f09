"""The API's pagination: ``limit``/``offset`` as bounded integers, anything else is a 400.

DRF's ``LimitOffsetPagination`` silently falls back to its default for ``limit=abc`` and to 0
for ``offset=-3``; here a value that is not a whole number in range is refused with the API's
validation format, so a client learns about its mistake instead of reading the wrong page:

    {"code": "invalid", "detail": "…", "errors": {"limit": ["Bitte eine ganze Zahl von 1 bis 500 angeben."]}}

``limit`` is at most ``MAX_LIMIT`` (one page of the largest list a client can ask for);
``offset`` is at most ``MAX_OFFSET``, far beyond any real list, but bounded so that no
absurd number reaches the database. Both bounds are in the OpenAPI schema.
"""

import re

from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.pagination import LimitOffsetPagination

MAX_LIMIT = 500
MAX_OFFSET = 1_000_000

_DIGITS = re.compile(r"[0-9]{1,9}")


def bounded_int(params, name, *, minimum, maximum, default):
    """``params[name]`` as an int in ``minimum..maximum`` (``default`` when absent), else 400."""
    raw = params.get(name)
    if raw is None:
        return default
    if _DIGITS.fullmatch(raw) and minimum <= int(raw) <= maximum:
        return int(raw)
    raise exceptions.ValidationError(
        {
            name: [
                _("Bitte eine ganze Zahl von %(minimum)d bis %(maximum)d angeben.")
                % {"minimum": minimum, "maximum": maximum}
            ]
        }
    )


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    max_limit = MAX_LIMIT
    max_offset = MAX_OFFSET

    def get_limit(self, request):
        return bounded_int(
            request.query_params, self.limit_query_param, minimum=1, maximum=self.max_limit, default=self.default_limit
        )

    def get_offset(self, request):
        return bounded_int(request.query_params, self.offset_query_param, minimum=0, maximum=self.max_offset, default=0)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.limit_query_param: {"minimum": 1, "maximum": self.max_limit},
            self.offset_query_param: {"minimum": 0, "maximum": self.max_offset},
        }
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters
