import Foundation
import OctetGraph
import OctetTensor

/// Data-free bias correction from BatchNormalization statistics (Nagel et al. 2019 §4.2).
///
/// For a layer L fed by Conv/Gemm → BatchNormalization → (Relu | Clip(0, 6) | nothing) in the
/// original graph (before BN folding), its input channel c is modelled as the BN output
/// z ~ N(β_c, γ_c²) through the activation: E[x] = β (none), the clipped-normal mean
/// E[relu(z)] = β·Φ(β/γ) + γ·φ(β/γ) (Relu), E[relu(z)] − E[relu(z − 6)] (ReLU6). With the weight
/// quantization error ε = Q(W) − W (per-tensor fix_pos from the weight observer, as calibration
/// computes it), E[ε·x] is removed from L's bias: b_o −= Σ_{c, taps} ε[o, c, taps] · E[x_c].
/// Border effects of padding are ignored, as in the paper. Layers without such a BN are untouched.
public enum AnalyticBiasCorrection {
    public struct Report: Sendable { public var corrected: [String] = []; public var skipped: [String] = [] }

    /// - Parameter original: the graph as loaded (BatchNormalization not yet folded).
    /// - Returns: the prepared (BN-folded) graph with corrected biases.
    /// - Throws: preparation errors naming the node.
    public static func run(original: Graph, config: QConfig = QConfig()) throws -> (graph: Graph, report: Report) {
        let means = try inputMeans(original)
        var g = try QuantPreparation.prepare(original).graph
        var report = Report()
        for node in g.nodes where ["Conv", "Gemm"].contains(node.opType) {
            let key = QuantPlan.key(node)
            guard let ex = means[key] else { continue }
            guard node.inputs.count > 2, !node.inputs[2].isEmpty, var b = g.constantFloat(node.inputs[2]),
                  let w = g.constantFloat(node.inputs[1]), let ch = try WeightChannels(node, weightShape: w.shape),
                  ch.inChannels == ex.count else { report.skipped.append(key); continue }
            let p = try ParameterQuantizer.params(node.inputs[1], w, bias: false, axis: nil, config: config)
            let q = try ParameterQuantizer.fakeQuantized(w, p, config: config)
            var corr = [Double](repeating: 0, count: ch.outChannels)
            w.withFloats { wp in q.withFloats { qp in
                for e in wp.indices { corr[Int(ch.output[e])] += Double(qp[e] - wp[e]) * ex[Int(ch.input[e])] }
            } }
            b.withMutableFloats { bp in for o in bp.indices { bp[o] -= Float(corr[o]) } }
            g.initializers[node.inputs[2]] = b
            report.corrected.append(key)
        }
        return (g, report)
    }

    /// Layer key → E[input channel] for layers fed by a BN (through an optional Relu / ReLU6).
    static func inputMeans(_ g: Graph) throws -> [String: [Double]] {
        var out: [String: [Double]] = [:]
        for bn in g.nodes where bn.opType == "BatchNormalization" && bn.inputs.count >= 5 {
            guard let gamma = g.constantFloat(bn.inputs[1])?.floats, let beta = g.constantFloat(bn.inputs[2])?.floats,
                  g.useCount(of: bn.outputs[0]) == 1, let ci = g.consumers(of: bn.outputs[0]).first else { continue }
            var t = bn.outputs[0], act: (Double, Double)? = nil
            if let c = Optional(g.nodes[ci]), c.opType == "Relu" || c.opType == "Clip" {
                if c.opType == "Relu" { act = (0, .infinity) } else if let (lo, hi) = g.clipBounds(c), lo == 0 { act = (0, Double(hi)) } else { continue }
                guard g.useCount(of: c.outputs[0]) == 1 else { continue }
                t = c.outputs[0]
            }
            guard let li = g.consumers(of: t).first, ["Conv", "Gemm"].contains(g.nodes[li].opType), g.nodes[li].inputs[0] == t else { continue }
            out[QuantPlan.key(g.nodes[li])] = zip(beta, gamma).map { b, s in mean(Double(b), abs(Double(s)), act) }
        }
        return out
    }

    /// E[clip(z, lo, hi)] for z ~ N(μ, σ²) with lo = 0 (hi may be ∞); μ without an activation.
    static func mean(_ mu: Double, _ sigma: Double, _ act: (Double, Double)?) -> Double {
        guard let (_, hi) = act else { return mu }
        func reluMean(_ m: Double) -> Double {
            guard sigma > 0 else { return max(m, 0) }
            let a = m / sigma
            return m * 0.5 * erfc(-a / 2.0.squareRoot()) + sigma * exp(-a * a / 2) / (2 * Double.pi).squareRoot()
        }
        return hi.isFinite ? reluMean(mu) - reluMean(mu - hi) : reluMean(mu)
    }
}
