"""Turns a Markdown document's shell blocks into one bash script that runs them in order, as a
reader would paste them, for scripts/check-deploy (docs/deploy-eks.md, the README).

A fenced block is shell when its info string starts with `bash` or `sh`; a second word marks it:
  (none)          run as written;
  not-run-here    skipped and reported (it needs what a test machine lacks; its first line says what);
  alternative     run in a subshell (variables it sets do not reach later blocks), after the
                  hook `alternative_env` put its stand-ins in place; consecutive alternative
                  blocks share one subshell;
  excerpt         not run: every command in it must be a command of the document named by
                  --excerpt-of, where it runs.
Any other word fails, so a typo cannot silently skip a block.

Within a block, a one-line command whose output a comment shows, after it on the same line or
on the comment lines that follow (`# {"message":"Unauthorized"} 401`, `#   HTTP/1.1 401 ...`; a
comment's output ends at two spaces), runs through `expect_output`, which checks that each shown
line is a line of the output. --hook 'REGEX=function' calls the function after the one run
block REGEX matches, --before 'REGEX=function' before it; --replace 'REGEX=>TEXT' replaces the
one run line REGEX matches (the stand-ins' addresses); --text 'OLD=>NEW' replaces OLD wherever
it occurs in run blocks (free ports for fixed ones). A hook or replacement matching nothing, or
a hook or --replace matching several blocks or lines, fails: the document and its test cannot
drift apart silently.

Usage: doc_blocks.py DOC [--hook R=F]... [--before R=F]... [--replace R=>T]... [--text O=>N]...
                         [--excerpt-of DOC2] > session.sh
       doc_blocks.py DOC --block-after HEADING     (prints the first block after that heading)
"""

import argparse
import re
import shlex
import sys

MARKERS = {"", "not-run-here", "alternative", "excerpt"}
FENCE = re.compile(r"^(\s*)(```+)(.*)$")


class Block:
    def __init__(self, line, info, text):
        self.line, self.text = line, text
        words = info.split()
        self.lang = words[0] if words else ""
        self.marker = " ".join(words[1:])

    @property
    def shell(self):
        return self.lang in ("bash", "sh")


def blocks(path):
    """Every fenced block of PATH, dedented to its fence's indentation (blocks in list items)."""
    found, current = [], None
    for number, line in enumerate(open(path, encoding="utf-8").read().splitlines(), 1):
        match = FENCE.match(line)
        if current is None and match:
            current = (number, match.group(1), match.group(2), match.group(3).strip(), [])
        elif current is not None and match and match.group(2) == current[2] and not match.group(3).strip():
            found.append(Block(current[0], current[3], "\n".join(current[4])))
            current = None
        elif current is not None:
            indent = current[1]
            current[4].append(line[len(indent):] if line.startswith(indent) else line)
    if current is not None:
        sys.exit(f"{path}:{current[0]}: unclosed code block")
    for b in found:
        if b.shell and b.marker not in MARKERS:
            sys.exit(f"{path}:{b.line}: unknown marker {b.marker!r} (known: {sorted(MARKERS - {''})})")
    return found


def commands(text):
    """The block's lines without comments, blank lines or trailing comments: what it runs."""
    out = []
    for line in text.splitlines():
        code = re.sub(r"\s+#\s.*$", "", line).rstrip()
        if code.strip() and not code.lstrip().startswith("#"):
            out.append(code.strip())
    return out


def expected_output(comment):
    """The output a comment shows (`{...}`, `HTTP/...` or a header line), before any two-space gap."""
    body = re.sub(r"^#\s+", "", comment.strip())
    if re.match(r"^(\{|HTTP/|[A-Za-z-]+: )", body):
        return re.split(r"\s{2,}", body)[0]
    return None


