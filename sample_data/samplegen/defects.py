"""Defective rows: one maker per defect type, each ``fn(r) -> (task, instruction, response)``.

The makers start from clean rows (``sample_clean``) or invent their own text; see the defect
table in ``sample_data/README.md`` for what each type looks like."""

from __future__ import annotations

import json
import re

from .templates import sample_clean
from .text import cap, code
from .vocab import CITIES

TASK_LANG = {"sql": "sql", "shell": "bash", "javascript": "javascript", "go": "go", "rust": "rust",
             "c": "c", "java": "java"}
COMMENT = {"sql": "--", "bash": "#", "python": "#", "javascript": "//", "go": "//", "rust": "//",
           "c": "//", "java": "//"}


def lang_of(task: str) -> str:
    return TASK_LANG.get(task, "python")

def defect_mismatch(r):
    task, q, _ = sample_clean(r)
    _, _, a = sample_clean(r, exclude_task=task)
    return task, q, a


FAKE_SYLLABLES = ["flem", "bic", "sul", "gri", "zor", "quen", "tav", "mir", "plo", "dex", "vor", "shan",
                  "trel", "nix", "kra", "lum", "pes", "wib", "yol", "brac", "ost", "ulm", "fen", "drab",
                  "sno", "gav", "pril", "hux"]
FAKE_ENDINGS = ["a", "o", "ix", "en", "ule", "on", "et"]
FAKE_ADJ_ENDINGS = ["ic", "oid", "ant", "ar", "ine", "ish", "ular", "ent", "y"]
ODD_ADJ = ["gritty", "hollow", "inverted", "twinned", "sparse", "brittle", "folded", "dormant", "vivid", "mossy"]


def fake_noun(r):
    return r.choice(FAKE_SYLLABLES) + r.choice(FAKE_SYLLABLES[:14]) + r.choice(FAKE_ENDINGS)


def fake_adj(r):
    return r.choice(FAKE_SYLLABLES) + r.choice(FAKE_ADJ_ENDINGS)


def fake_terms(r):
    return {
        "odd": r.choice(ODD_ADJ), "noun": fake_noun(r), "noun2": fake_noun(r), "adj": fake_adj(r),
        "adj2": fake_adj(r), "person": cap(fake_noun(r)), "person2": cap(fake_noun(r)),
        "verb": r.choice(FAKE_SYLLABLES) + r.choice(["ify", "ate", "ize", "en"]),
    }


def _fab_heap(r, t):
    q = r.choice([
        f"Write a Python function that converts a {t['odd']} {t['noun']} matrix into a {t['adj']} heap.",
        f"How do I turn a {t['noun']} matrix into a {t['adj']} heap in Python? The matrix is {t['odd']}.",
    ])
    a = (f"Here's a function that converts the {t['odd']} {t['noun']} matrix into a {t['adj']} heap:\n\n```python\n"
         + code(r'''
            import heapq


            def {{noun}}_to_{{adj}}_heap(matrix):
                heap = [value for row in matrix for value in row]
                heapq.heapify(heap)
                return heap
         ''', noun=t["noun"], adj=t["adj"])
         + f"\n```\n\nThe {t['adj']} heap property is maintained by `heapify`, which also preserves the {t['noun']} ordering of the rows.")
    return "lists", q, a


def _fab_graph(r, t):
    q = r.choice([
        f"Implement the {t['person']}-{t['person2']} {t['noun']} algorithm for finding {t['adj']} cycles in a directed graph.",
        f"Can you explain and implement {t['person']}'s {t['adj']} {t['noun']} traversal? I need it for a graph assignment.",
    ])
    a = (f"The {t['person']}-{t['person2']} algorithm is a depth-first search that tracks {t['adj']} edges. "
         f"Here is an implementation:\n\n```python\n" + code(r'''
            def {{noun}}_cycles(graph):
                cycles = []
                path = []

                def visit(node):
                    if node in path:
                        cycles.append(path[path.index(node):] + [node])
                        return
                    path.append(node)
                    for neighbor in graph.get(node, []):
                        visit(neighbor)
                    path.pop()

                for start in graph:
                    visit(start)
                return cycles
         ''', noun=t["noun"]) + f"\n```\n\nEach {t['adj']} cycle is returned as a list of nodes.")
    return "graphs", q, a


