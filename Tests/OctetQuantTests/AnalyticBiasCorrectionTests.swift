import Foundation
import OctetGraph
import OctetQuant
import OctetTensor
import XCTest

/// Nagel et al. 2019 §4.2: b −= ε·E[x] with E[x] of the BN output N(β, γ²) after Relu, checked against
/// a numerically integrated clipped-normal mean and the calibrated weight fix_pos.
final class AnalyticBiasCorrectionTests: XCTestCase {
    func testBiasMinusEpsilonTimesClippedNormalMean() throws {
        var t = TinyNet(seed: 21)
        var y = t.conv("c1", "x", out: 3, in: 2, k: 3, pad: 1)
        let gamma: [Float] = [1, 2, 0.5], beta: [Float] = [0, 1, -0.5]
        t.inits["g"] = Tensor(shape: [3], floats: gamma); t.inits["be"] = Tensor(shape: [3], floats: beta)
        t.inits["mu"] = Tensor(shape: [3], floats: [0.1, -0.2, 0.3]); t.inits["var"] = Tensor(shape: [3], floats: [1, 2, 0.5])
        y = t.op("bn", "BatchNormalization", y, extra: ["g", "be", "mu", "var"])
        y = t.op("r", "Relu", y)
        y = t.conv("c2", y, out: 2, in: 3, k: 1, weight: t.random([2, 3, 1, 1], scale: 0.37))
        let g0 = t.graph(input: [1, 2, 4, 4], output: y)
        let (g, report) = try AnalyticBiasCorrection.run(original: g0)
        XCTAssertEqual(report.corrected, ["c2"])
        // E[relu(z)], z ~ N(β, γ²), by Simpson's rule over ±12 σ.
        func clippedMean(_ m: Double, _ s: Double) -> Double {
            let n = 20000, a = m - 12 * s, h = 24 * s / Double(n)
            var acc = 0.0
            for i in 0...n {
                let z = a + Double(i) * h, w = i == 0 || i == n ? 1.0 : (i % 2 == 1 ? 4.0 : 2.0)
                acc += w * max(z, 0) * exp(-(z - m) * (z - m) / (2 * s * s)) / (s * (2 * Double.pi).squareRoot())
            }
            return acc * h / 3
        }
        let ex = (0..<3).map { clippedMean(Double(beta[$0]), Double(gamma[$0])) }
        let m = try Model(graph: g0)
        let fp = try Calibrator(model: m).calibrate(["x": t.data([2, 2, 4, 4])]).annotations.fixPos("c2_w")!
        let w = t.inits["c2_w"]!.floats
        let q = w.map { Float(Double(($0 * Float(1 << fp)).rounded(.toNearestOrAwayFromZero)) / Double(1 << fp)) }
        for o in 0..<2 {
            var corr = 0.0
            for c in 0..<3 { corr += Double(q[o * 3 + c] - w[o * 3 + c]) * ex[c] }
            XCTAssertEqual(Double(g.initializers["c2_b"]!.floats[o]), Double(t.inits["c2_b"]!.floats[o]) - corr, accuracy: 1e-6)
        }
        XCTAssertEqual(g.initializers["c2_w"], t.inits["c2_w"])
    }
}
