"""3D scans of ears: STL (binary and ASCII) and PLY, checked by content, never by file name.

:func:`inspect_scan` reads the bytes and either describes the mesh (:class:`ScanInfo`) or
raises a ``ValidationError`` (code ``invalid_scan``, or ``scan_too_large`` above
``OTOORDER_SCAN_MAX_BYTES``) whose German message tells staff what is wrong with the file.
:func:`create_impression` is the one place that records an impression (physical or scan);
views and the API call it. Files are stored under MEDIA_ROOT (private, outside the web root)
and named by the impression's id — the uploader's file name may carry a customer's name, so it
is kept only in ``original_name`` and in the download's ``Content-Disposition``.

Reading is bounded before it starts: every count a file declares (triangles of a binary STL,
elements of a PLY, lengths of PLY lists) is checked against the bytes (or lines) that are
really there before anything is read in a loop, so a small file that announces billions of
triangles is refused at once; a PLY header is bounded in bytes and lines, ASCII STL by the
size limit. The meshes themselves are read with numpy, not value by value: ``frombuffer``
over the bytes of binary STL and PLY, ``loadtxt`` for ASCII PLY rows, one table of words per
ASCII STL; each check is one vectorised operation per element or column. Only PLY faces of
mixed corner counts are walked row by row (binary, with ``struct``), bounded by the file size.
Timings: ``bench/scans.py``.
"""

import hashlib
import logging
import math
import re
import struct
from dataclasses import dataclass

import numpy as np
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
#: One binary STL triangle: normal, 3 vertices (12 float32), uint16 attribute byte count.
STL_TRIANGLE = np.dtype([("normal", "<f4", (3,)), ("vertices", "<f4", (3, 3)), ("attributes", "<u2")])
#: A PLY header is a few hundred bytes and a few dozen lines; a longer one is not a scan.
PLY_HEADER_MAX = 64 * 1024
PLY_HEADER_LINES_MAX = 1000
#: At most this many values in one PLY list (a face's corners; a uchar count allows 255).
PLY_LIST_MAX = 255
#: The list property of ``element face`` that holds a face's corners.
PLY_FACE_LISTS = ("vertex_indices", "vertex_index")

