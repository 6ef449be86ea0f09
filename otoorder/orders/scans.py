"""3D scans of ears: STL (binary and ASCII) and PLY, checked by content, never by file name.

:func:`inspect_scan` reads the bytes and either describes the mesh (:class:`ScanInfo`) or
raises a ``ValidationError`` (code ``invalid_scan``, or ``scan_too_large`` above
``OTOORDER_SCAN_MAX_BYTES``) whose German message tells staff what is wrong with the file.
:func:`create_impression` is the one place that records an impression (physical or scan);
views and the API call it. Files are stored under MEDIA_ROOT (private, outside the web root)
and named by the impression's id — the uploader's file name may carry a customer's name, so it
is kept only in ``original_name`` and in the download's ``Content-Disposition``.
"""

import hashlib
import logging
import math
import re
import struct
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from otoorder import vocabulary

from .models import Impression

logger = logging.getLogger(__name__)

INVALID = "invalid_scan"
TOO_LARGE = "scan_too_large"

STL_HEADER = 80
STL_TRIANGLE = 50  # normal + 3 vertices (12 float32) + uint16 attribute byte count
#: A PLY header is a few hundred bytes; a longer one is not a scan.
PLY_HEADER_MAX = 64 * 1024

PLY_TYPES = {
    "char": "b", "int8": "b", "uchar": "B", "uint8": "B",
    "short": "h", "int16": "h", "ushort": "H", "uint16": "H",
    "int": "i", "int32": "i", "uint": "I", "uint32": "I",
    "float": "f", "float32": "f", "double": "d", "float64": "d",
}  # fmt: skip
PLY_BYTE_ORDER = {"binary_little_endian": "<", "binary_big_endian": ">"}
FILE_SUFFIX = {
    vocabulary.ScanFormat.STL_BINARY: "stl",
    vocabulary.ScanFormat.STL_ASCII: "stl",
    vocabulary.ScanFormat.PLY: "ply",
}


@dataclass(frozen=True)
class ScanInfo:
    file_format: str
    triangle_count: int
    file_size: int
    sha256: str


def invalid(message, **params):
    return ValidationError(message % params if params else message, code=INVALID)


def max_bytes():
    return settings.OTOORDER_SCAN_MAX_BYTES


def read_upload(fileobj):
    """All bytes of an uploaded file, refusing more than the limit without reading it all."""
    limit = max_bytes()
    size = getattr(fileobj, "size", None)
    if size is not None and size > limit:
        raise too_large(size)
    fileobj.seek(0)
    data = fileobj.read(limit + 1)
    if len(data) > limit:
        raise too_large(len(data))
    return data


#: Room for the other form fields and the multipart framing around the file.
REQUEST_OVERHEAD = 64 * 1024


