"""Clean templates: JavaScript."""

from __future__ import annotations

import json

from .registry import family_registry
from .text import ask, code, reply
from .vocab import CITIES, NAMES, SENTENCES

TEMPLATES, template = family_registry()


def js_ask(r, do, name=None, extras=()):
    return ask(r, do, name, lang=r.choice(["JavaScript", "JavaScript", "JS", "Node.js"]), extras=extras)


@template("javascript")
def t_js_debounce(r):
    ms = r.choice([200, 300, 500])
    src = code(r'''
        function debounce(fn, wait = {{ms}}) {
          let timer = null;
          return function debounced(...args) {
            clearTimeout(timer);
            timer = setTimeout(() => {
              timer = null;
              fn.apply(this, args);
            }, wait);
          };
        }

        // usage: only search once the user stops typing
        const input = document.querySelector("#search");
        input.addEventListener("input", debounce((event) => {
          console.log("searching for", event.target.value);
        }, {{ms}}));
    ''', ms=ms)
    q = js_ask(r, f"debounce a function so it only runs after {ms} ms without new calls", "debounce")
    return q, reply(r, src, "javascript", "Every call cancels the pending timer and starts a new one, so `fn` runs once the calls stop for `wait` ms. `apply(this, args)` forwards the original `this` and arguments.")


@template("javascript")
def t_js_throttle(r):
    ms = r.choice([100, 250, 1000])
    src = code(r'''
        function throttle(fn, interval = {{ms}}) {
          let last = 0;
          return function throttled(...args) {
            const now = Date.now();
            if (now - last >= interval) {
              last = now;
              return fn.apply(this, args);
            }
          };
        }

        window.addEventListener("scroll", throttle(() => {
          console.log("scroll position", window.scrollY);
        }));
    ''', ms=ms)
    q = js_ask(r, f"throttle a scroll handler so it runs at most once every {ms} ms", "throttle")
    return q, reply(r, src, "javascript", "Unlike debounce, throttle runs immediately and then ignores calls until the interval has passed.")


@template("javascript")
def t_js_deep_equal(r):
    src = code(r'''
        function deepEqual(a, b) {
          if (Object.is(a, b)) return true;
          if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) {
            return false;
          }
          if (Array.isArray(a) !== Array.isArray(b)) return false;
          const keysA = Object.keys(a);
          const keysB = Object.keys(b);
          if (keysA.length !== keysB.length) return false;
          return keysA.every((key) => Object.prototype.hasOwnProperty.call(b, key) && deepEqual(a[key], b[key]));
        }

        console.log(deepEqual({ a: 1, b: [1, 2, { c: 3 }] }, { b: [1, 2, { c: 3 }], a: 1 })); // true
        console.log(deepEqual([1, 2], { 0: 1, 1: 2 })); // false
        console.log(deepEqual(NaN, NaN)); // true
    ''')
    q = js_ask(r, "compare two objects deeply for equality", "deepEqual",
               extras=["Key order shouldn't matter."] if r.random() < 0.5 else [])
    return q, reply(r, src, "javascript", "`Object.is` handles the primitive cases (including NaN); objects and arrays are compared key by key recursively.",
                    note="This doesn't handle Maps, Sets, Dates or cyclic references; for those, use a library such as lodash's `isEqual`.")


@template("javascript")
def t_js_deep_clone(r):
    src = code(r'''
        const original = {
          name: "{{name}}",
          tags: ["a", "b"],
          created: new Date("2025-01-01T00:00:00Z"),
          settings: { theme: "dark" },
        };

        const copy = structuredClone(original);
        copy.settings.theme = "light";
        copy.tags.push("c");

        console.log(original.settings.theme); // "dark"
        console.log(original.tags.length);    // 2
        console.log(copy.created instanceof Date); // true
    ''', name=r.choice(NAMES))
    q = r.choice([
        "How do I deep clone an object in JavaScript?",
        "What's the modern way to make a deep copy of a nested object in JS? JSON.parse(JSON.stringify()) breaks my dates.",
    ])
    return q, reply(r, src, "javascript", "`structuredClone` (browsers and Node 17+) copies nested objects, arrays, Dates, Maps and Sets, and handles cycles. It can't clone functions or DOM nodes.")


