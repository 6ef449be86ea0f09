"""Scans are checked by content: real STL (binary, ASCII) and PLY files, and broken ones."""

import hashlib
import os
import struct

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.storage import default_storage
from lxml import etree

from otoorder.backends.document import ItemDocument, ScanDocument
from otoorder.backends.exceptions import OrderRejected
from otoorder.backends.otofaktur_otoport import OtofakturOtoportBackend
from otoorder.backends.transports.files import ROOT_ENV
from otoorder.orders import scans
from otoorder.vocabulary import ScanFormat
from otoorder.orders.documents import build_document
from otoorder.orders.services import place_order
from tests import scan_files
from tests.documents import order_document, stored
from tests.factories import bte_item
from tests.labs.sftp_lab import sftp_lab  # noqa: F401 - fixture


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"


def error_of(data):
    with pytest.raises(ValidationError) as caught:
        scans.inspect_scan(data)
    return caught.value


@pytest.mark.parametrize(
    ("data", "file_format"),
    [
        (scan_files.stl_binary(), ScanFormat.STL_BINARY),
        # Some exporters start the binary header with "solid": the size decides.
        (scan_files.stl_binary(header=b"solid exported by scanner"), ScanFormat.STL_BINARY),
        (scan_files.stl_ascii(), ScanFormat.STL_ASCII),
        (scan_files.stl_ascii().replace(b"\n", b"\r\n"), ScanFormat.STL_ASCII),
        (scan_files.stl_ascii().upper(), ScanFormat.STL_ASCII),
        (scan_files.ply_ascii(), ScanFormat.PLY),
        (scan_files.ply_binary("<"), ScanFormat.PLY),
        (scan_files.ply_binary(">"), ScanFormat.PLY),
    ],
)
def test_real_meshes_are_read(data, file_format):
    info = scans.inspect_scan(data)
    assert info.file_format == file_format
    assert info.triangle_count == 4
    assert info.file_size == len(data)
    assert info.sha256 == hashlib.sha256(data).hexdigest()


def test_ply_quads_count_as_two_triangles():
    header = scan_files.ply_header("ascii", faces=[(0, 1, 2, 3)])
    body = "".join(f"{x} {y} {z}\n" for x, y, z in scan_files.VERTICES) + "4 0 1 2 3\n"
    assert scans.inspect_scan(header + body.encode()).triangle_count == 2


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "leer"),
        (b"   \n", "leer"),
        (os.urandom(2000), "kein lesbarer STL- oder PLY-Scan"),
        (b"%PDF-1.7\n" + b"x" * 300, "kein lesbarer STL- oder PLY-Scan"),
        (b"hello", "weder ein STL- noch ein PLY-Scan"),
        (scan_files.stl_binary()[:-10], "unvollständig oder beschädigt"),
        (scan_files.stl_binary() + b"\0" * 7, "unvollständig oder beschädigt"),
        (b" " * 80 + struct.pack("<I", 0), "keine Dreiecke"),
        (scan_files.stl_ascii()[:-30], "„endsolid“ fehlt"),
        (scan_files.stl_ascii().replace(b"outer loop", b"outer lop", 1), "Zeile 3"),
        (scan_files.stl_ascii().replace(b"vertex 0", b"vertex x", 1), "Zeile 4"),
        (scan_files.stl_ascii().replace(b"vertex 0.000000e+00", b"vertex nan", 1), "Zeile 4"),
        (b"\n\n" + scan_files.stl_ascii().replace(b"endloop", b"endlop"), "Zeile 9 nicht lesbar (erwartet: „endloop“)"),
        (b"solid leer\nendsolid leer\n", "keine Dreiecke"),
        (scan_files.ply_ascii()[:-8], "unvollständig"),
        (scan_files.ply_binary()[:-3], "unvollständig"),
        (scan_files.ply_binary() + b"\0", "weitere Bytes"),
        (scan_files.ply_header("ascii"), "unvollständig"),
        (b"ply\nformat ascii 1.0\nelement vertex 3\n", "„end_header“ fehlt"),
        (scan_files.ply_ascii().replace(b"format ascii 1.0", b"format ascii 2.0"), "nicht unterstützt"),
        (scan_files.ply_ascii().replace(b"element face", b"element edge"), "kein Netz"),
        (scan_files.ply_ascii().replace(b"3 1 2 3\n", b"3 1 2 9\n"), "ungültigen Eckpunkten"),
    ],
)
def test_broken_files_are_refused_with_a_german_reason(data, words):
    error = error_of(data)
    assert error.code == scans.INVALID
    assert words in error.messages[0]


