"""Shared fixtures: a tiny randomly initialised causal LM with a real tokenizer, built offline."""

from __future__ import annotations

from pathlib import Path

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Keep every cache the suite writes (scores, app uploads, jobs) out of the user's home: set
    before any test module imports qaq, and inherited by the jobs and servers tests start."""
    import os
    import tempfile

    home = Path(tempfile.mkdtemp(prefix="qaq-tests-"))
    os.environ["QAQ_CACHE_DIR"] = str(home / "cache")
    os.environ.setdefault("QAQ_APP_DIR", str(home / "app"))

CORPUS = [
    "Write a Python function that reverses a string.",
    "def reverse(s):\n    return s[::-1]",
    "How do I sort a list of dicts by a key?",
    "sorted(rows, key=lambda r: r['age'])",
    "SELECT name, COUNT(*) FROM users GROUP BY name;",
    "for f in *.log; do gzip \"$f\"; done",
    "Implement binary search over a sorted array and return the index or -1.",
    "class Stack:\n    def __init__(self):\n        self.items = []",
]

CHATML = (
    "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def build_tiny_model(directory: Path, *, chat_template: str | None = CHATML, seed: int = 0,
                     arch: str = "llama", sliding_window: int = 64) -> Path:
    """Save a tiny random causal LM and a byte-level BPE tokenizer trained on CORPUS.

    ``arch="llama"`` (the default) or ``"gemma3"``: Gemma 3's text model with alternating
    sliding-window (``sliding_window`` tokens) and full attention layers and a logit softcap.
    """
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    specials = ["<pad>", "<s>", "</s>", "<|im_start|>", "<|im_end|>"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(CORPUS * 4, trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>")
    if chat_template:
        fast.chat_template = chat_template
    torch.manual_seed(seed)
    common = dict(
        vocab_size=len(fast), hidden_size=48, intermediate_size=96, num_attention_heads=4, num_key_value_heads=2,
        max_position_embeddings=1024, pad_token_id=fast.pad_token_id, bos_token_id=fast.bos_token_id,
        eos_token_id=fast.eos_token_id,
    )
    if arch == "gemma3":
        config = Gemma3TextConfig(
            **common, num_hidden_layers=3, head_dim=12, sliding_window=sliding_window, final_logit_softcapping=30.0,
            layer_types=["sliding_attention", "full_attention", "sliding_attention"],
        )
        model = Gemma3ForCausalLM(config)
    else:
        model = LlamaForCausalLM(LlamaConfig(**common, num_hidden_layers=2, tie_word_embeddings=False))
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory)
    fast.save_pretrained(directory)
    return directory


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-chat-model"))


@pytest.fixture(scope="session")
def tiny_plain_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-plain-model"), chat_template=None)


@pytest.fixture(scope="session")
def tiny_gemma3_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Gemma 3 layers with a 64-token sliding window: shorter than the test rows, longer than the
    forward template prefix, shorter than the reverse one."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny-gemma3"), arch="gemma3", sliding_window=64)


@pytest.fixture(scope="session")
def tiny_base_gemma3_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Gemma 3 base model (no chat template): its layout borrows the family's, picked by its config's model_type."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny-gemma3-base"), arch="gemma3", chat_template=None)
