"""Select & export: build a recipe, watch the counts, compare arms, check it against labels, download."""

import json
from typing import Any, cast

import streamlit as st

from qaq import plots
from qaq.app import boundaries, cached_views, exports, labels, state, widgets, workspace
from qaq.app.arms import (
    ARMS,
    FILTER_USES,
    band_note,
    chart_filter_rows,
    comparison_arms,
    retention_cut,
    with_chart_filter,
)
from qaq.app.mapview import DEDUP_KEEPS, SPANS
from qaq.io.labels import LabelsError
from qaq.select.curves import precision_recall_at
from qaq.select.recipe_parsing import parse_recipe
from qaq.select.recipes import BUDGET_METHODS, PAIR_SCORE
from qaq.select.selection_report import selection_notes

ws = workspace.current()
st.title("Select & export")
table = widgets.require_scores(ws)

# ---- the recipe
strata = f"{ws.n_strata} strata at custom boundaries" if ws.boundaries is not None else f"K = {ws.bins}"
methods = [m for m in ARMS if ws.pair or m not in BUDGET_METHODS]
if not ws.pair:
    st.caption("Diff and Sum arms need two scored models (a strong and a weak one): see the Score page.")
state.valid_choice("sel_method", methods)
# cast (here and below): with python_version 3.10, mypy reads streamlit's typing.Never as Any and picks the
# "-> None" overload of selectbox
method = cast(str, st.selectbox("Arm", methods, format_func=ARMS.__getitem__, key="sel_method"))
recipe: dict[str, Any] = {"method": method}
c1, c2 = st.columns(2)
if method in BUDGET_METHODS:
    recipe.update(strong=ws.strong, weak=ws.weak, ranking=ws.ranking, **ws.strata_items)
    c1.caption(f"strong = **{ws.strong}**, weak = **{ws.weak}**, {ws.ranking} ranks, {strata} (sidebar)")
    how = c1.radio("Keep", ["a budget", "a threshold"], horizontal=True, key="sel_how")
    if how == "a budget":
        recipe["budget"] = c2.slider("Budget (% of all rows)", 1, 100, key="sel_budget") / 100
        recipe["per_stratum_quota"] = c2.checkbox("Equal quota per stratum (of the strong model)", key="sel_quota")
    else:
        score = PAIR_SCORE[method]
        lo, hi = (-1.0, 1.0) if score == "diff" else (0.0, 2.0)
        recipe["threshold"] = c2.slider(
            f"{score.capitalize()} threshold ({'>' if method.endswith('high') else '<'})",
            lo,
            hi,
            step=0.01,
            key=f"sel_threshold_{score}",
        )
elif method == "rmi_band":
    state.valid_choice("sel_model", list(ws.models))
    recipe["model"] = c1.selectbox("Model", ws.models, key="sel_model")
    # cast: a range slider (its state default is a pair), which the stubs only see from a pair value=
    lo, hi = cast(tuple[float, float], c2.slider("RMI rank band (lo, hi]", 0.0, 1.0, step=0.01, key="sel_band"))
    recipe.update(lo=lo, hi=hi, ranking=ws.ranking, **ws.strata_items)
elif method == "ifd":
    state.valid_choice("sel_model", list(ws.models))
    recipe["model"] = c1.selectbox("Model", ws.models, key="sel_model")
    recipe["budget"] = c2.slider("Budget (% of all rows)", 1, 100, key="sel_budget") / 100
    recipe.update(ws.strata_items)
    recipe["per_stratum_quota"] = c2.checkbox("Equal quota per stratum", key="sel_quota")
else:
    recipe["budget"] = c2.slider("Budget (% of all rows)", 1, 100, key="sel_budget") / 100
    recipe["seed"] = int(c1.number_input("Seed", 0, 2**31 - 1, key="sel_seed"))
try:
    include, exclude = labels.overrides(ws)
except LabelsError as e:
    include, exclude = [], []
    st.error(str(e))
if include or exclude:
    if st.checkbox(
        f"Apply your overrides ({len(include)} included, {len(exclude)} excluded on Browse)", key="sel_overrides"
    ):
        recipe.update(include=include, exclude=exclude)
