"""`qaq score` through click's test runner: output, errors without tracebacks, nothing half-written."""

from __future__ import annotations

import json

from click.testing import CliRunner

from qaq.cli import cli
from qaq.io.scorefile import load_scores


def _data(tmp_path):
    p = tmp_path / "d.jsonl"
    p.write_text(
        json.dumps({"instruction": "Reverse a string in Python.", "output": "s[::-1]"}) + "\n"
        + json.dumps({"instruction": "Sum a list.", "output": "sum(xs)"}) + "\n",
        encoding="utf-8",
    )
    return p


def test_score_writes_table_and_metadata(tiny_model_dir, tmp_path):
    out = tmp_path / "s.parquet"
    res = CliRunner().invoke(cli, ["score", str(_data(tmp_path)), "-m", f"tiny={tiny_model_dir}", "--device", "cpu",
                                   "--dtype", "fp32", "-o", str(out), "--cache-dir", str(tmp_path / "c"), "-q"])
    assert res.exit_code == 0, res.output
    df, meta = load_scores(out)
    assert len(df) == 2 and df["tiny_rmi"].notna().all()
    assert meta["models"]["tiny"]["dtype"] == "fp32"
    assert "Reverse" not in json.dumps(meta)  # metadata describes the run, not the data


def test_unknown_model_is_an_error_naming_what_was_tried(tmp_path):
    res = CliRunner().invoke(cli, ["score", str(_data(tmp_path)), "-m", "w=./no/such/model", "-o", str(tmp_path / "o.parquet")])
    assert res.exit_code != 0
    assert "not found" in res.output and "embedded names" in res.output and "does not exist" in res.output
    assert "Traceback" not in res.output and not (tmp_path / "o.parquet").exists()


def test_bad_model_flag_and_bad_reverse_instruction(tmp_path):
    res = CliRunner().invoke(cli, ["score", str(_data(tmp_path)), "-m", "nonsense", "-o", "x.parquet"])
    assert res.exit_code == 2 and "NAME=SPEC" in res.output
    res = CliRunner().invoke(cli, ["score", str(_data(tmp_path)), "--reverse-instruction", "no placeholder",
                                   "-o", str(tmp_path / "o.parquet")])
    assert res.exit_code == 1 and "{answer}" in res.output and not (tmp_path / "o.parquet").exists()


def test_bad_input_names_file_and_line(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text('{"instruction": "a", "output": "b"}\n{"instruction": oops}\n', encoding="utf-8")
    res = CliRunner().invoke(cli, ["score", str(p), "-o", str(tmp_path / "o.parquet")])
    assert res.exit_code == 1 and "bad.jsonl:2" in res.output and "Traceback" not in res.output


def test_dry_run_estimates_without_writing(tiny_model_dir, tmp_path):
    res = CliRunner().invoke(cli, ["score", str(_data(tmp_path)), "-m", f"tiny={tiny_model_dir}", "--device", "cpu",
                                   "--dry-run"])
    assert res.exit_code == 0, res.output
    assert "tokens forwarded" in res.output and "estimated" in res.output
    assert not list(tmp_path.glob("*.parquet"))


def test_outputs_are_checked_before_any_model_loads(tmp_path):
    """A bad -o fails at once with its own message (the model spec, which does not exist, is never
    reached) and changes no file: the input itself, a symlink or hard link to it, a missing folder,
    an unknown suffix, a path inside an input folder."""
    import os

    data = _data(tmp_path)
    original = data.read_bytes()
    link, hard = tmp_path / "link.jsonl", tmp_path / "hard.jsonl"
    link.symlink_to(data)
    os.link(data, hard)
    folder = tmp_path / "shards"
    folder.mkdir()
    (folder / "a.jsonl").write_bytes(original)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    cases = [
        (data, [str(data)], "refusing to overwrite the input file"),
        (data, [str(link)], "refusing to overwrite the input file"),
        (data, [str(hard)], "refusing to overwrite the input file"),
        (link, [str(data)], "refusing to overwrite the input file"),
        (data, [str(tmp_path / "nodir" / "s.parquet")], "no such folder"),
        (data, [str(tmp_path / "s.txt")], "cannot write scores as '.txt'"),
        (folder, [str(folder / "s.parquet"), "--engine", "ray"], "refusing to write into the input folder"),
    ]
    for source, out_args, message in cases:
        res = CliRunner().invoke(cli, ["score", str(source), "-m", "w=./no/such/model", "-o", *out_args])
        assert res.exit_code == 1, (out_args, res.output)
        assert message in res.output and "not found" not in res.output, (out_args, res.output)
        assert "Traceback" not in res.output
        assert data.read_bytes() == original and (folder / "a.jsonl").read_bytes() == original
        assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_heavy_truncation_is_reported(tiny_model_dir, tmp_path):
    data = tmp_path / "long.jsonl"
    data.write_text(json.dumps({"id": "big", "instruction": "Sum a list.", "output": "total += x\n" * 400}) + "\n"
                    + json.dumps({"id": "small", "instruction": "Sum a list.", "output": "sum(xs)"}) + "\n")
    out = tmp_path / "s.parquet"
    res = CliRunner().invoke(cli, ["score", str(data), "-m", f"t={tiny_model_dir}", "--dtype", "fp32", "--max-length",
                                   "300", "-o", str(out), "--no-cache", "-q"])
    assert res.exit_code == 0, res.output
    df, _ = load_scores(out)
    cut = int(df.loc[df["id"] == "big", "t_truncated"].iloc[0])
    assert cut > 1000 and int(df.loc[df["id"] == "small", "t_truncated"].iloc[0]) == 0
    assert (f"warning: t: 1 rows lost more than 10% of their tokens to --max-length 300: big (line 1: {cut:,} of "
            in res.output) and "small" not in res.output.split("warning:")[1]
