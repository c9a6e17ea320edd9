"""redis-compat/check_docs.py: checks that docs/clients.md shows only code that
the redis-compat programs run.

Each `## ` section of docs/clients.md belongs to one client; every line of code
in it (inside fenced blocks, and in backticks in table rows) must appear, with
its surrounding spaces trimmed, in that client's programs. So a program that
changes how it sends a command fails here until the docs follow. Prints one line
per section and the usual `N passed, M failed` summary.
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
C = ROOT / "redis-compat"

PROGRAMS = {
    "redis-cli": ["cli/cli.sh"],
    "redis-benchmark": ["cli/benchmark.sh"],
    "redis-py (Python)": ["python/redis_py.py"],
    "Cluster clients: key discovery": ["python/cluster_keys.py"],
    "hiredis (C)": ["c/hiredis_sync.c", "c/hiredis_async.c"],
    "ioredis (Node.js)": ["node/ioredis.js"],
    "node-redis (Node.js)": ["node/node_redis.js"],
    "redis-rb (Ruby)": ["ruby/redis_rb.rb"],
}


def sections(text):
    """(title, body) for every `## ` section."""
    parts = re.split(r"^## (.+)$", text, flags=re.M)
    return [(parts[i].strip(), parts[i + 1]) for i in range(1, len(parts), 2)]


def meaningful(code):
    """Lines such as `});` or `end` would be found in any program: they are not
    counted."""
    return len(re.sub(r"\s", "", code)) >= 4


def code_lines(body):
    """Code lines of a section: fenced blocks with a language (untagged fences
    hold output), and the backticked code of table rows past their first
    column."""
    lines, fence, kind = [], False, ""
    for line in body.splitlines():
        if line.startswith("```"):
            fence = not fence
            kind = line[3:].strip()
            continue
        if fence:
            # A trailing "  # what it prints" is the docs' note, not the program's.
            code = re.sub(r"\s{2,}#.*$", "", line).strip()
            if kind not in ("", "text", "console", "output") and meaningful(code):
                lines.append(code)
        elif line.startswith("|") and not line.startswith("|---"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            for cell in cells[1:]:
                lines += [m.strip() for m in re.findall(r"`([^`]+)`", cell)
                          if meaningful(m.strip())]
    return lines


def main():
    text = (ROOT / "docs" / "clients.md").read_text()
    passed = failed = 0
    seen = set()
    for title, body in sections(text):
        if title not in PROGRAMS:
            print("FAIL - section '%s' names no redis-compat program" % title)
            failed += 1
            continue
        seen.add(title)
        source = "\n".join((C / p).read_text() for p in PROGRAMS[title])
        source_lines = {l.strip() for l in source.splitlines()}
        missing = [l for l in code_lines(body) if l not in source_lines and l not in source]
        count = len(code_lines(body))
        if count == 0:
            print("FAIL - %s: no code in its section" % title)
            failed += 1
        elif missing:
            print("FAIL - %s: %d of %d code lines are not in %s: %s"
                  % (title, len(missing), count, ", ".join(PROGRAMS[title]), missing[:5]))
            failed += 1
        else:
            print("ok - %s: %d code lines, all in %s" % (title, count, ", ".join(PROGRAMS[title])))
            passed += 1
    for title in PROGRAMS:
        if title not in seen:
            print("FAIL - docs/clients.md has no section '%s'" % title)
            failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
