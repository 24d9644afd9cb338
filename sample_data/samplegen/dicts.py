"""Clean templates: Python dict tasks (invert, merge counts, group by, nested paths...)."""

from __future__ import annotations

from .registry import family_registry
from .text import ask, code, py_reply
from .vocab import CITIES, NAMES, WORDS, ints, pick_words

TEMPLATES, template = family_registry()


@template("dicts")
def t_invert_dict(r):
    multi = r.random() < 0.5
    name = r.choice(["invert_dict", "invert", "reverse_mapping"])
    if multi:
        src = code(r'''
            def {{name}}(d):
                inverted = {}
                for key, value in d.items():
                    inverted.setdefault(value, []).append(key)
                return inverted
        ''', name=name)
        data = {w: r.randint(1, 3) for w in pick_words(r, 5)}
        extras = ["Several keys can share a value, so collect them in lists."]
    else:
        src = code(r'''
            def {{name}}(d):
                return {value: key for key, value in d.items()}
        ''', name=name)
        ws = pick_words(r, 3)
        data = {w: i + 1 for i, w in enumerate(ws)}
        extras = []
    q = ask(r, "invert a dictionary so that values become keys", name, extras=extras)
    expl = ("`setdefault` creates the list the first time a value is seen." if multi
            else "If two keys share a value, the last one wins.")
    return q, py_reply(r, src, [f"{name}({data!r})"], expl)


@template("dicts")
def t_merge_counts(r):
    name = r.choice(["merge_counts", "sum_dicts", "combine_totals"])
    if r.random() < 0.5:
        src = code(r'''
            def {{name}}(*dicts):
                merged = {}
                for d in dicts:
                    for key, value in d.items():
                        merged[key] = merged.get(key, 0) + value
                return merged
        ''', name=name)
    else:
        src = code(r'''
            from collections import Counter


            def {{name}}(*dicts):
                total = Counter()
                for d in dicts:
                    total.update(d)
                return dict(total)
        ''', name=name)
    ws = pick_words(r, 4)
    a = {w: r.randint(1, 9) for w in ws[:3]}
    b = {w: r.randint(1, 9) for w in ws[1:]}
    q = ask(r, "merge dictionaries of counts, adding up the values for keys that appear in more than one", name)
    return q, py_reply(r, src, [f"{name}({a!r}, {b!r})"], "Keys present in several dictionaries get the sum of their values.")


@template("dicts")
def t_group_by(r):
    by_len = r.random() < 0.5
    name = "group_by_length" if by_len else "group_by_first_letter"
    key = "len(word)" if by_len else "word[0].lower()"
    src = code(r'''
        from collections import defaultdict


        def {{name}}(words):
            groups = defaultdict(list)
            for word in words:
                groups[{{key}}].append(word)
            return dict(groups)
    ''', name=name, key=key)
    data = r.sample(WORDS, 7)
    q = ask(r, "group a list of words by their " + ("length" if by_len else "first letter"), name)
    return q, py_reply(r, src, [f"{name}({data!r})"], "`defaultdict(list)` creates an empty list for each new group automatically.")


@template("dicts")
def t_get_path(r):
    name = r.choice(["get_path", "deep_get", "get_nested"])
    src = code(r'''
        def {{name}}(data, path, default=None):
            current = data
            for key in path.split("."):
                if isinstance(current, dict) and key in current:
                    current = current[key]
                elif isinstance(current, list) and key.isdigit() and int(key) < len(current):
                    current = current[int(key)]
                else:
                    return default
            return current
    ''', name=name)
    city = r.choice(CITIES)
    data = {"user": {"name": r.choice(NAMES), "address": {"city": city}, "tags": ["admin", "dev"]}}
    calls = [f"config = {data!r}", f"{name}(config, 'user.address.city')", f"{name}(config, 'user.tags.1')",
             f"{name}(config, 'user.phone', 'n/a')"]
    q = ask(r, "read a value from a nested dictionary using a dotted path like 'user.address.city'", name,
            extras=["Return a default if any key is missing."] if r.random() < 0.6 else [])
    return q, py_reply(r, src, calls, "Numeric path parts index into lists, so 'items.0.name' works too.")


