"""Writes Tests/OctetGraphTests/Fixtures/ops/<case>/{model.onnx, in_<i>.npy, out_<i>.npy} and
an index (cases.tsv: case, family, op, opset) for the Swift tests. onnxruntime is the reference."""
import argparse
import os
import shutil

import cases_constant
import cases_elementwise
import cases_nn
import cases_reduce_resize
import cases_shape
from fixture import CASES, build


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    for module in [cases_elementwise, cases_shape, cases_reduce_resize, cases_constant, cases_nn]:
        module.add_cases()
    names = [c["name"] for c in CASES]
    assert len(names) == len(set(names)), "duplicate case names"
    if os.path.isdir(args.out):
        shutil.rmtree(args.out)
    os.makedirs(args.out)
    with open(os.path.join(args.out, "cases.tsv"), "w") as index:
        for c in CASES:
            build(c, args.out)
            index.write(f"{c['name']}\t{c['family']}\t{c['op']}\t{c['opset']}\n")
    total = sum(os.path.getsize(os.path.join(d, fn)) for d, _, fs in os.walk(args.out) for fn in fs)
    print(f"{len(CASES)} cases, {total / 1024:.0f} KiB in {args.out}")


if __name__ == "__main__":
    main()
