"""The verdict of a yes/no answer, calibrated: the model's first-token odds against a measured threshold.

A small instruction model restates a yes/no question as "Yes" whether or not
its sources bear it out: the packaged 1.5B model answered "No" to 2 of 104
yes/no dev questions, 41 of whose answers are "No". Its first-token
probabilities still carry the judgement: log P(Yes) - log P(No) is lower, on
average, where the answer is "No" (AUC 0.66 over 337 yes/no dev questions
from number 200 on). So the verdict is taken from those odds with a threshold
measured on those questions ("calibrate before use": the model's bias
towards one answer is a constant shift of its log-odds), and the model then
writes its reason after the verdict it was given.

The threshold belongs to a model and a prompt: it is only known for the
packaged GGUF (``YES_NO_THRESHOLD``); any other model keeps its own first word
unless ``answer.yes_no_threshold`` is set. Measured with
``benchmarks/yes_no_calibration.py`` (docs/answers.md): on the 337 yes/no dev
questions from number 200 on, the verdict is right for 0.659 at 0.75 against
0.561 at 0 (the model's own odds, "No" 5 times) and 0.552 for always "Yes";
thresholds from 0.65 to 0.85 are all within 0.01 of 0.659.
"""

from __future__ import annotations

from pathlib import Path

from rag.llm.packaged_gguf import DEFAULT_GGUF_NAME

YES_NO_THRESHOLD = {DEFAULT_GGUF_NAME: 0.75}
"""Measured thresholds by GGUF file name."""


def yes_no_threshold(configured: float | None, model: str) -> float | None:
    """The threshold to use for ``model`` (a GGUF path): the configured one, else the measured one."""
    if configured is not None:
        return configured
    return YES_NO_THRESHOLD.get(Path(str(model)).name)
