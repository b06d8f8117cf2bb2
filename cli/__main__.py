"""`python -m cnnspec` runs the `cnnspec` command line."""

import sys

from .cli import main

if __name__ == "__main__":  # not again in the run's spawned worker processes
    sys.exit(main())
