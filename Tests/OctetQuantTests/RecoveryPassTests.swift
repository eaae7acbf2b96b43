import OctetGraph
import OctetQuant
import OctetTensor
import XCTest

/// Bias correction, AdaQuant and AdaRound on small models: they lower the layer loss, reruns are
/// byte-identical, and the edge cases (one layer, Linear→ReLU→Linear, zero-weight channels,
/// excluded layers, memory limit) work.
final class RecoveryPassTests: XCTestCase {
    /// Conv(3→8, 3×3, per-channel ranges spread 30×) → Relu → Conv(8→4, 1×1).
    func smallConvNet(seed: UInt64 = 7) -> (Model, [String: Tensor]) {
        var t = TinyNet(seed: seed)
        var y = t.conv("c1", "x", out: 8, in: 3, k: 3, pad: 1, spread: 30)
        y = t.op("r", "Relu", y)
        y = t.conv("c2", y, out: 4, in: 8, k: 1)
        let m = try! Model(graph: t.graph(input: [2, 3, 6, 6], output: y), batchSize: 2)
        return (m, ["x": t.data([16, 3, 6, 6])])
    }

    /// Linear(6→5) → Relu → Linear(5→3).
    func linearNet(zeroRow: Bool = false) -> (Model, [String: Tensor]) {
        var t = TinyNet(seed: 11)
        var w1 = t.random([5, 6])
        if zeroRow { w1.withMutableFloats { for i in 0..<6 { $0[6 + i] = 0 } } }
        var y = t.gemm("fc1", "x", out: 5, in: 6, weight: w1)
        y = t.op("r", "Relu", y)
        y = t.gemm("fc2", y, out: 3, in: 5)
        return (try! Model(graph: t.graph(input: [4, 6], output: y), batchSize: 4), ["x": t.data([32, 6])])
    }

    func outputSQNR(_ m: Model, _ q: QuantizedModel, _ feeds: [String: Tensor]) throws -> Double {
        let a = try m.run(feeds)[m.outputs[0].name]!, b = try q.run(feeds)[m.outputs[0].name]!
        var sig = 0.0, err = 0.0
        for (x, y) in zip(a.floats, b.floats) { sig += Double(x * x); err += Double((x - y) * (x - y)) }
        return 10 * log10(sig / err)
    }

