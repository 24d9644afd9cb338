"""Clean templates: SQL queries and schema statements."""

from __future__ import annotations

from .registry import family_registry
from .text import cap, code, reply

TEMPLATES, template = family_registry()


SQL_SCHEMAS = [
    # (people table, person label, orders table, amount column, date column)
    ("customers", "customer", "orders", "amount", "created_at"),
    ("clients", "client", "invoices", "total", "issued_on"),
    ("users", "user", "purchases", "price", "purchased_at"),
]


def sql_ask(r, what, tables):
    return r.choice([
        f"Write a SQL query to {what}.",
        f"How do I {what} in SQL?",
        f"SQL question: I have {tables}. I need to {what}.",
        f"Given the tables {tables}, {what}. Which query should I use?",
        f"Can you help with a query? {cap(what)}. Tables: {tables}.",
    ])


@template("sql")
def t_sql_top_customers(r):
    people, label, orders, amount, _ = r.choice(SQL_SCHEMAS)
    n = r.choice([3, 5, 10])
    src = code(r'''
        SELECT p.id,
               p.name,
               SUM(o.{{amount}}) AS total_spent,
               COUNT(*) AS order_count
        FROM {{people}} AS p
        JOIN {{orders}} AS o ON o.{{label}}_id = p.id
        GROUP BY p.id, p.name
        ORDER BY total_spent DESC
        LIMIT {{n}};
    ''', amount=amount, people=people, orders=orders, label=label, n=n)
    tables = f"`{people}(id, name)` and `{orders}(id, {label}_id, {amount})`"
    q = sql_ask(r, f"find the top {n} {label}s by total {amount}", tables)
    return q, reply(r, src, "sql", f"Join each {label} to their {orders}, aggregate per {label}, and keep the {n} largest totals.",
                    note="Use `LEFT JOIN` and `COALESCE(SUM(...), 0)` if you also want people with no orders. On SQL Server, use `SELECT TOP " + str(n) + "` instead of `LIMIT`.")


@template("sql")
def t_sql_second_salary(r):
    if r.random() < 0.5:
        src = code(r'''
            SELECT MAX(salary) AS second_highest_salary
            FROM employees
            WHERE salary < (SELECT MAX(salary) FROM employees);
        ''')
        expl = "The subquery finds the top salary; the outer query takes the largest salary below it. It returns NULL when there is no second value."
    else:
        src = code(r'''
            SELECT DISTINCT salary
            FROM employees
            ORDER BY salary DESC
            LIMIT 1 OFFSET 1;
        ''')
        expl = "`DISTINCT` makes ties at the top count once; `OFFSET 1` skips the highest salary."
    q = sql_ask(r, "get the second highest salary", "`employees(id, name, salary)`")
    return q, reply(r, src, "sql", expl, note="For the n-th highest in general, `DENSE_RANK() OVER (ORDER BY salary DESC)` is the cleanest option.")


@template("sql")
def t_sql_duplicates(r):
    table, col = r.choice([("users", "email"), ("contacts", "phone"), ("products", "sku")])
    src = code(r'''
        SELECT {{col}}, COUNT(*) AS occurrences
        FROM {{table}}
        GROUP BY {{col}}
        HAVING COUNT(*) > 1
        ORDER BY occurrences DESC;
    ''', col=col, table=table)
    q = sql_ask(r, f"find duplicate {col} values in the {table} table", f"`{table}(id, {col}, ...)`")
    a = reply(r, src, "sql", "`HAVING` filters groups after aggregation, which `WHERE` cannot do.")
    if r.random() < 0.6:
        a += "\n\nTo see the full duplicate rows:\n\n```sql\n" + code(r'''
            SELECT *
            FROM {{table}}
            WHERE {{col}} IN (
                SELECT {{col}} FROM {{table}} GROUP BY {{col}} HAVING COUNT(*) > 1
            )
            ORDER BY {{col}}, id;
        ''', col=col, table=table) + "\n```"
    return q, a


@template("sql")
def t_sql_above_avg(r):
    cte = r.random() < 0.5
    if cte:
        src = code(r'''
            WITH dept_avg AS (
                SELECT department_id, AVG(salary) AS avg_salary
                FROM employees
                GROUP BY department_id
            )
            SELECT e.name, e.salary, d.name AS department, ROUND(a.avg_salary, 2) AS department_avg
            FROM employees AS e
            JOIN dept_avg AS a ON a.department_id = e.department_id
            JOIN departments AS d ON d.id = e.department_id
            WHERE e.salary > a.avg_salary
            ORDER BY d.name, e.salary DESC;
        ''')
        expl = "The CTE computes each department's average once; the main query joins it back and filters."
    else:
        src = code(r'''
            SELECT e.name, e.salary
            FROM employees AS e
            WHERE e.salary > (
                SELECT AVG(e2.salary)
                FROM employees AS e2
                WHERE e2.department_id = e.department_id
            );
        ''')
        expl = "The correlated subquery computes the average of the current employee's own department."
    q = sql_ask(r, "list employees who earn more than the average salary of their department",
                "`employees(id, name, department_id, salary)` and `departments(id, name)`")
    return q, reply(r, src, "sql", expl)


