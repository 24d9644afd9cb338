"""Rows of the working table as the pages list them (Browse, Disagreement) and as the example view
shows one: which rows, in what order, with which columns, and one row's scores and flags.

No Streamlit here (:mod:`qaq.app.example` draws the example view): everything can be called, and
is tested, without a running app.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from qaq.app.labels import UNLABELLED, label_column
from qaq.app.labels import labels as labels_of
from qaq.app.table import ChartFilter, Workspace, table_of
from qaq.columns import SCORE_FIELDS, score_column
from qaq.select.flags import row_flags

PAGE_SIZES = (50, 100, 250, 500)  # rows per Browse page
SNIPPET_CHARS = 160  # Browse lists this much of each query and answer (the example view has it all)


def rows_text(n: int) -> str:
    """``"1 row"``, ``"1,234 rows"``."""
    return f"{n:,} row" + ("" if n == 1 else "s")


def list_columns(ws: Workspace, extra: list[str] | None = None) -> list[str]:
    """Columns shown in example lists: id, line, Q/A, each model's RMI, stratum and rank, diff, sum, defect.

    ``extra`` columns follow; only columns present in the table, each once.
    """
    cols = ["id", "line", "query", "answer"]
    for m in ws.models:
        cols += [score_column(m, "rmi"), score_column(m, "stratum"), score_column(m, "rank")]
    cols += [c for c in ("diff", "sum", "defect") if ws.table is not None and c in ws.table.columns]
    return [c for c in dict.fromkeys(cols + (extra or [])) if ws.table is not None and c in ws.table.columns]


def sortable_columns(ws: Workspace) -> list[str]:
    """Numeric columns a list can be sorted by: every score, stratum, rank, diff, sum, line."""
    cols = [score_column(m, f) for m in ws.models for f in (*SCORE_FIELDS, "stratum", "rank")]
    cols += ["diff", "sum", "line"]
    present = table_of(ws).columns
    return [c for c in cols if c in present]


@dataclass(frozen=True)
class BrowseFilter:
    """Which rows the Browse list keeps: every field that is set narrows it."""

    model: str | None = None  # with ``stratum``: keep this model's stratum
    stratum: int | None = None
    search: str = ""  # plain text, case-insensitive, in Q or A (not a regex)
    label: str | None = None  # the user's label, or labels.UNLABELLED; None keeps all
    picked: ChartFilter | None = None  # rows picked on a chart
    with_flags: tuple[str, ...] = ()  # rows raising any of these flags (qaq.select.flags.FLAG_NAMES)
    without_flags: tuple[str, ...] = ()  # rows raising none of these

    @property
    def needs_flags(self) -> bool:
        """Whether applying it needs the flag table (:func:`qaq.select.flags.flag_table`)."""
        return bool(self.with_flags or self.without_flags)


def browse_order(
    ws: Workspace,
    keep: BrowseFilter = BrowseFilter(),
    *,
    sort_by: str,
    ascending: bool,
    flags: pd.DataFrame | None = None,
    labels: pd.DataFrame | None = None,
) -> np.ndarray:
    """Positions (``iloc``) of the rows the Browse list shows, in its order.

    Args:
        ws: the workspace.
        keep: what to keep.
        sort_by: a column (ignored when absent); stable sort, missing values last.
        ascending: the sort order.
        flags: the table's :func:`qaq.select.flags.flag_table` (needed when ``keep`` filters by flags).
        labels: the user's labels (:func:`qaq.app.labels.labels`; read when None and needed).

    Raises:
        ValueError: ``keep`` filters by flags and ``flags`` is None.
    """
    t = table_of(ws)
    mask = np.ones(len(t), dtype=bool)
    if keep.model is not None and keep.stratum is not None:
        mask &= (t[score_column(keep.model, "stratum")] == keep.stratum).to_numpy(dtype=bool, na_value=False)
    if keep.label is not None:
        lab = label_column(ws, labels)
        mask &= (lab.isna() if keep.label == UNLABELLED else lab == keep.label).to_numpy(dtype=bool, na_value=False)
    if keep.picked is not None:
        mask &= keep.picked.mask(t).to_numpy(dtype=bool)
    if keep.needs_flags:
        if flags is None:
            raise ValueError("filtering by flags needs the flag table")
        if keep.with_flags:
            mask &= flags[list(keep.with_flags)].any(axis=1).to_numpy(dtype=bool)
        if keep.without_flags:
            mask &= ~flags[list(keep.without_flags)].any(axis=1).to_numpy(dtype=bool)
    if keep.search.strip():
        mask &= search_hits(t, keep.search)
    positions = np.flatnonzero(mask)
    if sort_by in t.columns and len(positions):
        key = t[sort_by].iloc[positions].reset_index(drop=True)
        order = key.sort_values(ascending=ascending, na_position="last", kind="stable").index.to_numpy()
        positions = positions[order]
    return positions


def search_hits(t: pd.DataFrame, search: str) -> np.ndarray:
    """Rows whose Q or A holds ``search`` (trimmed, case-insensitive, plain text), as a boolean array."""
    needle = search.strip()
    hit = t["query"].str.contains(needle, case=False, regex=False) | t["answer"].str.contains(
        needle, case=False, regex=False
    )
    return hit.to_numpy(dtype=bool, na_value=False)


def browse_rows(
    ws: Workspace,
    keep: BrowseFilter = BrowseFilter(),
    *,
    sort_by: str,
    ascending: bool,
    flags: pd.DataFrame | None = None,
    offset: int = 0,
    limit: int = PAGE_SIZES[-1],
) -> tuple[pd.DataFrame, int]:
    """(rows ``offset`` to ``offset + limit`` of :func:`browse_order`, whole; the number that match)."""
    positions = browse_order(ws, keep, sort_by=sort_by, ascending=ascending, flags=flags)
    return table_of(ws).iloc[positions[offset : offset + limit]], len(positions)


def page_count(total: int, size: int) -> int:
    """Pages of ``size`` rows that ``total`` rows fill (at least 1, so an empty list has page 1)."""
    return max(1, -(-total // size))


def page_of(position: int, size: int) -> int:
    """The page (1-based) that shows the row at ``position`` (0-based) of the list."""
    return position // size + 1


@dataclass(frozen=True)
class Neighbours:
    """Where a row sits in a list, and the rows before and after it."""

    position: int | None  # 0-based; None when the row is not in the list
    total: int
    previous: str | None
    next: str | None


@dataclass(frozen=True)
class RowList:
    """Rows of the table in a list's order (Browse's), kept as table positions: a million-row list
    is never turned into a million id strings on a run (that alone took over a second).

    Attributes:
        ids: the table's ``id`` column.
        positions: (n,) table positions of the listed rows, in list order.
    """

    ids: pd.Series
    positions: np.ndarray

    def __len__(self) -> int:
        return len(self.positions)

    def id_at(self, k: int) -> str:
        """The id of the ``k``-th listed row."""
        return str(self.ids.iloc[int(self.positions[k])])

    def position(self, row_id: str | None) -> int | None:
        """Where the row ``row_id`` is in the list (0-based), or None when it is not listed."""
        if row_id is None or not len(self.positions):
            return None
        ids = self.ids
        if not (isinstance(ids.dtype, pd.StringDtype) or ids.dtype == object):
            ids = ids.astype(str)  # numbers: compared as their strings, like everywhere else
        at = np.flatnonzero(np.asarray(ids == str(row_id), dtype=bool))
        if not len(at):
            return None
        where = np.flatnonzero(self.positions == at[0])
        return int(where[0]) if len(where) else None


def row_list(ws: Workspace, positions: np.ndarray) -> RowList:
    """The :class:`RowList` of the table rows at ``positions`` (in that order)."""
    return RowList(table_of(ws)["id"], np.asarray(positions, dtype=np.int64))


def neighbours(listed: RowList | Sequence[str], current: str | None) -> Neighbours:
    """The :class:`Neighbours` of ``current`` in a list: a :class:`RowList` or ids (compared as strings).

    >>> neighbours(["a", "b", "c"], "b")
    Neighbours(position=1, total=3, previous='a', next='c')
    >>> neighbours(["a", "b"], "z").next  # not listed: "next" is the first row
    'a'
    """
    if not isinstance(listed, RowList):
        listed = RowList(pd.Series([str(i) for i in listed], dtype="object"), np.arange(len(listed)))
    n = len(listed)
    pos = listed.position(current)
    if pos is None:
        return Neighbours(None, n, None, listed.id_at(0) if n else None)
    return Neighbours(
        pos, n, listed.id_at(pos - 1) if pos > 0 else None, listed.id_at(pos + 1) if pos + 1 < n else None
    )


def list_frame(
    ws: Workspace, positions: np.ndarray, *, sort_by: str, model: str | None, labels: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The Browse list of the rows at ``positions``: what an audit reads first, first.

    Columns: ``id``, the sort column, the user's ``label`` and ``override``, then each model's RMI,
    rank and stratum (``model``'s first), ``diff`` and ``sum``, the start of Q and A
    (:data:`SNIPPET_CHARS`, whitespace runs as one space), ``line`` and ``defect``; only
    columns the table has, each once.
    """
    rows = table_of(ws).iloc[positions]
    lab = (labels if labels is not None else labels_of(ws)).set_index("id")
    ids = rows["id"].astype(str)
    out = rows.assign(
        label=ids.map(lab["label"]).astype("string"),  # only the listed rows: a page, not the whole table
        override=ids.map(lab["override"]).astype("string"),
        query=[snippet(q) for q in rows["query"]],
        answer=[snippet(a) for a in rows["answer"]],
    )
    ordered = [*ws.models] if model is None else [model, *(m for m in ws.models if m != model)]
    cols = ["id", sort_by, "label", "override"]
    cols += [score_column(m, f) for m in ordered for f in ("rmi", "rank", "stratum")]
    cols += ["diff", "sum", "query", "answer", "line", "defect"]
    return out[[c for c in dict.fromkeys(cols) if c in out.columns]]


