"""The one exception gatescope.noise raises for bad input (the command line prints it as one line)."""


class NoiseError(ValueError):
    """Bad noise input: an unknown noise type, an unreadable noise file, a silent signal where power is needed."""
