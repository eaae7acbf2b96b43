import ArgumentParser
import Foundation
import OctetDPU
import OctetGraph
import OctetQuant
import OctetTensor

/// `octet bench float MODEL` / `octet bench int8 MODEL --calib X.npy`: median batch-1 latency and
/// peak memory, one JSON line (read by scripts/bench, which runs onnxruntime side by side).
/// `int8` quantizes with the calibration batch first, compiles a program for the default target
/// and times the DPU emulator on the first calibration sample.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "Measure latency (used by scripts/bench).")
    @Argument(help: "What to measure: float (latency), int8 (DPU emulator latency), ptq (calibration wall time).") var mode: String
    @Argument(help: "Path to an .onnx model.") var model: String
    @Option(parsing: .unconditional, help: "Kernel threads (default 1: the single-thread latency scripts/bench compares with onnxruntime).") var threads: Int = 1
    @Option(parsing: .unconditional, help: "Timed runs (after 3 warm-up runs).") var runs: Int = 30
    @Flag(help: "Also print time per op type.") var profile = false
    @Option(help: "Calibration batch for int8 and ptq (.npy or .npz).") var calib: String?
    @Option(parsing: .unconditional, help: U8Transform.help) var u8: String?

    /// Argument errors exit 64 with the usage, as the other commands' do.
    func validate() throws {
        guard ["float", "int8", "ptq"].contains(mode) else {
            throw ValidationError("unknown bench mode '\(mode)' (accepted: float, int8, ptq)")
        }
        try CLI.checkThreads(threads)
        guard runs >= 1 else { throw ValidationError("--runs \(runs): must be at least 1") }
        guard !(profile && mode == "ptq") else { throw ValidationError("--profile applies to float and int8") }
        guard calib == nil || mode != "float" else { throw ValidationError("--calib applies to int8 and ptq") }
        guard calib != nil || mode == "float" else { throw ValidationError("bench \(mode) needs --calib X.npy|.npz") }
        guard u8 == nil || calib != nil else { throw ValidationError("--u8 applies to --calib") }
        _ = try U8Transform.parse(u8)
    }

    func run() throws {
        try CLI.guarded {
            KernelConfig.threads = threads
            let m = try Model.load(path: model)
            if mode == "int8" { return try benchInt8(m) }
            if mode == "ptq" { return try benchPTQ(m) }
            guard mode == "float" else { throw ValidationError("unknown bench mode '\(mode)' (accepted: float, int8, ptq)") }
            var feeds: [String: Tensor] = [:]
            var rng = SystemRandomNumberGenerator()
            for i in m.inputs {
                let shape = i.shape ?? []
                feeds[i.name] = Tensor(shape: shape, floats: (0..<Tensor.elementCount(shape)).map { _ in Float.random(in: -1...1, using: &rng) })
            }
            let ms = try Bench.medianMilliseconds(runs: runs) { _ = try m.run(feeds) }
            if profile { print(try Bench.profile(m, feeds, runs: runs)) }
            print(Bench.json(["mode": mode, "model": model, "threads": threads, "median_ms": ms,
                              "peak_rss_mb": Bench.peakRSSMegabytes(), "macs": m.layerStats.reduce(0) { $0 + $1.macs }]))
        }
    }
}

extension BenchCommand {
    /// Times power-of-two calibration (default DPU configuration, `diffs` observer) of the whole
    /// `--calib` set: median over `--runs` runs after one warm-up, data already in memory.
    func benchPTQ(_ m: Model) throws {
        guard let calib else { throw ValidationError("bench ptq needs --calib X.npy|.npz") }
        let data = try ExportCommand.feeds(calib, m, u8: try U8Transform.parse(u8))
        let samples = data.values.first?.shape.first ?? 0
        let ms = try Bench.medianMilliseconds(runs: runs, warmup: 1) { _ = try Calibrator(model: m).calibrate(data) }
        print(Bench.json(["mode": mode, "model": model, "threads": threads, "median_ms": ms, "samples": samples,
                          "peak_rss_mb": Bench.peakRSSMegabytes()]))
    }

