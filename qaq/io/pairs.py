"""From source records to (Q, A) pairs: the query, answer and context texts of each record under a
field mapping, and each row's id (the file's own, or a hash of the pair)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from qaq.io.fieldmapping import FieldMapping
from qaq.io.files import DataError
from qaq.io.readers import type_name

# ShareGPT speaker names -> OpenAI roles; other speakers (e.g. "tool") keep their name.
_SHAREGPT_ROLES = {"human": "user", "gpt": "assistant", "system": "system"}


def _missing(record: Mapping[str, Any], field: str) -> DataError:
    return DataError(f"missing (fields in this record: {', '.join(map(repr, record))})", field=field)


def _text(record: Mapping[str, Any], field: str, *, optional: bool = False, first_of_list: bool = False) -> str:
    if field not in record:
        if optional:
            return ""
        raise _missing(record, field)
    value = record[field]
    if value is None and optional:
        return ""
    if first_of_list and isinstance(value, list):
        value = value[0] if value else ""
    if not isinstance(value, str):
        raise DataError(f"expected a string, got {type_name(value)}", field=field)
    _check_encodable(value, field)
    return value


def _check_encodable(value: str, field: str) -> None:
    """A lone UTF-16 surrogate (a broken ``\\ud83d`` escape) is not text: say where it is."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise DataError(
            f"holds a lone UTF-16 surrogate ({value[e.start]!r} at character {e.start}), which is not "
            "text: fix the \\u escape in the file (a surrogate pair needs both halves)",
            field=field,
        ) from None


def _chat(value: Any, field: str) -> tuple[str, str, str]:
    """(Q, A, context) of a chat: A is the last assistant turn, Q the user turn before it.

    Turns before Q (system included) form the context; turns between Q and A or after A are
    not kept. A null ``content`` (e.g. a tool call) counts as "".
    """
    if not isinstance(value, list):
        raise DataError(f"expected a list of messages, got {type_name(value)}", field=field)
    turns: list[dict[str, str]] = []
    for i, item in enumerate(value):
        if isinstance(item, dict) and "role" in item:
            role, content = item["role"], item.get("content")
        elif isinstance(item, dict) and "from" in item:
            role, content = _SHAREGPT_ROLES.get(item["from"], item["from"]), item.get("value")
        else:
            got = f"keys {sorted(item)}" if isinstance(item, dict) else type_name(item)
            raise DataError(f"message {i}: expected {{role, content}} or {{from, value}}, got {got}", field=field)
        if not isinstance(role, str) or not isinstance(content, (str, type(None))):
            raise DataError(
                f"message {i}: role and content must be strings, got {type_name(role)} and {type_name(content)}",
                field=field,
            )
        _check_encodable(content or "", f"{field}[{i}].content")
        turns.append({"role": role, "content": content or ""})
    roles = [t["role"] for t in turns]
    if "assistant" not in roles:
        raise DataError("no assistant message", field=field)
    a = len(roles) - 1 - roles[::-1].index("assistant")
    if "user" not in roles[:a]:
        raise DataError("no user message before the last assistant message", field=field)
    q = a - 1 - roles[a - 1 :: -1].index("user")
    context = json.dumps(turns[:q], ensure_ascii=False, separators=(",", ":")) if q else ""
    return turns[q]["content"], turns[a]["content"], context


def _query_answer(record: Mapping[str, Any], mapping: FieldMapping) -> tuple[str, str, str]:
    """(Q, A, context) of one record."""
    if mapping.messages:
        if mapping.messages not in record:
            raise _missing(record, mapping.messages)
        return _chat(record[mapping.messages], mapping.messages)
    assert mapping.query and mapping.answer
    query = _text(record, mapping.query)
    if mapping.input and (extra := _text(record, mapping.input, optional=True)).strip():
        query = f"{query}\n\n{extra}"
    return query, _text(record, mapping.answer, first_of_list=mapping.answer_first), ""


def _file_id(record: Mapping[str, Any], field: str) -> str:
    value = record.get(field)
    if value is None:
        raise DataError("missing id", field=field)
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise DataError(f"expected a string or an integer id, got {type_name(value)}", field=field)
    if not str(value).strip():
        raise DataError("empty id", field=field)
    _check_encodable(str(value), field)
    return str(value)


def hash_id(query: str, answer: str) -> str:
    """Stable id of a (Q, A) pair: the first 16 hex digits of sha256(Q + "\\x1f" + A)."""
    pair = f"{query}\x1f{answer}".encode("utf-8", "surrogatepass")
    return hashlib.sha256(pair).hexdigest()[:16]


def pair_hashes(queries: Sequence[str], answers: Sequence[str]) -> list[str]:
    """:func:`hash_id` of each (Q, A) pair, with the call inlined: a million rows are hashed on every
    first join of scores onto data (the check that the text is what was scored), and the per-row
    function call is a sixth of that time.

    >>> pair_hashes(["q"], ["a"]) == [hash_id("q", "a")]
    True
    """
    sha = hashlib.sha256
    return [sha(f"{q}\x1f{a}".encode("utf-8", "surrogatepass")).hexdigest()[:16] for q, a in zip(queries, answers)]


def hash_ids(pairs: Sequence[tuple[str, str]]) -> list[str]:
    """Hash ids; repeats of a pair get ``-2``, ``-3``, ... in file order."""
    seen: dict[str, int] = {}
    ids = []
    for h in pair_hashes([q for q, _ in pairs], [a for _, a in pairs]):
        seen[h] = seen.get(h, 0) + 1
        ids.append(h if seen[h] == 1 else f"{h}-{seen[h]}")
    return ids


def texts_and_ids(
    path: Path, records: Sequence[tuple[int, Mapping[str, Any]]], mapping: FieldMapping
) -> tuple[list[tuple[str, str, str]], list[str]]:
    """(Q, A, context) of every record and the rows' ids, in file order.

    Args:
        path: the file the records come from (for errors).
        records: ``(line, record)`` pairs, as :func:`qaq.io.readers.record_dicts` yields them.
        mapping: where the records keep Q, A and the id.

    Returns:
        The texts, and the ids: the file's (``mapping.id``) or :func:`hash_ids` of the pairs.

    Raises:
        DataError: a missing or malformed field, or a repeated id, with its file and line.
    """
    texts: list[tuple[str, str, str]] = []
    file_ids: dict[str, int] = {}
    for line, record in records:
        try:
            texts.append(_query_answer(record, mapping))
            if mapping.id:
                key = _file_id(record, mapping.id)
                if key in file_ids:
                    raise DataError(f"duplicate id {key!r} (first on line {file_ids[key]})", field=mapping.id)
                file_ids[key] = line
        except DataError as e:
            raise e.at(path, line) from None

    pairs = [(q, a) for q, a, _ in texts]
    return texts, list(file_ids) if mapping.id else hash_ids(pairs)
