import Foundation
import OctetGraph
import OctetTensor

/// Measurements of one recovery pass (wall time, memory), as printed by `octet recover`.
public struct RecoveryStats: Sendable, CustomStringConvertible {
    public var pass: String
    public var layers = 0
    public var seconds = 0.0
    /// Largest float + quantized activation frontier held over the calibration set, MiB.
    public var peakActivationMB = 0.0
    /// Process peak resident set (VmHWM) after the pass, MiB.
    public var peakRSSMB = 0.0
    public var notes: [String] = []
    public var description: String {
        String(format: "%@: %d layers, %.1f s, activations peak %.0f MB, process peak %.0f MB", pass, layers, seconds,
               peakActivationMB, peakRSSMB) + notes.map { "\n  " + $0 }.joined()
    }
}

/// The common frame of the layer-wise passes: calibrate, stream the calibration set layer by
/// layer (`LayerwiseRunner`), replace each visited layer's float weight/bias, then recalibrate the
/// new float graph from scratch (weight fix positions recomputed, activation fix positions
/// re-observed), as vai_q_pytorch does after fast finetune (reference-quantizer §7 step 5).
enum RecoveryPipeline {
    /// `networkLoss`: each site gets `LayerSite.networkLoss` (`LayerwiseRunner.run(networkLoss:)`).
    /// `shouldCancel` is polled before each calibration batch and each layer; true stops the pass
    /// with `OctetQuantError.cancelled`.
    /// - Returns: the recalibrated model, the new prepared float model and the stats.
    /// - Throws: `RecoveryError.memoryLimit` before any work when `maxMemoryMB` cannot be met;
    ///   calibration and execution errors naming the node.
    static func run(model: Model, config: QConfig, feeds: [String: Tensor], maxMemoryMB: Int?, pass: String, networkLoss: Bool = false,
                    shouldCancel: (() -> Bool)? = nil,
                    visit: (LayerSite) throws -> LayerUpdate?) throws -> (QuantizedModel, Model, RecoveryStats) {
        let t0 = Date()
        let calibrator = try Calibrator(model: model, config: config)
        let n = try CalibrationData.validate(feeds, model: model)
        let chunks = (n + model.batchSize - 1) / model.batchSize
        // Frontiers plus one layer's target, input copies and gradients (≈ ½ frontier); with the
        // network loss, the float outputs and a quantized frontier per chunk run at once to them.
        let frontier = LayerwiseRunner.estimatedFrontierBytes(calibrator.prepared, chunks: chunks)
        let outputs = model.outputs.reduce(0) { $0 + calibrator.prepared.info.byteCount($1.name) } * chunks
        let rest = networkLoss ? outputs + frontier / 2 * min(KernelConfig.threads, chunks) / chunks : 0
        let need = (frontier * 3 / 2 + rest + (1 << 20) - 1) / (1 << 20)
        if let limit = maxMemoryMB, need > limit {
            throw RecoveryError.memoryLimit(neededMB: need, limitMB: limit, what: "\(pass) on \(n) calibration samples")
        }
        let q0 = try calibrator.calibrate(feeds, shouldCancel: shouldCancel)
        let runner = try LayerwiseRunner(graph: calibrator.prepared.graph, plan: calibrator.plan, config: config,
                                         params: q0.annotations.tensors, feeds: feeds, batchSize: model.batchSize)
        var stats = RecoveryStats(pass: pass)
        let inits = try runner.run(networkLoss: networkLoss) { site in
            if shouldCancel?() == true { throw OctetQuantError.cancelled }
            guard let r = try visit(site) else { return nil }
            stats.layers += 1
            return r
        }
        var g = calibrator.prepared.graph
        g.initializers = inits
        let newModel = try Model(graph: g, batchSize: model.batchSize)
        let q = try Calibrator(model: newModel, config: config).calibrate(feeds, shouldCancel: shouldCancel)
        stats.seconds = Date().timeIntervalSince(t0)
        stats.peakActivationMB = Double(runner.peakFrontierBytes) / Double(1 << 20)
        stats.peakRSSMB = ProcessMemory.peakMB()
        if stats.layers == 0 {
            stats.notes.append("no layer to optimize: the model quantizes no Conv, ConvTranspose or Gemm with constant weights "
                + "(a MatMul on a rank-3 input, a layer excluded from quantization or one on non-constant weights runs in float)")
        }
        return (q, newModel, stats)
    }

    /// Whether a layer's weight has a per-tensor scale (power-of-two or float).
    static func perTensor(_ p: QuantParams) -> Bool { p.channels == nil }

    static func standardDeviation(_ t: Tensor) -> Float {
        let v = t.floats
        guard v.count > 1 else { return 0 }
        let mean = v.reduce(0.0) { $0 + Double($1) } / Double(v.count)
        let varc = v.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(v.count)
        return Float(varc.squareRoot())
    }

    /// Mean of (a − b)² over all elements (same-shape float32 tensors).
    static func meanSquaredDifference(_ a: Tensor, _ b: Tensor) -> Double {
        var s = 0.0
        a.withFloats { x in b.withFloats { y in for i in x.indices { s += Double((x[i] - y[i]) * (x[i] - y[i])) } } }
        return s / Double(max(a.count, 1))
    }

    /// 10·log10(Σ w² / Σ (w − q)²) in dB (infinite when q = w).
    static func sqnr(_ w: Tensor, _ q: Tensor) -> Double {
        var s = 0.0, e = 0.0
        w.withFloats { a in q.withFloats { b in for i in a.indices { s += Double(a[i] * a[i]); e += Double((a[i] - b[i]) * (a[i] - b[i])) } } }
        return e == 0 ? .infinity : 10 * log10(s / e)
    }
}
