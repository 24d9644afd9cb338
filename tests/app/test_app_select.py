"""Select & export: recipes, live counts, arms, detection against labels, downloads, the CLI command."""

from __future__ import annotations

import json
import shlex

import pytest
from click.testing import CliRunner
from conftest import PAGES, charts, metrics, no_exception, open_app, table, values

from qaq.app import cached_views, paths, state
from qaq.app.table import ChartFilter
from qaq.cli import cli
from qaq.io.datasets import load_dataset
from qaq.io.export import ids_sha256
from qaq.io.labels import labels_path, set_label, set_override
from qaq.io.scorefile import load_scores
from qaq.select.selection import attach_scores, select


def reference(data, scores, recipe):
    return select(attach_scores(load_dataset(data), load_scores(scores)[0]), recipe)


def test_default_recipe_is_qaq_diff_high(pair):
    data, scores = pair
    at = open_app(data, scores, page="select")
    no_exception(at)
    assert at.session_state["recipe"] == {"method": "diff_high", "strong": "strong", "weak": "weak",
                                          "ranking": "stratified", "bins": 10, "budget": 0.25,
                                          "per_stratum_quota": False}
    assert metrics(at)["Selected"] == "15" and metrics(at)["Discarded"] == "45"
    figs = charts(at)
    assert set(figs) == {"stratum_counts", "retention"}  # the lazy tabs below run only when open
    assert len(at.get("download_button")) == 3  # Export is the tab open by default
    sel_trace = next(t for t in figs["stratum_counts"]["data"] if t["name"] == "selected")
    assert sum(values(sel_trace["y"])) == 15
    counts = table(at, columns=("stratum", "rows", "selected"))
    assert counts["selected"].sum() == 15 and counts["rows"].sum() == 60


def test_budget_slider_changes_the_counts(pair):
    data, scores = pair
    at = open_app(data, scores, page="select")
    at.slider(key="sel_budget").set_value(50).run()
    no_exception(at)
    assert metrics(at)["Selected"] == "30"
    ref = reference(data, scores, at.session_state["recipe"])
    sel_trace = next(t for t in charts(at)["stratum_counts"]["data"] if t["name"] == "selected")
    assert sum(values(sel_trace["y"])) == int(ref["selected"].sum()) == 30
    at.checkbox(key="sel_quota").check().run()
    counts = table(at, columns=("stratum", "rows", "selected"))
    assert sorted(counts["selected"].tolist()) == [0, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3]  # 30 over 10 strata


@pytest.mark.parametrize("how", ["diff", "sum"])
def test_threshold_mode(pair, how):
    data, scores = pair
    at = open_app(data, scores, page="select")
    at.selectbox(key="sel_method").set_value(f"{how}_high").run()
    at.radio(key="sel_how").set_value("a threshold").run()
    at.slider(key=f"sel_threshold_{how}").set_value(0.3 if how == "diff" else 1.2).run()
    no_exception(at)
    recipe = at.session_state["recipe"]
    assert recipe["threshold"] == (0.3 if how == "diff" else 1.2) and "budget" not in recipe
    ref = reference(data, scores, recipe)
    assert metrics(at)["Selected"] == str(int((ref[how] > recipe["threshold"]).sum()))
    assert charts(at)["retention"]["layout"]["xaxis"]["title"]["text"] == f"{how} threshold"


def test_other_arms(pair):
    data, scores = pair
    at = open_app(data, scores, page="select")
    at.selectbox(key="sel_method").set_value("rmi_band").run()
    at.selectbox(key="sel_model").set_value("weak")
    at.slider(key="sel_band").set_value((0.2, 0.6)).run()
    no_exception(at)
    recipe = at.session_state["recipe"]
    assert (recipe["method"], recipe["model"], recipe["lo"], recipe["hi"]) == ("rmi_band", "weak", 0.2, 0.6)
    assert metrics(at)["Selected"] == str(int(reference(data, scores, recipe)["selected"].sum()))
    at.selectbox(key="sel_method").set_value("ifd").run()
    no_exception(at)
    assert metrics(at)["Selected"] == str(int(reference(data, scores, at.session_state["recipe"])["selected"].sum()))
    at.selectbox(key="sel_method").set_value("random").run()
    no_exception(at)
    assert metrics(at)["Selected"] == "15" and "retention" not in charts(at)