@template("javascript")
def t_js_fetch(r):
    endpoint = r.choice(["/api/users", "/api/orders?limit=20", "https://api.example.com/items"])
    ms = r.choice([5000, 8000, 10000])
    src = code(r'''
        async function fetchJson(url, { timeout = {{ms}}, ...options } = {}) {
          const controller = new AbortController();
          const timer = setTimeout(() => controller.abort(), timeout);
          try {
            const response = await fetch(url, { ...options, signal: controller.signal });
            if (!response.ok) {
              throw new Error(`HTTP ${response.status} ${response.statusText} for ${url}`);
            }
            return await response.json();
          } finally {
            clearTimeout(timer);
          }
        }

        async function main() {
          try {
            const data = await fetchJson("{{endpoint}}");
            console.log(data);
          } catch (err) {
            if (err.name === "AbortError") {
              console.error("request timed out");
            } else {
              console.error("request failed:", err.message);
            }
          }
        }

        main();
    ''', ms=ms, endpoint=endpoint)
    q = js_ask(r, "fetch JSON from an API with async/await, proper error handling and a timeout", "fetchJson")
    return q, reply(r, src, "javascript", "`fetch` only rejects on network errors, so `response.ok` has to be checked for 4xx/5xx. The `AbortController` cancels the request when the timeout fires, and `finally` always clears the timer.")


@template("javascript")
def t_js_group_by(r):
    key = r.choice(["role", "team", "city"])
    vals = {"role": ["admin", "editor", "viewer"], "team": ["red", "blue"], "city": CITIES[:3]}[key]
    people = [{"name": n, key: r.choice(vals)} for n in r.sample(NAMES, 4)]
    groups: dict = {}
    for p in people:
        groups.setdefault(p[key], []).append(p["name"])
    people_js = "[\n" + ",\n".join(f'  {{ name: "{p["name"]}", {key}: "{p[key]}" }}' for p in people) + ",\n]"
    src = code(r'''
        function groupBy(items, keyFn) {
          return items.reduce((groups, item) => {
            const key = keyFn(item);
            (groups[key] ??= []).push(item);
            return groups;
          }, {});
        }

        const people = {{people}};

        const byKey = groupBy(people, (p) => p.{{key}});
        for (const [k, members] of Object.entries(byKey)) {
          console.log(k, members.map((p) => p.name));
        }
    ''', people=people_js, key=key)
    out = "\n".join(f"{k} [ " + ", ".join(f"'{n}'" for n in v) + " ]" for k, v in groups.items())
    q = js_ask(r, f"group an array of objects by their '{key}' property", "groupBy")
    return q, reply(r, src, "javascript", "`??=` creates the array the first time a key is seen. Newer runtimes also ship `Object.groupBy(items, keyFn)` which does the same.",
                    out, example_lang="text")


JS_SNIPPETS = [
    ("How do I remove duplicates from an array in JavaScript?", "`const unique = [...new Set(items)];`"),
    ("How do I sum an array of numbers in JS?", "```javascript\nconst total = numbers.reduce((sum, n) => sum + n, 0);\n```\n\nThe `0` initial value makes it work for empty arrays too."),
    ("Why does [10, 9, 1].sort() give [1, 10, 9] in JavaScript?",
     "The default sort compares elements as strings. Pass a comparator for numbers:\n\n```javascript\n[10, 9, 1].sort((a, b) => a - b); // [1, 9, 10]\n```"),
    ("How do I get the last element of an array in JavaScript?", "`arr.at(-1)` (ES2022), or `arr[arr.length - 1]` on older engines."),
    ("How do I pad a number with leading zeros in JS?", "`String(7).padStart(3, \"0\") // \"007\"`"),
    ("How do I check if an array contains a value in JavaScript?", "`items.includes(value)`. Unlike `indexOf`, it also finds `NaN`."),
    ("How do I convert a string to a number in JavaScript?",
     "`Number(\"42\")` converts the whole string (returns `NaN` on junk); `parseInt(\"42px\", 10)` reads a leading integer and ignores the rest."),
    ("How do I loop over an object's keys and values in JS?",
     "```javascript\nfor (const [key, value] of Object.entries(obj)) {\n  console.log(key, value);\n}\n```"),
    ("How do I copy an array in JavaScript without changing the original?", "`const copy = [...original];` (a shallow copy: nested objects are still shared)."),
    ("How do I wait for several promises at once in JavaScript?",
     "```javascript\nconst [user, posts] = await Promise.all([getUser(id), getPosts(id)]);\n```\n\n`Promise.all` rejects as soon as one promise rejects; use `Promise.allSettled` to get every outcome."),
]


@template("javascript", weight=3)
def t_js_snippet(r):
    return r.choice(JS_SNIPPETS)