def check_request_size(request):
    """Refuse an upload whose request is larger than the limit before reading its body."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > max_bytes() + REQUEST_OVERHEAD:
        raise too_large(length)


def too_large(size):
    return ValidationError(
        _("Die Scan-Datei ist zu groß (%(size)s); erlaubt sind höchstens %(max)s.")
        % {"size": filesizeformat(size), "max": filesizeformat(max_bytes())},
        code=TOO_LARGE,
    )


def inspect_scan(data):
    """Describe the mesh in ``data`` (bytes) or raise ``ValidationError``."""
    if len(data) > max_bytes():
        raise too_large(len(data))
    if not data.strip():
        raise invalid(_("Die Scan-Datei ist leer."))
    if data.startswith((b"ply\n", b"ply\r\n")):
        file_format, triangles = vocabulary.ScanFormat.PLY, ply_triangles(data)
    elif is_binary_stl(data):
        file_format, triangles = vocabulary.ScanFormat.STL_BINARY, binary_stl_triangles(data)
    elif data.lstrip()[:5].lower() == b"solid":
        file_format, triangles = vocabulary.ScanFormat.STL_ASCII, ascii_stl_triangles(data)
    else:
        file_format, triangles = vocabulary.ScanFormat.STL_BINARY, binary_stl_triangles(data)
    return ScanInfo(file_format, triangles, len(data), hashlib.sha256(data).hexdigest())


# --- STL ---------------------------------------------------------------------------------


def is_binary_stl(data):
    """Binary STL has no magic: its size must match the triangle count in the header.

    Some exporters begin the binary header with ``solid`` too, so this test comes before
    the ASCII one.
    """
    if len(data) < STL_HEADER + 4:
        return False
    (count,) = struct.unpack_from("<I", data, STL_HEADER)
    return count > 0 and len(data) == STL_HEADER + 4 + STL_TRIANGLE * count


def binary_stl_triangles(data):
    size = len(data)
    if size < STL_HEADER + 4:
        raise invalid(
            _("Die Datei ist weder ein STL- noch ein PLY-Scan (zu kurz). Bitte die Datei hochladen, wie der Scanner sie als STL oder PLY exportiert.")
        )
    (count,) = struct.unpack_from("<I", data, STL_HEADER)
    expected = STL_HEADER + 4 + STL_TRIANGLE * count
    if size == expected == STL_HEADER + 4:
        raise invalid(_("Die STL-Datei enthält keine Dreiecke."))
    if size != expected or count == 0:
        raise invalid(
            _(
                "Die Datei ist kein lesbarer STL- oder PLY-Scan: als binäre STL-Datei müsste sie "
                "für %(count)s Dreiecke %(expected)s Bytes groß sein, sie hat %(size)s Bytes "
                "(unvollständig oder beschädigt)."
            ),
            count=count,
            expected=expected,
            size=size,
        )
    body = memoryview(data)[STL_HEADER + 4 :]
    for values in struct.iter_unpack("<12fH", body):
        if not all(map(math.isfinite, values[:12])):
            raise invalid(_("Die STL-Datei enthält ungültige Koordinaten."))
    return count


_STL_FACET_LINES = (
    ("facet", "normal", 3),
    ("outer", "loop", 0),
    ("vertex", None, 3),
    ("vertex", None, 3),
    ("vertex", None, 3),
    ("endloop", None, 0),
    ("endfacet", None, 0),
)


def ascii_stl_triangles(data):
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise invalid(_("Die STL-Datei (ASCII) enthält Zeichen, die in STL nicht vorkommen.")) from None
    lines = [(number, line.split()) for number, line in enumerate(text.splitlines(), 1) if line.strip()]
    if not lines or lines[-1][1][0].lower() != "endsolid":
        raise invalid(_("Die STL-Datei (ASCII) ist unvollständig: das abschließende „endsolid“ fehlt."))
    facets = lines[1:-1]
    if len(facets) % len(_STL_FACET_LINES):
        raise invalid(_("Die STL-Datei (ASCII) ist unvollständig: die letzte Fläche ist nicht abgeschlossen."))
    for index, (number, words) in enumerate(facets):
        keyword, second, numbers = _STL_FACET_LINES[index % len(_STL_FACET_LINES)]
        check_stl_line(number, words, keyword, second, numbers)
    count = len(facets) // len(_STL_FACET_LINES)
    if not count:
        raise invalid(_("Die STL-Datei enthält keine Dreiecke."))
    return count


def check_stl_line(number, words, keyword, second, numbers):
    expected = " ".join(filter(None, (keyword, second)))
    head = [word.lower() for word in words[: 2 if second else 1]]
    values = words[len(head) :]
    if head != expected.split() or len(values) != numbers or not all(map(is_finite_number, values)):
        raise invalid(
            _("Die STL-Datei (ASCII) ist in Zeile %(line)s nicht lesbar (erwartet: „%(expected)s“)."),
            line=number,
            expected=expected,
        )


def is_finite_number(word):
    try:
        return math.isfinite(float(word))
    except ValueError:
        return False


# --- PLY ---------------------------------------------------------------------------------


@dataclass
class PlyElement:
    name: str
    count: int
    #: ``(name, scalar type)`` or ``(name, (count type, item type))`` for list properties
    properties: list


def ply_triangles(data):
    end = re.search(rb"end_header\r?\n", data[:PLY_HEADER_MAX])
    if not end:
        raise invalid(_("Der Kopf der PLY-Datei ist unvollständig („end_header“ fehlt)."))
    try:
        header = data[: end.start()].decode("ascii")
    except UnicodeDecodeError:
        raise invalid(_("Der Kopf der PLY-Datei ist nicht lesbar.")) from None
    file_format, elements = parse_ply_header(header)
    by_name = {element.name: element for element in elements}
    if "vertex" not in by_name or "face" not in by_name:
        raise invalid(_("Die PLY-Datei enthält kein Netz (es fehlen „element vertex“ oder „element face“)."))
    body = data[end.end() :]
    if file_format == "ascii":
        faces = read_ascii_ply(body, elements)
    else:
        faces = read_binary_ply(body, elements, PLY_BYTE_ORDER[file_format])
    vertices = by_name["vertex"].count
    triangles = 0
    for indices in faces:
        if len(indices) < 3 or any(not 0 <= int(index) < vertices for index in indices):
            raise invalid(_("Die PLY-Datei enthält eine Fläche mit ungültigen Eckpunkten."))
        triangles += len(indices) - 2
    if not triangles:
        raise invalid(_("Die PLY-Datei enthält keine Dreiecke."))
    return triangles


def parse_ply_header(header):
    lines = [line.split() for line in header.splitlines()[1:]]
    lines = [words for words in lines if words and words[0] not in ("comment", "obj_info")]
    if not lines or lines[0][:1] != ["format"] or len(lines[0]) != 3:
        raise invalid(_("Der Kopf der PLY-Datei nennt kein Format."))
    _keyword, file_format, version = lines[0]
    if file_format not in ("ascii", *PLY_BYTE_ORDER) or version != "1.0":
        raise invalid(_("Das PLY-Format „%(format)s“ wird nicht unterstützt."), format=f"{file_format} {version}")
    elements = []
    for words in lines[1:]:
        if words[0] == "element" and len(words) == 3 and words[2].isdigit():
            elements.append(PlyElement(words[1], int(words[2]), []))
        elif words[0] == "property" and elements:
            elements[-1].properties.append(ply_property(words))
        else:
            raise invalid(_("Der Kopf der PLY-Datei ist nicht lesbar: „%(line)s“."), line=" ".join(words)[:60])
    return file_format, elements


def ply_property(words):
    if len(words) == 3 and words[1] in PLY_TYPES:
        return words[2], PLY_TYPES[words[1]]
    if len(words) == 5 and words[1] == "list" and words[2] in PLY_TYPES and words[3] in PLY_TYPES:
        return words[4], (PLY_TYPES[words[2]], PLY_TYPES[words[3]])
    raise invalid(_("Der Kopf der PLY-Datei ist nicht lesbar: „%(line)s“."), line=" ".join(words)[:60])


def ply_truncated():
    return invalid(_("Die PLY-Datei ist unvollständig: es fehlen Daten, die der Kopf ankündigt."))


def ply_trailing():
    return invalid(_("Die PLY-Datei ist beschädigt: nach den angekündigten Daten folgen weitere Bytes."))


def read_binary_ply(body, elements, order):
    """Walk the body as the header describes it; return each face's vertex indices."""
    view, offset, faces = memoryview(body), 0, []
    for element in elements:
        scalar = all(isinstance(kind, str) for _name, kind in element.properties)
        if scalar and element.name != "face":
            # Fixed-size rows: only the size has to add up.
            offset += element.count * struct.calcsize(order + "".join(k for _n, k in element.properties))
            if offset > len(body):
                raise ply_truncated()
            continue
        for _row in range(element.count):
            for name, kind in element.properties:
                offset, value = read_binary_value(view, offset, order, kind)
                if element.name == "face" and name in ("vertex_indices", "vertex_index"):
                    faces.append(value)
    if offset != len(body):
        raise ply_trailing()
    return faces