PLY_TYPES = {
    "char": "i1", "int8": "i1", "uchar": "u1", "uint8": "u1",
    "short": "i2", "int16": "i2", "ushort": "u2", "uint16": "u2",
    "int": "i4", "int32": "i4", "uint": "u4", "uint32": "u4",
    "float": "f4", "float32": "f4", "double": "f8", "float64": "f8",
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
    count = stl_declared_triangles(data)
    return count > 0 and len(data) == STL_HEADER + 4 + STL_TRIANGLE.itemsize * count


def stl_declared_triangles(data):
    return int(np.frombuffer(data, "<u4", count=1, offset=STL_HEADER)[0])


def binary_stl_triangles(data):
    size = len(data)
    if size < STL_HEADER + 4:
        raise invalid(
            _("Die Datei ist weder ein STL- noch ein PLY-Scan (zu kurz). Bitte die Datei hochladen, wie der Scanner sie als STL oder PLY exportiert.")
        )
    # The declared count against the file size, before a single triangle is read.
    count = stl_declared_triangles(data)
    expected = STL_HEADER + 4 + STL_TRIANGLE.itemsize * count
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
    triangles = np.frombuffer(data, STL_TRIANGLE, count=count, offset=STL_HEADER + 4)
    if not (np.isfinite(triangles["normal"]).all() and np.isfinite(triangles["vertices"]).all()):
        raise invalid(_("Die STL-Datei enthält ungültige Koordinaten."))
    return count


#: The 21 words of one ASCII STL facet (lower case); ``None`` where a number stands.
STL_FACET_WORDS = (
    "facet", "normal", None, None, None,
    "outer", "loop",
    "vertex", None, None, None,
    "vertex", None, None, None,
    "vertex", None, None, None,
    "endloop",
    "endfacet",
)  # fmt: skip
#: What each word's line is expected to say (for the error message).
STL_FACET_LINE_OF_WORD = (
    *["facet normal"] * 5, *["outer loop"] * 2, *["vertex"] * 12, "endloop", "endfacet",
)  # fmt: skip
STL_KEYWORD_COLUMNS = [column for column, word in enumerate(STL_FACET_WORDS) if word]
STL_NUMBER_COLUMNS = [column for column, word in enumerate(STL_FACET_WORDS) if word is None]


def ascii_stl_triangles(data):
    """ASCII STL, word by word but vectorised: a table of 21 words per facet, each column checked
    at once with numpy (keywords compared, numbers converted). Bounded by the size limit."""
    try:
        text = data.decode("ascii").lower()
    except UnicodeDecodeError:
        raise invalid(_("Die STL-Datei (ASCII) enthält Zeichen, die in STL nicht vorkommen.")) from None
    stripped = text.strip()
    first, last = stripped.partition("\n")[0], stripped.rpartition("\n")[2]
    if "\n" not in stripped or last.split()[0] != "endsolid":
        raise invalid(_("Die STL-Datei (ASCII) ist unvollständig: das abschließende „endsolid“ fehlt."))
    words = text.split()
    start, end = len(first.split()), len(words) - len(last.split())
    if (end - start) % len(STL_FACET_WORDS):
        raise invalid(_("Die STL-Datei (ASCII) ist unvollständig: die letzte Fläche ist nicht abgeschlossen."))
    count = (end - start) // len(STL_FACET_WORDS)
    if not count:
        raise invalid(_("Die STL-Datei enthält keine Dreiecke."))
    table = np.array(words[start:end], dtype=object).reshape(count, len(STL_FACET_WORDS))
    for column in STL_KEYWORD_COLUMNS:
        wrong = np.flatnonzero(table[:, column] != STL_FACET_WORDS[column])
        if wrong.size:
            raise stl_unreadable(text, start + int(wrong[0]) * len(STL_FACET_WORDS) + column, column)
    numbers = table[:, STL_NUMBER_COLUMNS]
    try:
        finite = np.isfinite(numbers.astype(np.float64))
    except ValueError:
        finite = np.vectorize(is_finite_number, otypes=[bool])(numbers)
    if not finite.all():
        row, index = (int(i) for i in np.argwhere(~finite)[0])
        column = STL_NUMBER_COLUMNS[index]
        raise stl_unreadable(text, start + row * len(STL_FACET_WORDS) + column, column)
    return count


def stl_unreadable(text, word, column):
    """The error for the ``word``-th word of ``text`` (a facet's ``column``), naming its line."""
    words_per_line = np.fromiter((len(line.split()) for line in text.splitlines()), dtype=np.int64)
    line = int(np.searchsorted(np.cumsum(words_per_line), word, side="right")) + 1
    return invalid(
        _("Die STL-Datei (ASCII) ist in Zeile %(line)s nicht lesbar (erwartet: „%(expected)s“)."),
        line=line,
        expected=STL_FACET_LINE_OF_WORD[column],
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

    @property
    def is_face(self):
        return self.name == "face"

    def corner_lists(self):
        """Indices (in ``properties``) of the face's corner lists."""
        return [i for i, (name, kind) in enumerate(self.properties) if self.is_face and name in PLY_FACE_LISTS and not isinstance(kind, str)]


def ply_triangles(data):
    header, body = split_ply_header(data)
    file_format, elements = parse_ply_header(header)
    by_name = {element.name: element for element in elements}
    if "vertex" not in by_name or "face" not in by_name:
        raise invalid(_("Die PLY-Datei enthält kein Netz (es fehlen „element vertex“ oder „element face“)."))
    if file_format == "ascii":
        faces = read_ascii_ply(body, elements)
    else:
        faces = read_binary_ply(body, elements, PLY_BYTE_ORDER[file_format])
    vertices = by_name["vertex"].count
    triangles = 0
    for corners in faces:  # one 2-D array (faces × corners) per number of corners
        if corners.shape[1] < 3 or corners.min() < 0 or corners.max() >= vertices:
            raise invalid(_("Die PLY-Datei enthält eine Fläche mit ungültigen Eckpunkten."))
        triangles += corners.shape[0] * (corners.shape[1] - 2)
    if not triangles:
        raise invalid(_("Die PLY-Datei enthält keine Dreiecke."))
    return triangles


def split_ply_header(data):
    """``(header text, body bytes)``; the header is bounded in bytes and in lines."""
    end = re.search(rb"end_header\r?\n", data[:PLY_HEADER_MAX])
    if not end:
        if len(data) > PLY_HEADER_MAX:
            raise ply_header_too_long()
        raise invalid(_("Der Kopf der PLY-Datei ist unvollständig („end_header“ fehlt)."))
    if data.count(b"\n", 0, end.end()) > PLY_HEADER_LINES_MAX:
        raise ply_header_too_long()
    try:
        header = data[: end.start()].decode("ascii")
    except UnicodeDecodeError:
        raise invalid(_("Der Kopf der PLY-Datei ist nicht lesbar.")) from None
    return header, data[end.end() :]


def ply_header_too_long():
    return invalid(
        _("Der Kopf der PLY-Datei ist zu lang (erlaubt sind %(lines)s Zeilen und %(size)s); die Datei ist kein Scan."),
        lines=PLY_HEADER_LINES_MAX,
        size=filesizeformat(PLY_HEADER_MAX),
    )


def parse_ply_header(header):
    lines = [line.split() for line in header.splitlines()[1:]]
    lines = [words for words in lines if words and words[0] not in ("comment", "obj_info")]
    if not lines or lines[0][:1] != ["format"] or len(lines[0]) != 3:
        raise invalid(_("Der Kopf der PLY-Datei nennt kein Format."))
    _keyword, file_format, version = lines[0]
    if file_format not in ("ascii", *PLY_BYTE_ORDER) or version != "1.0":
        raise invalid(_("Das PLY-Format „%(format)s“ wird nicht unterstützt."), format=f"{file_format} {version}")
    elements, element_lines = [], []
    for words in lines[1:]:
        if words[0] == "element" and len(words) == 3 and words[2].isdigit() and len(words[2]) <= 20:
            elements.append(PlyElement(words[1], int(words[2]), []))
            element_lines.append(words)
        elif words[0] == "property" and elements:
            elements[-1].properties.append(ply_property(words))
        else:
            raise ply_header_line(words)
    for element, words in zip(elements, element_lines):
        if not element.properties:  # rows of nothing: any count would "fit" the body
            raise ply_header_line(words)
    return file_format, elements


def ply_property(words):
    if len(words) == 3 and words[1] in PLY_TYPES:
        return words[2], PLY_TYPES[words[1]]
    if len(words) == 5 and words[1] == "list" and words[2] in PLY_TYPES and words[3] in PLY_TYPES:
        if PLY_TYPES[words[2]][0] == "f":  # a list length is a whole number
            raise ply_header_line(words)
        return words[4], (PLY_TYPES[words[2]], PLY_TYPES[words[3]])
    raise ply_header_line(words)


def ply_header_line(words):
    return invalid(_("Der Kopf der PLY-Datei ist nicht lesbar: „%(line)s“."), line=" ".join(words)[:60])


def ply_truncated():
    return invalid(_("Die PLY-Datei ist unvollständig: es fehlen Daten, die der Kopf ankündigt."))


def ply_announces_more(element, available, unit):
    return invalid(
        _(
            "Die PLY-Datei ist unvollständig oder beschädigt: ihr Kopf kündigt %(count)s Einträge "
            "„%(element)s“ an, dafür reichen die %(available)s %(unit)s der Datei nicht."
        ),
        count=element.count,
        element=element.name[:30],
        available=available,
        unit=unit,
    )


def ply_trailing():
    return invalid(_("Die PLY-Datei ist beschädigt: nach den angekündigten Daten folgen weitere Bytes."))


def ply_list_too_long(element, length):
    return invalid(
        _("Die PLY-Datei enthält in „%(element)s“ eine Liste mit %(length)s Werten; erlaubt sind höchstens %(max)s."),
        element=element.name[:30],
        length=length,
        max=PLY_LIST_MAX,
    )


def ply_invalid_coordinates():
    return invalid(_("Die PLY-Datei enthält ungültige Koordinaten."))


def check_vertices(element, table):
    """Float properties of a binary ``element vertex`` (a structured array) must be finite.

    (ASCII values are all checked to be finite numbers as they are read.)
    """
    if element.name != "vertex":
        return
    for index, (_name, kind) in enumerate(element.properties):
        if kind in ("f4", "f8") and not np.isfinite(table[f"p{index}"]).all():
            raise ply_invalid_coordinates()


# --- binary PLY --------------------------------------------------------------------------


def binary_row_dtype(element, order, lengths):
    """The numpy dtype of one row whose lists have ``lengths`` (property index → length)."""
    fields = []
    for index, (_name, kind) in enumerate(element.properties):
        if isinstance(kind, str):
            fields.append((f"p{index}", order + kind))
        else:
            count_kind, item_kind = kind
            fields.append((f"n{index}", order + count_kind))
            fields.append((f"p{index}", order + item_kind, (lengths[index],)))
    return np.dtype(fields)


def binary_min_row_size(element, order):
    """Bytes of the shortest possible row (lists empty; a face's corner list has 3 entries)."""
    corner_lists = element.corner_lists()
    lengths = {index: 3 if index in corner_lists else 0 for index, (_n, kind) in enumerate(element.properties) if not isinstance(kind, str)}
    return binary_row_dtype(element, order, lengths).itemsize


def read_binary_ply(body, elements, order):
    """Check each element against the bytes it needs; return the face corner arrays."""
    offset, faces = 0, []
    for element in elements:
        available = len(body) - offset
        if element.count * binary_min_row_size(element, order) > available:
            raise ply_announces_more(element, available, _("Bytes"))
        if element.count == 0:
            continue
        lengths = binary_list_lengths(body, offset, element, order)
        dtype = binary_row_dtype(element, order, lengths)
        table = None
        if element.count * dtype.itemsize <= available:
            table = np.frombuffer(body, dtype, count=element.count, offset=offset)
            if not all((table[f"n{index}"] == length).all() for index, length in lengths.items()):
                table = None  # lists of different lengths (e.g. triangles and quads)
        if table is not None:
            offset += element.count * dtype.itemsize
            check_vertices(element, table)
            faces += [table[f"p{index}"].astype(np.int64) for index in element.corner_lists()]
        else:
            offset, rows = read_binary_rows(body, offset, element, order)
            faces += group_corners(rows)
    if offset != len(body):
        raise ply_trailing()
    return faces


def binary_row_steps(element, order):
    """How to walk a row: per property ``(scalar size, None)`` or ``(count Struct, item type)``."""
    steps = []
    for _name, kind in element.properties:
        if isinstance(kind, str):
            steps.append((np.dtype(kind).itemsize, None))
        else:
            count_type, item_type = np.dtype(order + kind[0]), np.dtype(order + kind[1])
            steps.append((struct.Struct(order + count_type.char), item_type))
    return steps


def walk_binary_rows(body, offset, element, order, rows, keep=()):
    """Walk ``rows`` rows from ``offset`` with ``struct``; ``(offset after them, list lengths
    of the last row, the kept lists as tuples)``. Every length is checked before it is used."""
    size, steps, kept, lengths = len(body), binary_row_steps(element, order), [], {}
    formats = {}
    for _row in range(rows):
        for index, (step, item_type) in enumerate(steps):
            if item_type is None:
                offset += step
                continue
            if offset + step.size > size:
                raise ply_truncated()
            (length,) = step.unpack_from(body, offset)
            if not 0 <= length <= PLY_LIST_MAX:
                raise ply_list_too_long(element, length)
            offset += step.size
            end = offset + length * item_type.itemsize
            if end > size:
                raise ply_truncated()
            if index in keep:
                if length not in formats:
                    formats[length] = struct.Struct(f"{order}{length}{item_type.char}")
                kept.append(formats[length].unpack_from(body, offset))
            lengths[index] = length
            offset = end
    if offset > size:
        raise ply_truncated()
    return offset, lengths, kept


def binary_list_lengths(body, offset, element, order):
    """The list lengths of the row at ``offset`` (property index → length), each checked."""
    return walk_binary_rows(body, offset, element, order, 1)[1]


def read_binary_rows(body, offset, element, order):
    """Row by row, for lists of varying length; bounded: ``count`` rows were checked to fit."""
    offset, _lengths, rows = walk_binary_rows(body, offset, element, order, element.count, keep=element.corner_lists())
    return offset, rows


def group_corners(rows, dtype=np.int64):
    """Face corner lists of varying length as one 2-D array per length."""
    groups = {}
    for corners in rows:
        groups.setdefault(len(corners), []).append(corners)
    return [np.array(group, dtype=dtype).reshape(len(group), length) for length, group in groups.items()]


# --- ASCII PLY ---------------------------------------------------------------------------


def read_ascii_ply(body, elements):
    """One row per line: the line count is checked against the header before any row is read."""
    try:
        text = body.decode("ascii")
    except UnicodeDecodeError:
        raise invalid(_("Die PLY-Datei (ASCII) enthält Zeichen, die in PLY nicht vorkommen.")) from None
    available, rows = text.count("\n") + 1, 0  # at most this many rows
    for element in elements:
        if rows + element.count > available:
            raise ply_announces_more(element, max(available - rows, 0), _("Zeilen"))
        rows += element.count
    lines = text.splitlines()
    if not all(lines):  # blank lines are no rows
        lines = [line for line in lines if line]
    if len(lines) < rows:
        raise ply_truncated()
    if len(lines) > rows:
        raise ply_trailing()
    start, faces = 0, []
    for element in elements:
        chunk, start = lines[start : start + element.count], start + element.count
        if chunk:
            faces += read_ascii_element(element, chunk)
    return faces


def ascii_numbers(words):
    """The values of one ASCII PLY row; refuse what is not a finite number."""
    try:
        values = list(map(float, words))
    except ValueError:
        values = None
    if values is None or not all(map(math.isfinite, values)):
        bad = next(word for word in words if not is_finite_number(word))
        raise invalid(_("Die PLY-Datei (ASCII) enthält einen ungültigen Wert: „%(value)s“."), value=bad[:20])
    return values


def read_ascii_element(element, chunk):
    """The face corner arrays of one element's rows (lines), read vectorised where possible."""
    corners = ascii_uniform_rows(element, chunk)
    if corners is not None:
        return corners
    # Rows of different widths (e.g. triangles and quads): one vectorised read per width.
    by_width = {}
    for line in chunk:
        by_width.setdefault(len(line.split()), []).append(line)
    faces = []
    for lines in by_width.values():
        corners = ascii_uniform_rows(element, lines)
        faces += corners if corners is not None else ascii_rows_one_by_one(element, lines)
    return faces


def ascii_uniform_rows(element, lines):
    """Corner arrays if all ``lines`` have the first line's layout (numpy's text parser), else None."""
    layout = ascii_layout(element, lines[0].split())
    if layout is None:
        return None
    width, counts, columns = layout
    table = ascii_table(lines, width)
    if table is None or not all((table[:, column] == length).all() for column, length in counts):
        return None
    return [ascii_whole(table[:, columns[index]]) for index in element.corner_lists()]


def ascii_rows_one_by_one(element, lines):
    """Row by row: finds the row in error (bounded, as the rows were counted against the lines)."""
    corner_lists, rows = element.corner_lists(), []
    for line in lines:
        rows += ascii_row(element, line.split(), corner_lists)
    return [ascii_whole(group) for group in group_corners(rows, np.float64)]


def ascii_table(chunk, width):
    """The rows as one float array (numpy's text parser), or None unless all are ``width`` finite numbers."""
    try:
        table = np.loadtxt(chunk, dtype=np.float64, ndmin=2, comments=None, encoding="ascii")
    except ValueError:
        return None
    # (loadtxt skips blank lines: a line of spaces must not vanish from the count.)
    if table.shape != (len(chunk), width) or not np.isfinite(table).all():
        return None
    return table


def ascii_layout(element, first):
    """``(width, [(count column, length)], {property index: column(s)})`` from the first row."""
    position, counts, columns = 0, [], {}
    for index, (_name, kind) in enumerate(element.properties):
        if isinstance(kind, str):
            columns[index] = position
            position += 1
            continue
        if position >= len(first) or not is_finite_number(first[position]):
            return None
        length = float(first[position])
        if length != int(length) or not 0 <= length <= PLY_LIST_MAX:
            return None
        counts.append((position, int(length)))
        columns[index] = slice(position + 1, position + 1 + int(length))
        position += 1 + int(length)
    return position, counts, columns


def ascii_row(element, row, corner_lists):
    """Walk one row of words; yields the face's corner lists (as lists of floats)."""
    position = 0
    values = ascii_numbers(row)
    for index, (_name, kind) in enumerate(element.properties):
        if position >= len(values):
            raise ply_truncated()
        if isinstance(kind, str):
            position += 1
            continue
        length = values[position]
        if length != int(length) or length < 0:
            raise invalid(_("Die PLY-Datei (ASCII) enthält eine ungültige Listenlänge."))
        if length > PLY_LIST_MAX:
            raise ply_list_too_long(element, int(length))
        items = values[position + 1 : position + 1 + int(length)]
        if len(items) < length:
            raise ply_truncated()
        position += 1 + int(length)
        if index in corner_lists:
            yield items
    if position != len(values):
        raise ply_trailing()


def ascii_whole(values):
    """Face corners read as text: whole numbers, as int64."""
    values = np.asarray(values)
    if values.size and (values != np.floor(values)).any():
        raise invalid(_("Die PLY-Datei enthält eine Fläche mit ungültigen Eckpunkten."))
    return values.astype(np.int64)


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
