"""Secret redaction: credentials in PR text become stable placeholders before anything reaches the model."""

from __future__ import annotations

import base64
import bisect
import functools
import itertools
import json
import math
import posixpath
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import quote, quote_plus

from .models import FileDiff, FileStatus, Finding, Severity

# Placeholders look like <<SECRET:github-token:3>>: n numbers the distinct values of one Redactor (one run)
# across kinds, from 1, and the same value always gets the same placeholder. A PEM private key spanning lines
# is replaced line by line: every line of the block, BEGIN and END markers included, keeps its indentation,
# quotes and surrounding code, and its key material becomes the block's one placeholder. Line counts never
# change.
PLACEHOLDER_FORMAT = "<<SECRET:{kind}:{n}>>"
_PLACEHOLDER = re.compile(r"<<SECRET:[a-z0-9-]{1,40}:[0-9]{1,9}>>")
MIN_RUN_SECRET_LENGTH = 8  # shorter run secrets would mask ordinary text everywhere
MAX_PEM_LINES = 500  # a 16384-bit RSA key is ~220 lines of base64; past this we stop following a block
MIN_PEM_BODY = 16  # base64 characters between BEGIN and END; fewer is a template, not a key
MIN_OPEN_PEM_BODY = 64  # with no END line (a cut hunk) more is needed to tell a key from code near a marker
MIN_TOKEN_RUN = 20  # the shortest provider token we detect without a keyword (AKIA + 16)


@dataclass(frozen=True, slots=True)
class Rule:
    """One detector: group `group` of `pattern` is the secret; a line is tried only if it holds a keyword.

    by_keyword: the secret can be short or plain (a password), so lines are found by the keywords. Otherwise
    the secret is a long token, and lines are found by the scan for long runs of token characters.
    """

    kind: str
    label: str
    pattern: re.Pattern[str]
    keywords: tuple[str, ...]  # lowercase
    group: int = 1
    check: Callable[[str], bool] | None = None
    by_keyword: bool = False


# --- value checks -------------------------------------------------------------------------------------

def _entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values()) if n else 0.0


def _classes(value: str) -> int:
    return (any(c.islower() for c in value) + any(c.isupper() for c in value)
            + any(c.isdigit() for c in value) + any(not c.isalnum() for c in value))


def _random_token(value: str) -> bool:
    """A machine-made token: mixes character classes and is not a run of one character."""
    return len(set(value)) >= 6 and _classes(value) >= 2 and _entropy(value) >= 3.0


def _varied(value: str) -> bool:
    """Provider-prefixed tokens need only not be a fill placeholder (ghp_xxxx..., px-api-a1b2c3d4-...)."""
    low = value.lower()
    return len(set(value)) >= 6 and "xxxx" not in low and "a1b2c3" not in low


def _aws_secret(value: str) -> bool:
    # 40 lowercase hex characters next to "aws" are a git SHA (`uses: aws-actions/...@<sha>`), not a key.
    return _varied(value) and any(c.isupper() for c in value) and any(c.islower() for c in value)


# Words that mark a value as a placeholder or a reference, not a secret.
_PLACEHOLDER_WORDS = (
    "example", "sample", "dummy", "changeme", "change_me", "change-me", "placeholder", "your", "redacted",
    "xxx", "***", "...", "todo", "fixme", "insert", "replace", "secret", "password", "passwd", "token",
    "fake", "mock", "default", "notset", "not-set", "not_set", "none", "null", "undefined", "a1b2c3",
    "1234567890", "&lt;",
)
_ANGLE_PLACEHOLDER = re.compile(r"<[A-Za-z_ -]{1,60}>")  # <your-api-key>, <TOKEN>
# Everyday words that configuration puts next to password keys (`password: required`).
_COMMON_WORDS = frozenset((
    "required", "optional", "disabled", "enabled", "hidden", "visible", "readonly", "string", "boolean",
    "integer", "unknown", "invalid", "missing", "expired", "revoked", "generate", "generated", "random",
    "internal", "external", "private", "public", "sensitive", "encrypted", "plaintext", "masked",
    "forbidden", "unauthorized", "incorrect", "username", "localhost", "anonymous", "database", "keychain",
    "prompt",
))
_TEMPLATE = re.compile(r"\$\{|\{\{|\}\}|#\{|%\([A-Za-z_]\w{0,40}\)[sdr]|\$\(")
_WORDLIKE = re.compile(r"[A-Za-z]{1,200}(?:[-_./: ]{1,5}[A-Za-z]{1,200}){0,50}")
_REFERENCE = re.compile(r"[A-Za-z_$][\w$]{0,200}(?:\.[A-Za-z_$][\w$]{0,200}){0,20}")
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9_.+/=~-]{16,512}")
_SEQUENTIAL = "0123456789abcdefghijklmnopqrstuvwxyz"
# Numeric literals (ports, timeouts, ioctl codes like `SIOCGLIFTOKEN = -0x3f879678`); long digit runs stay.
_NUMBER = re.compile(r"[-+]?(?:0[xX][0-9a-fA-F_]{1,40}|[0-9][0-9_]{0,14}(?:\.[0-9]{1,40})?"
                     r"(?:[eE][-+]?[0-9]{1,4})?)[uUlLfFnN]{0,3}")


def _plain_value(v: str) -> bool:
    """Not a reference, template, placeholder, URL, path, message or number."""
    low = v.lower()
    if not 8 <= len(v) <= 512 or v != v.strip() or v[0] in "$%<{[(@&*|+" or _TEMPLATE.search(v):

        return False
    if _ANGLE_PLACEHOLDER.search(v) or any(w in low for w in _PLACEHOLDER_WORDS):
        return False
    if "://" in v or v.startswith(("/", "./", "../", "~/")):
        return False
    # prose (a UI message), a sequence, or a number
    return v.count(" ") < 2 and low not in _SEQUENTIAL and _NUMBER.fullmatch(v) is None


def _entropic(v: str) -> bool:
    entropy = _entropy(v)
    return entropy >= 3.0 or (_classes(v) >= 2 and entropy >= 2.5)


def _secret_value(v: str) -> bool:
    """For secret, token and API-key names: a literal with real entropy."""
    if not _plain_value(v):
        return False
    if _WORDLIKE.fullmatch(v):  # words and identifiers in a string: "client_credentials", "X-CSRF-Token"
        return v.isalpha() and len(v) >= 16 and _entropy(v) >= 3.5
    return _entropic(v)


def _password_value(v: str) -> bool:
    """Passwords are often one plain word (`password = "whiteduke"`): accept one that is not an everyday
    word. Words joined by separators (`open_sesame`, `X-Password-Hint`) read as identifiers: skipped."""
    if not _plain_value(v):
        return False
    if _WORDLIKE.fullmatch(v):
        return v.isalpha() and v.lower() not in _COMMON_WORDS
    return _entropic(v)


