"""Visible tests and hints, one module per exercise notebook (``EXERCISE = Exercise(...)``).

:func:`ascend_compat.grading.check` finds a question's module here by its id; the graded test
cells of the exercise run the same tests with ``check(..., must_pass=True)``.
"""
