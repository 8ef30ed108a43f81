"""gatescope's own errors: one base class, one-line messages that name the file (and line) or option at fault.

The command line prints a :class:`GatescopeError` as that one line and exits with status 2; any other exception is
a bug and keeps its traceback (exit 1).
"""


class GatescopeError(ValueError):
    """Base of every error gatescope raises on purpose: the message is one line saying what is wrong where."""


class InputError(GatescopeError):
    """Bad input data: a file, folder, table, signal or model that cannot be used as it is."""


class ConfigError(GatescopeError):
    """A bad setting: an unknown key, or a value outside its declared range, in a config file or an option."""
