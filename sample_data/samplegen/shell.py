"""Clean templates: bash one-liners and scripts."""

from __future__ import annotations

from .registry import family_registry
from .text import code, reply

TEMPLATES, template = family_registry()


def shell_snippets(r):
    ext = r.choice(["py", "js", "go", "md", "txt", "csv"])
    days = r.choice([7, 14, 30, 90])
    size = r.choice([50, 100, 500])
    port = r.choice([3000, 5432, 8000, 8080])
    word = r.choice(["TODO", "FIXME", "password", "deprecated"])
    old, new = r.choice([("http://", "https://"), ("foo", "bar"), ("v1/api", "v2/api")])
    col = r.randint(2, 5)
    n = r.choice([5, 10, 20])
    return [
        ([f"How do I count the total number of lines in all .{ext} files in a directory tree?",
          f"bash one-liner to count lines of code in .{ext} files recursively"],
         f"```bash\nfind . -name '*.{ext}' -type f -print0 | xargs -0 cat | wc -l\n```\n\n`-print0`/`-0` keep file names with spaces intact."),
        ([f"How do I find files bigger than {size} MB on Linux?"],
         f"```bash\nfind / -type f -size +{size}M -exec ls -lh {{}} + 2>/dev/null\n```\n\n`2>/dev/null` hides the permission-denied noise from directories you can't read."),
        ([f"How do I search recursively for '{word}' in all .{ext} files and show line numbers?"],
         f"`grep -rn --include='*.{ext}' '{word}' .`"),
        ([f"How do I replace '{old}' with '{new}' in a file using sed?"],
         f"```bash\nsed -i 's|{old}|{new}|g' file.txt\n```\n\nUsing `|` as the delimiter avoids escaping slashes. On macOS, BSD sed needs an explicit backup suffix: `sed -i '' 's|{old}|{new}|g' file.txt`."),
        ([f"How do I delete log files older than {days} days?", f"Shell command to remove *.log files not modified in the last {days} days"],
         f"```bash\nfind /var/log/myapp -type f -name '*.log' -mtime +{days} -print -delete\n```\n\nRun it once without `-delete` first to check what would be removed."),
        ([f"How do I see which directories use the most disk space?"],
         f"```bash\ndu -sh -- */ 2>/dev/null | sort -rh | head -n {n}\n```"),
        ([f"How do I find which process is listening on port {port}?"],
         f"`sudo lsof -iTCP:{port} -sTCP:LISTEN` or, with iproute2, `sudo ss -ltnp 'sport = :{port}'`."),
        ([f"How do I count requests per IP in an access log with awk?", "Top client IPs from an nginx log, one-liner please"],
         f"```bash\nawk '{{print $1}}' access.log | sort | uniq -c | sort -rn | head -n {n}\n```\n\n`uniq -c` only merges adjacent lines, which is why the first `sort` is needed."),
        ([f"How do I rename all .txt files in a folder to .{ext if ext != 'txt' else 'md'}?"],
         f"```bash\nfor f in *.txt; do\n  mv -- \"$f\" \"${{f%.txt}}.{ext if ext != 'txt' else 'md'}\"\ndone\n```\n\n`${{f%.txt}}` strips the shortest matching suffix."),
        ([f"How do I create and extract a .tar.gz archive?"],
         "```bash\ntar -czf project.tar.gz project/      # create\ntar -xzf project.tar.gz -C /tmp/out   # extract into /tmp/out\n```"),
        ([f"How do I follow a log file and only show lines containing ERROR?"],
         "`tail -F app.log | grep --line-buffered ERROR`\n\n`-F` keeps following across log rotation; `--line-buffered` stops grep from holding output back."),
        ([f"How do I sum column {col} of a CSV file from the command line?"],
         f"```bash\nawk -F, 'NR > 1 {{ sum += ${col} }} END {{ print sum }}' data.csv\n```\n\n`NR > 1` skips the header. This simple split breaks on quoted fields containing commas."),
        ([f"How do I loop over the lines of a file in bash?"],
         "```bash\nwhile IFS= read -r line; do\n  printf '%s\\n' \"$line\"\ndone < input.txt\n```\n\n`IFS=` keeps leading spaces and `-r` keeps backslashes."),
        ([f"How do I give a bash variable a default value if it's unset?"],
         "`port=\"${PORT:-8080}\"` uses `$PORT` when set and non-empty, otherwise 8080."),
        ([f"How do I check if a file exists in a bash script?"],
         "```bash\nif [[ -f config.yml ]]; then\n  echo \"found\"\nelse\n  echo \"missing\" >&2\n  exit 1\nfi\n```\n\nUse `-d` for directories and `-e` for anything."),
        ([f"How do I see which files changed in the last {n} commits with git?", f"git: show which files changed in the last {n} commits"],
         f"`git log -n {n} --stat --oneline`"),
    ]


@template("shell", weight=5)
def t_shell_snippet(r):
    qs, a = r.choice(shell_snippets(r))
    return r.choice(qs), a


