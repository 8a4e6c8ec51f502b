"""Shared test set-up: every test process uses the simulated NPU unless told otherwise."""

from __future__ import annotations

import os
import warnings

import pytest

os.environ.setdefault("ASCEND_COMPAT_BACKEND", "sim")
os.environ.setdefault("MPLBACKEND", "Agg")

# Notebooks under tests/ are fixtures (wrong answers, hostile submissions), not lessons to run.
collect_ignore_glob = ["**/*.ipynb", "migration_corpus/*", "samples/*", "wrong_answers/*"]


@pytest.fixture
def sim():
    """The simulated NPU with clean statistics and default settings; restored afterwards."""
    import ascend_compat
    from ascend_compat import sim as sim_module

    assert ascend_compat.backend().name == "sim"
    saved = dict(sim_module.CONFIG.__dict__)
    sim_module.reset()
    import torch

    torch.npu.set_device(0)
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        yield sim_module
    sim_module.CONFIG.__dict__.update(saved)
    torch.npu.set_device(0)
