"""Crashes the kernel with a segmentation fault through ctypes."""

EXPECT = {"points": 0, "flagged": True, "finding": "kernel died"}


def submission(kit):
    return kit.answer(kit.release(), "import ctypes\nctypes.string_at(0)\n")
