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
/// 0 for a one-element bias). After each epoch a loss over the whole calibration set decides
/// (`Options.epochLoss`): keep the epoch if it improved, else restore the best parameters and
/// halve both rates; stop when both rates are < 1e-5, the loss did not change, or after
/// `maxEpochs`. With `.network`, as the reference, that loss is the network output loss (per
/// float32 graph output, the mean √MSE against the float outputs; improved = none worse and one better),
/// at the price of a forward of the rest of the network per epoch; `.layer` uses the layer's
/// reconstruction loss. Then the whole model is recalibrated. Reruns with the same seed are
/// byte-identical.
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
        /// What decides whether an epoch is kept.
        public var epochLoss = EpochLoss.layer
        public init() {}
    }

    /// The loss over the calibration set that keeps or restores an epoch.
    public enum EpochLoss: String, CaseIterable, Sendable {
        /// The layer's reconstruction loss (its MSE, without the weight-drift term).
        case layer
        /// The network output loss, per graph output (reference-quantizer §7), the rest of the
        /// network run on the quantized stream after every epoch.
        case network
    }

    /// Accepted `Options.maxEpochs` (the pass does not stop on Ctrl-C, so the count is bounded).
    public static let epochRange = 1...10_000

    /// - Returns: the recalibrated quantized model, the finetuned prepared float model, stats.
    /// `shouldCancel` is polled before each calibration batch and each layer.
    /// - Throws: `RecoveryError.memoryLimit` before any work; `OctetQuantError.cancelled` when `shouldCancel`
    ///   answers true; calibration/execution errors naming the node.
    public static func run(model: Model, config: QConfig = QConfig(), feeds: [String: Tensor], options: Options = Options(),
                           shouldCancel: (() -> Bool)? = nil) throws -> (quantized: QuantizedModel, float: Model, stats: RecoveryStats) {
        try RecoveryError.require("epochs", options.maxEpochs, in: epochRange)
        try RecoveryError.require("batch size", options.batchSize, atLeast: 1)
        var rng = SplitMix64(seed: options.seed)
        var notes: [String] = []
        var (q, m, stats) = try RecoveryPipeline.run(model: model, config: config, feeds: feeds, maxMemoryMB: options.maxMemoryMB,
                                                     pass: "adaquant", networkLoss: options.epochLoss == .network,
                                                     shouldCancel: shouldCancel) { site in
            let t0 = Date()
            let r = try optimize(site, options, &rng)
            let moved = r.params.fixPos != site.weightParams.fixPos
                ? String(format: ", weight fix_pos %d → %d", site.weightParams.fixPos ?? 0, r.params.fixPos ?? 0) : ""
            let what = options.epochLoss == .network ? "network loss" : "loss"
            notes.append(String(format: "%@: %@ %@ → %@%@, %d epoch%@, %.1f s", site.annotation.node, what, format(r.before), format(r.after),
                                moved, r.epochs, r.epochs == 1 ? "" : "s", Date().timeIntervalSince(t0)))
            return LayerUpdate(weight: r.weight, bias: r.bias, weightParams: r.params)
        }
        stats.notes = notes
        return (q, m, stats)
    }

    struct LayerResult {
        var weight: Tensor; var bias: Tensor?; var params: QuantParams; var before: [Double]; var after: [Double]; var epochs: Int
    }

    static func format(_ loss: [Double]) -> String { loss.map { String(format: "%.4g", $0) }.joined(separator: " / ") }

    /// The reference's test (vai_q_pytorch `AverageMeter.__lt__`): no component worse, one better.
    static func improves(_ a: [Double], on b: [Double]) -> Bool {
        zip(a, b).allSatisfy { $0 <= $1 } && zip(a, b).contains { $0 < $1 }
    }

    static func optimize(_ site: LayerSite, _ o: Options, _ rng: inout SplitMix64) throws -> LayerResult {
        let p = try LayerProblem(site: site, graph: site.graph, following: ["HardSwish"])
        let quantB = { (b: Tensor?) in try b.map { b in try site.biasParams.map { try ParameterQuantizer.fakeQuantized(b, $0, config: site.config) } ?? b } }
        let layerBefore = try p.nearestLoss(site.weightParams, bias: quantB(p.floatBias))
        let wp = o.searchFixPos ? try p.searchWeightFixPos(bias: quantB(p.floatBias), calibratedLoss: layerBefore).params : site.weightParams
        let quantW = { (w: Tensor) in try ParameterQuantizer.fakeQuantized(w, wp, config: site.config) }
        let network = o.epochLoss == .network ? site.networkLoss : nil
        /// The epoch loss with the float parameters `w`, `b` (weights fake-quantized at `params`).
        let score = { (w: Tensor, b: Tensor?, params: QuantParams) throws -> [Double] in
            let qw = try ParameterQuantizer.fakeQuantized(w, params, config: site.config)
            return try network.map { try $0(qw, quantB(b)) } ?? [p.fullLoss(weight: qw, bias: quantB(b))]
        }
        let before = network == nil ? [layerBefore] : try score(p.floatWeight, p.floatBias, site.weightParams)
        var w = p.floatWeight, b = p.floatBias
        var factor = o.lrFactor
        if RecoveryPipeline.sqnr(w, try quantW(w)) / 8 > 4.5 { factor *= 0.1 }
        var adamW = Adam(count: w.count, lr: factor * RecoveryPipeline.standardDeviation(w))
        var adamB = Adam(count: b?.count ?? 0, lr: (b?.count ?? 0) > 1 ? factor * RecoveryPipeline.standardDeviation(b!) : 0)
        var best = (w: w, b: b, loss: wp == site.weightParams ? before : try score(w, b, wp))
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
            let loss = try score(w, b, wp)
            if improves(loss, on: best.loss) {
                best = (w, b, loss)
            } else {
                (w, b) = (best.w, best.b)
                adamW.lr /= 2; adamB.lr /= 2
                if loss == best.loss { break }
            }
        }
        // The calibrated fix_pos with the float parameters, unless the result is nowhere worse (with
        // the network loss: no output; the fix_pos search may have made the start worse on some).
        guard zip(best.loss, before).allSatisfy({ $0 <= $1 }) else {
            return LayerResult(weight: p.floatWeight, bias: p.floatBias, params: site.weightParams, before: before, after: before, epochs: epochs)
        }
        // On another fix_pos the weights are returned on its grid, so the recalibration finds it again.
        return LayerResult(weight: wp == site.weightParams ? best.w : try quantW(best.w), bias: best.b, params: wp, before: before,
                           after: best.loss, epochs: epochs)
    }
}

extension RecoveryPipeline {
    /// g += ∂ MSE(W, W_float) / ∂W = 2 (W − W_float) / n.
    static func addDriftGradient(_ g: inout Tensor, _ w: Tensor, _ w0: Tensor) {
        let k = 2 / Float(max(w.count, 1))
        w.withFloats { x in w0.withFloats { y in g.withMutableFloats { d in for i in d.indices { d[i] += k * (x[i] - y[i]) } } } }
    }
}
