"""The chat sample (OpenAI messages format): multi-turn scenarios and single-turn clean rows."""

from __future__ import annotations

import random

from .settings import N_CHAT
from .templates import sample_clean
from .text import code, py_reply, reply
from .vocab import NAMES, SENTENCES

SYSTEM_PROMPTS = [
    "You are a helpful coding assistant.",
    "You are an expert Python developer. Answer concisely and include runnable code.",
    "You are a senior software engineer who explains code clearly and points out edge cases.",
    "You are a friendly programming tutor. Keep explanations short.",
    "You help developers write correct, idiomatic code. Use fenced code blocks.",
]


def turns(*pairs):
    out = []
    for user, assistant in pairs:
        out.append({"role": "user", "content": user})
        out.append({"role": "assistant", "content": assistant})
    return out


def chat_reverse_words(r):
    s = "  " + "   ".join(r.choice(SENTENCES).split()[:4]) + " "
    v1 = code(r'''
        def reverse_words(sentence):
            return " ".join(reversed(sentence.split()))
    ''')
    v2 = code(r'''
        import re


        def reverse_words(sentence):
            words = re.findall(r"\S+", sentence)
            gaps = re.split(r"\S+", sentence)
            words.reverse()
            return "".join(gap + word for gap, word in zip(gaps, words)) + gaps[-1]
    ''')
    return turns(
        ("How do I reverse the order of words in a sentence in Python?",
         py_reply(r, v1, [f"reverse_words({s!r})"], "`split()` drops all extra whitespace, so the result always uses single spaces.", p_example=1.0)),
        (r.choice(["Can you keep the original spacing? My input has multiple spaces that must stay where they are.",
                   "That collapses my double spaces. I need the whitespace to stay exactly as it was."]),
         py_reply(r, v2, [f"reverse_words({s!r})"], "`re.split(r\"\\S+\")` returns the whitespace runs (including empty ones at the ends), so putting the reversed words back between the original gaps keeps the spacing intact.", p_example=1.0)),
    )


def chat_primes(r):
    v1 = code(r'''
        def is_prime(n):
            if n < 2:
                return False
            i = 2
            while i * i <= n:
                if n % i == 0:
                    return False
                i += 1
            return True
    ''')
    limit = r.choice([10 ** 6, 2 * 10 ** 6])
    v2 = code(r'''
        def prime_table(limit):
            is_prime = bytearray([1]) * (limit + 1)
            is_prime[0:2] = b"\x00\x00"
            for i in range(2, int(limit ** 0.5) + 1):
                if is_prime[i]:
                    is_prime[i * i :: i] = bytes(len(range(i * i, limit + 1, i)))
            return is_prime


        TABLE = prime_table({{limit}})


        def is_prime(n):
            return 0 <= n <= {{limit}} and bool(TABLE[n])
    ''', limit=limit)
    return turns(
        ("Write a Python function to check if a number is prime.",
         reply(r, v1, "python", "Trial division up to the square root: O(sqrt(n)) per call.")),
        (f"I call it for every number below {limit:,} and it's too slow. Can you make it faster?",
         reply(r, v2, "python", "For many queries over a bounded range, precompute once with the Sieve of Eratosthenes; each lookup is then O(1). A `bytearray` keeps the table at about 1 byte per number, and slice assignment crosses out multiples at C speed.",
               note="Building the table takes well under a second for a few million numbers.", p_note=1.0)),
    )


def chat_fib(r):
    v1 = code(r'''
        def fib(n):
            if n < 2:
                return n
            return fib(n - 1) + fib(n - 2)
    ''')
    v2 = code(r'''
        from functools import lru_cache


        @lru_cache(maxsize=None)
        def fib(n):
            if n < 2:
                return n
            return fib(n - 1) + fib(n - 2)
    ''')
    v3 = code(r'''
        def fib(n):
            a, b = 0, 1
            for _ in range(n):
                a, b = b, a + b
            return a
    ''')
    msgs = turns(
        ("Write a recursive Fibonacci function in Python.", reply(r, v1, "python", "This follows the definition directly, but it recomputes the same values over and over (exponential time).")),
        ("fib(40) takes forever. How do I speed it up but keep it recursive?", reply(r, v2, "python", "`lru_cache` remembers each result, so every `fib(k)` is computed once: linear time.")),
    )
    if r.random() < 0.7:
        msgs += turns(("Now fib(5000) raises RecursionError. What's the fix?",
                       py_reply(r, v3, ["len(str(fib(5000)))"], "Recursion depth is limited (about 1000 frames by default). The iterative version needs no stack at all and Python integers grow as needed.", p_example=1.0)))
    return msgs


