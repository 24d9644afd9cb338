"""Regions of a map: which rows a lasso or a box drawn on it encloses (every row, not just the drawn ones).

A chart draws a sample of the rows, so the points it reports as selected are only the drawn ones;
the shape the user drew is reported too, and :func:`rows_in_shapes` finds every row inside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Shape:
    """A lasso (a closed polygon through ``xs``, ``ys``) or a box (``xs``, ``ys`` its two corners)."""

    xs: tuple[float, ...]
    ys: tuple[float, ...]
    kind: str = "lasso"  # "lasso" | "box"

    def __post_init__(self) -> None:
        if self.kind not in ("lasso", "box"):
            raise ValueError(f"a shape is a lasso or a box, got {self.kind!r}")
        if len(self.xs) != len(self.ys):
            raise ValueError(f"a shape needs as many x as y values, got {len(self.xs)} and {len(self.ys)}")
        if len(self.xs) < (2 if self.kind == "box" else 3):
            raise ValueError(
                f"a {self.kind} needs at least {2 if self.kind == 'box' else 3} points, got {len(self.xs)}"
            )


def inside_polygon(xy: np.ndarray, xs: Sequence[float], ys: Sequence[float]) -> np.ndarray:
    """Which points of ``xy`` (n, 2) lie inside the closed polygon through ``(xs[i], ys[i])`` (even-odd rule).

    >>> square = ([0, 1, 1, 0], [0, 0, 1, 1])
    >>> inside_polygon(np.array([[0.5, 0.5], [1.5, 0.5], [np.nan, 0.2]]), *square).tolist()
    [True, False, False]
    """
    px, py = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
    x, y = xy[:, 0], xy[:, 1]
    inside = np.zeros(len(xy), dtype=bool)
    for i in range(len(px)):  # each edge (i-1, i): flip the points whose rightward ray crosses it
        x0, y0, x1, y1 = px[i - 1], py[i - 1], px[i], py[i]
        if y0 == y1:
            continue  # a horizontal edge is crossed by no ray (the edges next to it decide)
        spans = (y0 > y) != (y1 > y)
        crossing = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
        inside ^= spans & (x < crossing)
    return inside


def rows_in_shapes(xy: np.ndarray, shapes: Sequence[Shape]) -> np.ndarray:
    """Positions of the rows of ``xy`` inside any of ``shapes``, ascending (NaN rows never are)."""
    hit = np.zeros(len(xy), dtype=bool)
    for s in shapes:
        if s.kind == "box":
            (x0, x1), (y0, y1) = sorted(s.xs[:2]), sorted(s.ys[:2])
            hit |= (xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)
        else:
            hit |= inside_polygon(xy, s.xs, s.ys)
    return np.flatnonzero(hit)
