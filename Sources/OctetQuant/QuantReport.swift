import Foundation
import OctetGraph
import OctetTensor

/// Per-tensor quantization statistics on calibration data.
public struct TensorQuantStats: Sendable, Equatable {
    public var tensor: String
    public var params: QuantParams
    public var fixPos: Int? { params.fixPos }
    /// Range seen during calibration (float model values when the report ran without it).
    public var min: Float
    public var max: Float
    /// Fraction of float values outside the representable range [qmin, qmax] · scale.
    public var clipped: Double
    /// 10·log10(Σ f² / Σ (f − q)²) of the quantized tensor vs the float model's, in dB.
    public var sqnr: Double
}

/// Network-output SQNR with only one layer quantized (its weights and its output).
public struct LayerSensitivity: Sendable, Equatable {
    public var node: String
    public var opType: String
    public var sqnr: Double
}

/// Quantization report: tensor statistics, per-layer sensitivity ranked worst first, warnings.
public struct QuantReport: Sendable {
    public var tensors: [TensorQuantStats]
    public var sensitivity: [LayerSensitivity]
    public var warnings: [String]

    /// Measures `q` against its float model on `feeds` (the calibration data; at most `samples` samples).
    /// Sensitivity compares against the float model with the DPU's op arithmetic (so it isolates rounding
    /// and clipping) and covers every node with its own output quantizer.
    /// `reference`: the tensors' SQNR against this float model instead (same input names; prepared as
    /// the calibrator prepares; tensors it lacks, or holds in another shape, are left out with a
    /// warning). After AdaQuant or AdaRound, `q`'s own
    /// float model holds the changed weights; against the model before the pass the SQNR counts the
    /// weights' error too, and on held-out data it shows where the pass fits the calibration set.
    /// - Throws: execution errors naming the node; `OctetQuantError.calibrationShape` for bad feeds;
    ///   `.invalidParameter` for a reference with other inputs.
    public static func make(_ q: QuantizedModel, feeds: [String: Tensor], samples: Int = 8,
                            sensitivity: Bool = true, reference: Model? = nil) throws -> QuantReport {
        let batches = try ReportData(q, feeds, samples: samples)
        let tensors = try tensorStats(q, batches, float: try referenceGraph(reference, of: q))
        var warnings = q.annotations.warnings
        if reference != nil {
            let measured = Set(tensors.map(\.tensor))
            let missing = q.plan.activations.filter { !measured.contains($0) }
            if let first = missing.first {
                warnings.append("the reference model has no tensor of the same name and shape for \(missing.count) of the \(q.plan.activations.count) quantized tensors (first: '\(first)'); the table leaves them out")
            }
        }
        for t in q.plan.networkInputs.sorted() {
            guard let s = tensors.first(where: { $0.tensor == t }) else { continue }
            if s.min >= 0 || s.max <= 0 {
                warnings.append("network input '\(t)' is all \(s.min >= 0 ? "≥ 0" : "≤ 0") ([\(s.min), \(s.max)]): it uses only half of the signed int8 range")
            }
        }
        let sens = sensitivity ? try layerSensitivity(q, batches) : []
        return QuantReport(tensors: tensors, sensitivity: sens, warnings: warnings)
    }

    /// One decimal; "nan" for NaN whatever its sign bit (printf writes "-nan").
    static func decibels(_ x: Double) -> String { x.isNaN ? "nan" : String(format: "%.1f", x) }

    /// Aligned text tables.
    public var table: String {
        var lines = [pad("tensor", 40) + pad("fix_pos", 8, right: true) + pad("calib min", 11, right: true) + pad("calib max", 11, right: true)
                     + pad("clipped %", 11, right: true) + pad("SQNR dB", 9, right: true)]
        for t in tensors {
            lines.append(pad(t.tensor, 40) + pad(t.fixPos.map(String.init) ?? "-", 8, right: true)
                         + pad(String(format: "%.4g", t.min), 11, right: true) + pad(String(format: "%.4g", t.max), 11, right: true)
                         + pad(String(format: "%.4f", 100 * t.clipped), 11, right: true) + pad(Self.decibels(t.sqnr), 9, right: true))
        }
        if !sensitivity.isEmpty {
            lines.append("")
            lines.append(pad("layer (only it quantized)", 40) + pad("op", 18) + pad("output SQNR dB", 15, right: true))
            for s in sensitivity { lines.append(pad(s.node, 40) + pad(s.opType, 18) + pad(Self.decibels(s.sqnr), 15, right: true)) }
        }
        for w in warnings { lines.append("warning: \(w)") }
        return lines.joined(separator: "\n")
    }

    private func pad(_ s: String, _ n: Int, right: Bool = false) -> String {
        let t = s.count > n - 1 ? String(s.prefix(n - 2)) + "…" : s
        let fill = String(repeating: " ", count: Swift.max(0, n - t.count))
        return right ? fill + t : t + fill
    }
}

/// Calibration samples cut to the model's batch size.
struct ReportData {
    var chunks: [[String: Tensor]] = []
    var real: [Int] = []
    /// - Throws: `OctetQuantError.nonFiniteCalibrationData` for NaN or ±∞ in the samples used
    ///   (every SQNR would be NaN).
    init(_ q: QuantizedModel, _ feeds: [String: Tensor], samples: Int) throws {
        let n = Swift.min(try QuantizedModel.sampleCount(feeds, q.graph), Swift.max(samples, 1))
        for (name, t) in feeds.sorted(by: { $0.key < $1.key }) {
            if let bad = t.firstNonFinite(), bad.sample < n {
                throw OctetQuantError.nonFiniteCalibrationData(input: name, sample: bad.sample)
            }
        }
        let b = CalibrationBatches(feeds: feeds, count: n, batchSize: q.batchSize)
        for i in 0..<b.total { chunks.append(b.chunk(i)); real.append(b.samples(i)) }
    }
}