def chat_csv(r):
    group, value = r.choice([("region", "amount"), ("category", "cost")])
    v1 = code(r'''
        import csv
        from collections import defaultdict


        def totals(path):
            result = defaultdict(float)
            with open(path, newline="") as f:
                for row in csv.DictReader(f):
                    result[row["{{group}}"]] += float(row["{{value}}"])
            return dict(result)
    ''', group=group, value=value)
    v2 = code(r'''
        import csv
        import logging
        from collections import defaultdict

        log = logging.getLogger(__name__)


        def totals(path):
            result = defaultdict(float)
            skipped = 0
            with open(path, newline="", encoding="utf-8") as f:
                for line_no, row in enumerate(csv.DictReader(f), start=2):
                    raw = (row.get("{{value}}") or "").strip()
                    try:
                        amount = float(raw)
                    except ValueError:
                        skipped += 1
                        log.warning("line %d: bad {{value}} %r, skipped", line_no, raw)
                        continue
                    result[row["{{group}}"]] += amount
            if skipped:
                log.warning("%d rows skipped", skipped)
            return dict(result)
    ''', group=group, value=value)
    return turns(
        (f"How do I sum the '{value}' column of a CSV per '{group}' in Python?", reply(r, v1, "python", "`csv.DictReader` gives you each row as a dict keyed by the header.")),
        (r.choice([f"Some rows have an empty {value} and one has 'n/a', and it crashes with ValueError. Can you fix it?",
                   f"It fails on blank or non-numeric {value} values. I'd like to skip those but know how many were skipped."]),
         reply(r, v2, "python", "Bad values are skipped and logged with their line number (line 1 is the header, hence `start=2`), so you can fix the source data later instead of silently losing rows.")),
    )


def chat_sql(r):
    year = r.choice([2023, 2024, 2025])
    v1 = code(r'''
        SELECT c.id, c.name, SUM(o.amount) AS total
        FROM customers AS c
        JOIN orders AS o ON o.customer_id = c.id
        GROUP BY c.id, c.name
        ORDER BY total DESC
        LIMIT 5;
    ''')
    v2 = code(r'''
        SELECT c.id, c.name, c.email, SUM(o.amount) AS total
        FROM customers AS c
        JOIN orders AS o ON o.customer_id = c.id
        WHERE o.created_at >= '{{year}}-01-01'
          AND o.created_at <  '{{next}}-01-01'
        GROUP BY c.id, c.name, c.email
        ORDER BY total DESC
        LIMIT 5;
    ''', year=year, next=year + 1)
    msgs = turns(
        ("Tables: customers(id, name, email), orders(id, customer_id, amount, created_at). SQL for the top 5 customers by total spend?",
         reply(r, v1, "sql", "Join, group per customer, sort by the sum, keep five.")),
        (f"Only count orders from {year}, and include the email in the output.",
         reply(r, v2, "sql", "The date filter goes in WHERE so it applies before grouping, and every non-aggregated column in SELECT must be in GROUP BY.")),
    )
    if r.random() < 0.5:
        v3 = code(r'''
            SELECT c.id, c.name, c.email, COALESCE(SUM(o.amount), 0) AS total
            FROM customers AS c
            LEFT JOIN orders AS o
                   ON o.customer_id = c.id
                  AND o.created_at >= '{{year}}-01-01'
                  AND o.created_at <  '{{next}}-01-01'
            GROUP BY c.id, c.name, c.email
            ORDER BY total DESC;
        ''', year=year, next=year + 1)
        msgs += turns((f"Now list every customer, including those with no orders in {year} (total 0), and drop the limit.",
                       reply(r, v3, "sql", "With a LEFT JOIN the date condition must move into the ON clause: in WHERE it would discard the NULL rows again and turn the query back into an inner join. `COALESCE` turns the NULL sum of customers without orders into 0.")))
    return msgs


