"""The migration assistant: every rule (positive and negative), rewrites, notebooks, bad input, exit codes,
and the corpus of CUDA scripts running after rewrite and under transfer_to_npu."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

from ascend_compat.cli import main as cli
from ascend_compat.migrate import analyze_paths, analyze_source, rewrite_source

CORPUS = Path(__file__).parent / "migration_corpus"

# rule -> (code that must trigger it, similar code that must not)
CASES = {
    "MIG001": ('import torch\nx = torch.zeros(2, device="cuda:1")\n', 'import torch\nprint("cuda is fast")\n'),
    "MIG002": ("y = model.cuda()\n", "y = model.npu()\n"),
    "MIG003": ("import torch\ntorch.cuda.synchronize()\n", "import torch\ntorch.npu.synchronize()\n"),
    "MIG004": ("import torch\ntorch.cuda.nvtx.range_push('x')\n", "import torch\ntorch.npu.mstx.mark('x')\n"),
    "MIG005": ("import torch\nwith torch.cuda.amp.autocast():\n    pass\n",
               'import torch\nwith torch.amp.autocast("npu"):\n    pass\n'),
    "MIG006": ("import torch\ntorch.backends.cudnn.deterministic = True\n", "import torch\ntorch.use_deterministic_algorithms(True)\n"),
    "MIG007": ('import torch.distributed as dist\ndist.init_process_group("nccl")\n',
               'import torch.distributed as dist\ndist.init_process_group("hccl")\n'),
    "MIG008": ('import os\nos.environ["CUDA_VISIBLE_DEVICES"] = "0"\n', 'import os\nos.environ["ASCEND_RT_VISIBLE_DEVICES"] = "0"\n'),
    "MIG009": ('import subprocess\nsubprocess.run(["nvidia-smi"])\n', 'import subprocess\nsubprocess.run(["npu-smi", "info"])\n'),
    "MIG010": ("import cupy as cp\n", "import numpy as np\n"),
    "MIG011": ("import torch\nx = torch.zeros(3, dtype=torch.float64)\n", "import torch\nx = torch.zeros(3, dtype=torch.float32)\n"),
    "MIG012": ("import torch\nv = torch.linalg.eig(torch.eye(2))\n", "import torch\nv = torch.linalg.eigh(torch.eye(2))\n"),
    "MIG013": ("import torch\nm = torch.jit.script(model)\n", "import torch\nm = torch.compile(model)\n"),
}


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_fires_on_positive_and_not_on_negative(rule):
    positive, negative = CASES[rule]
    assert rule in {f.rule for f in analyze_source(positive)}
    assert rule not in {f.rule for f in analyze_source(negative)}


def test_aliases_and_tricky_forms():
    code = textwrap.dedent('''
        import torch as th
        import torch.cuda as tc
        from torch import cuda
        from torch.cuda import synchronize
        dev = "cuda" if th.cuda.is_available() else "cpu"
        rank_dev = f"cuda:{rank}"
        tc.synchronize(); cuda.current_device(); synchronize()
        x = th.ones(2).to(0)
    ''')
    found = [(f.line, f.rule) for f in analyze_source(code)]
    assert (6, "MIG001") in found and (6, "MIG003") in found and (7, "MIG001") in found
    assert [r for line, r in found if line == 8] == ["MIG003", "MIG003", "MIG003"]
    assert not any(line == 9 for line, _ in found), ".to(0) is a device index only the run-time patch can see"


def test_prose_is_left_alone():
    code = '"""Uses cuda.\n\n.cuda() everywhere."""\n# torch.cuda.synchronize() in a comment\nnote = "train on cuda GPUs"\n'
    assert analyze_source(code) == []
    assert rewrite_source(code).code == code


def test_rewrite_keeps_comments_and_is_idempotent():
    code = (CORPUS / "aliased.py").read_text()
    first = rewrite_source(code, add_import=True)
    assert first.changed and "# NOTE: this comment mentions cuda and .cuda() and must stay." in first.code
    assert '"""Aliased imports of torch.cuda. This docstring says cuda and must stay as it is."""' in first.code
    assert 'message = "Runs best on cuda GPUs"' in first.code
    assert "torch.ones(3).npu()" in first.code and "import torch_npu" in first.code
    second = rewrite_source(first.code, add_import=True)
    assert second.code == first.code and not second.applied
    remaining = {f.rule for f in first.remaining}
    assert "MIG003" in remaining, "aliased torch.cuda calls are reported, not rewritten"


def test_amp_rewrite_adds_the_device():
    result = rewrite_source("import torch\nwith torch.cuda.amp.autocast(dtype=torch.float16):\n    s = torch.cuda.amp.GradScaler(init_scale=8.0)\n")
    assert 'torch.amp.autocast("npu", dtype=torch.float16)' in result.code
    assert 'torch.amp.GradScaler("npu", init_scale=8.0)' in result.code


def test_notebooks_cell_by_cell(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("Uses cuda"), nbformat.v4.new_code_cell("!nvidia-smi\nimport torch"),
                nbformat.v4.new_code_cell("x = torch.ones(2).cuda()  # to the GPU")]
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", text="kept")]
    path = tmp_path / "n.ipynb"
    nbformat.write(nb, path)
    report = analyze_paths([path])
    assert {(f.cell, f.rule) for f in report.findings} == {(1, "MIG009"), (2, "MIG002")}
    assert cli(["migrate", "rewrite", "--write", str(path)]) == 0
    rewritten = nbformat.read(path, as_version=4)
    assert rewritten.cells[1].source == "!nvidia-smi\nimport torch"
    assert rewritten.cells[2].source == "x = torch.ones(2).npu()  # to the GPU"
    assert rewritten.cells[2].outputs[0]["text"] == "kept"


def test_bad_input_is_reported_and_the_rest_continue(tmp_path, capsys):
    (tmp_path / "good.py").write_text("x = m.cuda()\n")
    (tmp_path / "broken.py").write_text("def f(:\n    pass\n")
    (tmp_path / "latin1.py").write_bytes("s = 'caf\xe9'\n".encode("latin-1"))
    (tmp_path / "blob.py").write_bytes(b"\x00\x01\x02")
    (tmp_path / "bad.ipynb").write_text("{not json")
    report = analyze_paths([tmp_path])
    rules = {Path(f.path).name: f.rule for f in report.findings}
    assert rules == {"good.py": "MIG002", "broken.py": "MIG000"}
    reasons = {Path(s.path).name: s.reason for s in report.skipped}
    assert "not UTF-8" in reasons["latin1.py"] and "binary" in reasons["blob.py"] and "notebook" in reasons["bad.ipynb"]


def test_write_is_atomic_and_leaves_no_temp_files(tmp_path):
    path = tmp_path / "s.py"
    path.write_text('import torch\nx = torch.ones(1, device="cuda")\n')
    path.chmod(0o640)
    assert cli(["migrate", "rewrite", "--write", str(path)]) == 0
    assert path.read_text() == 'import torch\nx = torch.ones(1, device="npu")\n'
    assert path.stat().st_mode & 0o777 == 0o640, "rewriting keeps the file's permissions"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.py"]


def test_exit_codes_and_formats(tmp_path, capsys):
    (tmp_path / "a.py").write_text("import torch\ntorch.backends.cudnn.benchmark = True\n")
    assert cli(["migrate", "analyze", str(tmp_path)]) == 0
    assert cli(["migrate", "analyze", "--fail-on", "info", str(tmp_path)]) == 1
    assert cli(["migrate", "analyze", "--fail-on", "warning", str(tmp_path)]) == 0
    capsys.readouterr()
    assert cli(["migrate", "analyze", "--format", "json", str(tmp_path)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["summary"]["by_rule"]["MIG006"]["count"] == 1 and data["findings"][0]["line"] == 2
    assert cli(["migrate", "analyze", "--format", "csv", str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith("location,rule,severity")
    assert cli(["migrate", "analyze", "--format", "markdown", str(tmp_path)]) == 0
    assert "| MIG006" not in capsys.readouterr().out.splitlines()[0]
    assert cli(["migrate", "analyze", str(tmp_path / "missing")]) == 2
    with pytest.raises(SystemExit) as usage:
        cli(["migrate", "analyze", "--fail-on", "sometimes", str(tmp_path)])
    assert usage.value.code == 2


def test_parallel_jobs_give_the_same_findings():
    one = analyze_paths([CORPUS], jobs=1).findings
    two = analyze_paths([CORPUS], jobs=2).findings
    assert [f.as_dict() for f in one] == [f.as_dict() for f in two] and len(one) > 30


# Layouts where a position is easy to get wrong: CRLF and tab indentation, non-ASCII text, decorators and
# comments before a def, parentheses, `;`, every compound statement, f-strings, repeated text on a line.
TRICKY_LAYOUTS = [
    "import torch\r\nx = torch.zeros(2, device='cuda')\r\nif True:\r\n\ty = x.cuda()\r\n",
    "import torch\nclass A:\n\tdef f(self):\n\t\tif x:\n\t\t\treturn torch.cuda.synchronize()\n\t\telif y:\n\t\t\t  z = 'cuda:0'\n",
    "import torch\ns = 'ünïcödé'; t = torch.ones(2).cuda(); u = \"cuda\"\n",
    "import torch\n\n# c\n@torch.jit.script\n\n@deco(\n  'cuda')\ndef f(x='cuda'):\n    return x.cuda()\n",
    "import torch\nx = (torch.cuda\n     .synchronize)()\ny = ( 'cuda' )\nz = ((a.cuda()))\n",
    "import torch; torch.cuda.synchronize(); x = 'cuda'\nif a: b = 'nccl'; c = x.cuda()\n",
    "import torch\ntry:\n    x.cuda()\nexcept E as e:\n    'cuda'\nelse:\n    y = 'cuda:1'\nfinally:\n"
    "    torch.cuda.empty_cache()\nwhile 1:\n    pass\nelse:\n    'nccl'\nfor i in x.cuda():\n    y = i.cuda() or 'cuda'\n",
    "import torch\nd = f'cuda:{r}'\ne = f\"cuda\"\nwith torch.cuda.amp.autocast(): y = x.cuda(); z = x.cuda()\n",
    "import torch\ndef g(\n    a='cuda',\n    b=torch.cuda.current_device(),\n):\n    s = '''\n    cuda\n    ''' + \"cuda\"\n"
    "    return x.cuda(\n    ).cuda()\n",
]


@pytest.mark.parametrize("code", TRICKY_LAYOUTS + [p.read_text() for p in sorted(CORPUS.glob("*.py"))])
def test_positions_are_libcsts_position_provider_ones(code, monkeypatch):
    """The analyzer locates findings without libcst's whole-file PositionProvider; its fallback uses it.
    Both must agree on every finding."""
    from ascend_compat.migrate import analyzer

    fast = [(f.line, f.column, f.rule, f.message) for f in analyze_source(code)]
    assert fast

    def unpaired(*args):
        raise analyzer._Unpaired

    monkeypatch.setattr(analyzer, "_locate_by_text", lambda module, code, located: located)
    monkeypatch.setattr(analyzer, "_Statements", unpaired)
    assert fast == [(f.line, f.column, f.rule, f.message) for f in analyze_source(code)]


RUNNER = textwrap.dedent('''
    import runpy, sys, traceback
    mode = sys.argv[1]
    import ascend_compat
    if mode == "transfer":
        import ascend_compat.transfer_to_npu
    failed = []
    for path in sys.argv[2:]:
        try:
            runpy.run_path(path, run_name="__main__")
        except BaseException:
            failed.append(path)
            traceback.print_exc()
    print("FAILED:", failed)
    sys.exit(1 if failed else 0)
''')


def _run_corpus(mode: str, paths: list[Path], tmp_path: Path) -> subprocess.CompletedProcess:
    runner = tmp_path / "runner.py"
    runner.write_text(RUNNER)
    return subprocess.run([sys.executable, str(runner), mode, *map(str, paths)], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path, env={**os.environ, "ASCEND_COMPAT_BACKEND": "sim"})


@pytest.mark.slow
def test_corpus_runs_on_the_npu_after_rewrite(tmp_path):
    scripts = sorted(CORPUS.glob("*.py"))
    assert len(scripts) >= 8
    rewritten = []
    for script in scripts:
        result = rewrite_source(script.read_text(), str(script))
        assert result.changed, f"{script.name}: nothing rewritten"
        assert not any(f.rule == "MIG000" for f in result.remaining)
        out = tmp_path / script.name
        out.write_text(result.code)
        rewritten.append(out)
    result = _run_corpus("rewritten", rewritten, tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]


@pytest.mark.slow
def test_corpus_runs_unmodified_under_transfer_to_npu(tmp_path):
    result = _run_corpus("transfer", sorted(CORPUS.glob("*.py")), tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
