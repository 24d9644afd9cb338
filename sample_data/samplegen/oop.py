"""Clean templates: Python classes and object-oriented design."""

from __future__ import annotations

from .registry import family_registry
from .text import CONTEXTS, ask, code, py_reply, reply, run_examples
from .vocab import NAMES, ints, pick_words

TEMPLATES, template = family_registry()


@template("oop")
def t_bank_account(r):
    cls = r.choice(["BankAccount", "Account", "Wallet"])
    owner = r.choice(NAMES)
    start = r.choice([0, 50, 100, 250])
    src = code(r'''
        class InsufficientFunds(Exception):
            pass


        class {{cls}}:
            def __init__(self, owner, balance=0):
                if balance < 0:
                    raise ValueError("initial balance cannot be negative")
                self.owner = owner
                self.balance = balance

            def deposit(self, amount):
                if amount <= 0:
                    raise ValueError("deposit must be positive")
                self.balance += amount
                return self.balance

            def withdraw(self, amount):
                if amount <= 0:
                    raise ValueError("withdrawal must be positive")
                if amount > self.balance:
                    raise InsufficientFunds(f"cannot withdraw {amount}, balance is {self.balance}")
                self.balance -= amount
                return self.balance

            def __repr__(self):
                return f"{type(self).__name__}(owner={self.owner!r}, balance={self.balance})"
    ''', cls=cls)
    dep, wd = r.randint(10, 90), r.randint(5, 40)
    calls = [f"acct = {cls}({owner!r}, {start})", f"acct.deposit({dep})", f"acct.withdraw({wd})", "acct"]
    q = r.choice([
        f"Write a Python class `{cls}` with deposit and withdraw methods. Withdrawing more than the balance should raise an exception.",
        f"Can you implement a simple bank account class in Python? It needs an owner, a balance, deposit(), withdraw() and it must not allow overdrafts.",
        f"I'm {r.choice(CONTEXTS)}. How do I model a bank account as a class with input validation?",
    ])
    return q, py_reply(r, src, calls, "A custom exception makes the overdraft case easy to catch separately from bad input (`ValueError`).",
                       "For real money, store cents as integers or use `decimal.Decimal`.")


@template("oop")
def t_stack_queue(r):
    if r.random() < 0.5:
        src = code(r'''
            class Stack:
                def __init__(self):
                    self._items = []

                def push(self, item):
                    self._items.append(item)

                def pop(self):
                    if not self._items:
                        raise IndexError("pop from empty stack")
                    return self._items.pop()

                def peek(self):
                    if not self._items:
                        raise IndexError("peek at empty stack")
                    return self._items[-1]

                def is_empty(self):
                    return not self._items

                def __len__(self):
                    return len(self._items)
        ''')
        ws = pick_words(r, 3)
        calls = ["s = Stack()"] + [f"s.push({w!r})" for w in ws] + ["s.pop()", "s.peek()", "len(s)"]
        q = ask(r, "implement a stack class with push, pop, peek and is_empty", "Stack")
        expl = "A Python list already has O(1) append and pop at the end, so it makes a good backing store."
    else:
        src = code(r'''
            from collections import deque


            class Queue:
                def __init__(self):
                    self._items = deque()

                def enqueue(self, item):
                    self._items.append(item)

                def dequeue(self):
                    if not self._items:
                        raise IndexError("dequeue from empty queue")
                    return self._items.popleft()

                def __len__(self):
                    return len(self._items)

                def __bool__(self):
                    return bool(self._items)
        ''')
        ns = ints(r, 3)
        calls = ["q = Queue()"] + [f"q.enqueue({n})" for n in ns] + ["q.dequeue()", "len(q)"]
        q = ask(r, "implement a FIFO queue class with enqueue and dequeue", "Queue")
        expl = "`deque.popleft` is O(1), unlike `list.pop(0)` which shifts every element."
    return q, py_reply(r, src, calls, expl)


