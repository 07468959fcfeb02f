"""The stock outcome kinds, one module each; importing this package registers them.

An outcome kind declares its spec (the fields a scenario writes), its detector and
the sentence reports print (see :func:`sim.parts.register_outcome`).
"""

from . import (  # noqa: F401
    affinity,
    agreement,
    capability,
    casualties,
    combined,
    condition,
    escalation,
    main_supplier,
    membership,
    monthly_deaths,
    offensive,
    settlement,
    supplier_share,
    territory,
    trust,
)
