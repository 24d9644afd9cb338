"""Clean templates: Go (task ``go``)."""

from __future__ import annotations

from .registry import family_registry
from .text import ask, code, reply
from .vocab import NAMES, WORDS

TEMPLATES, template = family_registry()


@template("go")
def t_go_reverse(r):
    s = r.choice(["Hello, 世界", "gopher", "résumé", "racecar!"])
    src = code(r'''
        package main

        import "fmt"

        func reverse(s string) string {
        	runes := []rune(s)
        	for i, j := 0, len(runes)-1; i < j; i, j = i+1, j-1 {
        		runes[i], runes[j] = runes[j], runes[i]
        	}
        	return string(runes)
        }

        func main() {
        	fmt.Println(reverse("{{s}}")) // {{out}}
        }
    ''', s=s, out=s[::-1])
    q = ask(r, "reverse a string", "reverse", lang="Go", extras=["It must work with non-ASCII text."] if r.random() < 0.6 else [])
    return q, reply(r, src, "go", "Converting to `[]rune` reverses characters (code points) instead of bytes, so multi-byte UTF-8 characters stay intact.")


@template("go")
def t_go_word_count(r):
    src = code(r'''
        package main

        import (
        	"bufio"
        	"fmt"
        	"os"
        	"sort"
        	"strings"
        )

        func main() {
        	counts := make(map[string]int)
        	scanner := bufio.NewScanner(os.Stdin)
        	scanner.Split(bufio.ScanWords)
        	for scanner.Scan() {
        		word := strings.ToLower(strings.Trim(scanner.Text(), ".,;:!?\"'()"))
        		if word != "" {
        			counts[word]++
        		}
        	}
        	if err := scanner.Err(); err != nil {
        		fmt.Fprintln(os.Stderr, "read error:", err)
        		os.Exit(1)
        	}

        	words := make([]string, 0, len(counts))
        	for w := range counts {
        		words = append(words, w)
        	}
        	sort.Slice(words, func(i, j int) bool {
        		if counts[words[i]] != counts[words[j]] {
        			return counts[words[i]] > counts[words[j]]
        		}
        		return words[i] < words[j]
        	})
        	for i, w := range words {
        		if i == {{n}} {
        			break
        		}
        		fmt.Printf("%-15s %d\n", w, counts[w])
        	}
        }
    ''', n=r.choice([5, 10, 20]))
    q = ask(r, "count word frequencies in text read from standard input and print the most common words", lang="Go")
    return q, reply(r, src, "go", "`bufio.ScanWords` splits the input on whitespace. Map iteration order in Go is random, so the words are sorted by count and then alphabetically to make the output stable.",
                    "$ cat README.md | go run wordcount.go", example_lang="bash")


@template("go")
def t_go_http(r):
    port = r.choice([8080, 8000, 9090])
    path = r.choice(["/hello", "/greet", "/api/hello"])
    src = code(r'''
        package main

        import (
        	"encoding/json"
        	"log"
        	"net/http"
        )

        type greeting struct {
        	Message string `json:"message"`
        }

        func helloHandler(w http.ResponseWriter, r *http.Request) {
        	if r.Method != http.MethodGet {
        		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
        		return
        	}
        	name := r.URL.Query().Get("name")
        	if name == "" {
        		name = "world"
        	}
        	w.Header().Set("Content-Type", "application/json")
        	json.NewEncoder(w).Encode(greeting{Message: "Hello, " + name + "!"})
        }

        func main() {
        	mux := http.NewServeMux()
        	mux.HandleFunc("{{path}}", helloHandler)
        	log.Println("listening on :{{port}}")
        	log.Fatal(http.ListenAndServe(":{{port}}", mux))
        }
    ''', port=port, path=path)
    q = r.choice([
        f"How do I write a minimal HTTP server in Go that returns JSON on {path}?",
        f"Write a Go web server on port {port} with a handler that greets ?name=... in JSON.",
    ])
    return q, reply(r, src, "go", "Only the standard library is needed: `net/http` for the server and `encoding/json` for the response body.",
                    f"$ curl 'localhost:{port}{path}?name=Ada'\n{{\"message\":\"Hello, Ada!\"}}", example_lang="bash")


@template("go")
def t_go_read_lines(r):
    src = code(r'''
        package main

        import (
        	"bufio"
        	"fmt"
        	"os"
        )

        func readLines(path string) ([]string, error) {
        	f, err := os.Open(path)
        	if err != nil {
        		return nil, err
        	}
        	defer f.Close()

        	var lines []string
        	scanner := bufio.NewScanner(f)
        	for scanner.Scan() {
        		lines = append(lines, scanner.Text())
        	}
        	return lines, scanner.Err()
        }

        func main() {
        	lines, err := readLines("{{file}}")
        	if err != nil {
        		fmt.Fprintln(os.Stderr, "error:", err)
        		os.Exit(1)
        	}
        	fmt.Printf("%d lines\n", len(lines))
        }
    ''', file=r.choice(["input.txt", "config.ini", "data.csv"]))
    q = ask(r, "read a file line by line", "readLines", lang="Go")
    return q, reply(r, src, "go", "`bufio.Scanner` strips the line endings for you; always check `scanner.Err()` after the loop.",
                    note="Lines longer than 64 KiB need a bigger buffer: `scanner.Buffer(make([]byte, 1024*1024), 1024*1024)`.")


