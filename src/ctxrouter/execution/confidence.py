"""Confidence from the model's own structured self-assessment.

When self-assessment is on, the executor appends :data:`SELF_ASSESSMENT_INSTRUCTION` to the
system prompt, and the model ends its answer with one line ``CONFIDENCE: <0..1>``. That line
is parsed (the last one wins), removed from the answer, and compared with the threshold. An
answer without the line has no confidence (``None``): only validators can then reject it.
"""

from __future__ import annotations

import re

SELF_ASSESSMENT_INSTRUCTION = (
    "After your answer, on a line of its own, rate how confident you are that the answer is "
    "correct and complete, as `CONFIDENCE: <a number from 0 to 1>`."
)
_LINE = re.compile(
    r"^[ \t]*\**confidence\**[ \t]*[:=][ \t]*([01](?:\.\d+)?|\.\d+)[ \t]*$", re.I | re.M
)


def split_confidence(text: str) -> tuple[str, float | None]:
    """Return the answer without its confidence line, and the confidence (or ``None``)."""
    matches = list(_LINE.finditer(text))
    if not matches:
        return text, None
    last = matches[-1]
    value = float(last.group(1))
    if not 0.0 <= value <= 1.0:
        return text, None
    answer = (text[: last.start()] + text[last.end() :]).rstrip()
    return answer, value
