"""Near-duplicates: qaq.select.dedup, the recipe's "dedup" key, select and `qaq select --embeddings`."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from qaq.cli import cli
from qaq.io.datasets import file_sha256
from qaq.io.embeddingfile import Embeddings, embeddings_path, save_embeddings
from qaq.select.dedup import DEDUP_K, dedup_keep, duplicate_groups
from qaq.select.recipe_parsing import parse_recipe
from qaq.select.recipes import Dedup, RecipeError, recipe_to_dict
from qaq.select.selection import select

N = 60


def vectors(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random q and a spans of N rows with planted near-duplicates: rows 2, 5, 9 (a chain: 5 and
    9 are 2 plus a little noise) and 7, 30 (an exact copy)."""
    rng = np.random.default_rng(seed)
    q, a = rng.normal(size=(N, 32)), rng.normal(size=(N, 32))
    for x in (q, a):
        x[5] = x[2] + rng.normal(size=32) * 0.05
        x[9] = x[5] + rng.normal(size=32) * 0.05
        x[30] = x[7]
    return q, a


def embeddings(q: np.ndarray, a: np.ndarray, ids: list[str] | None = None) -> Embeddings:
    ids = ids if ids is not None else [f"r{i}" for i in range(len(q))]
    return Embeddings(ids=np.array(ids), vectors={"m__q": q.astype(np.float16), "m__a": a.astype(np.float16)})


def table(rmi: np.ndarray | None = None, n: int = N) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    rmi = rng.normal(size=n) if rmi is None else rmi
    nll = rng.uniform(1, 3, n)
    return pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(n)],
            "row": np.arange(n),
            "skip": [""] * n,
            "m_nll_q": nll,
            "m_nll_q_given_a": nll - rmi,
            "m_rmi": rmi,
        }
    )


def members(groups: pd.DataFrame) -> list[list[str]]:
    return [g["id"].tolist() for _, g in groups.groupby("group", sort=True)]


# ------------------------------------------------------------------------------------ groups


def test_planted_near_duplicates_are_found_and_numbered_by_their_first_row():
    groups = duplicate_groups(embeddings(*vectors()), "m", threshold=0.95)
    assert list(groups.columns) == ["id", "group"] + ["similarity"]
    assert groups["group"].dtype == np.int64 and groups["similarity"].dtype == np.float64
    assert members(groups) == [["r2", "r5", "r9"], ["r7", "r30"]]
    assert groups["id"].tolist() == ["r2", "r5", "r9", "r7", "r30"]
    sim = groups.set_index("id")["similarity"]
    assert sim["r7"] == sim["r30"] == 1.0  # a bit-identical copy
    assert (sim[["r2", "r5", "r9"]] >= 0.95).all() and (sim[["r2", "r5", "r9"]] < 1.0).all()
    assert sim["r5"] >= sim["r2"]  # r5 is nearest to both others: its best pair is the best of the group


def test_thresholds_decide_what_is_a_duplicate():
    emb = embeddings(*vectors())
    assert members(duplicate_groups(emb, "m", threshold=1.0)) == [["r7", "r30"]]  # exact copies only
    loose = duplicate_groups(emb, "m", threshold=0.2)
    strict = duplicate_groups(emb, "m", threshold=0.95)
    assert len(loose) > len(strict)
    group_of = loose.set_index("id")["group"]
    for ids in members(strict):  # a stricter threshold only splits groups
        assert group_of[ids].nunique() == 1
    for bad in (0, 1.01, -0.5):
        with pytest.raises(ValueError, match=r"threshold must be a cosine similarity in \(0, 1\]"):
            duplicate_groups(emb, "m", threshold=bad)