def test_the_file_name_does_not_matter():
    upload = SimpleUploadedFile("ohr-rechts.stl", b"this is not a mesh at all, just text")
    with pytest.raises(ValidationError) as caught:
        scans.create_impression(customer=None, side="right", kind="scan", upload=upload)
    assert caught.value.error_dict["file"][0].code == scans.INVALID


def test_oversized_file_is_refused_before_it_is_read(settings):
    settings.OTOORDER_SCAN_MAX_BYTES = 100
    error = error_of(scan_files.stl_binary())
    assert error.code == scans.TOO_LARGE
    assert "zu groß" in error.messages[0]
    upload = SimpleUploadedFile("big.stl", scan_files.stl_binary())
    with pytest.raises(ValidationError) as caught:
        scans.read_upload(upload)
    assert caught.value.code == scans.TOO_LARGE


@pytest.mark.django_db
def test_scan_is_stored_privately_with_its_checksum(customer, alice, settings):
    data = scan_files.stl_binary()
    upload = SimpleUploadedFile("Mustermann rechts.stl", data)
    impression = scans.create_impression(
        customer=customer, side="right", kind="scan", upload=upload, scanner=" Otoscan ", user=alice
    )
    impression.refresh_from_db()
    assert impression.file_format == ScanFormat.STL_BINARY
    assert impression.triangle_count == 4
    assert impression.file_size == len(data)
    assert impression.sha256 == hashlib.sha256(data).hexdigest()
    assert impression.original_name == "Mustermann rechts.stl"
    assert impression.scanner == "Otoscan"
    assert impression.uploaded_by == alice
    # Named by id, never by the uploader's file name, and under MEDIA_ROOT.
    assert impression.file.name.startswith("scans/") and impression.file.name.endswith(f"{impression.pk}.stl")
    assert impression.file.path.startswith(str(settings.MEDIA_ROOT))
    assert not str(settings.MEDIA_ROOT).startswith(str(settings.STATIC_ROOT))
    with impression.file.open("rb") as stored:
        assert stored.read() == data


@pytest.mark.django_db
def test_physical_impression_and_field_errors(customer):
    impression = scans.create_impression(
        customer=customer, side="left", kind="physical", reference="Box 17", tracking_number="00340434"
    )
    assert (impression.kind, impression.reference, impression.tracking_number) == ("physical", "Box 17", "00340434")
    assert not impression.file
    with pytest.raises(ValidationError) as caught:
        scans.create_impression(customer=customer, side="both", kind="scan")
    assert set(caught.value.error_dict) == {"side", "file"}
    with pytest.raises(ValidationError) as caught:
        scans.create_impression(
            customer=customer, side="left", kind="physical", upload=SimpleUploadedFile("a.stl", scan_files.stl_binary())
        )
    assert set(caught.value.error_dict) == {"file"}


@pytest.mark.django_db
def test_impressions_for_lists_one_ear_newest_first(customer):
    first = scans.create_impression(customer=customer, side="left", kind="physical", reference="1")
    second = scans.create_impression(
        customer=customer, side="left", kind="scan", upload=SimpleUploadedFile("l.ply", scan_files.ply_ascii())
    )
    scans.create_impression(customer=customer, side="right", kind="physical")
    assert list(scans.impressions_for(customer, "left")) == [second, first]
    by_side = scans.impressions_by_side(customer)
    assert [len(by_side["right"]), len(by_side["left"])] == [1, 2]


# --- scans travel to Otoport's outbox --------------------------------------------------------

ORDER_ID = "6f1c2d8e-0000-4000-8000-0000000000a1"


