"""Clean templates: parsing CSV, dates, logs, JSON and ad-hoc text formats."""

from __future__ import annotations

from .registry import family_registry
from .text import ask, code, py_reply, reply
from .vocab import WORDS, pick_words

TEMPLATES, template = family_registry()


CSV_SCHEMAS = [
    ("sales.csv", "region", "amount", ["North", "South", "East", "West"]),
    ("expenses.csv", "category", "cost", ["travel", "food", "office", "software"]),
    ("orders.csv", "customer", "total", ["acme", "globex", "initech", "umbrella"]),
    ("inventory.csv", "warehouse", "quantity", ["A1", "B2", "C3"]),
]


@template("parsing")
def t_csv_group_sum(r):
    fname, group, value, keys = r.choice(CSV_SCHEMAS)
    name = f"total_by_{group}"
    src = code(r'''
        import csv
        from collections import defaultdict


        def {{name}}(path):
            totals = defaultdict(float)
            with open(path, newline="", encoding="utf-8") as f:
                for row in csv.DictReader(f):
                    totals[row["{{group}}"]] += float(row["{{value}}"])
            return dict(totals)
    ''', name=name, group=group, value=value)
    rows = [(r.choice(keys), r.randint(1, 400) / 4) for _ in range(r.randint(4, 6))]
    totals: dict = {}
    for k, v in rows:
        totals[k] = totals.get(k, 0.0) + v
    csv_text = f"id,{group},{value}\n" + "\n".join(f"{i + 1},{k},{v:.2f}" for i, (k, v) in enumerate(rows))
    q = r.choice([
        f"I have a CSV file `{fname}` with columns id, {group} and {value}. How do I sum {value} per {group} in Python?",
        f"Write a Python function that reads {fname} and returns the total {value} for each {group}.",
        f"I need a script to total up the '{value}' column of a CSV grouped by '{group}'. Standard library only please.",
    ])
    a = reply(r, src, "python",
              "`csv.DictReader` maps each row to a dict keyed by the header, and `defaultdict(float)` starts every group at 0.",
              p_note=0)
    a += f"\n\nWith this file:\n\n```\n{csv_text}\n```\n\n`{name}(\"{fname}\")` returns `{totals!r}`."
    return q, a


@template("parsing")
def t_csv_to_json(r):
    indent = r.choice([2, 4])
    src = code(r'''
        #!/usr/bin/env python3
        """Convert a CSV file to JSON: a list of objects keyed by the header row."""

        import argparse
        import csv
        import json
        import sys


        def convert(csv_path, json_path=None, delimiter=","):
            with open(csv_path, newline="", encoding="utf-8") as f:
                rows = list(csv.DictReader(f, delimiter=delimiter))
            text = json.dumps(rows, indent={{indent}}, ensure_ascii=False)
            if json_path:
                with open(json_path, "w", encoding="utf-8") as out:
                    out.write(text + "\n")
            else:
                sys.stdout.write(text + "\n")
            return len(rows)


        def main(argv=None):
            parser = argparse.ArgumentParser(description=__doc__)
            parser.add_argument("csv_path", help="input CSV file")
            parser.add_argument("-o", "--output", help="output JSON file (default: stdout)")
            parser.add_argument("-d", "--delimiter", default=",", help="field delimiter")
            args = parser.parse_args(argv)
            try:
                count = convert(args.csv_path, args.output, args.delimiter)
            except FileNotFoundError as exc:
                parser.error(str(exc))
            print(f"converted {count} rows", file=sys.stderr)
            return 0


        if __name__ == "__main__":
            raise SystemExit(main())
    ''', indent=indent)
    q = r.choice([
        "I need a script to convert a CSV file to JSON from the command line.",
        "Write a Python command-line tool that turns a CSV into a JSON array of objects, with an option for the output file and the delimiter.",
        "How do I convert CSV to JSON in Python? I'd like a reusable script with argparse.",
    ])
    usage = "$ python csv2json.py people.csv -o people.json\nconverted 120 rows\n$ python csv2json.py data.tsv -d $'\\t' | head"
    return q, reply(r, src, "python",
                    "Every value stays a string because CSV has no types; convert columns afterwards if you need numbers.",
                    usage, "Errors such as a missing input file are reported through argparse, which exits with status 2.",
                    example_lang="bash")