def test_many_identical_copies_are_one_group_and_rows_without_vectors_none():
    q, a = vectors()
    copies = [i for i in range(10, 58) if i not in (30, 40, 41)]  # 3 x more copies than neighbours searched
    assert len(copies) >= 3 * DEDUP_K
    q[copies], a[copies] = q[1], a[1]
    a[[40, 41]], q[[40, 41]] = a[1], np.nan  # unscored queries: no qa vector, so never a duplicate by qa
    emb = embeddings(q, a)
    assert members(duplicate_groups(emb, "m", threshold=0.99)) == [
        [f"r{i}" for i in [1, *copies]],
        ["r2", "r5", "r9"],
        ["r7", "r30"],
    ]
    by_answer = members(duplicate_groups(emb, "m", threshold=0.99, span="a"))
    assert by_answer[0] == [f"r{i}" for i in sorted([1, *copies, 40, 41])]


def test_the_span_compared_matters():
    q, a = vectors()
    a[30] = np.random.default_rng(5).normal(size=32)  # r30 copies r7's query, not its answer
    emb = embeddings(q, a)
    assert ["r7", "r30"] in members(duplicate_groups(emb, "m", threshold=0.95, span="q"))
    assert ["r7", "r30"] not in members(duplicate_groups(emb, "m", threshold=0.95, span="a"))
    assert ["r7", "r30"] not in members(duplicate_groups(emb, "m", threshold=0.95, span="qa"))


# ------------------------------------------------------------------------------------ keep rules


GROUPS = pd.DataFrame({"id": ["r1", "r3", "r4", "r0", "r5"], "group": [0, 0, 0, 1, 1], "similarity": 0.99})


def test_keep_highest_rmi_ties_to_the_first_row_and_unscored_rows_lose():
    t = table(np.array([5.0, 1.0, 0.0, 2.0, 2.0, np.nan, 9.0]), n=7)
    kept = dedup_keep(t, GROUPS, keep="highest_rmi", model="m")
    # group 0: r1 1.0, r3 2.0, r4 2.0 -> r3 (tie with r4, earlier); group 1: r0 5.0, r5 NaN -> r0
    assert kept.tolist() == [True, False, True, True, False, False, True]
    assert kept.index.equals(t.index) and kept.dtype == bool
    shuffled = t.iloc[[6, 4, 3, 0, 1, 2, 5]]  # the table's order: ties still go by source row
    assert dedup_keep(shuffled, GROUPS, keep="highest_rmi", model="m").sort_index().tolist() == kept.tolist()
    later = t.assign(row=[0, 1, 2, 4, 3, 5, 6])  # r4 is now the earlier source row
    assert dedup_keep(later, GROUPS, keep="highest_rmi", model="m").tolist()[3:5] == [False, True]


def test_keep_first_keeps_the_earliest_row_of_each_group():
    t = table(np.arange(7.0), n=7)
    assert dedup_keep(t, GROUPS, keep="first", model="m").tolist() == [True, True, True, False, False, False, True]
    assert dedup_keep(t, GROUPS.iloc[:0], keep="first", model="m").all()


def test_keep_errors():
    t = table(np.arange(7.0), n=7)
    with pytest.raises(ValueError, match="reads 'x_rmi'"):
        dedup_keep(t, GROUPS, keep="highest_rmi", model="x")
    with pytest.raises(ValueError, match="not in the table: 'r9'"):
        dedup_keep(t, pd.concat([GROUPS, pd.DataFrame({"id": ["r9"], "group": [1]})]), keep="first", model="m")
    with pytest.raises(ValueError, match="keep must be"):
        dedup_keep(t, GROUPS, keep="last", model="m")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="repeats ids"):
        dedup_keep(pd.concat([t, t]), GROUPS, keep="first", model="m")


# ------------------------------------------------------------------------------------ the recipe key


