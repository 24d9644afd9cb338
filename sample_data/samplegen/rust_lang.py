"""Clean templates: Rust (task ``rust``)."""

from __future__ import annotations

from .registry import family_registry
from .text import ask, code, reply
from .vocab import SENTENCES

TEMPLATES, template = family_registry()


@template("rust")
def t_rust_reverse(r):
    s = r.choice(["hello", "Rustacean", "héllo wörld", "stressed"])
    src = code(r'''
        fn reverse(s: &str) -> String {
            s.chars().rev().collect()
        }

        fn main() {
            let original = "{{s}}";
            println!("{} -> {}", original, reverse(original));
        }
    ''', s=s)
    q = ask(r, "reverse a string", "reverse", lang="Rust")
    return q, reply(r, src, "rust", "`chars()` iterates over Unicode scalar values, so accented characters survive; `collect()` builds the new `String`.",
                    f"{s} -> {s[::-1]}", example_lang="text")


@template("rust")
def t_rust_word_freq(r):
    text = " ".join(r.choice(SENTENCES).split()[:6])
    src = code(r'''
        use std::collections::HashMap;

        fn word_frequencies(text: &str) -> Vec<(String, usize)> {
            let mut counts: HashMap<String, usize> = HashMap::new();
            for word in text.split_whitespace() {
                let word = word
                    .trim_matches(|c: char| !c.is_alphanumeric())
                    .to_lowercase();
                if !word.is_empty() {
                    *counts.entry(word).or_insert(0) += 1;
                }
            }
            let mut pairs: Vec<(String, usize)> = counts.into_iter().collect();
            pairs.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            pairs
        }

        fn main() {
            let text = "{{text}} {{text}}";
            for (word, count) in word_frequencies(text).iter().take(3) {
                println!("{word}: {count}");
            }
        }
    ''', text=text)
    q = ask(r, "count word frequencies in a string", "word_frequencies", lang="Rust")
    return q, reply(r, src, "rust", "`entry(...).or_insert(0)` inserts a zero the first time a word is seen and returns a mutable reference to the count. HashMap order is unspecified, so the pairs are sorted by count and then alphabetically.")


@template("rust")
def t_rust_struct(r):
    w, h = r.randint(2, 9), r.randint(2, 9)
    src = code(r'''
        use std::fmt;

        #[derive(Debug, Clone, Copy, PartialEq)]
        struct Rectangle {
            width: f64,
            height: f64,
        }

        impl Rectangle {
            fn new(width: f64, height: f64) -> Self {
                Self { width, height }
            }

            fn area(&self) -> f64 {
                self.width * self.height
            }

            fn can_hold(&self, other: &Rectangle) -> bool {
                self.width > other.width && self.height > other.height
            }
        }

        impl fmt::Display for Rectangle {
            fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "{}x{} rectangle", self.width, self.height)
            }
        }

        fn main() {
            let big = Rectangle::new({{w}}.0, {{h}}.0);
            let small = Rectangle::new(1.0, 1.0);
            println!("{} has area {}", big, big.area());
            println!("can hold small: {}", big.can_hold(&small));
        }
    ''', w=w, h=h)
    out = f"{w}x{h} rectangle has area {w * h}\ncan hold small: true"
    q = r.choice([
        "How do I define a struct with methods in Rust and make it printable with {}?",
        "Write a Rust Rectangle struct with area(), can_hold() and a Display implementation.",
    ])
    return q, reply(r, src, "rust", "Methods live in an `impl` block and take `&self`. Implementing `fmt::Display` is what makes `{}` work; `#[derive(Debug)]` gives you `{:?}` for free.",
                    out, example_lang="text")


