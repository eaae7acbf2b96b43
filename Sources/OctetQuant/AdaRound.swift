import CKernels
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
/// s) is, with `searchFixPos` (default), the one of fp − 1 … fp + 2 around the calibrated fp whose
/// nearest-rounded weights give the smallest reconstruction loss on the calibration set: the weight
/// observer minimizes the weight error, while a finer grid that clips a few large weights often
/// reproduces the layer output better (depthwise layers with folded BatchNorm). The model is
/// recalibrated afterwards; the hard-rounded weights lie on the chosen grid and within its range,
/// so the weight observer finds that fix_pos again and their values survive. With `correctBias`
/// (off by default) the per-channel mean output error of the rounded layer is then removed from its
/// float bias (empirical bias correction, Nagel 2019 §4.2). A layer whose full-set loss AdaRound does
/// not lower keeps its nearest-rounded weights and float bias. With `iterations` 0 the layer is
/// rounded to nearest at the searched weight fix_pos: the paper's round-to-nearest baseline with
/// the search alone. Per-tensor weight scales only.
public enum AdaRound {
    public struct Options: Sendable {
        /// Adam steps per layer; 0 rounds to nearest (at the searched fix_pos when `searchFixPos`).
        public var iterations = 1000
        public var batchSize = 2
        public var learningRate: Float = 1e-2
        public var lambda: Float = 0.01
        public var betaStart: Float = 20
        public var betaEnd: Float = 2
        public var warmup: Float = 0.2
        public var seed: UInt64 = 1705472343
        /// After rounding, remove the per-channel mean output error from the float bias (empirical
        /// bias correction with the rounded weights). Off by default: on effnet_lite0 it lowers the
        /// output SQNR from 17.9 to 16.5 dB (the correction targets the pre-activation mean error,
        /// AdaRound the post-activation output).
        public var correctBias = false
        /// Choose the weight fix_pos among fp − 1 … fp + 2 by the layer's reconstruction loss.
        public var searchFixPos = true
        public var maxMemoryMB: Int?
        public init() {}
    }
    static let zeta: Float = 1.1, gamma: Float = -0.1
    /// Accepted `Options.iterations` (the pass does not stop on Ctrl-C, so the count is bounded).
    public static let iterationRange = 0...1_000_000

    /// `shouldCancel` is polled before each calibration batch and each layer.
    /// - Throws: `OctetQuantError.cancelled` when it answers true, `RecoveryError.unsupported` for per-channel weight scales, `.memoryLimit`, and
    ///   calibration/execution errors naming the node.
    public static func run(model: Model, config: QConfig = QConfig(), feeds: [String: Tensor], options: Options = Options(),
                           shouldCancel: (() -> Bool)? = nil) throws -> (quantized: QuantizedModel, float: Model, stats: RecoveryStats) {
        try RecoveryError.require("iterations", options.iterations, in: iterationRange)
        try RecoveryError.require("batch size", options.batchSize, atLeast: 1)
        var rng = SplitMix64(seed: options.seed)
        var notes: [String] = []
        var (q, m, stats) = try RecoveryPipeline.run(model: model, config: config, feeds: feeds, maxMemoryMB: options.maxMemoryMB,
                                                     pass: "adaround", shouldCancel: shouldCancel) { site in
            guard RecoveryPipeline.perTensor(site.weightParams) else {
                throw RecoveryError.unsupported(layer: site.annotation.node, reason: "AdaRound needs a per-tensor weight scale")
            }
            let t0 = Date()
            let r = try optimize(site, options, &rng)
            let moved = r.params.fixPos != site.weightParams.fixPos
                ? String(format: ", weight fix_pos %d → %d", site.weightParams.fixPos ?? 0, r.params.fixPos ?? 0) : ""
            let what = options.iterations == 0 ? "rounded to nearest"
                : r.kept ? "no lower loss: rounding to nearest kept" : String(format: "%d of %d weights rounded up differently", r.flipped, r.weight.count)
            notes.append(String(format: "%@: loss %.4g → %.4g%@, %@, %.1f s",
                                site.annotation.node, r.before, r.after, moved, what, Date().timeIntervalSince(t0)))
            return LayerUpdate(weight: r.weight, bias: r.bias, weightParams: r.params)
        }
        stats.notes = notes
        return (q, m, stats)
    }

    struct LayerResult {
        var weight: Tensor; var bias: Tensor?; var params: QuantParams; var before: Double; var after: Double; var flipped: Int
        /// AdaRound did not lower the full-set loss: the nearest-rounded weights were kept.
        var kept: Bool
    }