@pytest.fixture
def exchange_root(tmp_path, monkeypatch):
    root = tmp_path / "exchange"
    root.mkdir()
    monkeypatch.setenv(ROOT_ENV, str(root))
    return root


def scan_document(tmp_path, side, data, extension):
    name = stored(f"scans/stored-{side}{extension}", data)
    return ScanDocument(filename=f"{side}{extension}", stored_name=name, side=side, sha256=hashlib.sha256(data).hexdigest())


def otoport():
    return OtofakturOtoportBackend({"outbox_dir": "otoport/out", "inbox_dir": "otoport/in"})


def test_otoport_writes_each_scan_next_to_the_order_file(exchange_root, tmp_path):
    right, left = scan_files.stl_binary(), scan_files.ply_binary()
    document = order_document(
        order_id=ORDER_ID,
        scans=(scan_document(tmp_path, "right", right, ".stl"), scan_document(tmp_path, "left", left, ".ply")),
    )
    result = otoport().send(document)
    assert result.status == "ordered"
    outbox = exchange_root / "otoport" / "out"
    assert sorted(p.name for p in outbox.iterdir()) == [f"{ORDER_ID}.left.ply", f"{ORDER_ID}.right.stl", f"{ORDER_ID}.xml"]
    assert (outbox / f"{ORDER_ID}.right.stl").read_bytes() == right
    assert (outbox / f"{ORDER_ID}.left.ply").read_bytes() == left
    item = ItemDocument(side="right", side_label="rechts", scan_file_name="right.stl", scan_format="stl_binary")
    xml = etree.fromstring(otoport().build_payload(order_document(order_id=ORDER_ID, items=(item,))).order_file[1])
    # The order file names its scan as it lies next to it.
    assert xml.findtext("items/item/scan-file") == f"{ORDER_ID}.right.stl"
    # A resend replaces the files, never a second copy or a temporary left behind.
    otoport().send(document)
    assert len(list(outbox.iterdir())) == 3


def test_otoport_refuses_an_order_whose_scan_is_gone(exchange_root, tmp_path):
    scan = scan_document(tmp_path, "right", scan_files.stl_binary(), ".stl")
    default_storage.delete(scan.stored_name)
    with pytest.raises(OrderRejected, match="fehlt im Speicher"):
        otoport().send(order_document(order_id=ORDER_ID, scans=(scan,)))
    assert not (exchange_root / "otoport" / "out" / f"{ORDER_ID}.xml").exists()


def test_otoport_uploads_the_scans_over_sftp(sftp_lab, tmp_path):
    (sftp_lab.root / "out").mkdir()
    (sftp_lab.root / "in").mkdir()
    data = scan_files.stl_ascii()
    document = order_document(order_id=ORDER_ID, scans=(scan_document(tmp_path, "left", data, ".stl"),))
    result = OtofakturOtoportBackend(sftp_lab.options(), timeout=5.0).send(document)
    assert result.status == "ordered"
    out = sftp_lab.root / "out"
    assert sorted(p.name for p in out.iterdir()) == [f"{ORDER_ID}.left.stl", f"{ORDER_ID}.xml"]
    assert (out / f"{ORDER_ID}.left.stl").read_bytes() == data


@pytest.mark.django_db
def test_uploaded_scan_of_an_order_lands_in_otoport_outbox(
    exchange_root, customer, alice, dreve, dreve_supplier, transaction_obj
):
    data = scan_files.ply_binary()
    impression = scans.create_impression(
        customer=customer, side="right", kind="scan", upload=SimpleUploadedFile("Erika R.ply", data), user=alice
    )
    order = place_order(
        transaction_obj=transaction_obj,
        company=dreve,
        supplier=dreve_supplier,
        items=[bte_item("right", impression=impression)],
        user=alice,
    )
    otoport().send(build_document(order))
    outbox = exchange_root / "otoport" / "out"
    assert (outbox / f"{order.pk}.right.ply").read_bytes() == data
    xml = etree.fromstring((outbox / f"{order.pk}.xml").read_bytes())
    assert xml.findtext("items/item/scan-file") == f"{order.pk}.right.ply"
    assert xml.findtext("items/item/scan-sha256") == hashlib.sha256(data).hexdigest()
    assert "Erika" not in " ".join(p.name for p in outbox.iterdir())


