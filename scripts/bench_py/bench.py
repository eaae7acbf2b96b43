"""Runs Octet (`octet bench ...`, one JSON line per measurement) and onnxruntime side by side
and prints a table with ratios (Octet / onnxruntime; < 1 means Octet is faster)."""
import argparse, json, os, re, resource, subprocess, sys, tempfile, time

import numpy as np
import onnxruntime as ort


def ort_latency(model, threads, runs):
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    s = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
    feeds = {}
    for i in s.get_inputs():
        shape = [d if isinstance(d, int) else 1 for d in i.shape]
        feeds[i.name] = np.random.uniform(-1, 1, shape).astype(np.float32)
    for _ in range(3):
        s.run(None, feeds)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        s.run(None, feeds)
        times.append((time.perf_counter() - t0) * 1e3)
    return sorted(times)[len(times) // 2]


def ort_in_subprocess(model, threads, runs):
    """Median ms and peak RSS (MiB) of onnxruntime in a fresh process."""
    code = f"import sys; sys.path.insert(0, {os.path.dirname(__file__)!r}); import bench, json, resource; " \
           f"ms = bench.ort_latency({model!r}, {threads}, {runs}); " \
           f"print(json.dumps({{'median_ms': ms, 'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def octet_json(cmd):
    """The JSON line an `octet` command prints last; its own error message when it fails."""
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed (exit {r.returncode}): {r.stderr.strip()}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def octet(octet_bin, *args):
    return octet_json([octet_bin, "bench", *args])


def float_table(args):
    models = sorted(f for f in os.listdir(os.path.join(args.shared, "models")) if f.endswith(".onnx"))
    print("Float latency, batch 1 (median of %d runs)" % args.runs)
    print(f"{'model':<16}{'thr':>4}{'octet ms':>10}{'ort ms':>10}{'ratio':>8}{'octet MiB':>11}{'ort MiB':>9}")
    for m in models:
        path = os.path.join(args.shared, "models", m)
        for threads in (1, 2):
            o = octet(args.octet, "float", path, "--threads", str(threads), "--runs", str(args.runs))
            r = ort_in_subprocess(path, threads, args.runs)
            print(f"{m[:-5]:<16}{threads:>4}{o['median_ms']:>10.2f}{r['median_ms']:>10.2f}"
                  f"{o['median_ms'] / r['median_ms']:>8.2f}{o['peak_rss_mb']:>11.1f}{r['peak_rss_mb']:>9.1f}")


def shared_input(root, split, limit):
    """Float32 input of a manifest split (uint8 inputs preprocessed as the manifest says)."""
    if "input" in split:
        return np.load(os.path.join(root, split["input"]))[:limit].astype(np.float32)
    u8 = np.load(os.path.join(root, split["input_u8"]))[:limit]
    nums = [float(v) for v in re.findall(r"[0-9.]+", split["preprocess"].split(" as ")[0])]
    return ((u8.astype(np.float32) - np.float32(nums[-2])) / np.float32(nums[-1])).astype(np.float32)


def shared_models(args, work, samples, names=None):
    """(name, model path, calibration .npy of `samples` preprocessed inputs, manifest entry) for each
    manifest model, or for `names` only."""
    with open(os.path.join(args.shared, "data", "manifest.json")) as f:
        manifest = json.load(f)
    for name in names or sorted(manifest):
        e = manifest[name]
        calib = os.path.join(work, f"{name}_calib.npy")
        np.save(calib, shared_input(args.shared, e["splits"]["calib"], samples))
        yield name, os.path.join(args.shared, e["model"]), calib, e


def qdq_table(args):
    """onnxruntime latency of the exported QDQ model next to Octet's DPU emulator on the same quantization."""
    print("INT8 latency, batch 1 (median of %d runs): Octet's DPU emulator vs onnxruntime on Octet's "
          "QDQ export of the same quantized model (all graph optimizations)" % args.runs)
    print(f"{'model':<16}{'thr':>4}{'emulator ms':>13}{'GMAC/s':>8}{'ort qdq ms':>12}{'ratio':>8}")
    with tempfile.TemporaryDirectory() as work:
        for name, model, calib, _ in shared_models(args, work, args.calib_samples):
            qdq = os.path.join(work, f"{name}_qdq.onnx")
            subprocess.run([args.octet, "export", model, "--calib", calib, "--output", qdq],
                           check=True, capture_output=True)
            for threads in (1, 2):
                o = octet(args.octet, "int8", model, "--calib", calib, "--threads", str(threads), "--runs", str(args.runs))
                r = ort_in_subprocess(qdq, threads, args.runs)
                gmacs = o["macs"] / o["median_ms"] / 1e6
                print(f"{name:<16}{threads:>4}{o['median_ms']:>13.2f}{gmacs:>8.1f}{r['median_ms']:>12.2f}"
                      f"{o['median_ms'] / r['median_ms']:>8.2f}")


class _Reader:
    """onnxruntime CalibrationDataReader over a float32 batch, one sample at a time."""

    def __init__(self, name, x):
        self.items = iter([{name: x[i:i + 1]} for i in range(len(x))])

    def get_next(self):
        return next(self.items, None)


def ort_quantize_static(model, calib_npy, out):
    """Wall seconds of onnxruntime's quantize_static (MinMax, QDQ, int8) in a fresh process."""
    code = f"""
import sys, time, json, numpy as np, onnxruntime as ort
sys.path.insert(0, {os.path.dirname(__file__)!r})
import bench
from onnxruntime.quantization import quantize_static, QuantFormat, QuantType, CalibrationMethod
x = np.load({calib_npy!r})
name = ort.InferenceSession({model!r}, providers=["CPUExecutionProvider"]).get_inputs()[0].name
t0 = time.perf_counter()
quantize_static({model!r}, {out!r}, bench._Reader(name, x), quant_format=QuantFormat.QDQ,
                activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                calibrate_method=CalibrationMethod.MinMax)
print(json.dumps({{"seconds": time.perf_counter() - t0}}))
"""
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])["seconds"]


