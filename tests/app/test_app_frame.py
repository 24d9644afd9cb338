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
from qaq.cli import cli

TITLES = {"data": "Data", "score": "Score", "distributions": "Distributions", "disagreement": "Disagreement",
          "browse": "Browse", "select": "Select & export"}


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


def test_navigation_lists_exactly_the_six_pages(pair):
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