# --- bounded work: declared counts are checked against the bytes before anything is read ------

#: A guard, not a speed requirement: a bomb that were read row by row would pin the CPU for
#: hours; with the guard it fails this test instead. The check's speed is measured in bench/.
bounded = pytest.mark.timeout(30)

PLY_BODY_BINARY, PLY_BODY_ASCII = scan_files.ply_body("<"), scan_files.ply_body(None)


@bounded
@pytest.mark.parametrize("fmt", ["binary_little_endian", "ascii"])
def test_ply_bomb_of_empty_rows_is_refused(fmt):
    data = scan_files.ply_bomb(fmt)
    assert len(data) < 256
    error = error_of(data)
    assert error.code == scans.INVALID
    assert "Der Kopf der PLY-Datei ist nicht lesbar: „element face 1000000000000“" in error.messages[0]


@bounded
@pytest.mark.parametrize(
    ("data", "words"),
    [
        # 10^12 faces of at least 13 bytes each, in a body of 100 bytes
        (scan_files.ply_declaring("binary_little_endian", 4, 10**12, PLY_BODY_BINARY), "„face“ an, dafür reichen die 52 Bytes"),
        (scan_files.ply_declaring("binary_little_endian", 10**12, 4, PLY_BODY_BINARY), "„vertex“ an, dafür reichen die 100 Bytes"),
        (scan_files.ply_declaring("binary_big_endian", 4, 2**64, PLY_BODY_BINARY), "18446744073709551616 Einträge"),
        # an ASCII PLY that lies: far more rows declared than lines present
        (scan_files.ply_declaring("ascii", 4, 10**12, PLY_BODY_ASCII), "„face“ an, dafür reichen die 5 Zeilen"),
        (scan_files.ply_declaring("ascii", 10**12, 4, PLY_BODY_ASCII), "„vertex“ an, dafür reichen die 9 Zeilen"),
        # and ones that lie a little, either way
        (scan_files.ply_declaring("ascii", 4, 5, PLY_BODY_ASCII), "es fehlen Daten, die der Kopf ankündigt"),
        (scan_files.ply_declaring("ascii", 4, 3, PLY_BODY_ASCII), "weitere Bytes"),
        (scan_files.ply_declaring("ascii", 3, 4, PLY_BODY_ASCII), "weitere Bytes"),
        (scan_files.ply_declaring("ascii", 4, 4, PLY_BODY_ASCII.replace(b"3 0 3 2\n", b"   \n")), "es fehlen Daten"),
    ],
)
def test_ply_declaring_more_than_it_holds_is_refused(data, words):
    assert len(data) < 400
    error = error_of(data)
    assert error.code == scans.INVALID
    assert "unvollständig" in error.messages[0] or words == "weitere Bytes"
    assert words in error.messages[0]


@bounded
@pytest.mark.parametrize("count", [5, 2**20, 2**32 - 1])
def test_binary_stl_with_a_huge_triangle_count_is_refused(count):
    error = error_of(scan_files.stl_binary_declaring(count))
    assert error.code == scans.INVALID
    assert f"für {count} Dreiecke {84 + 50 * count} Bytes groß sein, sie hat 284 Bytes" in error.messages[0]


def test_ply_with_an_endless_count_is_refused():
    error = error_of(scan_files.ply_declaring("ascii", 4, "9" * 5000, PLY_BODY_ASCII))
    assert error.code == scans.INVALID
    assert "Der Kopf der PLY-Datei ist nicht lesbar: „element face 9999" in error.messages[0]


