"""Prompt layouts: chat, borrowed chat, plain; the reverse instruction is validated."""

from __future__ import annotations

import pytest

from qaq.scoring.templates import (
    DEFAULT_REVERSE_INSTRUCTION,
    TemplateError,
    build_layout,
    check_reverse_instruction,
)


class NoTemplateTokenizer:
    chat_template = None
    bos_token = "<bos>"

    def apply_chat_template(self, messages, *, tokenize, chat_template=None):
        from jinja2 import Template

        assert chat_template is not None
        return Template(chat_template).render(messages=messages, bos_token=self.bos_token)


def test_borrowed_gemma_template_for_base_model():
    layout = build_layout(NoTemplateTokenizer(), model_type="gemma3_text", system="SYS",
                          reverse_instruction="R: {answer} END")
    assert layout.kind == "chat (borrowed: gemma3_text)"
    assert layout.fwd_prefix == "<bos><start_of_turn>user\nSYS\n\n"
    assert layout.fwd_middle == "<end_of_turn>\n<start_of_turn>model\n"
    assert layout.rev_prefix == "<bos><start_of_turn>user\nSYS\n\nR: "
    assert layout.rev_middle == " END<end_of_turn>\n<start_of_turn>model\n"


def test_plain_template_when_no_chat_template_is_known():
    layout = build_layout(NoTemplateTokenizer(), model_type="gpt2", system="", reverse_instruction="A={answer}; {{x}}")
    assert layout.kind == "plain"
    assert layout.fwd_prefix == "### Request:\n" and layout.fwd_middle == "\n\n### Response:\n"
    assert layout.rev_prefix == "### Request:\nA="
    assert layout.rev_middle == "; {x}\n\n### Response:\n"
    with pytest.raises(TemplateError, match="no chat template"):
        build_layout(NoTemplateTokenizer(), model_type="gpt2", kind="chat")


def test_layout_hash_changes_with_text():
    a = build_layout(None, kind="plain")
    b = build_layout(None, kind="plain", system="Another system prompt.")
    assert a.sha256 != b.sha256 and a.sha256 == build_layout(None, kind="plain").sha256


@pytest.mark.parametrize("bad", ["no placeholder", "{answer} twice {answer}", "{answer} and {other}"])
def test_reverse_instruction_must_hold_answer_once(bad):
    with pytest.raises(TemplateError):
        check_reverse_instruction(bad)
    assert check_reverse_instruction(DEFAULT_REVERSE_INSTRUCTION) == DEFAULT_REVERSE_INSTRUCTION


def test_template_that_rewrites_content_is_refused():
    class Upper(NoTemplateTokenizer):
        chat_template = "x"

        def apply_chat_template(self, messages, *, tokenize, chat_template=None):
            return "".join(m["content"].upper() for m in messages)

    with pytest.raises(TemplateError, match="--template plain"):
        build_layout(Upper())
