"""How fast the metric engine and the COCO view are on the synthetic COCO-val-sized workload.

    python -m bench.metrics [--images 5000] [--kinds box,polygon,mask] [--no-references]

Not a test: it prints one table. In the same run and on the same data it times
pycocotools' COCOeval (evaluate + accumulate + summarize) and faster-coco-eval's
COCOeval_faster (its one evaluation), then ours:

- the engine's full 11×11 grid (build the columns, match at 11 confidence thresholds, cut
  at 11 IoU thresholds), after a warm-up so that no compilation is timed;
- `modelledger evaluate` end to end, as a user runs it on NDJSON files (reading included),
  for the grid and with --coco;
- `evaluate_coco`, whose 12 numbers are also compared with both references.

Every step but the command runs in a forked child, so each one starts from the same memory
and its peak can be read: "peak MB" is how far the child's resident memory rose above what
it held at the start (the inputs already in memory); for the command, its own peak. Times
are wall-clock seconds, best of --repeat for our steps; CPU seconds beside them show how
busy the machine was. For masks and polygons the references receive predictions already
as RLE (what COCO.loadRes takes), so their rasterisation is not in their time, while ours
(from polygons) is.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from contextlib import redirect_stdout
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

from bench.workloads import HEIGHT, KINDS, WIDTH, Kind, Rows, Workload, generate
from domain.metrics.coco.evaluation import COCO_KEYS, IouType, evaluate_coco

THRESHOLDS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
REPOSITORY = Path(__file__).resolve().parents[1]
PYCOCOTOOLS, FASTER = "pycocotools COCOeval", "faster-coco-eval"
COMMAND_COCO = "modelledger evaluate --coco"


@dataclass(frozen=True)
class Measurement:
    seconds: float
    cpu: float
    peak_mb: float
    value: Any = None
    error: str | None = None


@dataclass(frozen=True)
class Row:
    kind: str
    step: str
    measurement: Measurement


def _resident_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def forked(step: Callable[[Any], Any], prepare: Callable[[], Any] = lambda: None) -> Measurement:
    """Runs `step(prepare())` in a child process; only `step` is timed."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: measure, send the measurement, leave without cleanup
        os.close(read_end)
        try:
            try:  # restart the high-water mark at the current size (Linux)
                with open("/proc/self/clear_refs", "w") as clear:
                    clear.write("5")
            except OSError:
                pass
            start_mb = _resident_mb()
            state = prepare()
            wall, cpu = time.perf_counter(), time.process_time()
            value = step(state)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            result = Measurement(wall, cpu, _peak_mb() - start_mb, value)
        except BaseException:
            result = Measurement(0.0, 0.0, 0.0, None, traceback.format_exc(limit=4))
        with os.fdopen(write_end, "wb") as pipe:
            pickle.dump(result, pipe)
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    return pickle.loads(data)


def best_of(repeat: int, step: Callable[[], Any]) -> Measurement:
    runs = [forked(lambda _: step()) for _ in range(repeat)]
    return min(runs, key=lambda m: m.seconds if m.error is None else float("inf"))


# ----------------------------------------------------------------------------- references


def _quiet(function: Callable[[], Any]) -> Any:
    with redirect_stdout(StringIO()):
        return function()


def pycocotools_step(
    dataset: dict[str, Any], results: list[dict[str, Any]], iou_type: str
) -> Measurement:
    def prepare() -> Any:
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval

        def load() -> Any:
            gt = COCO()
            gt.dataset = dataset
            gt.createIndex()
            return COCOeval(gt, gt.loadRes(results), iou_type)

        return _quiet(load)

    def run(evaluation: Any) -> list[float]:
        _quiet(lambda: (evaluation.evaluate(), evaluation.accumulate(), evaluation.summarize()))
        return [float(v) for v in evaluation.stats]

    return forked(run, prepare)


def faster_step(
    dataset: dict[str, Any], results: list[dict[str, Any]], iou_type: str
) -> Measurement:
    def prepare() -> Any:
        from faster_coco_eval import COCO, COCOeval_faster

        gt = COCO(dataset)
        return COCOeval_faster(gt, gt.loadRes(results), iou_type, print_function=lambda *_: None)

    def run(evaluation: Any) -> list[float]:
        _quiet(lambda: (evaluation.evaluate(), evaluation.accumulate(), evaluation.summarize()))
        return [float(v) for v in evaluation.stats]

    return forked(run, prepare)


