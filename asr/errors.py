"""The one error type for bad input: its message is a single line naming the file (and line) and the problem."""


class InputError(ValueError):
    """Bad input data or configuration. The command line prints the message alone and exits with status 2."""
