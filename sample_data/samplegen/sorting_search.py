"""Clean templates: sorting (task ``sorting``) and searching (task ``search``)."""

from __future__ import annotations

from .registry import family_registry
from .text import ask, code, py_reply
from .vocab import NAMES, ints

TEMPLATES, template = family_registry()


@template("sorting")
def t_simple_sort(r):
    algo = r.choice(["bubble", "insertion", "selection"])
    name = f"{algo}_sort"
    bodies = {
        "bubble": r'''
            def bubble_sort(items):
                items = list(items)
                n = len(items)
                for end in range(n - 1, 0, -1):
                    swapped = False
                    for i in range(end):
                        if items[i] > items[i + 1]:
                            items[i], items[i + 1] = items[i + 1], items[i]
                            swapped = True
                    if not swapped:
                        break
                return items
        ''',
        "insertion": r'''
            def insertion_sort(items):
                items = list(items)
                for i in range(1, len(items)):
                    current = items[i]
                    j = i - 1
                    while j >= 0 and items[j] > current:
                        items[j + 1] = items[j]
                        j -= 1
                    items[j + 1] = current
                return items
        ''',
        "selection": r'''
            def selection_sort(items):
                items = list(items)
                for i in range(len(items)):
                    smallest = min(range(i, len(items)), key=items.__getitem__)
                    items[i], items[smallest] = items[smallest], items[i]
                return items
        ''',
    }
    notes = {
        "bubble": "O(n^2) in general, but the `swapped` flag makes it O(n) on already-sorted input.",
        "insertion": "O(n^2) worst case, O(n) on nearly sorted data, and stable.",
        "selection": "Always O(n^2) comparisons but at most n - 1 swaps; not stable.",
    }
    src = code(bodies[algo])
    q = ask(r, f"sort a list of numbers with {algo} sort", name,
            extras=["Don't modify the input list."] if r.random() < 0.4 else [])
    return q, py_reply(r, src, [f"{name}({ints(r, 8)!r})"], "It works on a copy, so the caller's list is left unchanged.", notes[algo], p_note=0.9)


@template("sorting")
def t_merge_sort(r):
    src = code(r'''
        def merge_sort(items):
            if len(items) <= 1:
                return list(items)
            mid = len(items) // 2
            left = merge_sort(items[:mid])
            right = merge_sort(items[mid:])
            merged = []
            i = j = 0
            while i < len(left) and j < len(right):
                if left[i] <= right[j]:
                    merged.append(left[i])
                    i += 1
                else:
                    merged.append(right[j])
                    j += 1
            merged.extend(left[i:])
            merged.extend(right[j:])
            return merged
    ''')
    q = ask(r, "implement merge sort", "merge_sort")
    return q, py_reply(r, src, [f"merge_sort({ints(r, 9)!r})"], "Split in half, sort each half recursively, then merge the two sorted halves; `<=` keeps it stable.",
                       "O(n log n) time in every case, O(n) extra memory.")


@template("sorting")
def t_quicksort(r):
    if r.random() < 0.5:
        src = code(r'''
            def quicksort(items):
                if len(items) <= 1:
                    return list(items)
                pivot = items[len(items) // 2]
                smaller = [x for x in items if x < pivot]
                equal = [x for x in items if x == pivot]
                larger = [x for x in items if x > pivot]
                return quicksort(smaller) + equal + quicksort(larger)
        ''')
        expl = "This version is easy to read and handles duplicates with the `equal` bucket, but it allocates new lists."
    else:
        src = code(r'''
            def quicksort(items, lo=0, hi=None):
                if hi is None:
                    hi = len(items) - 1
                if lo < hi:
                    p = partition(items, lo, hi)
                    quicksort(items, lo, p - 1)
                    quicksort(items, p + 1, hi)
                return items


            def partition(items, lo, hi):
                pivot = items[hi]
                i = lo
                for j in range(lo, hi):
                    if items[j] <= pivot:
                        items[i], items[j] = items[j], items[i]
                        i += 1
                items[i], items[hi] = items[hi], items[i]
                return i
        ''')
        expl = "This is the in-place version with Lomuto partitioning: the pivot ends up at its final index and each side is sorted recursively."
    q = ask(r, "implement quicksort", "quicksort")
    return q, py_reply(r, src, [f"quicksort({ints(r, 9)!r})"], expl, "Average O(n log n); the worst case is O(n^2) when pivots are consistently bad.")


@template("sorting")
def t_sort_records(r):
    key, other = r.choice([("age", "name"), ("score", "name"), ("price", "title")])
    desc = r.random() < 0.5
    people = [{"name" if other == "name" else "title": n, key: r.randint(18, 60)} for n in r.sample(NAMES, 4)]
    src = code(r'''
        def sort_records(records, key="{{key}}", descending={{desc}}):
            return sorted(records, key=lambda record: record[key], reverse=descending)
    ''', key=key, desc=desc)
    q = r.choice([
        f"How do I sort a list of dictionaries by the '{key}' key in Python{' in descending order' if desc else ''}?",
        f"Write a Python function that sorts a list of dicts by '{key}'.",
    ])
    a = py_reply(r, src, [f"sort_records({people!r})"], "`sorted` takes a `key` function; `operator.itemgetter(key)` is an equivalent, slightly faster choice.",
                 f"To break ties, return a tuple: `key=lambda d: (d[{key!r}], d[{other!r}])`.")
    return q, a


