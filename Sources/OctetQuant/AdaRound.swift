import Foundation
import OctetGraph
import OctetTensor

/// AdaRound (Nagel et al. 2020, "Up or Down? Adaptive Rounding for Post-Training Quantization",
/// arXiv:2004.10568 §3–4), per layer in graph order on the streamed calibration set.
///
/// Weights W = s · clamp(⌊W/s⌋ + h(V), qmin, qmax) with the rectified sigmoid
/// h(V) = clip(σ(V)(ζ − γ) + γ, 0, 1), ζ = 1.1, γ = −0.1, V initialised so that h(V) = W/s − ⌊W/s⌋.
/// Loss: Σ over channels, mean over samples and positions, of (out − target)² — out after the
/// fused activation on the quantized model's input, target the float layer output on the float
/// input — plus λ Σ (1 − |2h − 1|^β), added after a 20 % warm-up, β decaying from 20 to 2 (cosine,
/// as AIMET does). Adam (lr 1e-2) on V over random minibatches (own seeded generator); at the end
/// h is rounded to {0, 1}. Bias: the float bias at its fix_pos. The layer's weight fix_pos (scale
/// s) is the calibrated one; the model is recalibrated afterwards (the hard-rounded weights lie on
/// the grid, so their values survive). With `correctBias` (default) the per-channel mean output
/// error of the rounded layer is then removed from its float bias (empirical bias correction,
/// Nagel 2019 §4.2). Per-tensor weight scales only.
public enum AdaRound {
    public struct Options: Sendable {
        public var iterations = 1000
        public var batchSize = 2
        public var learningRate: Float = 1e-2
        public var lambda: Float = 0.01
        public var betaStart: Float = 20
        public var betaEnd: Float = 2
        public var warmup: Float = 0.2
        public var seed: UInt64 = 1705472343
        /// After rounding, remove the per-channel mean output error from the float bias
        /// (empirical bias correction with the rounded weights).
        public var correctBias = true
        public var maxMemoryMB: Int?
        public init() {}
    }
    static let zeta: Float = 1.1, gamma: Float = -0.1

    /// - Throws: `RecoveryError.unsupported` for per-channel weight scales, `.memoryLimit`, and
    ///   calibration/execution errors naming the node.
    public static func run(model: Model, config: QConfig = QConfig(), feeds: [String: Tensor], options: Options = Options())
        throws -> (quantized: QuantizedModel, float: Model, stats: RecoveryStats) {
        var rng = SplitMix64(seed: options.seed)
        var notes: [String] = []
        var (q, m, stats) = try RecoveryPipeline.run(model: model, config: config, feeds: feeds, maxMemoryMB: options.maxMemoryMB,
                                                     pass: "adaround") { site in
            guard RecoveryPipeline.perTensor(site.weightParams) else {
                throw RecoveryError.unsupported(layer: site.annotation.node, reason: "AdaRound needs a per-tensor weight scale")
            }
            let r = try optimize(site, options, &rng)
            notes.append(String(format: "%@: loss %.4g → %.4g, %d of %d weights rounded up differently",
                                site.annotation.node, r.before, r.after, r.flipped, r.weight.count))
            return (r.weight, r.bias)
        }
        stats.notes = notes
        return (q, m, stats)
    }

    struct LayerResult { var weight: Tensor; var bias: Tensor?; var before: Double; var after: Double; var flipped: Int }

