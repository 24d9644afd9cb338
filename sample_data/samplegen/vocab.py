"""Word lists and small random-data helpers that templates draw their names and data from."""

from __future__ import annotations

import random

WORDS = [
    "apple", "river", "stone", "cloud", "tiger", "lamp", "garden", "silver", "orange", "planet",
    "window", "forest", "candle", "rocket", "pencil", "harbor", "violet", "meadow", "copper",
    "falcon", "bridge", "lemon", "anchor", "shadow", "marble", "pepper", "canyon", "velvet",
]
NAMES = [
    "Alice", "Bob", "Carmen", "Dmitri", "Eva", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Keiko",
    "Liam", "Maya", "Nikolai", "Olga", "Pablo", "Quinn", "Rosa", "Sami", "Tara", "Umar", "Vera",
]
CITIES = ["Lisbon", "Oslo", "Lyon", "Porto", "Kyoto", "Denver", "Austin", "Tallinn", "Gdansk",
          "Valencia", "Bergen", "Leeds", "Krakow", "Quebec"]
SENTENCES = [
    "the quick brown fox jumps over the lazy dog",
    "practice makes progress not perfection",
    "hello big wide world",
    "python makes simple things simple",
    "every cloud has a silver lining",
    "keep calm and write tests",
    "data beats opinions most of the time",
    "small steps add up to long journeys",
    "the river runs past the old stone bridge",
    "read the error message before searching",
]


def pick_words(r: random.Random, k: int) -> list[str]:
    return r.sample(WORDS, k)


def ints(r: random.Random, k: int, lo: int = 1, hi: int = 99) -> list[int]:
    return [r.randint(lo, hi) for _ in range(k)]
