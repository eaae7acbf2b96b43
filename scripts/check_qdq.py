"""QDQ export agreement with onnxruntime (run by scripts/check-qdq in its own venv).

For each model in the shared manifest: preprocess the calibration and evaluation splits to
float32 .npy (uint8 inputs as the manifest says), run `octet export --ties half-up`
(calibration, QDQ model with the DPU's half-up tie rounding, integer-evaluation outputs on the
eval split), run the QDQ model in onnxruntime with graph optimizations disabled and enabled,
and compare element by element with Octet's dequantized int8 outputs (the emulator's, bit for
bit). Requirement: >= --require % identical for every model and level.
Informational rows: the plain export (`--ties half-even`, QuantizeLinear's round half to even,
so exact .5 ties differ by one LSB), and optionally the first samples of the plain export in
onnx's reference evaluator with a half-up QuantizeLinear.
"""
import argparse
import json
import os
import re
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx.reference import ReferenceEvaluator
from onnx.reference.op_run import OpRun


def per_axis(x, scale, zero_point, axis):
    """Scale and int64 zero point broadcast along `axis` (default 1) when they are 1-D."""
    zp = np.zeros((), np.int64) if zero_point is None else zero_point.astype(np.int64)
    if np.ndim(scale) == 1:
        shape = [1] * x.ndim
        shape[(axis if axis is not None else 1) % x.ndim] = -1
        scale, zp = scale.reshape(shape), zp.reshape(shape)
    return scale, zp


class QuantizeLinear(OpRun):
    """QuantizeLinear rounding half up (the DPU's DPU_ROUND) instead of half to even."""

    def _run(self, x, scale, zero_point=None, axis=None, **kw):
        scale, zp = per_axis(x, scale, zero_point, axis)
        dtype = np.uint8 if zero_point is None or zero_point.dtype == np.uint8 else np.int8
        info = np.iinfo(dtype)
        q = np.floor(x.astype(np.float32) / scale + np.float32(0.5)) + zp
        return (np.clip(q, info.min, info.max).astype(dtype),)


class DequantizeLinear(OpRun):
    def _run(self, x, scale, zero_point=None, axis=None, **kw):
        scale, zp = per_axis(x, scale, zero_point, axis)
        return (((x.astype(np.int64) - zp).astype(np.float32) * scale).astype(np.float32),)


def run_half_up(model, x, names):
    """The QDQ model in onnx's reference evaluator with half-up QuantizeLinear (slow: few samples)."""
    ev = ReferenceEvaluator(onnx.load(model), new_ops=[QuantizeLinear, DequantizeLinear])
    name = ev.input_names[0]
    outs = [ev.run(names, {name: x[i:i + 1]}) for i in range(len(x))]
    return {n: np.concatenate([r[k] for r in outs]) for k, n in enumerate(names)}


def preprocess(root, split):
    """Float32 input of a split, converting uint8 inputs with the manifest's formula."""
    if "input" in split:
        return np.load(os.path.join(root, split["input"])).astype(np.float32)
    u8 = np.load(os.path.join(root, split["input_u8"]))
    nums = [float(v) for v in re.findall(r"[0-9.]+", split["preprocess"].split(" as ")[0])]
    offset, scale = nums[-2], nums[-1]
    return ((u8.astype(np.float32) - np.float32(offset)) / np.float32(scale)).astype(np.float32)


def octet_outputs(path, names):
    """Outputs written by `octet export --eval-output` (one .npy, or a directory of them)."""
    if len(names) == 1 and os.path.isfile(path):
        return {names[0]: np.load(path)}
    return {n: np.load(os.path.join(path, re.sub(r"[^A-Za-z0-9_-]", "_", n) + ".npy")) for n in names}


def run_ort(model, x, level):
    so = ort.SessionOptions()
    so.graph_optimization_level = level
    so.intra_op_num_threads = 1
    s = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
    name = s.get_inputs()[0].name
    batch = s.get_inputs()[0].shape[0]
    batch = batch if isinstance(batch, int) and batch > 0 else len(x)
    outs = [s.run(None, {name: x[i:i + batch]}) for i in range(0, len(x), batch)]
    return {o.name: np.concatenate([r[k] for r in outs]) for k, o in enumerate(s.get_outputs())}


def lsb(y):
    """Smallest positive gap between output values: one LSB of a power-of-two output."""
    u = np.unique(y)
    d = np.diff(u)
    return float(d[d > 0].min()) if d.size and (d > 0).any() else 1.0


