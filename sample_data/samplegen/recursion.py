"""Clean templates: recursion (factorial, permutations, Hanoi, trees...)."""

from __future__ import annotations

from .registry import family_registry
from .text import ask, code, py_reply, reply

TEMPLATES, template = family_registry()


@template("recursion")
def t_factorial(r):
    name = r.choice(["factorial", "fact"])
    src = code(r'''
        def {{name}}(n):
            if n < 0:
                raise ValueError("factorial is not defined for negative numbers")
            if n <= 1:
                return 1
            return n * {{name}}(n - 1)
    ''', name=name)
    q = ask(r, "compute a factorial recursively", name)
    return q, py_reply(r, src, [f"{name}({r.randint(5, 12)})", f"{name}(0)"], "The base case stops the recursion at 0 and 1.",
                       "Python's default recursion limit is about 1000, so use `math.factorial` for large n.")


@template("recursion")
def t_permutations(r):
    src = code(r'''
        def permutations(items):
            if len(items) <= 1:
                return [list(items)]
            result = []
            for i, item in enumerate(items):
                rest = items[:i] + items[i + 1:]
                for perm in permutations(rest):
                    result.append([item] + perm)
            return result
    ''')
    data = r.choice([[1, 2, 3], ["a", "b", "c"], ["x", "y"]])
    q = ask(r, "generate all permutations of a list recursively, without itertools", "permutations")
    return q, py_reply(r, src, [f"permutations({data!r})"], "Pick each element as the first one, then recursively permute the rest.",
                       "There are n! permutations, so this is only practical for small lists.")


@template("recursion")
def t_power_set(r):
    src = code(r'''
        def subsets(items):
            if not items:
                return [[]]
            rest = subsets(items[1:])
            return rest + [[items[0]] + subset for subset in rest]
    ''')
    data = r.choice([[1, 2, 3], ["a", "b", "c"], ["x", "y"]])
    q = ask(r, "generate all subsets (the power set) of a list using recursion", "subsets")
    return q, py_reply(r, src, [f"subsets({data!r})"], "Every subset either leaves out the first element or includes it, which gives the recursion directly.")


@template("recursion")
def t_hanoi(r):
    n = r.randint(2, 3)
    src = code(r'''
        def hanoi(n, source="A", target="C", spare="B", moves=None):
            if moves is None:
                moves = []
            if n > 0:
                hanoi(n - 1, source, spare, target, moves)
                moves.append((source, target))
                hanoi(n - 1, spare, target, source, moves)
            return moves
    ''')
    q = ask(r, "solve the Tower of Hanoi recursively and list the moves", "hanoi")
    return q, py_reply(r, src, [f"hanoi({n})", "len(hanoi(10))"], "Move n - 1 disks out of the way, move the largest, then move the n - 1 disks on top of it: 2^n - 1 moves in total.")


@template("recursion")
def t_nested_sum(r):
    if r.random() < 0.5:
        src = code(r'''
            def nested_sum(data):
                if isinstance(data, (int, float)):
                    return data
                return sum(nested_sum(item) for item in data)
        ''')
        fn = "nested_sum"
        q = ask(r, "sum all numbers in an arbitrarily nested list", fn)
    else:
        src = code(r'''
            def depth(data):
                if not isinstance(data, list):
                    return 0
                return 1 + max((depth(item) for item in data), default=0)
        ''')
        fn = "depth"
        q = ask(r, "compute how deeply a list is nested", fn)
    data = r.choice([[1, [2, 3], [[4]], 5], [[1, 2], [3, [4, [5, 6]]]], [10, [20, [30]], []]])
    return q, py_reply(r, src, [f"{fn}({data!r})"], "Numbers are the base case; lists recurse into their items.")


@template("recursion")
def t_tree(r):
    src = code(r'''
        class TreeNode:
            def __init__(self, value, left=None, right=None):
                self.value = value
                self.left = left
                self.right = right


        def max_depth(node):
            if node is None:
                return 0
            return 1 + max(max_depth(node.left), max_depth(node.right))


        def in_order(node):
            if node is None:
                return []
            return in_order(node.left) + [node.value] + in_order(node.right)


        def insert(node, value):
            if node is None:
                return TreeNode(value)
            if value < node.value:
                node.left = insert(node.left, value)
            else:
                node.right = insert(node.right, value)
            return node
    ''')
    vals = r.sample(range(1, 50), 7)
    calls = ["root = None", f"for v in {vals!r}:\n    root = insert(root, v)", "in_order(root)", "max_depth(root)"]
    q = r.choice([
        "Write recursive functions for a binary search tree in Python: insert, in-order traversal and maximum depth.",
        "How do I compute the height of a binary tree recursively? Include a small BST to test it.",
    ])
    return q, py_reply(r, src, calls, "Each function handles the empty tree (`None`) as its base case and recurses into both children; in-order traversal of a BST yields the values sorted.")


@template("recursion")
def t_memo_fib(r):
    src = code(r'''
        from functools import lru_cache


        @lru_cache(maxsize=None)
        def fib(n):
            if n < 2:
                return n
            return fib(n - 1) + fib(n - 2)
    ''')
    q = r.choice([
        "My recursive Fibonacci function is really slow for n = 35. How do I speed it up without rewriting it as a loop?",
        "How do I memoize a recursive function in Python?",
    ])
    return q, py_reply(r, src, [f"fib({r.randint(30, 80)})", "fib.cache_info().currsize > 0"],
                       "`lru_cache` stores every result, so each `fib(k)` is computed once and the exponential recursion becomes linear.")


@template("recursion")
def t_dir_size(r):
    src = code(r'''
        import os


        def dir_size(path):
            total = 0
            with os.scandir(path) as entries:
                for entry in entries:
                    if entry.is_symlink():
                        continue
                    if entry.is_file():
                        total += entry.stat().st_size
                    elif entry.is_dir():
                        total += dir_size(entry.path)
            return total


        def human(n):
            for unit in ["B", "KB", "MB", "GB"]:
                if n < 1024:
                    return f"{n:.1f} {unit}"
                n /= 1024
            return f"{n:.1f} TB"
    ''')
    q = r.choice([
        "How do I compute the total size of a directory recursively in Python?",
        "Write a recursive Python function that adds up the sizes of all files under a folder, and a helper to print it human-readably.",
    ])
    return q, reply(r, src, "python", "`os.scandir` is faster than `os.listdir` because the directory entries carry cached type information. Symlinks are skipped to avoid cycles.",
                    "print(human(dir_size(\"/var/log\")))\n# 48.3 MB")