def _machine_made(v: str) -> bool:
    """Random tokens switch between lower, upper and digit often (about half the time in hex or base64), or
    mix digits into one unbroken lowercase run; identifiers do neither (user_profile_v2, UserProfileSettings)."""
    kinds = [c.isdigit() + 2 * c.isupper() for c in v if c.isalnum()]
    changes = sum(a != b for a, b in itertools.pairwise(kinds)) / max(len(kinds) - 1, 1)
    return changes >= 0.35 or (kinds.count(1) * 100 >= 15 * len(kinds) and v.isalnum() and v.lower() == v)


def _token_value(v: str) -> bool:
    """For names as vague as `key` or `pat`: only a machine-made token."""
    return (_plain_value(v) and _TOKEN_CHARS.fullmatch(v) is not None and _random_token(v)
            and _machine_made(v))


_OBVIOUS = frozenset(("pass", "pwd", "admin", "root", "postgres", "user", "username", "guest", "test",
                      "mysql", "redis", "secret", "letmein", "qwerty", "password", "passwd"))
_WEAK_PLACEHOLDERS = ("your", "xxx", "***", "example", "changeme", "dummy", "placeholder", "<", ">")


def _weak_value(value: str) -> bool:
    """URL, netrc and command-line passwords are real even when weak: skip placeholders and references."""
    low = value.lower()
    if len(value) < 3 or value[0] in "$%<{[(*" or _TEMPLATE.search(value) or low in _OBVIOUS:
        return False
    if "password" in low and len(low) <= 16:  # mypassword, SOME_PASSWORD, thisismypassword
        return False
    return not any(w in low for w in _WEAK_PLACEHOLDERS) and not set(low) <= set("x*.-_0")


# --- the rule table -----------------------------------------------------------------------------------

_B = r"(?<![A-Za-z0-9_-])"  # token boundary on the left: a long run of token characters is scanned once
_E = r"(?![A-Za-z0-9_-])"


def _rule(kind: str, label: str, pattern: str, keywords: tuple[str, ...], group: int = 1,
          check: Callable[[str], bool] | None = _varied, by_keyword: bool = False) -> Rule:
    return Rule(kind, label, re.compile(pattern), keywords, group, check, by_keyword)