def test_dedup_parses_with_defaults_and_round_trips_after_the_other_keys():
    r = parse_recipe({"method": "random", "budget": 5, "dedup": {"threshold": 1, "model": "m"}})
    assert r.dedup == Dedup(threshold=1.0, model="m", keep="highest_rmi", span="qa")
    d = recipe_to_dict(r)
    assert list(d)[-1] == "dedup" and d["dedup"] == {
        "threshold": 1.0,
        "keep": "highest_rmi",
        "model": "m",
        "span": "qa",
    }
    assert parse_recipe(d) == r
    band = parse_recipe(
        {
            "method": "rmi_band",
            "model": "m",
            "lo": 0,
            "hi": 1,
            "exclude_flags": ["echo"],
            "dedup": {"threshold": 0.9, "keep": "first", "model": "m", "span": "q"},
        }
    )
    assert list(recipe_to_dict(band))[-2:] == ["exclude_flags", "dedup"] and parse_recipe(recipe_to_dict(band)) == band
    assert "dedup" not in recipe_to_dict(parse_recipe({"method": "random", "budget": 5}))


@pytest.mark.parametrize(
    "dedup,message",
    [
        ({"threshold": 0, "model": "m"}, r"'dedup' 'threshold' must be a cosine similarity in \(0, 1\], got 0"),
        ({"threshold": 1.5, "model": "m"}, r"in \(0, 1\], got 1.5"),
        ({"threshold": "0.9", "model": "m"}, r"in \(0, 1\], got '0.9'"),
        ({"threshold": True, "model": "m"}, r"in \(0, 1\], got True"),
        ({"threshold": float("nan"), "model": "m"}, r"in \(0, 1\], got nan"),
        ({"model": "m"}, "'dedup' needs key(s): 'threshold'"),
        ({"threshold": 0.9}, "'dedup' needs key(s): 'model'"),
        ({"threshold": 0.9, "model": ""}, "'dedup' 'model' must be a non-empty string"),
        (
            {"threshold": 0.9, "model": "m", "keep": "max"},
            "'dedup' 'keep' must be one of highest_rmi, first, got 'max'",
        ),
        ({"threshold": 0.9, "model": "m", "span": "b"}, "'dedup' 'span' must be one of q, a, qa, got 'b'"),
        (
            {"threshold": 0.9, "model": "m", "k": 5},
            "unknown key(s) 'k' in 'dedup'; allowed: threshold, keep, model, span",
        ),
        (0.95, "'dedup' must be an object such as"),
    ],
)
def test_bad_dedup_keys(dedup, message):
    with pytest.raises(RecipeError, match=message.replace("(s)", r"\(s\)")):
        parse_recipe({"method": "random", "budget": 5, "dedup": dedup})


# ------------------------------------------------------------------------------------ select


ALL = {"method": "rmi_band", "model": "m", "lo": 0, "hi": 1, "ranking": "global"}  # keeps every scored row
DEDUP = {"threshold": 0.95, "keep": "highest_rmi", "model": "m"}


def test_select_drops_exactly_the_near_duplicates_not_kept():
    rmi = np.random.default_rng(1).normal(size=N)
    rmi[[2, 5, 9, 7, 30]] = [0.1, 0.9, 0.5, 0.3, 0.2]
    emb = embeddings(*vectors())
    out = select(table(rmi), {**ALL, "dedup": DEDUP}, embeddings=emb)
    dropped = set(table()["id"]) - set(out.loc[out["selected"], "id"])
    assert dropped == {"r2", "r9", "r30"}  # r5 (0.9) and r7 (0.3) are kept
    plain = select(table(rmi), ALL)
    assert out["m_rank"].equals(plain["m_rank"])  # ranks still count every row
    assert out["dedup_group"].dtype == "Int64" and out["dedup_group"].notna().sum() == 5
    assert out.loc[out["id"].isin(["r2", "r5", "r9"]), "dedup_group"].tolist() == [0, 0, 0]
    assert out["dedup_kept"].sum() == N - 3
    first = select(table(rmi), {**ALL, "dedup": {**DEDUP, "keep": "first"}}, embeddings=emb)
    assert set(table()["id"]) - set(first.loc[first["selected"], "id"]) == {"r5", "r9", "r30"}
    included = select(table(rmi), {**ALL, "dedup": DEDUP, "include": ["r9"]}, embeddings=emb)
    assert included.set_index("id").loc["r9", "selected"]  # include wins over dedup


