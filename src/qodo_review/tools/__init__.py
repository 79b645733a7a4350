"""The tools beside /review (describe, improve, ask): each tool's prompt, schema, parser and renderers.

Pure like the rest of the core; ``runner.run_tool`` drives any tool through the review's own
select -> budget -> redact -> prompt -> provider stages. The I/O lives in ``commands/<tool>.py``.
"""