@template("javascript")
def t_js_dark_mode(r):
    src = code(r'''
        <button id="theme-toggle" type="button">Toggle dark mode</button>

        <script>
          const button = document.getElementById("theme-toggle");
          const saved = localStorage.getItem("theme");
          if (saved === "dark") {
            document.body.classList.add("dark");
          }

          button.addEventListener("click", () => {
            const isDark = document.body.classList.toggle("dark");
            localStorage.setItem("theme", isDark ? "dark" : "light");
          });
        </script>
    ''')
    q = r.choice([
        "How do I make a button that toggles dark mode on a web page and remembers the choice?",
        "Write JavaScript to toggle a 'dark' class on the body when a button is clicked, saved in localStorage.",
    ])
    return q, reply(r, src, "html", "`classList.toggle` returns whether the class is now present, which is exactly what we store in `localStorage` for the next visit.",
                    note="Style it with CSS such as `body.dark { background: #111; color: #eee; }`.")


@template("javascript")
def t_js_promise_pool(r):
    limit = r.choice([2, 3, 4])
    src = code(r'''
        /**
         * Run async tasks with at most `limit` running at the same time.
         * `tasks` is an array of functions that return promises.
         * Resolves to the results in the original order; rejects on the first failure.
         */
        async function runWithLimit(tasks, limit = {{limit}}) {
          if (!Number.isInteger(limit) || limit < 1) {
            throw new RangeError("limit must be a positive integer");
          }
          const results = new Array(tasks.length);
          let next = 0;

          async function worker() {
            while (next < tasks.length) {
              const index = next++;
              results[index] = await tasks[index]();
            }
          }

          const workers = Array.from({ length: Math.min(limit, tasks.length) }, worker);
          await Promise.all(workers);
          return results;
        }

        // --- demo -------------------------------------------------------------
        const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

        let running = 0;
        let peak = 0;

        function makeTask(id, ms) {
          return async () => {
            running++;
            peak = Math.max(peak, running);
            await sleep(ms);
            running--;
            return `task ${id} took ${ms}ms`;
          };
        }

        async function demo() {
          const tasks = [300, 100, 200, 50, 150, 250].map((ms, i) => makeTask(i + 1, ms));
          const started = Date.now();
          const results = await runWithLimit(tasks, {{limit}});
          console.log(results);
          console.log(`peak concurrency: ${peak}`);
          console.log(`total time: ~${Math.round((Date.now() - started) / 50) * 50}ms`);
        }

        demo().catch((err) => {
          console.error(err);
          process.exitCode = 1;
        });
    ''', limit=limit)
    q = r.choice([
        f"How do I run a list of async tasks in JavaScript with at most {limit} running concurrently?",
        "Promise.all starts all my requests at once and the API rate-limits me. How can I limit concurrency without a library?",
        f"Write a promise pool in Node.js: given an array of async functions, run them {limit} at a time and return results in order.",
    ])
    return q, reply(r, src, "javascript", "Each worker pulls the next task index from a shared counter until none are left. JavaScript is single-threaded, so `next++` can't race. Results are stored by index, so the output order matches the input order even though tasks finish out of order.",
                    note="If one task rejects, `Promise.all` rejects immediately, but tasks that already started keep running. Wrap each task in try/catch if you prefer to collect errors instead.")


@template("javascript")
def t_js_event_emitter(r):
    evt = r.choice(["message", "tick", "saved"])
    src = code(r'''
        class Emitter {
          #listeners = new Map();

          on(event, listener) {
            if (!this.#listeners.has(event)) this.#listeners.set(event, new Set());
            this.#listeners.get(event).add(listener);
            return () => this.off(event, listener);
          }

          once(event, listener) {
            const off = this.on(event, (...args) => {
              off();
              listener(...args);
            });
            return off;
          }

          off(event, listener) {
            this.#listeners.get(event)?.delete(listener);
          }

          emit(event, ...args) {
            for (const listener of [...(this.#listeners.get(event) ?? [])]) {
              listener(...args);
            }
          }
        }

        const bus = new Emitter();
        bus.once("{{evt}}", (x) => console.log("first only:", x));
        const stop = bus.on("{{evt}}", (x) => console.log("every time:", x));
        bus.emit("{{evt}}", 1);
        bus.emit("{{evt}}", 2);
        stop();
        bus.emit("{{evt}}", 3); // nothing is printed
    ''', evt=evt)
    out = "first only: 1\nevery time: 1\nevery time: 2"
    q = js_ask(r, "write a small event emitter class with on, once, off and emit", "Emitter")
    return q, reply(r, src, "javascript", "`#listeners` is a private field. `on` returns an unsubscribe function, and `emit` iterates over a copy so listeners can remove themselves safely.",
                    out, example_lang="text")