@template("oop")
def t_shapes(r):
    src = code(r'''
        import math
        from abc import ABC, abstractmethod


        class Shape(ABC):
            @abstractmethod
            def area(self):
                ...

            @abstractmethod
            def perimeter(self):
                ...

            def describe(self):
                return f"{type(self).__name__}: area={self.area():.2f}, perimeter={self.perimeter():.2f}"


        class Circle(Shape):
            def __init__(self, radius):
                self.radius = radius

            def area(self):
                return math.pi * self.radius ** 2

            def perimeter(self):
                return 2 * math.pi * self.radius


        class Rectangle(Shape):
            def __init__(self, width, height):
                self.width = width
                self.height = height

            def area(self):
                return self.width * self.height

            def perimeter(self):
                return 2 * (self.width + self.height)


        class Square(Rectangle):
            def __init__(self, side):
                super().__init__(side, side)
    ''')
    calls = [f"shapes = [Circle({r.randint(1, 5)}), Rectangle({r.randint(2, 6)}, {r.randint(2, 6)}), Square({r.randint(2, 9)})]",
             "for shape in shapes:\n    print(shape.describe())"]
    q = r.choice([
        "Write a Python class hierarchy for shapes (circle, rectangle, square), each with area() and perimeter().",
        "How do I use an abstract base class in Python? Show me with shapes.",
        "Can you implement Shape, Circle, Rectangle and Square classes with inheritance and polymorphism?",
    ])
    a = py_reply(r, src, [], "`Shape` is abstract, so `Shape()` raises `TypeError`; every subclass must implement both methods. `Square` reuses `Rectangle` through `super().__init__`.")
    a += "\n\nUsage:\n\n```python\n" + run_examples(src, calls) + "\n```"
    return q, a


@template("oop")
def t_lru_cache(r):
    cap_n = r.randint(2, 3)
    src = code(r'''
        from collections import OrderedDict


        class LRUCache:
            def __init__(self, capacity):
                if capacity <= 0:
                    raise ValueError("capacity must be positive")
                self.capacity = capacity
                self._data = OrderedDict()

            def get(self, key, default=None):
                if key not in self._data:
                    return default
                self._data.move_to_end(key)
                return self._data[key]

            def put(self, key, value):
                if key in self._data:
                    self._data.move_to_end(key)
                self._data[key] = value
                if len(self._data) > self.capacity:
                    self._data.popitem(last=False)

            def __len__(self):
                return len(self._data)

            def __repr__(self):
                return f"LRUCache({list(self._data.items())})"
    ''')
    ws = pick_words(r, cap_n + 1)
    calls = [f"cache = LRUCache({cap_n})"] + [f"cache.put({w!r}, {i})" for i, w in enumerate(ws[:cap_n])]
    calls += [f"cache.get({ws[0]!r})", f"cache.put({ws[-1]!r}, 99)", "cache"]
    q = r.choice([
        "Implement an LRU cache class in Python with get and put in O(1).",
        "How do I build a least-recently-used cache with a fixed capacity in Python?",
        f"Write an LRUCache class: capacity {cap_n}, evict the least recently used key when full.",
    ])
    return q, py_reply(r, src, calls, "`OrderedDict` remembers order; `move_to_end` marks a key as recently used and `popitem(last=False)` evicts the oldest one.",
                       "For caching function results, `functools.lru_cache` is the ready-made decorator.")