# Every repetition is bounded, and possessive (`{m,n}+`) where what follows cannot start inside it, so no
# pattern backtracks more than its bound. Ordered by priority: when two matches start at the same place, the
# earlier rule names the kind.
RULES: tuple[Rule, ...] = (
    # kind, label, pattern (group 1 is the secret unless `group` says otherwise), keywords
    _rule("private-key", "private key (base64-encoded PEM)",
          _B + r"(LS0tLS1CRUdJTi[A-Za-z0-9+/]{60,16384}+={0,2})", ("ls0tls1crudjti",)),
    _rule("aws-access-key", "AWS access key ID",
          r"(?:(?<![A-Za-z0-9])|(?<=%[0-9A-Fa-f]{2}))((?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA"
          r"|APKA|A3T[A-Z0-9])[A-Z0-9]{16})(?![A-Za-z0-9])",
          ("akia", "asia", "abia", "acca", "agpa", "aida", "aroa", "aipa", "anpa", "anva", "apka", "a3t")),
    _rule("anthropic-key", "Anthropic API key", _B + r"(sk-ant-[A-Za-z0-9_-]{32,300}+)", ("sk-ant-",)),
    _rule("openai-key", "OpenAI API key",
          _B + r"(sk-(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_-]{20,300}+)", ("sk-",), check=_random_token),
    _rule("github-token", "GitHub token", _B + r"(gh[pousr]_[A-Za-z0-9]{36,251}+)" + _E,
          ("ghp_", "gho_", "ghu_", "ghs_", "ghr_")),
    _rule("github-token", "GitHub token", _B + r"(github_pat_[A-Za-z0-9_]{22,255}+)" + _E, ("github_pat_",)),
    _rule("gitlab-token", "GitLab token",
          _B + r"((?:glpat|glptt|glrt|gldt|glcbt|glft|glsoat|glimt|glagent|gloas|glffct|glcst)-"
          r"[A-Za-z0-9_-]{20,64}+|GR1348941[A-Za-z0-9_-]{20,64}+)" + _E,
          ("glpat-", "glptt-", "glrt-", "gldt-", "glcbt-", "glft-", "glsoat-", "glimt-", "glagent-",
           "gloas-", "glffct-", "glcst-", "gr1348941")),
    _rule("slack-token", "Slack token",
          _B + r"(xox[abposre]-[A-Za-z0-9-]{10,250}+|xapp-[A-Za-z0-9/+-]{10,250}+)",
          ("xoxa-", "xoxb-", "xoxp-", "xoxo-", "xoxs-", "xoxr-", "xoxe-", "xapp-")),
    _rule("slack-webhook", "Slack webhook URL",
          r"hooks\.slack\.com/(?:services|workflows|triggers)/([A-Za-z0-9_/+-]{20,200}+)",
          ("hooks.slack.com",), by_keyword=True),
    _rule("teams-webhook", "Microsoft Teams webhook URL",
          r"(?:outlook\.office\.com/webhook|webhook\.office\.com/webhookb2)/([A-Za-z0-9@%/_-]{40,400}+)",
          ("outlook.office.com", "webhook.office.com"), by_keyword=True),
    _rule("stripe-key", "Stripe secret key",
          _B + r"((?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,247}+|whsec_[A-Za-z0-9]{24,64}+)" + _E,
          ("sk_live_", "rk_live_", "sk_test_", "rk_test_", "whsec_")),
    _rule("google-api-key", "Google API key", _B + r"(AIza[0-9A-Za-z_-]{35})" + _E, ("aiza",)),
    _rule("google-oauth", "Google OAuth secret or token",
          _B + r"(GOCSPX-[A-Za-z0-9_-]{20,40}+|ya29\.[0-9A-Za-z_-]{20,2048}+)", ("gocspx-", "ya29.")),
    _rule("npm-token", "npm access token", _B + r"(npm_[A-Za-z0-9]{36})" + _E, ("npm_",)),
    _rule("pypi-token", "PyPI upload token", _B + r"(pypi-AgE[A-Za-z0-9_-]{50,2048}+)", ("pypi-age",)),
    _rule("mapbox-token", "Mapbox secret token",
          r"(?<![A-Za-z0-9_.-])([st]k\.eyJ[A-Za-z0-9_-]{10,4096}+\.[A-Za-z0-9_-]{10,4096}+)", ("k.eyj",)),
    _rule("jwt", "JSON Web Token",
          _B + r"(eyJ[A-Za-z0-9_-]{8,4096}+\.eyJ[A-Za-z0-9_-]{2,8192}+\.[A-Za-z0-9_-]{0,4096}+)", ("eyj",)),
    _rule("grafana-token", "Grafana token",
          _B + r"(eyJrIjoi[A-Za-z0-9+/]{40,400}+={0,2}|glc_[A-Za-z0-9+/]{32,400}+={0,2}"
          r"|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8})", ("eyjrijoi", "glc_", "glsa_")),
    _rule("huggingface-token", "Hugging Face token", _B + r"(hf_[A-Za-z0-9]{34,40}+)" + _E, ("hf_",)),
    _rule("sendgrid-key", "SendGrid API key",
          _B + r"(SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})" + _E, ("sg.",)),
    _rule("digitalocean-token", "DigitalOcean token", _B + r"(do[opr]_v1_[a-f0-9]{64})" + _E,
          ("doo_v1_", "dop_v1_", "dor_v1_")),
    _rule("doppler-token", "Doppler token",
          _B + r"(dp\.(?:ct|pt|st|sa|scim|audit)(?:\.[a-z0-9_-]{1,40}+)?\.[A-Za-z0-9]{40,44}+)" + _E,
          ("dp.",)),
    _rule("dockerhub-token", "Docker Hub access token",
          _B + r"(dckr_pat_[A-Za-z0-9_-]{27,40}+)", ("dckr_pat_",)),
    _rule("shopify-token", "Shopify token", _B + r"(shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32})" + _E,
          ("shpat_", "shpca_", "shppa_", "shpss_")),
    _rule("groq-key", "Groq API key", _B + r"(gsk_[A-Za-z0-9]{48,56}+)" + _E, ("gsk_",)),
    _rule("databricks-token", "Databricks token",
          _B + r"(dapi[a-f0-9]{32}(?:-[0-9]{1,3})?)" + _E, ("dapi",)),
    _rule("age-secret-key", "age secret key",
          _B + r"(AGE-SECRET-KEY-1[0-9A-Z]{58})" + _E, ("age-secret-key-",)),
    _rule("vault-token", "HashiCorp Vault token",
          _B + r"(hv[sbr]\.[A-Za-z0-9_-]{24,400}+)", ("hvs.", "hvb.", "hvr.")),
    _rule("newrelic-key", "New Relic key",
          _B + r"(NR(?:AK|II|IQ|RA|AA|JS|SP)-[A-Za-z0-9_-]{20,60}+|[A-Za-z0-9]{36}NRAL|px-(?:api|dep)-"
          r"[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12})" + _E,
          ("nrak-", "nrii-", "nriq-", "nrra-", "nraa-", "nrjs-", "nrsp-", "nral", "px-api-", "px-dep-")),
    _rule("postman-key", "Postman API key", _B + r"(PMAK-[a-f0-9]{24}-[a-f0-9]{34})" + _E, ("pmak-",)),
    _rule("rubygems-key", "RubyGems API key", _B + r"(rubygems_[a-f0-9]{48})" + _E, ("rubygems_",)),
    _rule("telegram-bot-token", "Telegram bot token",
          r"(?<![0-9])([0-9]{8,10}:AA[A-Za-z0-9_-]{32,33})" + _E, (":aa",)),
    _rule("atlassian-token", "Atlassian API token", _B + r"(ATATT3[A-Za-z0-9_=-]{50,400}+)", ("atatt3",)),
    _rule("bitbucket-app-password", "Bitbucket app password", _B + r"(ATBB[A-Za-z0-9]{32})" + _E, ("atbb",)),
    _rule("linear-key", "Linear API key", _B + r"(lin_api_[A-Za-z0-9]{40})" + _E, ("lin_api_",)),
    _rule("mailgun-key", "Mailgun API key", _B + r"(key-[0-9a-f]{32})" + _E, ("key-",)),
    _rule("mailchimp-key", "Mailchimp API key", _B + r"([0-9a-f]{32}-us[0-9]{1,2})" + _E, ("-us",)),
    _rule("facebook-token", "Facebook access token",
          _B + r"(EAACEdEose0cBA[0-9A-Za-z]{20,500}+)", ("eaacedeose0cba",)),
    _rule("sourcegraph-token", "Sourcegraph access token",
          _B + r"(sgp_(?:[a-f0-9]{16}_|local_)?[a-f0-9]{40})" + _E, ("sgp_",)),
    _rule("nuget-key", "NuGet API key", _B + r"(oy2[a-z0-9]{43})" + _E, ("oy2",)),
    _rule("tavily-key", "Tavily API key", _B + r"(tvly-(?:dev-|prod-)?[A-Za-z0-9]{32})" + _E, ("tvly-",)),
    _rule("cratesio-token", "crates.io token", _B + r"(cio[A-Za-z0-9]{32})" + _E, ("cio",),
          check=_random_token),
    _rule("firecrawl-key", "Firecrawl API key", _B + r"(fc-[a-f0-9]{32})" + _E, ("fc-",)),
    _rule("jina-key", "Jina API key", _B + r"(jina_[a-f0-9]{32}[A-Za-z0-9_-]{28})" + _E, ("jina_",)),
    _rule("dynatrace-token", "Dynatrace token",
          _B + r"(dt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64})" + _E, ("dt0c01.",)),
    _rule("figma-token", "Figma access token", _B + r"(figd_[A-Za-z0-9_-]{40,60}+)", ("figd_",)),
    _rule("adafruit-key", "Adafruit IO key", _B + r"(aio_[A-Za-z0-9]{28})" + _E, ("aio_",)),
    _rule("artifactory-key", "Artifactory API key", _B + r"(AKCp[A-Za-z0-9]{69})" + _E, ("akcp",)),
    _rule("square-token", "Square token",
          _B + r"(EAAA[A-Za-z0-9_-]{60}|sq0(?:atp|csp)-[A-Za-z0-9_-]{22,43}+)" + _E,
          ("eaaa", "sq0atp-", "sq0csp-")),
    _rule("dropbox-token", "Dropbox access token", _B + r"(sl\.[A-Za-z0-9_-]{120,200}+)" + _E, ("sl.",)),
    _rule("appsync-key", "AWS AppSync API key", _B + r"(da2-[a-z0-9]{26})" + _E, ("da2-",)),
    _rule("dependency-track-key", "Dependency-Track API key",
          _B + r"(odt_[A-Za-z0-9]{32,40}+)" + _E, ("odt_",)),
    _rule("adobe-secret", "Adobe client secret", _B + r"(p8e-[A-Za-z0-9-]{32})" + _E, ("p8e-",)),
    _rule("stackhawk-key", "StackHawk API key",
          _B + r"(hawk\.[A-Za-z0-9_-]{20}\.[A-Za-z0-9_-]{20})" + _E, ("hawk.",)),
    _rule("salesforce-token", "Salesforce access token",
          _B + r"(00D[A-Za-z0-9]{12,15}![A-Za-z0-9._]{80,300}+)", ("00d",)),
    _rule("azure-devops-token", "Azure DevOps token",
          _B + r"([A-Za-z0-9]{76}AZDO[A-Za-z0-9]{4})" + _E, ("azdo",)),
    _rule("twilio-key", "Twilio API key", _B + r"((?i:sk)[0-9a-fA-F]{32})" + _E, ("twilio",)),
    _rule("twitch-stream-key", "Twitch stream key",
          _B + r"(live_[0-9]{6,12}_[A-Za-z0-9]{30})" + _E, ("live_",)),
    _rule("sonarqube-token", "SonarQube token",
          r"(?i:sonar[._-]?login)[\"'`,= \t:]{1,8}((?:squ_|sqa_|sqp_)?[a-f0-9]{40})" + _E, ("sonar",)),
    _rule("postmark-token", "Postmark server token",
          r"(?i:postmark)[^\n]{0,40}?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})" + _E,
          ("postmark",)),
    _rule("codeclimate-token", "CodeClimate reporter ID",
          r"(?i:cc_test_reporter_id|codeclimate_repo_token)[ \t]{0,5}[:=][ \t]{0,5}[\"']?([a-f0-9]{64})"
          + _E, ("cc_test_reporter_id", "codeclimate_repo_token")),
    # The rules below need context: a keyword, a URL, a header or a command line around the secret.
    _rule("azure-key", "Azure storage or service bus key",
          r"(?i:AccountKey|SharedAccessKey|SharedSecretValue)[ \t]{0,5}=[ \t]{0,5}"
          r"([A-Za-z0-9+/]{20,200}+={0,3})",
          ("accountkey", "sharedaccesskey", "sharedsecretvalue"), by_keyword=True),
    _rule("azure-sas", "Azure shared access signature",
          r"(?i:SharedAccessSignature=|[?&;]sig=)([A-Za-z0-9%+/=]{30,200}+)",
          ("sharedaccesssignature=", "sig="), by_keyword=True),
    _rule("aws-secret-key", "AWS secret access key",
          r"(?<![A-Za-z0-9/+=])([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])", ("aws",), check=_aws_secret,
          by_keyword=True),
    # `scheme://user:password@host`: only the password. Greedy up to the last '@' before the host, since
    # passwords may hold '@' (mongodb+srv://u:bria@pass135!@host/...).
    _rule("url-password", "password in a URL",
          r"(?<=[A-Za-z0-9])://[^\s:/?#@\"'<>\[\]]{0,128}+:([^\s/?#\"'<>]{1,256})@[A-Za-z0-9\[]",
          ("://",), check=_weak_value, by_keyword=True),
    _rule("http-auth", "HTTP Authorization credential",
          r"(?i:(?<![A-Za-z0-9_])(?:bearer|basic|ssws))[ \t]{1,5}([A-Za-z0-9._~+/-]{8,4096}+={0,3})",
          ("bearer", "basic", "ssws"), check=_random_token, by_keyword=True),
    _rule("http-auth", "HTTP Authorization credential",
          r"(?i:authorization)[\"'\]]{0,2}[ \t]{0,5}[:=,][ \t]{0,5}[\"']?(?i:token[ \t]{1,5})?"
          r"([A-Za-z0-9._~+/-]{8,4096}+={0,3})", ("authorization",), check=_random_token, by_keyword=True),
    _rule("token", "token in an HTTP header",
          r"(?i:x-api-key|x-auth-token|x-access-token|x-figma-token|x-postmark-server-token|x-vault-token"
          r"|private-token|jenkins-crumb|api-key)[\"']?[ \t]{0,5}[:=,][ \t]{0,5}[\"']?"
          r"([A-Za-z0-9._~+/=-]{8,512}+)",
          ("x-api-key", "x-auth-token", "x-access-token", "x-figma-token", "x-postmark-server-token",
           "x-vault-token", "private-token", "jenkins-crumb", "api-key"), check=_random_token,
          by_keyword=True),
    _rule("password", "password in a netrc entry",
          r"(?i:\bmachine[ \t]{1,10}\S{1,256}[ \t]{1,10}login[ \t]{1,10}\S{1,256}[ \t]{1,10}password)"
          r"[ \t]{1,10}(\S{1,256})", ("machine",), check=_weak_value, by_keyword=True),
    # netrc and Gradle put the password alone on its line: `  password pass123`, `password 'hunter2'`.
    _rule("password", "password in a credentials block",
          r"^[ \t]{0,80}(?i:password|passwd)[ \t]{1,10}([\"']?)([^\s\"'=:]{3,256})\1[ \t\r]*$",
          ("password", "passwd"), group=2, check=_weak_value, by_keyword=True),
    _rule("password", "password in a connection string",
          r"(?i:(?<![A-Za-z])(?:password|pwd)[ \t]{0,3}=[ \t]{0,3})([^;\"'\r\n]{1,256}?)[ \t]*(?=[;\"'\r]|$)",
          ("server=", "data source=", "uid=", "user id=", "userid=", "host="), check=_weak_value,
          by_keyword=True),
    _rule("password", "password on a command line",
          r"(?i:(?<![\w-])--?(?:password|passwd|pwd|pass))[ \t]{1,5}[\"']?([^\s\"'$%{<-][^\s\"']{2,255})",
          ("-pass", "-pwd"), check=_weak_value, by_keyword=True),
    _rule("password", "password on a command line",
          r"(?<![\w-])(?:-u|--user)[ \t]{1,5}[\"']?[^\s:\"'$]{1,128}:([^\s\"']{1,256})", ("-u ", "--user"),
          check=_weak_value, by_keyword=True),
    _rule("password", "password on a command line",
          r"(?i:psexec)[^\n]{0,200}?[ \t]-p[ \t]{1,5}(\S{1,100})", ("psexec",), check=_weak_value,
          by_keyword=True),
    _rule("password", "password in a NetworkCredential",
          r"(?i:NetworkCredential)[ \t]{0,5}\([ \t]{0,5}\"[^\"\n]{1,100}\"[ \t]{0,5},[ \t]{0,5}"
          r"\"([^\"\n]{1,100})\"", ("networkcredential",), check=_weak_value, by_keyword=True),
    _rule("token", "token on a command line",
          r"(?i:(?<![\w-])--?[a-z-]{0,30}(?:token|secret|api-?key))[ \t]{1,5}[\"']?"
          r"([^\s\"'$%{<-][^\s\"']{2,511})", ("token ", "secret ", "key "), check=_secret_value,
          by_keyword=True),
    _rule("vault-token", "HashiCorp Vault token", r"(?<![A-Za-z0-9_.-])([sbr]\.[A-Za-z0-9_-]{24,400}+)",
          ("vault",), check=_random_token, by_keyword=True),
    _rule("vault-token", "HashiCorp Vault unseal key",
          r"(?<![A-Za-z0-9+/=])([A-Za-z0-9+/]{43,44}+={0,1})(?![A-Za-z0-9+/=])", ("unseal",),
          check=_random_token, by_keyword=True),
)


