import Foundation
import OctetGraph
import OctetTensor

/// Fast finetune / AdaQuant (Hubara et al. 2020, arXiv:2006.10518 §3; vai_q_pytorch
/// `optimize_layer_v2`, reference-quantizer §7).
///
/// Layer by layer in graph order, the float weight W and bias b of each quantized Conv /
/// ConvTranspose / Gemm are optimized under fake quantization (straight-through estimator; the
/// layer's fix_pos stays fixed, W is re-quantized at every forward) with two Adam optimizers so
/// that the layer's output after its fused activation, on the quantized model's actual input,
/// matches the float model's layer output on the float input. As in the reference, a HardSwish
/// that alone reads the output of a group without a fused activation is applied to both first
/// (ppocr_cls: 18.1 → 20.8 dB mean over five seeds). The reference does the same for HardSigmoid;
/// on ppocr_cls's squeeze-excitation convolutions that gives 19.6 dB, so it is not done.
/// Loss: MSE(out, target) +
/// MSE(W, W_float). lr = lr_factor · std(param) (lr_factor × 0.1 when the weight SQNR / 8 > 4.5;
/// 0 for a one-element bias). After each epoch the layer loss over the whole calibration set
/// decides: keep the epoch if it improved, else restore the best parameters and halve both rates;
/// stop when both rates are < 1e-5, the loss did not change, or after `maxEpochs`.
/// Deviation from the reference: the keep/restore test uses the layer's reconstruction loss,
/// not the network output loss (which would need a forward of the rest of the network per epoch).
/// Then the whole model is recalibrated. Reruns with the same seed are byte-identical.
public enum AdaQuant {
    public struct Options: Sendable {
        public var lrFactor: Float = 0.01
        public var maxEpochs = 10
        /// Samples per Adam step (rounded up to whole model batches).
        public var batchSize = 8
        public var seed: UInt64 = 1705472343
        public var weightDrift = true
        /// Choose the weight fix_pos among fp − 1 … fp + 2 by the layer's reconstruction loss
        /// (as AdaRound does); when it moves, the finetuned weights are returned on its grid so the
        /// recalibration keeps it.
        public var searchFixPos = true
        public var maxMemoryMB: Int?
        public init() {}
    }

    /// Accepted `Options.maxEpochs` (the pass does not stop on Ctrl-C, so the count is bounded).
    public static let epochRange = 1...10_000

    /// - Returns: the recalibrated quantized model, the finetuned prepared float model, stats.
    /// - Throws: `RecoveryError.memoryLimit` before any work; calibration/execution errors naming the node.
    public static func run(model: Model, config: QConfig = QConfig(), feeds: [String: Tensor], options: Options = Options())
        throws -> (quantized: QuantizedModel, float: Model, stats: RecoveryStats) {
        try RecoveryError.require("epochs", options.maxEpochs, in: epochRange)
        try RecoveryError.require("batch size", options.batchSize, atLeast: 1)
        var rng = SplitMix64(seed: options.seed)
        var notes: [String] = []
        var (q, m, stats) = try RecoveryPipeline.run(model: model, config: config, feeds: feeds, maxMemoryMB: options.maxMemoryMB,
                                                     pass: "adaquant") { site in
            let t0 = Date()
            let r = try optimize(site, options, &rng)
            let moved = r.params.fixPos != site.weightParams.fixPos
                ? String(format: ", weight fix_pos %d → %d", site.weightParams.fixPos ?? 0, r.params.fixPos ?? 0) : ""
            notes.append(String(format: "%@: loss %.4g → %.4g%@, %d epochs, %.1f s", site.annotation.node, r.before, r.after, moved,
                                r.epochs, Date().timeIntervalSince(t0)))
            return LayerUpdate(weight: r.weight, bias: r.bias, weightParams: r.params)
        }
        stats.notes = notes
        return (q, m, stats)
    }