@template("oop")
def t_inventory(r):
    src = code(r'''
        from dataclasses import dataclass, field


        @dataclass
        class Item:
            sku: str
            name: str
            price: float
            quantity: int = 0

            @property
            def value(self):
                return self.price * self.quantity


        @dataclass
        class Inventory:
            items: dict = field(default_factory=dict)

            def add(self, sku, name, price, quantity=0):
                if sku in self.items:
                    raise KeyError(f"duplicate SKU {sku}")
                self.items[sku] = Item(sku, name, price, quantity)

            def restock(self, sku, amount):
                if amount <= 0:
                    raise ValueError("amount must be positive")
                self.items[sku].quantity += amount

            def sell(self, sku, amount):
                item = self.items[sku]
                if amount > item.quantity:
                    raise ValueError(f"only {item.quantity} of {item.name} left")
                item.quantity -= amount
                return item.price * amount

            def low_stock(self, threshold=5):
                return sorted(item.name for item in self.items.values() if item.quantity < threshold)

            def total_value(self):
                return round(sum(item.value for item in self.items.values()), 2)

            def report(self):
                lines = [f"{'SKU':<8}{'Name':<14}{'Qty':>5}{'Value':>10}"]
                for item in sorted(self.items.values(), key=lambda i: i.sku):
                    lines.append(f"{item.sku:<8}{item.name:<14}{item.quantity:>5}{item.value:>10.2f}")
                lines.append(f"{'Total':<27}{self.total_value():>10.2f}")
                return "\n".join(lines)
    ''')
    products = r.sample([("pen", 1.5), ("notebook", 3.25), ("stapler", 7.0), ("tape", 2.0), ("marker", 1.75)], 3)
    calls = ["inv = Inventory()"]
    for i, (p, price) in enumerate(products):
        calls.append(f"inv.add('S{i + 1:03d}', {p!r}, {price}, {r.randint(1, 20)})")
    calls += [f"inv.sell('S001', 1)", f"inv.restock('S002', {r.randint(2, 10)})", "inv.low_stock()", "print(inv.report())"]
    q = r.choice([
        "I'm working on a small inventory app. Can you write Python classes for items and an inventory with add, restock, sell, a low-stock list and a printable report?",
        "Write an inventory management class in Python using dataclasses. It should track SKU, name, price and quantity and compute the total stock value.",
    ])
    return q, py_reply(r, src, calls, "Dataclasses remove the boilerplate `__init__`/`__repr__`; `field(default_factory=dict)` gives each inventory its own dictionary instead of a shared one.",
                       "Selling more than is in stock raises instead of going negative, so the caller decides what to do.")


@template("oop")
def t_temperature(r):
    src = code(r'''
        class Temperature:
            def __init__(self, celsius=0.0):
                self.celsius = celsius

            @property
            def celsius(self):
                return self._celsius

            @celsius.setter
            def celsius(self, value):
                if value < -273.15:
                    raise ValueError("below absolute zero")
                self._celsius = value

            @property
            def fahrenheit(self):
                return self._celsius * 9 / 5 + 32

            @fahrenheit.setter
            def fahrenheit(self, value):
                self.celsius = (value - 32) * 5 / 9
    ''')
    c = r.choice([0, 25, 37, 100, -40])
    calls = [f"t = Temperature({c})", "t.fahrenheit", f"t.fahrenheit = {r.choice([32, 212, 98.6, 50])}", "round(t.celsius, 2)"]
    q = r.choice([
        "How do I use @property in Python? Show a Temperature class that converts between Celsius and Fahrenheit.",
        "Write a Temperature class with celsius and fahrenheit properties that stay in sync and reject values below absolute zero.",
    ])
    return q, py_reply(r, src, calls, "Only Celsius is stored; Fahrenheit is computed on read and converted on write, so the two can never disagree. The validation lives in one setter.")


