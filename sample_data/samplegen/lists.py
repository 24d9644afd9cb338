"""Clean templates: Python list tasks (flatten, chunk, rotate, merge, partition...)."""

from __future__ import annotations

from .registry import family_registry
from .text import ask, code, py_reply
from .vocab import ints, pick_words

TEMPLATES, template = family_registry()


@template("lists")
def t_flatten(r):
    if r.random() < 0.5:
        name = r.choice(["flatten", "flatten_deep"])
        src = code(r'''
            def {{name}}(items):
                flat = []
                for item in items:
                    if isinstance(item, (list, tuple)):
                        flat.extend({{name}}(item))
                    else:
                        flat.append(item)
                return flat
        ''', name=name)
        calls = [f"{name}({r.choice([[1, [2, [3, [4]]], 5], [[1, 2], (3, [4, 5]), 6], ['a', ['b', ['c']]]])!r})"]
        q = ask(r, "flatten an arbitrarily nested list", name)
        expl = "Nested lists and tuples are flattened recursively; everything else is kept as a leaf."
        note = "For very deep nesting (thousands of levels) switch to an explicit stack to avoid hitting the recursion limit."
    else:
        name = r.choice(["flatten", "flatten_once"])
        src = code(r'''
            def {{name}}(list_of_lists):
                return [item for sublist in list_of_lists for item in sublist]
        ''', name=name)
        calls = [f"{name}({[ints(r, r.randint(1, 3)) for _ in range(3)]!r})"]
        q = ask(r, "flatten a list of lists into a single list", name)
        expl = "The nested comprehension reads left to right like two nested `for` loops."
        note = "`list(itertools.chain.from_iterable(list_of_lists))` does the same thing."
    return q, py_reply(r, src, calls, expl, note)


@template("lists")
def t_chunk(r):
    size = r.randint(2, 4)
    name = r.choice(["chunk", "chunks", "batched", "split_into_chunks"])
    src = code(r'''
        def {{name}}(items, size):
            if size <= 0:
                raise ValueError("size must be positive")
            return [items[i:i + size] for i in range(0, len(items), size)]
    ''', name=name)
    calls = [f"{name}({list(range(1, r.randint(7, 11)))!r}, {size})"]
    q = ask(r, f"split a list into chunks of {size} items", name,
            extras=["The last chunk can be shorter."] if r.random() < 0.5 else [])
    return q, py_reply(r, src, calls, "Slicing past the end of a list is safe, so the last chunk simply holds what is left.",
                       "On Python 3.12+ `itertools.batched(items, size)` yields tuples lazily.")


@template("lists")
def t_unique_order(r):
    name = r.choice(["unique", "dedupe", "remove_duplicates"])
    if r.random() < 0.5:
        src = code(r'''
            def {{name}}(items):
                return list(dict.fromkeys(items))
        ''', name=name)
        expl = "`dict.fromkeys` keeps the first occurrence of each key, in order."
    else:
        src = code(r'''
            def {{name}}(items):
                seen = set()
                result = []
                for item in items:
                    if item not in seen:
                        seen.add(item)
                        result.append(item)
                return result
        ''', name=name)
        expl = "The set gives O(1) membership checks, the list keeps the original order."
    data = ints(r, 9, 1, 6)
    calls = [f"{name}({data!r})"]
    q = ask(r, "remove duplicates from a list while keeping the original order", name)
    return q, py_reply(r, src, calls, expl, "Items must be hashable.")


@template("lists")
def t_second_largest(r):
    name = r.choice(["second_largest", "runner_up"])
    src = code(r'''
        def {{name}}(numbers):
            first = second = None
            for n in numbers:
                if first is None or n > first:
                    first, second = n, first
                elif n != first and (second is None or n > second):
                    second = n
            if second is None:
                raise ValueError("need at least two distinct values")
            return second
    ''', name=name)
    calls = [f"{name}({ints(r, 7)!r})", f"{name}([5, 5, 3])"]
    q = ask(r, "find the second largest distinct number in a list", name,
            extras=["Do it in a single pass."] if r.random() < 0.5 else [])
    return q, py_reply(r, src, calls, "One pass, tracking the largest and second-largest distinct values.", "O(n) time, O(1) space.")


