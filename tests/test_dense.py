"""qaq.scoring.dense: a GGUF model's dense copy, kept whole or not at all (tiny model, no GGUF file
needed: the copy is keyed by the source's identity; tests/test_embedded_models.py checks a real one)."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest

from qaq.scoring.dense import COMPLETE, dense_copy, dense_folder, save_dense_copy
from qaq.scoring.loading import load_causal_lm
from qaq.scoring.models import resolve_model


@pytest.fixture
def as_gguf(tiny_model_dir):
    """The tiny model, with a source that says it came from a GGUF file."""
    source = resolve_model(str(tiny_model_dir))
    model, tokenizer = load_causal_lm(source, device="cpu", dtype="fp32")
    return replace(source, kind="gguf", gguf_file="tiny.gguf", identity="sha256:tiny-test"), model, tokenizer


def test_only_gguf_models_have_a_dense_copy(tiny_model_dir):
    assert dense_folder(resolve_model(str(tiny_model_dir))) is None


def test_a_copy_is_saved_once_and_whole(as_gguf, tmp_path, monkeypatch):
    monkeypatch.setenv("QAQ_CACHE_DIR", str(tmp_path))
    source, model, tokenizer = as_gguf
    assert dense_copy(source) is None
    folder = save_dense_copy(source, model, tokenizer)
    assert folder is not None and (folder / COMPLETE).is_file() and dense_copy(source) == folder
    assert folder.parent == tmp_path / "dense" and [p.name for p in folder.parent.iterdir()] == [folder.name]
    assert save_dense_copy(source, model, tokenizer) is None  # already there: nothing written again
    other = replace(source, identity="sha256:another-file")
    assert dense_folder(other) != folder and dense_copy(other) is None


def test_a_cache_that_cannot_be_written_is_a_warning(as_gguf, tmp_path, monkeypatch, caplog):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    monkeypatch.setenv("QAQ_CACHE_DIR", str(blocked))
    source, model, tokenizer = as_gguf
    with caplog.at_level(logging.WARNING, logger="qaq"):
        assert save_dense_copy(source, model, tokenizer) is None
    assert "could not keep a dense copy" in caplog.text and dense_copy(source) is None