    static func optimize(_ site: LayerSite, _ o: Options, _ rng: inout SplitMix64) throws -> LayerResult {
        let p = try LayerProblem(site: site, graph: site.graph)
        let wp = site.weightParams, s = wp.scale, qmin = Float(wp.qmin), qmax = Float(wp.qmax)
        let w0 = p.floatWeight.floats
        let floorW = w0.map { Foundation.floor($0 / s) }
        var v = Tensor(shape: p.floatWeight.shape, floats: zip(w0, floorW).map { w, f in
            let frac = min(max((w / s - f - gamma) / (zeta - gamma), 1e-4), 1 - 1e-4)
            return Foundation.log(frac / (1 - frac))
        })
        let bias = try p.floatBias.map { b in try site.biasParams.map { try ParameterQuantizer.fakeQuantized(b, $0, config: site.config) } ?? b }
        let nearest = try ParameterQuantizer.fakeQuantized(p.floatWeight, wp, config: site.config)
        let before = try p.fullLoss(weight: nearest, bias: bias)
        var adam = Adam(count: v.count, lr: o.learningRate)
        let n = p.sampleChunks, per = max(1, (o.batchSize + site.quantInput[0].shape[0] - 1) / site.quantInput[0].shape[0])
        let warm = Int(Float(o.iterations) * o.warmup)
        for it in 0..<o.iterations {
            let idx = (0..<min(per, n)).map { _ in Int(rng.next() % UInt64(n)) }
            let soft = softWeights(v, floorW, s, qmin, qmax)
            let r = try p.evaluate(weight: soft, bias: bias, chunks: idx, gradients: true, perChannelSum: true)
            var beta: Float? = nil
            if it >= warm {
                let t = Float(it - warm) / Float(max(1, o.iterations - warm))
                beta = o.betaEnd + 0.5 * (o.betaStart - o.betaEnd) * (1 + Foundation.cos(Float.pi * t))
            }
            let g = gradientV(v, r.dW!, floorW, s, qmin, qmax, lambda: o.lambda, beta: beta)
            adam.step(&v, g)
        }
        let hard = Tensor(shape: v.shape, floats: v.floats.indices.map { i in
            s * min(max(floorW[i] + (h(v.floats[i]) >= 0.5 ? 1 : 0), qmin), qmax)
        })
        let flipped = zip(hard.floats, nearest.floats).filter { $0 != $1 }.count
        var outBias = p.floatBias, qb = bias
        if o.correctBias, let nb = try BiasCorrection.correctedBias(p, quantizedWeight: hard) {
            outBias = nb
            qb = try site.biasParams.map { try ParameterQuantizer.fakeQuantized(nb, $0, config: site.config) } ?? nb
        }
        return LayerResult(weight: hard, bias: outBias, before: before, after: try p.fullLoss(weight: hard, bias: qb), flipped: flipped)
    }

    @inline(__always) static func sigmoid(_ x: Float) -> Float { 1 / (1 + Foundation.exp(-x)) }
    @inline(__always) static func h(_ v: Float) -> Float { min(max(sigmoid(v) * (zeta - gamma) + gamma, 0), 1) }

    static func softWeights(_ v: Tensor, _ floorW: [Float], _ s: Float, _ qmin: Float, _ qmax: Float) -> Tensor {
        var out = v
        out.withMutableFloats { p in for i in p.indices { p[i] = s * min(max(floorW[i] + h(p[i]), qmin), qmax) } }
        return out
    }

    /// ∂loss/∂V: the reconstruction part through W_soft (zero where the clamp or h saturates)
    /// plus λ ∂/∂V Σ (1 − |2h − 1|^β) when `beta` is set.
    static func gradientV(_ v: Tensor, _ dW: Tensor, _ floorW: [Float], _ s: Float, _ qmin: Float, _ qmax: Float,
                          lambda: Float, beta: Float?) -> Tensor {
        var g = dW
        v.withFloats { vp in g.withMutableFloats { gp in
            for i in gp.indices {
                let sg = sigmoid(vp[i]), raw = sg * (zeta - gamma) + gamma
                guard raw > 0, raw < 1 else { gp[i] = 0; continue }
                let dh = (zeta - gamma) * sg * (1 - sg)
                let q = floorW[i] + raw
                var d = (q >= qmin && q <= qmax) ? gp[i] * s * dh : 0
                if let beta {
                    let u = 2 * raw - 1, au = abs(u)
                    d += lambda * (-beta * Foundation.pow(au, beta - 1) * (u >= 0 ? 1 : -1) * 2) * dh
                }
                gp[i] = d
            }
        } }
        return g
    }
}