def test_a_recipe_that_cannot_apply_is_explained(pair):
    at = open_app(*pair, page="select")
    at.selectbox(key="sel_method").set_value("rmi_band").run()
    at.slider(key="sel_band").set_value((0.4, 0.4)).run()
    no_exception(at)
    assert "cannot be applied" in at.error[0].value and "must be below" in at.error[0].value


def test_one_model_offers_only_one_model_arms(single):
    at = open_app(*single, page="select")
    no_exception(at)
    assert at.selectbox(key="sel_method").options == ["RMI rank band (one model)", "IFD (Cherry LLM)", "Random"]
    assert any("need two scored models" in c.value for c in at.caption)


def test_overlap_with_other_arms(pair):
    at = open_app(*pair, page="select", sel_tab="Overlap with other arms")
    assert not at.get("download_button")
    overlap = table(at, columns=("arm", "shared", "jaccard")).set_index("arm")
    assert list(overlap.index) == ["QAQ (Diff-High)", "IFD", "random"]
    assert overlap.loc["QAQ (Diff-High)", "shared"] == 15 and overlap.loc["QAQ (Diff-High)", "jaccard"] == 1.0
    assert (overlap["rows"] == 15).all()


def test_detection_quality_against_the_defect_column_and_user_labels(pair):
    data, scores = pair
    at = open_app(data, scores, page="select", sel_tab="Detection quality")
    no_exception(at)
    assert at.selectbox(key="det_source").options == ["the data's `defect` column"]
    det = table(at, columns=("defect", "detector", "roc_auc"))
    assert set(det["defect"]) == {"echo", "fabricated", "mismatch", "any defect"}
    assert set(det["detector"]) == {"low RMI", "RMI two-sided", "low Diff", "IFD"}
    # The synthetic echoes have very high RMI: the two-sided detector finds them, low RMI cannot.
    echo = det[det["defect"] == "echo"].set_index("detector")["roc_auc"]
    assert echo["RMI two-sided"] > 0.6 and echo["low RMI"] < 0.1
    assert len(charts(at)["roc"]["data"]) == 5  # 4 detectors + chance
    assert any(m.value.startswith("**The discarded rows as a defect filter**") for m in at.markdown)
    shares = table(at, columns=("selection", "n_labelled", "any defect"))
    assert shares["selection"].tolist() == ["all data", "current", "QAQ (Diff-High)", "IFD", "random"]

    for i, label in enumerate(["ok", "ok", "mismatched", "echo"]):
        set_label(labels_path(data), f"r00001{i}", label)
    at.run()
    assert at.selectbox(key="det_source").options == ["the data's `defect` column", "your labels"]
    at.selectbox(key="det_source").set_value("your labels").run()
    no_exception(at)
    det = table(at, columns=("defect", "detector", "roc_auc"))
    assert set(det["defect"]) == {"echo", "mismatched", "any defect"}
    assert set(det["n_negative"]) == {2}


def test_overrides_from_browse_enter_the_recipe(pair):
    data, scores = pair
    at = open_app(data, scores, page="select")
    picked = reference(data, scores, at.session_state["recipe"])
    inside = picked.loc[picked["selected"], "id"].iloc[0]
    outside = picked.loc[~picked["selected"] & (picked["skip"] == ""), "id"].iloc[0]
    set_override(labels_path(data), inside, "exclude")
    set_override(labels_path(data), outside, "include")
    at.run()
    no_exception(at)
    assert at.session_state["recipe"]["include"] == [outside]
    assert at.session_state["recipe"]["exclude"] == [inside]
    assert metrics(at)["Selected"] == "16"  # one out before the budget is filled, one added on top
    at.checkbox(key="sel_overrides").uncheck().run()
    assert "include" not in at.session_state["recipe"]


