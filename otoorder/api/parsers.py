"""The API's JSON parser: a body nested deeper than Python's recursion limit is a 400.

DRF's ``JSONParser`` turns the ``ValueError`` of malformed JSON into ``ParseError`` but lets
the ``RecursionError`` of ``[[[[…]]]]`` through, which answered 500.
"""

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError() from None
