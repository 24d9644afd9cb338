"""Clean templates: Java (task ``java``)."""

from __future__ import annotations

from .registry import family_registry
from .text import ask, code, reply
from .vocab import NAMES

TEMPLATES, template = family_registry()


@template("java")
def t_java_palindrome(r):
    src = code(r'''
        public class Palindrome {
            public static boolean isPalindrome(String s) {
                int i = 0, j = s.length() - 1;
                while (i < j) {
                    char a = s.charAt(i), b = s.charAt(j);
                    if (!Character.isLetterOrDigit(a)) {
                        i++;
                    } else if (!Character.isLetterOrDigit(b)) {
                        j--;
                    } else if (Character.toLowerCase(a) != Character.toLowerCase(b)) {
                        return false;
                    } else {
                        i++;
                        j--;
                    }
                }
                return true;
            }

            public static void main(String[] args) {
                System.out.println(isPalindrome("{{s}}"));
            }
        }
    ''', s=r.choice(["A man, a plan, a canal: Panama", "race a car", "Never odd or even"]))
    q = ask(r, "check if a string is a palindrome ignoring case and punctuation", "isPalindrome", lang="Java")
    return q, reply(r, src, "java", "Two pointers skip non-alphanumeric characters and compare the rest case-insensitively, without building a new string.")


@template("java")
def t_java_word_count(r):
    src = code(r'''
        import java.io.IOException;
        import java.nio.file.Files;
        import java.nio.file.Path;
        import java.util.Map;
        import java.util.TreeMap;

        public class WordCount {
            public static void main(String[] args) throws IOException {
                String text = Files.readString(Path.of(args.length > 0 ? args[0] : "{{file}}"));
                Map<String, Integer> counts = new TreeMap<>();
                for (String word : text.toLowerCase().split("[^\\p{L}\\p{N}']+")) {
                    if (!word.isEmpty()) {
                        counts.merge(word, 1, Integer::sum);
                    }
                }
                counts.forEach((word, count) -> System.out.println(word + " " + count));
            }
        }
    ''', file=r.choice(["input.txt", "book.txt"]))
    q = ask(r, "count how often each word occurs in a text file", lang="Java")
    return q, reply(r, src, "java", "`Map.merge(word, 1, Integer::sum)` inserts 1 or adds to the existing count; a `TreeMap` prints the words alphabetically.",
                    note="`Files.readString` needs Java 11+.")


@template("java")
def t_java_class(r):
    src = code(r'''
        import java.util.ArrayList;
        import java.util.List;

        public class Student {
            private final String name;
            private final List<Integer> grades = new ArrayList<>();

            public Student(String name) {
                this.name = name;
            }

            public void addGrade(int grade) {
                if (grade < 0 || grade > 100) {
                    throw new IllegalArgumentException("grade must be 0-100");
                }
                grades.add(grade);
            }

            public double average() {
                return grades.stream().mapToInt(Integer::intValue).average().orElse(0.0);
            }

            @Override
            public String toString() {
                return String.format("%s (avg %.1f)", name, average());
            }

            public static void main(String[] args) {
                Student s = new Student("{{name}}");
                s.addGrade({{g1}});
                s.addGrade({{g2}});
                System.out.println(s);
            }
        }
    ''', name=r.choice(NAMES), g1=r.randint(50, 100), g2=r.randint(50, 100))
    q = r.choice([
        "Write a Java class Student with a name, a list of grades, validation and an average.",
        "How do I write a simple Java class with encapsulation? Example with students and grades.",
    ])
    return q, reply(r, src, "java", "Fields are private and the grade list is only changed through `addGrade`, which validates its input; `toString` controls how the object prints.")
