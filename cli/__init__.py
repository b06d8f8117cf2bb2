"""cnnspec: an executable spec of CNN operator arithmetic and a conformance suite."""
__version__ = "0.1.0"


class UsageError(ValueError):
    """A wrong invocation, such as an unknown adapter or an unwritable --json: the command line
    prints it as one line on stderr and exits 2, before any work is done."""
