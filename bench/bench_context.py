"""Benchmark (not a test): related context on real history. Replays real commits of the three projects in
../shared/realdata/repos/ (Python: click, Go: cobra, TypeScript: ky) and reports, per language, how much of
the ground truth the 800-line context holds, in workspace mode (the git checkout) and in API mode (30 files,
2 MB: simulated over the same objects with the ApiReader's bound), with time, bytes read and peak memory.

Commits (a fixed rule, not chosen by hand): newest first from the bundle's HEAD, non-merge commits whose diff
against their parent changes 1 to 400 lines in 1 to 15 files of the project's language; the first --per-repo.

Ground truth:
- definitions: Python: jedi's goto (follow_imports) on every name of the added lines; kept are functions,
  classes and module- or class-level assignments of the repository that the diff does not show. Go and
  TypeScript (approximation): names on added lines defined exactly once (function, method, type, class,
  constant) in a full tree-sitter parse of every file of the language at the commit.
- callers: of each function or class the added lines are in: Python: jedi's project-wide references that are
  calls (`name(`); Go and TypeScript: every call of that exact name in the full parse (for names defined once).
  At most MAX_CALLERS call sites per function count (the resolver's own cap).
- precision: the share of context lines inside the enclosing definition of a changed line, a ground-truth
  definition, or the enclosing function of a ground-truth call site.

python bench/bench_context.py [--per-repo 40] [--only python]
"""

from __future__ import annotations

import argparse
import io
import keyword
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tokenize
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from qodo_review.context import Change, change_of, gather
from qodo_review.context.languages import spec_for
from qodo_review.context.outline import outline
from qodo_review.context.render import pick
from qodo_review.context.resolve import MAX_CALLERS, Related
from qodo_review.context.source import MAX_API_BYTES, MAX_API_READS, MAX_FILE_BYTES, GitReader
from qodo_review.diff import split_diff
from qodo_review.gitread import Git
from qodo_review.select import context_allowed, select_files

REPOS = Path(__file__).resolve().parents[1].parent / "shared" / "realdata" / "repos"
PROJECTS = {
    "python": ("click.bundle", (".py",)),
    "go": ("cobra.bundle", (".go",)),
    "typescript": ("ky.bundle", (".ts", ".tsx")),
}
BUDGET_LINES = 800
MAX_DIFF_LINES, MAX_DIFF_FILES = 400, 15


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=True)
    return done.stdout.decode("utf-8", "replace")


def choose_commits(clone: Path, suffixes: tuple[str, ...], count: int) -> list[tuple[str, str]]:
    """(parent, commit) pairs by the fixed rule in the module docstring."""
    chosen: list[tuple[str, str]] = []
    for line in git(clone, "log", "--no-merges", "--format=%H %P", "HEAD").splitlines():
        sha, *parents = line.split()
        if len(parents) != 1:
            continue
        stat = git(clone, "diff", "--numstat", parents[0], sha).splitlines()
        code = [row.split("\t") for row in stat if row.split("\t")[-1].endswith(suffixes)]
        lines = sum(int(a) + int(d) for a, d, _ in code if a.isdigit() and d.isdigit())
        if code and 1 <= lines <= MAX_DIFF_LINES and len(stat) <= MAX_DIFF_FILES:
            chosen.append((parents[0], sha))
            if len(chosen) == count:
                break
    return chosen


class BoundedReader:
    """The ApiReader's bound (one tree listing, then at most 30 files and 2 MB, no search) over git objects:
    API mode without a network. `requests` counts what GitHub would have been asked."""

    searchable = False

    def __init__(self, inner: GitReader) -> None:
        self.inner, self.reads, self.bytes_read, self.requests = inner, 0, 0, 0
        self.sizes: dict[str, int] = {}

    def paths(self) -> Sequence[str]:
        self.requests += 1
        return self.inner.paths()

    def read(self, paths: Sequence[str]) -> Mapping[str, str]:
        chosen: list[str] = []
        for path in paths:
            if self.reads + len(chosen) >= MAX_API_READS:
                break
            chosen.append(path)
        texts = self.inner.read(chosen)
        out: dict[str, str] = {}
        for path in chosen:
            text = texts.get(path)
            size = len(text.encode()) if text is not None else 0
            if text is None or size > MAX_FILE_BYTES or self.bytes_read + size > MAX_API_BYTES:
                continue
            self.bytes_read += size
            out[path] = text
        self.reads += len(chosen)
        self.requests += len(chosen)
        return out


@dataclass
class Truth:
    definitions: set[tuple[str, int]] = field(default_factory=set)  # (path, line of the definition)
    spans: list[tuple[str, int, int]] = field(default_factory=list)  # relevant ranges, for precision
    callers: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # function -> call sites


@dataclass
class Row:
    defs: int = 0
    defs_found: int = 0
    calls: int = 0
    calls_found: int = 0
    lines: int = 0
    relevant: int = 0
    seconds: float = 0.0
    bytes_read: int = 0
    requests: int = 0