def test_select_matches_embeddings_to_rows_by_id():
    q, a = vectors()
    order = np.random.default_rng(2).permutation(N)
    shuffled = embeddings(q[order], a[order], ids=[f"r{i}" for i in order])
    recipe = {**ALL, "dedup": DEDUP}
    a_out = select(table(), recipe, embeddings=embeddings(q, a))
    b_out = select(table(), recipe, embeddings=shuffled)
    assert a_out["selected"].tolist() == b_out["selected"].tolist()
    assert not a_out["selected"].all()


def test_select_dedup_errors():
    emb = embeddings(*vectors())
    with pytest.raises(
        RecipeError, match=r"'dedup' needs the rows' embeddings: pass the embedding file \(qaq select --embeddings FILE"
    ):
        select(table(), {**ALL, "dedup": DEDUP})
    with pytest.raises(RecipeError, match="'dedup' model 'x' has no embeddings in the file \\(it has: m\\)"):
        select(table(), {**ALL, "dedup": {**DEDUP, "model": "x"}}, embeddings=emb)
    other = Embeddings(ids=emb.ids, vectors={"x__q": emb.vectors["m__q"], "x__a": emb.vectors["m__a"]})
    with pytest.raises(RecipeError, match="reads 'x_rmi', which the table does not have"):
        select(table(), {**ALL, "dedup": {**DEDUP, "model": "x"}}, embeddings=other)
    assert select(table(), {**ALL, "dedup": {**DEDUP, "model": "x", "keep": "first"}}, embeddings=other)[
        "selected"
    ].any()
    q, a = vectors()
    fewer = embeddings(q[:-2], a[:-2], ids=[f"r{i}" for i in range(N - 2)])
    with pytest.raises(
        ValueError,
        match=r"embeddings \(58\) and the table \(60\) do not match: 2 only in the table \(e.g. 'r58', 'r59'\)",
    ):
        select(table(), {**ALL, "dedup": DEDUP}, embeddings=fewer)
    renamed = embeddings(q, a, ids=[f"r{i}" for i in range(N - 1)] + ["zz"])
    with pytest.raises(ValueError, match=r"1 only in the embeddings \(e.g. 'zz'\); 1 only in the table \(e.g. 'r59'\)"):
        select(table(), {**ALL, "dedup": DEDUP}, embeddings=renamed)


# ------------------------------------------------------------------------------------ the CLI


@pytest.fixture
def files(tmp_path):
    """A data file, its score file and the embeddings beside it (scores.embed.npz)."""
    data = tmp_path / "data.jsonl"
    data.write_text(
        "".join(json.dumps({"id": f"r{i}", "instruction": f"q{i}", "output": f"a{i}"}) + "\n" for i in range(N)),
        encoding="utf-8",
    )
    rmi = np.random.default_rng(1).normal(size=N)
    rmi[[2, 5, 9, 7, 30]] = [0.1, 0.9, 0.5, 0.3, 0.2]
    scores = tmp_path / "scores.parquet"
    table(rmi).drop(columns=["row", "skip"]).to_parquet(scores)
    save_embeddings(embeddings(*vectors()), embeddings_path(scores))
    recipe = tmp_path / "r.json"
    recipe.write_text(json.dumps({**ALL, "dedup": DEDUP}), encoding="utf-8")
    return {"data": data, "scores": scores, "recipe": recipe, "dir": tmp_path}


def invoke(files, *extra: str, out: str = "sel.jsonl", recipe=None):
    args = [
        "select",
        str(files["scores"]),
        "--data",
        str(files["data"]),
        "-r",
        str(recipe or files["recipe"]),
        "-o",
        str(files["dir"] / out),
        *extra,
    ]
    return CliRunner().invoke(cli, args)


