import OctetGraph
@testable import OctetQuant
import OctetTensor
import XCTest

/// AdaQuant's network output loss (reference-quantizer §7 step 3): per graph output, the mean over
/// model batches of √MSE(float output, quantized output). Checked against the float model and the
/// calibrated integer model run here on the whole set, split into batches by hand.
final class NetworkLossTests: XCTestCase {
    /// Conv(3→8) → Relu → Conv(8→4), batch 2; 15 samples, so the last batch holds one.
    func model() -> (Model, [String: Tensor]) {
        var t = TinyNet(seed: 21)
        var y = t.conv("c1", "x", out: 8, in: 3, k: 3, pad: 1, spread: 30)
        y = t.op("r", "Relu", y)
        y = t.conv("c2", y, out: 4, in: 8, k: 1)
        return (try! Model(graph: t.graph(input: [2, 3, 6, 6], output: y), batchSize: 2), ["x": t.data([15, 3, 6, 6])])
    }

    /// Mean over batches of 2 samples (the last one of 1) of √(mean (a − b)²).
    func expected(_ a: Tensor, _ b: Tensor, samples: Int, batch: Int) -> Double {
        let per = a.count / samples
        let (x, y) = (a.floats, b.floats)
        let parts = stride(from: 0, to: samples, by: batch).map { s -> Double in
            let r = (s * per)..<(min(s + batch, samples) * per)
            return (r.reduce(0.0) { $0 + Double((x[$1] - y[$1]) * (x[$1] - y[$1])) } / Double(r.count)).squareRoot()
        }
        return parts.reduce(0, +) / Double(parts.count)
    }

    func testNetworkLossAtEverySiteIsTheCalibratedModelsOutputLoss() throws {
        let (m, feeds) = model()
        let c = try Calibrator(model: m)
        let q = try c.calibrate(feeds)
        let out = m.outputs[0].name
        let want = expected(try m.run(feeds)[out]!, try q.run(feeds)[out]!, samples: 15, batch: 2)
        XCTAssertGreaterThan(want, 0)
        let runner = try LayerwiseRunner(graph: c.prepared.graph, plan: c.plan, config: c.config, params: q.annotations.tensors,
                                         feeds: feeds, batchSize: 2)
        var seen: [Double] = []
        _ = try runner.run(networkLoss: true) { site in
            let w = try ParameterQuantizer.fakeQuantized(site.graph.initializers[site.annotation.weight!]!, site.weightParams, config: site.config)
            let b = try site.annotation.bias.map { try ParameterQuantizer.fakeQuantized(site.graph.initializers[$0]!, site.biasParams!, config: site.config) }
            seen.append(contentsOf: try site.networkLoss!(w, b))
            // Another weight changes the loss: the layer's weight zeroed leaves only its bias.
            XCTAssertNotEqual(try site.networkLoss!(Tensor(shape: w.shape, floats: [Float](repeating: 0, count: w.count)), b)[0], want)
            return nil
        }
        XCTAssertEqual(seen.count, 2)
        for s in seen { XCTAssertEqual(s, want, accuracy: want * 1e-5) }
    }

    /// Two heads on one conv, a graph output that is not batch-first, and an int64 ArgMax output.
    func multiOutputModel(argmaxOnly: Bool = false) -> (Model, [String: Tensor]) {
        var t = TinyNet(seed: 23)
        let y = t.op("r", "Relu", t.conv("c1", "x", out: 8, in: 3, k: 3, pad: 1, spread: 30))
        let a = t.conv("ca", y, out: 4, in: 8, k: 1)
        let b = t.op("tb", "Transpose", t.conv("cb", y, out: 4, in: 8, k: 1), ["perm": .ints([1, 0, 2, 3])])
        let am = t.op("am", "ArgMax", a, ["axis": .int(1)])
        var g = t.graph(input: [2, 3, 6, 6], output: a)
        g.outputs = argmaxOnly ? [ValueInfo(name: am, dtype: .int64, dims: [])]
            : [ValueInfo(name: a, dtype: .float32, dims: []), ValueInfo(name: b, dtype: .float32, dims: []),
               ValueInfo(name: am, dtype: .int64, dims: [])]
        return (try! Model(graph: g, batchSize: 2), ["x": t.data([15, 3, 6, 6])])
    }