@template("sql")
def t_sql_monthly(r):
    _, label, orders, amount, date_col = r.choice(SQL_SCHEMAS)
    dialect = r.choice(["PostgreSQL", "SQLite", "MySQL"])
    month_expr = {
        "PostgreSQL": f"date_trunc('month', {date_col})",
        "SQLite": f"strftime('%Y-%m', {date_col})",
        "MySQL": f"DATE_FORMAT({date_col}, '%Y-%m')",
    }[dialect]
    year = r.choice([2023, 2024, 2025])
    src = code(r'''
        SELECT {{month}} AS month,
               COUNT(*) AS {{orders}}_count,
               SUM({{amount}}) AS revenue
        FROM {{orders}}
        WHERE {{date_col}} >= '{{year}}-01-01' AND {{date_col}} < '{{next}}-01-01'
        GROUP BY 1
        ORDER BY 1;
    ''', month=month_expr, orders=orders, amount=amount, date_col=date_col, year=year, next=year + 1)
    q = sql_ask(r, f"count {orders} and total {amount} per month for {year} ({dialect})",
                f"`{orders}(id, {label}_id, {amount}, {date_col})`")
    return q, reply(r, src, "sql", f"`{month_expr}` buckets each row by month. The half-open date range keeps the filter index-friendly.",
                    note="`GROUP BY 1` refers to the first selected column; spell the expression out if your team prefers.")


@template("sql")
def t_sql_create_table(r):
    table = r.choice(["books", "employees", "tickets"])
    cols = {
        "books": "    title       TEXT NOT NULL,\n    author      TEXT NOT NULL,\n    isbn        CHAR(13) UNIQUE,\n    price       NUMERIC(8, 2) CHECK (price >= 0),\n    published   DATE,",
        "employees": "    name        TEXT NOT NULL,\n    email       TEXT NOT NULL UNIQUE,\n    salary      NUMERIC(10, 2) CHECK (salary > 0),\n    manager_id  INTEGER REFERENCES employees (id),\n    hired_on    DATE NOT NULL DEFAULT CURRENT_DATE,",
        "tickets": "    title       TEXT NOT NULL,\n    status      TEXT NOT NULL DEFAULT 'open'\n                CHECK (status IN ('open', 'in_progress', 'closed')),\n    priority    SMALLINT NOT NULL DEFAULT 3 CHECK (priority BETWEEN 1 AND 5),\n    assignee_id INTEGER,",
    }[table]
    src = f"CREATE TABLE {table} (\n    id          SERIAL PRIMARY KEY,\n{cols}\n    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()\n);"
    q = r.choice([
        f"Write a PostgreSQL CREATE TABLE statement for a {table} table with sensible constraints.",
        f"How should I define a {table} table in Postgres? I want primary key, not-null and check constraints.",
    ])
    return q, reply(r, src, "sql", "Constraints in the schema keep bad data out no matter which application writes to the table.",
                    note="On PostgreSQL 10+ you can write `id INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY` instead of `SERIAL`.")


@template("sql")
def t_sql_no_orders(r):
    people, label, orders, _, _ = r.choice(SQL_SCHEMAS)
    if r.random() < 0.5:
        src = code(r'''
            SELECT p.id, p.name
            FROM {{people}} AS p
            LEFT JOIN {{orders}} AS o ON o.{{label}}_id = p.id
            WHERE o.id IS NULL;
        ''', people=people, orders=orders, label=label)
        expl = "The LEFT JOIN keeps every row of the left table; rows without a match have NULLs on the right side."
    else:
        src = code(r'''
            SELECT p.id, p.name
            FROM {{people}} AS p
            WHERE NOT EXISTS (
                SELECT 1 FROM {{orders}} AS o WHERE o.{{label}}_id = p.id
            );
        ''', people=people, orders=orders, label=label)
        expl = "`NOT EXISTS` reads naturally and, unlike `NOT IN`, behaves correctly when the subquery can return NULLs."
    q = sql_ask(r, f"find {people} who have never placed any {orders}", f"`{people}(id, name)` and `{orders}(id, {label}_id)`")
    return q, reply(r, src, "sql", expl)