def with_expectations(text):
    """Runs each one-line command whose output a comment shows (on its own line, or on the
    following comment lines) through expect_output."""
    lines, out = text.splitlines(), []
    for i, line in enumerate(lines):
        code, _, trailing = line.partition("  # ")
        continued = line.rstrip().endswith("\\") or (i > 0 and lines[i - 1].rstrip().endswith("\\"))
        if not line.strip() or line.lstrip().startswith("#") or continued:
            out.append(line)
            continue
        expected = []
        if trailing and expected_output("# " + trailing):
            expected.append(expected_output("# " + trailing))
        for following in lines[i + 1:]:
            shown = following.lstrip().startswith("#") and expected_output(following)
            if not shown:
                break
            expected.append(shown)
        if expected:
            out.append(f"expect_output {shlex.quote(chr(10).join(expected))} {code.strip()}")
        else:
            out.append(line)
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("doc")
    parser.add_argument("--hook", action="append", default=[])
    parser.add_argument("--replace", action="append", default=[])
    parser.add_argument("--before", action="append", default=[])
    parser.add_argument("--text", action="append", default=[])
    parser.add_argument("--excerpt-of")
    parser.add_argument("--block-after")
    args = parser.parse_args()

    if args.block_after:
        lines = open(args.doc, encoding="utf-8").read().splitlines()
        heading = lines.index(args.block_after) + 1
        print(next(b for b in blocks(args.doc) if b.line > heading).text)
        return

    shell = [b for b in blocks(args.doc) if b.shell]
    runnable = [b for b in shell if b.marker in ("", "alternative")]
    hooks = [tuple(h.rsplit("=", 1)) for h in args.hook]
    befores = [tuple(h.rsplit("=", 1)) for h in args.before]
    replacements = [tuple(r.split("=>", 1)) for r in args.replace]
    texts = [tuple(t.split("=>", 1)) for t in args.text]
    for old, _ in texts:
        if not any(old in b.text for b in runnable):
            sys.exit(f"{args.doc}: --text {old!r} occurs in no run block")
    for pattern, _ in hooks + befores:
        hits = [b.line for b in runnable if re.search(pattern, b.text, re.M)]
        if len(hits) != 1:
            sys.exit(f"{args.doc}: hook pattern {pattern!r} matches run blocks at lines {hits}, not exactly one")
    for pattern, _ in replacements:
        hits = [(b.line, l) for b in runnable for l in b.text.splitlines() if re.search(pattern, l)]
        if len(hits) != 1:
            sys.exit(f"{args.doc}: replacement {pattern!r} matches {hits}, not exactly one line")
    if args.excerpt_of:
        source = {c for b in blocks(args.excerpt_of) if b.shell and b.marker == "" for c in commands(b.text)}
        for b in shell:
            if b.marker == "excerpt":
                missing = [c for c in commands(b.text) if c not in source]
                if missing:
                    sys.exit(f"{args.doc}:{b.line}: excerpt commands not run in {args.excerpt_of}: {missing}")

    out = []
    in_alternative = False
    for i, b in enumerate(shell):
        where = f"{args.doc}:{b.line}"
        if in_alternative and b.marker != "alternative":
            out.append(")")
            in_alternative = False
        if b.marker in ("not-run-here", "excerpt"):
            first = b.text.splitlines()[0] if b.text else ""
            out.append(f"doc_skip {shlex.quote(where)} {shlex.quote(b.marker + ': ' + first)}")
            continue
        text = "\n".join(
            next((repl for pattern, repl in replacements if re.search(pattern, line)), line)
            for line in b.text.splitlines()
        )
        for old, new in texts:
            text = text.replace(old, new)
        if b.marker == "alternative" and not in_alternative:
            out.append("(")
            out.append("alternative_env")
            in_alternative = True
        out.extend(function for pattern, function in befores if re.search(pattern, b.text, re.M))
        out.append(f"doc_block {shlex.quote(where)} {shlex.quote(b.marker or 'run')}")
        out.append(with_expectations(text))
        for pattern, function in hooks:
            if re.search(pattern, b.text, re.M):
                out.append(function)
    if in_alternative:
        out.append(")")
    print("\n".join(out))


if __name__ == "__main__":
    main()
