"""Benchmark the QĐ 130 parser + validator against a plain-lxml ceiling on the same file.

    .venv/bin/python bench/parse.py                      # 5,000 visits, ~10 drugs / 15 services / 20 results each
    .venv/bin/python bench/parse.py --visits 20000 --repeat 3 --encoding embedded
    .venv/bin/python bench/parse.py --sparse             # empty elements left out (some HIS do that)

The file is generated once into a temporary directory. Each measurement runs in a fresh child process (so its
peak RSS is its own) and the best of ``--repeat`` runs is reported. Rates are per CPU second of that process
(robust when the machine is shared); wall-clock rates are shown in brackets:

* ceiling: lxml ``iterparse`` of the envelope, base64-decode each NOIDUNGFILE, ``etree.fromstring`` it and turn
  every record into ``{tag: stripped text}`` — the least any reader must do, without hardening or validation;
* parse: ``iter_visits`` alone (hardened, limits, raw documents);
* parse+validate: ``iter_visits`` + ``validate_visit`` — the figure the loader builds on.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "soskdt.settings")

SINGLE = ("XML1", "XML7", "XML8", "XML13", "XML14")


def _setup() -> None:
    import django

    django.setup()


def generate(
    path: Path,
    *,
    visits: int,
    drugs: int,
    services: int,
    results: int,
    encoding: str,
    sparse: bool,
    seed: int,
) -> dict[str, float]:
    from soskdt.ingestion import samples

    rng = random.Random(seed)
    # A pool of distinct visits written round-robin keeps generation fast; MA_LK repeats are harmless here.
    pool = [
        samples.random_visit(
            rng, kind=samples.KINDS[i % len(samples.KINDS)], drugs=drugs, services=services, results=results
        )
        for i in range(min(visits, 500))
    ]
    tables = [samples.visit_tables(v, "79048") for v in pool]
    if sparse:
        tables = [
            {t: [{k: v for k, v in row.items() if v} for row in rows] for t, rows in tab.items()}
            for tab in tables
        ]
    started = time.perf_counter()
    with path.open("wb") as handle:
        samples.write_envelope(
            handle, "79048", (tables[i % len(tables)] for i in range(visits)), count=visits, encoding=encoding
        )  # type: ignore[arg-type]
    items = sum(len(tab.get(t, ())) for tab in tables for t in ("XML2", "XML3", "XML4")) / len(tables)
    fields = sum(len(row) for tab in tables for rows in tab.values() for row in rows) / len(tables)
    return {"seconds": time.perf_counter() - started, "items_per_visit": items, "elements_per_visit": fields}


def run_ceiling(path: Path) -> dict[str, float]:
    from lxml import etree

    started, cpu = time.perf_counter(), time.process_time()
    visits = items = 0
    for _event, hoso in etree.iterparse(str(path), events=("end",), tag="HOSO"):
        for filehoso in hoso:
            kind = filehoso.findtext("LOAIHOSO") or ""
            content = filehoso.find("NOIDUNGFILE")
            if content is None:
                continue
            root = content[0] if len(content) else etree.fromstring(base64.b64decode(content.text or ""))
            records = (
                [root]
                if kind in SINGLE
                else list(root.iter(root[0][0].tag if len(root) and len(root[0]) else "*"))
            )
            rows = [{c.tag: (c.text or "").strip() for c in record} for record in records]
            if kind in ("XML2", "XML3", "XML4"):
                items += len(rows)
        visits += 1
        hoso.clear()
        while hoso.getprevious() is not None:
            del hoso.getparent()[0]
    return {
        "seconds": time.perf_counter() - started,
        "cpu": time.process_time() - cpu,
        "visits": visits,
        "items": items,
    }


def run_ours(path: Path, validate: bool, shard: tuple[int, int] | None = None) -> dict[str, float]:
    _setup()
    import datetime as dt

    from soskdt.ingestion.parser import iter_visits
    from soskdt.ingestion.records import ParsedVisit
    from soskdt.ingestion.validation import validate_visit

    today = dt.date(2026, 6, 1)
    started, cpu = time.perf_counter(), time.process_time()
    visits = items = errors = problems = 0
    only = (lambda i: i % shard[1] == shard[0]) if shard else None
    for item in iter_visits(path, only=only):
        if isinstance(item, ParsedVisit):
            visits += 1
            items += len(item.rows("XML2")) + len(item.rows("XML3")) + len(item.rows("XML4"))
            if validate:
                checked = validate_visit(item, today=today)
                errors += len(checked.errors)
        else:
            problems += 1
    return {
        "seconds": time.perf_counter() - started,
        "cpu": time.process_time() - cpu,
        "visits": visits,
        "items": items,
        "errors": errors,
        "problems": problems,
    }


def worker(mode: str, path: Path, shard: tuple[int, int] | None = None) -> None:
    result = (
        run_ceiling(path) if mode == "ceiling" else run_ours(path, validate=mode == "validate", shard=shard)
    )
    result["peak_rss_mb"] = _peak_rss_mb()
    print(json.dumps(result))


def _peak_rss_mb() -> float:
    # VmHWM is this process's own peak; ru_maxrss would include the parent's peak carried across exec.
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(mode: str, path: Path, repeat: int) -> dict[str, float]:
    best: dict[str, float] | None = None
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, __file__, "--worker", mode, str(path)],
            check=True,
            capture_output=True,
            text=True,
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
        if best is None or result["cpu"] < best["cpu"]:
            best = result
    assert best is not None
    return best


def measure_shared(path: Path, workers: int) -> dict[str, float]:
    """Wall-clock throughput of ``workers`` concurrent processes, each reading every workers-th HOSO."""
    started = time.perf_counter()
    children = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker", "validate", str(path), str(k), str(workers)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for k in range(workers)
    ]
    results = [json.loads(child.communicate()[0].strip().splitlines()[-1]) for child in children]
    return {
        "seconds": time.perf_counter() - started,
        "visits": sum(r["visits"] for r in results),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in results),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--visits", type=int, default=5000)
    parser.add_argument("--drugs", type=int, default=10)
    parser.add_argument("--services", type=int, default=15)
    parser.add_argument("--results", type=int, default=20)
    parser.add_argument("--encoding", choices=("base64", "embedded", "escaped", "cdata"), default="base64")
    parser.add_argument("--sparse", action="store_true", help="leave empty elements out")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=130)
    parser.add_argument("--keep", type=Path, help="write the file here instead of a temporary directory")
    parser.add_argument(
        "--workers", type=int, default=2, help="also time this many processes sharing the file"
    )
    parser.add_argument("--worker", nargs="+", metavar="ARG", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        shard = (int(args.worker[2]), int(args.worker[3])) if len(args.worker) == 4 else None
        worker(args.worker[0], Path(args.worker[1]), shard)
        return
    _setup()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "bench.xml"
        gen = generate(
            path,
            visits=args.visits,
            drugs=args.drugs,
            services=args.services,
            results=args.results,
            encoding=args.encoding,
            sparse=args.sparse,
            seed=args.seed,
        )
        size_mb = path.stat().st_size / 1e6
        print(
            f"file: {args.visits} visits, {size_mb:.1f} MB ({args.encoding}{', sparse' if args.sparse else ''}), "
            f"{gen['items_per_visit']:.0f} line items and {gen['elements_per_visit']:.0f} field elements per visit; "
            f"generated in {gen['seconds']:.1f} s"
        )
        figures = {mode: measure(mode, path, args.repeat) for mode in ("ceiling", "parse", "validate")}
        shared = measure_shared(path, args.workers) if args.workers > 1 else None
    # Rates per CPU second of the measuring process (the machine may be shared); wall-clock rates in brackets.
    ceiling = figures["ceiling"]["visits"] / figures["ceiling"]["cpu"]
    for mode, label in (
        ("ceiling", "ceiling (plain lxml, no checks)"),
        ("parse", "iter_visits"),
        ("validate", "iter_visits + validate_visit"),
    ):
        f = figures[mode]
        rate = f["visits"] / f["cpu"]
        print(
            f"{label:32s} {rate:7.0f} visits/s ({f['visits'] / f['seconds']:5.0f} wall) {f['items'] / f['cpu']:8.0f} items/s "
            f"{size_mb / f['cpu']:6.1f} MB/s  peak RSS {f['peak_rss_mb']:5.0f} MB  ratio to ceiling {rate / ceiling:.2f}"
        )
    if shared is not None:
        print(
            f"{args.workers} processes sharing the file (iter_visits(only=...) + validate_visit): "
            f"{shared['visits'] / shared['seconds']:.0f} visits/s wall clock, peak RSS {shared['peak_rss_mb']:.0f} MB each"
        )
    v = figures["validate"]
    if v.get("errors") or v.get("problems"):
        print(f"note: {v['errors']:.0f} validation errors, {v['problems']:.0f} parser problems (expected 0)")


if __name__ == "__main__":
    main()
