"""A correct answer that prints 64 MB in one message. The grader's ZeroMQ socket refuses any message
over 16 MB (so a 1 GB print cannot fill the grader's memory), which drops that IOPub connection:
the cell's output is lost, the grader reconnects, and the notebook is flagged. The tests after it
still run, so the correct answer keeps its points."""

EXPECT = {"points": 8, "flagged": True, "finding": "could not be collected"}


def submission(kit):
    return kit.answer(kit.release(), kit.solution + "\nprint('x' * (64 << 20))\n")
