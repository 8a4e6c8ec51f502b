"""Grading for the course: nbgrader wiring and instant feedback in exercise notebooks.

* :func:`check` / :func:`hint` - what a learner calls inside an exercise notebook
  (:mod:`ascend_compat.grading.instant`);
* :mod:`ascend_compat.grading.release` - generates ``exercises/`` from ``solutions/`` with nbgrader;
* :mod:`ascend_compat.grading.autograde` - grades submissions with the real ``nbgrader autograde``;
* :mod:`ascend_compat.grading.cli` - the ``ascend-lab exercises`` command.
"""

from ascend_compat.grading.instant import check, hint

__all__ = ["check", "hint"]
