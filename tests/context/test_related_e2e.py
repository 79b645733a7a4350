"""Related code end to end, through the action's in-process run against the fake GitHub and fake provider:
what the model is sent beside the diff (API mode and workspace mode), what is never read, the manifest and
the dry run, the off switch, and a changed file that does not parse."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e import SHA_BASE, SHA_HEAD, run_action
from fakes.github_server import FakeGitHub
from fakes.llm_server import FakeLLM

BODY_MARK = "rate_is_clamped_between_zero_and_one"
SECRET = "sk_live_51HabcdefGHIJKLmnopQRSTuv"
IGNORED_MARK = "body_of_an_ignored_helper"

PRICING = f'''"""Prices."""


def apply_discount(price, rate):
    """The price after a discount."""
    {BODY_MARK} = min(max(rate, 0.0), 1.0)
    charge("{SECRET}")
    return price * (1 - {BODY_MARK})


def charge(key):
    return key
'''
CART_BEFORE = '''"""The cart."""

from app.pricing import apply_discount
from internal.secret_sauce import blend


def total(items):
    """Sum of the items, discounted."""
    subtotal = 0
    for item in items:
        subtotal += item
    subtotal = blend(subtotal)
    return apply_discount(subtotal, 0.1)
'''
CART_CALL = CART_BEFORE.replace("apply_discount(subtotal, 0.1)", "apply_discount(subtotal, 0.2)").replace(
    "blend(subtotal)", "blend(subtotal + 1)"
)
CART_SIGNATURE = CART_BEFORE.replace("def total(items):", "def total(items, coupon=None):")
CHECKOUT = '''"""Checkout."""

from app.cart import total


def pay(basket):
    amount = total(basket)
    return amount
'''
SAUCE = f"""def blend(value):
    {IGNORED_MARK} = value
    return {IGNORED_MARK}
"""
BROKEN_BEFORE = """def broken(x):
    first = 1
    second = 2
    third = 3
    fourth = 4
    fifth = 5
    if x >
        return 1
    y = compute(x)
    return y
"""
BROKEN_AFTER = BROKEN_BEFORE.replace("y = compute(x)", "y = compute(x) + 1")
TREE = {
    "app/__init__.py": "",
    "app/pricing.py": PRICING,
    "app/checkout.py": CHECKOUT,
    "internal/secret_sauce.py": SAUCE,
    ".env": f"STRIPE_KEY={SECRET}\n",
    "config/credentials.json": '{"key": "x"}\n',
}
QODO_YML = "ignore: ['internal/**']\n"


def git(cwd: Path, *args: str) -> str:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(cwd),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, check=True)
    return done.stdout.decode()


def diff_of(path: str, before: str, after: str) -> str:
    """A git-style diff of one file, made by git itself (no repository needed)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        a, b = Path(tmp, "a"), Path(tmp, "b")
        a.write_text(before)
        b.write_text(after)
        done = subprocess.run(["git", "diff", "--no-index", "a", "b"], cwd=tmp, capture_output=True, check=False)
    text = done.stdout.decode()
    body = text[text.index("@@") :]
    return f"diff --git a/{path} b/{path}\nindex 1111111..2222222 100644\n--- a/{path}\n+++ b/{path}\n{body}"


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    with FakeLLM() as fake:
        yield fake


def api_github(diff_text: str, files: dict[str, str], config: str = QODO_YML) -> FakeGitHub:
    fake = FakeGitHub()
    fake.add_pull(7, "Cart change", "Changes the cart.", SHA_BASE, SHA_HEAD, diff_text)
    for path, text in files.items():
        fake.set_file(path, SHA_HEAD, text)
    if config:
        fake.set_file(".qodo.yml", SHA_BASE, config)
    return fake


def user_prompt(llm: FakeLLM) -> str:
    (request,) = llm.requests
    return str(request.json["messages"][1]["content"])


# read at the base commit with the config (issue 13's team rules), not for related code
RULE_FILES = ("AGENTS.md", "CLAUDE.md", ".github/copilot-instructions.md")


def contents_requested(github: FakeGitHub) -> list[str]:
    """The files read through the contents API, but the base branch's rule files."""
    asked = [r.path.split("/contents/", 1)[1] for r in github.requests if "/contents/" in r.path]
    return [path for path in asked if path.split("?", 1)[0] not in RULE_FILES]


