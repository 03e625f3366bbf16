"""The `ddspgl` command: info, precision (and the commands later kernels add)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .harness.context import BACKEND_ENV, BACKENDS, Context, ContextError


def _context(args) -> Context:
    return Context(args.backend)


def cmd_info(args) -> int:
    info = _context(args).info()
    width = max(map(len, info))
    for key, value in info.items():
        print(f"{key:<{width}}  {value}")
    return 0


def cmd_precision(args) -> int:
    from .harness import precision

    ctx = _context(args)
    cases = precision.all_cases(quick=args.quick, kernels=args.kernel)
    print(f"{len(cases)} cases on {ctx.renderer} ({ctx.backend})", file=sys.stderr)
    results = precision.run_cases(ctx, cases)
    paths, rows = precision.write_report(ctx, results, Path(args.root))
    failed = [r for r in rows if not r["ok"] or r["regression"]]
    print(precision.markdown(ctx.info(), rows))
    for path in paths:
        print(f"wrote {path}", file=sys.stderr)
    if failed:
        for r in failed:
            why = r["regression"] or f"error {r['error']:.3e} > budget {r['budget']:.3e}"
            print(f"FAIL {r['id']}: {why}", file=sys.stderr)
        return 1
    print(f"all {len(rows)} cases inside their budgets", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ddspgl", description=__doc__)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--backend",
        choices=BACKENDS,
        default=None,
        help=f"GL context backend (default: ${BACKEND_ENV} or egl)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("info", parents=[common], help="GL vendor, renderer, version, capabilities")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser(
        "precision",
        parents=[common],
        help="run the precision suite, write reports/precision/<renderer>.*",
    )
    p.add_argument("--quick", action="store_true", help="lengths up to 64000 only")
    p.add_argument("--kernel", action="append", help="only this kernel's cases (repeatable)")
    p.add_argument("--root", default=".", help="folder that holds reports/ (default: .)")
    p.set_defaults(func=cmd_precision)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ContextError as exc:
        print(f"ddspgl: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
