"""What ships (RELEASING.md): the image's pins and build, the release workflow's order, the release pins
(.github/release/pin.py), the reusable workflow, and the README's copy-paste workflows, pinned and audited
like the repository's own (zizmor, GitHub's workflow schema) when the dev tools are installed."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
LOCK = ROOT / "requirements.lock"
REGENERATE = "uv pip compile pyproject.toml --generate-hashes --python-version 3.12 --python-platform linux"
# `uses: owner/repo@<40 hex> # vX.Y.Z`: a SHA pin with the version it stands for.
PINNED_LINE = re.compile(r"uses: [\w<>.-]+/[\w.-]+(?:/[\w./-]+)?@[0-9a-f]{40} # v\d+(?:\.\d+){0,2}\S*$")


def _pin_module() -> Any:
    spec = importlib.util.spec_from_file_location("pin", ROOT / ".github" / "release" / "pin.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pin = _pin_module()


# --- requirements.lock: hashed, and covering pyproject's runtime dependencies ------------------------------


def lock_requirements() -> dict[str, list[str]]:
    """name -> its hashes, from the lock (one requirement and its `--hash` continuation lines)."""
    requirements: dict[str, list[str]] = {}
    current = ""
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if not line.startswith(" "):
            current = re.split(r"[=<>!~ ;\\]", stripped, maxsplit=1)[0].lower().replace("_", "-")
            assert "==" in stripped, f"requirements.lock: {stripped!r} is not pinned with =="
            requirements[current] = []
        requirements[current] += re.findall(r"--hash=sha256:([0-9a-f]{64})", stripped)
    return requirements


def test_every_locked_requirement_has_hashes() -> None:
    unhashed = [name for name, hashes in lock_requirements().items() if not hashes]
    assert not unhashed, (
        f"requirements.lock: {unhashed} have no --hash, and the image installs with --require-hashes; "
        f"regenerate it: {REGENERATE} -o requirements.lock"
    )


def test_the_lock_covers_every_runtime_dependency() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    names = {re.split(r"[=<>!~ ;\[]", d, maxsplit=1)[0].lower().replace("_", "-") for d in declared}
    missing = names - set(lock_requirements())
    assert not missing, f"pyproject.toml needs {sorted(missing)} at run time; regenerate the lock: {REGENERATE}"


def test_the_lock_says_how_it_was_made() -> None:
    assert REGENERATE in LOCK.read_text(encoding="utf-8")


# --- the Dockerfile and its context ------------------------------------------------------------------------


def test_dockerfile_pins_installs_with_hashes_and_ships_bytecode() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    froms = re.findall(r"^FROM (\S+)", text, re.M)
    assert froms and all(re.fullmatch(r"python:3\.12-slim@sha256:[0-9a-f]{64}", f) for f in froms), froms
    assert "--require-hashes" in text and "--no-deps" in text
    assert "--no-compile" not in text and "compileall" in text
    assert not re.search(r"^USER ", text, re.M)  # GitHub's Docker actions run as root (the comment says why)


def test_dockerignore_keeps_the_context_to_what_the_image_needs() -> None:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert lines[lines.index("*") :] and {"!src/", "!entrypoint.py", "!requirements.lock"} <= set(lines)


def test_the_branch_builds_its_image_from_the_dockerfile() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    assert action["runs"]["image"] == "Dockerfile"  # the release commit alone runs a pushed digest


# --- release pins ------------------------------------------------------------------------------------------

DIGEST = "ghcr.io/acme/qodo-review@sha256:" + "ab" * 32


def test_pin_action_points_action_yml_at_the_digest() -> None:
    pinned = pin.pin_action((ROOT / "action.yml").read_text("utf-8"), DIGEST)
    assert yaml.safe_load(pinned)["runs"]["image"] == f"docker://{DIGEST}"
    assert pinned.count("\n") == (ROOT / "action.yml").read_text("utf-8").count("\n")  # one line changed


@pytest.mark.parametrize(
    "image",
    [
        "ghcr.io/acme/qodo-review:1.2.3",  # a tag moves
        "ghcr.io/acme/qodo-review@sha256:" + "ab" * 31,
        "docker.io/acme/qodo-review@sha256:" + "ab" * 32,
        "ghcr.io/Acme/qodo-review@sha256:" + "ab" * 32,  # ghcr.io names are lower case
    ],
)
def test_pin_action_refuses_anything_but_a_ghcr_digest(image: str) -> None:
    with pytest.raises(pin.PinError, match="sha256:<64 hex>"):
        pin.pin_action((ROOT / "action.yml").read_text("utf-8"), image)


def test_pin_action_refuses_an_already_pinned_action() -> None:
    once = pin.pin_action((ROOT / "action.yml").read_text("utf-8"), DIGEST)
    with pytest.raises(pin.PinError, match="already pinned"):
        pin.pin_action(once, DIGEST)


def test_pin_readme_pins_every_workflow_to_one_release() -> None:
    commit = "1234567890abcdef1234567890abcdef12345678"
    text = pin.pin_readme((ROOT / "README.md").read_text("utf-8"), commit, "v1.2.3")
    lines = [line.strip() for line in text.splitlines() if "<owner>/qodo-review" in line and "uses:" in line]
    assert len(lines) >= 8
    assert all(line.endswith(f"@{commit} # v1.2.3") for line in lines), lines
    with pytest.raises(pin.PinError, match="40-hex"):
        pin.pin_readme(text, "v1.2.3", "v1.2.3")


@pytest.mark.skipif(shutil.which("check-jsonschema") is None, reason="check-jsonschema is not installed (dev extra)")
def test_the_release_commits_action_yml_is_a_valid_action(tmp_path: Path) -> None:
    released = tmp_path / "action.yml"
    released.write_text(pin.pin_action((ROOT / "action.yml").read_text("utf-8"), DIGEST), encoding="utf-8")
    done = subprocess.run(
        ["check-jsonschema", "--builtin-schema", "vendor.github-actions", str(released)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


# --- the release workflow: nothing a user resolves moves before the pushed image passed its tests ------------


def test_release_order() -> None:
    workflow = yaml.safe_load((WORKFLOWS / "release.yml").read_text(encoding="utf-8"))
    jobs = workflow["jobs"]
    assert set(jobs["test"]["needs"] if isinstance(jobs["test"]["needs"], list) else [jobs["test"]["needs"]]) == {
        "image"
    }
    assert set(jobs["release"]["needs"]) == {"image", "test"}
    build = next(s for s in jobs["image"]["steps"] if str(s.get("uses", "")).startswith("docker/build-push-action@"))
    assert build["with"]["platforms"] == "linux/amd64,linux/arm64"
    assert "push-by-digest=true" in build["with"]["outputs"] and "tags" not in build["with"]
    attest = [s["uses"].split("@")[0] for s in jobs["image"]["steps"] if "attest" in str(s.get("uses", ""))]
    assert attest == ["actions/attest-build-provenance", "actions/attest"]
    tests = " ".join(str(s.get("run", "")) for s in jobs["test"]["steps"])
    assert "tests/image/run.sh" in tests and "gh attestation verify" in tests
    release = " ".join(str(s.get("run", "")) for s in jobs["release"]["steps"])
    assert 'pin.py action "$IMAGE@$DIGEST"' in release and 'push --force origin "refs/tags/$major"' in release
    for job in ("image", "test"):  # only the release job writes to the repository
        assert jobs[job]["permissions"].get("contents") == "read"


def test_every_workflow_pin_names_its_version() -> None:
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for line in path.read_text(encoding="utf-8").splitlines():
            stripped = line.strip().removeprefix("- ")
            if stripped.startswith("uses:") and "@" in stripped:
                assert PINNED_LINE.fullmatch(stripped), f"{path.name}: {stripped!r} needs @<sha> # vX.Y.Z"


# --- the reusable workflow ---------------------------------------------------------------------------------


def test_reusable_workflow_is_explicit_and_least_privileged() -> None:
    workflow = yaml.safe_load((WORKFLOWS / "review.yml").read_text(encoding="utf-8"))
    call = workflow[True]["workflow_call"]  # YAML 1.1 reads "on" as True
    assert set(call["secrets"]) == {"api-key"} and call["secrets"]["api-key"]["required"] is True
    (job,) = workflow["jobs"].values()
    assert job["permissions"] == {"contents": "read", "pull-requests": "write", "checks": "write"}
    checkout, action = job["steps"]
    assert checkout["with"] == {
        "repository": "${{ job.workflow_repository }}",  # this workflow's repository and commit, not the caller's
        "ref": "${{ job.workflow_sha }}",
        "path": ".qodo-review-action",
        "persist-credentials": False,
    }
    declared = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))["inputs"]
    assert action["uses"] == "./.qodo-review-action" and set(action["with"]) <= set(declared)
    assert set(action["with"]) - {"api-key"} == set(call["inputs"])  # every input passed on, nothing else


# --- the README's workflows --------------------------------------------------------------------------------


def readme_workflows() -> dict[str, str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return {name: block for block, name in re.findall(r"```yaml\n(# \.github/workflows/(\S+)\n.*?)```", text, re.S)}


def test_readme_workflows_are_pinned_with_their_version() -> None:
    workflows = readme_workflows()
    assert len(workflows) >= 5
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    uses = [line.strip() for line in text.splitlines() if line.strip().startswith(("uses:", "- uses:"))]
    assert uses and all(PINNED_LINE.fullmatch(u.removeprefix("- ")) for u in uses), uses
    ours = {u.split("@")[1] for u in uses if "/qodo-review@" in u}
    assert len(ours) == 1, "every README workflow pins the same release"  # others: the clouds' login actions


def _write_readme_workflows(tmp_path: Path) -> Path:
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    for name, block in readme_workflows().items():
        (folder / name).write_text(block, encoding="utf-8")
    return folder


@pytest.mark.skipif(shutil.which("zizmor") is None, reason="zizmor is not installed (pip install -e '.[dev]')")
def test_readme_workflows_pass_zizmor(tmp_path: Path) -> None:
    folder = _write_readme_workflows(tmp_path)
    done = subprocess.run(
        ["zizmor", "--offline", "--no-progress", str(folder)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.skipif(shutil.which("check-jsonschema") is None, reason="check-jsonschema is not installed (dev extra)")
def test_readme_workflows_match_githubs_schema(tmp_path: Path) -> None:
    folder = _write_readme_workflows(tmp_path)
    done = subprocess.run(
        ["check-jsonschema", "--builtin-schema", "vendor.github-workflows", *map(str, sorted(folder.iterdir()))],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


# --- versions and the bots that keep the pins current ------------------------------------------------------


def test_one_version() -> None:
    """The release workflow checks its tag against pyproject; the package says the same version."""
    import qodo_review

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert qodo_review.__version__ == declared


def test_dependabot_keeps_the_base_digest_and_the_action_pins_current() -> None:
    config = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text(encoding="utf-8"))
    ecosystems = {u["package-ecosystem"]: u for u in config["updates"]}
    assert set(ecosystems) >= {"docker", "github-actions"}
    (never,) = ecosystems["docker"]["ignore"]  # the digest moves with the tag; Python's minor version does not
    assert never["dependency-name"] == "python" and "version-update:semver-minor" in never["update-types"]