@template("rust")
def t_rust_read_file(r):
    fname = r.choice(["numbers.txt", "scores.txt", "input.txt"])
    src = code(r'''
        use std::error::Error;
        use std::fs::File;
        use std::io::{BufRead, BufReader};

        fn sum_numbers(path: &str) -> Result<i64, Box<dyn Error>> {
            let file = File::open(path)?;
            let mut total = 0;
            for (index, line) in BufReader::new(file).lines().enumerate() {
                let line = line?;
                let trimmed = line.trim();
                if trimmed.is_empty() {
                    continue;
                }
                let value: i64 = trimmed
                    .parse()
                    .map_err(|e| format!("line {}: {:?} is not a number ({})", index + 1, trimmed, e))?;
                total += value;
            }
            Ok(total)
        }

        fn main() {
            match sum_numbers("{{fname}}") {
                Ok(total) => println!("total = {}", total),
                Err(err) => {
                    eprintln!("error: {}", err);
                    std::process::exit(1);
                }
            }
        }
    ''', fname=fname)
    q = r.choice([
        f"In Rust, how do I read {fname} line by line, parse each line as a number and sum them, with proper error handling?",
        "How does the ? operator work for error handling in Rust? Example with reading and parsing a file.",
    ])
    return q, reply(r, src, "rust", "`?` returns early with the error, converting it into `Box<dyn Error>`. Parse errors get the line number attached through `map_err`, and blank lines are skipped.")


@template("rust")
def t_rust_iterator(r):
    n = r.randint(8, 12)
    fib = [0, 1]
    while len(fib) < n:
        fib.append(fib[-1] + fib[-2])
    src = code(r'''
        struct Fibonacci {
            current: u64,
            next: u64,
        }

        impl Fibonacci {
            fn new() -> Self {
                Fibonacci { current: 0, next: 1 }
            }
        }

        impl Iterator for Fibonacci {
            type Item = u64;

            fn next(&mut self) -> Option<u64> {
                let value = self.current;
                let new_next = self.current.checked_add(self.next)?;
                self.current = self.next;
                self.next = new_next;
                Some(value)
            }
        }

        fn main() {
            let first: Vec<u64> = Fibonacci::new().take({{n}}).collect();
            println!("{:?}", first);
            let even_sum: u64 = Fibonacci::new().take_while(|&x| x < 4_000_000).filter(|x| x % 2 == 0).sum();
            println!("{}", even_sum);
        }
    ''', n=n)
    out = "[" + ", ".join(map(str, fib[:n])) + "]\n4613732"
    q = r.choice([
        "How do I implement the Iterator trait for my own type in Rust? Fibonacci as an example.",
        "Write a Fibonacci iterator in Rust that stops instead of overflowing.",
    ])
    return q, reply(r, src, "rust", "Implementing `next` is all `Iterator` needs; adapters like `take`, `take_while`, `filter` and `sum` come for free. `checked_add` returns `None` on overflow, which ends the iteration cleanly.",
                    out, example_lang="text")


@template("rust")
def t_rust_enum(r):
    src = code(r'''
        enum Shape {
            Circle { radius: f64 },
            Rectangle { width: f64, height: f64 },
            Triangle { a: f64, b: f64, c: f64 },
        }

        impl Shape {
            fn area(&self) -> f64 {
                match self {
                    Shape::Circle { radius } => std::f64::consts::PI * radius * radius,
                    Shape::Rectangle { width, height } => width * height,
                    Shape::Triangle { a, b, c } => {
                        // Heron's formula
                        let s = (a + b + c) / 2.0;
                        (s * (s - a) * (s - b) * (s - c)).sqrt()
                    }
                }
            }
        }

        fn main() {
            let shapes = vec![
                Shape::Circle { radius: 1.0 },
                Shape::Rectangle { width: {{w}}.0, height: 2.0 },
                Shape::Triangle { a: 3.0, b: 4.0, c: 5.0 },
            ];
            let total: f64 = shapes.iter().map(Shape::area).sum();
            println!("total area: {:.2}", total);
        }
    ''', w=r.randint(2, 6))
    q = r.choice([
        "How do I use enums with data and match in Rust? Show shapes with an area method.",
        "Rust: model circle/rectangle/triangle as an enum and compute the total area.",
    ])
    return q, reply(r, src, "rust", "Each enum variant carries its own fields, and `match` must handle every variant, so adding a new shape without updating `area` is a compile error.")
