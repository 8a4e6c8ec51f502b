"""Replaces every test cell with `pass` (and a plausible wrong answer): nbgrader restores them."""

EXPECT = {"points": 5, "flagged": True, "finding": "was edited"}


def submission(kit):
    nb = kit.answer(kit.release(), kit.wrong)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            cell.source = "pass  # all good"
    return nb
