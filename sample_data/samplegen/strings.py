"""Clean templates: Python string tasks (reversing, palindromes, counting, ciphers...)."""

from __future__ import annotations

from .registry import family_registry
from .text import ask, code, py_reply
from .vocab import SENTENCES

TEMPLATES, template = family_registry()


@template("strings")
def t_reverse_words(r):
    name = r.choice(["reverse_words", "flip_words", "reverse_sentence"])
    src = code(r'''
        def {{name}}(sentence):
            return " ".join(reversed(sentence.split()))
    ''', name=name)
    calls = [f"{name}({s!r})" for s in r.sample(SENTENCES, 2)]
    q = ask(r, "reverse the order of the words in a sentence", name)
    a = py_reply(r, src, calls,
                 "`split()` with no argument splits on any run of whitespace, `reversed` flips "
                 "the word order and `join` puts the words back together with single spaces.",
                 "It runs in O(n) time for a sentence of n characters.")
    return q, a


@template("strings")
def t_palindrome(r):
    loose = r.random() < 0.6
    name = r.choice(["is_palindrome", "palindrome", "check_palindrome"])
    if loose:
        src = code(r'''
            def {{name}}(text):
                cleaned = [ch.lower() for ch in text if ch.isalnum()]
                return cleaned == cleaned[::-1]
        ''', name=name)
        pool = ["A man, a plan, a canal: Panama", "Was it a car or a cat I saw?", "hello",
                "No lemon, no melon", "Python", "Step on no pets"]
        extras = [r.choice(["It should ignore case, spaces and punctuation.",
                            "Ignore capitalization and anything that isn't a letter or digit."])]
        explain = ("It keeps only letters and digits, lowercases them, and compares the list "
                   "with its reverse.")
    else:
        src = code(r'''
            def {{name}}(s):
                return s == s[::-1]
        ''', name=name)
        pool = ["racecar", "level", "python", "noon", "abca", "Anna"]
        extras = ["Case matters, so 'Anna' is not a palindrome."] if r.random() < 0.5 else []
        explain = "`s[::-1]` is the reversed string, so the comparison is the whole check."
    calls = [f"{name}({s!r})" for s in r.sample(pool, 3)]
    q = ask(r, "check whether a string is a palindrome", name, extras=extras)
    return q, py_reply(r, src, calls, explain)


@template("strings")
def t_count_vowels(r):
    with_y = r.random() < 0.3
    name = r.choice(["count_vowels", "vowel_count", "num_vowels"])
    vowels = "aeiouy" if with_y else "aeiou"
    src = code(r'''
        def {{name}}(text):
            vowels = "{{vowels}}"
            return sum(1 for ch in text.lower() if ch in vowels)
    ''', name=name, vowels=vowels)
    extras = ["Treat 'y' as a vowel too."] if with_y else []
    if r.random() < 0.5:
        extras.append("Upper-case vowels count as well.")
    calls = [f"{name}({s!r})" for s in r.sample(SENTENCES + ["Rhythm and Blues", "AEIOU"], 2)]
    q = ask(r, "count the vowels in a string", name, extras=extras)
    return q, py_reply(r, src, calls, "Lowercasing first means 'A' and 'a' are both counted.")


@template("strings")
def t_char_frequency(r):
    if r.random() < 0.5:
        name = r.choice(["char_frequency", "letter_counts", "count_chars"])
        src = code(r'''
            from collections import Counter


            def {{name}}(text, ignore_spaces=True):
                if ignore_spaces:
                    text = text.replace(" ", "")
                return dict(Counter(text))
        ''', name=name)
        calls = [f"{name}({r.choice(['hello world', 'banana split', 'mississippi'])!r})"]
        q = ask(r, "count how many times each character appears in a string", name,
                extras=["Spaces shouldn't be counted."] if r.random() < 0.5 else [])
        expl = ("`Counter` does the counting; converting to a plain `dict` keeps the first-seen "
                "order of the characters.")
    else:
        name = r.choice(["most_common_letters", "top_letters"])
        k = r.randint(2, 4)
        src = code(r'''
            from collections import Counter


            def {{name}}(text, k={{k}}):
                counts = Counter(ch for ch in text.lower() if ch.isalpha())
                return counts.most_common(k)
        ''', name=name, k=k)
        calls = [f"{name}({r.choice(SENTENCES)!r})"]
        q = ask(r, f"find the {k} most common letters in a piece of text", name,
                extras=["Return (letter, count) pairs."])
        expl = "Ties keep the order in which the letters first appeared."
    return q, py_reply(r, src, calls, expl)


