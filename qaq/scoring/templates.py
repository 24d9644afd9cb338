"""Prompt templates: how a (query, answer) pair is laid out for each scoring pass.

QAQ scores the query in two contexts (METHOD.md section 1):

* forward layout ``[system S] [user: Q] [assistant: A]``: loss on Q gives ``nll_q`` (the query
  after the template prefix only), loss on A gives ``nll_a_given_q``;
* reverse layout ``[system S] [user: R(A)] [assistant: Q]``: loss on Q gives ``nll_q_given_a``,
  loss on A gives ``nll_a`` (the answer without its query, after the reverse instruction).

A causal LM's log-probs of a prefix do not depend on what follows it, so one forward pass per
layout yields both of its spans: two forwards per sample for all four values.

Spans are never found by character offsets. A layout is rendered once with sentinel strings in
place of Q and A and split at the sentinels into literal pieces; the pieces, Q and A are tokenized
separately and the ids joined (see :mod:`qaq.scoring.backend`), so the prefix before Q is the same token
sequence in every pass.

Nothing here imports torch; a tokenizer is used only through ``apply_chat_template``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any, Literal

DEFAULT_SYSTEM = "You are a helpful programming assistant."

# qaq's code-domain reverse instruction. The QAQ authors published only a math version.
DEFAULT_REVERSE_INSTRUCTION = (
    "Here is an answer written by a programming assistant. Write the programming request that "
    "this answer most likely responds to. If the answer has nothing to do with programming, "
    "reply INVALID.\n\nAnswer:\n{answer}"
)

# Chat templates borrowed by base models that ship none, keyed by the config's model_type.
# Only families whose instruct sibling's turn format is unambiguous are listed; everything else
# falls back to the plain template (and says so).
_GEMMA_TURNS = (
    "{{ bos_token }}"
    "{%- set ns = namespace(system='') -%}"
    "{%- for m in messages -%}"
    "{%- if m['role'] == 'system' -%}{%- set ns.system = m['content'] + '\\n\\n' -%}"
    "{%- else -%}"
    "{{ '<start_of_turn>' + ('model' if m['role'] == 'assistant' else 'user') + '\\n' }}"
    "{%- if m['role'] == 'user' -%}{{ ns.system }}{%- set ns.system = '' -%}{%- endif -%}"
    "{{ m['content'] + '<end_of_turn>\\n' }}"
    "{%- endif -%}"
    "{%- endfor -%}"
)
_CHATML_TURNS = (
    "{%- for m in messages -%}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}{%- endfor -%}"
)
BORROWED_CHAT_TEMPLATES: dict[str, str] = {
    "gemma": _GEMMA_TURNS,
    "gemma2": _GEMMA_TURNS,
    "gemma3": _GEMMA_TURNS,
    "gemma3_text": _GEMMA_TURNS,
    "qwen2": _CHATML_TURNS,
    "qwen3": _CHATML_TURNS,
}

# The plain-text template for models with no chat template at all.
PLAIN_USER_HEADER = "### Request:\n"
PLAIN_ASSISTANT_HEADER = "\n\n### Response:\n"

_Q = "\ue000qaq query\ue000"
_A = "\ue000qaq answer\ue000"

TemplateKind = Literal["auto", "chat", "plain"]


class TemplateError(ValueError):
    """A template cannot be built: a bad reverse instruction, or a chat template that alters content."""


@dataclass(frozen=True)
class Layout:
    """The literal text around Q and A in both passes.

    forward text = ``fwd_prefix + Q + fwd_middle + A``
    reverse text = ``rev_prefix + A + rev_middle + Q``
    Text after the last scored span is never needed (it cannot change earlier log-probs).
    """

    kind: str  # "chat", "chat (borrowed: <family>)" or "plain"
    fwd_prefix: str
    fwd_middle: str
    rev_prefix: str
    rev_middle: str
    system: str
    reverse_instruction: str

    def describe(self) -> dict[str, Any]:
        """Everything that defines the layout, for run metadata."""
        return asdict(self)

    @property
    def sha256(self) -> str:
        """Hash of the layout: part of every cache key."""
        blob = json.dumps(self.describe(), sort_keys=True, ensure_ascii=False).encode("utf-8")
        return hashlib.sha256(blob).hexdigest()


def check_reverse_instruction(text: str) -> str:
    """Validate a user-supplied reverse instruction and return it.

    Raises:
        TemplateError: when it lacks the ``{answer}`` placeholder, has it twice, or has other
            braces fields that ``str.format`` would choke on.
    """
    if text.count("{answer}") != 1:
        raise TemplateError(
            f"the reverse instruction must contain the placeholder {{answer}} exactly once, got: {text[:80]!r}"
        )
    try:
        text.format(answer="")
    except (KeyError, IndexError, ValueError) as exc:
        raise TemplateError(
            f"the reverse instruction has a brace field other than {{answer}} ({exc}); "
            "write literal braces as {{ and }}"
        ) from None
    return text


def build_layout(
    tokenizer: Any,
    *,
    model_type: str | None = None,
    kind: TemplateKind = "auto",
    system: str = DEFAULT_SYSTEM,
    reverse_instruction: str = DEFAULT_REVERSE_INSTRUCTION,
    bos_token: str | None = None,
) -> Layout:
    """Build the two-pass layout for one tokenizer.

    ``auto`` uses the tokenizer's own chat template, else a template borrowed from the model's
    instruct family (:data:`BORROWED_CHAT_TEMPLATES`), else the plain template.

    Args:
        tokenizer: a Hugging Face tokenizer (only ``chat_template`` and ``apply_chat_template``
            are used), or None for the plain template.
        model_type: the model config's ``model_type``, used to pick a borrowed template.
        kind: ``auto``, ``chat`` (fail if no chat template can be found) or ``plain``.
        system: the system prompt S; it should match the downstream SFT system prompt.
        reverse_instruction: R, containing ``{answer}`` once.
        bos_token: text of the BOS token to start the plain template with, if the model uses one.
    """
    check_reverse_instruction(reverse_instruction)
    own = getattr(tokenizer, "chat_template", None) if tokenizer is not None else None
    borrowed = BORROWED_CHAT_TEMPLATES.get(model_type or "")
    if kind == "plain" or (kind == "auto" and not own and not borrowed):
        return _plain_layout(system, reverse_instruction, bos_token or "")
    if own:
        label, template = "chat", None
    elif borrowed:
        label, template = f"chat (borrowed: {model_type})", borrowed
    else:
        raise TemplateError(
            f"template chat: the tokenizer has no chat template and model type {model_type!r} "
            f"has no known instruct sibling (known: {', '.join(sorted(BORROWED_CHAT_TEMPLATES))}); "
            "use the plain template"
        )

    def render(user: str, assistant: str) -> str:
        messages = [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
        if system:
            messages.insert(0, {"role": "system", "content": system})
        kwargs: dict[str, Any] = {"tokenize": False}
        if template is not None:
            kwargs["chat_template"] = template
        return str(tokenizer.apply_chat_template(messages, **kwargs))

    fwd = render(_Q, _A)
    rev = render(reverse_instruction.format(answer=_A), _Q)
    fwd_prefix, fwd_middle = _split(fwd, _Q, _A)
    rev_prefix, rev_middle = _split(rev, _A, _Q)
    return Layout(label, fwd_prefix, fwd_middle, rev_prefix, rev_middle, system, reverse_instruction)


def _plain_layout(system: str, reverse_instruction: str, bos: str) -> Layout:
    head = bos + (system + "\n\n" if system else "") + PLAIN_USER_HEADER
    rev_before, rev_after = reverse_instruction.split("{answer}")
    return Layout(
        kind="plain",
        fwd_prefix=head,
        fwd_middle=PLAIN_ASSISTANT_HEADER,
        rev_prefix=head + rev_before.replace("{{", "{").replace("}}", "}"),
        rev_middle=rev_after.replace("{{", "{").replace("}}", "}") + PLAIN_ASSISTANT_HEADER,
        system=system,
        reverse_instruction=reverse_instruction,
    )


def _split(text: str, first: str, second: str) -> tuple[str, str]:
    """Split a rendered prompt into (text before ``first``, text between ``first`` and ``second``)."""
    if text.count(first) != 1 or text.count(second) != 1 or text.index(first) > text.index(second):
        raise TemplateError(
            "the chat template changes or reorders message content, so the query and answer "
            "spans cannot be placed exactly; use --template plain"
        )
    before, rest = text.split(first)
    middle, _ = rest.split(second)
    return before, middle