def test_downloads_and_the_command_line_reproduce_the_selection(pair, tmp_path, monkeypatch):
    data, scores = pair
    at = open_app(data, scores, page="select")
    at.slider(key="sel_budget").set_value(40).run()
    no_exception(at)
    assert [b.label for b in at.get("download_button")] == ["Selected rows (24)", "Discarded rows (36)", "Manifest"]
    recipe = at.session_state["recipe"]
    files = cached_views.export_files(at.session_state[state.WORKSPACE_KEY], recipe)
    assert sorted(files) == ["discarded.jsonl", "manifest.json", "selected.jsonl"]
    source = data.read_bytes().splitlines(keepends=True)
    sel_lines = files["selected.jsonl"].splitlines(keepends=True)
    dis_lines = files["discarded.jsonl"].splitlines(keepends=True)
    assert len(sel_lines) == 24 and len(dis_lines) == 36
    assert sorted(sel_lines + dis_lines) == sorted(source)  # each row exactly as in the file
    manifest = json.loads(files["manifest.json"])
    assert manifest["n_selected"] == 24 and manifest["recipe"]["budget"] == 0.4

    # The command shown on the page reproduces the same ids.
    (command,) = [c.value for c in at.code if c.value.startswith("qaq select")]
    args = shlex.split(command)[1:]
    assert args[args.index("--recipe") + 1] == json.dumps(recipe, separators=(",", ":"))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    cli_manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert cli_manifest["ids_sha256"] == manifest["ids_sha256"]
    assert (tmp_path / "selected.jsonl").read_bytes() == files["selected.jsonl"]
    ids = [json.loads(line)["id"] for line in sel_lines]
    assert ids_sha256(ids) == manifest["ids_sha256"]


def test_small_strata_and_empty_selections_are_explained(pair):
    """60 rows in K = 10 strata: 6 rows a stratum, and the 50-75% band keeps nothing; K = 2 fixes both."""
    data, scores = pair
    at = open_app(data, scores, page="select")
    no_exception(at)
    assert [w.value for w in at.main.warning] == [
        "The smallest of the 10 strata of strong has 5 rows (fewer than 20), so its ranks move in steps of 20%; "
        'use fewer strata ("bins": 2 or less gives 20+ rows each) or "ranking": "global".']
    at.selectbox(key="sel_method").set_value("rmi_band").run()
    at.slider(key="sel_band").set_value((0.5, 0.55)).run()
    assert metrics(at)["Selected"] == "0"
    warnings = [w.value for w in at.main.warning]
    assert warnings[0].startswith("The recipe keeps 0 of 60 rows") and len(warnings) == 2
    at.sidebar.slider(key="bins").set_value(2).run()
    assert metrics(at)["Selected"] != "0" and not at.main.warning


# ------------------------------------------------------------------ custom strata, chart filter, counts explained


def shown_recipe(at) -> dict:
    """The recipe JSON the page shows (its expander under the command line)."""
    (code,) = [c.value for c in at.code if c.language == "json"]
    return json.loads(code)


def cli_files(tmp_path, data, scores, recipe: dict) -> dict[str, bytes]:
    """`qaq select` with a recipe file, through click's runner: its three files by name."""
    path = tmp_path / "recipe.json"
    path.write_text(json.dumps(recipe))
    out = {name: tmp_path / "cli" / name for name in ("selected.jsonl", "discarded.jsonl", "manifest.json")}
    out["selected.jsonl"].parent.mkdir()
    result = CliRunner().invoke(cli, ["select", str(scores), "--data", str(data), "-r", str(path),
                                      "-o", str(out["selected.jsonl"]), "--discarded", str(out["discarded.jsonl"]),
                                      "--manifest", str(out["manifest.json"])])
    assert result.exit_code == 0, result.output
    return {name: p.read_bytes() for name, p in out.items()}


@pytest.mark.parametrize("arm", ["rmi_band", "diff_high quota"])
def test_custom_boundaries_reach_the_recipe_and_qaq_select_reproduces_it_byte_for_byte(pair, tmp_path, arm):
    data, scores = pair
    at = open_app(data, scores, page="distributions")
    at.sidebar.text_input(key="boundaries_text").set_value("2.5, 3.2").run()
    at.switch_page(PAGES["select"]).run()
    if arm == "rmi_band":
        at.selectbox(key="sel_method").set_value("rmi_band").run()
        at.slider(key="sel_band").set_value((0.25, 0.75)).run()
    else:
        at.checkbox(key="sel_quota").check().run()
    no_exception(at)
    recipe = shown_recipe(at)
    assert recipe == at.session_state["recipe"]
    assert recipe["boundaries"] == [2.5, 3.2] and "bins" not in recipe
    assert "K = 10" not in at.main.caption[0].value
    files = cached_views.export_files(at.session_state[state.WORKSPACE_KEY], recipe)
    ref = reference(data, scores, recipe)
    assert int(metrics(at)["Selected"]) == int(ref["selected"].sum()) > 0
    counts = table(at, columns=("stratum", "rows", "selected"))
    assert counts["stratum"].dropna().tolist() == [0, 1, 2]  # three strata, not ten
    cli_out = cli_files(tmp_path, data, scores, recipe)
    assert cli_out["selected.jsonl"] == files["selected.jsonl"]
    assert cli_out["discarded.jsonl"] == files["discarded.jsonl"]
    app_manifest, cli_manifest = json.loads(files["manifest.json"]), json.loads(cli_out["manifest.json"])
    assert cli_manifest["recipe"] == app_manifest["recipe"] and cli_manifest["recipe"]["boundaries"] == [2.5, 3.2]
    assert cli_manifest["ids_sha256"] == app_manifest["ids_sha256"]


