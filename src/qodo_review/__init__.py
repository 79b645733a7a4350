"""qodo-review: a self-hosted AI pull-request reviewer (GitHub Action and CLI).

The pipeline, one module per stage:
event -> config -> diff -> select -> budget -> redact -> prompt -> providers
-> findings/placement -> sanitize/render -> publish, orchestrated by ``review.run``.
"""

__version__ = "0.1.0"
