"""The invalid-config comment and check summary, and the fixed comment: exact strings."""

from __future__ import annotations

from qodo_review.channels.config_error import error_markdown, fixed_markdown


def test_error_markdown() -> None:
    error = ".qodo.yml (base branch): unknown key 'max_findings'; did you mean 'max-findings'? Known keys: a, b."
    assert error_markdown(".qodo.yml", error) == (
        "<!-- qodo-review:config -->\n"
        "## qodo-review: the configuration is invalid\n\n"
        "❌ `.qodo.yml` on the base branch could not be used, so this pull request was not reviewed and the "
        "`qodo-review` check fails (the file may set the gate, so a broken one never passes):\n\n"
        "```\n"
        ".qodo.yml (base branch): unknown key 'max_findings'; did you mean 'max-findings'? Known keys: a, b.\n"
        "```\n\n"
        "Fix `.qodo.yml` on the base branch (or delete it to use the defaults); the next run reviews the pull "
        "request and marks this comment fixed. The keys are listed in the README's `.qodo.yml` section."
    )


def test_hostile_error_text_stays_in_its_block() -> None:
    text = error_markdown(".qodo.yml", "key '```\n@everyone <!-- qodo-review:summary --> ````' " + "x" * 5000)
    assert "\n`````\nkey '```\n@everyone <\u200b!-- qodo-review:summary --> ````' " in text
    assert text.count("`````") == 2 and text.endswith("`.qodo.yml` section.")
    assert "x" * 3900 in text and "x" * 5000 not in text and " …\n`````" in text


def test_fixed_markdown() -> None:
    assert fixed_markdown(".qodo.yml", "c" * 40) == (
        "<!-- qodo-review:config -->\n<!-- qodo-review:config-fixed -->\n"
        "## qodo-review: the configuration is fixed\n\n"
        "✅ `.qodo.yml` on the base branch is valid again (checked at `ccccccc`); reviews run as configured."
    )
