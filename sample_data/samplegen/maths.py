"""Clean templates: math and number theory (primes, gcd, bases, Roman numerals...)."""

from __future__ import annotations

from .registry import family_registry
from .text import ask, code, py_reply
from .vocab import ints

TEMPLATES, template = family_registry()


@template("math")
def t_is_prime(r):
    name = r.choice(["is_prime", "prime", "check_prime"])
    src = code(r'''
        def {{name}}(n):
            if n < 2:
                return False
            if n % 2 == 0:
                return n == 2
            i = 3
            while i * i <= n:
                if n % i == 0:
                    return False
                i += 2
            return True
    ''', name=name)
    calls = [f"[n for n in range({r.randint(20, 40)}) if {name}(n)]", f"{name}({r.choice([7919, 7917, 104729, 1001])})"]
    q = ask(r, "check whether a number is prime", name,
            extras=["It should be reasonably fast for numbers up to a few million."] if r.random() < 0.4 else [])
    return q, py_reply(r, src, calls, "Only odd divisors up to the square root need to be tried.", "O(sqrt(n)) per call.")


@template("math")
def t_sieve(r):
    limit = r.choice([30, 50, 60, 100])
    name = r.choice(["primes_up_to", "sieve", "eratosthenes"])
    src = code(r'''
        def {{name}}(n):
            if n < 2:
                return []
            is_prime = [True] * (n + 1)
            is_prime[0] = is_prime[1] = False
            for i in range(2, int(n ** 0.5) + 1):
                if is_prime[i]:
                    for multiple in range(i * i, n + 1, i):
                        is_prime[multiple] = False
            return [i for i, flag in enumerate(is_prime) if flag]
    ''', name=name)
    q = ask(r, f"list all prime numbers up to {limit} with the Sieve of Eratosthenes", name)
    return q, py_reply(r, src, [f"{name}({limit})"], "Crossing out starts at i*i because smaller multiples were already removed by smaller primes.",
                       "O(n log log n) time, O(n) memory.")


@template("math")
def t_gcd_lcm(r):
    if r.random() < 0.5:
        name = r.choice(["gcd_list", "gcd_all"])
        src = code(r'''
            from functools import reduce
            from math import gcd


            def {{name}}(numbers):
                return reduce(gcd, numbers)
        ''', name=name)
        base = r.choice([6, 8, 12, 15])
        calls = [f"{name}({[base * r.randint(1, 9) for _ in range(4)]!r})"]
        q = ask(r, "compute the greatest common divisor of a list of integers", name)
        expl = "gcd is associative, so folding it over the list with `reduce` gives the gcd of all of them."
    else:
        name = r.choice(["lcm", "lcm_list"])
        src = code(r'''
            from functools import reduce
            from math import gcd


            def {{name}}(numbers):
                return reduce(lambda a, b: a * b // gcd(a, b), numbers)
        ''', name=name)
        calls = [f"{name}({ints(r, 3, 2, 12)!r})"]
        q = ask(r, "compute the least common multiple of several numbers", name,
                extras=["Don't use math.lcm, I'm on an old Python."] if r.random() < 0.5 else [])
        expl = "lcm(a, b) = a * b // gcd(a, b), folded over the list."
    return q, py_reply(r, src, calls, expl)


@template("math")
def t_fibonacci(r):
    n = r.randint(8, 15)
    if r.random() < 0.5:
        name = r.choice(["fib", "fibonacci", "nth_fibonacci"])
        src = code(r'''
            def {{name}}(n):
                a, b = 0, 1
                for _ in range(n):
                    a, b = b, a + b
                return a
        ''', name=name)
        calls = [f"[{name}(i) for i in range({n})]", f"{name}(90)"]
        q = ask(r, "compute the n-th Fibonacci number iteratively", name)
        expl = "Only the last two values are kept, so it's O(n) time and O(1) space, and Python integers never overflow."
    else:
        name = r.choice(["fib_sequence", "fibonacci_numbers"])
        src = code(r'''
            def {{name}}():
                a, b = 0, 1
                while True:
                    yield a
                    a, b = b, a + b
        ''', name=name)
        calls = ["from itertools import islice", f"list(islice({name}(), {n}))"]
        q = ask(r, "write a generator that yields Fibonacci numbers forever", name)
        expl = "The generator is infinite; use `itertools.islice` to take as many as you need."
    return q, py_reply(r, src, calls, expl)


