"""Adds a cell claiming to be a 100-point test of its own, and answers wrongly."""

EXPECT = {"points": 5, "flagged": True, "finding": "does not have"}


def submission(kit):
    import nbformat

    nb = kit.answer(kit.release(), kit.wrong)
    bonus = nbformat.v4.new_code_cell("print('bonus')", metadata={"nbgrader": {
        "grade": True, "grade_id": "bonus_points", "locked": True, "points": 100, "schema_version": 3,
        "solution": False, "task": False}})
    nb.cells.append(bonus)
    return nb
