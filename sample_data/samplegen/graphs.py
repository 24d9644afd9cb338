"""Clean templates: graph algorithms (BFS, cycles, Dijkstra, topological sort, union-find...)."""

from __future__ import annotations

from .registry import family_registry
from .text import ask, code, py_reply

TEMPLATES, template = family_registry()


@template("graphs")
def t_bfs_path(r):
    nodes = ["A", "B", "C", "D", "E", "F"]
    graph = {"A": ["B", "C"], "B": ["A", "D"], "C": ["A", "D", "E"], "D": ["B", "C", "F"], "E": ["C", "F"], "F": ["D", "E"]}
    start, goal = r.sample(nodes, 2)
    src = code(r'''
        from collections import deque


        def shortest_path(graph, start, goal):
            previous = {start: None}
            queue = deque([start])
            while queue:
                node = queue.popleft()
                if node == goal:
                    path = []
                    while node is not None:
                        path.append(node)
                        node = previous[node]
                    return path[::-1]
                for neighbor in graph.get(node, []):
                    if neighbor not in previous:
                        previous[neighbor] = node
                        queue.append(neighbor)
            return None
    ''')
    calls = [f"graph = {graph!r}", f"shortest_path(graph, {start!r}, {goal!r})"]
    q = ask(r, "find the shortest path between two nodes in an unweighted graph given as an adjacency dict", "shortest_path")
    return q, py_reply(r, src, calls, "Breadth-first search reaches nodes in order of distance, so the first time we pop the goal we have a shortest path; `previous` lets us walk it back.",
                       "O(V + E) time.")