    func testAdaQuantLowersLayerLoss() throws {
        let (m, feeds) = smallConvNet()
        var o = AdaQuant.Options(); o.maxEpochs = 8; o.batchSize = 4
        let r = try AdaQuant.run(model: m, feeds: feeds, options: o)
        XCTAssertEqual(r.stats.layers, 2)
        for line in r.stats.notes {
            let nums = line.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .punctuationCharacters)) }
            XCTAssertLessThanOrEqual(nums[1], nums[0], line)    // loss after ≤ before (epochs only kept when better)
        }
        XCTAssertTrue(r.stats.notes.contains { l in
            let n = l.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .punctuationCharacters)) }
            return n[1] < n[0]
        }, "\(r.stats.notes)")
        print(r.stats)
    }

    func testAdaRoundLowersLayerLossAndLandsOnGrid() throws {
        let (m, feeds) = smallConvNet()
        var o = AdaRound.Options(); o.iterations = 300
        let r = try AdaRound.run(model: m, feeds: feeds, options: o)
        XCTAssertEqual(r.stats.layers, 2)
        let first = r.stats.notes[0].split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .punctuationCharacters)) }
        XCTAssertLessThan(first[1], first[0], r.stats.notes[0])
        // Every finetuned weight is a multiple of its scale 2^-fix_pos.
        let fp = r.quantized.annotations.fixPos("c1_w")!
        for v in r.float.graph.initializers["c1_w"]!.floats {
            let q = v * Float(1 << fp)
            XCTAssertEqual(q, q.rounded(), "c1_w value \(v) not on the 2^-\(fp) grid")
        }
    }

    /// The report's SQNR against a reference model equals the output SQNR computed directly: against
    /// the model before AdaRound it counts the weights' error, against the default (the pass's own
    /// float model, weights already rounded) it does not.
    func testReportAgainstAReferenceModel() throws {
        let (m, feeds) = smallConvNet()
        var o = AdaRound.Options(); o.iterations = 100
        let r = try AdaRound.run(model: m, feeds: feeds, options: o)
        let out = m.outputs[0].name
        func reported(_ reference: Model?) throws -> Double {
            let rep = try QuantReport.make(r.quantized, feeds: feeds, samples: 16, sensitivity: false, reference: reference)
            return try XCTUnwrap(rep.tensors.first { $0.tensor == out }).sqnr
        }
        let before = try outputSQNR(m, r.quantized, feeds), own = try outputSQNR(r.float, r.quantized, feeds)
        XCTAssertNotEqual(before, own, accuracy: 0.1)
        XCTAssertEqual(try reported(m), before, accuracy: 1e-3)
        XCTAssertEqual(try reported(nil), own, accuracy: 1e-3)
        XCTAssertThrowsError(try reported(linearNet().0)) { e in
            XCTAssertTrue("\(e)".contains("the reference model's inputs [\"x [4, 6]\"] differ from the quantized model's [\"x [2, 3, 6, 6]\"]"), "\(e)")
        }
        // A model with the same input but other tensors: what it lacks is left out, with a warning.
        var t = TinyNet(seed: 3)
        let d1 = t.conv("d1", "x", out: 4, in: 3, k: 1)
        let other = try Model(graph: t.graph(input: [2, 3, 6, 6], output: d1), batchSize: 2)
        let unrelated = try QuantReport.make(r.quantized, feeds: feeds, samples: 16, sensitivity: false, reference: other)
        let measured = Set(unrelated.tensors.map(\.tensor)), all = r.quantized.plan.activations
        XCTAssertEqual(measured, ["x"])
        XCTAssertTrue(unrelated.warnings.contains { $0.hasPrefix("the reference model has no tensor of the same name and shape for \(all.count - 1) of the \(all.count) quantized tensors (first: '") }, "\(unrelated.warnings)")
        let proper = try QuantReport.make(r.quantized, feeds: feeds, samples: 16, sensitivity: false, reference: m)
        XCTAssertFalse(proper.warnings.contains { $0.hasPrefix("the reference model") }, "\(proper.warnings)")
    }

    /// A report on data with NaN is refused: every SQNR would be NaN.
    func testReportRefusesNonFiniteData() throws {
        let (m, feeds) = smallConvNet()
        let q = try Calibrator(model: m).calibrate(feeds)
        var bad = feeds["x"]!
        bad.withMutableFloats { $0[3 * 108 + 5] = .nan }  // sample 3 of [16, 3, 6, 6]
        XCTAssertThrowsError(try QuantReport.make(q, feeds: ["x": bad], samples: 16, sensitivity: false)) {
            XCTAssertEqual("\($0)", "calibration input 'x': NaN/Inf values, first in sample 3")
        }
        XCTAssertNoThrow(try QuantReport.make(q, feeds: ["x": bad], samples: 3, sensitivity: false))  // sample 3 not used
    }

    func testSeededRerunsAreByteIdentical() throws {
        let (m, feeds) = smallConvNet(seed: 9)
        var a = AdaQuant.Options(); a.maxEpochs = 3; a.batchSize = 2
        let x = try AdaQuant.run(model: m, feeds: feeds, options: a), y = try AdaQuant.run(model: m, feeds: feeds, options: a)
        XCTAssertEqual(x.float.graph.initializers, y.float.graph.initializers)
        var r = AdaRound.Options(); r.iterations = 50
        let u = try AdaRound.run(model: m, feeds: feeds, options: r), v = try AdaRound.run(model: m, feeds: feeds, options: r)
        XCTAssertEqual(u.float.graph.initializers, v.float.graph.initializers)
        r.seed = 42
        let w = try AdaRound.run(model: m, feeds: feeds, options: r)
        XCTAssertEqual(w.stats.layers, 2)
    }

    func testOptionsOutOfRangeAreErrors() throws {
        let (m, feeds) = smallConvNet()
        var r = AdaRound.Options(); r.iterations = -1
        XCTAssertThrowsError(try AdaRound.run(model: m, feeds: feeds, options: r)) {
            XCTAssertEqual("\($0)", "iterations: must be in 0...1000000, got -1")
        }
        r.iterations = Int.max
        XCTAssertThrowsError(try AdaRound.run(model: m, feeds: feeds, options: r)) {
            XCTAssertEqual("\($0)", "iterations: must be in 0...1000000, got \(Int.max)")
        }
        r.iterations = 10; r.batchSize = -1
        XCTAssertThrowsError(try AdaRound.run(model: m, feeds: feeds, options: r))
        var a = AdaQuant.Options(); a.maxEpochs = -1
        XCTAssertThrowsError(try AdaQuant.run(model: m, feeds: feeds, options: a)) {
            XCTAssertEqual("\($0)", "epochs: must be in 1...10000, got -1")
        }
    }

    func testAdaRoundNeverEndsAboveNearestRounding() throws {
        // After very few iterations the rounding can be worse than nearest: that layer keeps nearest.
        let (m, feeds) = smallConvNet(seed: 3)
        for iterations in [1, 5, 200] {
            var o = AdaRound.Options(); o.iterations = iterations
            for line in try AdaRound.run(model: m, feeds: feeds, options: o).stats.notes {
                let n = line.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .punctuationCharacters)) }
                XCTAssertLessThanOrEqual(n[1], n[0], line)
            }
        }
    }

    func testZeroIterationsRoundToNearest() throws {
        // Without the search, 0 iterations is plain calibration: the same fix positions and outputs.
        let (m, feeds) = smallConvNet(seed: 3)
        let plain = try Calibrator(model: m).calibrate(feeds)
        var o = AdaRound.Options(); o.iterations = 0; o.searchFixPos = false
        let nearest = try AdaRound.run(model: m, feeds: feeds, options: o)
        XCTAssertEqual(nearest.quantized.annotations.tensors, plain.annotations.tensors)
        XCTAssertEqual(try nearest.quantized.run(feeds["x"]!).floats, try plain.run(feeds["x"]!).floats)
        // With the search each layer's loss is at most the calibrated one, and the weights are on its grid.
        o.searchFixPos = true
        let searched = try AdaRound.run(model: m, feeds: feeds, options: o)
        XCTAssertEqual(searched.stats.notes.count, 2)
        for line in searched.stats.notes {
            XCTAssertTrue(line.contains("rounded to nearest"), line)
            let n = line.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .punctuationCharacters)) }
            XCTAssertLessThanOrEqual(n[1], n[0], line)
        }
        for (name, w) in searched.float.graph.initializers where name.hasSuffix("_w") {
            let fp = try XCTUnwrap(searched.quantized.annotations.tensors[name]?.fixPos, name)
            XCTAssertTrue(w.floats.allSatisfy { ($0 * Float(1 << fp)).rounded() == $0 * Float(1 << fp) }, name)
        }
    }

    func testThreadCountDoesNotChangeTheResult() throws {
        // Minibatches of 2 chunks run on parallel workers; the sums are taken in chunk order.
        let (m, feeds) = smallConvNet(seed: 5)
        var r = AdaRound.Options(); r.iterations = 40; r.batchSize = 4
        var a = AdaQuant.Options(); a.maxEpochs = 2; a.batchSize = 4
        let saved = KernelConfig.threads
        defer { KernelConfig.threads = saved }
        KernelConfig.threads = 1
        let r1 = try AdaRound.run(model: m, feeds: feeds, options: r), a1 = try AdaQuant.run(model: m, feeds: feeds, options: a)
        KernelConfig.threads = 2
        let r2 = try AdaRound.run(model: m, feeds: feeds, options: r), a2 = try AdaQuant.run(model: m, feeds: feeds, options: a)
        XCTAssertEqual(r1.float.graph.initializers, r2.float.graph.initializers)
        XCTAssertEqual(a1.float.graph.initializers, a2.float.graph.initializers)
    }

    func testBiasCorrectionDoesNotDependOnTheThreadCount() throws {
        // Large enough layers that a threaded kernel sums in another order than a single thread.
        var t = TinyNet(seed: 23)
        var y = t.conv("c1", "x", out: 32, in: 16, k: 3, pad: 1, spread: 30)
        y = t.op("r", "Relu", y)
        y = t.conv("c2", y, out: 32, in: 32, k: 3, pad: 1)
        let m = try Model(graph: t.graph(input: [4, 16, 24, 24], output: y), batchSize: 4)
        let feeds = ["x": t.data([8, 16, 24, 24])]
        let saved = KernelConfig.threads
        defer { KernelConfig.threads = saved }
        KernelConfig.threads = 1
        let one = try BiasCorrection.empirical(model: m, feeds: feeds)
        KernelConfig.threads = 2
        let two = try BiasCorrection.empirical(model: m, feeds: feeds)
        for b in ["c1_b", "c2_b"] { XCTAssertEqual(one.float.graph.initializers[b], two.float.graph.initializers[b], b) }
    }

    /// Weights and inputs exactly on their grids: the quantized layer's only error is its bias's
    /// rounding, which the recalibration rounds to nearest. The correction must leave the float
    /// bias as it is (subtracting the rounding error too would move 0.7 to 0.4, which rounds to 0
    /// at the bias's fix_pos 0 instead of 1).
    func testBiasCorrectionLeavesTheBiasRoundingToTheGrid() throws {
        var t = TinyNet(seed: 29)
        let y = t.gemm("fc", "x", out: 2, in: 2, weight: Tensor(shape: [2, 2], floats: [1, 0.5, 0.25, -1]))
        t.inits["fc_b"] = Tensor(shape: [2], floats: [100, 0.7])
        let m = try Model(graph: t.graph(input: [4, 2], output: y), batchSize: 4)
        let feeds = ["x": Tensor(shape: [8, 2], floats: (0..<16).map { Float($0 % 7 - 3) / 16 })]
        let bc = try BiasCorrection.empirical(model: m, feeds: feeds)
        XCTAssertEqual(bc.float.graph.initializers["fc_b"]?.floats, [100, 0.7])
        XCTAssertEqual(bc.quantized.annotations.tensors["fc_b"]?.fixPos, 0)
    }

    func testBiasCorrectionRemovesChannelMeanError() throws {
        let (m, feeds) = smallConvNet(seed: 13)
        let plain = try Calibrator(model: m).calibrate(feeds)
        let bc = try BiasCorrection.empirical(model: m, feeds: feeds)
        XCTAssertEqual(bc.stats.layers, 2)
        XCTAssertNotEqual(bc.float.graph.initializers["c1_b"], m.graph.initializers["c1_b"])
        // Mean output error per channel is smaller after correction (on the calibration data).
        func meanAbsChannelError(_ q: QuantizedModel) throws -> Float {
            let a = try m.run(feeds)[m.outputs[0].name]!, b = try q.run(feeds)[m.outputs[0].name]!
            var d = b
            a.withFloats { f in d.withMutableFloats { p in for i in p.indices { p[i] -= f[i] } } }
            return ConvGradient.channelSums(d, channels: 4).map { abs($0) }.reduce(0, +)
        }
        XCTAssertLessThan(try meanAbsChannelError(bc.quantized), try meanAbsChannelError(plain))
    }

    /// Three calibration samples through a model of batch 4 (one zero-padded chunk) and through
    /// the same model at batch 1: the padding counts nowhere, so bias correction finds the same
    /// biases and AdaRound with nearest rounding (0 iterations) reports the same layer losses.
    func testPaddedChunkCountsOnlyItsSamples() throws {
        var t = TinyNet(seed: 19)
        var y = t.conv("c1", "x", out: 4, in: 2, k: 3, pad: 1, spread: 10)
        y = t.op("r", "Relu", y)
        y = t.conv("c2", y, out: 2, in: 4, k: 1)
        let feeds = ["x": t.data([3, 2, 5, 5], scale: 2)]
        let m4 = try Model(graph: t.graph(input: [4, 2, 5, 5], output: y), batchSize: 4)
        let m1 = try Model(graph: t.graph(input: [1, 2, 5, 5], output: y), batchSize: 1)
        let b4 = try BiasCorrection.empirical(model: m4, feeds: feeds).float.graph.initializers
        let b1 = try BiasCorrection.empirical(model: m1, feeds: feeds).float.graph.initializers
        for name in ["c1_b", "c2_b"] {
            XCTAssertNotEqual(b1[name], m1.graph.initializers[name], name)
            for (a, b) in zip(b4[name]!.floats, b1[name]!.floats) { XCTAssertEqual(a, b, accuracy: 1e-6, name) }
        }
        var o = AdaRound.Options(); o.iterations = 0
        let losses = { (m: Model) in try AdaRound.run(model: m, feeds: feeds, options: o).stats.notes.map { $0.components(separatedBy: ",")[0] } }
        XCTAssertEqual(try losses(m4), try losses(m1))
    }

    /// `shouldCancel` is polled before each calibration batch and each layer (at least once per
    /// layer); answering true at any poll, the first or the last, stops the pass with `.cancelled`.
    func testCancellationIsPolledThroughThePass() throws {
        let (m, feeds) = smallConvNet()
        var o = AdaRound.Options(); o.iterations = 10
        var polls = 0
        let r = try AdaRound.run(model: m, feeds: feeds, options: o, shouldCancel: { polls += 1; return false })
        XCTAssertGreaterThan(polls, r.stats.layers)
        for stop in [1, polls] {
            var n = 0
            XCTAssertThrowsError(try AdaRound.run(model: m, feeds: feeds, options: o, shouldCancel: { n += 1; return n == stop })) {
                XCTAssertEqual($0 as? OctetQuantError, .cancelled, "\($0)")
            }
        }
    }

    func testOneLayerModel() throws {
        var t = TinyNet(seed: 17)
        let y = t.conv("only", "x", out: 3, in: 2, k: 3, pad: 1, spread: 10)
        let m = try Model(graph: t.graph(input: [1, 2, 5, 5], output: y))
        let feeds = ["x": t.data([8, 2, 5, 5])]
        var o = AdaRound.Options(); o.iterations = 100
        XCTAssertEqual(try AdaRound.run(model: m, feeds: feeds, options: o).stats.layers, 1)
        var a = AdaQuant.Options(); a.maxEpochs = 2
        XCTAssertEqual(try AdaQuant.run(model: m, feeds: feeds, options: a).stats.layers, 1)
        XCTAssertEqual(try BiasCorrection.empirical(model: m, feeds: feeds).stats.layers, 1)
    }

    func testLinearReluLinearWithZeroChannel() throws {
        let (m, feeds) = linearNet(zeroRow: true)
        let (eq, rep) = try CrossLayerEqualization.run(try QuantPreparation.prepare(m.graph).graph)
        XCTAssertEqual(rep.pairs.count, 1)
        XCTAssertEqual(rep.scales["fc1"]![1], 1)
        let em = try Model(graph: eq, batchSize: 4)
        var o = AdaRound.Options(); o.iterations = 100
        let r = try AdaRound.run(model: em, feeds: feeds, options: o)
        var a = AdaQuant.Options(); a.maxEpochs = 3
        let q = try AdaQuant.run(model: em, feeds: feeds, options: a)
        let bc = try BiasCorrection.empirical(model: em, feeds: feeds)
        for result in [r.float, q.float, bc.float] {
            XCTAssertFalse(result.graph.initializers.values.contains { $0.floats.contains { !$0.isFinite } })
            XCTAssertTrue(try result.run(feeds)[m.outputs[0].name]!.floats.allSatisfy(\.isFinite))
        }
        XCTAssertGreaterThan(try outputSQNR(m, r.quantized, feeds), 10)
    }

    func testExcludedLayerIsSkipped() throws {
        let (m, feeds) = smallConvNet()
        var c = QConfig(); c.excludedNodes = ["c2"]
        var o = AdaQuant.Options(); o.maxEpochs = 2
        let r = try AdaQuant.run(model: m, config: c, feeds: feeds, options: o)
        XCTAssertEqual(r.stats.layers, 1)
        XCTAssertEqual(r.float.graph.initializers["c2_w"], try QuantPreparation.prepare(m.graph).graph.initializers["c2_w"])
        var ro = AdaRound.Options(); ro.iterations = 20
        XCTAssertEqual(try AdaRound.run(model: m, config: c, feeds: feeds, options: ro).stats.layers, 1)
    }

    func testMemoryLimitRefusedUpFront() throws {
        let (m, feeds) = smallConvNet()
        var o = AdaQuant.Options(); o.maxMemoryMB = 0
        XCTAssertThrowsError(try AdaQuant.run(model: m, feeds: feeds, options: o)) { e in
            guard case RecoveryError.memoryLimit(_, 0, _) = e else { return XCTFail("\(e)") }
            XCTAssertTrue("\(e)".contains("max_memory_mb = 0 cannot be met"), "\(e)")
        }
    }
}