def list_key(frame: pd.DataFrame, prefix: str) -> str:
    """A widget key naming exactly the rows a list shows (``prefix`` + a hash of their ids): a
    table picked by row number starts afresh whenever its rows change, so a pick never lands
    on a row that took another's place."""
    digest = hashlib.sha256("\x00".join(frame["id"].astype(str)).encode()).hexdigest()[:12]
    return f"{prefix}_{digest}"


def snippet(text: object, limit: int = SNIPPET_CHARS) -> str:
    r"""The start of a text on one line (whitespace runs as one space), shortened with ``…``.

    >>> snippet("def f():\n    return 1", 12)
    'def f(): re…'
    """
    flat = " ".join(str(text).split()) if isinstance(text, str) else ""
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def most_disagreed(ws: Workspace, n: int = 20) -> pd.DataFrame:
    """The ``n`` rows with the largest |diff|, most disagreed first (ties in table order)."""
    t = table_of(ws)
    order = t["diff"].abs().sort_values(ascending=False, na_position="last", kind="stable").index[:n]
    return t.loc[order, list_columns(ws)]


def rows_by_id(ws: Workspace, ids: list[str]) -> pd.DataFrame:
    """The rows with these ids (compared as strings), in table order, with the list columns."""
    t = table_of(ws)
    return t.loc[t["id"].astype(str).isin([str(i) for i in ids]), list_columns(ws)]


