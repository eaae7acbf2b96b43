import Foundation
import OctetGraph
import OctetQuant
import OctetTensor
import OctetTestSupport
import XCTest
@testable import OctetDPU

/// The emulator against the quantizer's integer evaluation (`QuantizedModel.run(capture:)`) on every
/// shared model: identical int8 codes and fix_pos on every captured tensor. Run in release.
final class SharedModelBitExactTests: XCTestCase {
    /// Calibrates on the first 16 calibration samples; returns the quantized model and its program.
    nonisolated(unsafe) static var cache: [String: (QuantizedModel, Program)] = [:]

    static func deploy(_ sm: SharedModel, target: DPUTarget = .default) throws -> (QuantizedModel, Program) {
        if target == .default, let c = cache[sm.name] { return c }
        let model = try Model.load(path: sm.modelPath)
        let calib = try sm.input("calib")
        let q = try Calibrator(model: model).calibrate([sm.inputName: TensorBatch.slice(calib, start: 0, count: min(16, calib.shape[0]), padTo: 0)])
        let r = (q, try Compiler.compile(q.quantizedGraph, target: target))
        if target == .default { cache[sm.name] = r }
        return r
    }

    func testEveryTensorOfEverySharedModelMatchesTheQuantizer() throws {
        var table = ["model            tensors  values      mismatches  DPU/CPU subgraphs"]
        for sm in try SharedModels.require() {
            let (q, program) = try Self.deploy(sm)
            let eval = try sm.input("eval")
            let x = TensorBatch.slice(eval, start: 0, count: min(3, eval.shape[0]), padTo: 0)
            let ref = try q.run([sm.inputName: x], capture: true)
            let got = try Emulator(program: program).run([sm.inputName: x], capture: true)
            XCTAssertFalse(ref.captured.isEmpty, sm.name)
            var values = 0, mismatches = 0
            for (name, r) in ref.captured {
                guard let e = got.tensors[name] else { XCTFail("\(sm.name): emulator did not produce \(name)"); continue }
                XCTAssertEqual(e.fixPos, r.fixPos, "\(sm.name) \(name) fix_pos")
                XCTAssertEqual(e.codes.shape, r.codes.shape, "\(sm.name) \(name) shape")
                let a = e.codes.int8s, b = r.codes.int8s
                values += b.count
                mismatches += zip(a, b).filter { $0 != $1 }.count + abs(a.count - b.count)
            }
            XCTAssertEqual(mismatches, 0, "\(sm.name): int8 mismatches")
            for o in sm.outputNames { XCTAssertEqual(got.outputs[o], ref.outputs[o], "\(sm.name) output \(o)") }
            table.append("\(sm.name.padding(toLength: 16, withPad: " ", startingAt: 0)) \(String(ref.captured.count).padding(toLength: 8, withPad: " ", startingAt: 0)) "
                + "\(String(values).padding(toLength: 11, withPad: " ", startingAt: 0)) \(String(mismatches).padding(toLength: 11, withPad: " ", startingAt: 0)) "
                + "\(program.dpuSubgraphCount)/\(program.cpuSubgraphCount)")
        }
        print(table.joined(separator: "\n"))
    }

    /// Batch-1 latency of effnet_lite0 at 1 and 2 threads (median of 5 runs) and GMAC/s.
    func testEffnetLatency() throws {
        let sm = try SharedModels.require("effnet_lite0")
        let (_, program) = try Self.deploy(sm)
        let x = TensorBatch.slice(try sm.input("eval"), start: 0, count: 1, padTo: 0)
        let macs = try program.macsPerSample()
        XCTAssertGreaterThan(macs, 300_000_000)   // EfficientNet-Lite0 is ≈ 0.4 GMAC
        for threads in [1, 2] {
            let e = try Emulator(program: program, threads: threads)
            _ = try e.run(x)
            var times: [Double] = []
            for _ in 0..<5 {
                let t0 = DispatchTime.now().uptimeNanoseconds
                _ = try e.run(x)
                times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
            }
            let median = times.sorted()[2]
            print(String(format: "effnet_lite0 batch 1, %d thread(s): %.1f ms, %.2f GMAC/s (%d MACs)", threads, median,
                         Double(macs) / median / 1e6, macs))
        }
    }
}
