import OctetGraph
import OctetTensor

/// Empirical bias correction (Nagel et al. 2019 §4.2 in its data-driven form, as vai_q_pytorch's
/// default `nndct_param_corr` does it, reference-quantizer §6.3).
///
/// One pass in graph order over the calibration set: for each quantized Conv / ConvTranspose /
/// Gemm, the per-output-channel mean of (the layer with quantized weights and its float bias on
/// the quantized model's input, before its activation) − (float layer on the float model's input)
/// is subtracted from the float bias
/// (a zero bias is created in effect when the layer has none: such layers are left unchanged and
/// reported). Later layers see the corrected layer. Then the model is recalibrated.
public enum BiasCorrection {
    /// - Returns: the recalibrated quantized model, the corrected prepared float model, stats.
    /// `shouldCancel` is polled before each calibration batch and each layer.
    /// - Throws: `RecoveryError.memoryLimit`, `OctetQuantError.cancelled` when `shouldCancel` answers
    ///   true, calibration and execution errors naming the node.
    public static func empirical(model: Model, config: QConfig = QConfig(), feeds: [String: Tensor], maxMemoryMB: Int? = nil,
                                 shouldCancel: (() -> Bool)? = nil) throws -> (quantized: QuantizedModel, float: Model, stats: RecoveryStats) {
        var skipped: [String] = []
        var (q, m, stats) = try RecoveryPipeline.run(model: model, config: config, feeds: feeds, maxMemoryMB: maxMemoryMB,
                                                     pass: "bias correction", shouldCancel: shouldCancel) { site in
            guard site.node.inputs.count > 2, !site.node.inputs[2].isEmpty else { skipped.append(site.annotation.node); return nil }
            return try correct(site)
        }
        if !skipped.isEmpty { stats.notes.append("no bias to correct: \(skipped.joined(separator: ", "))") }
        return (q, m, stats)
    }

    /// Float weight and the corrected float bias of one layer.
    static func correct(_ site: LayerSite) throws -> LayerUpdate? {
        let p = try LayerProblem(site: site, graph: site.graph)
        guard p.floatBias != nil else { return nil }
        let wq = try ParameterQuantizer.fakeQuantized(p.floatWeight, site.weightParams, config: site.config)
        return LayerUpdate(weight: p.floatWeight, bias: try correctedBias(p, quantizedWeight: wq))
    }

    /// The float bias minus the per-channel mean of (layer with `quantizedWeight` and the float
    /// bias on the quantized input) − (float layer on the float input), before the activation.
    /// The bias's own rounding is left out of the mean: the corrected bias is rounded once, when
    /// the model is recalibrated, and a mean that held it would move the bias by its rounding error
    /// once more, to the grid point beyond (b − (round(b) − b) rounds away from b when the error
    /// exceeds a quarter step).
    static func correctedBias(_ p: LayerProblem, quantizedWeight wq: Tensor) throws -> Tensor? {
        guard let b = p.floatBias else { return nil }
        let err = try p.meanOutputError(weight: wq, bias: b)
        var nb = b
        nb.withMutableFloats { q in for i in q.indices { q[i] -= Float(err[i]) } }
        return nb
    }
}