def example_scores(ws: Workspace, row: pd.Series) -> pd.DataFrame:
    """Every score of one row: a line per model (index ``model``), a column per field.

    Fields are the score fields then ``stratum`` and ``rank``; fields no model has are left out.
    """
    fields = [*SCORE_FIELDS, "stratum", "rank"]
    data = {f: [row.get(score_column(m, f)) for m in ws.models] for f in fields}
    out = pd.DataFrame(data, index=pd.Index(ws.models, name="model"))
    return out.loc[:, [f for f in fields if out[f].notna().any()]]


def example_flags(ws: Workspace, row: pd.Series) -> list[str]:
    """The heuristic flags (:func:`qaq.select.flags.row_flags`) of a row under any model, sorted."""
    return sorted({f for m in ws.models for f in row_flags(row, model=m)})


def code_language(text: str) -> str | None:
    """Highlighting for an answer: ``"markdown"`` when it has fenced code, else None (plain text)."""
    return "markdown" if "```" in text else None


# CommonMark lets every ASCII punctuation character be backslash-escaped: escaped, text from the
# data holds no markup at all (no HTML, link, emphasis, heading, list, directive or LaTeX).
_MD_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")
_SPACE_RUN = re.compile(r"(?:^ +| {2,})")  # spaces markdown would drop: leading ones, runs
_NBSP = "\u00a0"
HIGHLIGHT = "orange-background"  # Streamlit's markdown colour directive for a search hit


# Streamlit's markdown also rewrites some text after parsing it: " -> " becomes an arrow (so do
# "<-", "<->", "--", ">=", "<=", "~="), ":streamlit:" its logo. An invisible word joiner after
# each of these characters keeps the text as it was.
_REWRITTEN = ":-<>~"
_JOINER = "\u2060"


def _md_literal(text: str) -> str:
    """One line of text as markdown that shows it as it is (punctuation escaped, spaces kept)."""
    text = text.replace("\t", "    ")
    text = _SPACE_RUN.sub(lambda m: _NBSP * len(m.group()), text)
    return _MD_PUNCT.sub(lambda m: "\\" + m.group(1) + (_JOINER if m.group(1) in _REWRITTEN else ""), text)


def highlighted(text: str, search: str = "") -> tuple[str, int]:
    r"""Text as Streamlit markdown that shows it literally, each hit of ``search`` highlighted.

    The text is never markup: every ASCII punctuation character is backslash-escaped, so a
    ``<script>`` shows as text, and ``:``, ``-``, ``<``, ``>``, ``~`` are followed by an invisible
    word joiner (Streamlit would turn `` -> `` into an arrow); lines stay lines (hard breaks),
    indentation stays (non-breaking spaces). Hits are found as :func:`search_hits` finds rows (trimmed, case-insensitive, plain
    text) and wrapped in ``:orange-background[...]``.

    Returns:
        (the markdown, the number of hits).

    >>> highlighted("a [b]\n  x", "B")
    ('a \\[:orange-background[b]\\]  \n\xa0\xa0x', 1)
    """
    needle = search.strip()
    pattern = re.compile(re.escape(needle), re.IGNORECASE) if needle else None
    lines, hits = [], 0
    for line in text.split("\n"):
        parts, at = [], 0
        for m in pattern.finditer(line) if pattern else ():
            parts += [_md_literal(line[at : m.start()]), f":{HIGHLIGHT}[{_md_literal(m.group())}]"]
            at, hits = m.end(), hits + 1
        parts.append(_md_literal(line[at:]))
        lines.append("".join(parts) or _NBSP)  # an empty line would end the paragraph
    return "  \n".join(lines), hits
