"""Deletes every test cell (and answers wrongly): they are put back from the gradebook and run."""

EXPECT = {"points": 5, "flagged": True, "finding": "was missing"}


def submission(kit):
    nb = kit.answer(kit.release(), kit.wrong)
    nb.cells = [cell for cell in nb.cells if not cell.metadata.get("nbgrader", {}).get("grade")]
    return nb
