"""Every chart of the app, as pure functions returning a ``plotly.graph_objects.Figure``.

One module per kind of chart: :mod:`~qaq.plots.distributions` (RMI histogram, ECDF),
:mod:`~qaq.plots.strata` (RMI against PPL(Q) with the stratum boundaries, RMI per stratum),
:mod:`~qaq.plots.scatter` (IFD against RMI, rank against rank),
:mod:`~qaq.plots.summaries` (retention, rows per stratum, ROC, PR), :mod:`~qaq.plots.maps` (the
rows' 2-D map from their embeddings) and :mod:`~qaq.plots.text` (per-token NLL as wrapped text, lengths); :mod:`~qaq.plots.base` holds the look and the input checks they share.
The figure functions are all importable from here.

The functions read a qaq table (columns per :mod:`qaq.columns`) or a small frame made by
:mod:`qaq.select.strata`, :mod:`qaq.select.selection` or :mod:`qaq.select.compare`, and never mutate their input.
Nothing here imports Streamlit: the pages call these and hand the figure to ``st.plotly_chart``.

Shared conventions:

- Rows with a missing score (skipped rows carry NaN) are left out, and the title says how many.
- An empty input (no rows, no scores, no curves) gives a figure whose annotation says why,
  never an exception; a missing column or a bad option is a caller error and raises.
- The app redraws on every slider change of a 300,000-row table, so nothing sends one point per
  row: histograms are binned with numpy and drawn as bars, ECDFs and curves are thinned, box
  plots are sent as precomputed quartiles, and scatter plots draw a seeded random sample of at
  most ``max_points`` rows (the title says so).
- Text that comes from the data (tokens, ids, model names, the Q and A shown in the hover of the
  row charts) is HTML-escaped: Plotly renders a subset of HTML tags in titles, tick labels and
  hover text.
- The current selection is drawn the same way wherever rows are: dark rings
  (:data:`~qaq.plots.base.SELECTED_COLOR`); rows picked on a chart (the app's chart filter) as
  orange squares (:data:`~qaq.plots.base.PICKED_COLOR`). Row charts open in box-select drag mode.
"""

from __future__ import annotations

from qaq.plots.base import DIVERGING, MODEL_COLORS, PICKED_COLOR, SELECTED_COLOR, STRATA_COLORS, TEMPLATE
from qaq.plots.distributions import rmi_ecdf, rmi_histogram
from qaq.plots.maps import embedding_map
from qaq.plots.scatter import ifd_vs_rmi, rank_scatter
from qaq.plots.strata import rmi_by_stratum, rmi_vs_ppl
from qaq.plots.summaries import pr_figure, retention_figure, roc_figure, stratum_counts_figure
from qaq.plots.text import TEXT_WIDTH, TOKEN_COLORS, length_histograms, token_cells, token_text

__all__ = [
    "DIVERGING",
    "MODEL_COLORS",
    "PICKED_COLOR",
    "SELECTED_COLOR",
    "STRATA_COLORS",
    "TEMPLATE",
    "TEXT_WIDTH",
    "TOKEN_COLORS",
    "embedding_map",
    "ifd_vs_rmi",
    "length_histograms",
    "pr_figure",
    "rank_scatter",
    "retention_figure",
    "rmi_by_stratum",
    "rmi_ecdf",
    "rmi_histogram",
    "rmi_vs_ppl",
    "roc_figure",
    "stratum_counts_figure",
    "token_cells",
    "token_text",
]