if ws.embeddings_path is not None and (emb := cached_views.embeddings(ws)) is not None:
    dedup_models = [m for m in emb.models if m in ws.models]
    if dedup_models and st.checkbox(
        "Drop near-duplicates (keep one row of each group; the Map page shows them)", key="sel_dedup"
    ):
        d1, d2, d3, d4 = st.columns(4)
        state.valid_choice("sel_dedup_model", dedup_models, default=ws.strong if ws.strong in dedup_models else None)
        dedup_model = cast(str, d1.selectbox("Embeddings of", dedup_models, key="sel_dedup_model"))
        dedup_span = cast(str, d2.radio("Of", list(SPANS), format_func=SPANS.__getitem__, key="sel_dedup_span"))
        dedup_threshold = d3.slider("Cosine at or above", 0.80, 1.00, step=0.01, key="sel_dedup_threshold")
        keep = d4.radio("Keep", list(DEDUP_KEEPS), format_func=DEDUP_KEEPS.__getitem__, key="sel_dedup_keep")
        recipe["dedup"] = {"threshold": float(dedup_threshold), "keep": keep, "model": dedup_model, "span": dedup_span}
picked = state.chart_filter()
if picked is not None:
    widgets.chart_filter_chip(key="select_clear_chart_filter")
    use = cast(
        str,
        st.radio(
            "With the chart filter's rows",
            list(FILTER_USES),
            format_func=FILTER_USES.__getitem__,
            horizontal=True,
            key="sel_filter_use",
            help="Picking rows on a chart is often a way to look at them (a corner of the rank scatter full of "
            "defects), so by default the filter changes nothing here: the page shows what the recipe does with "
            "those rows. To act on them, add them to the recipe's `include` or `exclude` ids: the manifest and "
            "the `qaq select` command then carry them.",
        ),
    )
    recipe = with_chart_filter(recipe, picked.ids, use)
st.session_state["recipe"] = recipe

mask, error = cached_views.current_selection(ws, recipe)
if error:
    st.error(f"This recipe cannot be applied: {error}")
    st.stop()
assert mask is not None, "current_selection gives a mask or an error for a recipe on a table"
_, counts = cached_views.selection(ws, recipe)

# ---- live counts
n_sel = int(mask.sum())
m1, m2, m3 = st.columns(3)
m1.metric("Selected", f"{n_sel:,}")
m2.metric("Discarded", f"{len(table) - n_sel:,}")
m3.metric("Share kept", f"{n_sel / max(len(table), 1):.1%}")
for note in selection_notes(counts, parse_recipe(recipe), n_rows=len(table), n_selected=n_sel):
    st.warning(note[0].upper() + note[1:] + ".")
stratify_model = recipe.get("strong", recipe.get("model"))
if ws.boundaries is None and method != "random" and stratify_model:  # empty custom strata: in the notes above
    for note in boundaries.strata_warnings(
        ws, stratify_model, boundaries.stratum_sizes(ws, stratify_model), small=False
    ):
        st.warning(note)
if why := band_note(counts, recipe, n_rows=len(table), n_selected=n_sel):
    st.caption(why)
if picked is not None:
    in_filter = chart_filter_rows(ws, picked.ids, mask)
    st.caption(
        f"Of the chart filter's {len(in_filter):,} rows, this recipe selects {int(in_filter['selected'].sum()):,}"
        + (" (they are in its include list)." if use == "include" else ".")
    )
    st.dataframe(
        in_filter, hide_index=True, key="chart_filter_rows", height=widgets.table_height(len(in_filter), most=240)
    )
# One chart under the other (here and below): side by side, each would be under 300 px wide at 1024 px.
widgets.plotly(plots.stratum_counts_figure(counts), key="stratum_counts")
curve = cached_views.retention(ws, recipe)
if curve is None:
    st.caption("A random selection has no score to threshold: no retention curve.")
else:
    cut = retention_cut(table, recipe, mask)
    widgets.plotly(plots.retention_figure(curve[0], score_name=curve[1], cut=cut, kept=n_sel), key="retention")
with st.expander("Counts per stratum"):
    st.dataframe(counts, hide_index=True, key="counts_table")

# Only the open tab runs (lazy tabs): measuring detection on a large table takes seconds.
export_tab, arms_tab, detection_tab = st.tabs(
    ["Export", "Overlap with other arms", "Detection quality"], key="sel_tab", on_change="rerun"
)
arms = comparison_arms(ws, n_sel)

