"""Clean templates: dynamic programming (task ``dp``)."""

from __future__ import annotations

from .registry import family_registry
from .text import ask, code, py_reply
from .vocab import ints

TEMPLATES, template = family_registry()


@template("dp")
def t_lcs(r):
    as_string = r.random() < 0.5
    pairs = [("ABCBDAB", "BDCABA"), ("kitten", "sitting"), ("dynamic", "programming"), ("AGGTAB", "GXTXAYB")]
    a, b = r.choice(pairs)
    if as_string:
        src = code(r'''
            def lcs(a, b):
                m, n = len(a), len(b)
                dp = [[0] * (n + 1) for _ in range(m + 1)]
                for i in range(m):
                    for j in range(n):
                        if a[i] == b[j]:
                            dp[i + 1][j + 1] = dp[i][j] + 1
                        else:
                            dp[i + 1][j + 1] = max(dp[i][j + 1], dp[i + 1][j])
                # walk back through the table to rebuild one longest subsequence
                out = []
                i, j = m, n
                while i and j:
                    if a[i - 1] == b[j - 1]:
                        out.append(a[i - 1])
                        i -= 1
                        j -= 1
                    elif dp[i - 1][j] >= dp[i][j - 1]:
                        i -= 1
                    else:
                        j -= 1
                return "".join(reversed(out))
        ''')
        q = ask(r, "find the longest common subsequence of two strings (the subsequence itself, not just its length)", "lcs")
    else:
        src = code(r'''
            def lcs_length(a, b):
                previous = [0] * (len(b) + 1)
                for ch in a:
                    current = [0]
                    for j, other in enumerate(b):
                        if ch == other:
                            current.append(previous[j] + 1)
                        else:
                            current.append(max(previous[j + 1], current[j]))
                    previous = current
                return previous[-1]
        ''')
        q = ask(r, "compute the length of the longest common subsequence of two strings", "lcs_length",
                extras=["Memory should be O(min(m, n)) if possible."] if r.random() < 0.5 else [])
    fn = "lcs" if as_string else "lcs_length"
    return q, py_reply(r, src, [f"{fn}({a!r}, {b!r})"], "dp[i][j] is the LCS length of the first i characters of a and the first j of b.",
                       "O(m * n) time.")


@template("dp")
def t_coin_change(r):
    coins = r.choice([[1, 2, 5], [1, 5, 10, 25], [2, 3, 7], [1, 3, 4]])
    amount = r.randint(11, 40)
    if r.random() < 0.5:
        src = code(r'''
            def min_coins(coins, amount):
                INF = float("inf")
                best = [0] + [INF] * amount
                for value in range(1, amount + 1):
                    for coin in coins:
                        if coin <= value and best[value - coin] + 1 < best[value]:
                            best[value] = best[value - coin] + 1
                return -1 if best[amount] == INF else best[amount]
        ''')
        calls = [f"min_coins({coins!r}, {amount})", f"min_coins([{r.choice([4, 6])}], 7)"]
        q = ask(r, "find the minimum number of coins needed to make an amount", "min_coins",
                extras=["Return -1 if it can't be made."])
        expl = "best[v] is the fewest coins for value v, built bottom-up from smaller values."
    else:
        src = code(r'''
            def count_ways(coins, amount):
                ways = [1] + [0] * amount
                for coin in coins:
                    for value in range(coin, amount + 1):
                        ways[value] += ways[value - coin]
                return ways[amount]
        ''')
        calls = [f"count_ways({coins!r}, {amount})"]
        q = ask(r, "count the number of ways to make change for an amount with given coin denominations", "count_ways")
        expl = "Looping over coins in the outer loop counts combinations, not permutations (1+2 and 2+1 count once)."
    return q, py_reply(r, src, calls, expl, "O(len(coins) * amount) time.")


@template("dp")
def t_knapsack(r):
    items = [(r.randint(1, 6), r.randint(5, 40)) for _ in range(5)]
    cap_w = r.randint(8, 14)
    src = code(r'''
        def knapsack(items, capacity):
            """items is a list of (weight, value); each item can be used at most once."""
            best = [0] * (capacity + 1)
            for weight, value in items:
                for c in range(capacity, weight - 1, -1):
                    best[c] = max(best[c], best[c - weight] + value)
            return best[capacity]
    ''')
    q = ask(r, "solve the 0/1 knapsack problem: maximize total value within a weight capacity", "knapsack")
    return q, py_reply(r, src, [f"knapsack({items!r}, {cap_w})"], "Iterating capacities downwards makes sure each item is counted at most once in the one-dimensional table.",
                       "O(n * capacity) time, O(capacity) memory.")


@template("dp")
def t_edit_distance(r):
    pairs = [("kitten", "sitting"), ("flaw", "lawn"), ("intention", "execution"), ("sunday", "saturday"), ("abc", "abc")]
    src = code(r'''
        def edit_distance(a, b):
            previous = list(range(len(b) + 1))
            for i, ca in enumerate(a, 1):
                current = [i]
                for j, cb in enumerate(b, 1):
                    current.append(min(
                        previous[j] + 1,               # deletion
                        current[j - 1] + 1,            # insertion
                        previous[j - 1] + (ca != cb),  # substitution
                    ))
                previous = current
            return previous[-1]
    ''')
    calls = [f"edit_distance({a!r}, {b!r})" for a, b in r.sample(pairs, 2)]
    q = ask(r, "compute the Levenshtein (edit) distance between two strings", "edit_distance")
    return q, py_reply(r, src, calls, "Only the previous row of the DP table is kept, so memory is O(len(b)).")


@template("dp")
def t_lis(r):
    src = code(r'''
        from bisect import bisect_left


        def lis_length(nums):
            tails = []
            for n in nums:
                i = bisect_left(tails, n)
                if i == len(tails):
                    tails.append(n)
                else:
                    tails[i] = n
            return len(tails)
    ''')
    q = ask(r, "find the length of the longest strictly increasing subsequence in O(n log n)", "lis_length")
    return q, py_reply(r, src, [f"lis_length({ints(r, 10, 0, 30)!r})"], "tails[k] holds the smallest possible tail of an increasing subsequence of length k + 1; binary search finds where each number goes.")


@template("dp")
def t_kadane(r):
    src = code(r'''
        def max_subarray(nums):
            best = current = nums[0]
            for n in nums[1:]:
                current = max(n, current + n)
                best = max(best, current)
            return best
    ''')
    q = ask(r, "find the maximum sum of a contiguous subarray", "max_subarray",
            extras=["The list may be all negative."] if r.random() < 0.5 else [])
    return q, py_reply(r, src, [f"max_subarray({ints(r, 9, -10, 10)!r})", "max_subarray([-3, -1, -2])"],
                       "Kadane's algorithm: either extend the current run or start fresh at this element.", "O(n) time, O(1) space.")


@template("dp")
def t_stairs(r):
    k = r.choice([2, 3])
    src = code(r'''
        def climb_ways(n, max_step={{k}}):
            ways = [1] + [0] * n
            for i in range(1, n + 1):
                ways[i] = sum(ways[i - s] for s in range(1, max_step + 1) if s <= i)
            return ways[n]
    ''', k=k)
    steps = "1 or 2" if k == 2 else "1, 2 or 3"
    q = ask(r, f"count the ways to climb n stairs taking {steps} steps at a time", "climb_ways")
    return q, py_reply(r, src, [f"[climb_ways(n) for n in range(1, 9)]"], "The number of ways to reach step i is the sum of the ways to reach the steps you could have come from.")