# Keyword assignments: `password = "..."`, `api_key: ...`, `"client_secret": "..."`, `SECRET=...`, `:pwd =>`
# The keyword ends an identifier; tails that name metadata about the secret (token_url, secret_name,
# password_field...) do not hold the secret itself.
_KEYWORD = (r"(?i:(?P<kw>passw(?:or)?d|passphrase|(?<![a-z])pass(?![a-z])|(?<![a-z])pwd(?![a-z])|secret"
            r"|token|api[_.-]?key|access[_.-]?key|private[_.-]?key|signing[_.-]?key|encryption[_.-]?key"
            r"|preshared[_.-]?key|master[_.-]?key|auth[_.-]?key|license[_.-]?key|credentials?"
            r"|(?<![a-z])key(?![a-z])|(?<![a-z])pat(?![a-z]))(?P<tail>[A-Za-z0-9_.-]{0,40}+))")
_ASSIGN = r"[\"'`\]]{0,2}[ \t]{0,20}(?:=>|:=|::=|\?=|\|\|=|===|!==|==|!=|=|:|,|->)[ \t]{0,20}"
# A value: a YAML tag (`!!binary`) and a string prefix (b"", @"") are skipped; quotes may be escaped (\").
_VALUE = (r"(?:![A-Za-z!]{1,20}[ \t]{1,5})?(?:[brfuBRFUL@]{1,2}(?=[\"']))?\\{0,2}"
          # a quoted string followed by `: value` is the next key (`"pass","complete":true`), not a value;
          # a colon ending the line (`if password == '...':`) still leaves it a value
          r"(?:\"(?P<dq>[^\"\n]{1,512})\"(?![ \t]{0,5}:[ \t]{0,5}\S)|'(?P<sq>[^'\n]{1,512})'"
          r"(?![ \t]{0,5}:[ \t]{0,5}\S)"
          r"|`(?P<bq>[^`\n]{1,512})`"
          # a bare word ending in a colon is a YAML key (`token: handler:`), never a value
          r"|(?P<bare>[^\s\"'`,;#<>(){}\[\]][^\s\"'`,;]{0,511})(?![^\s\"'`,;])(?<!:))")
