"""The learner submitted the assignment without this notebook (another one only): nbgrader scores
every test of the missing notebook 0."""

EXPECT = {"points": 0, "flagged": False}


def submission(kit):
    name, other = kit.other_notebook()
    return {name: other}