@template("sql")
def t_sql_window(r):
    if r.random() < 0.5:
        _, label, orders, amount, date_col = r.choice(SQL_SCHEMAS)
        src = code(r'''
            SELECT {{label}}_id,
                   {{date_col}},
                   {{amount}},
                   SUM({{amount}}) OVER (
                       PARTITION BY {{label}}_id
                       ORDER BY {{date_col}}
                       ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
                   ) AS running_total
            FROM {{orders}}
            ORDER BY {{label}}_id, {{date_col}};
        ''', label=label, date_col=date_col, amount=amount, orders=orders)
        q = sql_ask(r, f"compute a running total of {amount} per {label} ordered by date", f"`{orders}(id, {label}_id, {amount}, {date_col})`")
        expl = "A window function adds the running total to every row without collapsing rows the way GROUP BY would."
    else:
        fn = r.choice(["ROW_NUMBER", "RANK", "DENSE_RANK"])
        n = r.choice([2, 3])
        src = code(r'''
            SELECT name, department_id, salary
            FROM (
                SELECT name,
                       department_id,
                       salary,
                       {{fn}}() OVER (PARTITION BY department_id ORDER BY salary DESC) AS rnk
                FROM employees
            ) AS ranked
            WHERE rnk <= {{n}}
            ORDER BY department_id, rnk;
        ''', fn=fn, n=n)
        q = sql_ask(r, f"get the top {n} earners in each department", "`employees(id, name, department_id, salary)`")
        expl = {"ROW_NUMBER": "`ROW_NUMBER` gives exactly n rows per department, breaking ties arbitrarily.",
                "RANK": "`RANK` keeps ties, so a department can return more than n rows, and it leaves gaps after ties.",
                "DENSE_RANK": "`DENSE_RANK` keeps ties and does not skip ranks, so it returns the top n distinct salaries."}[fn]
        expl = "Window functions can't be used in WHERE directly, hence the subquery. " + expl
    return q, reply(r, src, "sql", expl)


@template("sql")
def t_sql_update_delete(r):
    if r.random() < 0.5:
        pct = r.choice([5, 10, 15])
        cat = r.choice(["books", "toys", "garden", "electronics"])
        src = code(r'''
            BEGIN;

            UPDATE products
            SET price = ROUND(price * {{factor}}, 2)
            WHERE category = '{{cat}}';

            -- check the result before making it permanent
            SELECT id, name, price FROM products WHERE category = '{{cat}}';

            COMMIT;
        ''', factor=f"{1 + pct / 100:.2f}", cat=cat)
        q = sql_ask(r, f"raise the price of every product in the '{cat}' category by {pct}%", "`products(id, name, category, price)`")
        expl = "Wrapping the update in a transaction lets you inspect the result and `ROLLBACK` if something looks wrong."
    else:
        days = r.choice([30, 90, 365])
        src = code(r'''
            DELETE FROM sessions
            WHERE last_seen < CURRENT_TIMESTAMP - INTERVAL '{{days}} days';
        ''', days=days)
        q = sql_ask(r, f"delete sessions that haven't been seen for {days} days (PostgreSQL)", "`sessions(id, user_id, last_seen)`")
        expl = "Run the same WHERE clause as a `SELECT COUNT(*)` first to see how many rows will go."
    return q, reply(r, src, "sql", expl)


@template("sql")
def t_sql_python(r):
    table = r.choice(["users", "books", "notes"])
    src = code(r'''
        import sqlite3


        def find_by_name(db_path, name):
            with sqlite3.connect(db_path) as conn:
                conn.row_factory = sqlite3.Row
                rows = conn.execute(
                    "SELECT * FROM {{table}} WHERE name = ? ORDER BY id",
                    (name,),
                ).fetchall()
            return [dict(row) for row in rows]
    ''', table=table)
    q = r.choice([
        f"How do I safely run a SELECT with a user-supplied value using sqlite3 in Python? Table is {table}.",
        "How do I avoid SQL injection when querying SQLite from Python?",
    ])
    return q, reply(r, src, "python", "The `?` placeholder sends the value separately from the SQL text, so it can never change the query's structure. Never build SQL with f-strings or `%`.",
                    note="`sqlite3.Row` lets you access columns by name; `dict(row)` converts each row for JSON output.")


SQL_SNIPPETS = [
    ("How do I count distinct values of a column in SQL?", "```sql\nSELECT COUNT(DISTINCT country) FROM customers;\n```"),
    ("How do I replace NULL with 0 in a SQL SELECT?", "Use `COALESCE`:\n\n```sql\nSELECT name, COALESCE(discount, 0) AS discount FROM orders;\n```"),
    ("How do I do an if/else inside a SQL query?",
     "Use a `CASE` expression:\n\n```sql\nSELECT name,\n       CASE\n           WHEN score >= 90 THEN 'A'\n           WHEN score >= 75 THEN 'B'\n           ELSE 'C'\n       END AS grade\nFROM results;\n```"),
    ("How do I select rows where a column matches one of several values?", "```sql\nSELECT * FROM orders WHERE status IN ('shipped', 'delivered');\n```"),
    ("What's the SQL to get the 10 most recent rows?", "```sql\nSELECT * FROM events ORDER BY created_at DESC LIMIT 10;\n```"),
    ("How do I search for rows where a text column contains a word in SQL?",
     "```sql\nSELECT * FROM articles WHERE title LIKE '%python%';\n```\n\nOn PostgreSQL use `ILIKE` for a case-insensitive match. A leading `%` prevents normal indexes from being used."),
]


@template("sql", weight=2)
def t_sql_snippet(r):
    return r.choice(SQL_SNIPPETS)
