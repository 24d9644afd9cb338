"""Chart filters kept in small files, so that the workspace's URL can name one (``pick=DIGEST``).

No Streamlit here. A chart filter can hold thousands of ids, too many for a URL: :func:`save_pick`
writes its ids and chart to ``<app folder>/picks/<digest>.json`` (:data:`qaq.app.paths.PICKS_DIR`,
looked up per call), named by a digest of what it holds, so the same filter is one file however
often it is saved; :func:`load_pick` reads it back for a reload or a shared link on this machine.
"""

from __future__ import annotations

import hashlib
import json
import re

from qaq.app import paths
from qaq.app.table import ChartFilter
from qaq.io.files import write_atomic

PICK_FORMAT = "qaq-app-pick/1"  # the "format" key of a pick file
_TOKEN = re.compile(r"[0-9a-f]{16}")


def save_pick(picked: ChartFilter) -> str:
    """Keep ``picked`` in its file (written once) and return the token that names it."""
    body = json.dumps({"format": PICK_FORMAT, "chart": picked.chart, "ids": list(picked.ids)}, ensure_ascii=False)
    token = hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    path = paths.PICKS_DIR / f"{token}.json"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, body + "\n")
    return token


def load_pick(token: str) -> ChartFilter:
    """The chart filter a token names; ValueError saying why it cannot be read (no such file ...)."""
    if not _TOKEN.fullmatch(token):
        raise ValueError("not a chart filter's token (16 hex digits)")
    path = paths.PICKS_DIR / f"{token}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"no such chart filter here ({path})") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"the chart filter {path} cannot be read: {e}") from None
    ids, chart = (data.get("ids"), data.get("chart")) if isinstance(data, dict) else (None, None)
    if data.get("format") != PICK_FORMAT or not isinstance(ids, list) or not ids or not isinstance(chart, str):
        raise ValueError(f"the chart filter {path} is not a {PICK_FORMAT} file")
    return ChartFilter(tuple(str(i) for i in ids), chart)
