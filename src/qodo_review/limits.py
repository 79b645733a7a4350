"""GitHub's limits, each a named constant with its source. Everything posted is cut to fit these."""

# "Body is too long (maximum is 65536 characters)" - GitHub's 422 for issue and review comments.
COMMENT_BODY_MAX = 65_536
# "body is too long (maximum is 65536 characters)" - the same 422 for a pull request's description.
PR_BODY_MAX = 65_536
# checks/create: output.summary and output.text have maxLength 65535 in GitHub's OpenAPI description.
CHECK_TEXT_MAX = 65_535
# "Only 50 annotations can be sent per request; send more with further PATCH requests" (checks API docs).
ANNOTATIONS_PER_REQUEST = 50
# Workflow-command annotations: GitHub shows at most 10 error and 10 warning annotations per step.
WORKFLOW_ANNOTATIONS_PER_STEP = 10
# "$GITHUB_STEP_SUMMARY ... max 1MiB per step" (workflow commands docs, job summaries).
STEP_SUMMARY_MAX = 1024 * 1024
# "Outputs are Unicode strings, and can be a maximum of 1 MB. The total of all outputs in a workflow run
# can be a maximum of 50 MB" (workflow syntax docs).
OUTPUTS_MAX = 1_000_000
# Review comments per review: reviewdog's maxCommentsPerRequest is 30 for the old endpoint; the reviews
# API accepts more, but very large reviews time out. We post at most this many inline and summarize the rest.
INLINE_COMMENTS_MAX = 60