@template("shell")
def t_backup_script(r):
    keep = r.choice([5, 7, 14])
    src = code(r'''
        #!/usr/bin/env bash
        # Back up a directory into a timestamped .tar.gz and keep only the newest N archives.
        set -euo pipefail

        usage() {
          echo "usage: $0 SOURCE_DIR BACKUP_DIR [KEEP]" >&2
          exit 2
        }

        [[ $# -lt 2 ]] && usage

        src="$1"
        dest="$2"
        keep="${3:-{{keep}}}"

        if [[ ! -d "$src" ]]; then
          echo "error: source '$src' is not a directory" >&2
          exit 1
        fi
        if ! [[ "$keep" =~ ^[0-9]+$ ]] || (( keep < 1 )); then
          echo "error: KEEP must be a positive integer" >&2
          exit 1
        fi

        mkdir -p "$dest"
        name="$(basename "$src")"
        stamp="$(date +%Y%m%d-%H%M%S)"
        archive="$dest/${name}-${stamp}.tar.gz"
        tmp="$archive.partial"

        # remove a half-written archive if anything fails
        trap 'rm -f "$tmp"' ERR

        tar -czf "$tmp" -C "$(dirname "$src")" "$name"
        mv "$tmp" "$archive"
        echo "created $archive ($(du -h "$archive" | cut -f1))"

        # rotation: list archives newest first, delete everything after the first $keep
        mapfile -t old < <(ls -1t "$dest/${name}"-*.tar.gz | tail -n +"$((keep + 1))")
        for file in "${old[@]}"; do
          rm -f -- "$file"
          echo "removed $file"
        done
    ''', keep=keep)
    q = r.choice([
        f"I need a bash script to back up a folder to a timestamped tar.gz and keep only the last {keep} backups.",
        "Write a shell script that archives a directory with the date in the file name and deletes old archives.",
        "How do I write a safe backup script in bash with rotation?",
    ])
    usage = f"$ ./backup.sh ~/projects/site /mnt/backups\ncreated /mnt/backups/site-20250301-020000.tar.gz (14M)\n$ crontab -e\n0 2 * * * /usr/local/bin/backup.sh /srv/site /mnt/backups {keep}"
    return q, reply(r, src, "bash", "`set -euo pipefail` stops on the first error, unset variable or failed pipe stage. The archive is written under a temporary name and renamed only when complete, so a crash never leaves a truncated backup that rotation would keep.",
                    usage, "`mapfile` needs bash 4+. The `ls` based rotation assumes archive names without newlines, which holds for the names this script creates.",
                    example_lang="bash", p_example=0.8, p_note=0.8)


@template("shell")
def t_hosts_check(r):
    src = code(r'''
        #!/usr/bin/env bash
        # Check which hosts from a file answer to ping.
        hosts_file="${1:-hosts.txt}"
        up=0
        down=0

        while IFS= read -r host; do
          [[ -z "$host" || "$host" == \#* ]] && continue
          if ping -c 1 -W 2 "$host" > /dev/null 2>&1; then
            echo "UP    $host"
            up=$((up + 1))
          else
            echo "DOWN  $host"
            down=$((down + 1))
          fi
        done < "$hosts_file"

        echo "$up up, $down down"
        [[ $down -eq 0 ]]
    ''')
    q = r.choice([
        "Write a bash script that reads hostnames from a file and reports which ones respond to ping.",
        "How do I check a list of servers are up with a shell script?",
    ])
    return q, reply(r, src, "bash", "Blank lines and lines starting with # are skipped. The last line makes the script exit non-zero if any host is down, which is handy in cron or CI.",
                    note="`-W` is the timeout in seconds on Linux (iputils); macOS's ping uses milliseconds for `-W`.")


@template("shell")
def t_retry(r):
    n = r.choice([3, 5])
    src = code(r'''
        retry() {
          local attempts=$1
          shift
          local delay=1
          local i
          for ((i = 1; i <= attempts; i++)); do
            if "$@"; then
              return 0
            fi
            if ((i < attempts)); then
              echo "attempt $i/$attempts failed, retrying in ${delay}s..." >&2
              sleep "$delay"
              delay=$((delay * 2))
            fi
          done
          echo "command failed after $attempts attempts: $*" >&2
          return 1
        }

        retry {{n}} curl -fsS https://example.com/health
    ''', n=n)
    q = r.choice([
        f"How do I retry a command up to {n} times with exponential backoff in bash?",
        "Write a bash function that retries a flaky command with increasing delays.",
    ])
    return q, reply(r, src, "bash", "`\"$@\"` runs the remaining arguments as the command, preserving quoting; the delay doubles after each failure.")


@template("shell")
def t_getopts(r):
    src = code(r'''
        #!/usr/bin/env bash
        set -euo pipefail

        verbose=0
        output="out.txt"
        count=1

        usage() {
          echo "usage: $0 [-v] [-o FILE] [-n COUNT] INPUT" >&2
          exit 2
        }

        while getopts ":vo:n:h" opt; do
          case "$opt" in
            v) verbose=1 ;;
            o) output="$OPTARG" ;;
            n) count="$OPTARG" ;;
            h) usage ;;
            :) echo "option -$OPTARG needs a value" >&2; usage ;;
            \?) echo "unknown option -$OPTARG" >&2; usage ;;
          esac
        done
        shift $((OPTIND - 1))

        [[ $# -eq 1 ]] || usage
        input="$1"

        if ((verbose)); then
          echo "input=$input output=$output count=$count" >&2
        fi
        for ((i = 0; i < count; i++)); do
          cat -- "$input"
        done > "$output"
    ''')
    q = r.choice([
        "How do I parse command-line flags in a bash script?",
        "Show me a bash script skeleton using getopts with -v, -o FILE and -n COUNT options.",
    ])
    return q, reply(r, src, "bash", "The leading `:` in the optstring enables silent error handling, so the script prints its own messages for missing values (`:`) and unknown flags (`?`). `shift $((OPTIND - 1))` leaves only the positional arguments.",
                    note="`getopts` only supports short options; for `--long` options use `getopt` from util-linux or switch to Python's argparse.")