def ptq_table(args):
    """Calibration wall time: Octet (power-of-two, diffs observer) vs onnxruntime quantize_static (MinMax, QDQ)."""
    print("PTQ wall time, %d calibration samples: Octet (power-of-two, diffs; median of 3, both cores) vs "
          "onnxruntime quantize_static (MinMax, QDQ, one run)" % args.ptq_samples)
    print(f"{'model':<16}{'octet s':>9}{'ort s':>9}{'ratio':>8}{'octet MiB':>11}")
    with tempfile.TemporaryDirectory() as work:
        for name, model, calib, _ in shared_models(args, work, args.ptq_samples):
            o = octet(args.octet, "ptq", model, "--calib", calib, "--threads", "2", "--runs", "3")
            r = ort_quantize_static(model, calib, os.path.join(work, f"{name}_ort_qdq.onnx"))
            print(f"{name:<16}{o['median_ms'] / 1e3:>9.2f}{r:>9.2f}{o['median_ms'] / 1e3 / r:>8.2f}{o['peak_rss_mb']:>11.1f}")


# Wall seconds of the power-of-two anchor's passes on effnet_lite0, 64 images (shared/README.md).
ANCHOR_SECONDS = {"effnet_lite0": {"adaquant": 193.0, "adaround": 226.0}}


def recovery_table(args):
    """Wall time and peak memory of AdaQuant (after CLE) and AdaRound (`octet recover`), with the output quality."""
    print("Accuracy recovery, %d calibration samples (octet recover, both cores): wall time of calibration + pass + "
          "recalibration, process peak memory, output SQNR and top-1 agreement on the eval split; ratio against the "
          "power-of-two anchor's time in shared/README.md where it gives one" % args.ptq_samples)
    print(f"{'model':<16}{'method':<10}{'octet s':>9}{'anchor s':>10}{'ratio':>8}{'peak MiB':>10}{'SQNR dB':>9}{'top-1 %':>9}")
    with tempfile.TemporaryDirectory() as work:
        for name, model, calib, e in shared_models(args, work, args.ptq_samples, args.recovery_models.split(",")):
            ev = os.path.join(work, f"{name}_eval.npy")
            np.save(ev, shared_input(args.shared, e["splits"]["eval"], None))
            refs = [f"{k}={os.path.join(args.shared, v)}" for k, v in e["splits"]["eval"]["onnxruntime_float_outputs"].items()]
            for method in ("adaquant", "adaround"):
                cmd = [args.octet, "recover", model, "--calib", calib, "--eval", ev, "--method", method, "--threads", "2"]
                cmd += ["--cle"] if method == "adaquant" else []
                for r in refs:
                    cmd += ["--reference", r]
                d = octet_json(cmd)
                anchor = ANCHOR_SECONDS.get(name, {}).get(method)
                sqnr = next(iter(d["sqnr_db"].values()))
                top1 = d.get("top1_agreement")
                anchor_s = f"{anchor:.0f}" if anchor else "-"
                ratio = f"{d['seconds'] / anchor:.2f}" if anchor else "-"
                top1_s = f"{top1:.0f}" if top1 is not None else "-"
                print(f"{name:<16}{method:<10}{d['seconds']:>9.1f}{anchor_s:>10}{ratio:>8}{d['peak_rss_mb']:>10.0f}"
                      f"{sqnr:>9.2f}{top1_s:>9}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--octet", required=True)
    p.add_argument("--shared", required=True)
    p.add_argument("--runs", type=int, default=50)
    p.add_argument("--only", default="float", help="comma list of: float, qdq, ptq, recovery")
    p.add_argument("--recovery-models", default="effnet_lite0", help="comma-separated manifest names for the recovery table")
    p.add_argument("--ptq-samples", type=int, default=64, help="calibration samples for the ptq table")
    p.add_argument("--calib-samples", type=int, default=16, help="calibration samples for the qdq table")
    args = p.parse_args()
    parts = args.only.split(",")
    tables = ["float", "qdq", "ptq", "recovery"]
    if unknown := [x for x in parts if x not in tables]:
        p.error(f"--only {args.only}: unknown table(s) {', '.join(unknown)}; accepted: {', '.join(tables)}")
    for name in ("runs", "ptq_samples", "calib_samples"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} {getattr(args, name)}: must be at least 1")
    with open(os.path.join(args.shared, "data", "manifest.json")) as f:
        known = sorted(json.load(f))
    if unknown := [x for x in args.recovery_models.split(",") if x not in known]:
        p.error(f"--recovery-models: unknown model(s) {', '.join(unknown)}; accepted: {', '.join(known)}")
    if "float" in parts:
        float_table(args)
    if "qdq" in parts:
        qdq_table(args)
    if "ptq" in parts:
        ptq_table(args)
    if "recovery" in parts:
        recovery_table(args)


if __name__ == "__main__":
    main()
