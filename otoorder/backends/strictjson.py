"""JSON from outside (lab callbacks) read with bounded work and finite numbers only.

``json.loads`` recurses once per nesting level, so ``[[[[…]]]]`` of a few kB ends in a
``RecursionError`` (not a ``ValueError``), and it accepts ``NaN``, ``Infinity`` and numbers
like ``1e400`` that become ``inf``, none of which is JSON (RFC 8259) or storable in
PostgreSQL's ``jsonb``. ``loads`` checks the nesting depth with one linear pass before parsing
and raises ``ValueError`` with the reason for all of these.
"""

import json
import math
import re

#: Deeper than any document a lab sends (the portal report is three levels deep).
MAX_DEPTH = 32

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def nesting_depth(text):
    """The deepest nesting of arrays and objects in ``text`` (brackets inside strings ignored)."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    depth = deepest = 0
    for bracket in brackets:
        if bracket in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _no_constant(name):
    raise ValueError(f"{name} is not a JSON number")


def _finite(text):
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"the number {text[:20]} is out of range")
    return number


def loads(data, *, max_depth=MAX_DEPTH):
    """Parse ``data`` (bytes as UTF-8 or str); ``ValueError`` when it is not strict, bounded JSON."""
    text = data.decode("utf-8") if isinstance(data, bytes | bytearray) else data
    if nesting_depth(text) > max_depth:
        raise ValueError(f"the JSON is nested deeper than {max_depth} levels")
    return json.loads(text, parse_constant=_no_constant, parse_float=_finite)
