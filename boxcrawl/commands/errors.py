"""What every command does with bad input and how it ends: one error line, and one table of exit codes.

| code | meaning |
|---|---|
| 0 | done, nothing failed |
| 1 | done, and some pages (entries, checks) failed: their records say why |
| 2 | usage: a bad flag or input, one line on stderr |
| 130 | interrupted (Ctrl-C, SIGTERM): what was finished is kept, the same command resumes |
"""

DONE, FAILED, USAGE, INTERRUPTED = 0, 1, 2, 130


class CLIError(Exception):
    """A one-line message for the user; exit code 2."""


def exit_code(failed: int, interrupted: bool = False) -> int:
    return INTERRUPTED if interrupted else FAILED if failed else DONE
