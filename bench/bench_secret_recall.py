"""Benchmark (not a test): secret recall on real, externally written samples, per source and per family.

    python bench/bench_secret_recall.py [--misses]

Sources (../shared/realdata/secrets, see its README and SOURCES.md):
  noseyparker   rule examples: 426 positives (each checked as noseyparker's own test does: the rule's match,
                split at quotes and blanks, must be gone from the redacted text) and the negative examples
                (must come back unchanged; a change is a false positive)
  detect-secrets  the fixtures and their baseline (29 secrets; SHA-1 of each), found in the redacted files
  gitleaks      222 rules without examples: which token families have a rule of ours (by keyword)

Scope: "token" families are the provider formats and key files our rule table names one rule for (mapped
rule by rule below); "keyword" families are passwords and secrets found by their key or their place (keyword
assignments, URLs, connection strings, command lines: a deliberate trade, placeholder words such as
`password` or `secret` and identifiers are skipped); everything else is "uncovered".
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import re
import sys
import tomllib
from collections import defaultdict
from pathlib import Path

import yaml

from qodo_review.redact import RULES, Redactor
from qodo_review.redact.assignments import _ASSIGNMENT_KEYWORDS

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata" / "secrets"

# noseyparker rule id -> our kind (token families) or "keyword" (keyword-assignment families); absent: uncovered.
NP_SCOPE: dict[str, str] = {
    "np.adafruit.1": "adafruit-key",
    "np.adobe.1": "adobe-secret",
    "np.age.2": "age-secret-key",
    "np.anthropic.1": "anthropic-key",
    "np.artifactory.1": "artifactory-key",
    "np.atlassian.1": "atlassian-token",
    "np.aws.1": "aws-access-key",
    "np.aws.2": "aws-secret-key",
    "np.appsync.1": "appsync-key",
    "np.aws.6": "aws-secret-key",
    "np.azure.1": "azure-key",
    "np.azure.2": "azure-key",
    "np.azure.3": "azure-devops-token",
    "np.azure.4": "azure-devops-token",
    "np.bitbucket.1": "bitbucket-app-password",
    "np.codeclimate.1": "codeclimate-token",
    "np.cratesio.1": "cratesio-token",
    "np.databricks.1": "databricks-token",
    "np.dtrack.1": "dependency-track-key",
    **{f"np.digitalocean.{i}": "digitalocean-token" for i in (1, 2, 3)},
    "np.dockerhub.1": "dockerhub-token",
    **{f"np.doppler.{i}": "doppler-token" for i in range(1, 7)},
    "np.dropbox.1": "dropbox-token",
    "np.dynatrace.1": "dynatrace-token",
    "np.facebook.2": "facebook-token",
    "np.figma.1": "figma-token",
    "np.firecrawl.1": "firecrawl-key",
    **{f"np.github.{i}": "github-token" for i in (1, 2, 3, 4, 7)},
    **{f"np.gitlab.{i}": "gitlab-token" for i in (1, 2, 3)},
    "np.google.2": "google-oauth",
    "np.google.3": "google-oauth",
    "np.google.4": "google-oauth",
    "np.google.5": "google-api-key",
    **{f"np.grafana.{i}": "grafana-token" for i in (1, 2, 3)},
    "np.groq.1": "groq-key",
    **{f"np.hashicorp.{i}": "vault-token" for i in range(1, 8)},
    "np.http.1": "http-auth",
    "np.http.2": "http-auth",
    "np.huggingface.1": "huggingface-token",
    "np.jina.1": "jina-key",
    "np.jwt.1": "jwt",
    "np.mailchimp.1": "mailchimp-key",
    "np.mailgun.1": "mailgun-key",
    "np.mapbox.2": "mapbox-token",
    "np.mapbox.3": "mapbox-token",
    "np.msteams.1": "teams-webhook",
    "np.mongodb.1": "keyword",
    "np.netrc.1": "keyword",
    **{f"np.newrelic.{i}": "newrelic-key" for i in range(1, 10)},
    "np.npm.1": "npm-token",
    "np.nuget.1": "nuget-key",
    "np.openai.1": "openai-key",
    "np.pem.1": "private-key",
    "np.pem.2": "private-key",
    "np.postgres.1": "keyword",
    "np.postman.1": "postman-key",
    "np.postmark.1": "postmark-token",
    "np.pypi.1": "pypi-token",
    "np.rubygems.1": "rubygems-key",
    "np.salesforce.1": "salesforce-token",
    "np.sendgrid.1": "sendgrid-key",
    **{f"np.shopify.{i}": "shopify-token" for i in (2, 3, 4, 5)},
    **{f"np.slack.{i}": "slack-token" for i in (2, 4, 5, 6)},
    "np.slack.3": "slack-webhook",
    "np.sonarqube.1": "sonarqube-token",
    "np.sourcegraph.1": "sourcegraph-token",
    "np.square.1": "square-token",
    "np.square.2": "square-token",
    "np.stackhawk.1": "stackhawk-key",
    "np.stripe.1": "stripe-key",
    "np.stripe.2": "stripe-key",
    "np.tavily.1": "tavily-key",
    "np.telegram.1": "telegram-bot-token",
    "np.twilio.1": "twilio-key",
    "np.twitch.1": "twitch-stream-key",
    # passwords and secrets named by their key or their place (a URL, a connection string, a command line)
    "np.generic.7": "keyword",
    "np.odbc.1": "keyword",
    "np.psexec.1": "keyword",
    **{f"np.generic.{i}": "keyword" for i in (1, 2, 3, 4, 5, 6, 8, 9, 10, 15, 16)},
    "np.django.1": "keyword",
    "np.gradle.1": "keyword",
    "np.jwt.2": "keyword",
    "np.jwt.3": "keyword",
    "np.phpmailer.1": "keyword",
    "np.reactapp.2": "keyword",
    "np.vmware.1": "keyword",
}
SECRET_GROUP = {"np.mongodb.1": 2, "np.postgres.1": 2}  # these rules capture user, password, host


def _compile(source: str) -> re.Pattern[str]:
    """Two rules put a global flag mid-pattern, which Python rejects: hoist it."""
    try:
        return re.compile(source)
    except re.error:
        flags = "".join(sorted(set("".join(re.findall(r"\(\?([a-z]+)\)", source)))))
        return re.compile(f"(?{flags})" + re.sub(r"\(\?[a-z]+\)", "", source))


def np_rules() -> list[dict[str, object]]:
    rules: list[dict[str, object]] = []
    for path in sorted(glob.glob(str(DATA / "noseyparker-rules" / "rules" / "*.yml"))):
        rules += yaml.safe_load(Path(path).read_text())["rules"]
    return rules


def np_found(rule: dict[str, object], example: str) -> bool:
    """noseyparker's match in the example, split at blanks and quotes: every piece is gone after redaction."""
    match = _compile(str(rule["pattern"])).search(example)
    assert match is not None, rule["id"]
    secret = match.group(SECRET_GROUP.get(str(rule["id"]), match.lastindex or 0))
    lines = example.split("\n")
    out = "\n".join(Redactor().redact_lines(lines))
    return all(out.count(p) < example.count(p) for p in re.findall(r"[^\s\"'`,+;\\]{3,}", secret) or [secret])