_KEYWORD_ASSIGNMENT = re.compile(_KEYWORD + _ASSIGN + _VALUE)
_XML_SETTING = re.compile(r"(?i:key)=[\"'][^\"'\n]{0,60}?" + _KEYWORD
                          + r"[^\"'\n]{0,60}[\"'][ \t]{1,10}(?i:value)=[\"'](?P<dq>[^\"'\n]{1,512})[\"']")
_ASSIGNMENT_KEYWORDS = ("pass", "pwd", "secret", "token", "key", "credential", "_pat", "pat ", "pat=", "pat:")
# Where an alternative of _KEYWORD can start.
_ASSIGNMENT_START = re.compile("pass|pwd|secret|token|api|access|private|signing|encryption|preshared"
                               "|master|auth|license|credential|key|pat")
_METADATA_TAILS = (
    "id", "ids", "name", "names", "file", "path", "url", "uri", "type", "length", "len", "count", "size",
    "ttl", "timeout", "expiry", "expires", "expiration", "field", "label", "prompt", "header", "regex",
    "pattern", "format", "policy", "endpoint", "env", "var", "dir", "prefix", "mode", "method", "hash",
    "hint", "min", "max", "provider", "store", "manager", "class", "ref", "version", "source", "arn",
)
_ASSIGNMENT_LABELS = {"password": "hard-coded password", "token": "hard-coded token",
                      "api-key": "hard-coded API key", "secret": "hard-coded secret"}
LABELS: dict[str, str] = {
    **{r.kind: r.label for r in reversed(RULES)}, **_ASSIGNMENT_LABELS, "private-key": "private key",
    "run-secret": "credential of this workflow run", "secret-file": "secret file",
}


def _assignment_kind(keyword: str) -> tuple[str, Callable[[str], bool]]:
    """The kind a keyword names, and how sure a value must look: vaguer names ask for more randomness."""
    k = keyword.lower()
    if k.startswith("pass") or k == "pwd":
        return "password", _password_value
    if k in ("key", "pat"):
        return ("api-key" if k == "key" else "token"), _token_value
    if k == "token":
        return "token", _secret_value
    return ("api-key" if k.endswith("key") else "secret"), _secret_value


def _assignment_hits(line: str, lowered: str) -> Iterator[tuple[int, int, str]]:
    for m in _assignment_matches(line, lowered):
        if m.group("tail").lower().rstrip("_.-").endswith(_METADATA_TAILS):
            continue
        name = m.lastgroup or "bare"  # the value alternatives are the pattern's last groups
        start = m.start(name)
        quoted = m.group(name).rstrip("\\")  # `\"value\"` inside an escaped string
        value = _bare_literal(line, m, quoted) if name == "bare" else quoted
        kind, check = _assignment_kind(m.group("kw"))
        if value and check(value):
            yield start, start + len(value), kind


_KEY_AT_LINE_START = re.compile(r"[ \t]{0,80}(?:export[ \t]{1,5}|set[ \t]{1,5}|-[ \t]{1,5}|#[ \t]{0,5})?[\w.-]{0,80}")
_QUERY_KEY = re.compile(r"[?&][\w.-]{0,80}")


def _bare_literal(line: str, m: re.Match[str], value: str) -> str | None:
    """The literal an unquoted value holds, or None when it is code. In .env and YAML lines
    (`DB_PASSWORD=hunter2&x`, `  password: s3cr3t`) the value runs to the next blank, so no tail of it leaks;
    in a URL query it ends at `&`; elsewhere (`password = pw`, `f(token=t)`) a call, a variable or an
    expression is code, not a secret."""
    before = line[:m.start("kw")]
    if _QUERY_KEY.fullmatch(before, max(0, before.rfind("?"), before.rfind("&"))):
        return re.split("[&#]", value, maxsplit=1)[0]
    between = line[m.end("tail"):m.start("bare")]
    at_start = _KEY_AT_LINE_START.fullmatch(before) is not None
    yaml = between.rstrip(" \t") == ":" and not line.rstrip().endswith((",", "{", ";"))
    if m.group("kw").isupper() or (at_start and (between == "=" or yaml)):
        return value
    value = value.rstrip(")]}")  # the end of a call or an object: f(password=x)
    if any(c in value for c in "()[]{}") or _is_reference(value):
        return None
    # `password = a&b` starting a line is an ini literal; inside code, `&|<>` make it an expression.
    return value if at_start or not any(c in value for c in "<>|&") else None


def _assignment_matches(line: str, lowered: str) -> Iterator[re.Match[str]]:
    """The assignment pattern, tried only where a keyword starts: scanning every position of every line
    with it is what makes a naive keyword rule slow."""
    pos = 0
    while (hit := _ASSIGNMENT_START.search(lowered, pos)) is not None:
        m = _KEYWORD_ASSIGNMENT.match(line, hit.start())
        if m is None:
            pos = hit.start() + 1
            continue
        yield m
        pos = m.end()
    if "value=" in lowered:
        yield from _XML_SETTING.finditer(line)


def _is_reference(value: str) -> bool:
    return _REFERENCE.fullmatch(value) is not None and ("." in value or not any(c.isdigit() for c in value))


# --- the prefilter ------------------------------------------------------------------------------------

# Two cheap scans choose the lines that reach the rules; most lines of ordinary code reach none.
#  1. Triggers: the keywords of the by_keyword rules and of the assignments, one alternation over the
#     lowercased text (reduced to the keywords that contain no other one).
#  2. Long tokens: every other rule's secret is a run of at least MIN_TOKEN_RUN token characters with a
#     digit or many capitals; bytes.translate maps token characters to "a" and bytes.find finds the runs.
# A chosen line is then matched against the full keyword alternation, which selects the rules to run on it.

_Trie = dict[str, "_Trie"]