@template("dicts")
def t_sort_by_value(r):
    desc = r.random() < 0.6
    name = r.choice(["sort_by_value", "rank_items"])
    src = code(r'''
        def {{name}}(d, descending={{desc}}):
            return dict(sorted(d.items(), key=lambda kv: kv[1], reverse=descending))
    ''', name=name, desc=desc)
    data = {n: r.randint(50, 100) for n in r.sample(NAMES, 4)}
    q = ask(r, "sort a dictionary by its values" + (" from highest to lowest" if desc else ""), name)
    return q, py_reply(r, src, [f"{name}({data!r})"], "Dictionaries preserve insertion order, so rebuilding one from the sorted items keeps that order.")


@template("dicts")
def t_flatten_dict(r):
    sep = r.choice([".", "_", "/"])
    name = r.choice(["flatten_dict", "flatten_keys"])
    src = code(r'''
        def {{name}}(d, parent_key="", sep="{{sep}}"):
            items = {}
            for key, value in d.items():
                new_key = f"{parent_key}{sep}{key}" if parent_key else key
                if isinstance(value, dict) and value:
                    items.update({{name}}(value, new_key, sep))
                else:
                    items[new_key] = value
            return items
    ''', name=name, sep=sep)
    data = {"db": {"host": "localhost", "port": r.choice([5432, 3306])}, "debug": r.random() < 0.5,
            "cache": {"ttl": r.randint(10, 300), "backend": {"kind": "redis"}}}
    q = ask(r, f"flatten a nested dictionary into one level, joining keys with '{sep}'", name)
    return q, py_reply(r, src, [f"{name}({data!r})"], "Nested dictionaries are flattened recursively; empty dictionaries are kept as values.")


@template("dicts")
def t_filter_dict(r):
    t = r.randint(40, 70)
    name = r.choice(["filter_scores", "above_threshold"])
    src = code(r'''
        def {{name}}(scores, threshold={{t}}):
            return {name: score for name, score in scores.items() if score >= threshold}
    ''', name=name, t=t)
    data = {n: r.randint(20, 100) for n in r.sample(NAMES, 5)}
    q = ask(r, f"keep only the entries of a dictionary whose value is at least {t}", name)
    return q, py_reply(r, src, [f"{name}({data!r})"], "A dict comprehension with a condition builds the filtered copy; the original is untouched.", p_note=0)


@template("dicts")
def t_columns_to_rows(r):
    name = r.choice(["columns_to_rows", "to_records"])
    src = code(r'''
        def {{name}}(columns):
            keys = list(columns)
            return [dict(zip(keys, values)) for values in zip(*columns.values())]
    ''', name=name)
    names = r.sample(NAMES, 3)
    data = {"name": names, "age": ints(r, 3, 18, 70)}
    q = ask(r, "convert a dictionary of lists (columns) into a list of dictionaries (rows)", name)
    return q, py_reply(r, src, [f"{name}({data!r})"], "`zip(*columns.values())` walks the columns in lockstep, one row at a time.")


DICT_SNIPPETS = [
    (["How do I get a value from a dict with a default if the key is missing?"],
     ["`d.get(key, default)` returns `default` instead of raising `KeyError`."]),
    (["How do I merge two dictionaries in Python?"],
     ["On Python 3.9+: `merged = a | b`. On older versions: `merged = {**a, **b}`. In both, values from `b` win on conflicts."]),
    (["How do I delete a key from a dict without an error if it doesn't exist?"],
     ["`d.pop(key, None)`"]),
    (["How do I find the key with the highest value in a dictionary?"],
     ["`max(d, key=d.get)`"]),
    (["How do I loop over the keys and values of a dictionary?"],
     ["```python\nfor key, value in d.items():\n    print(key, value)\n```"]),
    (["How do I count items with a dictionary in Python?"],
     ["Use `collections.Counter`:\n\n```python\nfrom collections import Counter\n\ncounts = Counter(words)\nprint(counts.most_common(3))\n```"]),
]


@template("dicts", weight=2)
def t_dict_snippet(r):
    qs, answers = r.choice(DICT_SNIPPETS)
    return r.choice(qs), r.choice(answers)