    struct LayerResult {
        var weight: Tensor; var bias: Tensor?; var params: QuantParams; var before: Double; var after: Double; var epochs: Int
    }

    static func optimize(_ site: LayerSite, _ o: Options, _ rng: inout SplitMix64) throws -> LayerResult {
        let p = try LayerProblem(site: site, graph: site.graph, following: ["HardSwish"])
        let quantB = { (b: Tensor?) in try b.map { b in try site.biasParams.map { try ParameterQuantizer.fakeQuantized(b, $0, config: site.config) } ?? b } }
        let before = try p.nearestLoss(site.weightParams, bias: quantB(p.floatBias))
        let wp = o.searchFixPos ? try p.searchWeightFixPos(bias: quantB(p.floatBias), calibratedLoss: before).params : site.weightParams
        let quantW = { (w: Tensor) in try ParameterQuantizer.fakeQuantized(w, wp, config: site.config) }
        var w = p.floatWeight, b = p.floatBias
        var factor = o.lrFactor
        if RecoveryPipeline.sqnr(w, try quantW(w)) / 8 > 4.5 { factor *= 0.1 }
        var adamW = Adam(count: w.count, lr: factor * RecoveryPipeline.standardDeviation(w))
        var adamB = Adam(count: b?.count ?? 0, lr: (b?.count ?? 0) > 1 ? factor * RecoveryPipeline.standardDeviation(b!) : 0)
        var best = (w: w, b: b, loss: try p.fullLoss(weight: quantW(w), bias: quantB(b)))
        let per = max(1, (o.batchSize + site.quantInput[0].shape[0] - 1) / site.quantInput[0].shape[0])
        var epochs = 0
        while epochs < o.maxEpochs, adamW.lr >= 1e-5 || adamB.lr >= 1e-5 {
            epochs += 1
            let order = rng.permutation(p.sampleChunks)
            for start in stride(from: 0, to: order.count, by: per) {
                let idx = Array(order[start..<min(start + per, order.count)])
                let r = try p.evaluate(weight: quantW(w), bias: quantB(b), chunks: idx, gradients: true)
                var gw = r.dW!
                if o.weightDrift { RecoveryPipeline.addDriftGradient(&gw, w, p.floatWeight) }
                adamW.step(&w, gw)
                if var bb = b, let gb = r.dB, adamB.lr > 0 { adamB.step(&bb, gb); b = bb }
            }
            let loss = try p.fullLoss(weight: quantW(w), bias: quantB(b))
            if loss < best.loss {
                best = (w, b, loss)
            } else {
                (w, b) = (best.w, best.b)
                adamW.lr /= 2; adamB.lr /= 2
                if loss == best.loss { break }
            }
        }
        guard best.loss <= before else {  // the calibrated fix_pos with the float parameters is better
            return LayerResult(weight: p.floatWeight, bias: p.floatBias, params: site.weightParams, before: before, after: before, epochs: epochs)
        }
        // On another fix_pos the weights are returned on its grid, so the recalibration finds it again.
        return LayerResult(weight: wp == site.weightParams ? best.w : try quantW(best.w), bias: best.b, params: wp, before: before,
                           after: best.loss, epochs: epochs)
    }
}

extension RecoveryPipeline {
    static func meanSquaredDifference(_ a: Tensor, _ b: Tensor) -> Double {
        var s = 0.0
        a.withFloats { x in b.withFloats { y in for i in x.indices { s += Double((x[i] - y[i]) * (x[i] - y[i])) } } }
        return s / Double(max(a.count, 1))
    }

    /// g += ∂ MSE(W, W_float) / ∂W = 2 (W − W_float) / n.
    static func addDriftGradient(_ g: inout Tensor, _ w: Tensor, _ w0: Tensor) {
        let k = 2 / Float(max(w.count, 1))
        w.withFloats { x in w0.withFloats { y in g.withMutableFloats { d in for i in d.indices { d[i] += k * (x[i] - y[i]) } } } }
    }
}