def _trie(words: Iterable[str]) -> str:
    """An alternation with shared prefixes factored out: `re` tries alternatives one by one, so a flat list
    of 170 keywords costs 170 comparisons per character, the trie a few. Longer words win at a position."""
    root: _Trie = {}
    for word in words:
        node = root
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: _Trie) -> str:
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items()) if char]
        body = "" if not branches else branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"
        return f"(?:{body})?" if "" in node and body else body

    return build(root)


_RULES_BY_KEYWORD: dict[str, tuple[int, ...]] = {}
for _index, _r in enumerate(RULES):
    for _k in _r.keywords:
        _RULES_BY_KEYWORD[_k] = (*_RULES_BY_KEYWORD.get(_k, ()), _index)
_ALL_KEYWORDS = sorted({*_RULES_BY_KEYWORD, *_ASSIGNMENT_KEYWORDS})
_KEYWORDS = re.compile(_trie(_ALL_KEYWORDS))
# The alternation reports one keyword per position ("sk-ant-", never the "sk-" inside it), so a keyword
# stands for every keyword it contains.
_CONTAINED = {k: frozenset(k2 for k2 in _ALL_KEYWORDS if k2 in k) for k in _ALL_KEYWORDS}
_TRIGGER_WORDS = {k for r in RULES if r.by_keyword for k in r.keywords} | set(_ASSIGNMENT_KEYWORDS)
_TRIGGERS = re.compile(_trie(t for t in _TRIGGER_WORDS if not any(o != t and o in t for o in _TRIGGER_WORDS)))
_TOKEN_TABLE = bytes(
    ord("a") if chr(b).isascii() and (chr(b).isalnum() or chr(b) in "_-") else b if b == 10 else 32
    for b in range(256))
_RUN = b"a" * MIN_TOKEN_RUN
_RUN_END = re.compile(rb"[^a]")
_DIGIT = re.compile(r"[0-9]")


def _token_like(run: str) -> bool:
    """Identifiers and paths make long runs too; random tokens hold a digit or many capitals."""
    return _DIGIT.search(run) is not None or sum(c.isupper() for c in run) * 3 >= len(run)


def _candidate_lines(text: str, lowered: str) -> list[int]:
    """The start offsets of the lines that may hold a secret, sorted."""
    starts: set[int] = set()
    pos = 0
    while (m := _TRIGGERS.search(lowered, pos)) is not None:
        starts.add(lowered.rfind("\n", 0, m.start()) + 1)
        pos = _line_end(lowered, m.end()) + 1
    # "replace" keeps one byte per character, so offsets in `mapped` are offsets in `text`.
    mapped = text.encode("ascii", "replace").translate(_TOKEN_TABLE)
    pos = mapped.find(_RUN)
    while pos >= 0:
        run_end = _RUN_END.search(mapped, pos)
        end = run_end.start() if run_end else len(mapped)
        if _token_like(text[pos:end]):
            starts.add(text.rfind("\n", 0, pos) + 1)
            end = _line_end(text, end)
        pos = mapped.find(_RUN, end)
    return sorted(starts)


def _line_end(text: str, pos: int) -> int:
    end = text.find("\n", pos)
    return len(text) if end < 0 else end


@functools.lru_cache(maxsize=4096)
def _rules_for(found: frozenset[str]) -> tuple[tuple[int, ...], bool]:
    """The rules a line's keywords select, and whether the assignment rules apply."""
    keywords = set().union(*(_CONTAINED[k] for k in found))
    rules = tuple(sorted({i for k in keywords for i in _RULES_BY_KEYWORD.get(k, ())}))
    return rules, not keywords.isdisjoint(_ASSIGNMENT_KEYWORDS)


# --- hits -------------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Hit:
    start: int
    end: int
    kind: str
    value: str  # what the placeholder number is keyed on
    priority: int  # run secrets 0, PEM blocks 1, then the rule table's order
    group: int = -1  # the hits of one multi-line PEM block share a group


def _rule_hits(text: str) -> list[_Hit]:
    # U+0130 (İ) is the one character whose lowercase is longer; offsets in `lowered` must match `text`.
    lowered = text.replace("\u0130", "i").lower()
    hits: list[_Hit] = []
    for start in _candidate_lines(text, lowered):
        stop = _line_end(text, start)
        found = frozenset(k.group() for k in _KEYWORDS.finditer(lowered, start, stop))
        if found:
            hits += _line_hits(text[start:stop], lowered[start:stop], found, start)
    return hits


def _line_hits(line: str, lowered: str, found: frozenset[str], offset: int) -> list[_Hit]:
    hits = []
    rules, assignments = _rules_for(found)
    for index in rules:
        rule = RULES[index]
        for m in rule.pattern.finditer(line):
            value = m.group(rule.group)
            if value and (rule.check is None or rule.check(value)):
                start, end = m.span(rule.group)
                hits.append(_Hit(offset + start, offset + end, rule.kind, value, 10 + index))
    if assignments:
        for start, end, kind in _assignment_hits(line, lowered):
            hits.append(_Hit(offset + start, offset + end, kind, line[start:end], 10 + len(RULES)))
    return hits


def _merge(text: str, hits: list[_Hit]) -> list[_Hit]:
    """Sorted, non-overlapping hits. Overlaps are united, never dropped: a partial overlap must not leak."""
    merged: list[_Hit] = []
    for hit in sorted(hits, key=lambda h: (h.start, h.priority, -h.end)):
        if not merged or hit.start >= merged[-1].end:
            merged.append(hit)
            continue
        last = merged[-1]
        if hit.end > last.end:
            win = last if last.priority <= hit.priority else hit
            value = text[last.start:hit.end]
            merged[-1] = _Hit(last.start, hit.end, win.kind, value, win.priority, win.group)
    return merged


# --- PEM blocks -------------------------------------------------------------------------------------------

_PEM_BEGIN = re.compile(r"-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----")
_PEM_END = re.compile(r"-----END[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----")
# Key material on one line: base64, escaped newlines (JSON and Java strings), the RFC 1421 headers.
_PEM_INLINE = re.compile(r"(?:\\[rn]|[A-Za-z0-9+/= \t\r]|(?:Proc-Type|DEK-Info|Comment|Version):"
                         r"[^\\\n\"']{0,200}+){0,20000}+")
# A line inside a block: framing (indentation, quotes, `+`, commas) around base64 or a header.
_PEM_LINE = re.compile(r"[ \t\"'`+,;(]{0,80}+(?P<core>(?:[A-Za-z0-9+/=]|\\[rn]){1,8192}+"
                       r"|(?:Proc-Type|DEK-Info|Comment|Version): ?[^\"'\n\\]{0,200}+)?(?:\\[rn]){0,4}+"
                       r"[ \t\r\"'`+,;)\\]{0,80}+")
_PEM_FRAMING = re.compile(r"(?:\\[rn]|[ \t\r\"'`+,;)\\]){0,80}+")
_NOT_BASE64 = re.compile(r"\\[rn]|[^A-Za-z0-9+/=]")

_Spans = list[tuple[int, int]]


