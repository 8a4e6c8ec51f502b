"""SoC names atc accepts for ``--soc_version``.

The project-wide list lives in :mod:`ascend_compat.soc` (``soc.names()``, ``soc.get(name)``); this
module uses it when it is importable and otherwise falls back to a short built-in list of real
``--soc_version`` values (as printed by ``npu-smi info`` with the "Ascend" prefix; e.g. the samples'
READMEs use ``--soc_version=Ascend310`` and ``Ascend310B1``).
"""

from __future__ import annotations

_FALLBACK = (
    "Ascend310", "Ascend310B1", "Ascend310B4", "Ascend310P1", "Ascend310P3",
    "Ascend910A", "Ascend910B", "Ascend910ProA", "Ascend910ProB", "Ascend910PremiumA",
    "Ascend910B1", "Ascend910B2", "Ascend910B2C", "Ascend910B3", "Ascend910B4",
    "Ascend910_9391", "Ascend910_9392", "Ascend910_9381", "Ascend910_9382",
)


def names() -> tuple[str, ...]:
    try:
        from ascend_compat import soc
    except ImportError:
        return _FALLBACK
    return tuple(soc.names())


def check(name: str) -> str:
    """Return ``name`` if atc knows it, else raise atc's E10001 line, listing the valid names."""
    from ascend_compat.atc.convert import AtcError  # convert imports this module

    valid = names()
    if name in valid:
        return name
    folded = {n.lower(): n for n in valid}
    hint = f" (names are case-sensitive: did you mean {folded[str(name).lower()]}?)" if str(name).lower() in folded else ""
    # atc's wording for a bad option value: "E10001: Value [...] for parameter [--...] is invalid. Reason: ..."
    raise AtcError(f"E10001: Value [{name}] for parameter [--soc_version] is invalid. Reason: not a supported SoC"
                   f"{hint}; use one of: {', '.join(valid)} (run `npu-smi info` on the target machine and prefix "
                   "the Name with 'Ascend')")


def supports_bf16(name: str) -> bool:
    """bfloat16 exists on the Atlas A2/A3 generation (Ascend910B*, Ascend910_93*)."""
    return name.startswith("Ascend910B") or name.startswith("Ascend910_93")