@template("lists")
def t_rotate(r):
    right = r.random() < 0.5
    k = r.randint(1, 4)
    name = r.choice(["rotate", "rotate_list"])
    if right:
        src = code(r'''
            def {{name}}(items, k):
                if not items:
                    return []
                k %= len(items)
                return items[-k:] + items[:-k]
        ''', name=name)
    else:
        src = code(r'''
            def {{name}}(items, k):
                if not items:
                    return []
                k %= len(items)
                return items[k:] + items[:k]
        ''', name=name)
    calls = [f"{name}({list(range(1, 8))!r}, {k})", f"{name}([1, 2, 3], 10)"]
    q = ask(r, f"rotate a list to the {'right' if right else 'left'} by k positions", name)
    return q, py_reply(r, src, calls, "`k %= len(items)` handles k larger than the list; the two slices are then swapped.",
                       "`collections.deque.rotate` does this in place if you rotate often.")


@template("lists")
def t_moving_average(r):
    w = r.randint(2, 4)
    name = r.choice(["moving_average", "rolling_mean"])
    src = code(r'''
        def {{name}}(values, window):
            if window <= 0 or window > len(values):
                raise ValueError("window must be between 1 and len(values)")
            total = sum(values[:window])
            result = [total / window]
            for i in range(window, len(values)):
                total += values[i] - values[i - window]
                result.append(total / window)
            return result
    ''', name=name)
    calls = [f"{name}({[r.randint(1, 20) * 2 for _ in range(7)]!r}, {w})"]
    q = ask(r, f"compute the moving average of a list of numbers with a window of {w}", name)
    return q, py_reply(r, src, calls, "It keeps a running window sum instead of re-summing each window, so it is O(n).")


@template("lists")
def t_merge_sorted(r):
    name = r.choice(["merge_sorted", "merge_two_sorted"])
    src = code(r'''
        def {{name}}(a, b):
            i = j = 0
            merged = []
            while i < len(a) and j < len(b):
                if a[i] <= b[j]:
                    merged.append(a[i])
                    i += 1
                else:
                    merged.append(b[j])
                    j += 1
            merged.extend(a[i:])
            merged.extend(b[j:])
            return merged
    ''', name=name)
    calls = [f"{name}({sorted(ints(r, 4))!r}, {sorted(ints(r, 5))!r})"]
    q = ask(r, "merge two sorted lists into one sorted list", name,
            extras=["Don't just concatenate and call sorted()."] if r.random() < 0.5 else [])
    return q, py_reply(r, src, calls, "Two pointers walk both lists and always take the smaller head.",
                       "O(len(a) + len(b)) time. `heapq.merge(a, b)` is the lazy standard-library version.")


@template("lists")
def t_missing_number(r):
    name = r.choice(["missing_number", "find_missing"])
    n = r.randint(6, 10)
    nums = list(range(1, n + 1))
    nums.remove(r.randint(1, n))
    r.shuffle(nums)
    src = code(r'''
        def {{name}}(nums):
            n = len(nums) + 1
            return n * (n + 1) // 2 - sum(nums)
    ''', name=name)
    q = ask(r, "find the missing number in a list containing 1..n with exactly one number missing", name)
    return q, py_reply(r, src, [f"{name}({nums!r})"], "The sum of 1..n is n(n+1)/2; whatever is missing from that total is the answer.")


@template("lists")
def t_running_total(r):
    name = r.choice(["running_total", "cumulative_sum"])
    if r.random() < 0.5:
        src = code(r'''
            from itertools import accumulate


            def {{name}}(numbers):
                return list(accumulate(numbers))
        ''', name=name)
    else:
        src = code(r'''
            def {{name}}(numbers):
                totals = []
                running = 0
                for n in numbers:
                    running += n
                    totals.append(running)
                return totals
        ''', name=name)
    q = ask(r, "compute the running total of a list of numbers", name)
    return q, py_reply(r, src, [f"{name}({ints(r, 6, 1, 20)!r})"], "Each output element is the sum of everything up to and including that position.")


