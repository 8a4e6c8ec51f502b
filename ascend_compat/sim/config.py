"""Settings of the simulated NPU: how many devices, which SoC, and which realism checks are on.

Every realism feature is on by default (that is the point of the lab) and can be switched off
one by one, e.g. to show a learner the difference::

    import ascend_compat.sim as sim
    sim.configure(float64="allow")            # let float64 through silently
    sim.configure(memory_gib=1)               # a small device, to practise fitting a model
    sim.configure(device_count=4)

Environment variables give the same settings to a whole process (handy for ``torchrun``):
``ASCEND_SIM_DEVICES``, ``ASCEND_SIM_SOC``, ``ASCEND_SIM_MEMORY_GIB``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields

from ascend_compat.errors import UserError

FLOAT64_MODES = ("error", "allow")
FALLBACK_MODES = ("warn", "silent", "error")


@dataclass
class SimConfig:
    device_count: int = 2
    soc: str = "Ascend910B2"
    # None means "the SoC's real capacity".
    memory_gib: float | None = None
    # "error": float64 compute raises the error a real NPU gives; "allow": computes in float64.
    float64: str = "error"
    # What happens when an operator is missing from the NPU operator list.
    fallback: str = "warn"
    # Enforce the device memory capacity (out-of-memory errors).
    memory_limit: bool = True

    def validate(self) -> None:
        if not isinstance(self.device_count, int) or not 1 <= self.device_count <= 16:
            raise UserError(f"device_count={self.device_count!r} is not valid; use a whole number from 1 to 16")
        if self.memory_gib is not None and not (isinstance(self.memory_gib, (int, float)) and self.memory_gib > 0):
            raise UserError(f"memory_gib={self.memory_gib!r} is not valid; use a positive number of GiB, or None for the SoC's capacity")
        if self.float64 not in FLOAT64_MODES:
            raise UserError(f"float64={self.float64!r} is not valid; use one of {', '.join(FLOAT64_MODES)}")
        if self.fallback not in FALLBACK_MODES:
            raise UserError(f"fallback={self.fallback!r} is not valid; use one of {', '.join(FALLBACK_MODES)}")
        from ascend_compat import soc

        soc.get(self.soc)  # raises UserError naming the valid SoCs


def _from_environment() -> SimConfig:
    cfg = SimConfig()
    if "ASCEND_SIM_DEVICES" in os.environ:
        raw = os.environ["ASCEND_SIM_DEVICES"]
        try:
            cfg.device_count = int(raw)
        except ValueError:
            raise UserError(f"ASCEND_SIM_DEVICES={raw!r} is not a whole number; set it to e.g. 2") from None
    if os.environ.get("ASCEND_SIM_SOC"):
        cfg.soc = os.environ["ASCEND_SIM_SOC"]
    if os.environ.get("ASCEND_SIM_MEMORY_GIB"):
        raw = os.environ["ASCEND_SIM_MEMORY_GIB"]
        try:
            cfg.memory_gib = float(raw)
        except ValueError:
            raise UserError(f"ASCEND_SIM_MEMORY_GIB={raw!r} is not a number; set it to e.g. 2") from None
    cfg.validate()
    return cfg


CONFIG = _from_environment()


def configure(**changes) -> SimConfig:
    """Change settings of the simulated NPU; unknown names and bad values raise one clear error."""
    known = {f.name for f in fields(SimConfig)}
    unknown = sorted(set(changes) - known)
    if unknown:
        raise UserError(f"unknown setting(s) {', '.join(unknown)}; known settings: {', '.join(sorted(known))}")
    candidate = SimConfig(**{**CONFIG.__dict__, **changes})
    candidate.validate()
    for name, value in changes.items():
        setattr(CONFIG, name, value)
    return CONFIG