def _pem_hits(text: str) -> list[_Hit]:
    hits: list[_Hit] = []
    covered_to = 0

    def add(spans: _Spans, body: str, minimum: int) -> None:
        key = _NOT_BASE64.sub("", body)
        if len(key) >= minimum:
            group = len(hits)
            hits.extend(_Hit(s, e, "private-key", "pem:" + key, 1, group) for s, e in spans)

    ends_seen: set[int] = set()
    for begin in _PEM_BEGIN.finditer(text):
        if begin.start() >= covered_to:
            spans, body, covered_to, ended = _follow_pem(text, begin)
            if ended:
                ends_seen.add(spans[-1][1])
            add(spans, body, MIN_PEM_BODY if ended else MIN_OPEN_PEM_BODY)
    for end in _PEM_END.finditer(text):  # a block whose BEGIN line is not in this text (a cut hunk)
        if end.end() not in ends_seen:
            add(*_follow_pem_back(text, end), MIN_OPEN_PEM_BODY)
    return hits


def _follow_pem(text: str, begin: re.Match[str]) -> tuple[_Spans, str, int, bool]:
    """The spans of one block from its BEGIN marker, the key material, where it ends, and if END was seen."""
    line_end = _line_end(text, begin.end())
    inline = _PEM_INLINE.match(text, begin.end(), line_end)
    body, stop = (inline.group(), inline.end()) if inline else ("", begin.end())
    end = _PEM_END.match(text, stop, line_end)
    if end:
        return [(begin.start(), end.end())], body, end.end(), True
    spans = [(begin.start(), begin.end() + len(body.rstrip(" \t\r")))]
    if not _PEM_FRAMING.fullmatch(text, stop, line_end):
        return spans, body, line_end, False  # code follows the marker: not a block to follow
    pos = line_end + 1
    for _ in range(MAX_PEM_LINES):
        if pos > len(text):
            break
        stop = _line_end(text, pos)
        end = _PEM_END.search(text, pos, stop)
        if end:
            core = _PEM_LINE.match(text, pos, end.start())
            first = core.start("core") if core and core.group("core") else end.start()
            spans.append((first, end.end()))
            return spans, body + text[first:end.start()], end.end(), True
        line = _PEM_LINE.fullmatch(text, pos, stop)
        if line is None:
            break
        if line.group("core"):
            spans.append(line.span("core"))
            body += line.group("core")
        pos = stop + 1
    return spans, body, pos, False


def _follow_pem_back(text: str, end: re.Match[str]) -> tuple[_Spans, str]:
    """The spans and key material of a block seen only from its END marker, walking up."""
    line_start = text.rfind("\n", 0, end.start()) + 1
    core = _PEM_LINE.match(text, line_start, end.start())
    first = core.start("core") if core and core.group("core") and core.end() == end.start() else end.start()
    spans, body = [(first, end.end())], text[first:end.start()]
    stop = line_start - 1
    for _ in range(MAX_PEM_LINES):
        if stop < 0:
            break
        start = text.rfind("\n", 0, stop) + 1
        line = _PEM_LINE.fullmatch(text, start, stop)
        if line is None:
            break
        if line.group("core"):
            spans.append(line.span("core"))
            body = line.group("core") + body
        stop = start - 1
    return spans, body


# --- run secrets ------------------------------------------------------------------------------------------

def _encodings(secret: str) -> set[str]:
    """The forms of a run secret in text: plain, base64 (both alphabets, three alignments), URL, JSON."""
    raw = secret.encode()
    forms = {secret, json.dumps(secret)[1:-1], quote(secret, safe=""), quote_plus(secret), quote(secret)}
    forms |= {re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), f) for f in set(forms)}
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        forms.add(encode(raw).decode())
        for offset in range(3):
            # Encoded after `offset` other bytes, the first characters mix in the neighbours' bits, and so do
            # the last when the length is not a multiple of 3: keep only the characters the secret fixes.
            encoded = encode(b"\0" * offset + raw).decode().rstrip("=")
            tail = 0 if (offset + len(raw)) % 3 == 0 else 1
            forms.add(encoded[(0, 2, 3)[offset]:len(encoded) - tail])
    # Markdown is escaped before the last pass over it (sanitize.plain puts a backslash before every ASCII
    # punctuation but "@"): a key echoed in an error or by the model reaches that pass as `sk\-proj\-...`.
    forms |= {_MARKDOWN_ESCAPED.sub(r"\\\g<0>", f) for f in forms}
    return {f for f in forms if len(f) >= MIN_RUN_SECRET_LENGTH and "\n" not in f}


_MARKDOWN_ESCAPED = re.compile(r"[!-/:-?\[-`{-~]")  # the characters sanitize.plain escapes


def _run_secret_lines(secrets: Iterable[str]) -> set[str]:
    """Run secrets to look for; a multi-line one (a PEM key) is looked for line by line."""
    lines = {line.strip() for s in secrets if s for line in s.splitlines()}
    return {line for line in lines if len(line) >= MIN_RUN_SECRET_LENGTH}


# --- the redactor -----------------------------------------------------------------------------------------

class Redactor:
    """Replaces secrets with stable placeholders. One instance per run; safe to share between a few threads.

    run_secrets: the run's own credentials, redacted everywhere in plain, base64 and URL-encoded form.
    allowlist: exact values known to be public test values, left alone (never a run secret).
    """

    def __init__(self, run_secrets: Iterable[str] = (), allowlist: Iterable[str] = ()) -> None:
        secrets = _run_secret_lines(run_secrets)
        # Every form of a secret maps to the secret, so all its forms share one placeholder; longest first,
        # so a secret that contains another is replaced whole.
        forms = {form: s for s in sorted(secrets, key=len) for form in _encodings(s)}
        self._run_forms = sorted(forms.items(), key=lambda item: (-len(item[0]), item[0]))
        self._run_secrets = frozenset(secrets)
        self._allowlist = frozenset(a for a in allowlist if a) - self._run_secrets
        self._lock = threading.Lock()
        self._placeholders: dict[str, str] = {}
        self._counts: dict[str, int] = {}

    def redact(self, text: str) -> str:
        """The text with every secret replaced by its placeholder; everything around it is kept."""
        return self._apply(text, self._scan(text))

    def redact_lines(self, lines: Sequence[str]) -> list[str]:
        """The same for diff line texts, following PEM blocks across lines; returns as many lines."""
        joined = "\n".join(lines)
        if joined.count("\n") != max(len(lines) - 1, 0):  # a "line" holding a newline: keep the count exact
            return [self.redact(line).replace("\n", " ") for line in lines]
        return self._apply(joined, self._scan(joined)).split("\n") if lines else []

    def allow(self, values: Iterable[str]) -> None:
        """Add known public test values to the allowlist (the base branch's config is read after the run's
        secrets are known). A run secret is never allowlisted."""
        with self._lock:
            self._allowlist = self._allowlist | (frozenset(v for v in values if v) - self._run_secrets)

    def counts(self) -> dict[str, int]:
        """Kind -> number of distinct secrets redacted so far (the privacy manifest)."""
        with self._lock:
            return dict(self._counts)

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    def _placeholder(self, kind: str, value: str) -> str:
        with self._lock:
            found = self._placeholders.get(value)
            if found is None:
                found = PLACEHOLDER_FORMAT.format(kind=kind, n=len(self._placeholders) + 1)
                self._placeholders[value] = found
                self._counts[kind] = self._counts.get(kind, 0) + 1
            return found

    def _locate(self, lines: Sequence[str]) -> list[tuple[int, str, str, int]]:
        """(line index, kind, placeholder, occurrence) per secret; a PEM block is one occurrence."""
        starts, offset = [], 0
        for line in lines:
            starts.append(offset)
            offset += len(line) + 1
        out = []
        for number, hit in enumerate(self._scan("\n".join(lines))):
            index = _line_index(starts, hit.start)
            occurrence = hit.group if hit.group >= 0 else -1 - number
            out.append((index, hit.kind, self._placeholder(hit.kind, hit.value), occurrence))
        return out

    def _scan(self, text: str) -> list[_Hit]:
        hits = self._run_secret_hits(text)
        if "PRIVATE KEY" in text:
            hits += _pem_hits(text)
        hits += (h for h in _rule_hits(text) if h.value not in self._allowlist)
        if "<<SECRET:" in text:  # text redacted before (a rendered comment): its placeholders stay as they are
            taken = [m.span() for m in _PLACEHOLDER.finditer(text)]
            starts = [start for start, _ in taken]
            hits = [h for h in hits if not _overlaps(taken, starts, h)]
        return _merge(text, hits)

    def _run_secret_hits(self, text: str) -> list[_Hit]:
        hits = []
        for form, secret in self._run_forms:
            pos = text.find(form)
            while pos >= 0:
                hits.append(_Hit(pos, pos + len(form), "run-secret", "run:" + secret, 0))
                pos = text.find(form, pos + len(form))
        return hits

    def _apply(self, text: str, hits: list[_Hit]) -> str:
        out: list[str] = []
        pos = 0
        for hit in hits:
            out += (text[pos:hit.start], self._placeholder(hit.kind, hit.value))
            pos = hit.end
        out.append(text[pos:])
        return "".join(out)