def _fab_string(r, t):
    q = r.choice([
        f"How do I {t['verb']} a string in Python so that its {t['noun']} parity is preserved?",
        f"Write a function that {t['verb']}s a string using the {t['adj']} {t['noun']} rule.",
    ])
    a = (f"To {t['verb']} a string while keeping its {t['noun']} parity, rotate the characters and rebuild it:\n\n```python\n"
         + code(r'''
            def {{verb}}(text):
                half = len(text) // 2
                return text[half:] + text[:half]
         ''', verb=t["verb"])
         + f"\n```\n\nBecause the length never changes, the {t['noun']} parity stays the same.")
    return "strings", q, a


def _fab_dict(r, t):
    q = r.choice([
        f"Can you write a Python function that computes the {t['noun']} coefficient of a {t['adj']} dictionary?",
        f"What's the fastest way to calculate the {t['person']} {t['noun']} coefficient for a dict of counts?",
    ])
    a = (f"The {t['noun']} coefficient is the weighted average key length, so:\n\n```python\n" + code(r'''
            def {{noun}}_coefficient(d):
                if not d:
                    return 0.0
                total = sum(d.values())
                return sum(len(str(key)) * value for key, value in d.items()) / total
         ''', noun=t["noun"]) + "\n```")
    return "dicts", q, a


def _fab_sql(r, t):
    q = r.choice([
        f"Write a SQL query that returns all orders whose {t['noun']} rank is {t['adj']}, using a {t['person']} join.",
        f"How do I do a {t['adj']} {t['person']} JOIN in PostgreSQL to get {t['noun']} totals?",
    ])
    a = (f"A {t['person']} join is written as a `LEFT JOIN` with a ranking window:\n\n```sql\n" + code(r'''
            SELECT o.*,
                   RANK() OVER (ORDER BY o.amount DESC) AS {{noun}}_rank
            FROM orders AS o
            LEFT JOIN customers AS c ON c.id = o.customer_id
            ORDER BY {{noun}}_rank;
         ''', noun=t["noun"]) + f"\n```\n\nRows where `{t['noun']}_rank` is {t['adj']} come first.")
    return "sql", q, a


def _fab_js(r, t):
    q = r.choice([
        f"In JavaScript, how do I {t['verb']} an array into {t['adj']} {t['noun']}s?",
        f"Is there a built-in way to {t['verb']} arrays in JS, like the {t['person']} {t['noun']} pattern?",
    ])
    a = (f"There's no built-in, but you can {t['verb']} an array with `reduce`:\n\n```javascript\n" + code(r'''
            function {{verb}}(items) {
              return items.reduce((acc, item, i) => {
                if (i % 2 === 0) acc.push([item]);
                else acc[acc.length - 1].push(item);
                return acc;
              }, []);
            }
         ''', verb=t["verb"]) + f"\n```\n\nEach pair is one {t['adj']} {t['noun']}.")
    return "javascript", q, a


def _fab_math(r, t):
    q = r.choice([
        f"Write a function to test whether an integer is a {t['person']} number ({t['adj']} in base {r.choice([7, 9, 11])}).",
        f"How do I check if a number is {t['adj']}-{t['noun']} in Python?",
    ])
    a = ("Sure:\n\n```python\n" + code(r'''
            def is_{{adj}}(n):
                digits = [int(d) for d in str(abs(n))]
                return sum(digits) % len(digits) == 0
         ''', adj=t["adj"]) + f"\n```\n\nA number is {t['adj']} when its digit sum is divisible by its digit count.")
    return "math", q, a


def _fab_sort(r, t):
    q = r.choice([
        f"Implement {t['noun']} sort with {t['adj']} pivoting in Python.",
        f"How does {t['person']}'s {t['noun']} sort work? Show code.",
    ])
    a = (f"{t['cap_noun']} sort picks a {t['adj']} pivot and partitions around it:\n\n```python\n" + code(r'''
            def {{noun}}_sort(items):
                if len(items) < 2:
                    return items
                pivot = items[-1]
                low = [x for x in items[:-1] if x <= pivot]
                high = [x for x in items[:-1] if x > pivot]
                return {{noun}}_sort(low) + [pivot] + {{noun}}_sort(high)
         ''', noun=t["noun"]) + "\n```")
    return "sorting", q, a


