"""The frame: navigation, shared sidebar, default sources, empty states, `qaq app`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import APP, PAGES, REPO, app_config, charts, no_exception, open_app
from streamlit.testing.v1 import AppTest

from qaq.app import paths
from qaq.app.table import ChartFilter
from qaq.cli import cli

TITLES = {"data": "Data", "score": "Score", "distributions": "Distributions", "disagreement": "Disagreement",
          "browse": "Browse", "select": "Select & export", "map": "Map"}


def test_every_page_runs_through_the_frame(pair):
    data, scores = pair
    at = open_app(data, scores)
    no_exception(at)
    assert [t.value for t in at.title] == ["Data"]  # the default page
    for name, path in PAGES.items():
        at.switch_page(path).run()
        no_exception(at)
        assert [t.value for t in at.title] == [TITLES[name]]
        # The shared sidebar is drawn by app.py on every page: the page did not run on its own.
        assert [s.label for s in at.sidebar.selectbox] == ["Strong model", "Weak model"]
        assert at.sidebar.slider(key="bins").value == 10
        assert at.sidebar.radio(key="ranking").value == "stratified"


def test_navigation_lists_exactly_the_seven_pages(pair):
    at = open_app(*pair)
    registered = sorted(Path(str(p["script_path"])).relative_to(paths.APP_DIR).as_posix()
                        for p in at._registered_pages.values())
    assert registered == sorted(PAGES.values())


def test_pages_folder_holds_only_registered_pages():
    # st.navigation turns off auto-discovery; a stray file in pages/ would still be a surprise.
    packaged = sorted(p.relative_to(paths.APP_DIR).as_posix() for p in paths.PAGES_DIR.glob("*.py"))
    assert packaged == sorted(PAGES.values())
    # The checkout's pages/ only hands a direct link to the frame: one launcher per page, nothing else.
    launchers = sorted(p.relative_to(REPO).as_posix() for p in (REPO / "pages").glob("*.py"))
    assert launchers == sorted(PAGES.values())
    for path in launchers:
        code = [line for line in (REPO / path).read_text().splitlines() if line and not line.startswith('"""')]
        assert code == ["from qaq.app.frame import run", "run()"], path


def test_the_checkout_app_py_runs_the_same_frame(pair):
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    at.session_state["data_path"], at.session_state["scores_path"] = map(str, pair)
    at.run()
    no_exception(at)
    assert [t.value for t in at.title] == ["Data"]
    assert [s.label for s in at.sidebar.selectbox] == ["Strong model", "Weak model"]


def test_sidebar_k_and_roles_reach_the_table(pair):
    at = open_app(*pair, page="browse")
    assert at.session_state["strong"] == "strong" and at.session_state["weak"] == "weak"
    assert at.selectbox(key="browse_stratum").options == ["all strata"] + [f"stratum {k}" for k in range(10)]
    at.sidebar.slider(key="bins").set_value(4).run()
    no_exception(at)
    assert at.selectbox(key="browse_stratum").options == ["all strata"] + [f"stratum {k}" for k in range(4)]
    # Swapping the roles swaps which model is strong in every Diff.
    at.switch_page(PAGES["disagreement"]).run()
    before = charts(at)["rank_scatter"]["layout"]["yaxis"]["title"]["text"]
    at.sidebar.selectbox(key="strong").set_value("weak").run()
    no_exception(at)
    assert at.session_state["weak"] == "strong"
    after = charts(at)["rank_scatter"]["layout"]["yaxis"]["title"]["text"]
    assert before.startswith("strong") and after.startswith("weak")


def test_ranking_global_changes_the_ranks(pair):
    at = open_app(*pair, page="disagreement")
    stratified = at.dataframe(key="disagreed_table").value["diff"].tolist()
    at.sidebar.radio(key="ranking").set_value("global").run()
    no_exception(at)
    assert at.session_state["ranking"] == "global"
    assert at.dataframe(key="disagreed_table").value["diff"].tolist() != stratified


def test_environment_chooses_the_sources(pair, monkeypatch):
    data, scores = pair
    monkeypatch.setenv(paths.ENV_DATA, str(data))
    monkeypatch.setenv(paths.ENV_SCORES, str(scores))
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    no_exception(at)
    assert at.session_state["data_path"] == str(data)
    assert at.metric[0].value == "60"