def chat_bash(r):
    ext = r.choice(["py", "js", "go"])
    skip = {"py": ".venv", "js": "node_modules", "go": "vendor"}[ext]
    msgs = turns(
        ("How do I count lines in all files of a directory from the terminal?",
         "```bash\nfind . -type f -print0 | xargs -0 cat | wc -l\n```"),
        (f"Only .{ext} files please, and skip the {skip} directory.",
         f"```bash\nfind . -path ./{skip} -prune -o -type f -name '*.{ext}' -print0 | xargs -0 cat | wc -l\n```\n\n"
         f"`-path ./{skip} -prune` stops `find` from descending into `{skip}`; the `-o` branch handles everything else."),
    )
    if r.random() < 0.5:
        msgs += turns(("Can I see the count per file too, biggest first?",
                       f"```bash\nfind . -path ./{skip} -prune -o -type f -name '*.{ext}' -print0 | xargs -0 wc -l | sort -rn | head -n 20\n```\n\n"
                       "`wc -l` prints one line per file plus a `total` line, which sorts to the top because it is the largest. "
                       "With very many files `xargs` may call `wc` more than once, giving several `total` lines."))
    return msgs


def chat_debounce(r):
    v1 = code(r'''
        function debounce(fn, wait) {
          let timer;
          return (...args) => {
            clearTimeout(timer);
            timer = setTimeout(() => fn(...args), wait);
          };
        }
    ''')
    v2 = code(r'''
        function debounce(fn, wait) {
          let timer = null;
          function debounced(...args) {
            clearTimeout(timer);
            timer = setTimeout(() => {
              timer = null;
              fn.apply(this, args);
            }, wait);
          }
          debounced.cancel = () => {
            clearTimeout(timer);
            timer = null;
          };
          debounced.pending = () => timer !== null;
          return debounced;
        }
    ''')
    return turns(
        ("Write a debounce function in JavaScript.", reply(r, v1, "javascript", "Each call resets the timer; `fn` runs once calls stop for `wait` ms.")),
        (r.choice(["Can you add a cancel() method? I need to cancel the pending call when the component unmounts.",
                   "How can I cancel a pending debounced call?"]),
         reply(r, v2, "javascript", "Functions are objects, so `cancel` and `pending` can be attached as properties. Using a regular `function` also keeps `this` when the debounced function is used as a method.")),
    )


def chat_flatten(r):
    v1 = code(r'''
        def flatten(items):
            return [x for sub in items for x in sub]
    ''')
    v2 = code(r'''
        def flatten(items):
            for item in items:
                if isinstance(item, (list, tuple)):
                    yield from flatten(item)
                else:
                    yield item
    ''')
    data = [1, [2, ["ab", 3]], (4, [5])]
    return turns(
        ("How do I flatten a list of lists in Python?", reply(r, v1, "python", "This flattens exactly one level.")),
        ("My lists are nested several levels deep and may contain strings. Can you make it a generator that handles any depth?",
         py_reply(r, v2, [f"list(flatten({data!r}))"], "Only lists and tuples are expanded, so strings stay whole (iterating a string would otherwise recurse forever on 1-character strings). `yield from` delegates to the recursive generator.", p_example=1.0)),
    )


def chat_bsearch(r):
    v1 = code(r'''
        def binary_search(items, target):
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
    ''')
    v2 = code(r'''
        def search_insert(items, target):
            """Index of target, or the index where it would be inserted to keep items sorted."""
            lo, hi = 0, len(items)
            while lo < hi:
                mid = (lo + hi) // 2
                if items[mid] < target:
                    lo = mid + 1
                else:
                    hi = mid
            return lo
    ''')
    data = sorted(r.sample(range(1, 40), 6))
    return turns(
        ("Implement binary search in Python.", reply(r, v1, "python", "Returns the index of `target`, or -1 if it's absent.")),
        ("Instead of -1, I need the position where the value should be inserted.",
         py_reply(r, v2, [f"search_insert({data!r}, {data[2]})", f"search_insert({data!r}, {data[2] + 1 if data[2] + 1 not in data else 0})", f"search_insert({data!r}, 100)"],
                  "The half-open range `[lo, hi)` converges on the first position whose value is >= target, which is exactly `bisect.bisect_left`.", p_example=1.0)),
    )