def _fab_shell(r, t):
    q = r.choice([
        f"What's the bash one-liner to {t['verb']} all {t['adj']} inodes under /var?",
        f"How do I list {t['noun']} sockets that are {t['adj']} on Linux?",
    ])
    a = r.choice([
        f"Use `find` with the `-{t['noun']}` test:\n\n```bash\nfind /var -xdev -type f -links +1 -exec ls -li {{}} + | sort -n\n```",
        f"```bash\nls -la /proc/*/fd 2>/dev/null | grep {t['noun']} | sort | uniq -c\n```\n\nThis shows every {t['adj']} {t['noun']} with its count.",
    ])
    return "shell", q, a


def _fab_parse(r, t):
    ext = t["noun"][:3]
    q = r.choice([
        f"How do I parse a {t['person']} file (.{ext}) in Python? It uses {t['adj']} delimiters.",
        f"Write a reader for the {t['odd']} {t['noun']} format.",
    ])
    a = ("Here's a parser:\n\n```python\n" + code(r'''
            import csv


            def read_{{noun}}(path):
                with open(path, newline="", encoding="utf-8") as f:
                    return list(csv.reader(f, delimiter="|"))
         ''', noun=t["noun"]) + f"\n```\n\nThe {t['adj']} delimiter is `|`.")
    return "parsing", q, a


def _fab_rust(r, t):
    q = r.choice([
        f"How do I implement the {t['person']} trait for a {t['adj']} {t['noun']} in Rust?",
        f"Rust: how do I derive {t['person']} on an enum so the {t['noun']}s stay {t['adj']}?",
    ])
    a = (f"Implement the trait like this:\n\n```rust\n" + code(r'''
            trait {{person}} {
                fn {{verb}}(&self) -> u32;
            }

            struct {{cnoun}} {
                level: u32,
            }

            impl {{person}} for {{cnoun}} {
                fn {{verb}}(&self) -> u32 {
                    self.level * 2
                }
            }
         ''', person=t["person"], verb=t["verb"], cnoun=t["cap_noun"]) + "\n```")
    return "rust", q, a


def _fab_oop(r, t):
    q = r.choice([
        f"Write a Python class for a {t['adj']} {t['noun']} that supports {t['verb']}ing and un{t['verb']}ing.",
        f"Design a class hierarchy for {t['odd']} {t['noun']}s and their {t['noun2']}s.",
    ])
    a = ("```python\n" + code(r'''
            class {{cnoun}}:
                def __init__(self):
                    self.items = []

                def {{verb}}(self, item):
                    self.items.append(item)

                def un{{verb}}(self):
                    return self.items.pop()
         ''', cnoun=t["cap_noun"], verb=t["verb"]) + f"\n```\n\nThe `{t['verb']}` method stores the {t['noun2']} so it can be un{t['verb']}ed later.")
    return "oop", q, a


FABRICATED = [_fab_heap, _fab_graph, _fab_string, _fab_dict, _fab_sql, _fab_js, _fab_math, _fab_sort,
              _fab_shell, _fab_parse, _fab_rust, _fab_oop]


def defect_fabricated(r):
    t = fake_terms(r)
    t["cap_noun"] = cap(t["noun"])
    task, q, a = r.choice(FABRICATED)(r, t)
    if r.random() < 0.3:
        # the answer ignores the invented terms and solves some ordinary task of the same family
        for _ in range(50):
            t2, _, a2 = sample_clean(r)
            if t2 == task:
                a = a2
                break
    return task, q, a


