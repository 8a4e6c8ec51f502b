"""Allocates (and touches) memory until something gives: RLIMIT_DATA makes it a MemoryError."""

EXPECT = {"points": 0, "flagged": False}


def submission(kit):
    return kit.answer(kit.release(), "blocks = []\nwhile True:\n    blocks.append(b'x' * (64 << 20))\n" + kit.solution)