@template("go")
def t_go_worker_pool(r):
    workers = r.choice([3, 4, 5])
    jobs = r.choice([8, 10, 12])
    src = code(r'''
        package main

        import (
        	"fmt"
        	"sync"
        	"time"
        )

        type result struct {
        	job    int
        	output int
        	worker int
        }

        func worker(id int, jobs <-chan int, results chan<- result, wg *sync.WaitGroup) {
        	defer wg.Done()
        	for n := range jobs {
        		time.Sleep(10 * time.Millisecond) // simulate work
        		results <- result{job: n, output: n * n, worker: id}
        	}
        }

        func main() {
        	const numWorkers = {{workers}}
        	const numJobs = {{jobs}}

        	jobs := make(chan int)
        	results := make(chan result, numJobs)

        	var wg sync.WaitGroup
        	for w := 1; w <= numWorkers; w++ {
        		wg.Add(1)
        		go worker(w, jobs, results, &wg)
        	}

        	go func() {
        		for n := 1; n <= numJobs; n++ {
        			jobs <- n
        		}
        		close(jobs)
        	}()

        	go func() {
        		wg.Wait()
        		close(results)
        	}()

        	total := 0
        	for res := range results {
        		fmt.Printf("worker %d: %d^2 = %d\n", res.worker, res.job, res.output)
        		total += res.output
        	}
        	fmt.Println("sum of squares:", total)
        }
    ''', workers=workers, jobs=jobs)
    total = sum(n * n for n in range(1, jobs + 1))
    q = r.choice([
        f"How do I build a worker pool in Go with {workers} goroutines processing jobs from a channel?",
        "Show me the goroutine + channel + WaitGroup pattern in Go for processing jobs in parallel.",
    ])
    return q, reply(r, src, "go", "Closing `jobs` ends each worker's `range` loop; a separate goroutine waits for all workers and then closes `results`, which ends the main loop. Results arrive in whatever order the workers finish.",
                    note=f"The last line always prints `sum of squares: {total}`, whatever the order of the other lines.")


@template("go")
def t_go_stack(r):
    src = code(r'''
        package main

        import "fmt"

        type Stack[T any] struct {
        	items []T
        }

        func (s *Stack[T]) Push(v T) {
        	s.items = append(s.items, v)
        }

        func (s *Stack[T]) Pop() (T, bool) {
        	var zero T
        	if len(s.items) == 0 {
        		return zero, false
        	}
        	last := s.items[len(s.items)-1]
        	s.items = s.items[:len(s.items)-1]
        	return last, true
        }

        func (s *Stack[T]) Len() int { return len(s.items) }

        func main() {
        	var s Stack[string]
        	s.Push("{{a}}")
        	s.Push("{{b}}")
        	v, ok := s.Pop()
        	fmt.Println(v, ok, s.Len()) // {{b}} true 1
        }
    ''', a=r.choice(WORDS), b=r.choice(WORDS))
    q = ask(r, "implement a generic stack", "Stack", lang="Go", extras=["Use type parameters (Go 1.18+)."] if r.random() < 0.5 else [])
    return q, reply(r, src, "go", "`Pop` returns a second boolean instead of panicking on an empty stack, the usual Go idiom.")


@template("go")
def t_go_json(r):
    src = code(r'''
        package main

        import (
        	"encoding/json"
        	"fmt"
        	"log"
        )

        type User struct {
        	ID    int      `json:"id"`
        	Name  string   `json:"name"`
        	Email string   `json:"email,omitempty"`
        	Tags  []string `json:"tags"`
        }

        func main() {
        	data := []byte(`{"id": {{id}}, "name": "{{name}}", "tags": ["admin"]}`)

        	var u User
        	if err := json.Unmarshal(data, &u); err != nil {
        		log.Fatal(err)
        	}
        	fmt.Printf("%+v\n", u)

        	out, err := json.MarshalIndent(u, "", "  ")
        	if err != nil {
        		log.Fatal(err)
        	}
        	fmt.Println(string(out))
        }
    ''', id=r.randint(1, 500), name=r.choice(NAMES))
    q = r.choice([
        "How do I parse JSON into a struct in Go and print it back out?",
        "Go: unmarshal a JSON object into a struct with json tags, then marshal it with indentation.",
    ])
    return q, reply(r, src, "go", "Struct tags map JSON keys to fields; only exported (capitalized) fields are encoded. `omitempty` drops the email when it's empty.")
