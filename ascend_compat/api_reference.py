"""The real torch_npu public API, as recorded from Ascend/pytorch (``data/torch_npu_api.json``).

The simulator is measured against it (tests report the coverage) and uses it to tell a learner
that an API exists on real hardware even where the simulator does not provide it.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

DATA = Path(__file__).parent / "data" / "torch_npu_api.json"


@functools.lru_cache(maxsize=1)
def torch_npu_api() -> dict:
    with open(DATA, encoding="utf-8") as handle:
        return json.load(handle)


def torch_npu_names() -> frozenset[str]:
    """Every public name of ``torch.npu`` in the recorded torch_npu version."""
    return frozenset(torch_npu_api()["names"])


def core_names() -> frozenset[str]:
    """The core subset the simulator must cover completely."""
    return frozenset(torch_npu_api()["core"])