def read_binary_value(view, offset, order, kind):
    try:
        if isinstance(kind, str):
            (value,) = struct.unpack_from(order + kind, view, offset)
            return offset + struct.calcsize(kind), value
        count_kind, item_kind = kind
        (count,) = struct.unpack_from(order + count_kind, view, offset)
        offset += struct.calcsize(order + count_kind)
        items = struct.unpack_from(f"{order}{count}{item_kind}", view, offset)
        return offset + struct.calcsize(f"{order}{count}{item_kind}"), items
    except struct.error:
        raise ply_truncated() from None


def read_ascii_ply(body, elements):
    try:
        words = body.decode("ascii").split()
    except UnicodeDecodeError:
        raise invalid(_("Die PLY-Datei (ASCII) enthält Zeichen, die in PLY nicht vorkommen.")) from None
    position, faces = 0, []

    def take():
        nonlocal position
        if position >= len(words):
            raise ply_truncated()
        word = words[position]
        position += 1
        if not is_finite_number(word):
            raise invalid(_("Die PLY-Datei (ASCII) enthält einen ungültigen Wert: „%(value)s“."), value=word[:20])
        return float(word)

    for element in elements:
        for _row in range(element.count):
            for name, kind in element.properties:
                if isinstance(kind, str):
                    take()
                    continue
                count = take()
                if count != int(count) or count < 0:
                    raise invalid(_("Die PLY-Datei (ASCII) enthält eine ungültige Listenlänge."))
                items = [take() for _item in range(int(count))]
                if element.name == "face" and name in ("vertex_indices", "vertex_index"):
                    faces.append(items)
    if position != len(words):
        raise ply_trailing()
    return faces


