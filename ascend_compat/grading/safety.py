"""The nbgrader settings for grading untrusted notebooks safely: one function, :func:`apply`.

Every grading run of the lab uses them - :mod:`.autograde`, ``ascend-lab grade``,
``ascend-lab autograde`` - and so does a course made by ``ascend-lab course init``, whose
``nbgrader_config.py`` calls :func:`apply`: plain ``nbgrader autograde`` there is just as safe.

What changes against nbgrader's defaults (the rest of the pipeline is nbgrader's own):

* ``Autograde.exporter_class`` - :class:`~.integrity.TolerantNotebookExporter`: a file that is not
  a valid notebook is graded as an empty one (every test restored, every test fails) instead of
  stopping with an error;
* sanitize step - :class:`~.integrity.RecordSubmission` first: before nbgrader restores the
  test and locked cells, note which were edited or deleted and scan the learner's cells;
* ``OverwriteCells.add_missing_cells`` - a deleted test cell is put back and run;
* autograde step - :class:`~.safe_execute.SafeExecute` instead of ``Execute`` (sandbox, limits,
  test-cell guard) and :class:`~.integrity.SaveIntegrity` last (nbgrader's *flagged* mark).
"""

from __future__ import annotations

from traitlets.config import Config

SANITIZE = [
    "ascend_compat.grading.integrity.RecordSubmission",
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "nbgrader.preprocessors.OverwriteCells",
    "nbgrader.preprocessors.CheckCellMetadata",
]
AUTOGRADE = [
    "ascend_compat.grading.safe_execute.SafeExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
    "ascend_compat.grading.integrity.SaveIntegrity",
]

# The defaults of the limits (SafeExecute traits); course init writes them out for instructors.
LIMITS = {
    "timeout": 120,             # seconds per cell (nbgrader's Execute.timeout)
    "notebook_timeout": 900,    # seconds per notebook
    "memory_limit": "4G",       # RLIMIT_DATA per process
    "max_processes": 256,       # RLIMIT_NPROC (threads count too)
    "max_output_bytes": 1 << 20,
}


def apply(c: Config, **limits) -> Config:
    """Put the safe-grading settings into an nbgrader config ``c`` (``SafeExecute`` traits as keywords)."""
    c.Autograde.exporter_class = "ascend_compat.grading.integrity.TolerantNotebookExporter"
    c.Autograde.sanitize_preprocessors = list(SANITIZE)
    c.Autograde.autograde_preprocessors = list(AUTOGRADE)
    c.OverwriteCells.add_missing_cells = True
    for name, value in limits.items():
        setattr(c.SafeExecute, name, value)
    return c


def config_text(**limits) -> str:
    """The same settings as Python source, for a course's ``nbgrader_config.py``."""
    lines = ["from ascend_compat.grading import safety", "", "safety.apply(c)"]
    for name, value in {**LIMITS, **limits}.items():
        lines.append(f"c.SafeExecute.{name} = {value!r}")
    return "\n".join(lines) + "\n"
