"""``torch.npu`` on the simulator against the real torch_npu public API (data/torch_npu_api.json)."""

from __future__ import annotations

import re

import pytest
import torch

from ascend_compat import api_reference


def _provided(name: str) -> bool:
    try:
        getattr(torch.npu, name)
    except AttributeError:
        return False
    return True


def test_the_reference_is_recorded_with_its_source():
    api = api_reference.torch_npu_api()
    assert api["source"]["repo"] == "Ascend/pytorch"
    assert re.fullmatch(r"[0-9a-f]{40}", api["source"]["commit"])
    assert len(api["names"]) > 100 and set(api["core"]) <= set(api["names"])


def test_core_api_is_complete(sim):
    missing = sorted(n for n in api_reference.core_names() if not _provided(n))
    assert missing == []
    assert torch.npu.amp.GradScaler and torch.npu.amp.autocast


def test_coverage_of_the_whole_api(sim, capsys):
    names = sorted(api_reference.torch_npu_names())
    provided = [n for n in names if _provided(n)]
    coverage = len(provided) / len(names)
    with capsys.disabled():
        print(f"\ntorch.npu API coverage: {len(provided)}/{len(names)} = {coverage:.0%} "
              f"(missing: {', '.join(n for n in names if n not in provided)})")
    assert coverage >= 0.80


def test_the_rest_raise_an_error_naming_the_function(sim):
    missing = [n for n in sorted(api_reference.torch_npu_names()) if not _provided(n)]
    assert missing, "nothing to check"
    for name in missing:
        with pytest.raises(NotImplementedError, match=rf"torch\.npu\.{name} is part of torch_npu but not simulated"):
            getattr(torch.npu, name)
    with pytest.raises(AttributeError, match="no attribute 'not_a_real_api'"):
        torch.npu.not_a_real_api