# --- impressions -------------------------------------------------------------------------


def impressions_for(customer, side):
    """The customer's impressions (physical and scans) of one ear, newest first.

    ``customer`` must already be one the user may see (scoped by ``Customer.objects.visible_to``).
    """
    return Impression.objects.filter(customer=customer, side=side).order_by("-created_at")


def impressions_by_side(customer):
    """``{"right": [...], "left": [...]}`` for the customer page, in one query."""
    result = {side: [] for side in (vocabulary.Side.RIGHT, vocabulary.Side.LEFT)}
    for impression in Impression.objects.filter(customer=customer).order_by("-created_at"):
        result.setdefault(impression.side, []).append(impression)
    return result


def create_impression(*, customer, side, kind, user=None, upload=None, reference="", tracking_number="", scanner=""):
    """Record a physical impression or a checked scan; raise ``ValidationError`` keyed by field.

    A scan's file errors are under ``file`` with code ``invalid_scan`` (or ``scan_too_large``).
    """
    errors = {}
    if side not in vocabulary.Side.values:
        errors["side"] = [ValidationError(_("Bitte die Seite wählen (rechts oder links)."), code="invalid_side")]
    if kind not in vocabulary.ImpressionKind.values:
        errors["kind"] = [ValidationError(_("Bitte „Abdruck“ oder „3D-Scan“ wählen."), code="invalid_kind")]
    info = data = None
    if kind == vocabulary.ImpressionKind.SCAN:
        if upload is None:
            errors["file"] = [ValidationError(_("Bitte die Scan-Datei (STL oder PLY) auswählen."), code="required")]
        else:
            try:
                data = read_upload(upload)
                info = inspect_scan(data)
            except ValidationError as exc:
                errors["file"] = [exc]
    elif upload is not None:
        errors["file"] = [
            ValidationError(_("Ein Abdruck per Post hat keine Datei; für eine Datei bitte „3D-Scan“ wählen."), code="file_not_allowed")
        ]
    if errors:
        raise ValidationError(errors)
    impression = Impression(
        customer=customer,
        side=side,
        kind=kind,
        reference=reference.strip(),
        tracking_number=tracking_number.strip(),
        scanner=scanner.strip() if info else "",
        uploaded_by=user if getattr(user, "is_authenticated", False) else None,
    )
    if info:
        impression.original_name = (getattr(upload, "name", "") or "")[-255:]
        impression.file_format = info.file_format
        impression.file_size = info.file_size
        impression.sha256 = info.sha256
        impression.triangle_count = info.triangle_count
    with transaction.atomic():
        if info:
            name = f"{impression.id}.{FILE_SUFFIX[info.file_format]}"
            impression.file.save(name, ContentFile(data), save=False)
        impression.save()
    logger.info("impression %s (%s) recorded for customer %s by user %s", impression.pk, kind, customer.pk, getattr(user, "pk", None))
    return impression