with export_tab:
    if export_tab.open:
        if ws.source_path is None:
            st.info("No source file to export from.")
        else:
            suffix = exports.output_suffix(ws.source_path)
            st.caption(
                f"Rows are copied exactly as in `{ws.source_path}` ({suffix[1:]}), selected and discarded "
                "apart; the manifest records the recipe, input hashes, models and counts."
            )
            e1, e2, e3 = st.columns(3)
            for col, name, label in (
                (e1, f"selected{suffix}", f"Selected rows ({n_sel:,})"),
                (e2, f"discarded{suffix}", f"Discarded rows ({len(table) - n_sel:,})"),
                (e3, "manifest.json", "Manifest"),
            ):

                def file_data(name: str = name) -> bytes:  # name bound now; called on click
                    return cached_views.export_files(ws, recipe)[name]

                col.download_button(
                    label,
                    data=file_data,
                    file_name=name,
                    key=f"download_{name.split('.')[0]}",
                    icon=":material/download:",
                    mime="application/json" if name.endswith("json") else "application/octet-stream",
                )
            st.markdown("The same selection from the command line:")
            st.code(exports.select_command(ws, recipe), language="bash", wrap_lines=True)
            with st.expander("The recipe (JSON): `qaq select --recipe` takes this file"):
                st.code(json.dumps(recipe, indent=2), language="json")

with arms_tab:
    if arms_tab.open:
        if arms:
            st.caption(f"Each arm picks the same number of rows ({n_sel:,}) as the current recipe.")
            st.dataframe(
                cached_views.overlaps(ws, mask, arms),
                hide_index=True,
                key="overlap_table",
                column_config={
                    "share of current": st.column_config.NumberColumn(format="percent"),
                    "jaccard": st.column_config.NumberColumn(format="%.3f"),
                },
            )
        else:
            st.caption("Fewer than two rows selected: nothing to compare.")

with detection_tab:
    sources = labels.label_sources(ws)
    if not detection_tab.open:
        pass
    elif not sources:
        st.info(
            "No labels yet: label examples on the Browse page (ok / hallucinated / mismatched / echo / other), "
            "or use data with a `defect` column like the bundled sample."
        )
    else:
        d1, d2 = st.columns(2)
        state.valid_choice("det_source", list(sources))
        source = cast(str, d1.selectbox("Labels", list(sources), key="det_source"))
        state.valid_choice("det_model", list(ws.models))
        det_model = cast(str, d2.selectbox("Scores of", ws.models, key="det_model"))
        det = cached_views.detection(ws, sources[source], det_model)
        st.caption(
            "Each detector is a suspicion score (higher = more suspicious). ROC AUC 0.5 is chance; below "
            "0.5 the opposite direction detects the defect."
            + (
                f" Its stratified ranks use K = {ws.bins} quantile strata, not your boundaries."
                if ws.boundaries is not None
                else ""
            )
        )
        st.dataframe(
            det["table"],
            hide_index=True,
            key="detection_table",
            height=260,
            column_config={
                c: st.column_config.NumberColumn(format="%.3f") for c in ("base_rate", "roc_auc", "average_precision")
            },
        )
        if det.get("error"):
            st.warning(f"No curves: {det['error']}")
        else:
            widgets.plotly(plots.roc_figure(det["roc"]), key="roc")
            widgets.plotly(plots.pr_figure(det["pr"]), key="pr")
        pr = precision_recall_at(det["truth"], ~mask)
        st.markdown(
            f"**The discarded rows as a defect filter**: precision {pr['precision']:.1%} (share of "
            f"discarded labelled rows that are defects), recall {pr['recall']:.1%} (share of defects "
            f"discarded), F1 {pr['f1']:.3f}."
        )
        shares = labels.defect_shares(
            ws,
            sources[source],
            {"current": mask, **{name: cached_views.selection(ws, r)[0] for name, r in arms.items()}},
        )
        st.caption("Share of each defect type inside each selection (same size as the current one):")
        st.dataframe(
            shares,
            hide_index=True,
            key="defect_share_table",
            column_config={
                c: st.column_config.NumberColumn(format="percent")
                for c in shares.columns
                if c not in ("selection", "n", "n_labelled")
            },
        )
