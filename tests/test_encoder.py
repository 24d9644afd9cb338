"""The encoder lays out pairs from a tokenizer and a config alone, as a loaded model's encoder does."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from qaq.scoring.backend import ScoringModel
from qaq.scoring.encoder import Encoder, truncate_spans
from qaq.scoring.errors import ScoringError
from qaq.scoring.models import ModelSource, resolve_model

QUERIES = ["Write a function that adds two numbers.", "Sort <|im_end|> rows by age", "", "x" * 300]
ANSWERS = ["def add(a, b):\n    return a + b", "sorted(rows, key=lambda r: r['age'])", "ok", "y " * 400]


def _without_weights(model_dir: Path, target: Path) -> ModelSource:
    """The tokenizer and config files of a model directory, copied without its weights."""
    target.mkdir()
    for path in model_dir.iterdir():
        if path.suffix not in (".safetensors", ".bin"):
            shutil.copy(path, target / path.name)
    return ModelSource(spec=str(target), kind="local", path=target, gguf_file=None, identity="test:no-weights")


@pytest.fixture(scope="module")
def encoder(tiny_model_dir) -> Encoder:
    return Encoder.from_source(resolve_model(str(tiny_model_dir)))


@pytest.mark.parametrize("model_dir", ["tiny_model_dir", "tiny_plain_model_dir", "tiny_base_gemma3_dir"])
def test_an_encoder_without_weights_encodes_as_the_loaded_model(request, tmp_path, model_dir):
    directory = request.getfixturevalue(model_dir)
    encoder = Encoder.from_source(_without_weights(directory, tmp_path / "tokenizer"))
    sm = ScoringModel(resolve_model(str(directory)), device="cpu", dtype="fp32")
    assert encoder.layout == sm.layout and encoder.template_ids == sm.encoder.template_ids
    assert encoder.fingerprint == sm.encoder.fingerprint
    expected = {"tiny_model_dir": "chat", "tiny_plain_model_dir": "plain",
                "tiny_base_gemma3_dir": "chat (borrowed: gemma3_text)"}[model_dir]
    assert encoder.layout.kind == expected
    for max_length in (2048, encoder.template_ids.overhead + 60):  # the latter truncates
        got = encoder.encode_many(QUERIES, ANSWERS, max_length=max_length)
        assert got == sm.encoder.encode_many(QUERIES, ANSWERS, max_length=max_length)
        assert got == [sm.encoder.encode(q, a, max_length=max_length) for q, a in zip(QUERIES, ANSWERS)]
        assert got == [encoder.encode(q, a, max_length=max_length) for q, a in zip(QUERIES, ANSWERS)]
        assert any(e.truncated for e in got) == (max_length < 2048)


def test_a_folder_without_a_config_is_a_scoring_error(tiny_model_dir, tmp_path):
    source = _without_weights(tiny_model_dir, tmp_path / "tokenizer")
    (source.path / "config.json").unlink()
    with pytest.raises(ScoringError, match="its config could not be loaded"):
        Encoder.from_source(source)


def test_the_fingerprint_follows_the_tokenizer_and_the_template(encoder):
    tokenizer = encoder.tokenizer
    assert Encoder(tokenizer).fingerprint == encoder.fingerprint
    assert Encoder(tokenizer, template="plain").fingerprint != encoder.fingerprint
    assert Encoder(tokenizer, system="You review code.").fingerprint != encoder.fingerprint
    other = tokenizer.__class__.from_pretrained(tokenizer.name_or_path)
    other.add_tokens(["<extra_token>"])  # a vocabulary of another size
    assert Encoder(other).fingerprint != encoder.fingerprint


def test_a_layout_with_an_empty_prefix_is_refused(encoder):
    tokenizer = encoder.tokenizer.__class__.from_pretrained(encoder.tokenizer.name_or_path)
    tokenizer.chat_template = "{% for m in messages %}{{ m['content'] }}{% endfor %}"
    with pytest.raises(ScoringError, match="empty prefix"):
        Encoder(tokenizer, system="")


def test_spans_are_joined_ids_not_offsets(encoder):
    e = encoder.encode(QUERIES[0], ANSWERS[0], max_length=700)
    q_ids = encoder.tokenizer(QUERIES[0], add_special_tokens=False)["input_ids"]
    a_ids = encoder.tokenizer(ANSWERS[0], add_special_tokens=False)["input_ids"]
    assert list(e.fwd[e.fwd_q[0]:e.fwd_q[1]]) == q_ids == list(e.rev[e.rev_q[0]:e.rev_q[1]])
    assert list(e.fwd[e.fwd_a[0]:e.fwd_a[1]]) == a_ids == list(e.rev[e.rev_a[0]:e.rev_a[1]])
    # The prefix before Q is the same in the forward pass whatever the answer is.
    other = encoder.encode(QUERIES[0], "something else entirely", max_length=700)
    assert e.fwd[: e.fwd_q[1]] == other.fwd[: other.fwd_q[1]]
    assert e.fwd[: e.fwd_q[0]] == encoder.template_ids.fwd_prefix


def test_control_strings_in_user_text_stay_text(encoder):
    e = encoder.encode(QUERIES[1], ANSWERS[1], max_length=700)
    special = encoder.tokenizer.convert_tokens_to_ids("<|im_end|>")
    assert special not in e.fwd[e.fwd_q[0]:e.fwd_q[1]]
    assert special in encoder.template_ids.fwd_middle  # ... while the template's own stays a control token
    assert encoder.user_ids([QUERIES[1]])[0] == list(e.fwd[e.fwd_q[0]:e.fwd_q[1]])


def test_truncation_rule_and_counts(encoder):
    e = encoder.encode("short question", "y " * 2000, max_length=400)
    assert len(e.fwd) <= 400 and len(e.rev) <= 400
    assert e.truncated > 0 and e.n_q == len(encoder.tokenizer("short question", add_special_tokens=False)["input_ids"])
    assert truncate_spans(300, 500, 100) == (50, 50)
    assert truncate_spans(10, 500, 100) == (10, 90)
    assert truncate_spans(500, 10, 100) == (90, 10)
    with pytest.raises(ScoringError, match="max-length"):
        truncate_spans(5, 5, 1)
    with pytest.raises(ScoringError, match="max-length"):
        encoder.encode("q", "a", max_length=encoder.template_ids.overhead + 1)
