"""The one error every command raises for bad input: a single line for the user, exit code 2."""


class CLIError(Exception):
    """A one-line message for the user; exit code 2."""
