"""The openTRANS examples in the interface docs are what they claim: valid against the schema."""

import re
from pathlib import Path

import pytest
from lxml import etree

from tests.schemas import opentrans_xsd

REPO = Path(__file__).resolve().parents[1]
XML_BLOCK = re.compile(r"```xml\n(.*?)```", re.S)


def opentrans_examples():
    for doc in sorted((REPO / "docs" / "interfaces").glob("*.md")):
        for number, block in enumerate(XML_BLOCK.findall(doc.read_text(encoding="utf-8")), 1):
            if "http://www.opentrans.org/XMLSchema/2.1" in block:
                yield pytest.param(block, id=f"{doc.name}#{number}")


@pytest.fixture(scope="module")
def schema():
    return etree.XMLSchema(etree.parse(str(opentrans_xsd())))


@pytest.mark.parametrize("block", list(opentrans_examples()))
def test_opentrans_examples_in_the_docs_validate(schema, block):
    document = etree.fromstring(block.strip().encode("utf-8"))
    assert schema.validate(document), [f"{error.line}: {error.message}" for error in schema.error_log]