@template("parsing")
def t_days_between(r):
    name = r.choice(["days_between", "day_difference"])
    src = code(r'''
        from datetime import date


        def {{name}}(start, end):
            return abs((date.fromisoformat(end) - date.fromisoformat(start)).days)
    ''', name=name)
    def rand_date():
        return f"{r.randint(2019, 2026)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}"
    calls = [f"{name}({rand_date()!r}, {rand_date()!r})" for _ in range(2)]
    q = ask(r, "compute the number of days between two dates given as 'YYYY-MM-DD' strings", name)
    return q, py_reply(r, src, calls, "Subtracting two `date` objects gives a `timedelta`; `abs` makes the order irrelevant.")


@template("parsing")
def t_weekday(r):
    fmt, example_fmt = r.choice([("%d/%m/%Y", "DD/MM/YYYY"), ("%m/%d/%Y", "MM/DD/YYYY"), ("%d.%m.%Y", "DD.MM.YYYY")])
    name = r.choice(["weekday_name", "day_of_week"])
    src = code(r'''
        from datetime import datetime


        def {{name}}(text):
            return datetime.strptime(text, "{{fmt}}").strftime("%A")
    ''', name=name, fmt=fmt)
    calls = []
    for _ in range(2):
        d, m, y = r.randint(1, 28), r.randint(1, 12), r.randint(1990, 2030)
        s = fmt.replace("%d", f"{d:02d}").replace("%m", f"{m:02d}").replace("%Y", str(y))
        calls.append(f"{name}({s!r})")
    q = ask(r, f"get the day of the week for a date string in {example_fmt} format", name)
    return q, py_reply(r, src, calls, "`strptime` parses with an explicit format, and `%A` formats the full weekday name.",
                       "`%A` follows the current locale; in the default C locale it's English.")


@template("parsing")
def t_age(r):
    name = r.choice(["age", "age_on", "years_old"])
    src = code(r'''
        from datetime import date


        def {{name}}(birth, today=None):
            today = today or date.today()
            had_birthday = (today.month, today.day) >= (birth.month, birth.day)
            return today.year - birth.year - (not had_birthday)
    ''', name=name)
    y = r.randint(1960, 2010)
    calls = ["from datetime import date",
             f"{name}(date({y}, {r.randint(1, 12)}, {r.randint(1, 28)}), today=date(2025, 6, 15))"]
    q = ask(r, "calculate someone's age in years from their date of birth", name)
    return q, py_reply(r, src, calls, "Comparing (month, day) tuples tells whether this year's birthday has happened; `True`/`False` subtract as 1/0.",
                       "Taking `today` as a parameter makes the function easy to test.")


def _access_log_lines(r, n):
    ips = [f"10.0.{r.randint(0, 3)}.{r.randint(1, 30)}" for _ in range(3)]
    paths = ["/", "/index.html", "/api/users", "/login", "/static/app.js", "/favicon.ico"]
    lines = []
    for i in range(n):
        status = r.choice([200, 200, 200, 304, 404, 500])
        size = "-" if status == 304 else str(r.randint(100, 9000))
        lines.append(f'{r.choice(ips)} - - [12/Mar/2025:10:{i:02d}:{r.randint(0, 59):02d} +0000] '
                     f'"{r.choice(["GET", "GET", "POST"])} {r.choice(paths)} HTTP/1.1" {status} {size}')
    return lines