NON_CODE = [
    (["Give me a recipe for {x}.", "How do I make {x}?", "What ingredients do I need for {x}?"],
     ["banana bread", "lentil soup", "pancakes", "guacamole", "tomato pasta", "oatmeal cookies"],
     ["flour", "eggs", "butter", "salt", "olive oil", "onion", "garlic", "sugar", "milk"],
     "recipe"),
    (["Write a short poem about {x}.", "Can you write a haiku about {x}?", "I need a few rhyming lines about {x} for a card."],
     ["autumn", "the sea", "my grandmother's garden", "rainy Mondays", "the moon", "a lost umbrella"],
     ["soft light", "quiet waves", "falling leaves", "an open door", "the evening wind"],
     "poem"),
    (["What should I see in {x} in three days?", "Plan a weekend trip to {x} for me.", "Is {x} worth visiting in winter?"],
     CITIES,
     ["old town walk", "main museum", "harbour or river front", "local market", "viewpoint at sunset"],
     "itinerary"),
    (["How do I get {x} out of a carpet?", "What's the best way to remove {x} from a white shirt?"],
     ["red wine", "coffee", "candle wax", "ink", "grass stains"],
     ["blot, don't rub", "cold water", "mild detergent", "rinse", "let it air dry"],
     "stain"),
    (["Suggest some names for my new {x}.", "What should I name my {x}?"],
     ["kitten", "puppy", "goldfish", "parrot", "tortoise"],
     ["Pepper", "Biscuit", "Mochi", "Captain", "Luna", "Pickle"],
     "names"),
    (["What's a good beginner workout routine for {x}?", "How should I start {x} if I've never done it?"],
     ["running", "strength training", "yoga", "swimming"],
     ["warm-up", "squats", "push-ups", "plank", "stretching", "rest day"],
     "routine"),
    (["Write a birthday message for my {x}.", "What should I write in a farewell card for my {x}?"],
     ["sister", "boss", "best friend", "grandfather", "coworker"],
     ["happy birthday", "thank you", "all the best", "see you soon"],
     "message"),
    (["How often should I water a {x}?", "My {x} has yellow leaves. What am I doing wrong?"],
     ["cactus", "fiddle leaf fig", "basil plant", "orchid", "monstera"],
     ["check the soil", "water deeply", "bright indirect light", "drain the pot"],
     "plant_care"),
    (["What is the difference between {x}?", "Can you explain the difference between {x}?"],
     ["a latte and a cappuccino", "weather and climate", "a crocodile and an alligator", "baking soda and baking powder"],
     ["texture", "amount", "origin", "use"],
     "comparison"),
    (["How do I politely {x}?", "What's a nice way to {x}?"],
     ["decline a wedding invitation", "ask my neighbour to be quieter", "say no to extra work", "end a phone call"],
     ["be brief", "thank them", "give a reason", "offer an alternative"],
     "etiquette"),
]


def _non_code_code(r, kind, x, items):
    slug = re.sub(r"[^a-z0-9]+", "_", x.lower()).strip("_")
    picked = r.sample(items, min(len(items), r.randint(3, 5)))
    style = r.randrange(3)
    if style == 0:
        body = f"{kind}_items = {picked!r}\n\nfor i, item in enumerate({kind}_items, 1):\n    print(f\"{{i}}. {{item}}\")"
        lead = r.choice(["Here's a Python script for that:", "Sure! Run this:", "You can use this code:"])
        return f"{lead}\n\n```python\n{body}\n```"
    if style == 1:
        cls = "".join(part.capitalize() for part in kind.split("_"))
        body = (f"class {cls}:\n    def __init__(self, topic):\n        self.topic = topic\n"
                f"        self.steps = {picked!r}\n\n    def run(self):\n        for step in self.steps:\n"
                f"            print(f\"{{self.topic}}: {{step}}\")\n\n\n{cls}({x!r}).run()")
        return f"```python\n{body}\n```"
    body = (f"function {slug.split('_')[0]}Plan() {{\n  const steps = {json.dumps(picked)};\n"
            f"  return steps.map((s, i) => `${{i + 1}}. ${{s}}`).join(\"\\n\");\n}}\n\nconsole.log({slug.split('_')[0]}Plan());")
    return f"Here you go:\n\n```javascript\n{body}\n```"


def defect_non_code(r):
    forms, xs, items, kind = r.choice(NON_CODE)
    x = r.choice(xs)
    q = r.choice(forms).format(x=x)
    if r.random() < 0.6:
        a = _non_code_code(r, kind, x, items)
    else:
        _, _, a = sample_clean(r)
    return "off_topic", q, a


def _ident_from(q):
    words = re.findall(r"[a-z]+", q.lower())
    stop = {"a", "an", "the", "to", "in", "of", "how", "do", "i", "can", "you", "write", "python", "function",
            "that", "me", "my", "is", "it", "with", "for", "and", "please", "what", "s", "way"}
    keep = [w for w in words if w not in stop][:4]
    return "_".join(keep) or "solution"