@template("math")
def t_digit_sum(r):
    if r.random() < 0.5:
        name = r.choice(["digit_sum", "sum_of_digits"])
        src = code(r'''
            def {{name}}(n):
                return sum(int(d) for d in str(abs(n)))
        ''', name=name)
        q = ask(r, "compute the sum of the digits of an integer", name)
        expl = "`abs` makes negative numbers work too."
    else:
        name = "digital_root"
        src = code(r'''
            def digital_root(n):
                while n >= 10:
                    n = sum(int(d) for d in str(n))
                return n
        ''')
        q = ask(r, "compute the digital root of a non-negative integer (sum digits until one digit is left)", name)
        expl = "There's also a closed form: `0 if n == 0 else 1 + (n - 1) % 9`."
    calls = [f"{name}({r.randint(1000, 99999999)})" for _ in range(2)]
    return q, py_reply(r, src, calls, expl)


@template("math")
def t_divisors(r):
    if r.random() < 0.5:
        name = r.choice(["divisors", "factors"])
        src = code(r'''
            def {{name}}(n):
                small, large = [], []
                i = 1
                while i * i <= n:
                    if n % i == 0:
                        small.append(i)
                        if i != n // i:
                            large.append(n // i)
                    i += 1
                return small + large[::-1]
        ''', name=name)
        calls = [f"{name}({r.choice([36, 60, 100, 97, 84, 120])})"]
        q = ask(r, "list all divisors of a positive integer in increasing order", name)
        expl = "Divisors come in pairs (i, n // i), so we only loop up to the square root."
    else:
        name = "is_perfect"
        src = code(r'''
            def is_perfect(n):
                if n < 2:
                    return False
                total = 1
                i = 2
                while i * i <= n:
                    if n % i == 0:
                        total += i
                        if i != n // i:
                            total += n // i
                    i += 1
                return total == n
        ''')
        calls = [f"[n for n in range(1, {r.choice([1000, 10000])}) if is_perfect(n)]"]
        q = ask(r, "check whether a number is perfect (equal to the sum of its proper divisors)", name)
        expl = "Proper divisors are summed in pairs up to sqrt(n); 1 is added up front."
    return q, py_reply(r, src, calls, expl)


@template("math")
def t_to_base(r):
    name = r.choice(["to_base", "int_to_base", "convert_base"])
    src = code(r'''
        DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


        def {{name}}(n, base):
            if not 2 <= base <= 36:
                raise ValueError("base must be between 2 and 36")
            if n == 0:
                return "0"
            sign = "-" if n < 0 else ""
            n = abs(n)
            digits = []
            while n:
                n, remainder = divmod(n, base)
                digits.append(DIGITS[remainder])
            return sign + "".join(reversed(digits))
    ''', name=name)
    calls = [f"{name}({r.randint(10, 5000)}, {b})" for b in r.sample([2, 8, 16, 36, 3], 3)]
    q = ask(r, "convert an integer to a string in any base from 2 to 36", name)
    return q, py_reply(r, src, calls, "Repeated `divmod` produces the digits from least to most significant, so they are reversed at the end.",
                       "To go back, `int('FF', 16)` parses any base up to 36.")


@template("math")
def t_armstrong(r):
    name = r.choice(["is_armstrong", "is_narcissistic"])
    src = code(r'''
        def {{name}}(n):
            digits = str(n)
            power = len(digits)
            return n == sum(int(d) ** power for d in digits)
    ''', name=name)
    calls = [f"[n for n in range(100, 1000) if {name}(n)]", f"{name}({r.choice([9474, 9475, 54748])})"]
    q = ask(r, "check whether a number is an Armstrong (narcissistic) number", name)
    return q, py_reply(r, src, calls, "A number is an Armstrong number when it equals the sum of its digits each raised to the number of digits.")


