"""The mechanisms, registered by name (see :mod:`sim.rules.registry` and :mod:`sim.parts`).

Importing this package registers the stock parts: :mod:`.base` (the common ground every
mechanism shares) and one module per mechanism.
"""

from . import base  # noqa: F401  (first: the common attributes lead the generated schema)

# isort: split
from . import (  # noqa: F401, I001
    alignment,
    alliance,
    blockade,
    escalation,
    events,
    history,
    membership,
    offensive,
    patronage,
    procurement,
    spells,
    talks,
)
from . import policy  # noqa: F401, I001  (after events: its slot runs after theirs in the events phase)
from . import registry
from .registry import *  # noqa: F403  (the package re-exports the registry's public names)

__all__ = list(registry.__all__)