def covered(blocks: Sequence[tuple[str, int, int]], path: str, line: int) -> bool:
    return any(p == path and a <= line <= b for p, a, b in blocks)


def score(related: Related, changes: Sequence[Change], truth: Truth) -> tuple[Row, list[tuple[str, int, int]]]:
    chosen = pick(related.snippets, related.texts, {c.path for c in changes}, max_lines=BUDGET_LINES, max_tokens=10**9)
    blocks = [(b.path, b.start, b.end) for b in chosen]
    row = Row()
    row.defs = len(truth.definitions)
    row.defs_found = sum(covered(blocks, p, n) for p, n in truth.definitions)
    for sites in truth.callers.values():
        row.calls += min(len(sites), MAX_CALLERS)
        row.calls_found += min(sum(covered(blocks, p, n) for p, n in sites), MAX_CALLERS)
    for path, start, end in blocks:
        for n in range(start, end + 1):
            row.lines += 1
            row.relevant += any(p == path and a <= n <= b for p, a, b in truth.spans)
    return row, blocks


def enclosing_spans(changes: Sequence[Change], texts: Mapping[str, str]) -> list[tuple[str, int, int]]:
    spans = []
    for change in changes:
        parsed = outline(change.path, texts.get(change.path, ""), strict=False)
        if parsed is None:
            continue
        for line in change.added | change.touched:
            index = parsed.innermost(line)
            if index >= 0:
                d = parsed.definitions[index]
                spans.append((change.path, d.start, d.end))
    return spans


def python_truth(clone: Path, changes: Sequence[Change], texts: Mapping[str, str]) -> Truth:
    import jedi

    project = jedi.Project(str(clone))
    truth = Truth(spans=enclosing_spans(changes, texts))
    for change in changes:
        if not change.path.endswith(".py") or change.path not in texts:
            continue
        source = texts[change.path]
        script = jedi.Script(source, path=str(clone / change.path), project=project)
        names = []
        try:
            tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
        except (tokenize.TokenError, SyntaxError, IndentationError):
            continue
        for tok in tokens:
            if tok.type == tokenize.NAME and tok.start[0] in change.added and not keyword.iskeyword(tok.string):
                names.append(tok.start)
        for line, column in names[:80]:
            for d in script.goto(line, column, follow_imports=True):
                path = _inside(clone, d.module_path)
                if path is None or d.line is None or d.type not in ("function", "class", "statement"):
                    continue
                parent = d.parent()
                if d.type == "statement" and (parent is None or parent.type not in ("module", "class")):
                    continue  # a local variable
                if path == change.path and any(a <= d.line <= b for a, b in change.shown):
                    continue  # the diff shows it
                truth.definitions.add((path, d.line))
                end = d.get_definition_end_position()
                truth.spans.append((path, d.line, end[0] if end else d.line))
        for d in script.get_names(all_scopes=True, definitions=True):
            if d.type not in ("function", "class") or d.line is None:
                continue
            end = d.get_definition_end_position()
            if end is None or not any(d.line <= n <= end[0] for n in change.added) or d.name.startswith("__"):
                continue
            sites = []
            for ref in script.get_references(d.line, d.column, scope="project"):
                path = _inside(clone, ref.module_path)
                if path is None or ref.is_definition() or ref.line is None:
                    continue
                text = (clone / path).read_text(errors="replace").splitlines()
                line_text = text[ref.line - 1] if ref.line - 1 < len(text) else ""
                if f"{d.name}(" not in line_text.replace(" (", "("):
                    continue
                if path == change.path and d.line <= ref.line <= end[0]:
                    continue
                sites.append((path, ref.line))
                truth.spans.append((path, max(1, ref.line - 5), ref.line + 5))
            if sites:
                truth.callers[f"{change.path}:{d.name}"] = sites
    return truth


def _inside(clone: Path, module_path: object) -> str | None:
    if module_path is None:
        return None
    try:
        return str(Path(str(module_path)).resolve().relative_to(clone.resolve()))
    except ValueError:
        return None


def parse_truth(reader: GitReader, changes: Sequence[Change], texts: Mapping[str, str], family: str) -> Truth:
    """Go and TypeScript: exact names defined once in a full parse of every file of the language."""
    paths = [p for p in reader.paths() if (spec_for(p) and spec_for(p).family == family)]  # type: ignore[union-attr]
    full = reader.read(paths)
    outlines = {p: outline(p, t, strict=False) for p, t in full.items()}
    defined: dict[str, list[tuple[str, int, int, str]]] = {}
    for path, parsed in outlines.items():
        for d in parsed.definitions if parsed else ():
            defined.setdefault(d.name, []).append((path, d.start, d.end, d.kind))
    truth = Truth(spans=enclosing_spans(changes, texts))
    for change in changes:
        parsed = outline(change.path, texts.get(change.path, ""), change.added, strict=False)
        if parsed is None:
            continue
        for line in change.added:
            for name in parsed.names.get(line, ()):
                places = defined.get(name, [])
                if len(places) != 1:
                    continue
                path, start, end, _ = places[0]
                if path == change.path and (start <= line <= end or any(a <= start <= b for a, b in change.shown)):
                    continue
                truth.definitions.add((path, start))
                truth.spans.append((path, start, end))
        for index in {parsed.innermost(n) for n in change.added} - {-1}:
            d = parsed.definitions[index]
            if d.kind != "function" or len(defined.get(d.name, [])) != 1 or len(d.name) < 3:
                continue
            sites = []
            for path, other in outlines.items():
                for line, callee in other.calls if other else ():
                    if callee == d.name and not (path == change.path and d.start <= line <= d.end):
                        sites.append((path, line))
                        truth.spans.append((path, max(1, line - 5), line + 5))
            if sites:
                truth.callers[f"{change.path}:{d.name}"] = sites
    return truth


