"""Run `boxcrawl` in this process (no interpreter start-up per call) and capture what it prints."""

import contextlib
import io
import sys
from dataclasses import dataclass

from boxcrawl.commands import main

# The 48 derived names in calculate_derived_features.py's order (written down from the original; the main
# CSV's header is `good` and these).
DERIVED = (
    "id sin openGraph forum index search view archive asp phpbb php pathLength domain pathComponents "
    "slugDetector pathNumbers lastSegmentLength visibleRatio visiblePPRERatio PPRERatio anchorPPRERatio "
    "innerTextLength textContentLength innerHtmlLength innerTextLengthRatio textContentLengthRatio "
    "innerTexttextContentLengthRatio innerTextWordCount textContentWordCount innerhtmlWordCount "
    "innerTextWordCountRatio textContentWordCountRatio innerTexttextContentWordCountRatio textCount "
    "passwordCount formCount anchorCount elementCount anchorRatio mozScore mozScoreAllLinear "
    "mozScoreAllSqrt numAnchors numElements numForms numPPRE numPasswordInput numTextInput"
).split()


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def cli(*args, check=True, input=None) -> Result:
    out, err = io.StringIO(), io.StringIO()
    old_stdin = sys.stdin
    if input is not None:
        sys.stdin = io.StringIO(input)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main([str(a) for a in args])
            except SystemExit as exc:  # argparse errors
                code = exc.code
    finally:
        sys.stdin = old_stdin
    result = Result(code, out.getvalue(), err.getvalue())
    if check and code != 0:
        raise AssertionError(f"boxcrawl {' '.join(map(str, args))} exited {code}\n{result.stdout}\n{result.stderr}")
    return result