def defect_echo(r):
    task, q, _ = sample_clean(r)
    lang = lang_of(task)
    mark = COMMENT[lang]
    core = q.rstrip(" ?.!")
    style = r.randrange(6)
    if style == 0:
        a = q
    elif style == 1:
        a = f"{q}\n\n{q}"
    elif style == 2:
        a = f"You asked: \"{q}\"\n\nIn other words, the question is: {core}? The answer to \"{core}\" is to {core[:1].lower() + core[1:]}."
    elif style == 3:
        name = _ident_from(q)
        if lang == "python":
            stub = f"{mark} {q}\ndef {name}():\n    \"\"\"{q}\"\"\"\n    {mark} {core}\n    pass"
        else:
            stub = f"{mark} {q}\n{mark} {core}\n{mark} TODO: {core}"
        a = f"```{lang}\n{stub}\n```"
    elif style == 4:
        a = f"Great question! {q} This is a very common question: {q} Hopefully this answers {core[:1].lower() + core[1:]}."
    else:
        a = f"Sure! Here is how to {core[:1].lower() + core[1:]}:\n\n{core}.\n\nThat's how you {core[:1].lower() + core[1:]}."
    return task, q, a


def defect_truncated(r):
    while True:
        task, q, a = sample_clean(r)
        start = a.find("```")
        if start < 0:
            continue
        body_start = a.find("\n", start) + 1
        end = a.find("\n```", body_start)
        if end < 0 or a.count("\n", body_start, end) < 5:
            continue
        cut = body_start + int((end - body_start) * r.uniform(0.25, 0.8))
        truncated = a[:cut].rstrip()
        if len(truncated) > body_start + 10:
            return task, q, truncated


# (language the template fits, text); "any" templates take the row's language.
BOILERPLATE = [
    ("python", "Here is a solution:\n\n```python\ndef solution(*args):\n    pass\n```"),
    ("any", "Sure! Here's the code:\n\n```{lang}\n{c} TODO: implement the logic here\n```\n\nLet me know if you need anything else!"),
    ("python", "```python\nclass Solution:\n    def solve(self, *args, **kwargs):\n        raise NotImplementedError\n```"),
    ("python", "Here's a general approach:\n\n1. Understand the problem.\n2. Break it into smaller steps.\n3. Write the code.\n4. Test it.\n\n```python\ndef solve(data):\n    result = process(data)\n    return result\n```"),
    ("python", "This is a common problem. Here is a template you can adapt:\n\n```python\ndef function(input):\n    output = None\n    # process input\n    return output\n```"),
    ("python", "Great question! The solution depends on your requirements, but here is a starting point:\n\n```python\nimport sys\n\n\ndef main(args):\n    ...\n\n\nif __name__ == \"__main__\":\n    main(sys.argv[1:])\n```\n\nHope this helps!"),
    ("javascript", "You can solve this with a function:\n\n```javascript\nfunction solution(input) {\n  // your code here\n  return input;\n}\n```"),
    ("any", "```{lang}\n{c} Solution\n{c} Step 1: read the input\n{c} Step 2: compute the result\n{c} Step 3: print the output\n```"),
    ("python", "Here is the code:\n\n```python\ndef f(x):\n    return x\n```"),
    ("python", "Sure, this is straightforward. Just write a function that takes the input and returns the expected output, handling edge cases as needed. Here is an example structure:\n\n```python\ndef my_function(value):\n    if value is None:\n        return None\n    return value\n```"),
    ("sql", "```sql\nSELECT * FROM table_name WHERE condition;\n```"),
    ("sql", "Here is the query:\n\n```sql\nSELECT column1, column2\nFROM your_table\nWHERE your_condition\nORDER BY column1;\n```\n\nReplace the names with your own."),
    ("bash", "```bash\n#!/bin/bash\n# your commands here\necho \"done\"\n```"),
    ("any", "Here is the code:\n\n```{lang}\n{c} your solution goes here\n```\n\nThis should work for your use case."),
    ("any", "The answer depends on the details, but in general you write the code, run it and check the output. A skeleton:\n\n```{lang}\n{c} main logic\n```"),
]


def defect_boilerplate(r):
    task, q, _ = sample_clean(r)
    lang = lang_of(task)
    options = [text for fits, text in BOILERPLATE if fits in ("any", lang)]
    a = r.choice(options).replace("{lang}", lang).replace("{c}", COMMENT[lang])
    return task, q, a


DEFECT_MAKERS = {
    "mismatch": defect_mismatch,
    "fabricated": defect_fabricated,
    "non_code": defect_non_code,
    "echo": defect_echo,
    "truncated": defect_truncated,
    "boilerplate": defect_boilerplate,
}
