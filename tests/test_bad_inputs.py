"""Awkward and broken inputs through `qaq score` and `qaq select`: one clear line each (file, line,
field, what the file looks like and what qaq expects), exit code 1, and no file changed."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from qaq.cli import cli

NO_MODEL = "w=./no/such/model"  # the data is checked first: a model is never needed here


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _fails(args: list[str], message: str, folder: Path) -> str:
    before = _snapshot(folder)
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 1, res.output
    assert message in res.output, res.output
    assert "Traceback" not in res.output and len(res.output.strip().splitlines()[-1]) < 600
    assert _snapshot(folder) == before  # nothing written, nothing changed
    return res.output


BAD_DATA = [
    ("surrogate.jsonl", '{"instruction": "Reverse \\ud83d a string", "output": "s[::-1]"}\n',
     "surrogate.jsonl:1: field 'instruction': holds a lone UTF-16 surrogate ('\\ud83d' at character 8)"),
    ("chat.jsonl", '{"messages": [{"role": "user", "content": "hi \\udc00"}, {"role": "assistant", "content": "x"}]}\n',
     "chat.jsonl:1: field 'messages[0].content': holds a lone UTF-16 surrogate"),
    ("deep.jsonl", '{"instruction": "a", "output": "b", "extra": ' + "[" * 100_000 + "]" * 100_000 + "}\n",
     "deep.jsonl:1: JSON nested too deeply to read"),
    ("pretty.jsonl", '{\n  "instruction": "a",\n  "output": "b"\n}\n',
     "pretty.jsonl:1: invalid JSON (Expecting property name enclosed in double quotes, column 2): the record "
     "does not end on its line, as in pretty-printed JSON; a .jsonl file holds one complete JSON object per line"),
    ("wrapped.json", '{"data": [\n  {"instruction": "a", "output": "b"},\n  {"instruction": "c", "output": "d"}\n]}\n',
     "wrapped.json:1: the file is one JSON object (its records are a list under 'data' (2 records)); qaq reads a "
     "JSON array of records or JSON Lines"),
    ("semicolons.csv", "instruction;output\na;b\nc;d\n",
     "semicolons.csv:1: the header is one field holding ';' characters: this looks like a ';'-delimited file"),
    ("tabs.csv", "instruction\toutput\na\tb\n", "this looks like a tab-delimited file; qaq reads comma-separated CSV"),
]


@pytest.mark.parametrize(("name", "text", "message"), BAD_DATA, ids=[b[0] for b in BAD_DATA])
def test_bad_data_files_are_located_and_explained(tmp_path, name, text, message):
    data = tmp_path / name
    data.write_text(text, encoding="utf-8")
    _fails(["score", str(data), "-m", NO_MODEL, "-o", str(tmp_path / "s.parquet")], message, tmp_path)


def test_a_jsonl_file_named_json_still_loads(tmp_path):
    from qaq.io.datasets import load_dataset

    data = tmp_path / "lines.json"
    data.write_text('{"instruction": "a", "output": "b"}\n{"instruction": "c", "output": "d"}\n')
    assert load_dataset(data)["query"].tolist() == ["a", "c"]


def test_a_model_folder_without_weights(tmp_path, tiny_model_dir):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_bytes((tiny_model_dir / "config.json").read_bytes())
    data = tmp_path / "d.jsonl"
    data.write_text('{"instruction": "a", "output": "b"}\n')
    _fails(["score", str(data), "-m", f"w={folder}", "-o", str(tmp_path / "s.parquet")],
           "the directory has config.json but no weight files (*.safetensors, *.bin, *.gguf", tmp_path)


def test_dry_run_with_nothing_to_score(tmp_path, tiny_model_dir):
    data = tmp_path / "empty.jsonl"
    data.write_text('{"instruction": "", "output": "x"}\n{"instruction": "q", "output": ""}\n')
    res = CliRunner().invoke(cli, ["score", str(data), "-m", f"t={tiny_model_dir}", "--dry-run", "--dtype", "fp32"])
    assert res.exit_code == 0, res.output
    assert "t: nothing to score: every row has an empty query or answer" in res.output and "nan" not in res.output


@pytest.fixture
def scored(tmp_path):
    """A 3-row data file and its score table (written by hand, in qaq's format)."""
    import pandas as pd

    from qaq.io.scorefile import write_scores

    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps({"id": f"q{i}", "instruction": f"q{i}", "output": "a"}) + "\n" for i in range(3)))
    scores = pd.DataFrame({"id": ["q0", "q1", "q2"], "m_nll_q": [2.0, 3.0, 4.0], "m_nll_q_given_a": [1.0, 2.5, 1.0],
                           "m_rmi": [1.0, 0.5, 3.0]})
    write_scores(scores, tmp_path / "scores.parquet", {"models": {"m": {}}})
    return data, tmp_path / "scores.parquet"