# ----------------------------------------------------------------------------- ours


def engine_grid(ground_truth: Rows, predictions: Rows) -> dict[str, float]:
    """The full grid through the engine's public API; returns a few totals and part times."""
    from domain.metrics import build_objects, grid, match

    keys = list(ground_truth)
    start = time.perf_counter()
    objects = build_objects([ground_truth[k] for k in keys], [predictions[k] for k in keys])
    built = time.perf_counter()
    table = grid(match(objects, THRESHOLDS), THRESHOLDS)
    done = time.perf_counter()
    tp = table.per_feature.tp
    return {
        "columns s": built - start,
        "match+grid s": done - built,
        "tp at (0.5, 0.5)": int(tp[5, 5].sum()),
    }


def engine_available() -> str | None:
    """None when the engine's public API is importable, else why not."""
    try:
        from domain.metrics import build_objects, grid, match  # noqa: F401
    except ImportError as exc:
        return f"engine API not importable: {exc}"
    return None


def command() -> list[str]:
    """The installed `modelledger` script, else what it runs (the project not installed)."""
    script = Path(sys.executable).with_name("modelledger")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from cli.main import app; sys.exit(app())"]


# Started from the big bench process, the command would inherit its memory high-water mark
# (Linux counts the forking parent's peak in the child's maxrss). A small launcher process
# starts it instead and reports its time, CPU time, peak and exit code on one line.
_LAUNCHER = """
import json, os, subprocess, sys, time
start = time.perf_counter()
process = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(process.pid, 0)
print(json.dumps([time.perf_counter() - start, usage.ru_utime + usage.ru_stime,
                  usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)]))
"""


def command_step(arguments: Sequence[str], output: Path | None = None) -> Measurement:
    """`modelledger evaluate …` in a subprocess: wall time, CPU time, its peak memory, and
    the JSON it wrote to `output` when given."""
    launched = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, *command(), "evaluate", *arguments],
        cwd=REPOSITORY,
        capture_output=True,
        check=False,
    )
    wall, cpu, peak_mb, code = json.loads(launched.stdout.splitlines()[-1])
    error = launched.stderr.decode(errors="replace").strip()[-600:] or "failed"
    failed = error if code else None
    value = json.loads(output.read_bytes()) if output is not None and not failed else None
    return Measurement(wall, cpu, peak_mb, value, failed)


def warm_up(kind: Kind, with_engine: bool) -> None:
    """Compile (or load compiled) kernels on a few images, so no timing includes that."""
    ground_truth, predictions = generate(3).annotations(kind)
    evaluate_coco(ground_truth, predictions, "bbox" if kind == "box" else "segm")
    if with_engine:
        engine_grid(ground_truth, predictions)


def measure_kind(workload: Workload, kind: Kind, args: argparse.Namespace) -> list[Row]:
    iou_type = "bbox" if kind == "box" else "segm"
    rows: list[Row] = []
    if not args.no_references:
        dataset, results = workload.coco(kind)
        rows.append(Row(kind, PYCOCOTOOLS, pycocotools_step(dataset, results, iou_type)))
        rows.append(Row(kind, FASTER, faster_step(dataset, results, iou_type)))
        del dataset, results
    rows.extend(in_memory_steps(workload, kind, args.repeat))
    if not args.no_command:
        rows.extend(command_steps(workload, kind))
    return rows


def in_memory_steps(workload: Workload, kind: Kind, repeat: int) -> list[Row]:
    iou_type: IouType = "bbox" if kind == "box" else "segm"
    missing_engine = engine_available()
    warm_up(kind, missing_engine is None)
    ground_truth, predictions = workload.annotations(kind)
    sizes = {key: (HEIGHT, WIDTH) for key in ground_truth}
    coco = best_of(
        repeat, lambda: evaluate_coco(ground_truth, predictions, iou_type, image_sizes=sizes)
    )
    if missing_engine is None:
        engine = best_of(repeat, lambda: engine_grid(ground_truth, predictions))
    else:
        engine = Measurement(0, 0, 0, None, missing_engine)
    return [Row(kind, "evaluate_coco", coco), Row(kind, "engine grid 11×11", engine)]


