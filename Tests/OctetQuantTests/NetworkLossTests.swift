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