@template("parsing")
def t_access_log(r):
    by_ip = r.random() < 0.5
    field = "ip" if by_ip else "status"
    name = "requests_per_ip" if by_ip else "status_counts"
    src = code(r'''
        import re
        from collections import Counter

        LOG_LINE = re.compile(
            r'(?P<ip>\S+) \S+ \S+ \[(?P<time>[^\]]+)\] '
            r'"(?P<method>\S+) (?P<path>\S+) [^"]*" (?P<status>\d{3}) (?P<size>\d+|-)'
        )


        def {{name}}(lines):
            counts = Counter()
            for line in lines:
                match = LOG_LINE.match(line)
                if match:
                    counts[match.group("{{field}}")] += 1
            return counts.most_common()
    ''', name=name, field=field)
    lines = _access_log_lines(r, r.randint(4, 6))
    calls = [f"lines = {lines!r}", f"{name}(lines)"]
    q = r.choice([
        f"How do I count {'requests per IP address' if by_ip else 'HTTP status codes'} in an nginx/Apache access log with Python?",
        f"Write a Python function that parses access-log lines in the common log format and returns the {'top client IPs' if by_ip else 'number of responses per status code'}.",
        f"I need a script to analyze our web server log: {'which IPs hit us most' if by_ip else 'how many 404s and 500s we served'}.",
    ])
    a = py_reply(r, src, calls, "Lines that don't match the pattern (truncated or garbage lines) are skipped instead of crashing the run.",
                 "To read a file: `with open('access.log') as f: print(" + name + "(f))`; the function accepts any iterable of lines.")
    return q, a


@template("parsing")
def t_log_levels(r):
    name = r.choice(["count_levels", "level_summary"])
    src = code(r'''
        from collections import Counter


        def {{name}}(lines):
            counts = Counter()
            for line in lines:
                parts = line.split(maxsplit=3)
                if len(parts) >= 3:
                    counts[parts[2]] += 1
            return dict(counts)
    ''', name=name)
    msgs = ["cache miss", "user login", "disk almost full", "timeout talking to db", "job finished"]
    lines = [f"2025-02-{r.randint(1, 28):02d} 0{r.randint(0, 9)}:{r.randint(10, 59)}:{r.randint(10, 59)} "
             f"{r.choice(['INFO', 'INFO', 'WARNING', 'ERROR', 'DEBUG'])} {r.choice(msgs)}" for _ in range(5)]
    calls = [f"{name}({lines!r})"]
    q = ask(r, "count log lines per level in a log where each line looks like '2025-02-01 10:00:01 ERROR message'", name)
    return q, py_reply(r, src, calls, "`split(maxsplit=3)` separates date, time and level and leaves the message intact.")


@template("parsing")
def t_json_config(r):
    keys = r.choice([("host", "port", "debug"), ("database_url", "secret_key"), ("api_key", "endpoint", "timeout")])
    src = code(r'''
        import json

        REQUIRED_KEYS = {{keys}}


        def load_config(path):
            with open(path, encoding="utf-8") as f:
                config = json.load(f)
            if not isinstance(config, dict):
                raise ValueError("config must be a JSON object")
            missing = [key for key in REQUIRED_KEYS if key not in config]
            if missing:
                raise KeyError(f"missing config keys: {', '.join(missing)}")
            return config
    ''', keys=repr(keys))
    q = r.choice([
        f"How do I load a JSON config file in Python and make sure it has the keys {', '.join(keys)}?",
        f"Write a Python function that reads config.json and raises an error listing any missing required keys ({', '.join(keys)}).",
    ])
    return q, reply(r, src, "python", "A malformed file raises `json.JSONDecodeError` from `json.load`; missing keys are all reported at once.",
                    note="For anything bigger, a schema library such as `jsonschema` or `pydantic` gives better messages.")


@template("parsing")
def t_json_snippets(r):
    items = [
        ("How do I pretty-print JSON in Python?",
         "```python\nimport json\n\nprint(json.dumps(data, indent=2, sort_keys=True))\n```\n\nFrom the shell, `python -m json.tool file.json` does the same."),
        ("How do I read a JSON Lines file in Python?",
         "Each line is its own JSON document:\n\n```python\nimport json\n\nwith open(\"data.jsonl\", encoding=\"utf-8\") as f:\n    records = [json.loads(line) for line in f if line.strip()]\n```"),
        ("How do I write a Python dict to a JSON file?",
         "```python\nimport json\n\nwith open(\"out.json\", \"w\", encoding=\"utf-8\") as f:\n    json.dump(data, f, indent=2, ensure_ascii=False)\n```"),
        ("json.dumps fails with 'Object of type datetime is not JSON serializable'. How do I fix it?",
         "Pass a `default` function that converts unknown objects:\n\n```python\nimport json\nfrom datetime import date, datetime\n\n\ndef encode(obj):\n    if isinstance(obj, (date, datetime)):\n        return obj.isoformat()\n    raise TypeError(f\"cannot serialize {type(obj).__name__}\")\n\n\njson.dumps(payload, default=encode)\n```"),
    ]
    return r.choice(items)


