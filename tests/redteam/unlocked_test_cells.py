"""Edits the test cells' metadata (unlocked, 100 points, not graded) and their code."""

EXPECT = {"points": 5, "flagged": True}


def submission(kit):
    nb = kit.answer(kit.release(), kit.wrong)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            meta.update(locked=False, points=100)
            cell.source = "pass"
    return nb