    /// Quantizes with `--calib`, compiles for the default target, then times the DPU emulator at
    /// batch 1 on the first calibration sample (`--profile`: time per instruction kind).
    func benchInt8(_ m: Model) throws {
        guard let calib else { throw ValidationError("bench int8 needs --calib X.npy|.npz") }
        let data = try ExportCommand.feeds(calib, m, u8: try U8Transform.parse(u8))
        let qm = try ExportCommand.quantize(m, calib: calib, options: [], u8: try U8Transform.parse(u8))
        let program = try Compiler.compile(qm.quantizedGraph, target: .default)
        let emulator = try Emulator(program: program, threads: threads)
        let feeds = data.mapValues { TensorBatch.slice($0, start: 0, count: 1, padTo: 1) }
        let ms = try Bench.medianMilliseconds(runs: runs) { _ = try emulator.run(feeds) }
        if profile { print(try Bench.profile(emulator, feeds, runs: runs)) }
        print(Bench.json(["mode": mode, "model": model, "threads": threads, "median_ms": ms,
                          "peak_rss_mb": Bench.peakRSSMegabytes(), "macs": m.layerStats.reduce(0) { $0 + $1.macs },
                          "evaluation": "emulator"]))
    }
}

enum Bench {
    static func medianMilliseconds(runs: Int, warmup: Int = 3, _ body: () throws -> Void) throws -> Double {
        for _ in 0..<warmup { try body() }
        var times: [Double] = []
        for _ in 0..<max(1, runs) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        }
        times.sort()
        return times[times.count / 2]
    }

    /// Milliseconds per op type per run (mean over `runs` runs of the plan that executes: a Conv
    /// with a fused Relu / Clip counts as Conv), most expensive first.
    static func profile(_ m: Model, _ feeds: [String: Tensor], runs: Int) throws -> String {
        var perOp: [String: Double] = [:]
        for _ in 0..<max(1, runs) {
            _ = try m.executor.run(feeds, timing: { _, node, ns in perOp[profileKey(node, m), default: 0] += Double(ns) / 1e6 })
        }
        return table(perOp, runs: runs)
    }

    /// Milliseconds per instruction kind of the emulator (device, kind, and the conv shape class).
    static func profile(_ e: Emulator, _ feeds: [String: Tensor], runs: Int) throws -> String {
        var perKind: [String: Double] = [:]
        for _ in 0..<max(1, runs) {
            _ = try e.run(feeds, timing: { ins, ns in perKind[profileKey(ins, e.program), default: 0] += Double(ns) / 1e6 })
        }
        return table(perKind, runs: runs)
    }

    static func profileKey(_ ins: Instruction, _ p: Program) -> String {
        let base = "\(ins.device == .cpu ? "cpu " : "")\(ins.kind)"
        guard ins.kind == .conv, let w = ins.weight, let s = p.constants[w]?.shape, s.count == 4 else { return base }
        return "\(base) \(s[2])x\(s[3])"
    }

    /// One line per key, most expensive first, names padded to the longest.
    static func table(_ ms: [String: Double], runs: Int) -> String {
        let width = ms.keys.map(\.count).max() ?? 0
        return ms.sorted { $0.value > $1.value }
            .map { $0.key.padding(toLength: width, withPad: " ", startingAt: 0) + String(format: " %8.3f ms", $0.value / Double(max(1, runs))) }
            .joined(separator: "\n")
    }

    /// Op type, with Conv split into depthwise, pointwise and general.
    static func profileKey(_ n: Node, _ m: Model) -> String {
        guard n.opType == "Conv", let w = m.tensorShapes[n.inputs[1]] else { return n.opType }
        if ((try? n.int("group", default: 1)) ?? 1) > 1 && w[1] == 1 { return "Conv depthwise" }
        return w[2] == 1 && w[3] == 1 ? "Conv 1x1" : "Conv \(w[2])x\(w[3])"
    }

    /// Peak resident set size (VmHWM from /proc/self/status), in MiB.
    static func peakRSSMegabytes() -> Double {
        guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = s.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return 0 }
        let kb = Double(line.split(separator: " ").dropFirst().first.map(String.init) ?? "0") ?? 0
        return kb / 1024
    }

    static func json(_ d: [String: Any]) -> String {
        let data = try! JSONSerialization.data(withJSONObject: d, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}
