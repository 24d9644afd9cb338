"""The Data page: sources, field mapping, validation report, length histograms."""

from __future__ import annotations

import json
from pathlib import Path

import app_tables
import pytest
from conftest import APP, PAGES, app_config, charts, metrics, no_exception, open_app, table
from streamlit.testing.v1 import AppTest

from qaq.app import paths


def test_validation_report_counts_and_bad_rows(pair):
    at = open_app(*pair)
    no_exception(at)
    assert metrics(at) == {"Rows": "60", "To score": "59", "Skipped": "1", "Repeated": "0"}
    skipped = table(at, columns=("id", "line", "skip"))
    assert skipped.to_dict("list") == {"id": ["r000003"], "line": [4], "skip": ["empty answer"]}
    assert any("Detected schema: **instruction-response**" in c.value for c in at.caption)


def test_length_histograms_in_characters_then_tokens(pair):
    at = open_app(*pair)
    fig = charts(at)["length_histograms"]
    assert [t["name"] for t in fig["data"]] == ["query", "answer"]
    assert fig["layout"]["xaxis"]["title"]["text"] == "length (characters)"
    at.radio(key="length_unit").set_value("strong").run()
    no_exception(at)
    assert charts(at)["length_histograms"]["layout"]["xaxis"]["title"]["text"] == "length (strong tokens)"


def test_a_custom_mapping_is_applied(pair):
    data, scores = pair
    at = open_app(data)
    path = str(data.resolve())
    at.selectbox(key=f"map_answer:{path}").set_value("task")
    at.button(key="apply_mapping").click().run()
    no_exception(at)
    assert at.session_state["mapping"] == {"query": "instruction", "answer": "task", "id_field": "id"}
    preview = table(at, columns=("id", "query", "answer", "row"))
    assert set(preview["answer"]) == {"lists"}
    assert "response" in preview.columns  # the unused field passes through
    # The scores were computed on the responses: with the answers mapped to another field, they are refused.
    at = open_app(data, scores, mapping={"query": "instruction", "answer": "task", "id_field": "id"})
    assert "60 of 60 rows have another query or answer than when they were scored" in at.main.error[0].value


def test_chat_files_are_detected(tmp_path):
    path = tmp_path / "chat.jsonl"
    rows = [{"id": f"c{i}", "messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": f"a{i}"}]}
            for i in range(5)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    at = open_app(path, None)
    no_exception(at)
    assert at.radio(key=f"map_kind:{path.resolve()}").value == "a chat (messages)"
    assert metrics(at)["Rows"] == "5"
    assert table(at, columns=("id", "query", "answer", "row"))["query"].tolist() == [f"q{i}" for i in range(5)]


def test_upload_is_kept_and_opened(tmp_path):
    rows = app_tables.records(12, xss=False)
    content = "".join(json.dumps(r) + "\n" for r in rows).encode()
    at = open_app(None, None)
    at.file_uploader(key="data_upload").upload("my data.jsonl", content, "application/json").run()
    at.button(key="use_upload").click().run()
    no_exception(at)
    saved = at.session_state["data_path"]
    assert saved.startswith(str(paths.UPLOAD_DIR)) and saved.endswith("my_data.jsonl")
    assert metrics(at)["Rows"] == "12"
    assert at.session_state["scores_path"] is None
    assert f"up to {app_config()['server']['maxUploadSize']} MB" in at.file_uploader(key="data_upload").label


def test_uploaders_state_the_limit_the_server_enforces(pair):
    from streamlit.testing.v1.util import patch_config_options

    with patch_config_options({"server.maxUploadSize": 7}):
        at = open_app(*pair)
        assert at.file_uploader(key="data_upload").label.endswith("up to 7 MB")
        at.switch_page("pages/score.py").run()
        no_exception(at)
        assert at.file_uploader(key="scores_upload").label == "Upload a score file (up to 7 MB)"


def test_local_path_opens_or_explains(pair, tmp_path):
    data, _ = pair
    at = open_app(None, None)
    at.text_input(key="data_local_path").set_value(str(tmp_path / "missing.jsonl")).run()
    at.button(key="open_local").click().run()
    no_exception(at)
    assert "No such file" in at.error[0].value
    at.text_input(key="data_local_path").set_value(str(data)).run()
    at.button(key="open_local").click().run()
    no_exception(at)
    assert at.session_state["data_path"] == str(data)
    assert metrics(at)["Rows"] == "60"