@pytest.mark.skipif(not paths.SAMPLE_DATA.is_file(), reason="the bundled sample is not generated yet")
def test_opens_on_the_bundled_sample_by_default():
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    no_exception(at)
    assert at.session_state["data_path"] == str(paths.SAMPLE_DATA)
    if paths.SAMPLE_SCORES.is_file():
        assert at.session_state["scores_path"] == str(paths.SAMPLE_SCORES)
        at.switch_page(PAGES["distributions"]).run()
        no_exception(at)
        assert "rmi_histogram" in charts(at)


@pytest.mark.parametrize("page", list(PAGES))
def test_empty_state_without_data(page):
    at = open_app(None, None, page=page)
    no_exception(at)
    text = " ".join(i.value for i in at.info)
    if page == "data":
        assert "No dataset is open yet" in text
    elif page == "score":
        assert "Open a dataset on the Data page first" in text
    else:
        assert "No data yet" in text
    assert not charts(at)


@pytest.mark.parametrize("page", ["distributions", "disagreement", "browse", "select"])
def test_empty_state_without_scores(pair, page):
    at = open_app(pair[0], None, page=page)
    no_exception(at)
    assert "no scores yet" in " ".join(i.value for i in at.info)
    assert not charts(at)


def test_one_model_disagreement_says_what_it_needs(single):
    at = open_app(*single, page="disagreement")
    no_exception(at)
    message = " ".join(i.value for i in at.info)
    assert "needs two scored models" in message and "weak" in message
    assert "One scored model (weak)" in " ".join(c.value for c in at.sidebar.caption)


def test_a_broken_data_file_is_explained_on_every_page(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"instruction": "a", "response": "b"}\n{"instruction": 3, "response": "b"}\n')
    for page in ("data", "browse"):
        at = open_app(bad, None, page=page)
        no_exception(at)
        errors = " ".join(e.value for e in at.error)
        assert "bad.jsonl:2:" in errors and "'instruction'" in errors and "expected a string" in errors


def test_scores_that_do_not_match_the_data_are_explained(pair, single):
    at = open_app(pair[0], single[1], page="distributions")
    no_exception(at)
    assert "do not match" in " ".join(e.value for e in at.error)


# ------------------------------------------------------------------------------------- qaq app


def _capture_exec(monkeypatch) -> list:
    calls = []
    monkeypatch.setattr(os, "execve", lambda path, cmd, env: calls.append((path, cmd, env, os.getcwd())))
    return calls


def test_qaq_app_runs_streamlit_on_localhost(monkeypatch, pair):
    calls = _capture_exec(monkeypatch)
    data, scores = pair
    result = CliRunner().invoke(cli, ["app", "--port", "8999", "--data", str(data), "--scores", str(scores)])
    assert result.exit_code == 0, result.output
    (path, cmd, env, cwd), = calls
    assert cwd == os.getcwd()  # relative paths on the Data page mean what they meant where qaq app started
    assert path == sys.executable
    assert cmd[:4] == [sys.executable, "-m", "streamlit", "run"] and cmd[4] == str(APP)
    opts = dict(zip(cmd[5::2], cmd[6::2]))
    assert opts["--server.address"] == "localhost"
    assert opts["--server.port"] == "8999"
    # The same values as .streamlit/config.toml, which `streamlit run app.py` reads.
    assert opts["--server.maxUploadSize"] == str(app_config()["server"]["maxUploadSize"])
    assert opts["--server.fileWatcherType"] == "none" and "--server.headless" not in opts
    assert opts["--browser.gatherUsageStats"] == "false"
    assert opts["--client.toolbarMode"] == "viewer"  # no Deploy button; the running indicator stays
    assert env[paths.ENV_DATA] == str(data.resolve()) and env[paths.ENV_SCORES] == str(scores.resolve())


def test_qaq_app_without_options_clears_inherited_sources(monkeypatch):
    calls = _capture_exec(monkeypatch)
    monkeypatch.setenv(paths.ENV_DATA, "/elsewhere/data.jsonl")
    assert CliRunner().invoke(cli, ["app"]).exit_code == 0
    env = calls[0][2]
    assert paths.ENV_DATA not in env and paths.ENV_SCORES not in env


def test_qaq_app_rejects_a_missing_data_file(tmp_path):
    result = CliRunner().invoke(cli, ["app", "--data", str(tmp_path / "nope.jsonl")])
    assert result.exit_code != 0 and "does not exist" in result.output