def noseyparker(show_misses: bool) -> tuple[dict[str, list[int]], int, int]:
    """scope -> [found, total]; false positives on the negatives, and their count."""
    rules = np_rules()
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    positives = {e for r in rules for e in r["examples"]}  # type: ignore[attr-defined]
    for rule in rules:
        rid = str(rule["id"])
        scope = "keyword" if NP_SCOPE.get(rid) == "keyword" else "token" if rid in NP_SCOPE else "uncovered"
        for index, example in enumerate(rule["examples"]):  # type: ignore[arg-type]
            ok = np_found(rule, example)
            tally[scope][0] += ok
            tally[scope][1] += 1
            if not ok and show_misses:
                print(f"  miss {scope:9} {rid}-{index}: {example[:100]!r}")
    patterns = [_compile(str(r["pattern"])) for r in rules]
    false_pos = negatives = 0
    for rule in rules:
        own = _compile(str(rule["pattern"]))
        for index, example in enumerate(rule.get("negative_examples") or []):  # type: ignore[attr-defined]
            if example in positives or any(p.search(example) for p in patterns if p is not own):
                continue  # a positive of another rule
            negatives += 1
            lines = example.split("\n")
            if Redactor().redact_lines(lines) != lines:
                false_pos += 1
                if show_misses:
                    print(f"  changed negative {rule['id']}-neg{index}: {example[:100]!r}")
    return tally, false_pos, negatives