@template("strings")
def t_case_convert(r):
    if r.random() < 0.5:
        name = "camel_to_snake"
        src = code(r'''
            import re


            def camel_to_snake(name):
                s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
                return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s).lower()
        ''')
        pool = ["getUserName", "HTTPResponseCode", "parseJSONData", "userId", "MyClassName"]
        q = ask(r, "convert a camelCase identifier to snake_case", name,
                extras=["Acronyms like HTTP should stay together."] if r.random() < 0.5 else [])
        expl = ("The first substitution splits before a capital that starts a lowercase word; "
                "the second splits a lowercase letter or digit from a following capital, which "
                "keeps acronyms together.")
    else:
        name = "snake_to_camel"
        src = code(r'''
            def snake_to_camel(name, upper_first=False):
                parts = name.split("_")
                first = parts[0].capitalize() if upper_first else parts[0].lower()
                return first + "".join(p.capitalize() for p in parts[1:])
        ''')
        pool = ["user_name", "max_retry_count", "http_status", "total", "parse_json_data"]
        q = ask(r, "convert a snake_case name to camelCase", name,
                extras=["Optionally produce PascalCase."] if r.random() < 0.5 else [])
        expl = "Pass `upper_first=True` to get PascalCase instead of camelCase."
    calls = [f"{name}({s!r})" for s in r.sample(pool, 3)]
    return q, py_reply(r, src, calls, expl)


@template("strings")
def t_anagram(r):
    name = r.choice(["is_anagram", "are_anagrams"])
    src = code(r'''
        from collections import Counter


        def {{name}}(a, b):
            def normalize(s):
                return Counter(s.replace(" ", "").lower())

            return normalize(a) == normalize(b)
    ''', name=name)
    pairs = [("listen", "silent"), ("Dormitory", "dirty room"), ("hello", "world"),
             ("The eyes", "They see"), ("apple", "paple"), ("rat", "car")]
    calls = [f"{name}({a!r}, {b!r})" for a, b in r.sample(pairs, 3)]
    q = ask(r, "check whether two strings are anagrams of each other", name,
            extras=["Ignore spaces and case."] if r.random() < 0.6 else [])
    return q, py_reply(r, src, calls, "Two strings are anagrams when their letter counts match.",
                       "This is O(n) instead of the O(n log n) of comparing sorted strings.")


@template("strings")
def t_rle(r):
    if r.random() < 0.6:
        name = "rle_encode"
        if r.random() < 0.5:
            src = code(r'''
                from itertools import groupby


                def rle_encode(text):
                    return "".join(f"{ch}{len(list(group))}" for ch, group in groupby(text))
            ''')
            expl = "`groupby` yields each run of identical characters, so we emit the character and the run length."
        else:
            src = code(r'''
                def rle_encode(text):
                    if not text:
                        return ""
                    out = []
                    prev, count = text[0], 1
                    for ch in text[1:]:
                        if ch == prev:
                            count += 1
                        else:
                            out.append(f"{prev}{count}")
                            prev, count = ch, 1
                    out.append(f"{prev}{count}")
                    return "".join(out)
            ''')
            expl = "We walk the string once, counting the current run and flushing it when the character changes."
        calls = [f"rle_encode({s!r})" for s in r.sample(["aaabccdddd", "wwwwaaadexxxxxx", "abc", "zzzzzzzzzzzz"], 2)]
        q = ask(r, "compress a string with run-length encoding, so 'aaabb' becomes 'a3b2'", name)
    else:
        name = "rle_decode"
        src = code(r'''
            import re


            def rle_decode(encoded):
                return "".join(ch * int(n) for ch, n in re.findall(r"(\D)(\d+)", encoded))
        ''')
        calls = [f"rle_decode({s!r})" for s in r.sample(["a3b2", "x1y10z2", "w4a3d1e1x6"], 2)]
        q = ask(r, "decode a run-length encoded string like 'a3b2' back to 'aaabb'", name)
        expl = "The regex pairs each non-digit character with the number that follows it, so multi-digit counts work too."
    return q, py_reply(r, src, calls, expl)


@template("strings")
def t_common_prefix(r):
    name = r.choice(["longest_common_prefix", "common_prefix"])
    src = code(r'''
        def {{name}}(words):
            if not words:
                return ""
            prefix = words[0]
            for word in words[1:]:
                while not word.startswith(prefix):
                    prefix = prefix[:-1]
                if not prefix:
                    break
            return prefix
    ''', name=name)
    groups = [["flower", "flow", "flight"], ["interview", "internet", "interval"],
              ["dog", "racecar", "car"], ["prefix", "prefixes", "prefixed"]]
    calls = [f"{name}({g!r})" for g in r.sample(groups, 2)]
    q = ask(r, "find the longest common prefix of a list of strings", name)
    return q, py_reply(r, src, calls,
                       "The prefix starts as the first word and shrinks until every word starts with it.",
                       "The standard library also has `os.path.commonprefix`, which works character by character on any list of strings.")