@pytest.mark.skipif(not paths.SAMPLE_DATA.is_file(), reason="the bundled sample is not generated yet")
def test_sample_button_reopens_the_bundled_sample(pair):
    at = open_app(*pair)
    at.button(key="open_sample").click().run()
    no_exception(at)
    assert at.session_state["data_path"] == str(paths.SAMPLE_DATA)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_csv_and_parquet_sources(tmp_path, fmt):
    import pandas as pd

    rows = pd.DataFrame(app_tables.records(9, xss=False))
    path = tmp_path / f"d.{fmt}"
    rows.to_csv(path, index=False) if fmt == "csv" else rows.to_parquet(path)
    at = open_app(path, None)
    no_exception(at)
    assert metrics(at)["Rows"] == "9"
    assert at.selectbox(key=f"map_query:{path}").options == ["id", "task", "defect", "instruction", "response"]
    assert at.selectbox(key=f"map_answer:{path}").value == "response"


def test_heavily_truncated_rows_are_reported(tmp_path):
    from qaq.io.scorefile import load_scores, write_scores

    data, scores = app_tables.write_pair(tmp_path, 30)
    at = open_app(data, scores)
    assert not at.main.warning  # nothing cut
    t, meta = load_scores(scores)
    t.loc[[5, 9], "weak_truncated"] = 10_000  # far more than the rows' own tokens
    write_scores(t, scores, meta)
    at = open_app(data, scores)
    no_exception(at)
    assert [w.value for w in at.main.warning] == [
        "2 rows lost more than 10% of their tokens to the max length when **weak** scored them: their scores "
        "describe the kept part only."]
    cut = next(df.value for df in at.dataframe if "tokens_cut" in df.value.columns)
    assert sorted(cut["id"]) == sorted(t.loc[[5, 9], "id"]) and set(cut["tokens_cut"]) == {10_000}


def test_data_whose_text_changed_since_scoring_is_refused(tmp_path):
    data, scores = app_tables.write_pair(tmp_path, 30)
    rows = [json.loads(line) for line in data.read_text().splitlines()]
    rows[4], rows[5] = {**rows[5], "id": rows[4]["id"]}, {**rows[4], "id": rows[5]["id"]}  # two texts swapped
    app_tables.write_data(data, rows)
    at = open_app(data, scores)
    no_exception(at)
    errors = [e.value for e in at.main.error]
    assert len(errors) == 1 and errors[0].startswith(
        f"The data cannot be loaded: 2 of 30 rows have another query or answer than when they were scored, e.g. "
        f"'{rows[4]['id']}' (line 5), '{rows[5]['id']}' (line 6)")


def test_an_upload_goes_into_the_url_and_a_new_session_reopens_it(tmp_path):
    rows = app_tables.records(12, xss=False)
    content = "".join(json.dumps(r) + "\n" for r in rows).encode()
    at = open_app(None, None)
    at.file_uploader(key="data_upload").upload("five rows.jsonl", content, "application/json").run()
    at.button(key="use_upload").click().run()
    saved = Path(at.session_state["data_path"])
    assert saved.parent.parent == paths.UPLOAD_DIR  # uploads/<digest>/<name>
    assert at.query_params["data"] == f"upload:{saved.parent.name}/five_rows.jsonl"
    again = AppTest.from_file(str(APP), default_timeout=60)
    again.query_params.update(dict(at.query_params))
    again.run()
    no_exception(again)
    assert again.session_state["data_path"] == str(saved) and again.session_state["scores_path"] is None
    assert metrics(again)["Rows"] == "12"


def test_recent_datasets_switch_back_in_one_click(pair, single):
    data, scores = pair
    at = open_app(*pair, mapping={})
    assert not [b for b in at.button if b.key.startswith("recent_")]  # nothing opened yet
    at.text_input(key="data_local_path").set_value(str(single[0])).run()
    at.button(key="open_local").click().run()
    assert at.session_state["data_path"] == str(single[0])
    at.button(key="apply_mapping").click().run()  # a mapping: remembered with the dataset
    at.text_input(key="data_local_path").set_value(str(data)).run()
    at.button(key="open_local").click().run()
    at.switch_page(PAGES["score"]).run()
    at.text_input(key="scores_local_path").set_value(str(scores)).run()
    at.button(key="load_scores").click().run()
    at.switch_page(PAGES["data"]).run()
    no_exception(at)
    # The one in use is not listed; the other is, with its mapping, most recent first.
    (button,) = [b for b in at.button if b.key.startswith("recent_")]
    assert button.label == f"{single[0].name} (custom fields)"
    button.click().run()
    no_exception(at)
    assert at.session_state["data_path"] == str(single[0]) and at.session_state["scores_path"] is None
    assert at.session_state["mapping"]
    (button,) = [b for b in at.button if b.key.startswith("recent_")]
    assert button.label == f"{data.name} + {scores.name}"  # and back, with its scores
    button.click().run()
    assert (at.session_state["data_path"], at.session_state["scores_path"]) == (str(data), str(scores))
    # A dataset whose file is gone drops out of the list.
    single[0].unlink()
    at.run()
    assert not [b for b in at.button if b.key.startswith("recent_")]
