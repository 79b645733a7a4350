"""The rule table: what a provider token looks like (formats, prefixes, keywords). Pure data; scan.py decides
where to try the rules, values.py what a match must look like."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .values import _aws_secret, _random_token, _secret_value, _varied, _weak_value


@dataclass(frozen=True, slots=True)
class Rule:
    """One detector: group `group` of `pattern` is the secret; a line is tried only if it holds a keyword.

    by_keyword: the secret can be short or plain (a password), so lines are found by the keywords. Otherwise
    the secret is a long token, and lines are found by the scan for long runs of token characters.
    anchored: the pattern uses `^` or `$` (the line's start or end), so it runs on each line alone; every
    other pattern matches no newline and runs over many lines joined (tests/security/test_redact_batch.py).
    """

    kind: str
    label: str
    pattern: re.Pattern[str]
    keywords: tuple[str, ...]  # lowercase
    group: int = 1
    check: Callable[[str], bool] | None = None
    by_keyword: bool = False
    anchored: bool = False


# --- the rule table -----------------------------------------------------------------------------------

# Token boundaries: only a letter or digit next to it makes a prefix part of a longer word. A token after
# `-`, `_`, `/`, `=`, `.` or `:` (rotated-ghp_....md, https://host/ghp_..., KEY=ghp_...) is still a token,
# and so is one followed by them. Every rule's repetition is bounded (and possessive), so starting a match
# at each such separator inside a long run costs at most the bound.
_B = r"(?<![A-Za-z0-9])"
_E = r"(?![A-Za-z0-9])"


def _rule(
    kind: str,
    label: str,
    pattern: str,
    keywords: tuple[str, ...],
    group: int = 1,
    check: Callable[[str], bool] | None = _varied,
    by_keyword: bool = False,
    anchored: bool = False,
) -> Rule:
    return Rule(kind, label, re.compile(pattern), keywords, group, check, by_keyword, anchored)


# Every repetition is bounded, and possessive (`{m,n}+`) where what follows cannot start inside it, so no
# pattern backtracks more than its bound. Ordered by priority: when two matches start at the same place, the
# earlier rule names the kind.
RULES: tuple[Rule, ...] = (
    # kind, label, pattern (group 1 is the secret unless `group` says otherwise), keywords
    _rule(
        "private-key",
        "private key (base64-encoded PEM)",
        _B + r"(LS0tLS1CRUdJTi[A-Za-z0-9+/]{60,16384}+={0,2})",
        ("ls0tls1crudjti",),
    ),
    _rule(
        "aws-access-key",
        "AWS access key ID",
        r"(?:(?<![A-Za-z0-9])|(?<=%[0-9A-Fa-f]{2}))((?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA"
        r"|APKA|A3T[A-Z0-9])[A-Z0-9]{16})(?![A-Za-z0-9])",
        ("akia", "asia", "abia", "acca", "agpa", "aida", "aroa", "aipa", "anpa", "anva", "apka", "a3t"),
    ),
    _rule("anthropic-key", "Anthropic API key", _B + r"(sk-ant-[A-Za-z0-9_-]{32,300}+)", ("sk-ant-",)),
    _rule(
        "openai-key",
        "OpenAI API key",
        _B + r"(sk-(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_-]{20,300}+)",
        ("sk-",),
        check=_random_token,
    ),
    _rule(
        "github-token",
        "GitHub token",
        _B + r"(gh[pousr]_[A-Za-z0-9]{36,251}+)" + _E,
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
    ),
    _rule("github-token", "GitHub token", _B + r"(github_pat_[A-Za-z0-9_]{22,255}+)" + _E, ("github_pat_",)),
    _rule(
        "gitlab-token",
        "GitLab token",
        _B + r"((?:glpat|glptt|glrt|gldt|glcbt|glft|glsoat|glimt|glagent|gloas|glffct|glcst)-"
        r"[A-Za-z0-9_-]{20,64}+|GR1348941[A-Za-z0-9_-]{20,64}+)" + _E,
        (
            "glpat-",
            "glptt-",
            "glrt-",
            "gldt-",
            "glcbt-",
            "glft-",
            "glsoat-",
            "glimt-",
            "glagent-",
            "gloas-",
            "glffct-",
            "glcst-",
            "gr1348941",
        ),
    ),
    _rule(
        "slack-token",
        "Slack token",
        _B + r"(xox[abposre]-[A-Za-z0-9-]{10,250}+|xapp-[A-Za-z0-9/+-]{10,250}+)",
        ("xoxa-", "xoxb-", "xoxp-", "xoxo-", "xoxs-", "xoxr-", "xoxe-", "xapp-"),
    ),
    _rule(
        "slack-webhook",
        "Slack webhook URL",
        r"hooks\.slack\.com/(?:services|workflows|triggers)/([A-Za-z0-9_/+-]{20,200}+)",
        ("hooks.slack.com",),
        by_keyword=True,
    ),
    _rule(
        "teams-webhook",
        "Microsoft Teams webhook URL",
        r"(?:outlook\.office\.com/webhook|webhook\.office\.com/webhookb2)/([A-Za-z0-9@%/_-]{40,400}+)",
        ("outlook.office.com", "webhook.office.com"),
        by_keyword=True,
    ),
    _rule(
        "stripe-key",
        "Stripe secret key",
        _B + r"((?:sk|rk)_(?:live|test|prod)_[A-Za-z0-9]{10,247}+|whsec_[A-Za-z0-9]{24,64}+)" + _E,
        ("sk_live_", "rk_live_", "sk_test_", "rk_test_", "sk_prod_", "rk_prod_", "whsec_"),
    ),
    _rule("google-api-key", "Google API key", _B + r"(AIza[0-9A-Za-z_-]{35})" + _E, ("aiza",)),
    _rule(
        "google-oauth",
        "Google OAuth secret or token",
        _B + r"(GOCSPX-[A-Za-z0-9_-]{20,40}+|ya29\.[0-9A-Za-z_-]{20,2048}+)",
        ("gocspx-", "ya29."),
    ),
    _rule("npm-token", "npm access token", _B + r"(npm_[A-Za-z0-9]{36})" + _E, ("npm_",)),
    _rule("pypi-token", "PyPI upload token", _B + r"(pypi-AgE[A-Za-z0-9_-]{50,2048}+)", ("pypi-age",)),
    _rule(
        "mapbox-token",
        "Mapbox secret token",
        _B + r"([st]k\.eyJ[A-Za-z0-9_-]{10,4096}+\.[A-Za-z0-9_-]{10,4096}+)",
        ("k.eyj",),
    ),
    _rule(
        "jwt",
        "JSON Web Token",
        _B + r"(eyJ[A-Za-z0-9_-]{8,4096}+\.eyJ[A-Za-z0-9_-]{2,8192}+\.[A-Za-z0-9_-]{0,4096}+)",
        ("eyj",),
    ),
    _rule(
        "grafana-token",
        "Grafana token",
        _B + r"(eyJrIjoi[A-Za-z0-9+/]{40,400}+={0,2}|glc_[A-Za-z0-9+/]{32,400}+={0,2}"
        r"|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8})",
        ("eyjrijoi", "glc_", "glsa_"),
    ),
    _rule("huggingface-token", "Hugging Face token", _B + r"(hf_[A-Za-z0-9]{34,40}+)" + _E, ("hf_",)),
    _rule("sendgrid-key", "SendGrid API key", _B + r"(SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})" + _E, ("sg.",)),
    _rule(
        "digitalocean-token",
        "DigitalOcean token",
        _B + r"(do[opr]_v1_[a-f0-9]{64})" + _E,
        ("doo_v1_", "dop_v1_", "dor_v1_"),
    ),
    _rule(
        "doppler-token",
        "Doppler token",
        _B + r"(dp\.(?:ct|pt|st|sa|scim|audit)(?:\.[a-z0-9_-]{1,40}+)?\.[A-Za-z0-9]{40,44}+)" + _E,
        ("dp.",),
    ),
    _rule("dockerhub-token", "Docker Hub access token", _B + r"(dckr_pat_[A-Za-z0-9_-]{27,40}+)", ("dckr_pat_",)),
    _rule(
        "shopify-token",
        "Shopify token",
        _B + r"(shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32})" + _E,
        ("shpat_", "shpca_", "shppa_", "shpss_"),
    ),
    _rule("groq-key", "Groq API key", _B + r"(gsk_[A-Za-z0-9]{48,56}+)" + _E, ("gsk_",)),
    _rule("databricks-token", "Databricks token", _B + r"(dapi[a-f0-9]{32}(?:-[0-9]{1,3})?)" + _E, ("dapi",)),
    _rule("age-secret-key", "age secret key", _B + r"(AGE-SECRET-KEY-1[0-9A-Z]{58})" + _E, ("age-secret-key-",)),
    _rule("vault-token", "HashiCorp Vault token", _B + r"(hv[sbr]\.[A-Za-z0-9_-]{24,400}+)", ("hvs.", "hvb.", "hvr.")),
    _rule(
        "newrelic-key",
        "New Relic key",
        _B + r"(NR(?:AK|II|IQ|RA|AA|JS|SP)-[A-Za-z0-9_-]{20,60}+|[A-Za-z0-9]{36}NRAL|px-(?:api|dep)-"
        r"[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12})" + _E,
        ("nrak-", "nrii-", "nriq-", "nrra-", "nraa-", "nrjs-", "nrsp-", "nral", "px-api-", "px-dep-"),
    ),
    _rule("postman-key", "Postman API key", _B + r"(PMAK-[a-f0-9]{24}-[a-f0-9]{34})" + _E, ("pmak-",)),
    _rule("rubygems-key", "RubyGems API key", _B + r"(rubygems_[a-f0-9]{48})" + _E, ("rubygems_",)),
    _rule("telegram-bot-token", "Telegram bot token", r"(?<![0-9])([0-9]{8,10}:AA[A-Za-z0-9_-]{32,33})" + _E, (":aa",)),
    _rule("atlassian-token", "Atlassian API token", _B + r"(ATATT3[A-Za-z0-9_=-]{50,400}+)", ("atatt3",)),
    _rule("bitbucket-app-password", "Bitbucket app password", _B + r"(ATBB[A-Za-z0-9]{32})" + _E, ("atbb",)),
    _rule("linear-key", "Linear API key", _B + r"(lin_api_[A-Za-z0-9]{40})" + _E, ("lin_api_",)),
    _rule("mailgun-key", "Mailgun API key", _B + r"(key-[0-9a-f]{32})" + _E, ("key-",)),
    _rule("mailchimp-key", "Mailchimp API key", _B + r"([0-9a-f]{32}-us[0-9]{1,2})" + _E, ("-us",)),
    _rule("facebook-token", "Facebook access token", _B + r"(EAACEdEose0cBA[0-9A-Za-z]{20,500}+)", ("eaacedeose0cba",)),
    _rule(
        "sourcegraph-token",
        "Sourcegraph access token",
        _B + r"(sgp_(?:[a-f0-9]{16}_|local_)?[a-f0-9]{40})" + _E,
        ("sgp_",),
    ),
    _rule("nuget-key", "NuGet API key", _B + r"(oy2[a-z0-9]{43})" + _E, ("oy2",)),
    _rule("tavily-key", "Tavily API key", _B + r"(tvly-(?:dev-|prod-)?[A-Za-z0-9]{32})" + _E, ("tvly-",)),
    _rule("cratesio-token", "crates.io token", _B + r"(cio[A-Za-z0-9]{32})" + _E, ("cio",), check=_random_token),
    _rule("firecrawl-key", "Firecrawl API key", _B + r"(fc-[a-f0-9]{32})" + _E, ("fc-",)),
    _rule("jina-key", "Jina API key", _B + r"(jina_[a-f0-9]{32}[A-Za-z0-9_-]{28})" + _E, ("jina_",)),
    _rule("dynatrace-token", "Dynatrace token", _B + r"(dt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64})" + _E, ("dt0c01.",)),
    _rule("figma-token", "Figma access token", _B + r"(figd_[A-Za-z0-9_-]{40,60}+)", ("figd_",)),
    _rule("adafruit-key", "Adafruit IO key", _B + r"(aio_[A-Za-z0-9]{28})" + _E, ("aio_",)),
    _rule("artifactory-key", "Artifactory API key", _B + r"(AKCp[A-Za-z0-9]{69})" + _E, ("akcp",)),
    _rule(
        "square-token",
        "Square token",
        _B + r"(EAAA[A-Za-z0-9_-]{60}|sq0(?:atp|csp)-[A-Za-z0-9_-]{22,43}+)" + _E,
        ("eaaa", "sq0atp-", "sq0csp-"),
    ),
    _rule("dropbox-token", "Dropbox access token", _B + r"(sl\.[A-Za-z0-9_-]{120,200}+)" + _E, ("sl.",)),
    _rule("appsync-key", "AWS AppSync API key", _B + r"(da2-[a-z0-9]{26})" + _E, ("da2-",)),
    _rule("dependency-track-key", "Dependency-Track API key", _B + r"(odt_[A-Za-z0-9]{32,40}+)" + _E, ("odt_",)),
    _rule("adobe-secret", "Adobe client secret", _B + r"(p8e-[A-Za-z0-9-]{32})" + _E, ("p8e-",)),
    _rule("stackhawk-key", "StackHawk API key", _B + r"(hawk\.[A-Za-z0-9_-]{20}\.[A-Za-z0-9_-]{20})" + _E, ("hawk.",)),
    _rule(
        "salesforce-token", "Salesforce access token", _B + r"(00D[A-Za-z0-9]{12,15}![A-Za-z0-9._]{80,300}+)", ("00d",)
    ),
    _rule("azure-devops-token", "Azure DevOps token", _B + r"([A-Za-z0-9]{76}AZDO[A-Za-z0-9]{4})" + _E, ("azdo",)),
    _rule("twilio-key", "Twilio API key", _B + r"((?i:sk)[0-9a-fA-F]{32})" + _E, ("twilio",)),
    _rule("twitch-stream-key", "Twitch stream key", _B + r"(live_[0-9]{6,12}_[A-Za-z0-9]{30})" + _E, ("live_",)),
    _rule(
        "sonarqube-token",
        "SonarQube token",
        r"(?i:sonar[._-]?login)[\"'`,= \t:]{1,8}((?:squ_|sqa_|sqp_)?[a-f0-9]{40})" + _E,
        ("sonar",),
    ),
    _rule(
        "postmark-token",
        "Postmark server token",
        r"(?i:postmark)[^\n]{0,40}?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})" + _E,
        ("postmark",),
    ),
    _rule(
        "codeclimate-token",
        "CodeClimate reporter ID",
        r"(?i:cc_test_reporter_id|codeclimate_repo_token)[ \t]{0,5}[:=][ \t]{0,5}[\"']?([a-f0-9]{64})" + _E,
        ("cc_test_reporter_id", "codeclimate_repo_token"),
    ),
    # Prefixed formats from gitleaks' rule set (../shared/realdata/secrets/gitleaks) we did not cover.
    _rule(
        "onepassword-key",
        "1Password secret key or service account token",
        _B + r"(A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}"
        r"|ops_eyJ[A-Za-z0-9+/]{250,8192}+={0,3})" + _E,
        ("a3-", "ops_eyj"),
    ),
    _rule("alibaba-key", "Alibaba Cloud access key ID", _B + r"(LTAI[A-Za-z0-9]{20})" + _E, ("ltai",)),
    _rule("artifactory-key", "Artifactory reference token", _B + r"(cmVmd[A-Za-z0-9]{59})" + _E, ("cmvmd",)),
    _rule(
        "airtable-token", "Airtable personal access token", _B + r"(pat[A-Za-z0-9]{14}\.[a-f0-9]{64})" + _E, ("pat",)
    ),
    _rule("aws-bedrock-key", "Amazon Bedrock API key", _B + r"(ABSK[A-Za-z0-9+/]{109,269}+={0,2})", ("absk",)),
    _rule(
        "azure-ad-secret",
        "Azure AD client secret",
        r"(?<![A-Za-z0-9_~.])([A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34})(?![A-Za-z0-9_~-])",
        ("q~",),
    ),
    _rule("clickhouse-key", "ClickHouse Cloud API secret", _B + r"(4b1d[A-Za-z0-9]{38})" + _E, ("4b1d",)),
    _rule("clojars-token", "Clojars deploy token", _B + r"((?i:CLOJARS_)[a-z0-9]{60})" + _E, ("clojars_",)),
    _rule("cloudflare-key", "Cloudflare origin CA key", _B + r"(v1\.0-[a-f0-9]{24}-[a-f0-9]{146})" + _E, ("v1.0-",)),
    _rule("duffel-token", "Duffel API token", _B + r"(duffel_(?:test|live)_[A-Za-z0-9_=-]{43})" + _E, ("duffel_",)),
    _rule("easypost-key", "EasyPost API key", _B + r"(EZ[AT]K[A-Za-z0-9]{54})" + _E, ("ezak", "eztk")),
    _rule("facebook-token", "Facebook access token", _B + r"(EAA[MC][A-Za-z0-9]{100,1000}+)" + _E, ("eaam", "eaac")),
    _rule(
        "flutterwave-key",
        "Flutterwave secret key",
        _B + r"(FLWSECK(?:_TEST)?-[a-hA-H0-9]{32}-X|FLWSECK_TEST[a-hA-H0-9]{12})" + _E,
        ("flwseck",),
    ),
    _rule(
        "flyio-token",
        "Fly.io access token",
        _B + r"(fo1_[A-Za-z0-9_-]{43}|fm[12][ar]?_[A-Za-z0-9+/]{100,4096}+={0,3})",
        ("fo1_", "fm1a_", "fm1r_", "fm2_"),
    ),
    _rule("frameio-token", "Frame.io API token", _B + r"(fio-u-[A-Za-z0-9_=-]{64})" + _E, ("fio-u-",)),
    _rule(
        "gitlab-token",
        "GitLab session cookie",
        r"_gitlab_session=([0-9a-z]{32})" + _E,
        ("_gitlab_session=",),
        by_keyword=True,
    ),
    _rule(
        "harness-token",
        "Harness API key",
        _B + r"((?:pat|sat)\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20})" + _E,
        ("pat.", "sat.", "_pat.", "_sat."),
    ),  # "_pat" is an assignment keyword: the trie reports the longer
    _rule(
        "terraform-token",
        "Terraform Cloud API token",
        _B + r"([A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70})" + _E,
        ("atlasv1",),
    ),
    _rule("heroku-key", "Heroku API key", _B + r"(HRKU-AA[0-9A-Za-z_-]{58})" + _E, ("hrku-aa",)),
    _rule("huggingface-token", "Hugging Face organization token", _B + r"(api_org_[A-Za-z]{34})" + _E, ("api_org_",)),
    _rule("infracost-key", "Infracost API key", _B + r"(ico-[A-Za-z0-9]{32})" + _E, ("ico-",)),
    _rule("intra42-secret", "Intra42 client secret", _B + r"(s-s4t2(?:ud|af)-[a-f0-9]{64})" + _E, ("s-s4t2",)),
    _rule("maxmind-key", "MaxMind license key", _B + r"([A-Za-z0-9]{6}_[A-Za-z0-9]{29}_mmk)" + _E, ("_mmk",)),
    _rule("notion-token", "Notion API token", _B + r"(ntn_[0-9]{11}[A-Za-z0-9]{35})" + _E, ("ntn_",)),
    _rule("octopus-key", "Octopus Deploy API key", _B + r"(API-[A-Z0-9]{26})" + _E, ("api-",)),
    _rule("openshift-token", "OpenShift user token", _B + r"(sha256~[A-Za-z0-9_-]{43})" + _E, ("sha256~",)),
    _rule("perplexity-key", "Perplexity API key", _B + r"(pplx-[A-Za-z0-9]{48})" + _E, ("pplx-",)),
    _rule(
        "planetscale-token",
        "PlanetScale token or password",
        _B + r"(pscale_(?:tkn|oauth|pw)_[A-Za-z0-9_=.-]{32,64}+)" + _E,
        ("pscale_",),
    ),
    _rule("prefect-key", "Prefect API key", _B + r"(pnu_[A-Za-z0-9]{36})" + _E, ("pnu_",)),
    _rule("pulumi-token", "Pulumi access token", _B + r"(pul-[a-f0-9]{40})" + _E, ("pul-",)),
    _rule("readme-key", "ReadMe API key", _B + r"(rdme_[a-z0-9]{70})" + _E, ("rdme_",)),
    _rule("scalingo-token", "Scalingo API token", _B + r"(tk-us-[A-Za-z0-9_-]{48})" + _E, ("tk-us-",)),
    _rule(
        "sendinblue-key",
        "Brevo (Sendinblue) API key",
        _B + r"(xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16})" + _E,
        ("xkeysib-",),
    ),
    _rule(
        "sentry-token",
        "Sentry auth token",
        _B + r"(sntrys_eyJ[A-Za-z0-9+/]{20,1000}+={0,2}|sntryu_[a-f0-9]{64})" + _E,
        ("sntrys_", "sntryu_"),
    ),
    _rule(
        "settlemint-token",
        "SettleMint access token",
        _B + r"(sm_(?:aat|pat|sat)_[A-Za-z0-9]{16})" + _E,
        ("sm_aat_", "sm_pat_", "sm_sat_"),
    ),
    _rule("shippo-token", "Shippo API token", _B + r"(shippo_(?:live|test)_[a-fA-F0-9]{40})" + _E, ("shippo_",)),
    _rule("typeform-token", "Typeform API token", _B + r"(tfp_[A-Za-z0-9_.=-]{59,80}+)" + _E, ("tfp_",)),
    # The rules below need context: a keyword, a URL, a header or a command line around the secret.
    _rule(
        "azure-key",
        "Azure storage or service bus key",
        r"(?i:AccountKey|SharedAccessKey|SharedSecretValue)[ \t]{0,5}=[ \t]{0,5}"
        r"([A-Za-z0-9+/]{20,200}+={0,3})",
        ("accountkey", "sharedaccesskey", "sharedsecretvalue"),
        by_keyword=True,
    ),
    _rule(
        "azure-sas",
        "Azure shared access signature",
        r"(?i:SharedAccessSignature=|[?&;]sig=)([A-Za-z0-9%+/=]{30,200}+)",
        ("sharedaccesssignature=", "sig="),
        by_keyword=True,
    ),
    _rule(
        "aws-secret-key",
        "AWS secret access key",
        r"(?<![A-Za-z0-9/+=])([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])",
        ("aws",),
        check=_aws_secret,
        by_keyword=True,
    ),
    # `scheme://user:password@host`: only the password. Greedy up to the last '@' before the host, since
    # passwords may hold '@' (mongodb+srv://u:bria@pass135!@host/...).
    _rule(
        "url-password",
        "password in a URL",
        r"(?<=[A-Za-z0-9])://[^\s:/?#@\"'<>\[\]]{0,128}+:([^\s/?#\"'<>]{1,256})@[A-Za-z0-9\[]",
        ("://",),
        check=_weak_value,
        by_keyword=True,
    ),
    _rule(
        "http-auth",
        "HTTP Authorization credential",
        r"(?i:(?<![A-Za-z0-9_])(?:bearer|basic|ssws))[ \t]{1,5}([A-Za-z0-9._~+/-]{8,4096}+={0,3})",
        ("bearer", "basic", "ssws"),
        check=_random_token,
        by_keyword=True,
    ),
    _rule(
        "http-auth",
        "HTTP Authorization credential",
        r"(?i:authorization)[\"'\]]{0,2}[ \t]{0,5}[:=,][ \t]{0,5}[\"']?(?i:token[ \t]{1,5})?"
        r"([A-Za-z0-9._~+/-]{8,4096}+={0,3})",
        ("authorization",),
        check=_random_token,
        by_keyword=True,
    ),
    _rule(
        "token",
        "token in an HTTP header",
        r"(?i:x-api-key|x-auth-token|x-access-token|x-figma-token|x-postmark-server-token|x-vault-token"
        r"|private-token|jenkins-crumb|api-key)[\"']?[ \t]{0,5}[:=,][ \t]{0,5}[\"']?"
        r"([A-Za-z0-9._~+/=-]{8,512}+)",
        (
            "x-api-key",
            "x-auth-token",
            "x-access-token",
            "x-figma-token",
            "x-postmark-server-token",
            "x-vault-token",
            "private-token",
            "jenkins-crumb",
            "api-key",
        ),
        check=_random_token,
        by_keyword=True,
    ),
    _rule(
        "password",
        "password in a netrc entry",
        r"(?i:\bmachine[ \t]{1,10}\S{1,256}[ \t]{1,10}login[ \t]{1,10}\S{1,256}[ \t]{1,10}password)"
        r"[ \t]{1,10}(\S{1,256})",
        ("machine",),
        check=_weak_value,
        by_keyword=True,
    ),
    # netrc and Gradle put the password alone on its line: `  password pass123`, `password 'hunter2'`.
    _rule(
        "password",
        "password in a credentials block",
        r"^[ \t]{0,80}(?i:password|passwd)[ \t]{1,10}([\"']?)([^\s\"'=:]{3,256})\1[ \t\r]{0,80}$",
        ("password", "passwd"),
        group=2,
        check=_weak_value,
        by_keyword=True,
        anchored=True,
    ),
    _rule(
        "password",
        "password in a connection string",
        r"(?i:(?<![A-Za-z])(?:password|pwd)[ \t]{0,3}=[ \t]{0,3})([^;\"'\r\n]{1,256}?)[ \t]{0,256}(?=[;\"'\r]|$)",
        ("server=", "data source=", "uid=", "user id=", "userid=", "host="),
        check=_weak_value,
        by_keyword=True,
        anchored=True,
    ),
    _rule(
        "password",
        "password on a command line",
        r"(?i:(?<![\w-])--?(?:password|passwd|pwd|pass))[ \t]{1,5}[\"']?([^\s\"'$%{<-][^\s\"']{2,255})",
        ("-pass", "-pwd"),
        check=_weak_value,
        by_keyword=True,
    ),
    _rule(
        "password",
        "password on a command line",
        r"(?<![\w-])(?:-u|--user)[ \t]{1,5}[\"']?[^\s:\"'$]{1,128}:([^\s\"']{1,256})",
        ("-u ", "--user"),
        check=_weak_value,
        by_keyword=True,
    ),
    _rule(
        "password",
        "password on a command line",
        r"(?i:psexec)[^\n]{0,200}?[ \t]-p[ \t]{1,5}(\S{1,100})",
        ("psexec",),
        check=_weak_value,
        by_keyword=True,
    ),
    _rule(
        "password",
        "password in a NetworkCredential",
        r"(?i:NetworkCredential)[ \t]{0,5}\([ \t]{0,5}\"[^\"\n]{1,100}\"[ \t]{0,5},[ \t]{0,5}"
        r"\"([^\"\n]{1,100})\"",
        ("networkcredential",),
        check=_weak_value,
        by_keyword=True,
    ),
    _rule(
        "token",
        "token on a command line",
        r"(?i:(?<![\w-])--?[a-z-]{0,30}(?:token|secret|api-?key))[ \t]{1,5}[\"']?"
        r"([^\s\"'$%{<-][^\s\"']{2,511})",
        ("token ", "secret ", "key "),
        check=_secret_value,
        by_keyword=True,
    ),
    _rule(
        "vault-token",
        "HashiCorp Vault token",
        r"(?<![A-Za-z0-9_.-])([sbr]\.[A-Za-z0-9_-]{24,400}+)",
        ("vault",),
        check=_random_token,
        by_keyword=True,
    ),
    _rule(
        "vault-token",
        "HashiCorp Vault unseal key",
        r"(?<![A-Za-z0-9+/=])([A-Za-z0-9+/]{43,44}+={0,1})(?![A-Za-z0-9+/=])",
        ("unseal",),
        check=_random_token,
        by_keyword=True,
    ),
)
