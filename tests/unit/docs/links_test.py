#!/usr/bin/env python3
"""Checks the relative links of the project's documentation.

    links_test.py ROOT            check README.md, docs/*.md and deploy/README.md
    links_test.py --self-test     show that a dead link and a dead anchor are found

A link is [text](target) outside code. http(s): and mailto: links are not
fetched. Every other target must name a file or directory that exists,
relative to the file that links it; a #anchor must name a heading of the
target (or of the same file), as GitHub renders it: lower case, punctuation
dropped, spaces as hyphens, -1, -2 ... after repeats. Prints each dead link
with its file and line; exit status 1 if there is one.
"""
import os
import re
import sys
import tempfile

LINK = re.compile(r"(?<!!)\[(?:[^\]\[]|\[[^\]]*\])*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^\s*(```|~~~)")


def strip_code(line):
    """The line without its inline code spans."""
    return re.sub(r"`+[^`]*`+", "", line)


def prose_lines(text):
    """(line number, text) of the lines outside fenced or indented code."""
    fenced = False
    prev_blank = True
    in_indented = False
    for n, line in enumerate(text.split("\n"), 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if fenced:
            continue
        # an indented block starts after a blank line (not inside a list item's text)
        if line.startswith("    ") and (prev_blank or in_indented) and not re.match(r"\s*([-*]|\d+\.) ", line):
            in_indented = True
            prev_blank = False
            continue
        in_indented = False
        prev_blank = not line.strip()
        yield n, line


def slug(heading):
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def anchors(path, cache={}):
    if path not in cache:
        seen = {}
        out = set()
        with open(path, encoding="utf-8") as f:
            for _, line in prose_lines(f.read()):
                m = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
                if not m:
                    continue
                base = slug(m.group(2))
                k = seen.get(base, 0)
                seen[base] = k + 1
                out.add(base if k == 0 else f"{base}-{k}")
        cache[path] = out
    return cache[path]


def check_file(path):
    dead = []
    with open(path, encoding="utf-8") as f:
        text = f.read()
    for n, line in prose_lines(text):
        for m in LINK.finditer(strip_code(line)):
            target = m.group(1)
            if re.match(r"^(https?:|mailto:)", target):
                continue
            file_part, _, anchor = target.partition("#")
            dest = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) if file_part else path
            if not os.path.exists(dest):
                dead.append(f"{path}:{n}: {target}: no such file")
                continue
            if anchor:
                if not dest.endswith(".md") or os.path.isdir(dest):
                    dead.append(f"{path}:{n}: {target}: an anchor into a file that is no markdown")
                elif anchor not in anchors(dest):
                    dead.append(f"{path}:{n}: {target}: no heading #{anchor} in {dest}")
    return dead


def files_of(root):
    out = [os.path.join(root, "README.md")]
    docs = os.path.join(root, "docs")
    if os.path.isdir(docs):
        out += sorted(os.path.join(docs, f) for f in os.listdir(docs) if f.endswith(".md"))
    dep = os.path.join(root, "deploy", "README.md")
    if os.path.exists(dep):
        out.append(dep)
    return out


def self_test():
    with tempfile.TemporaryDirectory() as d:
        os.mkdir(os.path.join(d, "docs"))
        with open(os.path.join(d, "docs", "a.md"), "w") as f:
            f.write("# A page\n\n## Second part: here\n\ntext\n")
        cases = {
            "[ok](docs/a.md) [ok](docs/a.md#second-part-here) [ok](#top) [web](https://x.invalid/)\n"
            "`[not a link](nowhere.md)`\n\n    [code](nowhere.md)\n": 0,
            "[dead](docs/b.md)\n": 1,
            "[dead anchor](docs/a.md#no-such-part)\n": 1,
            "[dead local anchor](#nowhere)\n": 1,
        }
        for text, want in cases.items():
            with open(os.path.join(d, "README.md"), "w") as f:
                f.write("# Top\n\n" + text)
            got = len(check_file(os.path.join(d, "README.md")))
            if got != want:
                print(f"self-test: {text!r}: {got} dead links found, want {want}")
                return 1
    print("self-test: dead links and anchors are found")
    return 0


def main():
    if len(sys.argv) == 2 and sys.argv[1] == "--self-test":
        return self_test()
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    dead, n = [], 0
    for path in files_of(sys.argv[1]):
        n += 1
        dead += check_file(path)
    for d in dead:
        print(d)
    print(f"links: {n} files, {len(dead)} dead links")
    return 1 if dead else 0


if __name__ == "__main__":
    sys.exit(main())