@template("math")
def t_stats(r):
    name = r.choice(["describe", "summary_stats", "basic_stats"])
    src = code(r'''
        from collections import Counter


        def {{name}}(numbers):
            if not numbers:
                raise ValueError("numbers must not be empty")
            ordered = sorted(numbers)
            n = len(ordered)
            mid = n // 2
            median = ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2
            mode = Counter(ordered).most_common(1)[0][0]
            return {"mean": sum(ordered) / n, "median": median, "mode": mode}
    ''', name=name)
    data = ints(r, r.choice([6, 7]), 1, 10)
    q = ask(r, "compute the mean, median and mode of a list of numbers without the statistics module", name)
    return q, py_reply(r, src, [f"{name}({data!r})"], "For an even count the median is the average of the two middle values; ties for the mode go to the smallest value.",
                       "In real code, `statistics.mean`, `statistics.median` and `statistics.mode` do the same job.")


@template("math")
def t_prime_factors(r):
    name = r.choice(["prime_factors", "factorize"])
    src = code(r'''
        def {{name}}(n):
            factors = []
            d = 2
            while d * d <= n:
                while n % d == 0:
                    factors.append(d)
                    n //= d
                d += 1
            if n > 1:
                factors.append(n)
            return factors
    ''', name=name)
    calls = [f"{name}({x})" for x in r.sample([360, 97, 1001, 2 ** 10, 9999, 123456], 2)]
    q = ask(r, "compute the prime factorization of an integer", name,
            extras=["Return the factors with repetition, e.g. 12 -> [2, 2, 3]."] if r.random() < 0.6 else [])
    return q, py_reply(r, src, calls, "Dividing out each factor as soon as it's found means every `d` that divides `n` is prime.")


@template("math")
def t_collatz(r):
    name = r.choice(["collatz_steps", "collatz_length"])
    src = code(r'''
        def {{name}}(n):
            if n < 1:
                raise ValueError("n must be positive")
            steps = 0
            while n != 1:
                n = n // 2 if n % 2 == 0 else 3 * n + 1
                steps += 1
            return steps
    ''', name=name)
    calls = [f"{name}({x})" for x in r.sample([6, 7, 27, 97, 1], 2)]
    q = ask(r, "count how many Collatz steps it takes for a number to reach 1", name)
    return q, py_reply(r, src, calls, "Halve even numbers, map odd numbers to 3n + 1, and count until we hit 1.")


@template("math")
def t_power_of_two(r):
    name = r.choice(["is_power_of_two", "power_of_two"])
    src = code(r'''
        def {{name}}(n):
            return n > 0 and n & (n - 1) == 0
    ''', name=name)
    calls = [f"[n for n in range({r.choice([40, 70, 130])}) if {name}(n)]"]
    q = ask(r, "check whether an integer is a power of two", name,
            extras=["Use bit manipulation."] if r.random() < 0.5 else [])
    return q, py_reply(r, src, calls, "A power of two has exactly one bit set, and `n & (n - 1)` clears the lowest set bit.")


@template("math")
def t_pascal(r):
    rows = r.randint(4, 7)
    name = r.choice(["pascal", "pascal_triangle"])
    src = code(r'''
        def {{name}}(n):
            rows = []
            row = [1]
            for _ in range(n):
                rows.append(row)
                row = [1] + [a + b for a, b in zip(row, row[1:])] + [1]
            return rows
    ''', name=name)
    q = ask(r, f"generate the first {rows} rows of Pascal's triangle", name)
    return q, py_reply(r, src, [f"{name}({rows})"], "Each new row is 1, the pairwise sums of the previous row, and 1.")