def test_recipes_with_a_bom_or_as_an_inline_array(tmp_path, scored):
    data, scores = scored
    recipe = tmp_path / "r.json"
    recipe.write_bytes(b'\xef\xbb\xbf{"method": "random", "budget": 2}')
    res = CliRunner().invoke(cli, ["select", str(scores), "--data", str(data), "-r", str(recipe),
                                   "-o", str(tmp_path / "out.jsonl")])
    assert res.exit_code == 0, res.output
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 2
    _fails(["select", str(scores), "--data", str(data), "-r", '[{"method": "random"}]', "-o", str(tmp_path / "o.jsonl")],
           "bad recipe: recipe must be one JSON object such as {\"method\": \"diff_high\"", tmp_path)


def test_a_data_file_where_the_scores_go(tmp_path, scored):
    data, _ = scored
    _fails(["select", str(data), "--data", str(data), "-r", '{"method": "random", "budget": 1}',
            "-o", str(tmp_path / "o.jsonl")],
           "data.jsonl: holds no scores (its columns: 'id', 'instruction', 'output'); a score file has", tmp_path)


@pytest.fixture
def full_disk(tmp_path):
    """A 64 KiB tmpfs: writes into it run out of space for real (needs root, as CI has)."""
    folder = tmp_path / "full"
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.decode().strip()}): needs root")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def _rows(path: Path, n: int) -> Path:
    path.write_text("".join(json.dumps({"id": f"r{i}", "instruction": f"Reverse string {i} " * 8,
                                        "output": "s[::-1] " * 40}) + "\n" for i in range(n)))
    return path


def test_a_full_disk_under_the_output_or_the_cache(tmp_path, full_disk, tiny_model_dir):
    inputs, outputs = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    outputs.mkdir()
    data = _rows(inputs / "d.jsonl", 300)
    common = ["score", str(data), "-m", f"t={tiny_model_dir}", "--dtype", "fp32", "-q"]
    # The scores are computed (and cached elsewhere), then the output does not fit: no file, one line.
    out = _fails([*common, "-o", str(full_disk / "s.jsonl"), "--cache-dir", str(tmp_path / "cache")],
                 f"{full_disk / 's.jsonl'}: cannot write the file: No space left on device", inputs)
    assert "wrote" not in out and list(full_disk.iterdir()) == []
    _fails([*common, "-o", str(outputs / "s.parquet"), "--cache-dir", str(full_disk / "cache")],
           f"score cache {full_disk / 'cache' / 'scores.sqlite'}: database or disk is full; free space there",
           inputs)
    assert list(outputs.iterdir()) == []


def test_a_full_disk_under_a_selection(tmp_path, full_disk, scored):
    import pandas as pd

    from qaq.io.scorefile import write_scores

    data = _rows(tmp_path / "big.jsonl", 300)
    scores = tmp_path / "big.parquet"
    write_scores(pd.DataFrame({"id": [f"r{i}" for i in range(300)], "m_nll_q": 2.0, "m_nll_q_given_a": 1.0,
                               "m_rmi": 1.0}), scores, {"models": {"m": {}}})
    existing = full_disk / "sel.jsonl"
    existing.write_text("an earlier selection\n")
    _fails(["select", str(scores), "--data", str(data), "-r", '{"method": "random", "budget": 0.9}',
            "-o", str(existing)], f"{existing}: cannot write the file: No space left on device", tmp_path)
    assert existing.read_text() == "an earlier selection\n" and [p.name for p in full_disk.iterdir()] == ["sel.jsonl"]


# ------------------------------------------------------------------ the data is not what was scored


