"""qaq.io.inputs: a data file, a directory of files and a Hugging Face dataset (saved folder or hub id)
read into one table, scored by `qaq score` and exported by `qaq select`. All offline: the datasets
are built in the tests, and the hub is a stand-in."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from datafiles import split_dir, write_jsonl

from qaq.cli import cli
from qaq.io.datasets import DataError, file_sha256, load_dataset
from qaq.io.export import write_selection
from qaq.io.inputs import load_inputs
from qaq.io.scorefile import load_scores

ROOT = Path(__file__).resolve().parent.parent

ALPACA = [
    {"instruction": "Reverse a string in Python.", "input": "", "output": "s[::-1]", "lang": "python", "n": 1},
    {"instruction": "Sum a list.", "input": "xs = [1, 2]", "output": "sum(xs)", "lang": "python", "n": 2},
    {"instruction": "Sort an array in C.", "input": "", "output": "qsort(a, n, sizeof *a, cmp);", "lang": "c", "n": 3},
    {"instruction": "Explain this.", "input": "", "output": " ", "lang": "text", "n": 4},  # skipped: blank answer
    {"instruction": "Count words.", "input": "", "output": "len(s.split())", "lang": "python", "n": 5},
]
CHAT = [
    {"id": "c1", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Add 1 and 2."},
                              {"role": "assistant", "content": "1 + 2"}], "source": "a"},
    {"id": "c2", "messages": [{"role": "user", "content": "Print hi in Go."},
                              {"role": "assistant", "content": 'fmt.Println("hi")'}], "source": "b"},
    {"id": "c3", "messages": [{"role": "user", "content": "Max of a list."},
                              {"role": "assistant", "content": "max(xs)"}], "source": "a"},
]


def as_dataset(rows: list[dict]):
    datasets = pytest.importorskip("datasets")
    return datasets.Dataset.from_dict({k: [r[k] for r in rows] for k in rows[0]})


def save(rows: list[dict], folder: Path) -> Path:
    as_dataset(rows).save_to_disk(str(folder))
    return folder



def folder_sha256(folder: Path) -> str:
    """What `sha256sum state.json dataset_info.json *.arrow | sort -k2` prints, hashed."""
    names = sorted(["state.json", "dataset_info.json", *(p.name for p in folder.glob("*.arrow"))])
    listing = "".join(f"{hashlib.sha256((folder / n).read_bytes()).hexdigest()}  {n}\n" for n in names)
    return hashlib.sha256(listing.encode()).hexdigest()


# --------------------------------------------------------------------------- saved folders

@pytest.mark.parametrize("rows", [ALPACA, CHAT], ids=["alpaca", "chat"])
def test_a_saved_dataset_loads_as_its_rows_written_as_jsonl(tmp_path, rows):
    folder = save(rows, tmp_path / "ds")
    got = load_inputs(folder)
    want = load_dataset(write_jsonl(tmp_path / "ds.jsonl", rows))
    pd.testing.assert_frame_equal(got, want)  # ids, Q, A, context, lines (row numbers), skip, passthrough
    source = got.attrs["qaq_source"]
    assert source["path"] == str(folder.resolve()) and source["format"] == "hf"
    assert source["sha256"] == folder_sha256(folder) == file_sha256(folder)
    assert source["mapping"] == want.attrs["qaq_source"]["mapping"]
    assert (source["n_rows"], source["n_skipped"]) == (len(rows), want.attrs["qaq_source"]["n_skipped"])


def test_the_folder_hash_follows_the_rows(tmp_path):
    a = save(ALPACA, tmp_path / "a")
    b = save([*ALPACA[:-1], {**ALPACA[-1], "output": "len(s.split(' '))"}], tmp_path / "b")
    assert file_sha256(a) != file_sha256(b)


def test_a_saved_dataset_folder_is_read_as_hf_only(tmp_path):
    folder = save(ALPACA, tmp_path / "ds")
    with pytest.raises(DataError, match="read as 'hf', not as 'jsonl'"):
        load_inputs(folder, fmt="jsonl")
    next(folder.glob("*.arrow")).write_bytes(b"not arrow")
    with pytest.raises(DataError, match=r"\.arrow: not a readable Arrow stream"):
        load_inputs(folder)
    (folder / "state.json").write_text("{}")
    with pytest.raises(DataError, match="not a readable Hugging Face dataset folder: state.json"):
        load_inputs(folder)


def test_a_dataset_dict_needs_a_split(tmp_path):
    datasets = pytest.importorskip("datasets")
    root = tmp_path / "dd"
    datasets.DatasetDict({"train": as_dataset(ALPACA), "test": as_dataset(ALPACA[:2])}).save_to_disk(str(root))
    for load in (load_inputs, load_dataset):
        with pytest.raises(DataError, match=r"DatasetDict with splits 'train', 'test': choose one with split="):
            load(root)
    test = load_inputs(root, split="test")
    pd.testing.assert_frame_equal(test, load_dataset(write_jsonl(tmp_path / "t.jsonl", ALPACA[:2])))
    assert test.attrs["qaq_source"]["path"] == str((root / "test").resolve())
    assert test.attrs["qaq_source"]["split"] == "test"
    with pytest.raises(DataError, match=r"no split 'dev': the DatasetDict has 'train', 'test'"):
        load_inputs(root, split="dev")
    res = CliRunner().invoke(cli, ["score", str(root), "-m", "t=x", "-o", str(tmp_path / "o.parquet")])
    assert res.exit_code == 1 and "'train', 'test'" in res.output and "Traceback" not in res.output


def test_a_split_is_only_for_dataset_dicts_and_hub_ids(tmp_path):
    data = write_jsonl(tmp_path / "d.jsonl", ALPACA)
    with pytest.raises(DataError, match="split 'train' given, but this is not a saved Hugging Face DatasetDict"):
        load_inputs(data, split="train")
    folder = save(ALPACA, tmp_path / "ds")
    with pytest.raises(DataError, match="one saved dataset, not a DatasetDict: leave out the split"):
        load_inputs(folder, split="train")


def test_write_selection_from_a_saved_dataset_keeps_its_columns(tmp_path):
    folder = save(ALPACA, tmp_path / "ds")
    assert write_selection(folder, [2, 0], tmp_path / "sel.parquet") == 2
    table = pq.read_table(tmp_path / "sel.parquet")
    assert table.to_pylist() == [ALPACA[2], ALPACA[0]]
    assert table.schema.field("n").type == as_dataset(ALPACA).data.schema.field("n").type


# --------------------------------------------------------------------------- hub ids

def test_a_hub_id_without_datasets_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "datasets", None)  # `import datasets` now raises ImportError
    with pytest.raises(DataError, match=r'org/name: no such file or directory; .*pip install "qaq\[hf\]"'):
        load_inputs("org/name", split="train")
    res = CliRunner().invoke(cli, ["score", "org/name", "--split", "train", "-m", "t=x",
                                   "-o", str(tmp_path / "o.parquet")])
    assert res.exit_code == 1 and 'pip install "qaq[hf]"' in res.output and "Traceback" not in res.output


def test_a_missing_path_without_a_split_is_no_such_file(tmp_path):
    with pytest.raises(DataError, match="no such file or directory"):
        load_inputs(tmp_path / "nope.jsonl")
    res = CliRunner().invoke(cli, ["score", str(tmp_path / "nope"), "-m", "t=x", "-o", str(tmp_path / "o.parquet")])
    assert res.exit_code == 1 and "nope: no such file or directory" in res.output
    assert "qaq[hf]" not in res.output


def test_a_hub_id_is_saved_in_the_cache_once_and_read_as_a_folder(tmp_path, monkeypatch):
    datasets = pytest.importorskip("datasets")
    calls = []

    def from_hub(hub_id, split):
        calls.append((hub_id, split))
        if hub_id != "org/name":
            raise FileNotFoundError(f"Dataset '{hub_id}' doesn't exist on the Hub")
        return as_dataset(CHAT)

    monkeypatch.setattr(datasets, "load_dataset", from_hub)
    monkeypatch.setenv("QAQ_CACHE_DIR", str(tmp_path / "cache"))
    got = load_inputs("org/name", split="train[:3]")
    pd.testing.assert_frame_equal(got, load_dataset(write_jsonl(tmp_path / "c.jsonl", CHAT)))
    folder = Path(got.attrs["qaq_source"]["path"])
    assert folder.parent == tmp_path / "cache" / "hf" / "org%2Fname" / "train%5B%3A3%5D"
    assert got.attrs["qaq_source"]["hub_id"] == "org/name" and got.attrs["qaq_source"]["split"] == "train[:3]"
    pd.testing.assert_frame_equal(load_inputs(folder), got)  # the same folder, read without the hub
    mtime = (folder / "state.json").stat().st_mtime_ns
    assert load_inputs("org/name", split="train[:3]").attrs["qaq_source"]["path"] == str(folder)
    assert (folder / "state.json").stat().st_mtime_ns == mtime  # saved once
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]  # no temporary folder left
    assert calls == [("org/name", "train[:3]")] * 2
    with pytest.raises(DataError, match="other/name: no such file or directory, and the Hugging Face hub gave no "
                                        "split 'train' of it: FileNotFoundError"):
        load_inputs("other/name", split="train")


# --------------------------------------------------------------------------- directories of files

def make_rows(n: int, *, ids: bool = True) -> list[dict]:
    rows = [{"instruction": f"Write function number {i}." + " please" * (i % 3), "response": f"def f{i}(): return {i}"}
            for i in range(n)]
    return [{"id": f"r{i}", **r} for i, r in enumerate(rows)] if ids else rows



def test_directory_loads_as_the_concatenated_file(tmp_path):
    rows = make_rows(9, ids=False)
    rows[7] = dict(rows[1])  # the same pair in two shards: hash ids number it over the whole table
    rows[4]["response"] = " "
    d = split_dir(tmp_path / "shards", rows, 3)
    (d / "notes.txt").write_text("not data")  # ignored: no data suffix
    whole = load_dataset(d.with_suffix(".jsonl"))
    merged = load_inputs(d)
    cols = ["id", "query", "answer", "skip"]
    pd.testing.assert_frame_equal(merged[cols], whole[cols])
    assert merged["id"].is_unique and merged["id"].str.endswith("-2").sum() == 1
    assert [Path(f["path"]).name for f in merged.attrs["qaq_source"]["files"]] == [f"part-0{k}.jsonl" for k in range(3)]
    assert merged.attrs["qaq_source"]["n_skipped"] == 1


def test_directory_with_an_id_in_two_files_is_an_error(tmp_path):
    d = tmp_path / "shards"
    d.mkdir()
    write_jsonl(d / "a.jsonl", make_rows(3))
    write_jsonl(d / "b.jsonl", make_rows(2))
    with pytest.raises(DataError, match=r"'r0' appears in more than one file .*a\.jsonl.*b\.jsonl"):
        load_inputs(d)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no data files"):
        load_inputs(tmp_path / "empty")


# --------------------------------------------------------------------------- the command line

def _score(tiny_model_dir: Path, tmp_path: Path, *inputs: str) -> tuple[pd.DataFrame, dict]:
    out = tmp_path / "s.parquet"
    res = CliRunner().invoke(cli, ["score", *inputs, "-m", f"tiny={tiny_model_dir}", "--device", "cpu",
                                   "--dtype", "fp32", "-o", str(out), "--cache-dir", str(tmp_path / "c"), "-q"])
    assert res.exit_code == 0, res.output
    return load_scores(out)


def test_score_and_select_a_saved_dataset_folder(tiny_model_dir, tmp_path):
    folder = save(ALPACA, tmp_path / "ds")
    scores, meta = _score(tiny_model_dir, tmp_path, str(folder))
    data = load_inputs(folder)
    assert scores["id"].tolist() == data["id"].tolist()
    assert scores["tiny_rmi"].notna().tolist() == (data["skip"] == "").tolist()
    assert meta["source"]["format"] == "hf" and meta["source"]["sha256"] == file_sha256(folder)

    recipe = json.dumps({"method": "random", "budget": 2, "seed": 0})
    picked = {}
    for suffix in (".jsonl", ".csv", ".parquet"):
        out = tmp_path / f"sel{suffix}"
        res = CliRunner().invoke(cli, ["select", str(tmp_path / "s.parquet"), "--data", str(folder), "-r", recipe,
                                       "-o", str(out), "--manifest", str(tmp_path / f"m{suffix}.json")])
        assert res.exit_code == 0, res.output
        if suffix == ".jsonl":
            picked[suffix] = [json.loads(line) for line in out.read_text().splitlines()]
        elif suffix == ".csv":
            picked[suffix] = pd.read_csv(out, dtype=str, keep_default_na=False).to_dict("records")
        else:
            picked[suffix] = pq.read_table(out).to_pylist()
        manifest = json.loads((tmp_path / f"m{suffix}.json").read_text())
        assert manifest["inputs"]["data"]["sha256"] == file_sha256(folder) and manifest["n_selected"] == 2
    assert len(picked[".jsonl"]) == 2 and all(r in ALPACA for r in picked[".jsonl"])
    assert picked[".parquet"] == picked[".jsonl"]
    assert picked[".csv"] == [{k: str(v) for k, v in r.items()} for r in picked[".jsonl"]]


def test_the_local_engine_scores_a_directory(tiny_model_dir, tmp_path):
    d = split_dir(tmp_path / "shards", make_rows(5), 2)
    scores, meta = _score(tiny_model_dir, tmp_path, str(d))
    assert scores["id"].tolist() == [f"r{i}" for i in range(5)] and scores["tiny_rmi"].notna().all()
    assert [Path(f["path"]).name for f in meta["source"]["files"]] == ["part-00.jsonl", "part-01.jsonl"]
    res = CliRunner().invoke(cli, ["select", str(tmp_path / "s.parquet"), "--data", str(d), "-r",
                                   json.dumps({"method": "random", "budget": 2}), "-o", str(tmp_path / "sel.jsonl")])
    assert res.exit_code == 1 and "is a directory of data files" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "sel.jsonl").exists()


def test_split_is_an_option_and_hf_an_extra():
    split = next(p for p in cli.commands["score"].params if p.name == "split")
    assert split.opts == ["--split"] and split.metavar == "NAME"
    assert split.help == "The split of a Hugging Face dataset folder or hub id."
    assert 'hf = ["datasets>=2.14"]' in (ROOT / "pyproject.toml").read_text()