@template("oop")
def t_linked_list(r):
    src = code(r'''
        class Node:
            __slots__ = ("value", "next")

            def __init__(self, value, next=None):
                self.value = value
                self.next = next


        class LinkedList:
            def __init__(self, values=()):
                self.head = None
                self._size = 0
                for value in values:
                    self.append(value)

            def append(self, value):
                node = Node(value)
                if self.head is None:
                    self.head = node
                else:
                    current = self.head
                    while current.next:
                        current = current.next
                    current.next = node
                self._size += 1

            def prepend(self, value):
                self.head = Node(value, self.head)
                self._size += 1

            def find(self, value):
                for index, item in enumerate(self):
                    if item == value:
                        return index
                return -1

            def remove(self, value):
                previous, current = None, self.head
                while current:
                    if current.value == value:
                        if previous is None:
                            self.head = current.next
                        else:
                            previous.next = current.next
                        self._size -= 1
                        return True
                    previous, current = current, current.next
                return False

            def reverse(self):
                previous, current = None, self.head
                while current:
                    current.next, previous, current = previous, current, current.next
                self.head = previous

            def __iter__(self):
                current = self.head
                while current:
                    yield current.value
                    current = current.next

            def __len__(self):
                return self._size

            def __repr__(self):
                return " -> ".join(map(repr, self)) or "(empty)"
    ''')
    data = ints(r, 4, 1, 9)
    calls = [f"items = LinkedList({data!r})", f"items.prepend({r.randint(10, 20)})", f"items.remove({data[1]})",
             "items.reverse()", "items", "len(items), items.find(" + str(data[0]) + ")"]
    q = r.choice([
        "Implement a singly linked list in Python with append, prepend, find, remove, reverse and iteration.",
        "Can you write a LinkedList class in Python? I need to understand how nodes and pointers work. Include reverse().",
        "I'm preparing for coding interviews. Write a singly linked list class with the usual operations.",
    ])
    return q, py_reply(r, src, calls, "Each `Node` holds a value and a reference to the next node. `append` walks to the tail (O(n)); `prepend` is O(1). `reverse` flips the links in place with three pointers.",
                       "Keep a `tail` reference as well if you append often; that makes `append` O(1).")


@template("oop")
def t_matrix(r):
    src = code(r'''
        class Matrix:
            def __init__(self, rows):
                if not rows or any(len(row) != len(rows[0]) for row in rows):
                    raise ValueError("rows must be non-empty and of equal length")
                self.rows = [list(row) for row in rows]

            @property
            def shape(self):
                return len(self.rows), len(self.rows[0])

            @classmethod
            def identity(cls, n):
                return cls([[1 if i == j else 0 for j in range(n)] for i in range(n)])

            def __getitem__(self, index):
                i, j = index
                return self.rows[i][j]

            def __add__(self, other):
                if self.shape != other.shape:
                    raise ValueError(f"shape mismatch: {self.shape} vs {other.shape}")
                return Matrix([[a + b for a, b in zip(r1, r2)]
                               for r1, r2 in zip(self.rows, other.rows)])

            def __mul__(self, other):
                if isinstance(other, (int, float)):
                    return Matrix([[other * x for x in row] for row in self.rows])
                if self.shape[1] != other.shape[0]:
                    raise ValueError(f"cannot multiply {self.shape} by {other.shape}")
                cols = list(zip(*other.rows))
                return Matrix([[sum(a * b for a, b in zip(row, col)) for col in cols]
                               for row in self.rows])

            __rmul__ = __mul__

            def transpose(self):
                return Matrix([list(col) for col in zip(*self.rows)])

            def __eq__(self, other):
                return isinstance(other, Matrix) and self.rows == other.rows

            def __repr__(self):
                width = max(len(str(x)) for row in self.rows for x in row)
                body = "\n".join(" ".join(str(x).rjust(width) for x in row) for row in self.rows)
                return f"Matrix {self.shape[0]}x{self.shape[1]}\n{body}"
    ''')
    a = [ints(r, 3, 0, 5) for _ in range(2)]
    b = [ints(r, 2, 0, 5) for _ in range(3)]
    calls = [f"a = Matrix({a!r})", f"b = Matrix({b!r})", "a * b", "a.transpose()", "2 * a == a + a",
             "a * Matrix.identity(3) == a"]
    q = r.choice([
        "Write a Matrix class in Python that supports addition, matrix multiplication, scalar multiplication, transpose and a readable repr. No numpy.",
        "How do I overload operators in Python? Show me with a Matrix class (+, *, ==).",
        "Implement a small pure-Python matrix type with an identity constructor and shape checks.",
    ])
    return q, py_reply(r, src, calls, "Operator overloading is done with dunder methods: `__add__` for `+`, `__mul__` for `*`. `__rmul__ = __mul__` lets `2 * a` work as well as `a * 2`. Shapes are checked so mistakes fail loudly.",
                       "This is fine for learning and small sizes; for real numeric work use NumPy, whose `@` operator is written in C.")