@template("javascript")
def t_js_count_lines(r):
    ext = r.choice([".log", ".txt", ".csv"])
    src = code(r'''
        import { readFile } from "node:fs/promises";

        async function countLines(path) {
          const text = await readFile(path, "utf8");
          if (text.length === 0) return 0;
          const lines = text.split(/\r?\n/);
          return text.endsWith("\n") ? lines.length - 1 : lines.length;
        }

        const file = process.argv[2] ?? "input{{ext}}";
        countLines(file)
          .then((n) => console.log(`${file}: ${n} lines`))
          .catch((err) => {
            console.error(`cannot read ${file}: ${err.message}`);
            process.exit(1);
          });
    ''', ext=ext)
    q = js_ask(r, f"count the lines in a {ext} file", "countLines")
    return q, reply(r, src, "javascript", "A trailing newline doesn't start a new line, so it isn't counted. This is an ES module (save as `.mjs` or set `\"type\": \"module\"`).",
                    note="For files too large for memory, stream them with `readline.createInterface` instead.")


@template("javascript")
def t_js_capitalize(r):
    name = r.choice(["capitalizeWords", "titleCase"])
    s = r.choice(SENTENCES)
    out = " ".join(w[:1].upper() + w[1:] for w in s.split(" "))
    src = code(r'''
        function {{name}}(text) {
          return text
            .split(" ")
            .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
            .join(" ");
        }

        console.log({{name}}("{{s}}"));
        // "{{out}}"
    ''', name=name, s=s, out=out)
    q = js_ask(r, "capitalize the first letter of every word in a string", name)
    return q, reply(r, src, "javascript", "Splitting on single spaces keeps the original spacing; the rest of each word is left as it was.")


@template("javascript")
def t_js_chunk(r):
    size = r.randint(2, 4)
    arr = list(range(1, r.randint(6, 10)))
    chunks = [arr[i:i + size] for i in range(0, len(arr), size)]
    src = code(r'''
        function chunk(array, size) {
          if (size < 1) throw new RangeError("size must be >= 1");
          const result = [];
          for (let i = 0; i < array.length; i += size) {
            result.push(array.slice(i, i + size));
          }
          return result;
        }

        console.log(chunk({{arr}}, {{size}}));
        // {{out}}
    ''', arr=json.dumps(arr), size=size, out=json.dumps(chunks))
    q = js_ask(r, f"split an array into chunks of {size}", "chunk")
    return q, reply(r, src, "javascript", "`slice` never reads past the end, so the last chunk is just shorter.")


@template("javascript")
def t_js_memoize(r):
    src = code(r'''
        function memoize(fn, keyFn = (...args) => JSON.stringify(args)) {
          const cache = new Map();
          return function memoized(...args) {
            const key = keyFn(...args);
            if (!cache.has(key)) {
              cache.set(key, fn.apply(this, args));
            }
            return cache.get(key);
          };
        }

        const slowSquare = (n) => {
          for (let i = 0; i < 1e7; i++);
          return n * n;
        };
        const fastSquare = memoize(slowSquare);
        console.log(fastSquare({{n}})); // slow the first time
        console.log(fastSquare({{n}})); // instant, from the cache
    ''', n=r.randint(3, 99))
    q = js_ask(r, "memoize a function", "memoize")
    return q, reply(r, src, "javascript", "Arguments are turned into a cache key with `JSON.stringify` by default; pass your own `keyFn` for arguments that don't serialize well.",
                    note="The cache grows without bound; for long-running processes, cap it or use an LRU cache.")


@template("javascript")
def t_js_format_time(r):
    secs = r.randint(60, 8000)
    h, rem = divmod(secs, 3600)
    m, s = divmod(rem, 60)
    out = f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
    src = code(r'''
        function formatDuration(totalSeconds) {
          const h = Math.floor(totalSeconds / 3600);
          const m = Math.floor((totalSeconds % 3600) / 60);
          const s = Math.floor(totalSeconds % 60);
          const pad = (n) => String(n).padStart(2, "0");
          return h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
        }

        console.log(formatDuration({{secs}})); // "{{out}}"
    ''', secs=secs, out=out)
    q = js_ask(r, "format a number of seconds as m:ss or h:mm:ss", "formatDuration")
    return q, reply(r, src, "javascript", "Hours are only shown when there are any; minutes and seconds are zero-padded with `padStart`.")