    func testNetworkLossPerFloatOutputWithBatchesCutAsModelRunCutsThem() throws {
        let (m, feeds) = multiOutputModel()
        let c = try Calibrator(model: m)
        let q = try c.calibrate(feeds)
        // Run chunk by chunk (2 samples, the last padded): the batch-first output scored on the real
        // samples, the transposed [4, 2, 6, 6] one (not per sample) on the whole chunk.
        let names = m.outputs.map(\.name)
        XCTAssertThrowsError(try m.run(feeds))   // the transposed output cannot be joined over chunks,
        XCTAssertThrowsError(try q.run(feeds))   // whichever model runs it
        var losses: [[Double]] = [[], []]
        for start in stride(from: 0, to: 15, by: 2) {
            let count = min(2, 15 - start)
            let chunk = feeds.mapValues { TensorBatch.slice($0, start: start, count: count, padTo: 2) }
            let (fo, qo) = (try m.run(chunk), try q.run(chunk))
            losses[0].append(expected(TensorBatch.slice(fo[names[0]]!, start: 0, count: count, padTo: count),
                                      TensorBatch.slice(qo[names[0]]!, start: 0, count: count, padTo: count), samples: 1, batch: 1))
            losses[1].append(expected(fo[names[1]]!, qo[names[1]]!, samples: 1, batch: 1))
        }
        let want = losses.map { $0.reduce(0, +) / Double($0.count) }
        let runner = try LayerwiseRunner(graph: c.prepared.graph, plan: c.plan, config: c.config, params: q.annotations.tensors,
                                         feeds: feeds, batchSize: 2)
        var seen = 0
        _ = try runner.run(networkLoss: true) { site in
            let w = try ParameterQuantizer.fakeQuantized(site.graph.initializers[site.annotation.weight!]!, site.weightParams, config: site.config)
            let b = try ParameterQuantizer.fakeQuantized(site.graph.initializers[site.annotation.bias!]!, site.biasParams!, config: site.config)
            let got = try site.networkLoss!(w, b)
            XCTAssertEqual(got.count, 2)   // the int64 ArgMax output is not compared
            for (g, e) in zip(got, want) { XCTAssertEqual(g, e, accuracy: e * 1e-5) }
            seen += 1
            return nil
        }
        XCTAssertEqual(seen, 3)
    }

    func testNetworkLossNeedsAFloatOutput() throws {
        let (m, feeds) = multiOutputModel(argmaxOnly: true)
        var o = AdaQuant.Options(); o.maxEpochs = 1; o.epochLoss = .network
        XCTAssertThrowsError(try AdaQuant.run(model: m, feeds: feeds, options: o)) {
            XCTAssertEqual("\($0)", "epoch loss: network: the model has no float32 graph output to compare")
        }
    }