def test_api_mode_sends_the_called_function_redacted_and_never_reads_withheld_or_ignored(
    tmp_path: Path, llm: FakeLLM
) -> None:
    with api_github(diff_of("app/cart.py", CART_BEFORE, CART_CALL), {**TREE, "app/cart.py": CART_CALL}) as github:
        run = run_action(tmp_path, github_url=github.url, llm_url=llm.url)
        assert run.code == 0, run.stdout + run.stderr
        prompt = user_prompt(llm)
        related = prompt.split("## Related code", 1)[1]
        # (2) the called function's body, from an untouched file, labelled with its path and lines
        assert f"{BODY_MARK} = min(max(rate, 0.0), 1.0)" in related
        assert "### app/pricing.py, lines" in related and "`apply_discount`, used by the change" in related
        # (1) the enclosing function, whole: the hunk shows only part of it
        assert "def total(items):" in related
        # the secret inside the called function never leaves; its placeholder does
        assert SECRET not in prompt and 'charge("<<SECRET:stripe-key:1>>")' in related
        # never read: withheld files, the config-ignored module the change calls
        asked = contents_requested(github)
        assert not any(p.startswith((".env", "config/credentials", "internal/")) for p in asked), asked
        assert IGNORED_MARK not in prompt
        # bounded: one tree listing, at most 30 file reads (and the base config)
        assert len([r for r in github.requests if "/git/trees/" in r.path]) == 1
        assert len([p for p in asked if not p.startswith(".qodo.yml")]) <= 30
    # the privacy manifest lists the related code sent
    assert "Related code: " in run.summary and "app/pricing.py" in run.summary.split("Related code: ", 1)[1]


def test_api_mode_changed_signature_sends_its_callers(tmp_path: Path, llm: FakeLLM) -> None:
    files = {**TREE, "app/cart.py": CART_SIGNATURE}
    with api_github(diff_of("app/cart.py", CART_BEFORE, CART_SIGNATURE), files) as github:
        run = run_action(tmp_path, github_url=github.url, llm_url=llm.url)
    assert run.code == 0, run.stdout + run.stderr
    related = user_prompt(llm).split("## Related code", 1)[1]
    assert "### app/checkout.py, lines" in related and "amount = total(basket)" in related
    assert "calls `total`, which the change modifies" in related


def test_workspace_mode_reads_the_checkout_not_the_api(tmp_path: Path, llm: FakeLLM) -> None:
    workspace = tmp_path / "run" / "workspace"
    workspace.mkdir(parents=True)
    git(workspace, "init", "-q", "-b", "main")
    for path, text in {**TREE, "app/cart.py": CART_BEFORE}.items():
        (workspace / path).parent.mkdir(parents=True, exist_ok=True)
        (workspace / path).write_text(text)
    git(workspace, "add", "-A")
    git(workspace, "commit", "-qm", "base")
    base = git(workspace, "rev-parse", "HEAD").strip()
    (workspace / "app/cart.py").write_text(CART_CALL)
    git(workspace, "commit", "-qam", "head")
    head = git(workspace, "rev-parse", "HEAD").strip()
    with FakeGitHub() as github:  # GitHub holds no files: everything related comes from the checkout
        github.add_pull(7, "Cart change", "", base, head, diff_of("app/cart.py", CART_BEFORE, CART_CALL))
        github.set_file(".qodo.yml", base, QODO_YML)
        run = run_action(tmp_path / "run", github_url=github.url, llm_url=llm.url)
        assert not [r for r in github.requests if "/git/trees/" in r.path]
        assert contents_requested(github) == [".qodo.yml"]
    assert run.code == 0, run.stdout + run.stderr
    prompt = user_prompt(llm)
    related = prompt.split("## Related code", 1)[1]
    assert f"{BODY_MARK} = min(max(rate, 0.0), 1.0)" in related
    assert SECRET not in prompt and IGNORED_MARK not in prompt
    assert "read from the git repository at the head commit" in run.summary


def test_dry_run_lists_the_related_code(tmp_path: Path) -> None:
    with api_github(diff_of("app/cart.py", CART_BEFORE, CART_CALL), {**TREE, "app/cart.py": CART_CALL}) as github:
        run = run_action(tmp_path, github_url=github.url, inputs={"dry-run": "true"})
    assert run.code == 0, run.stdout + run.stderr
    assert "Related code: " in run.stdout and "## Related code" in run.stdout
    assert "Would be sent" in run.summary and "Related code: " in run.summary
    assert SECRET not in run.stdout + run.summary


def test_related_code_lines_zero_sends_none_and_reads_nothing(tmp_path: Path, llm: FakeLLM) -> None:
    files = {**TREE, "app/cart.py": CART_CALL}
    config = QODO_YML + "related-code-lines: 0\n"
    with api_github(diff_of("app/cart.py", CART_BEFORE, CART_CALL), files, config) as github:
        run = run_action(tmp_path, github_url=github.url, llm_url=llm.url)
        assert contents_requested(github) == [".qodo.yml"]
        assert not [r for r in github.requests if "/git/trees/" in r.path]
    assert run.code == 0, run.stdout + run.stderr
    assert "## Related code" not in user_prompt(llm) and BODY_MARK not in user_prompt(llm)
    assert "Related code: " not in run.summary


def test_a_file_that_does_not_parse_gets_its_enclosing_block_only(tmp_path: Path, llm: FakeLLM) -> None:
    files = {**TREE, "app/broken.py": BROKEN_AFTER}
    with api_github(diff_of("app/broken.py", BROKEN_BEFORE, BROKEN_AFTER), files) as github:
        run = run_action(tmp_path, github_url=github.url, llm_url=llm.url)
    assert run.code == 0, run.stdout + run.stderr
    related = user_prompt(llm).split("## Related code", 1)[1]
    assert "def broken(x):" in related and "enclosing block" in related
    assert "enclosing blocks only" in run.summary
