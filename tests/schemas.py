"""The official openTRANS 2.1 schema, which the project does not ship (DESIGN.md).

The tests find it through the setting ``OTOORDER_OPENTRANS_XSD`` (environment variable of the
same name; default ``../shared/schemas/opentrans-2.1/opentrans_2_1.xsd`` beside the checkout),
with the official examples in ``examples/`` beside it. A test that needs it and does not find
it is skipped with the reason, and fails under ``CI=true``: CI must not pass by skipping.
"""

from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import IN_CI


def opentrans_xsd():
    """Path of ``opentrans_2_1.xsd``; skips the calling test (fails it in CI) when it is not there."""
    configured = settings.OTOORDER_OPENTRANS_XSD
    if configured and Path(configured).is_file():
        return Path(configured)
    reason = (
        f"the openTRANS 2.1 schema is not there (OTOORDER_OPENTRANS_XSD={configured!r}): set "
        "OTOORDER_OPENTRANS_XSD to the path of opentrans_2_1.xsd, or lay it out as "
        "../shared/schemas/opentrans-2.1/ beside the checkout"
    )
    if IN_CI:
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def opentrans_examples():
    """The folder of the official example documents, ``examples/`` beside the schema."""
    return opentrans_xsd().parent / "examples"