    static func optimize(_ site: LayerSite, _ o: Options, _ rng: inout SplitMix64) throws -> LayerResult {
        let p = try LayerProblem(site: site, graph: site.graph)
        let bias = try p.floatBias.map { b in try site.biasParams.map { try ParameterQuantizer.fakeQuantized(b, $0, config: site.config) } ?? b }
        let before = try p.nearestLoss(site.weightParams, bias: bias)
        let (wp, searched) = o.searchFixPos ? try p.searchWeightFixPos(bias: bias, calibratedLoss: before) : (site.weightParams, before)
        let nearest = try ParameterQuantizer.fakeQuantized(p.floatWeight, wp, config: site.config)
        if o.iterations == 0 {
            return LayerResult(weight: nearest, bias: p.floatBias, params: wp, before: before, after: searched, flipped: 0, kept: false)
        }
        let s = wp.scale, qmin = Float(wp.qmin), qmax = Float(wp.qmax)
        let w0 = p.floatWeight.floats
        let floorW = w0.map { Foundation.floor($0 / s) }
        var v = zip(w0, floorW).map { w, f in
            let frac = min(max((w / s - f - gamma) / (zeta - gamma), 1e-4), 1 - 1e-4)
            return Foundation.log(frac / (1 - frac))
        }
        var soft = [Float](repeating: 0, count: v.count), sg = soft, m = soft, m2 = soft
        octet_adaround_soft(v, floorW, &soft, &sg, v.count, s, qmin, qmax)
        var step = octet_adaround_params(scale: s, qmin: qmin, qmax: qmax, lambda: o.lambda, beta: 0, lr: o.learningRate,
                                         beta1: 0.9, beta2: 0.999, eps: 1e-8, c1: 0, c2: 0)
        let n = p.sampleChunks, per = max(1, (o.batchSize + site.quantInput[0].shape[0] - 1) / site.quantInput[0].shape[0])
        let warm = Int(Float(o.iterations) * o.warmup)
        for it in 0..<o.iterations {
            let idx = (0..<min(per, n)).map { _ in Int(rng.next() % UInt64(n)) }
            let r = try p.evaluate(weight: Tensor(shape: p.floatWeight.shape, floats: soft), bias: bias, chunks: idx,
                                   gradients: true, perChannelSum: true)
            step.beta = 0
            if it >= warm {
                let t = Float(it - warm) / Float(max(1, o.iterations - warm))
                step.beta = o.betaEnd + 0.5 * (o.betaStart - o.betaEnd) * (1 + Foundation.cos(Float.pi * t))
            }
            step.c1 = 1 - Float(Foundation.pow(0.9, Double(it + 1)))
            step.c2 = 1 - Float(Foundation.pow(0.999, Double(it + 1)))
            stepAll(&v, &m, &m2, &sg, floorW, r.dW!, &soft, step)
        }
        let hard = Tensor(shape: p.floatWeight.shape, floats: v.indices.map { i in
            s * min(max(floorW[i] + (v[i] >= 0 ? 1 : 0), qmin), qmax)  // h(v) ≥ 0.5 ⇔ σ(v) ≥ 0.5 ⇔ v ≥ 0
        })
        let flipped = zip(hard.floats, nearest.floats).filter { $0 != $1 }.count
        var outBias = p.floatBias, qb = bias
        if o.correctBias, let nb = try BiasCorrection.correctedBias(p, quantizedWeight: hard) {
            outBias = nb
            qb = try site.biasParams.map { try ParameterQuantizer.fakeQuantized(nb, $0, config: site.config) } ?? nb
        }
        let after = try p.fullLoss(weight: hard, bias: qb)
        guard after <= before else {  // keep rounding to nearest at the calibrated fix_pos when that is better
            return LayerResult(weight: try ParameterQuantizer.fakeQuantized(p.floatWeight, site.weightParams, config: site.config),
                               bias: p.floatBias, params: site.weightParams, before: before, after: before, flipped: 0, kept: true)
        }
        return LayerResult(weight: hard, bias: outBias, params: wp, before: before, after: after, flipped: flipped, kept: false)
    }

    /// `octet_adaround_step` over all weights, in slices of 8192 spread over the kernel threads
    /// (element-wise, so the result does not depend on the thread count). Layers of 2^18 weights
    /// and more recompute σ(v) instead of reading it from `sg`: their step is memory-bound.
    static func stepAll(_ v: inout [Float], _ m: inout [Float], _ m2: inout [Float], _ sg: inout [Float], _ floorW: [Float],
                        _ dW: Tensor, _ soft: inout [Float], _ params: octet_adaround_params) {
        let n = v.count, slice = 1 << 13, slices = (n + slice - 1) / slice, cached = n < 1 << 18
        var p = params
        v.withUnsafeMutableBufferPointer { vp in m.withUnsafeMutableBufferPointer { mp in m2.withUnsafeMutableBufferPointer { m2p in
            sg.withUnsafeMutableBufferPointer { gp in
                soft.withUnsafeMutableBufferPointer { sp in floorW.withUnsafeBufferPointer { fp in dW.withFloats { dp in
                    withUnsafePointer(to: &p) { pp in
                        KernelConfig.parallelFor(slices) { k in
                            let o = k * slice, len = min(slice, n - o)
                            octet_adaround_step(vp.baseAddress! + o, mp.baseAddress! + o, m2p.baseAddress! + o, cached ? gp.baseAddress! + o : nil,
                                                fp.baseAddress! + o, dp.baseAddress! + o, sp.baseAddress! + o, len, pp)
                        }
                    }
                } } }
            }
        } } }
    }
}
