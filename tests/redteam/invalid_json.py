"""Not a notebook at all: broken JSON. Graded as an empty notebook (every test restored, all fail)."""

EXPECT = {"points": 0, "flagged": True, "finding": "not a valid notebook"}


def submission(kit):
    return b'{"cells": [{"cell_type": "code", "source": "def pick_device'