def test_qaq_app_explains_a_missing_app_file(monkeypatch, tmp_path):
    monkeypatch.setattr(paths, "MAIN_FILE", tmp_path / "qaq" / "app" / "main.py")
    result = CliRunner().invoke(cli, ["app"])
    assert result.exit_code == 1 and "the app's entry script is missing" in result.output


def test_listening_beyond_localhost_is_flagged(pair):
    from streamlit.testing.v1.util import patch_config_options

    with patch_config_options({"server.address": "0.0.0.0"}):
        at = open_app(*pair)
    assert "listens on every network interface" in at.sidebar.warning[0].value
    with patch_config_options({"server.address": "localhost"}):
        at.run()
    assert not at.sidebar.warning


def test_the_server_config_keeps_the_app_private():
    """`.streamlit/config.toml`: localhost only, no usage statistics, an upload limit; all real options."""
    from streamlit import config

    options = app_config()
    assert options["server"]["address"] == "localhost"
    assert options["browser"]["gatherUsageStats"] is False
    assert isinstance(options["server"]["maxUploadSize"], int) and options["server"]["maxUploadSize"] > 0
    for section, values in options.items():
        for name in values:
            config.get_option(f"{section}.{name}")  # raises RuntimeError for an unknown option


def test_the_checkout_config_holds_the_server_options_qaq_app_passes():
    assert {f"{s}.{n}": v for s, values in app_config().items() for n, v in values.items()} == paths.SERVER_OPTIONS


def test_streamlit_reads_the_server_config_from_the_app_folder(tmp_path):
    """From another working directory, `streamlit run app.py` still gets .streamlit/config.toml beside app.py."""
    code = ("import json, sys; from streamlit import config; config._main_script_path = sys.argv[1]; "
            "print(json.dumps({k: config.get_option(k) for k in sys.argv[2:]}))")
    keys = [f"{s}.{n}" for s, values in app_config().items() for n in values]
    out = subprocess.run([sys.executable, "-c", code, str(REPO / "app.py"), *keys], cwd=tmp_path, capture_output=True,
                         text=True, check=True)
    loaded = json.loads(out.stdout)
    assert loaded == {f"{s}.{n}": v for s, values in app_config().items() for n, v in values.items()}


# --------------------------------------------------------------------------- the workspace in the URL


def _fresh(params: dict) -> AppTest:
    """A new session (a reload, a shared link) opening the app with these query parameters only."""
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params.update(params)
    at.run()
    return at


WORKSPACE_KEYS = ("data_path", "scores_path", "mapping", "strong", "weak", "bins", "boundaries", "ranking", "recipe",
                  "browse_model", "browse_stratum", "browse_sort", "browse_order", "browse_search", "browse_label")


def _workspace_state(at: AppTest) -> dict:
    return {k: at.session_state[k] for k in WORKSPACE_KEYS if k in at.session_state}


