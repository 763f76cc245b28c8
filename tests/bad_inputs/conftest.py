"""Shared machinery of the hostile-input corpus: the CLI in-process, the one-line-error check, file-system snapshots
and a sentinel folder that must survive every case, and a good tiny project made once per session.

The house rules enforced by every case: bad input gets one line naming the file and the problem and exit code 2, and
nothing is lost; a partly bad dataset goes on and the report lists what was dropped and why; never a traceback, never
a number that is silently wrong, never a file written outside the project.

Test modules import these helpers as ``from bad_inputs_conftest import ...`` (this module registers itself under that
name; with ``--import-mode=importlib`` a conftest is not importable by its file name), and the input builders from
``hostile_inputs`` (next to this file, put on ``sys.path`` here).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

sys.modules.setdefault("bad_inputs_conftest", sys.modules[__name__])
HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import hostile_inputs as hi

# `segwb: error: ...` from the CLI; argparse's own refusals read `segwb tutorial semantic: error: ...`.
ERROR_LINE = re.compile(r"^segwb(?: [\w-]+)*: error: ")
FRAME_LINE = re.compile(r'^\s*File ".*", line \d+')


class Hang(BaseException):
    """Raised by the alarm of :func:`run_cli` when a command runs past its time limit (never caught by segwb)."""


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str
    seconds: float
    argv: list[str] = field(default_factory=list)
    internal: str | None = None  # a non-SegwbError the CLI's error boundary turned into a line: where it rose

    @property
    def lines(self) -> list[str]:
        return [ln for ln in self.stderr.splitlines() if ln.strip()]

    def describe(self) -> str:
        tail = "\n".join(self.lines[-6:])
        where = f"\nnot a segwb error: {self.internal}" if self.internal else ""
        return f"exit {self.code} after {self.seconds:.1f} s; stderr ends:\n{tail}{where}"


def _last_frame(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "?"
    f = frames[-1]
    return f"{Path(f.filename).name}:{f.lineno} in {f.name}: {f.line}"


def run_cli(argv: Sequence[str], cwd: Path | None = None, timeout: float = 90.0) -> tuple[int, str, str]:
    """``segwb.cli.main(argv)`` in-process with stdout and stderr captured; an exception escaping ``main`` fails the
    test ("traceback: ..."), as does running past ``timeout`` seconds ("hang"). Returns (code, stdout, stderr)."""
    result = _run_in_process(list(map(str, argv)), cwd, timeout)
    return result.code, result.stdout, result.stderr


def _run_in_process(argv: list[str], cwd: Path | None, timeout: float) -> Result:
    from segwb import cli

    out, err = io.StringIO(), io.StringIO()
    # The CLI logs through logging.basicConfig, which does nothing under pytest (whose capture handler is on the root
    # logger already): give the root logger the CLI's handler on our stderr for the duration of the call.
    handler = logging.StreamHandler(err)
    handler.setFormatter(logging.Formatter("segwb: %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    old_cwd = os.getcwd()

    def alarm(signum: int, frame: Any) -> None:
        raise Hang()

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    start = time.perf_counter()
    escaped: BaseException | None = None
    code: int = -1
    internal: list[str] = []
    env = dict(os.environ)
    # The CLI turns unexpected exceptions into one "internal error" line; note where they rose, for the failure text.
    original_describe = getattr(cli, "describe", None)

    def describe(exc: BaseException, *args: Any, **kwargs: Any) -> Any:
        from segwb.core.errors import SegwbError

        message = original_describe(exc, *args, **kwargs)
        if not isinstance(exc, SegwbError):  # caught by the boundary, not raised on purpose by segwb
            internal.append(f"{type(exc).__name__} at {_last_frame(exc)}")
        return message

    patch = (mock.patch.object(cli, "describe", describe) if callable(original_describe)
             else contextlib.nullcontext())
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), patch:
            try:
                code = cli.main(argv)
            except SystemExit as exc:  # argparse refusals
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
            except Hang:
                escaped = Hang()
            except BaseException as exc:  # noqa: BLE001 - anything else escaping main is the failure we look for
                escaped = exc
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        os.chdir(old_cwd)
        root.removeHandler(handler)
        root.setLevel(old_level)
        for key in set(os.environ) - set(env):  # main() may export settings (e.g. SEGWB_MAX_MEGAPIXELS): not to
            del os.environ[key]                 # leak into the next in-process case
        os.environ.update(env)
    seconds = time.perf_counter() - start
    if isinstance(escaped, Hang):
        pytest.fail(f"hang: `segwb {' '.join(argv[:2])}` still running after {timeout:.0f} s; stderr ends: "
                    f"{err.getvalue().splitlines()[-3:]}", pytrace=False)
    if escaped is not None:
        pytest.fail(f"traceback: {type(escaped).__name__}: {str(escaped).splitlines()[0] if str(escaped) else ''} "
                    f"(last frame {_last_frame(escaped)})", pytrace=False)
    where = internal[-1] if internal else None
    return Result(code, out.getvalue(), err.getvalue(), seconds, argv, internal=where)


def assert_clean_failure(code: int, stderr: str, names: Iterable[str | tuple[str, ...]]) -> None:
    """Exit code 2; no traceback; the last stderr line is the one error line (earlier lines may be log warnings, or
    argparse's usage); it names every entry of ``names`` (a tuple there: any one of its alternatives)."""
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert not any("Traceback" in ln or FRAME_LINE.match(ln) for ln in lines), "traceback on stderr:\n" + stderr[-2000:]
    assert code == 2, f"exit code {code}, expected 2 (refused); stderr ends: {lines[-4:]}"
    assert lines, "exit code 2 without any message"
    errors = [ln for ln in lines if ERROR_LINE.match(ln)]
    assert len(errors) == 1, f"expected exactly one 'segwb: error:' line, got {len(errors)}: {errors or lines[-4:]}"
    assert lines[-1] == errors[0], f"the error is not the last line: {lines[-3:]}"
    assert "\x1b" not in lines[-1] and "\r" not in lines[-1], f"control characters in the error line: {lines[-1]!r}"
    for name in names:
        alternatives = (name,) if isinstance(name, str) else tuple(name)
        assert any(alt in lines[-1] for alt in alternatives), \
            f"the error line does not name {' or '.join(map(repr, alternatives))}: {lines[-1]!r}"


def assert_went_on(result: Result) -> None:
    """Exit code 0, no traceback, no error line: a partly bad input is not a reason to stop."""
    assert not any("Traceback" in ln or FRAME_LINE.match(ln) for ln in result.lines), \
        "traceback on stderr:\n" + result.stderr[-2000:]
    errors = [ln for ln in result.lines if ERROR_LINE.match(ln)]
    assert result.code == 0 and not errors, f"expected the run to go on (exit 0): {result.describe()}"


def no_nan_json(path: Path) -> Any:
    """A JSON file read strictly: NaN and Infinity are silently wrong numbers, not JSON."""
    def refuse(token: str) -> Any:
        raise AssertionError(f"{path.name} holds {token}")

    return json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse)


