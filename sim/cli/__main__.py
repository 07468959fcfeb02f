"""``python -m sim.cli``: the ``sim`` command."""

from . import main

if __name__ == "__main__":  # worker processes import the main module again: they must not run the command
    main()