def _overlaps(spans: list[tuple[int, int]], starts: list[int], hit: _Hit) -> bool:
    """Whether the hit overlaps one of the sorted, disjoint spans (starts lists their starts)."""
    index = bisect.bisect_left(starts, hit.end) - 1
    return index >= 0 and spans[index][1] > hit.start


def _line_index(starts: list[int], pos: int) -> int:
    return bisect.bisect_right(starts, pos) - 1


# --- files withheld whole ---------------------------------------------------------------------------------

_ENV_TEMPLATES = (".example", ".sample", ".template")  # documented templates, meant to be reviewed
_WITHHELD_NAMES = {
    ".npmrc": "npm credentials file", ".pypirc": "PyPI credentials file", ".netrc": "netrc credentials file",
    "_netrc": "netrc credentials file", "kubeconfig": "Kubernetes credentials (kubeconfig)",
    "credentials": "credentials file", "credentials.json": "credentials file",
    "secrets.yml": "secrets file", "secrets.yaml": "secrets file",
}
_WITHHELD_SUFFIXES = (
    (".pem", "PEM key or certificate file"), (".key", "private key file"), (".p12", "PKCS#12 key store"),
    (".pfx", "PKCS#12 key store"), (".jks", "Java key store"), (".keystore", "key store"),
    (".kubeconfig", "Kubernetes credentials (kubeconfig)"), (".tfvars", "Terraform variables file"),
    (".tfstate", "Terraform state file"), (".tfstate.backup", "Terraform state file"),
    (".credentials", "credentials file"),
)
_WITHHELD_PATHS = (
    (".kube/config", "Kubernetes credentials (kubeconfig)"), (".aws/credentials", "AWS credentials file"),
    (".docker/config.json", "Docker registry credentials"),
)
_SSH_KEYS = ("id_rsa", "id_dsa", "id_ecdsa", "id_ed25519")


def withheld_reason(path: str) -> str | None:
    """Why a file is withheld whole as a secret by nature, or None. Case-insensitive.

    Every `.env` and `.env.*` file is withheld except `.env.example`, `.env.sample` and `.env.template`
    (also as the last suffix, `.env.local.example`), which exist to be committed and reviewed.
    """
    low = path.replace("\\", "/").lower()
    name = posixpath.basename(low)
    if name == ".env" or (name.startswith(".env.") and not name.endswith(_ENV_TEMPLATES)):
        return "environment file"
    if name.startswith(_SSH_KEYS) and not name.endswith(".pub"):
        return "SSH private key"
    if name in _WITHHELD_NAMES:
        return _WITHHELD_NAMES[name]
    for suffix, reason in _WITHHELD_SUFFIXES:
        if name.endswith(suffix):
            return reason
    for tail, reason in _WITHHELD_PATHS:
        if low == tail or low.endswith("/" + tail):
            return reason
    return None


# --- findings ---------------------------------------------------------------------------------------------

_WHOLE_FILE_ADDED = (FileStatus.ADDED, FileStatus.BINARY, FileStatus.COPIED)  # no hunks, all content new
_ROTATE = ("If it is real, treat it as leaked: revoke or rotate it with its issuer first, then remove it "
           "from the change and load it at run time from a secret store or an environment variable. "
           "Deleting it in a later commit is not enough, because it stays in the git history.")


def secret_findings(files: Iterable[FileDiff], redactor: Redactor) -> list[Finding]:
    """Findings for the secrets a PR adds, made without the model. They never quote the secret."""
    findings: list[Finding] = []
    seen: set[tuple[str, int | None, str]] = set()

    def add(path: str, line: int | None, kind: str, title: str, body: str) -> None:
        if (path, line, kind) not in seen:
            seen.add((path, line, kind))
            findings.append(Finding(path=path, line=line, end_line=line, side="RIGHT", severity=Severity.HIGH,
                                    category="security", title=title, body=body, source="secret-scan"))

    for diff in files:
        if diff.status is FileStatus.DELETED:
            continue
        reason = withheld_reason(diff.path)
        if reason is not None:
            added = [ln.new for h in diff.hunks for ln in h.lines if ln.kind == "+"]
            if added or (not diff.hunks and (diff.patch_missing or diff.status in _WHOLE_FILE_ADDED)):
                add(diff.path, added[0] if added else None, "secret-file",
                    f"Possible secret committed: {reason}",
                    f"This file is a {reason}, a kind of file that holds credentials; its content was "
                    f"withheld from the model. Remove it from the change and add it to .gitignore. {_ROTATE}")
            continue
        for hunk in diff.hunks:
            new_side = [ln for ln in hunk.lines if ln.kind != "-"]
            done: set[int] = set()
            for index, kind, placeholder, occurrence in redactor._locate([ln.text for ln in new_side]):
                line = new_side[index]
                if line.kind == "+" and occurrence not in done:
                    done.add(occurrence)
                    label = LABELS.get(kind, kind)
                    add(diff.path, line.new, kind, f"Possible {label} committed",
                        f"This line adds what looks like a {label}, shown to the reviewer as `{placeholder}` "
                        f"(the value is not repeated here). {_ROTATE}")
    return findings