def test_a_reload_restores_the_workspace_from_the_url(pair):
    at = open_app(*pair)
    at.sidebar.selectbox(key="strong").set_value("weak").run()  # roles swapped
    at.sidebar.slider(key="bins").set_value(5).run()
    at.sidebar.radio(key="ranking").set_value("global").run()
    at.switch_page(PAGES["select"]).run()
    at.selectbox(key="sel_method").set_value("sum_high").run()
    at.slider(key="sel_budget").set_value(10).run()
    at.checkbox(key="sel_quota").check().run()
    at.switch_page(PAGES["browse"]).run()
    at.selectbox(key="browse_stratum").set_value(2).run()
    at.radio(key="browse_order").set_value("highest first").run()
    at.text_input(key="browse_search").set_value("adds").run()
    opened = at.session_state["example_id"]
    step = "next" if not at.button(key="browse_example_next").disabled else "previous"
    at.button(key=f"browse_example_{step}").click().run()  # another row of the list opens
    no_exception(at)
    assert at.session_state["example_id"] not in (None, opened)
    opened = at.session_state["example_id"]
    at.session_state["chart_filter"] = ChartFilter(("r000010", "r000020"), "the map")  # as a lasso sets it
    at.run()
    opened = at.session_state["example_id"]  # Browse lists the picked rows now: one of them is open
    assert opened in ("r000010", "r000020")
    params = dict(at.query_params)
    assert params["row"] == opened and len(params["pick"]) == 16
    assert params["k"] == "5" and params["rank"] == "global" and params["order"] == "desc" and params["q"] == "adds"
    assert json.loads(params["recipe"]) == {"method": "sum_high", "strong": "weak", "weak": "strong",
                                            "budget": 0.1, "per_stratum_quota": True}
    before = _workspace_state(at)
    again = _fresh(params)
    no_exception(again)
    after = _workspace_state(again)  # Browse's defaults (sort, label) are set once Browse is drawn
    assert after == {k: before[k] for k in after} and set(WORKSPACE_KEYS) - set(after) <= {"browse_sort", "browse_label"}
    assert not again.warning
    # The widgets show it: the sidebar, then Select & export rebuilds the same recipe from its widgets.
    assert again.sidebar.slider(key="bins").value == 5 and again.sidebar.selectbox(key="strong").value == "weak"
    again.switch_page(PAGES["select"]).run()
    no_exception(again)
    assert again.slider(key="sel_budget").value == 10 and again.checkbox(key="sel_quota").value
    assert again.session_state["recipe"] == before["recipe"]
    assert dict(again.query_params) == params
    again.switch_page(PAGES["browse"]).run()
    assert again.text_input(key="browse_search").value == "adds" and again.radio(key="browse_order").value == (
        "highest first")
    assert again.selectbox(key="browse_stratum").value == 2
    assert again.session_state["browse_sort"] == before["browse_sort"]  # the default: not in the URL
    assert again.session_state["example_id"] == opened  # the same example is open
    assert again.session_state["chart_filter"] == ChartFilter(("r000010", "r000020"), "the map")


def test_custom_boundaries_and_a_mapping_go_through_the_url(pair):
    data, scores = pair
    at = open_app(data, scores, mapping={"query": "instruction", "answer": "response"})
    at.sidebar.text_input(key="boundaries_text").set_value("3.5, 2.5").run()
    no_exception(at)
    params = dict(at.query_params)
    assert params["cuts"] == "2.5,3.5" and json.loads(params["map"]) == {"query": "instruction", "answer": "response"}
    again = _fresh(params)
    no_exception(again)
    assert again.session_state["boundaries"] == (2.5, 3.5)
    assert again.session_state["mapping"] == {"query": "instruction", "answer": "response"}
    assert again.sidebar.text_input(key="boundaries_text").value == at.sidebar.text_input(key="boundaries_text").value


@pytest.mark.skipif(not paths.SAMPLE_DATA.is_file(), reason="the bundled sample is not generated yet")
def test_a_link_to_a_missing_file_opens_the_sample_and_says_so(tmp_path):
    at = _fresh({"data": str(tmp_path / "gone.jsonl"), "k": "7", "rank": "nonsense"})
    no_exception(at)
    assert at.session_state["data_path"] == str(paths.SAMPLE_DATA)
    assert at.session_state["scores_path"] == str(paths.SAMPLE_SCORES)
    assert at.session_state["bins"] == 7 and at.session_state["ranking"] == "stratified"
    assert [w.value for w in at.warning] == [
        f"The link's dataset cannot be opened (no such file: {tmp_path / 'gone.jsonl'}): the bundled sample is open "
        "instead.",
        "`rank=nonsense` in the link was left out: not one of stratified, global."]
    assert at.metric  # the sample's validation report: the page works on
    # The URL now says what is open: the bad values are gone from it.
    assert "data" not in at.query_params and "rank" not in at.query_params and at.query_params["k"] == "7"
    at.switch_page(PAGES["browse"]).run()  # the warning stays with the workspace it explains...
    assert len(at.warning) == 2
    at.switch_page(PAGES["data"]).run()
    at.button(key="open_sample").click().run()  # ... until a dataset is opened
    no_exception(at)
    assert not at.warning


def test_the_url_wins_over_the_environment(pair, single, monkeypatch):
    monkeypatch.setenv(paths.ENV_DATA, str(single[0]))
    monkeypatch.setenv(paths.ENV_SCORES, str(single[1]))
    at = _fresh({"data": str(pair[0]), "scores": str(pair[1])})
    no_exception(at)
    assert (at.session_state["data_path"], at.session_state["scores_path"]) == tuple(map(str, pair))
    bare = _fresh({})
    assert (bare.session_state["data_path"], bare.session_state["scores_path"]) == tuple(map(str, single))
    assert not bare.query_params  # the defaults, the table's own roles: nothing to say in the URL
