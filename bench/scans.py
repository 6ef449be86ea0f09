#!/usr/bin/env python
"""How long the scan check takes (``otoorder.orders.scans.inspect_scan``) on large real meshes.

    .venv/bin/python bench/scans.py        # also run by `make bench`

The meshes are generated on the fly into a temporary folder: a binary and an ASCII STL of
50 MiB (the upload limit), an ASCII PLY of 1,000,000 faces, the same mesh as binary PLY, both
again with triangles and quads mixed, and the 242-byte PLY that declares 10^12 rows. Each file is read from disk and checked as an upload is (all
bytes in memory, then ``inspect_scan``); the best of ``--repeat`` runs is printed. Needs no
database and no broker.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def binary_stl(path, size_bytes):
    triangles = (size_bytes - 84) // 50
    rng = np.random.default_rng(4711)
    rows = np.zeros(triangles, dtype=[("normal", "<f4", (3,)), ("vertices", "<f4", (3, 3)), ("attributes", "<u2")])
    rows["vertices"] = rng.uniform(-20, 20, size=(triangles, 3, 3))
    with open(path, "wb") as out:
        out.write(b"otoorder bench".ljust(80, b" ") + np.uint32(triangles).tobytes())
        out.write(rows.tobytes())
    return triangles


def ascii_stl(path, size_bytes):
    rng = np.random.default_rng(4711)
    facet = "facet normal 0 0 1\n outer loop\n{}{}{} endloop\nendfacet\n"
    vertex = "  vertex {:e} {:e} {:e}\n"
    sample = facet.format(*(vertex.format(-10.0, -10.0, -10.0),) * 3)  # the longest facet
    count = (size_bytes - 100) // len(sample)
    with open(path, "w", encoding="ascii") as out:
        out.write("solid otoorder bench\n")
        for triangle in rng.uniform(-20, 20, size=(count, 3, 3)):
            out.write(facet.format(*(vertex.format(*point) for point in triangle)))
        out.write("endsolid otoorder bench\n")
    return count


def grid_mesh(faces):
    """A triangulated grid with ``faces`` triangles: (vertices, faces) as numpy arrays."""
    columns = 1000
    rows = faces // (2 * columns)
    ys, xs = np.mgrid[0 : rows + 1, 0 : columns + 1]
    vertices = np.column_stack([xs.ravel() * 0.01, ys.ravel() * 0.01, np.sin(xs.ravel() * 0.1)]).astype(np.float32)
    index = np.arange((rows + 1) * (columns + 1)).reshape(rows + 1, columns + 1)
    a, b, c, d = index[:-1, :-1].ravel(), index[:-1, 1:].ravel(), index[1:, 1:].ravel(), index[1:, :-1].ravel()
    triangles = np.concatenate([np.column_stack([a, b, c]), np.column_stack([a, c, d])]).astype(np.int32)
    return vertices, triangles


def ply_header(fmt, vertices, faces):
    return (
        f"ply\nformat {fmt} 1.0\ncomment otoorder bench\nelement vertex {vertices}\n"
        "property float x\nproperty float y\nproperty float z\n"
        f"element face {faces}\nproperty list uchar int vertex_indices\nend_header\n"
    ).encode("ascii")


def ascii_ply(path, faces):
    vertices, triangles = grid_mesh(faces)
    with open(path, "wb") as out:
        out.write(ply_header("ascii", len(vertices), len(triangles)))
        np.savetxt(out, vertices, fmt="%.5f")
        np.savetxt(out, np.column_stack([np.full(len(triangles), 3), triangles]), fmt="%d")
    return len(triangles)


def binary_ply(path, faces):
    vertices, triangles = grid_mesh(faces)
    rows = np.zeros(len(triangles), dtype=[("n", "u1"), ("corners", "<i4", (3,))])
    rows["n"], rows["corners"] = 3, triangles
    with open(path, "wb") as out:
        out.write(ply_header("binary_little_endian", len(vertices), len(triangles)))
        out.write(vertices.astype("<f4").tobytes() + rows.tobytes())
    return len(triangles)


def mixed_faces(faces):
    """The grid with every other cell a quad, the others two triangles: about ``faces`` faces."""
    vertices, triangles = grid_mesh(faces * 4 // 3)
    half = len(triangles) // 2  # the cells' (a, b, c), then the same cells' (a, c, d)
    abc, acd = triangles[:half], triangles[half:]
    quads = np.column_stack([abc[0::2], acd[0::2, 2]])
    singles = np.concatenate([abc[1::2], acd[1::2]])
    return vertices, quads, singles


def mixed_binary_ply(path, faces):
    vertices, quads, singles = mixed_faces(faces)
    rows = []
    for corners in (quads, singles):
        table = np.zeros(len(corners), dtype=[("n", "u1"), ("corners", "<i4", (corners.shape[1],))])
        table["n"], table["corners"] = corners.shape[1], corners
        rows.append(table.tobytes())
    with open(path, "wb") as out:
        out.write(ply_header("binary_little_endian", len(vertices), len(quads) + len(singles)))
        out.write(vertices.astype("<f4").tobytes() + b"".join(rows))
    return len(quads) + len(singles)


def mixed_ascii_ply(path, faces):
    vertices, quads, singles = mixed_faces(faces)
    with open(path, "wb") as out:
        out.write(ply_header("ascii", len(vertices), len(quads) + len(singles)))
        np.savetxt(out, vertices, fmt="%.5f")
        for corners in (quads, singles):
            np.savetxt(out, np.column_stack([np.full(len(corners), corners.shape[1]), corners]), fmt="%d")
    return len(quads) + len(singles)


def ply_bomb(path, _count):
    from tests.scan_files import ply_declaring, ply_body

    path.write_bytes(ply_declaring("binary_little_endian", 4, 10**12, ply_body("<")))
    return 10**12


def check(path, repeat):
    """Best time of reading the file and checking it; the outcome of the last run."""
    from django.core.exceptions import ValidationError

    from otoorder.orders.scans import inspect_scan

    best, outcome = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        data = path.read_bytes()
        try:
            outcome = f"{inspect_scan(data).triangle_count:,} triangles"
        except ValidationError as exc:
            outcome = f"refused: {exc.messages[0][:70]}…"
        best = min(best, time.perf_counter() - started)
    return best, outcome


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--faces", type=int, default=1_000_000, help="faces of the PLY meshes")
    parser.add_argument("--stl-mb", type=float, default=50, help="size of the binary STL in MiB")
    parser.add_argument("--repeat", type=int, default=3, help="runs per file (the best is printed)")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "otoorder.settings")
    os.environ.setdefault("DJANGO_ENV", "development")
    import django

    django.setup()
    from django.conf import settings

    stl_bytes = min(int(args.stl_mb * 1024 * 1024), settings.OTOORDER_SCAN_MAX_BYTES)
    cases = [
        (f"binary STL, {stl_bytes / 2**20:.0f} MiB", "mesh.stl", binary_stl, stl_bytes),
        (f"ASCII STL, {stl_bytes / 2**20:.0f} MiB", "mesh-ascii.stl", ascii_stl, stl_bytes),
        (f"ASCII PLY, {args.faces:,} faces", "mesh-ascii.ply", ascii_ply, args.faces),
        (f"binary PLY, {args.faces:,} faces", "mesh-binary.ply", binary_ply, args.faces),
        (f"ASCII PLY, ~{args.faces:,} tris+quads", "mixed-ascii.ply", mixed_ascii_ply, args.faces),
        (f"binary PLY, ~{args.faces:,} tris+quads", "mixed-binary.ply", mixed_binary_ply, args.faces),
        ("PLY bomb declaring 10^12 faces", "bomb.ply", ply_bomb, None),
    ]
    print(f"\notoorder scan check · {os.cpu_count()} cores · best of {args.repeat} (read from disk + inspect_scan)")
    with tempfile.TemporaryDirectory(prefix="otoorder-bench-scans-") as tmp:
        for label, name, make, size in cases:
            path = Path(tmp) / name
            make(path, size)
            seconds, outcome = check(path, args.repeat)
            print(f"    {label:34s} {path.stat().st_size / 2**20:8.2f} MiB  {seconds * 1000:9.1f} ms   {outcome}")
            path.unlink()
    print()


if __name__ == "__main__":
    main()
