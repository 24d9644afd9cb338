"""Which fields of a record hold Q and A: the :class:`FieldMapping`, given or detected.

Either ``query``/``answer`` (plus an optional Alpaca ``input``) or ``messages`` (a chat); when the
caller names none, :func:`detect_mapping` recognises a known schema from the field names.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from qaq.io.files import DataError


@dataclass(frozen=True)
class FieldMapping:
    """Where a record keeps its query and answer.

    Either ``query`` and ``answer`` (plus an optional ``input`` appended to the query, Alpaca
    style) or ``messages`` (a chat: OpenAI ``[{role, content}]`` or ShareGPT ``[{from, value}]``).

    Attributes:
        schema: the recognised schema (``"alpaca"``, ``"openai-chat"``, ...), or ``"custom"``.
        query: field holding Q.
        answer: field holding A.
        input: optional field appended to Q after a blank line when non-empty.
        messages: field holding a chat.
        id: field holding the row id, or None to hash Q and A.
        answer_first: A may be a list of strings, of which the first is used (the QAQ authors'
            ``generations``); an empty list is an empty answer.
    """

    schema: str
    query: str | None = None
    answer: str | None = None
    input: str | None = None
    messages: str | None = None
    id: str | None = None
    answer_first: bool = False

    def consumed(self) -> set[str]:
        """Source fields that become qaq columns (they are not passed through)."""
        return {f for f in (self.query, self.answer, self.input, self.messages, self.id) if f}


# Detection order: the first schema whose (query, answer) fields are all present wins.
_PAIR_SCHEMAS: tuple[tuple[str, str, str], ...] = (
    ("alpaca", "instruction", "output"),  # + optional "input"
    ("instruction-response", "instruction", "response"),
    ("query-answer", "query", "answer"),
    ("problem-solution", "problem", "solution"),
    ("prompt-completion", "prompt", "completion"),
    ("qaq-authors", "problem", "generations"),
    ("question-answer", "question", "answer"),
)
_CHAT_SCHEMAS: tuple[tuple[str, str], ...] = (("openai-chat", "messages"), ("sharegpt", "conversations"))
_FLAGS_HINT = "pass query= and answer= (CLI: --query/--answer), or messages= for a chat (--messages)"


def detect_mapping(columns: Sequence[str]) -> FieldMapping:
    """Recognise a known schema from field names.

    Priority: Alpaca ``instruction``/``input``/``output``; ``instruction``/``response``;
    ``query``/``answer``; ``problem``/``solution``; ``prompt``/``completion``; the QAQ authors'
    ``problem``/``generations``; ``question``/``answer``; then chats in ``messages`` (OpenAI)
    or ``conversations`` (ShareGPT). A field named ``id`` becomes the id field.

    Raises:
        DataError: no known schema fits; the message lists the fields seen.
    """
    present = set(columns)
    id_field = "id" if "id" in present else None
    for schema, query, answer in _PAIR_SCHEMAS:
        if query in present and answer in present:
            extra = "input" if schema == "alpaca" and "input" in present else None
            return FieldMapping(
                schema, query=query, answer=answer, input=extra, id=id_field, answer_first=answer == "generations"
            )
    for schema, field in _CHAT_SCHEMAS:
        if field in present:
            return FieldMapping(schema, messages=field, id=id_field)
    seen = ", ".join(map(repr, columns)) or "none"
    raise DataError(f"cannot tell which fields hold the query and the answer (fields seen: {seen}); {_FLAGS_HINT}")


def resolve_mapping(
    columns: Sequence[str],
    *,
    query: str | None,
    answer: str | None,
    input_field: str | None,
    id_field: str | None,
    messages: str | None,
) -> FieldMapping:
    """The mapping of a file with these fields: the fields given, completing or replacing detection.

    Args:
        columns: the file's fields, in first-seen order.
        query: field holding Q; with ``answer``, overrides detection.
        answer: field holding A.
        input_field: field appended to Q after a blank line when non-empty.
        id_field: field holding unique ids (``""``: hash Q and A even when the file has an ``id``).
        messages: field holding a chat, instead of query/answer.

    Raises:
        DataError: conflicting or missing fields, or no known schema fits (no path: the caller adds it).
    """
    if messages and (query or answer or input_field):
        raise DataError("give either messages= or query=/answer=, not both")
    if messages:
        mapping = FieldMapping("custom", messages=messages, id="id" if "id" in columns else None)
    elif query and answer:
        mapping = FieldMapping(
            "custom",
            query=query,
            answer=answer,
            id="id" if "id" in columns else None,
            answer_first=answer == "generations",
        )
    else:
        mapping = detect_mapping(columns)
        if query or answer:
            if mapping.messages:
                raise DataError(
                    f"this looks like a chat ({mapping.messages!r}); give both query= and answer=, or messages="
                )
            answer = answer or mapping.answer
            mapping = dataclasses.replace(
                mapping,
                schema="custom",
                query=query or mapping.query,
                answer=answer,
                answer_first=answer == "generations",
            )
    if input_field:
        mapping = dataclasses.replace(mapping, input=input_field)
    if id_field is not None:  # "" means: hash Q and A even when the file has an id field
        mapping = dataclasses.replace(mapping, id=id_field or None)
    for field in (mapping.query, mapping.answer, mapping.input, mapping.messages, mapping.id):
        if field and field not in columns:
            seen = ", ".join(map(repr, columns))
            raise DataError(f"no such field in the file (fields seen: {seen})", field=field)
    return mapping
