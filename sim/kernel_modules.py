"""The kernel modules outside the rules that every run uses, named once.

Read by :mod:`sim.ahead` (the fingerprint of a compile, run at every ``import sim``) and by
:mod:`sim.rules.kernels` (the compile-ahead list, the kernel counts, the uncached list). A
module of its own, importing nothing, so that neither of those imports the other for it.
"""

from __future__ import annotations

_PKG = __name__.split(".", 1)[0]
EVERY_RUN = (f"{_PKG}.seeding_kernel", f"{_PKG}.world.tally_kernel")
"""The random draws (:mod:`sim.seeding_kernel`) and the event and level counts
(:mod:`sim.world.tally_kernel`). A new kernel module outside ``sim/rules`` goes here."""