def command_steps(workload: Workload, kind: Kind) -> list[Row]:
    with tempfile.TemporaryDirectory() as folder:
        gt_path, pred_path = Path(folder, "gt.ndjson"), Path(folder, "pred.ndjson")
        gt_lines, pred_lines = workload.ndjson(kind)
        gt_path.write_bytes(b"\n".join(gt_lines) + b"\n")
        pred_path.write_bytes(b"\n".join(pred_lines) + b"\n")
        del gt_lines, pred_lines
        files = ["--ground-truth", str(gt_path), "--predictions", str(pred_path)]
        thresholds = ",".join(map(str, THRESHOLDS))
        grid_arguments = [
            *files,
            "--confidence-thresholds",
            thresholds,
            "--iou-thresholds",
            thresholds,
            "--output",
            str(Path(folder, "out.json")),
        ]
        command_step(grid_arguments)  # warms the compiled-kernel cache and the file cache
        coco_output = Path(folder, "coco.json")
        coco_arguments = [*files, "--coco", "--output", str(coco_output)]
        return [
            Row(kind, "modelledger evaluate", command_step(grid_arguments)),
            Row(kind, COMMAND_COCO, command_step(coco_arguments, coco_output)),
        ]


# ----------------------------------------------------------------------------- report


HEADER = (
    f"{'kind':<8}{'step':<30}{'wall s':>9}{'cpu s':>9}{'× pycoco':>10}{'× faster':>10}"
    f"{'peak MB':>10}  notes"
)


def print_kind(kind: str, mine: list[Row]) -> None:
    """One kind's rows; "× pycoco" is pycocotools' seconds over the row's (a speed-up)."""
    reference = {r.step: r.measurement.seconds for r in mine if r.measurement.error is None}
    for row in mine:
        m = row.measurement
        if m.error is not None:
            print(f"{kind:<8}{row.step:<30}{'—':>9}  {m.error.strip().splitlines()[-1]}")
            continue
        speedups = [
            f"{reference[name] / m.seconds:>9.1f}×"
            if name in reference and m.seconds
            else f"{'':>10}"
            for name in (PYCOCOTOOLS, FASTER)
        ]
        notes = ""
        if isinstance(m.value, dict) and "columns s" in m.value:
            notes = ", ".join(
                f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}" for k, v in m.value.items()
            )
        print(
            f"{kind:<8}{row.step:<30}{m.seconds:>9.2f}{m.cpu:>9.2f}{''.join(speedups)}"
            f"{m.peak_mb:>10.0f}  {notes}"
        )
    print_agreement(mine)
    sys.stdout.flush()


def print_agreement(rows: list[Row]) -> None:
    values = {r.step: r.measurement.value for r in rows if r.measurement.error is None}
    theirs = values.get(PYCOCOTOOLS)
    if theirs is None:
        return
    differences = []
    for step in ("evaluate_coco", COMMAND_COCO, FASTER):
        value = values.get(step)
        if value is not None:
            numbers = [value[k] for k in COCO_KEYS] if isinstance(value, dict) else value
            gap = max(abs(a - b) for a, b in zip(numbers, theirs, strict=True))
            differences.append(f"{step} {gap:.1e}")
    print(f"{'':<8}max |x − pycocotools| over the 12 numbers: {'; '.join(differences)}")
    print(f"{'':<8}pycocotools: AP {theirs[0]:.4f}  AP50 {theirs[1]:.4f}  AR100 {theirs[8]:.4f}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.metrics", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--images", type=int, default=5000, help="images in the workload")
    parser.add_argument("--kinds", default=",".join(KINDS), help="box,polygon,mask (any subset)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of our steps; the best counts")
    parser.add_argument(
        "--no-references", action="store_true", help="skip pycocotools and faster-coco-eval"
    )
    parser.add_argument("--no-command", action="store_true", help="skip `modelledger evaluate`")
    args = parser.parse_args(argv)
    names = [k for k in args.kinds.split(",") if k]
    unknown = set(names) - set(KINDS)
    if unknown:
        parser.error(f"unknown kinds: {sorted(unknown)}")
    kinds = [k for k in KINDS if k in names]

    started = time.perf_counter()
    workload = generate(args.images)
    print(f"workload: {workload.describe()}; generated in {time.perf_counter() - started:.1f} s")
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start\n")
    print(HEADER, flush=True)
    for kind in kinds:
        print_kind(kind, measure_kind(workload, kind, args))
    print(
        f"\nload average {os.getloadavg()[0]:.1f} at the end; "
        f"bench ran {time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