@template("strings")
def t_dedupe_chars(r):
    name = r.choice(["remove_duplicate_chars", "unique_chars", "dedupe"])
    src = code(r'''
        def {{name}}(text):
            return "".join(dict.fromkeys(text))
    ''', name=name)
    calls = [f"{name}({s!r})" for s in r.sample(["programming", "mississippi", "hello world", "aabbcc"], 2)]
    q = ask(r, "remove repeated characters from a string but keep the first occurrence of each", name)
    return q, py_reply(r, src, calls,
                       "Dictionaries keep insertion order, so `dict.fromkeys` drops duplicates while preserving the order of first appearance.",
                       p_note=0)


@template("strings")
def t_caesar(r):
    shift = r.randint(1, 25)
    name = r.choice(["caesar", "caesar_cipher", "shift_letters"])
    src = code(r'''
        def {{name}}(text, shift):
            result = []
            for ch in text:
                if ch.isascii() and ch.isalpha():
                    base = ord("A") if ch.isupper() else ord("a")
                    result.append(chr((ord(ch) - base + shift) % 26 + base))
                else:
                    result.append(ch)
            return "".join(result)
    ''', name=name)
    msg = r.choice(["Hello, World!", "Attack at dawn", "Meet me at the bridge", "Python 3"])
    calls = [f"{name}({msg!r}, {shift})", f"{name}({name}({msg!r}, {shift}), -{shift})"]
    q = ask(r, f"encrypt text with a Caesar cipher (shift of {shift})", name,
            extras=["Keep case and leave punctuation alone."] if r.random() < 0.5 else [])
    return q, py_reply(r, src, calls,
                       "Letters wrap around with `% 26`; anything that isn't an ASCII letter passes through. Decrypt with a negative shift.")


@template("strings")
def t_truncate(r):
    n = r.choice([20, 25, 30])
    name = r.choice(["truncate", "shorten", "ellipsize"])
    src = code(r'''
        def {{name}}(text, max_len, suffix="..."):
            if len(text) <= max_len:
                return text
            cut = text[: max_len - len(suffix)]
            if " " in cut:
                cut = cut[: cut.rfind(" ")]
            return cut.rstrip() + suffix
    ''', name=name)
    calls = [f"{name}({s!r}, {n})" for s in r.sample(SENTENCES, 2)]
    q = ask(r, f"shorten text to at most {n} characters without cutting a word in half, adding '...' at the end", name)
    return q, py_reply(r, src, calls, "It cuts at the last space that fits, so the result (suffix included) never exceeds `max_len`.")


@template("strings")
def t_top_words(r):
    n = r.randint(2, 5)
    name = r.choice(["top_words", "most_common_words", "word_frequencies"])
    src = code(r'''
        import re
        from collections import Counter


        def {{name}}(text, n={{n}}):
            words = re.findall(r"[a-z']+", text.lower())
            return Counter(words).most_common(n)
    ''', name=name, n=n)
    text = " ".join(r.choice(["the cat and the hat.", "The dog saw the cat!", "a cat, a dog, a bird."])
                    for _ in range(3))
    calls = [f"{name}({text!r})"]
    q = ask(r, f"find the {n} most frequent words in a text", name,
            extras=["Ignore case and punctuation."] if r.random() < 0.7 else [])
    return q, py_reply(r, src, calls, "The regex pulls out the words, lowercased, and `Counter.most_common` ranks them.")


@template("strings")
def t_balanced(r):
    name = r.choice(["is_balanced", "balanced_brackets", "check_brackets"])
    src = code(r'''
        def {{name}}(s):
            pairs = {")": "(", "]": "[", "}": "{"}
            stack = []
            for ch in s:
                if ch in "([{":
                    stack.append(ch)
                elif ch in pairs:
                    if not stack or stack.pop() != pairs[ch]:
                        return False
            return not stack
    ''', name=name)
    pool = ["([]{})", "([)]", "((())", "{[()()]}", "f(x[0]) + {a: 1}", ")("]
    calls = [f"{name}({s!r})" for s in r.sample(pool, 3)]
    q = ask(r, "check whether the brackets in a string are balanced", name,
            extras=["Handle (), [] and {}."] if r.random() < 0.6 else [])
    return q, py_reply(r, src, calls,
                       "Every opening bracket goes on a stack; a closing bracket must match the top of the stack, and the stack must be empty at the end.",
                       "Time O(n), extra space O(n) in the worst case.")


