import OctetGraph
import OctetTensor

/// High-bias absorption (Nagel et al. 2019, arXiv:1906.04721 §4.1, "Absorbing high biases"), in
/// its data-driven form, usually after cross-layer equalization (which can leave large biases).
///
/// For a CLE pair a → (ops) → b, per channel i of a's output: c_i = max(0, min over the
/// calibration data of a's output channel i); a's bias loses c and b's bias gains W_b·c. Every op
/// between them must commute with subtracting a per-channel constant from inputs ≥ c ≥ 0: Relu,
/// Clip(0, ∞), LeakyRelu and PRelu (identities there), MaxPool, GlobalAveragePool and a
/// Flatten/Reshape to [N, C·H·W]. So the float outputs are unchanged on every input whose
/// pre-activations stay ≥ c, which includes every calibration sample. The paper takes
/// c = max(0, β − 3γ) from BatchNorm statistics; BN is folded here, so the calibration minimum
/// stands in for them. b must be a Conv without padding (a zero border would read −c) or a Gemm.
/// a needs a bias; b gets one if it has none.
public enum HighBiasAbsorption {
    public struct Absorbed: Sendable, Equatable {
        public var first: String
        public var second: String
        /// Channels with c > 0, and the mean of c over all channels.
        public var channels: Int
        public var meanShift: Float
        public init(first: String, second: String, channels: Int, meanShift: Float) {
            self.first = first; self.second = second; self.channels = channels; self.meanShift = meanShift
        }
    }

    public struct Report: Sendable, CustomStringConvertible {
        public var absorbed: [Absorbed] = []
        public var skipped: [String] = []
        public var description: String {
            var lines = ["high-bias absorption: \(absorbed.count) pair\(absorbed.count == 1 ? "" : "s")"]
            lines += absorbed.map { String(format: "  %@ → %@: %d channels, mean shift %.4g", $0.first, $0.second, $0.channels, $0.meanShift) }
            return (lines + skipped.map { "  skipped " + $0 }).joined(separator: "\n")
        }
    }

    static let commuting: Set<String> = ["Relu", "LeakyRelu", "PRelu", "MaxPool", "GlobalAveragePool", "Flatten", "Reshape"]

    /// - Parameters: `graph` prepared (BN folded), `feeds` calibration inputs [N, ...], `batchSize`
    ///   the graph's batch dimension; the layers `quantization` keeps in float are in no pair.
    /// - Throws: `OctetQuantError.emptyCalibrationSet`; execution errors naming the node.
    public static func run(_ graph: Graph, feeds: [String: Tensor], batchSize: Int,
                           quantization: QConfig = QConfig()) throws -> (graph: Graph, report: Report) {
        var g = graph, report = Report()
        var cleReport = CrossLayerEqualization.Report()
        let shapes = try TensorInfo(graph: g).shapes
        var chains: [CrossLayerEqualization.Chain] = []
        for c in try CrossLayerEqualization.findPairs(g, shapes, &cleReport, excluded: quantization.excludes) {
            if let why = unsupported(c, g) { report.skipped.append("\(c.pair.first) → \(c.pair.second): \(why)") } else { chains.append(c) }
        }
        guard !chains.isEmpty else { return (g, report) }
        let ranges = try ChannelStatistics.ranges(g, tensors: chains.map { g.nodes[$0.firstIndex].outputs[0] }, feeds: feeds,
                                                  batchSize: batchSize)
        for c in chains {
            let shift = ranges[g.nodes[c.firstIndex].outputs[0]]!.min.map { max(0, $0) }
            guard shift.contains(where: { $0 > 0 }) else {
                report.skipped.append("\(c.pair.first) → \(c.pair.second): no channel's pre-activation minimum is positive")
                continue
            }
            absorb(&g, c, shift)
            report.absorbed.append(Absorbed(first: c.pair.first, second: c.pair.second, channels: shift.filter { $0 > 0 }.count,
                                            meanShift: shift.reduce(0, +) / Float(shift.count)))
        }
        return (g, report)
    }

    /// Why a pair cannot absorb, or nil.
    static func unsupported(_ c: CrossLayerEqualization.Chain, _ g: Graph) -> String? {
        let a = g.nodes[c.firstIndex], b = g.nodes[c.secondIndex]
        guard a.inputs.count > 2, !a.inputs[2].isEmpty, let ba = g.initializers[a.inputs[2]] else { return "first layer has no bias" }
        guard ba.count == c.first.outChannels else { return "first layer's bias is broadcast" }
        for n in [a, b] where n.opType == "Gemm" {
            guard (try? n.float("alpha", default: 1)) == 1, (try? n.float("beta", default: 1)) == 1 else { return "Gemm alpha or beta is not 1" }
        }
        if b.inputs.count > 2, !b.inputs[2].isEmpty, g.initializers[b.inputs[2]]?.count != c.second.outChannels {
            return "second layer's bias is broadcast"
        }
        var t = a.outputs[0]
        while let i = g.consumers(of: t).first, i != c.secondIndex {
            let n = g.nodes[i]
            let ok = commuting.contains(n.opType) || (n.opType == "Clip" && g.clipBounds(n).map { $0.0 == 0 && $0.1 == .infinity } == true)
            guard ok else { return "\(n.opType) node \(QuantPlan.key(n)) does not commute with a per-channel shift" }
            t = n.outputs[0]
        }
        switch b.opType {
        case "Gemm": return nil
        case "Conv":
            let pads = ((try? b.ints("pads")) ?? nil) ?? []
            let auto = (try? b.string("auto_pad", default: "NOTSET")) ?? "NOTSET"
            return pads.allSatisfy({ $0 == 0 }) && (auto == "NOTSET" || auto == "VALID") ? nil : "second layer pads its input"
        default: return "second layer is \(b.opType)"
        }
    }

    /// b_a −= c; b_b += W_b · c (b gets a zero bias first when it has none).
    static func absorb(_ g: inout Graph, _ c: CrossLayerEqualization.Chain, _ shift: [Float]) {
        let a = g.nodes[c.firstIndex]
        var ba = g.initializers[a.inputs[2]]!
        ba.withMutableFloats { p in for i in p.indices { p[i] -= shift[i] } }
        g.initializers[a.inputs[2]] = ba
        var b = g.nodes[c.secondIndex]
        if b.inputs.count < 3 || b.inputs[2].isEmpty {
            let name = b.outputs[0] + "_absorbed_bias"
            g.initializers[name] = Tensor(shape: [c.second.outChannels], floats: [Float](repeating: 0, count: c.second.outChannels))
            while b.inputs.count < 2 { b.inputs.append("") }
            if b.inputs.count == 2 { b.inputs.append(name) } else { b.inputs[2] = name }
            g.nodes[c.secondIndex] = b
        }
        var bb = g.initializers[b.inputs[2]]!
        let wb = g.initializers[b.inputs[1]]!
        bb.withMutableFloats { p in wb.withFloats { w in
            for e in w.indices { p[Int(c.second.output[e])] += w[e] * shift[Int(c.second.input[e])] }
        } }
        g.initializers[b.inputs[2]] = bb
    }
}