@template("lists")
def t_transpose(r):
    rows, cols = r.randint(2, 3), r.randint(2, 4)
    m = [ints(r, cols, 0, 9) for _ in range(rows)]
    name = r.choice(["transpose", "transpose_matrix"])
    src = code(r'''
        def {{name}}(matrix):
            return [list(row) for row in zip(*matrix)]
    ''', name=name)
    q = ask(r, "transpose a matrix stored as a list of lists", name)
    return q, py_reply(r, src, [f"{name}({m!r})"], "`zip(*matrix)` pairs up the i-th elements of every row, which are exactly the columns.")


@template("lists")
def t_find_duplicates(r):
    name = r.choice(["find_duplicates", "duplicates"])
    src = code(r'''
        from collections import Counter


        def {{name}}(items):
            return [item for item, count in Counter(items).items() if count > 1]
    ''', name=name)
    data = r.choice([ints(r, 10, 1, 7), [w for w in pick_words(r, 4) for _ in range(r.randint(1, 2))]])
    q = ask(r, "find the values that appear more than once in a list", name)
    return q, py_reply(r, src, [f"{name}({data!r})"], "Each duplicate is reported once, in order of first appearance.")


@template("lists")
def t_partition(r):
    name = r.choice(["split_even_odd", "partition_parity"])
    src = code(r'''
        def {{name}}(numbers):
            evens, odds = [], []
            for n in numbers:
                (evens if n % 2 == 0 else odds).append(n)
            return evens, odds
    ''', name=name)
    q = ask(r, "split a list of integers into even and odd numbers", name)
    return q, py_reply(r, src, [f"{name}({ints(r, 8)!r})"], "A single pass appends each number to the right list.")


LIST_SNIPPETS = [
    (["How do I sort a list of tuples by the second element in Python?"],
     ["```python\npairs.sort(key=lambda pair: pair[1])\n```\n\nUse `sorted(pairs, key=...)` if you need a new list instead of sorting in place.",
      "`sorted(pairs, key=operator.itemgetter(1))`"]),
    (["How do I get the index of the largest value in a Python list?"],
     ["`max(range(len(values)), key=values.__getitem__)`, or simply `values.index(max(values))` (two passes, first match)."]),
    (["How do I remove all occurrences of a value from a list?"],
     ["```python\nitems = [x for x in items if x != value]\n```"]),
    (["What's the Pythonic way to check if a list is empty?"],
     ["```python\nif not items:\n    print(\"empty\")\n```\n\nEmpty sequences are falsy, so there's no need for `len(items) == 0`."]),
    (["How do I create a 3x4 grid of zeros in Python without the rows being shared?"],
     ["```python\ngrid = [[0] * 4 for _ in range(3)]\n```\n\n`[[0] * 4] * 3` would repeat the *same* row object three times, so changing one row would change all of them."]),
    (["How do I build a dictionary from two lists, one of keys and one of values?"],
     ["`dict(zip(keys, values))`"]),
    (["How do I get the last element of a list in Python?"],
     ["`items[-1]` (raises `IndexError` on an empty list)."]),
    (["How do I iterate over a list with the index in Python?"],
     ["```python\nfor i, item in enumerate(items):\n    print(i, item)\n```"]),
    (["How do I iterate over two lists at the same time?"],
     ["```python\nfor name, score in zip(names, scores):\n    print(f\"{name}: {score}\")\n```\n\n`zip` stops at the shorter list; pass `strict=True` (Python 3.10+) to raise if the lengths differ."]),
    (["How can I shuffle a list randomly in Python?"],
     ["```python\nimport random\n\nrandom.shuffle(items)  # in place\n```\n\nUse `random.sample(items, len(items))` to get a shuffled copy."]),
]


@template("lists", weight=2)
def t_list_snippet(r):
    qs, answers = r.choice(LIST_SNIPPETS)
    return r.choice(qs), r.choice(answers)