def chat_account(r):
    v1 = code(r'''
        class BankAccount:
            def __init__(self, owner, balance=0):
                self.owner = owner
                self.balance = balance

            def deposit(self, amount):
                self.balance += amount

            def withdraw(self, amount):
                if amount > self.balance:
                    raise ValueError("insufficient funds")
                self.balance -= amount
    ''')
    v2 = code(r'''
        from datetime import date


        class BankAccount:
            def __init__(self, owner, balance=0):
                self.owner = owner
                self.balance = balance
                self.history = []

            def _record(self, kind, amount, when):
                self.history.append((when or date.today(), kind, amount, self.balance))

            def deposit(self, amount, when=None):
                if amount <= 0:
                    raise ValueError("amount must be positive")
                self.balance += amount
                self._record("deposit", amount, when)

            def withdraw(self, amount, when=None):
                if amount <= 0:
                    raise ValueError("amount must be positive")
                if amount > self.balance:
                    raise ValueError("insufficient funds")
                self.balance -= amount
                self._record("withdraw", amount, when)

            def statement(self):
                lines = [f"Statement for {self.owner}"]
                for when, kind, amount, balance in self.history:
                    sign = "+" if kind == "deposit" else "-"
                    lines.append(f"{when.isoformat()}  {sign}{amount:>8.2f}  balance {balance:>8.2f}")
                return "\n".join(lines)
    ''')
    owner = r.choice(NAMES)
    calls = [f"acct = BankAccount({owner!r}, 100)", "acct.deposit(40, when=date(2025, 3, 1))",
             "acct.withdraw(25.5, when=date(2025, 3, 4))", "print(acct.statement())"]
    return turns(
        ("Write a simple BankAccount class in Python with deposit and withdraw.", reply(r, v1, "python", "Withdrawing more than the balance raises `ValueError`.")),
        ("Can you add a transaction history and a statement() method that prints it?",
         py_reply(r, v2, calls, "Each transaction is stored with its date and the balance after it; the optional `when` argument makes the class easy to test with fixed dates.", p_example=1.0)),
    )


def chat_word_freq(r):
    v1 = code(r'''
        from collections import Counter


        def top_words(text, n=5):
            return Counter(text.lower().split()).most_common(n)
    ''')
    v2 = code(r'''
        import re
        from collections import Counter

        STOPWORDS = {"a", "an", "and", "the", "of", "to", "in", "is", "it", "on", "for"}


        def top_words(text, n=5, stopwords=STOPWORDS):
            words = re.findall(r"[a-z']+", text.lower())
            return Counter(w for w in words if w not in stopwords).most_common(n)
    ''')
    text = "The cat and the dog. The dog chased the cat, and the cat ran to the tree."
    return turns(
        ("How do I find the most common words in a text with Python?", py_reply(r, v1, [f"top_words({text!r}, 3)"], "Note that punctuation sticks to the words with a plain `split()`.", p_example=1.0)),
        ("Can you ignore punctuation and common words like 'the' and 'and'?",
         py_reply(r, v2, [f"top_words({text!r}, 3)"], "A regex extracts the words without punctuation, and a stopword set filters the filler words; pass your own set to customize it.", p_example=1.0)),
    )


def chat_dedupe(r):
    v1 = code(r'''
        def dedupe(items):
            return list(dict.fromkeys(items))
    ''')
    v2 = code(r'''
        def dedupe(items, key=None):
            seen = set()
            result = []
            for item in items:
                marker = key(item) if key else item
                if marker not in seen:
                    seen.add(marker)
                    result.append(item)
            return result
    ''')
    users = [{"id": 1, "name": "Ann"}, {"id": 2, "name": "Bo"}, {"id": 1, "name": "Ann B."}]
    return turns(
        ("How do I remove duplicates from a list but keep the order?", reply(r, v1, "python", "`dict.fromkeys` keeps the first occurrence of each item.")),
        ("My items are dicts, and I get TypeError: unhashable type: 'dict'.",
         py_reply(r, v2, [f"dedupe({users!r}, key=lambda u: u['id'])"], "Dicts can't go into a set, but a hashable key derived from them can. The first item for each key wins.", p_example=1.0)),
    )


