"""Installs an IPython AST transformer that wraps every later cell in `try: ... except: pass`,
so a failing test cell shows no error. The end marker of the test cell never prints: 0 points."""

EXPECT = {"points": 0, "flagged": True, "finding": "did not run to its end"}


def submission(kit):
    return kit.answer(kit.release(), (
        "import ast\n"
        "class Swallow(ast.NodeTransformer):\n"
        "    def visit_Module(self, node):\n"
        "        handler = ast.ExceptHandler(type=ast.Name('BaseException', ast.Load()), name=None, body=[ast.Pass()])\n"
        "        node.body = [ast.Try(body=node.body or [ast.Pass()], handlers=[handler], orelse=[], finalbody=[])]\n"
        "        return ast.fix_missing_locations(node)\n"
        "get_ipython().ast_transformers.append(Swallow())\n"
        "def pick_device(override=None):\n"
        "    return 'cpu'\n"))