def dropped_text(report: dict[str, Any]) -> str:
    """``report.json``'s ``dataset.dropped`` as one searchable string, after checking each record's shape."""
    dropped = report["dataset"].get("dropped")
    assert isinstance(dropped, list), f"dataset.dropped is {dropped!r}"
    for record in dropped:
        assert {"what", "reason", "count", "examples"} <= set(record), f"dropped record lacks keys: {record}"
        assert isinstance(record["count"], int) and record["count"] >= 1 and str(record["reason"]).strip(), record
    return json.dumps(dropped, ensure_ascii=False)


def assert_dropped(report: dict[str, Any], *names: str | tuple[str, ...]) -> None:
    """``dataset.dropped`` lists every one of ``names`` (a tuple: any of its alternatives) with a reason."""
    text = dropped_text(report)
    for name in names:
        alternatives = (name,) if isinstance(name, str) else tuple(name)
        assert any(alt in text for alt in alternatives), \
            f"dataset.dropped does not list {' or '.join(map(repr, alternatives))}: {text[:600]}"


# --- file-system snapshots --------------------------------------------------------------------------------------------

Entry = tuple[Any, ...]


def snapshot(roots: Iterable[Path], exclude: Iterable[Path] = ()) -> dict[str, Entry]:
    """Every file and folder under ``roots`` (links not followed): path → (size, mtime_ns, sha256), or ("dir",) /
    ("link", target); paths under ``exclude`` are left out."""
    skipped = [Path(os.path.abspath(p)) for p in exclude]
    found: dict[str, Entry] = {}
    for root in roots:
        root = Path(os.path.abspath(root))
        if not root.exists():
            continue
        for folder, dirs, files in os.walk(root):
            here = Path(folder)
            dirs[:] = [d for d in dirs if not any(_under(here / d, s) for s in skipped)]
            for name in dirs + files:
                path = here / name
                if any(_under(path, s) for s in skipped):
                    continue
                found[str(path)] = _entry(path)
    return found