@template("graphs")
def t_cycle(r):
    src = code(r'''
        def has_cycle(graph):
            WHITE, GRAY, BLACK = 0, 1, 2
            color = {node: WHITE for node in graph}

            def visit(node):
                color[node] = GRAY
                for neighbor in graph.get(node, []):
                    state = color.get(neighbor, WHITE)
                    if state == GRAY:
                        return True
                    if state == WHITE and visit(neighbor):
                        return True
                color[node] = BLACK
                return False

            return any(color[node] == WHITE and visit(node) for node in graph)
    ''')
    acyclic = {"a": ["b", "c"], "b": ["d"], "c": ["d"], "d": []}
    cyclic = {"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}
    calls = [f"has_cycle({acyclic!r})", f"has_cycle({cyclic!r})"]
    q = ask(r, "detect whether a directed graph has a cycle", "has_cycle")
    return q, py_reply(r, src, calls, "Depth-first search with three colours: reaching a GRAY node means we found an edge back into the current path, i.e. a cycle.")


@template("graphs")
def t_dijkstra(r):
    names = r.sample(["home", "school", "park", "mall", "library", "station", "office"], 5)
    edges = {}
    for i, n in enumerate(names):
        targets = [m for m in names if m != n]
        edges[n] = {m: r.randint(1, 9) for m in r.sample(targets, 2)}
        if i + 1 < len(names):  # keep the last node reachable
            edges[n].setdefault(names[i + 1], r.randint(3, 12))
    src = code(r'''
        import heapq


        def dijkstra(graph, source):
            """Shortest distances from source in a graph with non-negative edge weights.

            graph maps each node to a dict {neighbor: weight}.
            Returns (dist, previous) so paths can be rebuilt with build_path.
            """
            dist = {source: 0}
            previous = {source: None}
            heap = [(0, source)]
            visited = set()
            while heap:
                d, node = heapq.heappop(heap)
                if node in visited:
                    continue
                visited.add(node)
                for neighbor, weight in graph.get(node, {}).items():
                    if weight < 0:
                        raise ValueError("Dijkstra needs non-negative weights")
                    candidate = d + weight
                    if candidate < dist.get(neighbor, float("inf")):
                        dist[neighbor] = candidate
                        previous[neighbor] = node
                        heapq.heappush(heap, (candidate, neighbor))
            return dist, previous


        def build_path(previous, target):
            if target not in previous:
                return None
            path = []
            while target is not None:
                path.append(target)
                target = previous[target]
            return path[::-1]
    ''')
    src_node = names[0]
    calls = [f"graph = {edges!r}", f"dist, previous = dijkstra(graph, {src_node!r})", "dist",
             f"build_path(previous, {names[-1]!r})"]
    q = r.choice([
        "Implement Dijkstra's algorithm in Python with a priority queue, and show how to recover the actual path.",
        "How do I find the shortest route between places in a weighted graph? Python please, with an example.",
        f"Write a Python function for single-source shortest paths on a weighted directed graph (non-negative weights). Start from '{src_node}'.",
    ])
    a = py_reply(r, src, calls, "The heap always yields the closest unvisited node; stale heap entries are skipped with the `visited` set. Unreachable nodes are simply absent from `dist`.",
                 "Time O((V + E) log V) with a binary heap. For negative weights, use Bellman-Ford instead.", p_example=1.0, p_note=0.9)
    return q, a


@template("graphs")
def t_toposort(r):
    tasks = {"install": [], "configure": ["install"], "build": ["configure"], "test": ["build"],
             "docs": ["configure"], "release": ["test", "docs"]}
    items = list(tasks.items())
    r.shuffle(items)
    deps = dict(items)
    src = code(r'''
        from collections import deque


        def topological_order(dependencies):
            """dependencies maps each task to the tasks it depends on."""
            indegree = {task: len(deps) for task, deps in dependencies.items()}
            dependents = {task: [] for task in dependencies}
            for task, deps in dependencies.items():
                for dep in deps:
                    dependents[dep].append(task)
            ready = deque(task for task, n in indegree.items() if n == 0)
            order = []
            while ready:
                task = ready.popleft()
                order.append(task)
                for nxt in dependents[task]:
                    indegree[nxt] -= 1
                    if indegree[nxt] == 0:
                        ready.append(nxt)
            if len(order) != len(dependencies):
                raise ValueError("dependency cycle detected")
            return order
    ''')
    q = r.choice([
        "Given tasks and their dependencies, how do I compute an order to run them in? Python.",
        "Implement topological sort (Kahn's algorithm) in Python and detect cycles.",
        "I need a script to order build steps so each step runs after the steps it depends on.",
    ])
    return q, py_reply(r, src, [f"topological_order({deps!r})"], "Kahn's algorithm repeatedly takes a task with no remaining dependencies; if some tasks are never freed there is a cycle.")


@template("graphs")
def t_islands(r):
    grid = [[r.choice([0, 0, 1]) for _ in range(5)] for _ in range(4)]
    src = code(r'''
        def count_islands(grid):
            if not grid:
                return 0
            rows, cols = len(grid), len(grid[0])
            seen = set()

            def sink(r, c):
                stack = [(r, c)]
                while stack:
                    r, c = stack.pop()
                    if (r, c) in seen or not (0 <= r < rows and 0 <= c < cols) or grid[r][c] != 1:
                        continue
                    seen.add((r, c))
                    stack.extend([(r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)])

            count = 0
            for r in range(rows):
                for c in range(cols):
                    if grid[r][c] == 1 and (r, c) not in seen:
                        sink(r, c)
                        count += 1
            return count
    ''')
    q = ask(r, "count the islands (groups of 1s connected horizontally or vertically) in a 0/1 grid", "count_islands")
    return q, py_reply(r, src, [f"count_islands({grid!r})"], "Each unvisited land cell starts a new island, and an iterative flood fill marks the whole island as seen (no recursion-depth issues on big grids).")


@template("graphs")
def t_union_find(r):
    src = code(r'''
        class UnionFind:
            def __init__(self, n):
                self.parent = list(range(n))
                self.size = [1] * n
                self.components = n

            def find(self, x):
                root = x
                while self.parent[root] != root:
                    root = self.parent[root]
                while self.parent[x] != root:
                    self.parent[x], x = root, self.parent[x]
                return root

            def union(self, a, b):
                ra, rb = self.find(a), self.find(b)
                if ra == rb:
                    return False
                if self.size[ra] < self.size[rb]:
                    ra, rb = rb, ra
                self.parent[rb] = ra
                self.size[ra] += self.size[rb]
                self.components -= 1
                return True

            def connected(self, a, b):
                return self.find(a) == self.find(b)
    ''')
    pairs = [tuple(r.sample(range(8), 2)) for _ in range(4)]
    calls = ["uf = UnionFind(8)"] + [f"uf.union{p}" for p in pairs] + [f"uf.connected{pairs[0]}", "uf.components"]
    q = r.choice([
        "Implement a union-find (disjoint set) data structure in Python with path compression and union by size.",
        "How do I count connected components efficiently as edges are added? Python.",
    ])
    return q, py_reply(r, src, calls, "Union by size keeps trees shallow and path compression flattens them on every `find`, giving near-constant amortized time per operation.")


@template("graphs")
def t_grid_path(r):
    rows, cols = 5, 6
    grid = [["." for _ in range(cols)] for _ in range(rows)]
    for _ in range(7):
        grid[r.randint(0, rows - 1)][r.randint(1, cols - 2)] = "#"
    grid[0][0], grid[rows - 1][cols - 1] = "S", "E"
    lines = ["".join(row) for row in grid]
    src = code(r'''
        from collections import deque

        MOVES = [(1, 0), (-1, 0), (0, 1), (0, -1)]


        def parse_grid(lines):
            grid = [list(line) for line in lines]
            start = end = None
            for r, row in enumerate(grid):
                for c, cell in enumerate(row):
                    if cell == "S":
                        start = (r, c)
                    elif cell == "E":
                        end = (r, c)
            if start is None or end is None:
                raise ValueError("grid needs an S and an E")
            return grid, start, end


        def solve_maze(lines):
            """Shortest path from S to E avoiding '#'. Returns the grid with the path drawn as '*'."""
            grid, start, end = parse_grid(lines)
            rows, cols = len(grid), len(grid[0])
            previous = {start: None}
            queue = deque([start])
            while queue:
                cell = queue.popleft()
                if cell == end:
                    break
                r, c = cell
                for dr, dc in MOVES:
                    nr, nc = r + dr, c + dc
                    if 0 <= nr < rows and 0 <= nc < cols and grid[nr][nc] != "#" \
                            and (nr, nc) not in previous:
                        previous[(nr, nc)] = cell
                        queue.append((nr, nc))
            if end not in previous:
                return None
            step = previous[end]
            length = 1
            while step != start:
                grid[step[0]][step[1]] = "*"
                step = previous[step]
                length += 1
            return length, ["".join(row) for row in grid]


        def show(lines):
            result = solve_maze(lines)
            if result is None:
                print("no path")
                return
            length, drawn = result
            print(f"path length: {length}")
            print("\n".join(drawn))
    ''')
    q = r.choice([
        "Write a Python program that finds the shortest path through a text maze ('S' start, 'E' end, '#' walls) and draws the path.",
        "How do I solve a grid maze with BFS in Python and print the route?",
    ])
    calls = [f"maze = {lines!r}", "show(maze)"]
    return q, py_reply(r, src, calls, "BFS explores the grid level by level, so the first time it reaches E the path is shortest. The path is then traced back through `previous` and drawn with '*'.",
                       "Time and memory are O(rows * cols).", p_example=1.0)