@bounded
@pytest.mark.parametrize(
    "header",
    [
        # an endless comment: no end_header within the header limit
        b"ply\nformat ascii 1.0\ncomment " + b"x" * (1024 * 1024) + b"\nend_header\n",
        # short lines, but more of them than any scanner writes
        b"ply\nformat ascii 1.0\n" + b"comment\n" * 5000 + b"end_header\n",
        b"ply\nformat ascii 1.0\nelement vertex 1\n" + b"property float x\n" * 3000 + b"end_header\n",
    ],
)
def test_ply_with_an_enormous_header_is_refused(header):
    error = error_of(header + PLY_BODY_ASCII)
    assert error.code == scans.INVALID
    assert "Der Kopf der PLY-Datei ist zu lang (erlaubt sind 1000 Zeilen und 64,0" in error.messages[0]


def ply_list_of(length_type, length, items, fmt="binary_little_endian"):
    header = scan_files.ply_raw_header(
        fmt, "element vertex 4", "property float x", "property float y", "property float z",
        "element face 1", f"property list {length_type} int vertex_indices",
    )  # fmt: skip
    vertices = PLY_BODY_BINARY[:48] if fmt != "ascii" else PLY_BODY_ASCII.split(b"3 ", 1)[0]
    if fmt == "ascii":
        return header + vertices + f"{length} {' '.join(map(str, items))}\n".encode()
    return header + vertices + struct.pack("<I", length) + struct.pack(f"<{len(items)}i", *items)


@bounded
@pytest.mark.parametrize(
    "data",
    [
        ply_list_of("uint", 4_000_000_000, [0, 1, 2]),
        ply_list_of("uint", 256, list(range(256))),
        ply_list_of("uint", 300, [0] * 300, fmt="ascii"),
    ],
)
def test_ply_lists_are_bounded(data):
    error = error_of(data)
    assert error.code == scans.INVALID
    assert "eine Liste mit" in error.messages[0] and "erlaubt sind höchstens 255" in error.messages[0]


def test_ply_within_the_list_bound_is_read():
    assert scans.inspect_scan(ply_list_of("uint", 3, [0, 1, 2])).triangle_count == 1
    assert scans.inspect_scan(ply_list_of("uint", 3, [0, 1, 2], fmt="ascii")).triangle_count == 1


@pytest.mark.parametrize("fmt", ["binary_little_endian", "binary_big_endian", "ascii"])
def test_ply_of_triangles_and_quads_is_counted_row_by_row(fmt):
    faces = [(0, 1, 2, 3), (0, 2, 1), (1, 2, 3, 0, 2), (0, 3, 2)]  # 2 + 1 + 3 + 1 triangles
    order = ">" if fmt == "binary_big_endian" else "<"
    if fmt == "ascii":
        body = PLY_BODY_ASCII.split(b"3 ", 1)[0] + "".join(f"{len(f)} {' '.join(map(str, f))}\n" for f in faces).encode()
    else:
        body = b"".join(struct.pack(order + "3f", *vertex) for vertex in scan_files.VERTICES)
        body += b"".join(struct.pack(f"{order}B{len(f)}i", len(f), *f) for f in faces)
    assert scans.inspect_scan(scan_files.ply_declaring(fmt, 4, 4, body)).triangle_count == 7
    # A lie in the middle of the rows still fails: the second face claims a corner too many.
    if fmt == "ascii":
        broken = body.replace(b"3 0 2 1\n", b"4 0 2 1\n", 1)
    else:
        broken = body.replace(struct.pack(order + "B3i", 3, 0, 2, 1), struct.pack(order + "B3i", 4, 0, 2, 1), 1)
    error = error_of(scan_files.ply_declaring(fmt, 4, 4, broken))
    assert error.code == scans.INVALID and "Die PLY-Datei ist" in error.messages[0]


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_ply_and_stl_with_coordinates_that_are_not_numbers_are_refused(value):
    body = bytearray(PLY_BODY_BINARY)
    body[4:8] = struct.pack("<f", value)
    assert "ungültige Koordinaten" in error_of(scan_files.ply_declaring("binary_little_endian", 4, 4, bytes(body))).messages[0]
    stl = bytearray(scan_files.stl_binary())
    stl[84 + 16 : 84 + 20] = struct.pack("<f", value)
    assert "ungültige Koordinaten" in error_of(bytes(stl)).messages[0]