def check_model(args, name, entry, work):
    calib = preprocess(args.shared, entry["splits"]["calib"])
    evalx = preprocess(args.shared, entry["splits"]["eval"])
    if args.limit:
        evalx = evalx[:args.limit]
    cpath, epath = os.path.join(work, f"{name}_calib.npy"), os.path.join(work, f"{name}_eval.npy")
    np.save(cpath, calib)
    np.save(epath, evalx)
    qdq, out = os.path.join(work, f"{name}_qdq.onnx"), os.path.join(work, f"{name}_octet")
    plain = os.path.join(work, f"{name}_qdq_half_even.onnx")
    names = entry["output_names"]
    out = out + ".npy" if len(names) == 1 else out
    model = os.path.join(args.shared, entry["model"])
    cmd = [args.octet, "export", model, "--calib", cpath, "--eval", epath, "--eval-output", out,
           "--output", qdq, "--ties", "half-up"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([args.octet, "export", model, "--calib", cpath, "--output", plain, "--ties", "half-even"],
                   check=True, stdout=subprocess.DEVNULL)
    ref = octet_outputs(out, names)
    rows = []
    runs = [("half-up", "disabled", qdq, ort.GraphOptimizationLevel.ORT_DISABLE_ALL, False),
            ("half-up", "enabled", qdq, ort.GraphOptimizationLevel.ORT_ENABLE_ALL, False),
            ("half-even", "enabled", plain, ort.GraphOptimizationLevel.ORT_ENABLE_ALL, True)]
    for ties, label, path, level, info in runs:
        got = run_ort(path, evalx, level)
        same = sum(int((got[n] == ref[n]).sum()) for n in names)
        total = sum(ref[n].size for n in names)
        worst = max(float(np.abs(got[n] - ref[n]).max() / lsb(ref[n])) for n in names)
        rows.append({"model": name, "ties": ties, "optimizations": label, "identical_pct": 100.0 * same / total,
                     "worst_lsb": worst, "elements": total, "informational": info})
    for option in args.option:
        # A non-DPU configuration (dequantized evaluation), e.g. bias_bits=16: its export must
        # run the same in onnxruntime with the graph optimizations that fuse QLinear ops.
        qopt, oout = os.path.join(work, f"{name}_qdq_opt.onnx"), os.path.join(work, f"{name}_octet_opt")
        oout = oout + ".npy" if len(names) == 1 else oout
        subprocess.run([args.octet, "export", model, "--calib", cpath, "--eval", epath, "--eval-output", oout,
                        "--output", qopt, "--ties", "half-up", "--option", option], check=True, stdout=subprocess.DEVNULL)
        oref = octet_outputs(oout, names)
        got = run_ort(qopt, evalx, ort.GraphOptimizationLevel.ORT_ENABLE_ALL)
        same = sum(int((got[n] == oref[n]).sum()) for n in names)
        total = sum(oref[n].size for n in names)
        worst = max(float(np.abs(got[n] - oref[n]).max() / lsb(oref[n])) for n in names)
        rows.append({"model": name, "ties": "half-up", "optimizations": f"enabled, {option}",
                     "identical_pct": 100.0 * same / total, "worst_lsb": worst, "elements": total,
                     "informational": False})
    if args.half_up_samples:
        qdq = plain
        k = min(args.half_up_samples, len(evalx))
        got = run_half_up(qdq, evalx[:k], names)
        same = sum(int((got[n] == ref[n][:k]).sum()) for n in names)
        total = sum(ref[n][:k].size for n in names)
        worst = max(float(np.abs(got[n] - ref[n][:k]).max() / lsb(ref[n])) for n in names)
        rows.append({"model": name, "ties": "half-even", "optimizations": f"half-up ref ({k})",
                     "identical_pct": 100.0 * same / total,
                     "worst_lsb": worst, "elements": total, "informational": True})
    return rows


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--octet", required=True)
    p.add_argument("--shared", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--require", type=float, default=99.9)
    p.add_argument("--limit", type=int, default=0, help="evaluate at most this many samples (0 = all)")
    p.add_argument("--half-up-samples", type=int, default=0,
                   help="also run this many samples of the plain export in onnx's reference evaluator "
                        "with a half-up QuantizeLinear")
    p.add_argument("--only", default="", help="comma-separated model names")
    p.add_argument("--option", action="append", default=[],
                   help="also export with this --option NAME=VALUE (repeatable) and require the same agreement")
    p.add_argument("--json", default="", help="also write the rows as JSON here")
    args = p.parse_args()
    with open(os.path.join(args.shared, "data", "manifest.json")) as f:
        manifest = json.load(f)
    wanted = [m for m in sorted(manifest) if not args.only or m in args.only.split(",")]
    rows, failed = [], []
    print(f"{'model':<16} {'export ties':<12} {'ORT graph opt':<14} {'% identical':>12} {'worst |diff| LSB':>17} {'elements':>9}")
    for name in wanted:
        try:
            res = check_model(args, name, manifest[name], args.work)
        except subprocess.CalledProcessError as e:
            print(f"{name:<16} octet export failed (exit {e.returncode})")
            failed.append(name)
            continue
        for r in res:
            note = "  (informational)" if r.get("informational") else ""
            print(f"{r['model']:<16} {r['ties']:<12} {r['optimizations']:<14} {r['identical_pct']:>11.3f}% "
                  f"{r['worst_lsb']:>17.0f} {r['elements']:>9}{note}")
            if r["identical_pct"] < args.require and not r.get("informational"):
                failed.append(f"{name} ({r['optimizations']})")
        rows += res
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    if failed:
        print(f"FAIL: below {args.require}% identical: {', '.join(failed)}")
        return 1
    print(f"OK: every model >= {args.require}% identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())
