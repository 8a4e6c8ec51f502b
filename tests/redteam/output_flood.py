"""A correct answer that prints a million lines: only the first megabyte is kept."""

EXPECT = {"points": 8, "flagged": False}


def submission(kit):
    return kit.answer(kit.release(), kit.solution + "\nfor i in range(1_000_000):\n    print(i)\n")
