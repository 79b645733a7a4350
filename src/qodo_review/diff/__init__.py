"""The diff stage: a unified diff (git, GitHub or plain `diff -u`) into our frozen types, in two levels.

`split_diff` finds file boundaries, paths, status and +/- counts with C-speed string operations and
builds no per-line objects (a 33 MB PR diff splits in well under a second); `parse_file` builds the
hunks and numbered lines of one file, and is only called for files that will actually be sent.

Decisions: a binary file keeps ADDED/DELETED/RENAMED/COPIED (that is what happened to it) and is
BINARY only when it was modified in place; `RawFile.binary` is True in every case. `old_path` is set
only for RENAMED and COPIED. The payload of a `GIT binary patch` is not kept in `RawFile.text`.
Hunks are read by our own small reader, not unidiff: on every real diff we hold they agree exactly
(tests cross-check both), and ours is ~2.6x faster and reports malformed hunks by file and line.

Modules: `raw` (the RawFile type), `split` (level 1), `parse` (level 2), `names` (header file names),
`api` (bytes and GitHub's files endpoint in), `anchors` (where a comment may point).
"""

from __future__ import annotations

from .anchors import hunk_for, new_line_sets
from .api import decode_diff, raw_files_from_api
from .parse import HunkHeaders, hunk_headers, new_side_texts, parse_diff, parse_file
from .raw import RawFile
from .split import split_diff

__all__ = [
    "HunkHeaders",
    "RawFile",
    "decode_diff",
    "hunk_for",
    "hunk_headers",
    "new_line_sets",
    "new_side_texts",
    "parse_diff",
    "parse_file",
    "raw_files_from_api",
    "split_diff",
]