    /// A layer read by two heads keeps its float parameters unless no output's network loss is worse.
    /// Channel 0 of the shared conv passes the small input channel 2 alone to head 1; the weight
    /// fix_pos search (on the layer loss) moves to a finer grid, which helps head 2 and hurts head 1.
    func testNoOutputEndsWorse() throws {
        var t = TinyNet(seed: 5)
        var w1 = t.random([16, 3, 3, 3], scale: 0.2)
        w1.withMutableFloats { p in
            for o in 0..<16 { for k in 0..<9 { p[o * 27 + 18 + k] = 0 } }
            for i in 0..<27 { p[i] = 0 }
            p[18 + 4] = 1
        }
        var h2 = t.random([3, 16, 1, 1], scale: 0.5)
        h2.withMutableFloats { p in for o in 0..<3 { p[o * 16] = 0 } }
        let a = t.conv("shared", "x", out: 16, in: 3, k: 3, pad: 1, weight: w1)
        let o1 = t.conv("head1", a, out: 1, in: 16, k: 1, weight: Tensor(shape: [1, 16, 1, 1], floats: [1] + [Float](repeating: 0, count: 15)))
        let o2 = t.conv("head2", a, out: 3, in: 16, k: 1, weight: h2)
        for b in ["shared_b", "head1_b", "head2_b"] { t.inits[b] = Tensor(zeros: t.inits[b]!.shape) }
        var g = t.graph(input: [1, 3, 8, 8], output: o1)
        g.outputs.append(ValueInfo(name: o2, dtype: .float32, dims: []))
        var x = t.data([16, 3, 8, 8], scale: 1.7)
        x.withMutableFloats { p in for n in 0..<16 { for i in 0..<64 { p[n * 192 + 128 + i] *= 0.05 } } }
        var o = AdaQuant.Options(); o.epochLoss = .network
        let r = try AdaQuant.run(model: try Model(graph: g), feeds: ["x": x], options: o)
        for line in r.stats.notes {
            let n = line.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .punctuationCharacters)) }
            XCTAssertGreaterThanOrEqual(n.count, 4, line)
            XCTAssertLessThanOrEqual(n[2], n[0], line)   // "A1 / A2 → B1 / B2"
            XCTAssertLessThanOrEqual(n[3], n[1], line)
        }
    }

    /// The float outputs held for the whole pass count against `maxMemoryMB`: 64 samples of an
    /// [8, 32, 32] output are 2 MiB.
    func testMemoryEstimateCountsTheFloatOutputs() throws {
        var t = TinyNet(seed: 3)
        let y = t.conv("c", "x", out: 8, in: 3, k: 3, pad: 1)
        let m = try Model(graph: t.graph(input: [1, 3, 32, 32], output: y))
        let feeds = ["x": t.data([64, 3, 32, 32])]
        func needed(_ loss: AdaQuant.EpochLoss) -> Int {
            var o = AdaQuant.Options(); o.maxMemoryMB = 0; o.epochLoss = loss
            do { _ = try AdaQuant.run(model: m, feeds: feeds, options: o) } catch RecoveryError.memoryLimit(let n, _, _) { return n } catch {}
            XCTFail("not refused")
            return 0
        }
        XCTAssertGreaterThanOrEqual(needed(.network) - needed(.layer), 2)
    }

    /// A graph output that is a constant: the integer model returns it as the float model does, and
    /// the network loss compares the other output.
    func testConstantGraphOutput() throws {
        var t = TinyNet(seed: 1)
        let y = t.conv("c", "x", out: 2, in: 3, k: 1)
        var g = t.graph(input: [1, 3, 4, 4], output: y)
        g.initializers["k"] = Tensor(shape: [2], floats: [1.5, -2])
        g.outputs.append(ValueInfo(name: "k", dtype: .float32, dims: []))
        let m = try Model(graph: g)
        let feeds = ["x": t.data([3, 3, 4, 4])]
        XCTAssertEqual(try m.run(feeds)["k"], g.initializers["k"])   // once, though the 3 samples run one by one
        XCTAssertEqual(try Calibrator(model: m).calibrate(feeds).run(feeds)["k"], g.initializers["k"])
        var o = AdaQuant.Options(); o.maxEpochs = 2; o.epochLoss = .network
        let r = try AdaQuant.run(model: m, feeds: feeds, options: o)
        XCTAssertTrue(r.stats.notes[0].contains(" / 0 → "), r.stats.notes[0])   // the constant's loss is 0
    }

    func testWithoutNetworkLossSitesHaveNone() throws {
        let (m, feeds) = model()
        let c = try Calibrator(model: m)
        let q = try c.calibrate(feeds)
        let runner = try LayerwiseRunner(graph: c.prepared.graph, plan: c.plan, config: c.config, params: q.annotations.tensors,
                                         feeds: feeds, batchSize: 2)
        _ = try runner.run { site in XCTAssertNil(site.networkLoss); return nil }
    }

    func testImprovementRule() {
        XCTAssertTrue(AdaQuant.improves([1, 2], on: [1, 3]))
        XCTAssertFalse(AdaQuant.improves([1, 2], on: [1, 2]))       // nothing better
        XCTAssertFalse(AdaQuant.improves([0.5, 2.1], on: [1, 2]))   // one output worse
        XCTAssertTrue(AdaQuant.improves([0.9], on: [1]))
    }

    /// With the network loss deciding, each layer's network loss only falls, the next layer starts
    /// where the last ended, and seeded reruns are byte-identical.
    func testAdaQuantWithNetworkLoss() throws {
        let (m, feeds) = model()
        var o = AdaQuant.Options(); o.maxEpochs = 6; o.batchSize = 4; o.epochLoss = .network
        let r = try AdaQuant.run(model: m, feeds: feeds, options: o)
        XCTAssertEqual(r.stats.layers, 2)
        let losses = r.stats.notes.map { l in
            l.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .punctuationCharacters)) }
        }
        for (l, line) in zip(losses, r.stats.notes) {
            XCTAssertTrue(line.contains("network loss"), line)
            XCTAssertLessThanOrEqual(l[1], l[0], line)
        }
        XCTAssertEqual(losses[1][0], losses[0][1], accuracy: losses[0][1] * 1e-3)   // printed with 4 digits
        XCTAssertLessThan(losses[1][1], losses[0][0])
        let again = try AdaQuant.run(model: m, feeds: feeds, options: o)
        XCTAssertEqual(r.float.graph.initializers, again.float.graph.initializers)
        // The whole-set output error of the result is below plain calibration's.
        let out = m.outputs[0].name
        let plain = try Calibrator(model: m).calibrate(feeds)
        XCTAssertLessThan(expected(try m.run(feeds)[out]!, try r.quantized.run(feeds)[out]!, samples: 15, batch: 2),
                          expected(try m.run(feeds)[out]!, try plain.run(feeds)[out]!, samples: 15, batch: 2))
    }
}
