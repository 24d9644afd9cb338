"""Text helpers shared by all templates: code templates, request phrasings, answer layout.

``run_examples`` executes template code so every ``>>>`` example in an answer is real output."""

from __future__ import annotations

import contextlib
import io
import random
import re
import sys
import textwrap
import types

_PLACEHOLDER = re.compile(r"\{\{[a-z_][a-z_0-9]*\}\}")


def code(template_text: str, /, **values: object) -> str:
    """Dedent a code template and fill its ``{{name}}`` placeholders."""
    text = textwrap.dedent(template_text).strip("\n")
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", str(value))
    left = _PLACEHOLDER.search(text)
    if left:
        raise KeyError(f"unfilled placeholder {left.group(0)}")
    return text


def third(phrase: str) -> str:
    """'count the vowels' -> 'counts the vowels' (conjugates the first word)."""
    word, sep, rest = phrase.partition(" ")
    if word.endswith(("s", "sh", "ch", "x", "z")):
        word += "es"
    elif word.endswith("y") and word[-2:-1] not in ("a", "e", "i", "o", "u"):
        word = word[:-1] + "ies"
    else:
        word += "s"
    return word + sep + rest


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def run_examples(src: str, calls: list[str]) -> str:
    """Execute ``src`` and render ``calls`` as a doctest session with their real output."""
    module = types.ModuleType("_qaq_sample")  # a real module, so dataclasses can resolve it
    sys.modules[module.__name__] = module
    try:
        return _run_examples(src, calls, module.__dict__)
    finally:
        del sys.modules[module.__name__]


def _run_examples(src: str, calls: list[str], namespace: dict) -> str:
    exec(compile(src, "<sample>", "exec"), namespace)  # noqa: S102 - our own template code
    lines = []
    for call in calls:
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            try:
                compiled = compile(call, "<example>", "eval")
            except SyntaxError:
                exec(compile(call, "<example>", "exec"), namespace)  # noqa: S102
                value = None
            else:
                value = eval(compiled, namespace)  # noqa: S307
        first, *rest = call.split("\n")
        lines.append(">>> " + first)
        lines.extend("... " + line for line in rest)
        printed = buf.getvalue()
        if printed:
            lines.append(printed.rstrip("\n"))
        if value is not None:
            lines.append(repr(value))
    return "\n".join(lines)


CONTEXTS = [
    "working on a small inventory app",
    "preparing for coding interviews",
    "writing a data-cleaning script for work",
    "building a command-line tool",
    "doing a homework assignment",
    "cleaning up some legacy code",
    "writing a bot for our team chat",
    "processing survey results",
    "building a tiny web backend",
    "automating a boring report",
    "learning programming on my own",
    "refactoring a university project",
]


def ask(r: random.Random, do: str, name: str | None = None, lang: str = "Python",
        extras: tuple[str, ...] | list[str] = ()) -> str:
    """A request in one of many phrasings. ``do`` is an infinitive phrase ("reverse a list")."""
    does = third(do)
    forms = [
        f"Write a {lang} function that {does}.",
        f"How do I {do} in {lang}?",
        f"How can I {do} in {lang}?",
        f"I need a {lang} script to {do}.",
        f"I'm {r.choice(CONTEXTS)} and need to {do}. What's a clean way to do that in {lang}?",
        f"Please write {lang} code to {do}.",
        f"What's the most idiomatic way to {do} in {lang}?",
        f"Help me write a function that {does}. I'm using {lang}.",
        f"{cap(do)} using {lang}.",
        f"Could you show me how to {do} in {lang}? An example would help.",
        f"Give me a {lang} function that {does}, please.",
        f"I'm new to {lang}. How would I {do}?",
        f"Can you implement a function that {does}? {lang} please.",
    ]
    if name:
        forms += [
            f"Write a {lang} function `{name}` that {does}.",
            f"Can you implement a {lang} function called `{name}` that {does}?",
            f"Implement `{name}` in {lang}. It should {do}.",
            f"Create a {lang} function named {name} which {does}.",
        ]
    text = r.choice(forms)
    if extras:
        text += " " + " ".join(extras)
    return text


LEADS = [
    "Here's a function that does that:",
    "Sure! Here's one way to do it:",
    "Here is a straightforward implementation:",
    "Here's a clean solution:",
    "You can do it like this:",
    "Here's a simple approach:",
    "Sure, here you go:",
    "This should do what you need:",
    "Here's an implementation with a short explanation below.",
]
EXAMPLE_HEADS = ["Example:", "Example usage:", "For example:", "Usage:", "A quick check:"]


def reply(r: random.Random, src: str, lang: str = "python", explain: str = "",
          example: str | None = None, note: str | None = None, example_lang: str | None = None,
          p_example: float = 0.75, p_note: float = 0.6) -> str:
    """An assistant-style answer: a sentence or two, a fenced block, maybe an example/note."""
    fence = f"```{lang}\n{src}\n```"
    style = r.randrange(3)
    if style == 0 and explain:
        parts = [explain, fence]
    elif style == 1:
        parts = [r.choice(LEADS), fence] + ([explain] if explain else [])
    else:
        parts = [fence] + ([explain] if explain else [])
    if example and r.random() < p_example:
        head = r.choice(EXAMPLE_HEADS)
        parts.append(f"{head}\n\n```{example_lang or lang}\n{example}\n```")
    if note and r.random() < p_note:
        parts.append(note)
    return "\n\n".join(parts)


def py_reply(r: random.Random, src: str, calls: list[str], explain: str = "",
             note: str | None = None, **kw) -> str:
    """A Python answer whose example block is the real output of ``calls``."""
    example = run_examples(src, calls) if calls else None
    return reply(r, src, "python", explain, example, note, **kw)
