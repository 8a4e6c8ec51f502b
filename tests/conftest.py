"""Shared test set-up: every test process uses the simulated NPU unless told otherwise."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import warnings

import pytest

os.environ.setdefault("ASCEND_COMPAT_BACKEND", "sim")
os.environ.setdefault("MPLBACKEND", "Agg")
# Learner state (progress, exam sessions, feedback) of the notebooks and CLIs the suite runs goes
# into a throw-away folder, never into the tester's own ~/.ascend_lab.
if "ASCEND_LAB_HOME" not in os.environ:
    os.environ["ASCEND_LAB_HOME"] = tempfile.mkdtemp(prefix="ascend-lab-test-home-")
    atexit.register(shutil.rmtree, os.environ["ASCEND_LAB_HOME"], ignore_errors=True)

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