def chat_business_days(r):
    v1 = code(r'''
        from datetime import date


        def days_between(a, b):
            return (b - a).days
    ''')
    v2 = code(r'''
        from datetime import date, timedelta


        def business_days_between(start, end, holidays=()):
            """Weekdays in [start, end), skipping the given holiday dates."""
            if end < start:
                return -business_days_between(end, start, holidays)
            holidays = set(holidays)
            days = 0
            current = start
            while current < end:
                if current.weekday() < 5 and current not in holidays:
                    days += 1
                current += timedelta(days=1)
            return days
    ''')
    return turns(
        ("How do I get the number of days between two dates in Python?", reply(r, v1, "python", "Subtracting dates gives a `timedelta`; `.days` is the whole-day difference.")),
        ("I need business days only (Mon-Fri), and ideally I can pass a list of holidays.",
         py_reply(r, v2, ["business_days_between(date(2025, 3, 3), date(2025, 3, 17))",
                          "business_days_between(date(2025, 3, 3), date(2025, 3, 17), holidays=[date(2025, 3, 7)])"],
                  "`weekday()` is 0-4 for Monday-Friday. The loop is O(days), which is fine for ranges of a few years; `numpy.busday_count` is the vectorized alternative.", p_example=1.0)),
    )


def chat_deep_merge(r):
    v1 = "`merged = {**a, **b}` (or `a | b` on Python 3.9+). Values from `b` win."
    v2 = code(r'''
        def deep_merge(a, b):
            merged = dict(a)
            for key, value in b.items():
                if isinstance(merged.get(key), dict) and isinstance(value, dict):
                    merged[key] = deep_merge(merged[key], value)
                else:
                    merged[key] = value
            return merged
    ''')
    a = {"db": {"host": "localhost", "port": 5432}, "debug": False}
    b = {"db": {"port": r.choice([6543, 5433])}, "debug": True}
    return turns(
        ("How do I merge two dicts in Python?", v1),
        ("But my config dicts are nested and the inner dict gets replaced instead of merged.",
         py_reply(r, v2, [f"deep_merge({a!r}, {b!r})"], "Nested dicts are merged recursively; any other value from `b` overrides. Neither input is modified.", p_example=1.0)),
    )


def chat_clarify(r):
    """A clarifying exchange in the middle, then the final answer."""
    n = r.choice([3, 5])
    final = code(r'''
        def top_n(scores, n={{n}}):
            """Return the n highest (name, score) pairs; ties keep their input order."""
            return sorted(scores.items(), key=lambda kv: kv[1], reverse=True)[:n]
    ''', n=n)
    scores = {nm: r.randint(60, 100) for nm in r.sample(NAMES, 6)}
    return turns(
        ("I need a function that gets the top students.",
         "Sure. How are the students stored (a dict of name to score, a list of objects?) and how many do you want back?"),
        (f"A dict like {{'Ana': 91, 'Bo': 78}}, and I want the top {n} as (name, score) pairs.",
         py_reply(r, final, [f"top_n({scores!r})"], "`sorted` is stable, so students with equal scores stay in their original order.", p_example=1.0)),
    )


CHAT_SCENARIOS = [chat_reverse_words, chat_primes, chat_fib, chat_csv, chat_sql, chat_bash, chat_debounce,
                  chat_flatten, chat_bsearch, chat_account, chat_word_freq, chat_dedupe, chat_business_days,
                  chat_deep_merge, chat_clarify]


def make_chat(r: random.Random, n: int = N_CHAT) -> list[dict]:
    rows = []
    n_multi = (2 * n) // 3
    order = list(CHAT_SCENARIOS)
    r.shuffle(order)
    for i in range(n_multi):
        messages = order[i % len(order)](r)
        if r.random() < 0.5:
            messages = [{"role": "system", "content": r.choice(SYSTEM_PROMPTS)}] + messages
        rows.append(messages)
    for i in range(n - n_multi):
        _, q, a = sample_clean(r)
        messages = turns((q, a))
        if i % 2 == 0:
            messages = [{"role": "system", "content": r.choice(SYSTEM_PROMPTS)}] + messages
        rows.append(messages)
    r.shuffle(rows)
    return [{"id": f"c{i + 1:03d}", "messages": m} for i, m in enumerate(rows)]