@template("parsing")
def t_parse_pairs(r):
    sep, kv = r.choice([(";", "="), ("&", "="), (",", ":")])
    name = r.choice(["parse_pairs", "parse_settings", "parse_kv"])
    src = code(r'''
        def {{name}}(text, pair_sep="{{sep}}", kv_sep="{{kv}}"):
            result = {}
            for chunk in text.split(pair_sep):
                chunk = chunk.strip()
                if not chunk:
                    continue
                key, _, value = chunk.partition(kv_sep)
                result[key.strip()] = value.strip()
            return result
    ''', name=name, sep=sep, kv=kv)
    ws = pick_words(r, 3)
    text = f" {sep} ".join(f"{w}{kv}{r.randint(1, 99)}" for w in ws) + f"{sep}flag{kv}"
    q = ask(r, f"parse a string like '{ws[0]}{kv}1{sep}{ws[1]}{kv}2' into a dictionary", name)
    return q, py_reply(r, src, [f"{name}({text!r})"], "`partition` never fails: a chunk without the separator becomes a key with an empty value.")


@template("parsing")
def t_parse_duration(r):
    name = r.choice(["parse_duration", "duration_to_seconds"])
    src = code(r'''
        import re

        UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


        def {{name}}(text):
            parts = re.findall(r"(\d+)\s*([dhms])", text.lower())
            if not parts:
                raise ValueError(f"invalid duration: {text!r}")
            return sum(int(value) * UNITS[unit] for value, unit in parts)
    ''', name=name)
    calls = [f"{name}({s!r})" for s in r.sample(["1h30m", "2d 4h", "45s", "1h 2m 3s", "90m"], 3)]
    q = ask(r, "convert duration strings like '1h30m' or '2d 4h' to seconds", name)
    return q, py_reply(r, src, calls, "Each number-unit pair is found by the regex and scaled by the unit's length in seconds.")


@template("parsing")
def t_env_file(r):
    src = code(r'''
        def load_env(path):
            env = {}
            with open(path, encoding="utf-8") as f:
                for raw in f:
                    line = raw.strip()
                    if not line or line.startswith("#"):
                        continue
                    if line.startswith("export "):
                        line = line[len("export "):]
                    key, sep, value = line.partition("=")
                    if not sep:
                        continue
                    value = value.strip()
                    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                        value = value[1:-1]
                    env[key.strip()] = value
            return env
    ''')
    q = r.choice([
        "How do I parse a .env file in Python without installing python-dotenv?",
        "Write a function that reads KEY=VALUE lines from a .env file, skipping comments and blank lines and removing quotes.",
    ])
    return q, reply(r, src, "python", "Comments, blank lines and lines without `=` are skipped, an optional `export ` prefix is accepted, and matching quotes around the value are removed.",
                    note="Call `os.environ.update(load_env('.env'))` to make the values visible to the rest of the program.")


@template("parsing")
def t_query_string(r):
    src = code(r'''
        from urllib.parse import parse_qs, urlparse


        def query_params(url):
            query = urlparse(url).query
            return {key: values[0] if len(values) == 1 else values
                    for key, values in parse_qs(query).items()}
    ''')
    url = f"https://example.com/search?q={r.choice(WORDS)}&page={r.randint(1, 9)}&tag=a&tag=b"
    q = ask(r, "extract the query parameters from a URL as a dictionary", "query_params")
    return q, py_reply(r, src, [f"query_params({url!r})"], "`parse_qs` always returns lists because a key can repeat; single values are unwrapped here.")
