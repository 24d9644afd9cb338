"""Clean templates: C (task ``c``)."""

from __future__ import annotations

from .registry import family_registry
from .text import ask, code, reply
from .vocab import SENTENCES, ints

TEMPLATES, template = family_registry()


@template("c")
def t_c_reverse(r):
    s = r.choice(["hello", "abcdef", "C is fun", "racecar"])
    src = code(r'''
        #include <stdio.h>
        #include <string.h>

        void reverse(char *s) {
            size_t len = strlen(s);
            if (len < 2) {
                return;
            }
            for (size_t i = 0, j = len - 1; i < j; i++, j--) {
                char tmp = s[i];
                s[i] = s[j];
                s[j] = tmp;
            }
        }

        int main(void) {
            char text[] = "{{s}}";
            reverse(text);
            printf("%s\n", text);  /* {{out}} */
            return 0;
        }
    ''', s=s, out=s[::-1])
    q = ask(r, "reverse a string in place", "reverse", lang="C")
    return q, reply(r, src, "c", "Two indices walk towards each other and swap characters. `text` must be a writable array: calling `reverse` on a string literal is undefined behaviour.")


@template("c")
def t_c_linked_list(r):
    vals = ints(r, 4, 1, 50)
    src = code(r'''
        #include <stdio.h>
        #include <stdlib.h>

        typedef struct Node {
            int value;
            struct Node *next;
        } Node;

        /* Insert at the front. Returns the new head, or NULL if malloc fails. */
        Node *push_front(Node *head, int value) {
            Node *node = malloc(sizeof *node);
            if (node == NULL) {
                return NULL;
            }
            node->value = value;
            node->next = head;
            return node;
        }

        /* Remove the first node holding value. Returns the (possibly new) head. */
        Node *remove_value(Node *head, int value) {
            Node **link = &head;
            while (*link != NULL) {
                if ((*link)->value == value) {
                    Node *doomed = *link;
                    *link = doomed->next;
                    free(doomed);
                    break;
                }
                link = &(*link)->next;
            }
            return head;
        }

        Node *reverse(Node *head) {
            Node *prev = NULL;
            while (head != NULL) {
                Node *next = head->next;
                head->next = prev;
                prev = head;
                head = next;
            }
            return prev;
        }

        void print_list(const Node *head) {
            for (const Node *n = head; n != NULL; n = n->next) {
                printf("%d%s", n->value, n->next ? " -> " : "\n");
            }
        }

        void free_list(Node *head) {
            while (head != NULL) {
                Node *next = head->next;
                free(head);
                head = next;
            }
        }

        int main(void) {
            int values[] = {{{values}}};
            Node *head = NULL;
            for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
                Node *new_head = push_front(head, values[i]);
                if (new_head == NULL) {
                    free_list(head);
                    return 1;
                }
                head = new_head;
            }
            print_list(head);
            head = remove_value(head, {{remove}});
            head = reverse(head);
            print_list(head);
            free_list(head);
            return 0;
        }
    ''', values=", ".join(map(str, vals)), remove=vals[1])
    pushed = vals[::-1]
    after = [v for v in vals[::-1]]
    after.remove(vals[1])
    out = " -> ".join(map(str, pushed)) + "\n" + " -> ".join(map(str, after[::-1]))
    q = r.choice([
        "Implement a singly linked list in C with push_front, remove, reverse, print and free.",
        "I'm learning pointers in C. Can you write a linked list with proper memory management?",
        "Write C code for a linked list of ints; show removal using a pointer-to-pointer.",
    ])
    return q, reply(r, src, "c", "`remove_value` walks a pointer to the link itself (`Node **`), so removing the head needs no special case. Every `malloc` is matched by a `free`, and a failed allocation is handled instead of dereferencing NULL.",
                    out, "Compile with `gcc -Wall -Wextra -fsanitize=address list.c` to catch leaks and invalid accesses.", example_lang="text", p_example=0.9)


@template("c")
def t_c_factorial(r):
    n = r.randint(5, 20)
    fact = 1
    for i in range(2, n + 1):
        fact *= i
    src = code(r'''
        #include <stdio.h>
        #include <stdint.h>
        #include <inttypes.h>

        /* 20! is the largest factorial that fits in 64 bits. */
        uint64_t factorial(unsigned n) {
            uint64_t result = 1;
            for (unsigned i = 2; i <= n; i++) {
                result *= i;
            }
            return result;
        }

        int main(void) {
            printf("%u! = %" PRIu64 "\n", {{n}}u, factorial({{n}}));
            return 0;
        }
    ''', n=n)
    q = ask(r, "compute a factorial", "factorial", lang="C")
    return q, reply(r, src, "c", "An iterative loop avoids recursion overhead, and `uint64_t` with `PRIu64` makes the width explicit and portable.",
                    f"{n}! = {fact}", example_lang="text")