def ids_in(path) -> list[str]:
    return [json.loads(line)["id"] for line in path.read_text(encoding="utf-8").splitlines()]


def test_cli_reads_the_embeddings_beside_the_scores_and_records_them(files):
    res = invoke(files, "--manifest", str(files["dir"] / "m.json"))
    assert res.exit_code == 0, res.output
    assert set(ids_in(files["dir"] / "sel.jsonl")) == {f"r{i}" for i in range(N)} - {"r2", "r9", "r30"}
    assert "dedup dropped 3 of 60 rows before the rule: 5 rows in 2 groups of near-duplicates" in res.output
    manifest = json.loads((files["dir"] / "m.json").read_text(encoding="utf-8"))
    beside = embeddings_path(files["scores"])
    assert manifest["inputs"]["embeddings"] == {"path": str(beside.resolve()), "sha256": file_sha256(beside)}
    assert manifest["recipe"]["dedup"] == {**DEDUP, "span": "qa"}
    assert manifest["dedup"] == {"groups": 2, "rows_in_groups": 5, "dropped": 3}
    again = invoke(files, out="again.jsonl", recipe=files["dir"] / "m.json")  # the manifest as the recipe
    assert again.exit_code == 0 and "differs" not in again.output
    assert (files["dir"] / "again.jsonl").read_bytes() == (files["dir"] / "sel.jsonl").read_bytes()


def test_cli_takes_another_embedding_file_with_embeddings(files):
    moved = files["dir"] / "elsewhere.npz"
    embeddings_path(files["scores"]).rename(moved)
    res = invoke(files, "--embeddings", str(moved), "--manifest", str(files["dir"] / "m.json"))
    assert res.exit_code == 0, res.output
    assert len(ids_in(files["dir"] / "sel.jsonl")) == N - 3
    assert json.loads((files["dir"] / "m.json").read_text())["inputs"]["embeddings"]["path"] == str(moved.resolve())


def test_cli_dedup_errors_come_before_any_work(files):
    beside = embeddings_path(files["scores"])
    beside.unlink()
    before = {p.name for p in files["dir"].iterdir()}
    res = invoke(files, "--manifest", str(files["dir"] / "m.json"))
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert f"no --embeddings given, and the file beside SCORES {str(beside)!r} does not exist" in res.output
    assert "qaq score --embed" in res.output
    res = invoke(files, "--embeddings", str(files["dir"] / "nope.npz"))
    assert res.exit_code == 1 and "the --embeddings file" in res.output and "nope.npz" in res.output
    bad = files["dir"] / "bad.npz"
    bad.write_bytes(b"not a zip")
    res = invoke(files, "--embeddings", str(bad))
    assert res.exit_code == 1 and "cannot read the embedding file" in res.output
    assert {p.name for p in files["dir"].iterdir()} == before | {"bad.npz"}


def test_cli_without_dedup_does_not_read_the_embeddings(files):
    plain = files["dir"] / "plain.json"
    plain.write_text(json.dumps(ALL), encoding="utf-8")
    bad = files["dir"] / "bad.npz"
    bad.write_bytes(b"not a zip")
    res = invoke(files, "--embeddings", str(bad), "--manifest", str(files["dir"] / "m.json"), recipe=plain)
    assert res.exit_code == 0, res.output
    assert "warning: --embeddings is not read: the recipe has no 'dedup'" in res.output
    assert len(ids_in(files["dir"] / "sel.jsonl")) == N
    manifest = json.loads((files["dir"] / "m.json").read_text())
    assert "embeddings" not in manifest["inputs"] and "dedup" not in manifest


def test_cli_help_names_embeddings_and_dedup():
    res = CliRunner().invoke(cli, ["select", "--help"])
    assert res.exit_code == 0 and "--embeddings" in res.output and '"dedup"' in res.output