@template("strings")
def t_slugify(r):
    src = code(r'''
        import re
        import unicodedata


        def slugify(text):
            text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
            text = re.sub(r"[^\w\s-]", "", text.lower())
            return re.sub(r"[-\s_]+", "-", text).strip("-")
    ''')
    pool = ["Hello, World!", "  Python 3.12: What's New?  ", "Café au lait", "10 Tips & Tricks for Git"]
    calls = [f"slugify({s!r})" for s in r.sample(pool, 3)]
    q = ask(r, "turn a blog post title into a URL slug", "slugify",
            extras=["Accented letters should become plain ASCII."] if r.random() < 0.5 else [])
    return q, py_reply(r, src, calls,
                       "NFKD normalization splits accented letters into base letter plus accent, and the ASCII encode drops the accents.")


@template("strings")
def t_first_unique(r):
    name = r.choice(["first_unique_char", "first_non_repeating"])
    src = code(r'''
        from collections import Counter


        def {{name}}(s):
            counts = Counter(s)
            for ch in s:
                if counts[ch] == 1:
                    return ch
            return None
    ''', name=name)
    calls = [f"{name}({s!r})" for s in r.sample(["swiss", "leetcode", "aabbcdd", "stress"], 2)]
    q = ask(r, "find the first character in a string that doesn't repeat", name,
            extras=["Return None if there isn't one."])
    return q, py_reply(r, src, calls, "Two passes: count everything, then return the first character whose count is 1.",
                       "O(n) time.")


STRING_SNIPPETS = [
    (["How do I reverse a string in Python?", "What's the shortest way to reverse a string in Python?"],
     ["Use slicing with a step of -1:\n\n```python\nreversed_text = text[::-1]\n```",
      "`text[::-1]`"]),
    (["How can I check if a string contains only digits in Python?", "python: test whether a string is all digits"],
     ["`text.isdigit()` returns `True` when the string is non-empty and every character is a digit.",
      "```python\nif value.isdigit():\n    number = int(value)\n```"]),
    (["How do I remove leading and trailing whitespace from a string in Python?"],
     ["`text.strip()`. Use `lstrip()` or `rstrip()` for one side only."]),
    (["How do I split a comma-separated string into a list and trim each item?",
      "Python: turn 'a, b ,c' into ['a', 'b', 'c']"],
     ["```python\nitems = [part.strip() for part in text.split(\",\")]\n```"]),
    (["How do I join a list of strings with commas in Python?"],
     ["`\", \".join(items)`. Every item must already be a string; use `\", \".join(map(str, items))` otherwise."]),
    (["How do I check whether a string contains a substring in Python?"],
     ["Use the `in` operator:\n\n```python\nif \"error\" in line:\n    print(line)\n```"]),
    (["How do I zero-pad a number to 5 digits in Python?", "Format 42 as '00042' in Python."],
     ["`f\"{n:05d}\"` or `str(n).zfill(5)`."]),
    (["How do I format a float with two decimal places in Python?"],
     ["Use an f-string format spec:\n\n```python\nprice = 3.14159\nprint(f\"{price:.2f}\")  # 3.14\n```"]),
    (["How do I check if a string starts with one of several prefixes?"],
     ["`str.startswith` accepts a tuple:\n\n```python\nurl.startswith((\"http://\", \"https://\"))\n```"]),
    (["How do I count how many times a substring occurs in a string in Python?"],
     ["`text.count(\"ab\")` counts non-overlapping occurrences."]),
    (["How do I convert a string to an int in Python and fall back to a default if it fails?"],
     ["```python\ndef to_int(value, default=0):\n    try:\n        return int(value)\n    except (TypeError, ValueError):\n        return default\n```"]),
    (["How do I get the file extension from a path in Python?"],
     ["```python\nfrom pathlib import Path\n\nPath(\"report.final.pdf\").suffix  # '.pdf'\n```",
      "`os.path.splitext(path)[1]` returns the extension including the dot, e.g. `'.csv'`."]),
    (["How do I make the first letter of every word uppercase in Python?"],
     ["`text.title()` works for simple text; for words with apostrophes use `string.capwords(text)`."]),
]


@template("strings", weight=3)
def t_string_snippet(r):
    qs, answers = r.choice(STRING_SNIPPETS)
    return r.choice(qs), r.choice(answers)
