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
# Under xdist each worker (and every kernel it starts: nbval, nbgrader) gets its share of the
# cores. Two workers each running torch with one OpenMP thread per core would put 4 spinning
# threads on 2 cores, and a notebook beside a grading run took 3-4x its time alone.
if os.environ.get("PYTEST_XDIST_WORKER_COUNT") and "OMP_NUM_THREADS" not in os.environ:
    import torch

    from ascend_compat.grading.parallel import threads_per_job

    _threads = threads_per_job(int(os.environ["PYTEST_XDIST_WORKER_COUNT"]))
    os.environ["OMP_NUM_THREADS"] = str(_threads)  # the kernels this worker starts
    torch.set_num_threads(_threads)  # this worker: importing the lab loaded torch before the variable was set

# Notebooks under tests/ are fixtures (wrong answers, hostile submissions), not lessons to run.
collect_ignore_glob = ["**/*.ipynb", "migration_corpus/*", "samples/*", "wrong_answers/*", "right_answers/*"]


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


# --------------------------------------------------------------------------- notebook run times
NOTEBOOK_BUDGET_S = 60  # COURSE.md: every notebook runs top to bottom in well under a minute on 2 cores


def pytest_terminal_summary(terminalreporter):
    """Report how long each notebook took under nbval (kernel start + every cell), slowest first.

    A report, not a test: times depend on the machine (non-negotiable 5), but an instructor and CI
    should see at a glance which notebooks come near the one-minute budget."""
    totals: dict[str, float] = {}
    for reports in terminalreporter.stats.values():
        for report in reports:
            nodeid = getattr(report, "nodeid", "")
            if ".ipynb::" in nodeid and hasattr(report, "duration"):
                path = nodeid.split("::", 1)[0]
                totals[path] = totals.get(path, 0.0) + report.duration
    if not totals:
        return
    ranked = sorted(totals.items(), key=lambda item: -item[1])
    over = [path for path, seconds in ranked if seconds >= NOTEBOOK_BUDGET_S]
    terminalreporter.section("notebook run times (nbval)")
    terminalreporter.write_line(f"{len(ranked)} notebooks, {sum(totals.values()):.0f} s in all; "
                                f"{len(over)} at or over the {NOTEBOOK_BUDGET_S} s budget")
    for path, seconds in ranked[:12]:
        terminalreporter.write_line(f"  {seconds:6.1f} s  {path}")
