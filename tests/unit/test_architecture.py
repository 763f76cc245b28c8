"""The architecture holds: import-linter's contracts (layers, no cycles, the backend never imports the UI) and no
code outside the task registry branches on a task name."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TASK_NAMES = {"semantic", "instance"}


def test_import_contracts_are_kept() -> None:
    """``lint-imports`` with the contracts in pyproject.toml (also run by ``make test``)."""
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def _is_task_name(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value in TASK_NAMES


def task_branches(root: Path) -> list[str]:
    """Comparisons with a task name, tables keyed by one, module names built with ``_tutorial``: file:line each."""
    found = []
    for path in sorted(root.rglob("*.py")):
        where = path.relative_to(root.parent)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Compare) and any(_is_task_name(n) for n in [node.left, *node.comparators]):
                found.append(f"{where}:{node.lineno}")
            elif isinstance(node, ast.Dict) and any(
                    k is not None and (_is_task_name(k) or (isinstance(k, ast.Tuple) and any(map(_is_task_name, k.elts))))
                    for k in node.keys):
                found.append(f"{where}:{node.lineno}")
            elif isinstance(node, ast.JoinedStr) and any(
                    isinstance(v, ast.Constant) and "_tutorial" in str(v.value) for v in node.values):
                found.append(f"{where}:{node.lineno}")
    return found


def test_only_the_registry_knows_the_task_names() -> None:
    """36 such branches before the Task interface (31 comparisons, 4 tables keyed by task, 1 module name); none now."""
    assert task_branches(REPO / "segwb") == []
    assert task_branches(REPO / "widgets") == []


def test_the_counter_sees_a_branch(tmp_path: Path) -> None:
    """The check above would notice one."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "m.py").write_text('def f(task):\n    return 1 if task == "instance" else {"semantic": 2}\n')
    assert task_branches(tmp_path / "pkg") == ["pkg/m.py:2", "pkg/m.py:2"]