@template("math")
def t_roman(r):
    if r.random() < 0.5:
        name = "to_roman"
        src = code(r'''
            NUMERALS = [
                (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"),
                (100, "C"), (90, "XC"), (50, "L"), (40, "XL"),
                (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
            ]


            def to_roman(n):
                if not 0 < n < 4000:
                    raise ValueError("n must be between 1 and 3999")
                parts = []
                for value, symbol in NUMERALS:
                    count, n = divmod(n, value)
                    parts.append(symbol * count)
                return "".join(parts)
        ''')
        calls = [f"to_roman({x})" for x in r.sample([4, 9, 14, 40, 1994, 2024, 3999, 58], 3)]
        q = ask(r, "convert an integer to a Roman numeral", name)
        expl = "Listing the subtractive pairs (CM, XC, IV, ...) as their own symbols makes a greedy loop enough."
    else:
        name = "from_roman"
        src = code(r'''
            VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}


            def from_roman(s):
                total = 0
                for i, ch in enumerate(s):
                    value = VALUES[ch]
                    if i + 1 < len(s) and VALUES[s[i + 1]] > value:
                        total -= value
                    else:
                        total += value
                return total
        ''')
        calls = [f"from_roman({x!r})" for x in r.sample(["XIV", "MCMXCIV", "MMXXIV", "LVIII", "IX", "CDXLIV"], 3)]
        q = ask(r, "convert a Roman numeral string to an integer", name)
        expl = "A symbol smaller than the one after it is subtracted (the I in IV), otherwise added."
    return q, py_reply(r, src, calls, expl)


@template("math")
def t_fizzbuzz(r):
    a, b = r.choice([(3, 5), (3, 7), (2, 5), (4, 6)])
    wa, wb = r.choice([("Fizz", "Buzz"), ("Foo", "Bar"), ("Ping", "Pong")])
    n = r.choice([15, 20, 30])
    name = r.choice(["fizzbuzz", "play_game"])
    src = code(r'''
        def {{name}}(n):
            lines = []
            for i in range(1, n + 1):
                word = ""
                if i % {{a}} == 0:
                    word += "{{wa}}"
                if i % {{b}} == 0:
                    word += "{{wb}}"
                lines.append(word or str(i))
            return lines
    ''', name=name, a=a, b=b, wa=wa, wb=wb)
    q = r.choice([
        f"Write a FizzBuzz variant in Python: for 1..{n}, print '{wa}' for multiples of {a}, '{wb}' for multiples of {b}, and '{wa}{wb}' for both.",
        f"Implement FizzBuzz but with {a} -> {wa} and {b} -> {wb}, up to {n}. Python.",
    ])
    return q, py_reply(r, src, [f"print(' '.join({name}({n})))"],
                       "Building the word piece by piece handles the 'both' case without a separate branch; the function returns the lines so it's easy to test.")


@template("math")
def t_leap_year(r):
    name = r.choice(["is_leap", "is_leap_year"])
    src = code(r'''
        def {{name}}(year):
            return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    ''', name=name)
    calls = [f"[(y, {name}(y)) for y in {r.sample([1900, 2000, 2023, 2024, 2100, 1996], 4)!r}]"]
    q = ask(r, "check whether a year is a leap year", name)
    return q, py_reply(r, src, calls, "Divisible by 4, except centuries, except centuries divisible by 400.",
                       "The standard library has this as `calendar.isleap(year)`.")


@template("math")
def t_compound_interest(r):
    name = r.choice(["compound_interest", "future_value"])
    src = code(r'''
        def {{name}}(principal, annual_rate, years, periods_per_year=12):
            rate = annual_rate / periods_per_year
            return round(principal * (1 + rate) ** (periods_per_year * years), 2)
    ''', name=name)
    p, rate, y = r.choice([1000, 2500, 10000]), r.choice([0.03, 0.05, 0.07]), r.randint(2, 20)
    q = ask(r, "calculate compound interest given a principal, an annual rate and a number of years", name,
            extras=["Compound monthly by default."])
    return q, py_reply(r, src, [f"{name}({p}, {rate}, {y})", f"{name}({p}, {rate}, {y}, periods_per_year=1)"],
                       "The rate is split across the compounding periods; the result is rounded to cents.",
                       "For money, `decimal.Decimal` avoids binary floating-point rounding surprises.")