def test_the_chart_filter_is_shown_or_enters_the_recipe(pair, tmp_path):
    data, scores = pair
    picked = ChartFilter(("r000010", "r000020", "r000030"), "the rank scatter")
    at = open_app(data, scores, page="select", chart_filter=picked)
    no_exception(at)
    plain = {"method": "diff_high", "strong": "strong", "weak": "weak", "ranking": "stratified", "bins": 10,
             "budget": 0.25, "per_stratum_quota": False}
    assert at.session_state["recipe"] == plain  # by default it only shows how the recipe treats them
    rows = table(at, columns=("selected", "id", "query"))
    assert rows["id"].tolist() == list(picked.ids) and rows.columns[0] == "selected"
    ref = reference(data, scores, plain).set_index("id")
    assert rows["selected"].tolist() == ref.loc[list(picked.ids), "selected"].tolist()
    assert f"Of the chart filter's 3 rows, this recipe selects {int(rows['selected'].sum())}." in [
        c.value for c in at.main.caption]
    at.radio(key="sel_filter_use").set_value("include").run()
    no_exception(at)
    recipe = at.session_state["recipe"]
    assert recipe["include"] == list(picked.ids) and recipe["exclude"] == []
    assert int(metrics(at)["Selected"]) == int(reference(data, scores, recipe)["selected"].sum())
    assert table(at, columns=("selected", "id", "query"))["selected"].all()
    files = cached_views.export_files(at.session_state[state.WORKSPACE_KEY], recipe)
    assert cli_files(tmp_path, data, scores, shown_recipe(at))["selected.jsonl"] == files["selected.jsonl"]
    at.radio(key="sel_filter_use").set_value("exclude").run()
    assert at.session_state["recipe"]["exclude"] == list(picked.ids)
    assert not table(at, columns=("selected", "id", "query"))["selected"].any()


def test_the_retention_curve_marks_the_current_cut(pair):
    data, scores = pair
    at = open_app(data, scores, page="select")
    ref = reference(data, scores, at.session_state["recipe"])
    (cut,) = charts(at)["retention"]["layout"]["shapes"]
    assert cut["name"] == "cut" and cut["x0"] == pytest.approx(ref.loc[ref["selected"], "diff"].min())
    at.selectbox(key="sel_method").set_value("rmi_band").run()
    fig = charts(at)["retention"]
    assert [(s["name"], s["x0"]) for s in fig["layout"]["shapes"]] == [("band", 0.5), ("cut", 0.5), ("cut", 0.75)]
    assert fig["layout"]["xaxis"]["title"]["text"] == "weak_rank threshold"  # the band cuts the rank


def test_why_the_50_75_band_keeps_170_of_700_sample_rows():
    at = open_app(paths.SAMPLE_DATA, paths.SAMPLE_SCORES, page="select")
    at.selectbox(key="sel_method").set_value("rmi_band").run()
    at.selectbox(key="sel_model").set_value("weak").run()
    no_exception(at)
    assert metrics(at)["Selected"] == "170" and metrics(at)["Share kept"] == "24.3%"
    assert ("Why 170 rows (24.3%) and not 25% of 700 (175.0): RMI is ranked within each stratum, so a group of n "
            "rows has the ranks 1/n, 2/n, …, 1, and the band (0.5, 0.75] keeps ⌊0.75·n⌋ − ⌊0.5·n⌋ of them, whole "
            "rows: 17 of 70 in 10 strata = 170.") in [c.value for c in at.main.caption]
    at.sidebar.radio(key="ranking").set_value("global").run()
    assert metrics(at)["Selected"] == "175" and not any(c.value.startswith("Why") for c in at.main.caption)