def run_repo(language: str, per_repo: int) -> tuple[list[Row], list[Row]]:
    bundle, suffixes = PROJECTS[language]
    tmp = Path(tempfile.mkdtemp(prefix="bench-context-"))
    clone = tmp / language
    try:
        subprocess.run(["git", "clone", "-q", str(REPOS / bundle), str(clone)], check=True, capture_output=True)
        executable = shutil.which("git") or "git"
        workspace_rows: list[Row] = []
        api_rows: list[Row] = []
        for parent, sha in choose_commits(clone, suffixes, per_repo):
            git(clone, "checkout", "-q", "--detach", sha)
            raw_files = split_diff(git(clone, "diff", "-M", "-U3", parent, sha))
            reviewable = select_files(raw_files).reviewable
            changes = [change_of(r) for r in reviewable]
            texts = {
                c.path: (clone / c.path).read_text(errors="replace") for c in changes if (clone / c.path).is_file()
            }
            reader = GitReader(Git(str(clone), executable), sha)
            start = time.perf_counter()
            related = gather(reviewable, reader, context_allowed)
            seconds = time.perf_counter() - start
            truth_reader = GitReader(Git(str(clone), executable), sha)
            family = spec_for(changes[0].path).family if changes and spec_for(changes[0].path) else ""  # type: ignore[union-attr]
            if language == "python":
                truth = python_truth(clone, changes, texts)
            else:
                truth = parse_truth(truth_reader, changes, texts, family or ("go" if language == "go" else "js"))
            row, _ = score(related, changes, truth)
            row.seconds, row.bytes_read = seconds, reader.bytes_read
            workspace_rows.append(row)
            bounded = BoundedReader(GitReader(Git(str(clone), executable), sha))
            start = time.perf_counter()
            related_api = gather(reviewable, bounded, context_allowed)
            api_row, _ = score(related_api, changes, truth)
            api_row.seconds, api_row.bytes_read, api_row.requests = (
                time.perf_counter() - start,
                bounded.bytes_read,
                bounded.requests,
            )
            api_rows.append(api_row)
        return workspace_rows, api_rows
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def ratio(found: int, total: int) -> str:
    return f"{found / total:.2f}" if total else "-"


def table(results: Mapping[str, tuple[list[Row], list[Row]]]) -> str:
    head = (
        "| language | mode | commits | definition recall | caller recall | precision | context lines (median) "
        "| time median / p90 / max | bytes read (median) | requests median / max |\n"
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    rows = [head]
    for language, modes in results.items():
        for mode, data in zip(("workspace", "API"), modes, strict=True):
            if not data:
                continue
            times = sorted(r.seconds for r in data)
            p90 = times[min(len(times) - 1, int(len(times) * 0.9))]
            requests = f"{statistics.median(r.requests for r in data):.0f} / {max(r.requests for r in data)}"
            rows.append(
                f"| {language} | {mode} | {len(data)} "
                f"| {ratio(sum(r.defs_found for r in data), sum(r.defs for r in data))} "
                f"({sum(r.defs_found for r in data)}/{sum(r.defs for r in data)}) "
                f"| {ratio(sum(r.calls_found for r in data), sum(r.calls for r in data))} "
                f"({sum(r.calls_found for r in data)}/{sum(r.calls for r in data)}) "
                f"| {ratio(sum(r.relevant for r in data), sum(r.lines for r in data))} "
                f"| {statistics.median(r.lines for r in data):.0f} "
                f"| {statistics.median(times):.2f} / {p90:.2f} / {times[-1]:.2f} s "
                f"| {statistics.median(r.bytes_read for r in data) / 1024:.0f} KB "
                f"| {requests if mode == 'API' else '-'} |"
            )
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-repo", type=int, default=40)
    parser.add_argument("--only", choices=sorted(PROJECTS), default="")
    args = parser.parse_args(argv)
    if not REPOS.is_dir():
        print(f"{REPOS} is not present", file=sys.stderr)
        return 2
    results = {}
    for language in PROJECTS:
        if args.only and language != args.only:
            continue
        results[language] = run_repo(language, args.per_repo)
        print(f"{language}: done", file=sys.stderr, flush=True)
    print(table(results))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nPeak RSS of the whole run (jedi's ground truth included): {peak:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
