"""A GGUF model's dense copy: its dequantized weights, tokenizer and config, kept as a
transformers folder so that later loads skip the GGUF reader.

Reading a GGUF file through transformers parses it three times (tokenizer, config, weights) and
dequantizes every tensor: about 44 s for SmolLM2-135M on a 2-core AVX2 machine, most of a first
token view or cost estimate. The first fp32 load of a GGUF model therefore saves what it read
under ``$QAQ_CACHE_DIR/dense/`` (fp32 safetensors, a few hundred MB per embedded model); later
loads read that folder. The weights are the dequantized values themselves, so a bf16 load from
the copy is the same cast of the same numbers as a bf16 load from the GGUF file. The tokenizer is
saved only if the saved one encodes a probe text, its vocabulary and its chat template as the
GGUF one does; otherwise no copy is kept and loads keep reading the GGUF file.

The folder is keyed by the model's content identity and the transformers version, and written
under a temporary name, then renamed: a copy is whole or absent. Any failure to write it (a full
disk, a read-only cache) is a warning, never an error. This module imports transformers only
inside its functions.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from qaq.io.files import cache_root
from qaq.scoring.models import ModelSource

log = logging.getLogger("qaq")

COMPLETE = "qaq-dense.json"  # written last: a folder without it is not a copy
_PROBE = "def f(x):\n\treturn {'a': x}  # naïve Ω 日本語 😀 <|im_start|> </s> [/INST]"


def dense_folder(source: ModelSource) -> Path | None:
    """Where ``source``'s dense copy lives (None for a model that is not a GGUF file)."""
    if not source.gguf_file:
        return None
    import transformers

    key = hashlib.sha256(f"{source.identity}|transformers {transformers.__version__}".encode()).hexdigest()[:32]
    return cache_root() / "dense" / key


def dense_copy(source: ModelSource) -> Path | None:
    """``source``'s complete dense copy, or None."""
    folder = dense_folder(source)
    return folder if folder is not None and (folder / COMPLETE).is_file() else None


def _same_tokenizer(a: Any, b: Any) -> bool:
    def encode(t: Any) -> list[int]:
        return list(t(_PROBE, add_special_tokens=False, split_special_tokens=True)["input_ids"])

    return (
        a.get_vocab() == b.get_vocab()
        and encode(a) == encode(b)
        and getattr(a, "chat_template", None) == getattr(b, "chat_template", None)
        and a.special_tokens_map == b.special_tokens_map
    )


def save_dense_copy(source: ModelSource, model: Any, tokenizer: Any) -> Path | None:
    """Save a GGUF model loaded in fp32 (and its tokenizer) as its dense copy; return the folder,
    or None when no copy is kept (not GGUF, already there, a tokenizer that does not round-trip,
    or the folder cannot be written)."""
    from transformers import AutoTokenizer

    folder = dense_folder(source)
    if folder is None or dense_copy(source) is not None:
        return None
    tmp: Path | None = None
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        if not _same_tokenizer(tokenizer, AutoTokenizer.from_pretrained(tmp)):
            log.info("model %s: its tokenizer does not round-trip; no dense copy is kept", source.spec)
            return None
        (tmp / COMPLETE).write_text(json.dumps({"identity": source.identity, "spec": source.spec}), encoding="utf-8")
        if folder.exists():  # another process finished first: keep its copy
            return dense_copy(source)
        os.replace(tmp, folder)
        tmp = None
        return folder
    except OSError as exc:
        log.warning(
            "model %s: could not keep a dense copy in %s (%s); loads read the GGUF file", source.spec, folder, exc
        )
        return None
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