@template("sorting")
def t_counting_sort(r):
    src = code(r'''
        def counting_sort(numbers, max_value):
            counts = [0] * (max_value + 1)
            for n in numbers:
                counts[n] += 1
            result = []
            for value, count in enumerate(counts):
                result.extend([value] * count)
            return result
    ''')
    mv = r.choice([9, 20])
    q = ask(r, f"sort a list of small non-negative integers (at most {mv}) with counting sort", "counting_sort")
    return q, py_reply(r, src, [f"counting_sort({ints(r, 10, 0, mv)!r}, {mv})"], "Count each value, then write the values back out in order.",
                       "O(n + k) for n numbers with values up to k: faster than comparison sorts when k is small.")


@template("sorting")
def t_k_smallest(r):
    k = r.randint(2, 4)
    largest = r.random() < 0.5
    fn = "nlargest" if largest else "nsmallest"
    word = "largest" if largest else "smallest"
    src = code(r'''
        import heapq


        def top_k(numbers, k={{k}}):
            return heapq.{{fn}}(k, numbers)
    ''', k=k, fn=fn)
    q = ask(r, f"get the {k} {word} numbers from a big list without sorting the whole list", "top_k")
    return q, py_reply(r, src, [f"top_k({ints(r, 12)!r})"], f"`heapq.{fn}` keeps a heap of size k, so it runs in O(n log k).",
                       "For k close to n, plain `sorted(numbers)` is simpler and about as fast.")


@template("search")
def t_binary_search(r):
    if r.random() < 0.6:
        name = r.choice(["binary_search", "bsearch"])
        src = code(r'''
            def {{name}}(items, target):
                lo, hi = 0, len(items) - 1
                while lo <= hi:
                    mid = (lo + hi) // 2
                    if items[mid] == target:
                        return mid
                    if items[mid] < target:
                        lo = mid + 1
                    else:
                        hi = mid - 1
                return -1
        ''', name=name)
        data = sorted(r.sample(range(1, 60), 10))
        calls = [f"data = {data!r}", f"{name}(data, {data[r.randint(0, 9)]})", f"{name}(data, 61)"]
        q = ask(r, "search a sorted list with binary search and return the index or -1", name)
        expl = "Each step halves the search range, so it takes O(log n) comparisons."
    else:
        name = "first_index"
        src = code(r'''
            from bisect import bisect_left


            def first_index(items, target):
                i = bisect_left(items, target)
                if i < len(items) and items[i] == target:
                    return i
                return -1
        ''')
        data = sorted(ints(r, 10, 1, 8))
        calls = [f"data = {data!r}", f"first_index(data, {data[4]})", "first_index(data, 100)"]
        q = ask(r, "find the index of the first occurrence of a value in a sorted list that has duplicates", name)
        expl = "`bisect_left` returns the leftmost insertion point, which is the first occurrence when the value is present."
    return q, py_reply(r, src, calls, expl)


@template("search")
def t_rotated_search(r):
    src = code(r'''
        def search_rotated(nums, target):
            lo, hi = 0, len(nums) - 1
            while lo <= hi:
                mid = (lo + hi) // 2
                if nums[mid] == target:
                    return mid
                if nums[lo] <= nums[mid]:
                    if nums[lo] <= target < nums[mid]:
                        hi = mid - 1
                    else:
                        lo = mid + 1
                else:
                    if nums[mid] < target <= nums[hi]:
                        lo = mid + 1
                    else:
                        hi = mid - 1
            return -1
    ''')
    base = sorted(r.sample(range(0, 40), 8))
    k = r.randint(1, 7)
    nums = base[k:] + base[:k]
    calls = [f"search_rotated({nums!r}, {r.choice(nums)})", f"search_rotated({nums!r}, 41)"]
    q = ask(r, "search for a target in a sorted array that has been rotated at an unknown pivot, in O(log n)", "search_rotated")
    return q, py_reply(r, src, calls, "At every step one half is sorted; check whether the target lies in that half and discard the other.")


@template("search")
def t_two_sum(r):
    nums = r.sample(range(1, 30), 6)
    i, j = r.sample(range(6), 2)
    target = nums[i] + nums[j]
    name = r.choice(["two_sum", "pair_with_sum"])
    src = code(r'''
        def {{name}}(nums, target):
            seen = {}
            for i, n in enumerate(nums):
                complement = target - n
                if complement in seen:
                    return seen[complement], i
                seen[n] = i
            return None
    ''', name=name)
    q = ask(r, "find the indices of two numbers in a list that add up to a target", name,
            extras=["It should be faster than O(n^2)."] if r.random() < 0.5 else [])
    return q, py_reply(r, src, [f"{name}({nums!r}, {target})"], "A dict from value to index lets us check for the complement in O(1), so the whole scan is O(n).")


@template("search")
def t_peak(r):
    src = code(r'''
        def find_peak(nums):
            lo, hi = 0, len(nums) - 1
            while lo < hi:
                mid = (lo + hi) // 2
                if nums[mid] < nums[mid + 1]:
                    lo = mid + 1
                else:
                    hi = mid
            return lo
    ''')
    nums = r.choice([[1, 3, 5, 4, 2], [1, 2, 1, 3, 5, 6, 4], [5, 4, 3, 2], [1, 2, 3, 9]])
    q = ask(r, "find the index of a peak element (larger than its neighbours) in a list in logarithmic time", "find_peak")
    return q, py_reply(r, src, [f"find_peak({nums!r})"], "If the next element is larger, a peak must exist to the right; otherwise one exists at mid or to the left.")