@template("oop")
def t_observer(r):
    event = r.choice(["order_created", "user_signed_up", "file_uploaded"])
    src = code(r'''
        from collections import defaultdict


        class EventBus:
            def __init__(self):
                self._handlers = defaultdict(list)

            def subscribe(self, event, handler):
                self._handlers[event].append(handler)
                return lambda: self._handlers[event].remove(handler)

            def publish(self, event, **payload):
                for handler in list(self._handlers[event]):
                    handler(**payload)
                return len(self._handlers[event])
    ''')
    calls = ["bus = EventBus()",
             f"unsubscribe = bus.subscribe({event!r}, lambda **p: print('email:', p))",
             f"_ = bus.subscribe({event!r}, lambda **p: print('audit log:', p))",
             f"bus.publish({event!r}, id={r.randint(100, 999)})",
             "unsubscribe()",
             f"bus.publish({event!r}, id={r.randint(100, 999)})"]
    q = r.choice([
        "How do I implement the observer pattern (publish/subscribe) in Python?",
        f"Write a small event bus class in Python: subscribe handlers to events like '{event}', publish with keyword data, and allow unsubscribing.",
    ])
    return q, py_reply(r, src, calls, "`subscribe` returns a function that removes the handler again; `publish` iterates over a copy so handlers can unsubscribe themselves while running.")


@template("oop")
def t_vector(r):
    src = code(r'''
        import math
        from dataclasses import dataclass


        @dataclass(frozen=True)
        class Vector2D:
            x: float
            y: float

            def __add__(self, other):
                return Vector2D(self.x + other.x, self.y + other.y)

            def __sub__(self, other):
                return Vector2D(self.x - other.x, self.y - other.y)

            def __mul__(self, scalar):
                return Vector2D(self.x * scalar, self.y * scalar)

            __rmul__ = __mul__

            def dot(self, other):
                return self.x * other.x + self.y * other.y

            def length(self):
                return math.hypot(self.x, self.y)
    ''')
    v1 = (r.randint(-5, 5), r.randint(1, 5))
    v2 = (r.randint(1, 5), r.randint(-5, 5))
    calls = [f"a, b = Vector2D{v1}, Vector2D{v2}", "a + b", "3 * a", "a.dot(b)", "Vector2D(3, 4).length()"]
    q = r.choice([
        "Write an immutable 2D vector class in Python with +, -, scalar *, dot product and length.",
        "How do I make a Python dataclass that supports arithmetic operators? Example: a 2D vector.",
    ])
    return q, py_reply(r, src, calls, "`frozen=True` makes instances immutable and hashable, so they can be dict keys or set members.")


@template("oop")
def t_timer_ctx(r):
    src = code(r'''
        import time


        class Timer:
            def __init__(self, label="elapsed"):
                self.label = label
                self.elapsed = None

            def __enter__(self):
                self._start = time.perf_counter()
                return self

            def __exit__(self, exc_type, exc, tb):
                self.elapsed = time.perf_counter() - self._start
                print(f"{self.label}: {self.elapsed:.3f}s")
                return False
    ''')
    example = "with Timer(\"load data\") as t:\n    rows = load_rows()\n# load data: 0.412s\nprint(t.elapsed)"
    q = r.choice([
        "How do I write a context manager class in Python that times a block of code?",
        "Write a Timer class usable with `with` that prints how long the block took.",
    ])
    return q, reply(r, src, "python", "`__enter__` starts the clock and `__exit__` runs even if the block raises; returning `False` lets the exception propagate.",
                    example, "`time.perf_counter` is the right clock for measuring intervals; `time.time` can jump when the system clock changes.")