def _under(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _entry(path: Path) -> Entry:
    st = os.lstat(path)
    if os.path.islink(path):
        return ("link", os.readlink(path))
    if os.path.isdir(path):
        return ("dir",)
    if not os.path.isfile(path):
        return ("special", st.st_mode)
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return (st.st_size, st.st_mtime_ns, h.hexdigest())


def changes(before: dict[str, Entry], after: dict[str, Entry]) -> list[str]:
    out = [f"added {p}" for p in sorted(after.keys() - before.keys())]
    out += [f"removed {p}" for p in sorted(before.keys() - after.keys())]
    out += [f"changed {p}" for p in sorted(before.keys() & after.keys()) if before[p] != after[p]]
    return out


# --- the scratch area of one case ---------------------------------------------------------------------------------------

def log_case(result: Result) -> None:
    """With ``$SEGWB_CORPUS_LOG``, append the case, its exit code and its last stderr line there (JSON lines): the
    corpus's own record of what each bad input makes segwb say."""
    target = os.environ.get("SEGWB_CORPUS_LOG")
    if target:
        last = next((ln for ln in reversed(result.stderr.splitlines()) if ln.strip()), "")
        case = os.environ.get("PYTEST_CURRENT_TEST", "?").rsplit(" ", 1)[0]
        with open(target, "a", encoding="utf-8") as f:
            f.write(json.dumps({"case": case, "code": result.code, "last": last}) + "\n")


@dataclass
class Scratch:
    """One case's scratch root (``tmp_path``): inputs under ``model/`` and ``data/``, the project at ``project/``,
    the working folder ``work/``, and the sentinel ``victim/`` (a photo and a text file) that must be byte-identical
    after every command. ``watched`` are further folders (the session's baseline inputs) that must not change."""

    root: Path
    cache: Path
    watched: list[Path] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.victim = self.root / "victim"
        self.project = self.root / "project"
        self.work = self.root / "work"
        self.models = self.root / "model"
        self.data = self.root / "data"
        for folder in (self.victim, self.work, self.models, self.data):
            folder.mkdir(parents=True, exist_ok=True)
        hi.write_photo(self.victim / "photo.jpg", seed=99)
        (self.victim / "notes.txt").write_text("the user's own file: segwb must never touch it\n")
        self.sentinel = {p.name: p.read_bytes() for p in self.victim.iterdir()}

    def run(self, argv: Sequence[str], *, allowed: Iterable[Path] | None = None, cwd: Path | None = None,
            timeout: float = 90.0) -> Result:
        """Run ``segwb argv`` in-process; fail if anything outside ``allowed`` (default: the project folder) changed
        under the scratch root or the watched folders, or if the sentinel differs."""
        allowed = [self.project] if allowed is None else list(allowed)
        roots = [self.root, *self.watched]
        exclude = [self.cache, *allowed]
        before = snapshot(roots, exclude)
        result = _run_in_process([str(a) for a in argv], cwd or self.work, timeout)
        self.check_untouched(before, roots, exclude, result)
        log_case(result)
        return result

    def run_subprocess(self, argv: Sequence[str], *, allowed: Iterable[Path] | None = None,
                       timeout: float = 120.0) -> Result:
        """``python -m segwb argv`` as a child process (what the shell runs); the same snapshot checks as :meth:`run`."""
        allowed = [self.project] if allowed is None else list(allowed)
        roots = [self.root, *self.watched]
        exclude = [self.cache, *allowed]
        before = snapshot(roots, exclude)
        start = time.perf_counter()
        try:
            proc = subprocess.run([sys.executable, "-m", "segwb", *map(str, argv)], check=False, cwd=self.work,
                                  capture_output=True, text=True, timeout=timeout, env={**os.environ})
        except subprocess.TimeoutExpired:
            pytest.fail(f"hang: `python -m segwb {' '.join(map(str, argv[:2]))}` still running after {timeout:.0f} s",
                        pytrace=False)
        seconds = time.perf_counter() - start
        result = Result(proc.returncode, proc.stdout, proc.stderr, seconds, list(map(str, argv)))
        self.check_untouched(before, roots, exclude, result)
        log_case(result)
        return result

    def check_untouched(self, before: dict[str, Entry], roots: list[Path], exclude: list[Path], result: Result) -> None:
        diff = changes(before, snapshot(roots, exclude))
        assert not diff, ("files outside the project changed:\n  " + "\n  ".join(diff[:12])
                          + f"\n{result.describe()}")
        now = {p.name: p.read_bytes() for p in self.victim.iterdir()} if self.victim.is_dir() else {}
        assert now == self.sentinel, "the sentinel folder victim/ changed"

    def refused(self, argv: Sequence[str], *names: str | tuple[str, ...], early: bool = False,
                **kwargs: Any) -> Result:
        """Run and assert a clean refusal naming ``names``; with ``early``, that no long step (quantize and after) had
        run: the refusal came before any long work (speed itself is a benchmark's to measure, not a test's)."""
        steps = self.project / "steps"

        def long_steps() -> list[str]:
            return sorted(p.name for p in steps.glob("*.json") if p.stem != "import") if steps.is_dir() else []

        had_steps = long_steps()
        result = self.run(argv, **kwargs)
        try:
            assert_clean_failure(result.code, result.stderr, names)
        except AssertionError as exc:
            if result.internal:
                raise AssertionError(f"{exc}\nnot a segwb error: {result.internal}") from None
            raise
        if early:
            assert long_steps() == had_steps, f"refused only after long steps ran: {long_steps()}"
        return result

    def went_on(self, argv: Sequence[str], **kwargs: Any) -> tuple[Result, dict[str, Any]]:
        """Run, assert it went on, and return the result with the project's ``report.json`` (read strictly)."""
        result = self.run(argv, **kwargs)
        assert_went_on(result)
        report_path = Path(kwargs.get("allowed", [self.project])[0]) / "report.json"
        return result, no_nan_json(report_path)


@pytest.fixture
def scratch(tmp_path: Path, isolated_cache: Path, baseline_inputs_dir: Path) -> Scratch:
    return Scratch(tmp_path, isolated_cache, watched=[baseline_inputs_dir])


@pytest.fixture(scope="session", autouse=True)
def _warm_imports() -> None:
    """Import the heavy modules once, so that the time limits of quick refusals do not count OpenVINO's start."""
    import segwb.cli.commands
    import segwb.tutorial.run  # noqa: F401


# --- a good tiny project, made once per session ----------------------------------------------------------------------

@dataclass(frozen=True)
class Baseline:
    """A finished semantic tutorial on the tiny model and two photos: its inputs (never to be changed by a case) and
    its project folder, which cases copy (:meth:`copy_project`) and attack."""

    model: Path
    dataset: Path
    project: Path
    report: dict[str, Any]

    def argv(self, out: Path, *extra: str) -> list[str]:
        return ["tutorial", "semantic", "--model", str(self.model), "--dataset", str(self.dataset), "--out", str(out),
                *hi.FAST, *extra]

    def copy_project(self, dest: Path) -> Path:
        shutil.copytree(self.project, dest, symlinks=True)
        return dest


@pytest.fixture(scope="session")
def baseline_inputs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("baseline-inputs")


@pytest.fixture(scope="session")
def baseline(baseline_inputs_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Baseline:
    inputs = baseline_inputs_dir
    project = tmp_path_factory.mktemp("baseline-project") / "project"
    model = hi.write_semantic(inputs / "model")
    dataset = hi.write_photos(inputs / "photos", 2)
    base = Baseline(model, dataset, project, {})
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEGWB_CACHE", str(tmp_path_factory.mktemp("baseline-cache")))
        code, _, err = run_cli(base.argv(project), cwd=inputs)
    assert code == 0, f"the good baseline tutorial failed:\n{err[-3000:]}"
    return Baseline(model, dataset, project, no_nan_json(project / "report.json"))


@pytest.fixture(scope="session")
def baseline_archive(baseline: Baseline, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``segwb export`` of the baseline project (a good archive to tamper with)."""
    out = tmp_path_factory.mktemp("baseline-archive") / "project.tar.gz"
    copy = baseline.copy_project(tmp_path_factory.mktemp("baseline-export") / "project")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEGWB_CACHE", str(tmp_path_factory.mktemp("archive-cache")))
        code, _, err = run_cli(["export", "--project", str(copy), "--out", str(out)])
    assert code == 0, f"exporting the baseline failed:\n{err[-3000:]}"
    return out


def without_timings(report: dict[str, Any]) -> dict[str, Any]:
    """A report without what legitimately changes from run to run: timings and which steps were reused."""
    return {k: v for k, v in report.items() if k not in ("wall_seconds", "report_seconds", "steps_cached")}


def finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


@contextlib.contextmanager
def watching_reads(prefix: str) -> Iterator[list[str]]:
    """Record the paths under ``prefix`` that the process opens or lists while the block runs (audit hooks)."""
    seen: list[str] = []
    _AUDIT["active"] = (prefix, seen)
    try:
        yield seen
    finally:
        _AUDIT["active"] = None


_AUDIT: dict[str, Any] = {"active": None}


def _audit(event: str, args: tuple[Any, ...]) -> None:
    active = _AUDIT["active"]
    if active is None or event not in ("open", "os.scandir", "os.listdir", "os.walk", "glob.glob"):
        return
    prefix, seen = active
    try:
        target = os.fsdecode(args[0]) if args and isinstance(args[0], (str, bytes, os.PathLike)) else ""
    except Exception:  # noqa: BLE001 - an audit hook must never raise
        return
    if target and os.path.abspath(target).startswith(prefix):
        seen.append(f"{event} {target}")


sys.addaudithook(_audit)


# --- command lines ------------------------------------------------------------------------------------------------------

def semantic_argv(out: Path, model: Path | str, dataset: Path | str, *extra: str) -> list[str]:
    """``segwb tutorial semantic`` with the quick settings."""
    return ["tutorial", "semantic", "--model", str(model), "--dataset", str(dataset), "--out", str(out), *hi.FAST,
            *extra]


def instance_argv(out: Path, model: Path | str, dataset: Path | str, *extra: str) -> list[str]:
    """``segwb tutorial instance`` with the quick settings."""
    return ["tutorial", "instance", "--model", str(model), "--dataset", str(dataset), "--out", str(out), *hi.FAST,
            *extra]


@pytest.fixture
def photos(scratch: Scratch) -> Path:
    """Two good photos in ``data/photos``."""
    return hi.write_photos(scratch.data / "photos", 2)


@pytest.fixture
def semantic_model(scratch: Scratch) -> Path:
    """The tiny 3-class model with its labels and card in ``model/``."""
    return hi.write_semantic(scratch.models)


SCRIPT_BLOCK = re.compile(r"<script\b[^>]*>.*?</script\s*>", re.DOTALL | re.IGNORECASE)


def assert_html_inert(page: Path, marker: str = "onerror=alert(1)") -> None:
    """A name carrying markup is text on the page: outside <script> blocks ``marker`` appears only escaped, and the
    page's JSON data blocks still parse (a ``</script>`` in a name did not end them early)."""
    html = page.read_text(encoding="utf-8")
    outside = SCRIPT_BLOCK.sub("", html)
    assert "<img src=x " not in outside.lower(), f"{page.name}: a file name became an <img> tag"
    for block in re.finditer(r'<script type="application/json"[^>]*>(.*?)</script>', html, re.DOTALL):
        json.loads(block.group(1))
