"""Regenerate docs/cli-review.png, the README's terminal screenshot, from the real CLI's output.

    pip install cairosvg   # only for this script; not a dependency of qodo-review
    python docs/screenshot.py

It runs `qodo-review review --diff examples/sample.diff --fail-on high` in process, against the test suite's fake
OpenAI server (127.0.0.1) answering with two findings, with colours and 100 columns; the ANSI output is drawn
by rich into an SVG, and cairosvg turns that into the PNG. Nothing leaves the machine.
"""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]

from fakes.llm_server import FakeLLM, chat_completion  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.text import Text  # noqa: E402

from qodo_review import cli  # noqa: E402

ANSWER = {
    "summary": "Adds user search and an average helper; the search builds SQL from user input.",
    "findings": [
        {
            "path": "app/users.py",
            "line": 12,
            "end_line": 12,
            "side": "RIGHT",
            "severity": "critical",
            "category": "security",
            "title": "SQL injection in find_users",
            "body": 'The name is interpolated into the SQL string: `name = "%\' OR 1=1 --"` returns every user.',
            "suggestion": (
                '    rows = conn.execute("SELECT id, name FROM users WHERE name LIKE ?", (f"%{name}%",)).fetchall()'
            ),
        },
        {
            "path": "app/users.py",
            "line": 17,
            "end_line": 17,
            "side": "RIGHT",
            "severity": "medium",
            "category": "bug",
            "title": "Division by zero on an empty list",
            "body": "`len(ages)` is 0 for an empty list; return 0.0 or raise a clear error.",
        },
    ],
}
WIDTH = 100
COMMAND = "qodo-review review --diff examples/sample.diff --fail-on high"


def main() -> int:
    import cairosvg

    out = io.StringIO()
    with FakeLLM() as llm:
        llm.enqueue(json=chat_completion(json.dumps(ANSWER), prompt_tokens=1384, completion_tokens=212))
        argv = [*COMMAND.split()[1:], "--format", "pretty", "--provider", "openai", "--base-url", f"{llm.url}/v1"]
        env = {"OPENAI_API_KEY": "sk-screenshot-0123456789", "COLUMNS": str(WIDTH), "FORCE_COLOR": "1"}
        code = cli.main(argv, env=env, stdout=out, stderr=io.StringIO())
    shown = re.sub(r"127\.0\.0\.1:[0-9]+", "api.openai.com", out.getvalue())  # the fake stands in for OpenAI
    console = Console(record=True, width=WIDTH, file=io.StringIO(), force_terminal=True, color_system="standard")
    console.print(Text.assemble(("$ ", "bold green"), COMMAND))
    console.print(Text.from_ansi(shown), end="")
    console.print(Text(f"\n$ echo $?\n{code}", style="dim"))
    svg = console.export_svg(title="qodo-review")
    # No web font: the local monospace font draws it (cairosvg fetches nothing).
    svg = re.sub(r"@font-face \{.*?\}", "", svg, flags=re.DOTALL).replace("Fira Code", "DejaVu Sans Mono")
    target = ROOT / "docs" / "cli-review.png"
    cairosvg.svg2png(bytestring=svg.encode(), write_to=str(target), output_width=1400)
    print(f"wrote {target.relative_to(ROOT)} (exit code of the review: {code})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
