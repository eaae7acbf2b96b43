import CKernels
import XCTest

/// The fused reconstruction kernels of AdaQuant / AdaRound against direct Double formulas:
/// the loss and output gradient through each activation, and the AdaRound step, whose gradient
/// (read back from Adam's first moment) is checked against central differences of the loss.
final class ReconstructionKernelTests: XCTestCase {
    func testReconstructionLossAndGradient() {
        var r = TinyNet(seed: 3)
        let n = 10_001  // three blocks of 4096, the last partial
        let pre = (0..<n).map { _ in r.uniform() * 8 }, target = (0..<n).map { _ in r.uniform() * 4 }
        // 3: HardSwish; 4: HardSigmoid with alpha 0.2 and beta (lo) 0.5.
        for (act, lo, hi, alpha) in [(Int32(0), Float(0), Float(0), Float(0)), (1, 0, 6, 0), (2, 0, 0, 26.0 / 256), (3, 0, 0, 0),
                                     (4, 0.5, 0, 0.2)] {
            var dy = [Float](repeating: 0, count: n)
            let loss = octet_f32_recon_loss(pre, target, &dy, n, act, lo, hi, alpha, 0.5)
            var want = 0.0
            for i in 0..<n {
                let x = Double(pre[i])
                var out = x, d = 1.0
                if act == 1 { out = min(max(x, Double(lo)), Double(hi)); d = x < Double(lo) || x > Double(hi) ? 0 : 1 }
                if act == 2 { out = x < 0 ? x * Double(alpha) : x; d = x < 0 ? Double(alpha) : 1 }
                if act == 3 { out = x * min(max(x / 6 + 0.5, 0), 1); d = x < -3 ? 0 : x > 3 ? 1 : x / 3 + 0.5 }
                if act == 4 {
                    let t = Double(alpha) * x + Double(lo)
                    out = min(max(t, 0), 1); d = t <= 0 || t >= 1 ? 0 : Double(alpha)
                }
                let e = out - Double(target[i])
                want += e * e
                XCTAssertEqual(Double(dy[i]), 0.5 * e * d, accuracy: 1e-5 * max(1, abs(e)), "act \(act) i \(i)")
            }
            XCTAssertEqual(loss, want, accuracy: want * 1e-5, "act \(act)")
            XCTAssertEqual(octet_f32_recon_loss(pre, target, nil, n, act, lo, hi, alpha, 0.5), loss)
            var io = pre  // the gradient written over the input, as LayerProblem does
            let inPlace = io.withUnsafeMutableBufferPointer { p in
                octet_f32_recon_loss(p.baseAddress!, target, p.baseAddress!, n, act, lo, hi, alpha, 0.5)
            }
            XCTAssertEqual(io, dy, "act \(act) in place")
            XCTAssertEqual(inPlace, want, accuracy: want * 1e-5, "act \(act) in place")
        }
    }

    /// L(v) = Σ dw_i · soft_i(v) + λ Σ (1 − |2h(v_i) − 1|^β): dL/dv is the step's gradient.
    func testAdaRoundStepGradientMatchesFiniteDifferences() {
        var r = TinyNet(seed: 5)
        let n = 64, scale: Float = 0.25, qmin: Float = -128, qmax: Float = 127, lambda: Float = 0.01
        var v = (0..<n).map { _ in r.uniform() * 3 }
        v[0] = 12; v[1] = -12                                  // h saturated: gradient 0
        var floorW = (0..<n).map { _ in (r.uniform() * 100).rounded(.down) }
        floorW[2] = 127; floorW[3] = -129                       // soft weight clamped above / below
        let dw = (0..<n).map { _ in r.uniform() }
        for beta: Float in [0, 2, 10] {
            var vv = v, m = [Float](repeating: 0, count: n), m2 = m, soft = m, sg = m
            octet_adaround_soft(vv, floorW, &soft, &sg, n, scale, qmin, qmax)
            var p = octet_adaround_params(scale: scale, qmin: qmin, qmax: qmax, lambda: lambda, beta: beta, lr: 1e-3,
                                          beta1: 0.9, beta2: 0.999, eps: 1e-8, c1: 0.1, c2: 0.001)
            var (v2, mb, m2b, soft2) = (v, m, m2, soft)  // the same step recomputing σ(v)
            octet_adaround_step(&vv, &m, &m2, &sg, floorW, dw, &soft, n, &p)
            octet_adaround_step(&v2, &mb, &m2b, nil, floorW, dw, &soft2, n, &p)
            XCTAssertEqual(v2, vv); XCTAssertEqual(mb, m); XCTAssertEqual(m2b, m2); XCTAssertEqual(soft2, soft)
            func h(_ x: Double) -> Double { min(max(1 / (1 + exp(-x)) * 1.2 - 0.1, 0), 1) }
            func loss(_ i: Int, _ x: Double) -> Double {
                let s = Double(scale) * min(max(Double(floorW[i]) + h(x), Double(qmin)), Double(qmax))
                return Double(dw[i]) * s + (beta > 0 ? Double(lambda) * (1 - pow(abs(2 * h(x) - 1), Double(beta))) : 0)
            }
            for i in 0..<n {
                let g = Double(m[i]) / 0.1, eps = 1e-4, x = Double(v[i])
                let raw = 1 / (1 + exp(-x)) * 1.2 - 0.1
                let fd = raw <= 0 || raw >= 1 ? 0 : (loss(i, x + eps) - loss(i, x - eps)) / (2 * eps)
                XCTAssertEqual(g, fd, accuracy: 1e-3 * max(1, abs(fd)), "beta \(beta) i \(i)")
                // Adam at t = 1 (m̂ = g, v̂ = g²) moves v by lr · g / (|g| + ε); soft follows the new v.
                let moved = Double(v[i]) - 1e-3 * g / (abs(g) + 1e-8)
                XCTAssertEqual(Double(vv[i]), g == 0 ? Double(v[i]) : moved, accuracy: 1e-5, "v \(i)")
                let want = Double(scale) * min(max(Double(floorW[i]) + h(Double(vv[i])), Double(qmin)), Double(qmax))
                XCTAssertEqual(Double(soft[i]), want, accuracy: 1e-5, "soft \(i)")
                XCTAssertEqual(Double(sg[i]), 1 / (1 + exp(-Double(vv[i]))), accuracy: 1e-6, "sigmoid \(i)")
            }
            XCTAssertEqual(m[0], 0); XCTAssertEqual(m[1], 0)
        }
    }

    func testAdaRoundSoftWeights() {
        let v: [Float] = [-20, 0, 20, 0.5], floorW: [Float] = [3, -2, 127, -128]
        var soft = [Float](repeating: 0, count: 4), sg = soft
        octet_adaround_soft(v, floorW, &soft, &sg, 4, 0.5, -128, 127)
        // h(−20) = 0, h(0) = 0.5, h(20) = 1 (clamped to qmax), h(0.5) = σ(0.5)·1.2 − 0.1.
        let h05 = Float(1 / (1 + exp(-0.5)) * 1.2 - 0.1)
        XCTAssertEqual(soft[0], 1.5); XCTAssertEqual(soft[1], -0.75, accuracy: 1e-6)
        XCTAssertEqual(soft[2], 63.5); XCTAssertEqual(soft[3], 0.5 * (-128 + h05), accuracy: 1e-5)
        for i in 0..<4 { XCTAssertEqual(Double(sg[i]), 1 / (1 + exp(-Double(v[i]))), accuracy: 1e-6, "sigmoid \(i)") }
    }
}