@pytest.fixture
def really_scored(tmp_path, tiny_model_dir):
    """12 rows scored for real by `qaq score` (the tiny model), and the data they were scored from."""
    data = tmp_path / "data.jsonl"
    rows = [{"id": f"q{i}", "instruction": f"Write function number {i} that adds {i} to x.",
             "output": f"def f{i}(x):\n    return x + {i}"} for i in range(12)]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    scores = tmp_path / "scores.parquet"
    res = CliRunner().invoke(cli, ["score", str(data), "-m", f"t={tiny_model_dir}", "--dtype", "fp32", "-o",
                                   str(scores), "--cache-dir", str(tmp_path / "cache"), "-q"])
    assert res.exit_code == 0, res.output
    return rows, data, scores


RECIPE = '{"method": "rmi_band", "model": "t", "lo": 0.5, "hi": 1, "ranking": "global"}'


def test_rows_whose_text_changed_since_scoring_are_an_error(tmp_path, really_scored):
    """Same ids, every text shifted by one row: the ids match, the texts do not."""
    rows, _, scores = really_scored
    shifted = tmp_path / "in" / "shifted.jsonl"
    shifted.parent.mkdir()
    texts = rows[1:] + rows[:1]
    shifted.write_text("".join(json.dumps({**t, "id": r["id"]}) + "\n" for r, t in zip(rows, texts)))
    out = _fails(["select", str(scores), "--data", str(shifted), "-r", RECIPE, "-o", str(tmp_path / "sel.jsonl")],
                 "12 of 12 rows have another query or answer than when they were scored, e.g. 'q0' (line 1), "
                 "'q1' (line 2)", tmp_path)
    assert "score this one again" in out and not (tmp_path / "sel.jsonl").exists()
    one = tmp_path / "in" / "one.jsonl"  # one edited answer among unchanged rows
    one.write_text("".join(json.dumps({**r, "output": r["output"] + " # edited"} if r["id"] == "q7" else r) + "\n"
                           for r in rows))
    _fails(["select", str(scores), "--data", str(one), "-r", RECIPE, "-o", str(tmp_path / "sel.jsonl")],
           "1 of 12 rows have another query or answer than when they were scored, e.g. 'q7' (line 8)", tmp_path)


def test_harmless_copies_of_the_scored_data_say_nothing(tmp_path, really_scored):
    """CRLF line endings, a BOM, blank lines and the same rows as CSV: the same selection, no warning."""
    import csv

    rows, data, scores = really_scored
    crlf = tmp_path / "crlf.jsonl"
    crlf.write_bytes(b"\xef\xbb\xbf" + b"\n".join(data.read_bytes().splitlines()).replace(b"\n", b"\r\n\r\n"))
    as_csv = tmp_path / "rows.csv"
    with open(as_csv, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["id", "instruction", "output"])
        writer.writeheader()
        writer.writerows(rows)
    picked = {}
    for source in (data, crlf, as_csv):
        out = tmp_path / f"sel-{source.stem}.jsonl"
        res = CliRunner().invoke(cli, ["select", str(scores), "--data", str(source), "-r", RECIPE, "-o", str(out)])
        assert res.exit_code == 0, res.output
        assert "warning" not in res.output, res.output
        picked[source.name] = [json.loads(line)["id"] for line in out.read_text(encoding="utf-8-sig").splitlines()]
    assert len(set(map(tuple, picked.values()))) == 1 and len(picked["data.jsonl"]) == 6


def test_a_field_of_mixed_types_cannot_be_exported_as_parquet(tmp_path, tiny_model_dir):
    data = tmp_path / "mixed.jsonl"
    data.write_text("".join(json.dumps({"id": f"m{i}", "instruction": f"Reverse string {i}.", "output": "s[::-1]",
                                        "meta": i if i >= 2 else "text"}) + "\n" for i in range(6)))
    scores = tmp_path / "s.parquet"
    res = CliRunner().invoke(cli, ["score", str(data), "-m", f"t={tiny_model_dir}", "--dtype", "fp32", "-o",
                                   str(scores), "--no-cache", "-q"])
    assert res.exit_code == 0, res.output
    _fails(["select", str(scores), "--data", str(data), "-r", '{"method": "random", "budget": 1.0}',
            "-o", str(tmp_path / "sel.parquet")],
           "field 'meta' cannot be a Parquet column: line 3 holds int where line 1 holds str (a Parquet column has "
           "one type): write the selection as .jsonl", tmp_path)