DS_SCOPE = {"Private Key": "token", "Basic Auth Credentials": "keyword", "Secret Keyword": "keyword"}


def detect_secrets(show_misses: bool) -> dict[str, list[int]]:
    root = DATA / "detect-secrets-test_data"
    baseline = json.loads((root / "baseline.file").read_text())["results"]
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for name, entries in baseline.items():
        path = root / name if (root / name).exists() else root / f"{name}.txt"
        text = path.read_text()
        out = Redactor().redact(text)
        lines = text.split("\n")
        for entry in entries:
            line = lines[entry["line_number"] - 1]
            secret = next(
                (
                    line[i:j]
                    for i in range(len(line))
                    for j in range(len(line), i, -1)
                    if hashlib.sha1(line[i:j].encode()).hexdigest() == entry["hashed_secret"]
                ),
                None,
            )
            scope = DS_SCOPE.get(entry["type"], "uncovered")
            ok = secret is not None and out.count(secret) < text.count(secret)
            tally[scope][0] += ok
            tally[scope][1] += 1
            if not ok and show_misses:
                print(f"  miss {scope:9} {name}:{entry['line_number']} ({entry['type']})")
    return tally


def gitleaks() -> tuple[int, list[str]]:
    """How many gitleaks rules name a token family we have a rule for (one of its keywords is ours)."""
    rules = tomllib.loads((DATA / "gitleaks" / "gitleaks.toml").read_text())["rules"]
    ours = {k for r in RULES for k in r.keywords} | set(_ASSIGNMENT_KEYWORDS)
    uncovered = [
        r["id"]
        for r in rules
        if not any(
            k.lower() in ours or any(o in k.lower() or k.lower() in o for o in ours if len(o) > 3)
            for k in r.get("keywords", [])
        )
    ]
    return len(rules), uncovered


def _pct(found: int, total: int) -> str:
    return f"{found:4d}/{total:<4d} {100 * found / max(total, 1):5.1f}%"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--misses", action="store_true", help="list every missed positive and changed negative")
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"{DATA} is absent", file=sys.stderr)
        return 2
    total: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    np_tally, false_pos, negatives = noseyparker(args.misses)
    ds_tally = detect_secrets(args.misses)
    print(f"{'source':16} {'token families':>18} {'keyword families':>18} {'uncovered':>18} {'all positives':>18}")
    for name, tally in (("noseyparker", np_tally), ("detect-secrets", ds_tally)):
        for scope, (found, count) in tally.items():
            total[scope][0] += found
            total[scope][1] += count
        every = [sum(v[0] for v in tally.values()), sum(v[1] for v in tally.values())]
        print(
            f"{name:16} "
            + " ".join(f"{_pct(*tally.get(s, [0, 0])):>18}" for s in ("token", "keyword", "uncovered"))
            + f" {_pct(*every):>18}"
        )
    every = [sum(v[0] for v in total.values()), sum(v[1] for v in total.values())]
    print(
        f"{'all':16} "
        + " ".join(f"{_pct(*total.get(s, [0, 0])):>18}" for s in ("token", "keyword", "uncovered"))
        + f" {_pct(*every):>18}"
    )
    print(f"noseyparker negatives changed (false positives): {false_pos} of {negatives}")
    count, uncovered = gitleaks()
    print(
        f"gitleaks: {count - len(uncovered)} of {count} rules name a family we have a rule for; "
        f"{len(uncovered)} do not:"
    )
    print("  " + ", ".join(uncovered))
    return 0


if __name__ == "__main__":
    sys.exit(main())
