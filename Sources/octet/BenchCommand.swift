import ArgumentParser
import Foundation
import OctetGraph
import OctetTensor

/// `octet bench float MODEL`: median batch-1 latency and peak memory, one JSON line
/// (read by scripts/bench, which runs onnxruntime side by side).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "Measure latency (used by scripts/bench).")
    @Argument(help: "What to measure: float.") var mode: String
    @Argument(help: "Path to an .onnx model.") var model: String
    @Option(help: "Kernel threads.") var threads: Int = 1
    @Option(help: "Timed runs (after 3 warm-up runs).") var runs: Int = 30

    func run() throws {
        try CLI.guarded {
            KernelConfig.threads = threads
            let m = try Model.load(path: model)
            guard mode == "float" else { throw ValidationError("unknown bench mode '\(mode)' (accepted: float)") }
            var feeds: [String: Tensor] = [:]
            var rng = SystemRandomNumberGenerator()
            for i in m.inputs {
                let shape = i.shape ?? []
                feeds[i.name] = Tensor(shape: shape, floats: (0..<Tensor.elementCount(shape)).map { _ in Float.random(in: -1...1, using: &rng) })
            }
            let ms = try Bench.medianMilliseconds(runs: runs) { _ = try m.run(feeds) }
            print(Bench.json(["mode": mode, "model": model, "threads": threads, "median_ms": ms,
                              "peak_rss_mb": Bench.peakRSSMegabytes(), "macs": m.layerStats.reduce(0) { $0 + $1.macs }]))
        }
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
