"""Real mesh files for the scan tests: a tetrahedron as STL (binary, ASCII) and PLY."""

import struct

VERTICES = [(0.0, 0.0, 0.0), (10.0, 0.0, 0.0), (0.0, 10.0, 0.0), (0.0, 0.0, 10.0)]
FACES = [(0, 2, 1), (0, 1, 3), (0, 3, 2), (1, 2, 3)]


def triangles():
    return [tuple(VERTICES[i] for i in face) for face in FACES]


def stl_binary(header=b"otoorder test tetrahedron"):
    data = header.ljust(80, b" ") + struct.pack("<I", len(FACES))
    for triangle in triangles():
        data += struct.pack("<3f", 0, 0, 0)
        for vertex in triangle:
            data += struct.pack("<3f", *vertex)
        data += struct.pack("<H", 0)
    return data


def stl_ascii(name="ohr"):
    lines = [f"solid {name}"]
    for triangle in triangles():
        lines += ["  facet normal 0 0 0", "    outer loop"]
        lines += [f"      vertex {x:e} {y:e} {z:e}" for x, y, z in triangle]
        lines += ["    endloop", "  endfacet"]
    lines.append(f"endsolid {name}")
    return ("\n".join(lines) + "\n").encode("ascii")


def ply_header(fmt, faces=FACES):
    return (
        f"ply\nformat {fmt} 1.0\ncomment otoorder test\nelement vertex {len(VERTICES)}\n"
        "property float x\nproperty float y\nproperty float z\n"
        f"element face {len(faces)}\nproperty list uchar int vertex_indices\nend_header\n"
    ).encode("ascii")


def ply_ascii():
    body = "".join(f"{x} {y} {z}\n" for x, y, z in VERTICES)
    body += "".join(f"3 {a} {b} {c}\n" for a, b, c in FACES)
    return ply_header("ascii") + body.encode("ascii")


def ply_binary(order="<"):
    fmt = "binary_little_endian" if order == "<" else "binary_big_endian"
    body = b"".join(struct.pack(order + "3f", *vertex) for vertex in VERTICES)
    body += b"".join(struct.pack(order + "B3i", 3, *face) for face in FACES)
    return ply_header(fmt) + body


def ellipsoid_stl(segments=24, radii=(9.0, 6.0, 12.0)):
    """A closed ellipsoid as binary STL: something to look at in the 3D view screenshot."""
    import math

    def point(i, j):
        theta, phi = math.pi * i / segments, 2 * math.pi * j / segments
        return (
            radii[0] * math.sin(theta) * math.cos(phi),
            radii[1] * math.sin(theta) * math.sin(phi),
            radii[2] * math.cos(theta),
        )

    triangles = []
    for i in range(segments):
        for j in range(segments):
            a, b, c, d = point(i, j), point(i + 1, j), point(i + 1, j + 1), point(i, j + 1)
            triangles += [(a, b, c), (a, c, d)]
    data = b"otoorder test ellipsoid".ljust(80, b" ") + struct.pack("<I", len(triangles))
    for triangle in triangles:
        data += struct.pack("<3f", 0, 0, 0) + b"".join(struct.pack("<3f", *v) for v in triangle) + b"\0\0"
    return data


# --- bombs and liars: small files whose header promises far more than they hold ----------------


def ply_raw_header(fmt, *lines):
    return ("ply\n" + f"format {fmt} 1.0\n" + "".join(f"{line}\n" for line in lines) + "end_header\n").encode("ascii")


def ply_bomb(fmt="binary_little_endian", count=10**12):
    """About 200 bytes: a tetrahedron's data under a header with an element of ``count`` empty rows."""
    header = ply_raw_header(
        fmt, "element vertex 4", "property float x", "property float y", "property float z", f"element face {count}"
    )
    return header + ply_body(None if fmt == "ascii" else "<")


def ply_declaring(fmt, vertices, faces, body):
    """A PLY whose header declares ``vertices`` and ``faces`` in front of ``body``."""
    header = ply_raw_header(
        fmt,
        f"element vertex {vertices}", "property float x", "property float y", "property float z",
        f"element face {faces}", "property list uchar int vertex_indices",
    )  # fmt: skip
    return header + body


def ply_body(order="<"):
    """The tetrahedron's body in ``order`` (binary) or as text (``None``)."""
    if order is None:
        return ply_ascii()[len(ply_header("ascii")) :]
    return ply_binary(order)[len(ply_header("binary_little_endian")) :]


def stl_binary_declaring(count):
    """A binary STL header claiming ``count`` triangles in front of the tetrahedron's four."""
    data = stl_binary()
    return data[:80] + struct.pack("<I", count) + data[84:]