@template("c")
def t_c_wc(r):
    src = code(r'''
        #include <ctype.h>
        #include <stdio.h>

        int main(void) {
            long lines = 0, words = 0, chars = 0;
            int c, in_word = 0;

            while ((c = getchar()) != EOF) {
                chars++;
                if (c == '\n') {
                    lines++;
                }
                if (isspace(c)) {
                    in_word = 0;
                } else if (!in_word) {
                    in_word = 1;
                    words++;
                }
            }
            printf("%ld %ld %ld\n", lines, words, chars);
            return 0;
        }
    ''')
    text = r.choice(SENTENCES) + "\n" + r.choice(SENTENCES) + "\n"
    out = f"{text.count(chr(10))} {len(text.split())} {len(text)}"
    q = r.choice([
        "Write a C program that counts lines, words and characters from standard input, like wc.",
        "How do I count words from stdin in C?",
    ])
    return q, reply(r, src, "c", "`c` is an `int`, not a `char`, so it can hold `EOF`. A word starts whenever a non-space character follows whitespace.",
                    f"$ printf '{text.replace(chr(10), chr(92) + 'n')}' | ./wc\n{out}", example_lang="bash")


@template("c")
def t_c_swap(r):
    a, b = r.randint(1, 50), r.randint(51, 99)
    src = code(r'''
        #include <stdio.h>

        void swap(int *a, int *b) {
            int tmp = *a;
            *a = *b;
            *b = tmp;
        }

        int main(void) {
            int x = {{a}}, y = {{b}};
            swap(&x, &y);
            printf("x = %d, y = %d\n", x, y);  /* x = {{b}}, y = {{a}} */
            return 0;
        }
    ''', a=a, b=b)
    q = r.choice([
        "Why doesn't my C swap function change the variables? How do I swap two ints with a function?",
        "Write a C function that swaps two integers using pointers.",
    ])
    return q, reply(r, src, "c", "C passes arguments by value, so a function receiving plain ints only swaps its own copies. Passing the addresses lets `swap` modify the caller's variables.")


@template("c")
def t_c_sort(r):
    arr = ints(r, 8)
    src = code(r'''
        #include <stdio.h>
        #include <stdlib.h>

        static int compare_ints(const void *a, const void *b) {
            int x = *(const int *)a;
            int y = *(const int *)b;
            return (x > y) - (x < y);
        }

        int main(void) {
            int numbers[] = {{{values}}};
            size_t n = sizeof numbers / sizeof numbers[0];
            qsort(numbers, n, sizeof numbers[0], compare_ints);
            for (size_t i = 0; i < n; i++) {
                printf("%d ", numbers[i]);
            }
            printf("\n");
            return 0;
        }
    ''', values=", ".join(map(str, arr)))
    q = ask(r, "sort an array of integers with the standard library's qsort", lang="C")
    return q, reply(r, src, "c", "`(x > y) - (x < y)` returns -1, 0 or 1 without the overflow that `x - y` can cause for large values.",
                    " ".join(map(str, sorted(arr))), example_lang="text")


@template("c")
def t_c_dynarray(r):
    src = code(r'''
        #include <stdio.h>
        #include <stdlib.h>

        typedef struct {
            int *data;
            size_t len;
            size_t cap;
        } IntVec;

        int vec_push(IntVec *v, int value) {
            if (v->len == v->cap) {
                size_t new_cap = v->cap ? v->cap * 2 : 4;
                int *grown = realloc(v->data, new_cap * sizeof *grown);
                if (grown == NULL) {
                    return -1;  /* v->data is still valid */
                }
                v->data = grown;
                v->cap = new_cap;
            }
            v->data[v->len++] = value;
            return 0;
        }

        int main(void) {
            IntVec v = {0};
            for (int i = 1; i <= {{n}}; i++) {
                if (vec_push(&v, i * i) != 0) {
                    free(v.data);
                    return 1;
                }
            }
            printf("len=%zu cap=%zu last=%d\n", v.len, v.cap, v.data[v.len - 1]);
            free(v.data);
            return 0;
        }
    ''', n=r.randint(5, 40))
    q = r.choice([
        "How do I make a growable array in C, like a vector?",
        "Write a dynamic int array in C that doubles its capacity with realloc.",
    ])
    return q, reply(r, src, "c", "Doubling the capacity makes pushes amortized O(1). The result of `realloc` goes into a temporary first: assigning it straight to `v->data` would leak the old block if `realloc` fails.")
