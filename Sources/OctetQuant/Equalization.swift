import OctetGraph
import OctetTensor

/// Cross-layer equalization (Nagel et al. 2019, "Data-Free Quantization Through Weight
/// Equalization and Bias Correction", arXiv:1906.04721 §4.1) on a prepared float graph (BN folded).
///
/// Pairs: a Conv / depthwise Conv / ConvTranspose / Gemm whose output reaches the next such layer
/// through Relu, Clip(0, ∞), LeakyRelu, PRelu, MaxPool, AveragePool, GlobalAveragePool, zero Pad
/// and a Flatten/Reshape to [N, C·H·W] — all positively homogeneous per channel, so
/// f(x / s) = f(x) / s for s > 0. A tensor with more than one consumer (or a graph output) ends
/// the chain. ReLU6 (Clip(0, 6)) is not homogeneous: with `relu6 = .stop` the chain stops there
/// and the report says so; `.relu` replaces it by Relu (changing the float function above 6) and
/// says so. Per channel i: s_i = √(r1_i / r2_i), r1 = max |W1 output channel i|,
/// r2 = max |W2 input channel i|; W1 row /= s, b1 /= s, W2 column *= s; s = 1 where r1 or r2 is 0.
/// All pairs are swept until max |s − 1| < `tolerance` or `maxIterations` sweeps.
public enum CrossLayerEqualization {
    public enum ReLU6Policy: String, Sendable, Codable { case stop, relu }

    public struct Options: Sendable {
        public var relu6: ReLU6Policy = .stop
        public var maxIterations = 20
        public var tolerance: Float = 1e-3
        public init() {}
    }

    /// One equalized pair: layer names and the nodes between them.
    public struct Pair: Sendable, Equatable {
        public var first: String
        public var second: String
        public var through: [String]
        public init(first: String, second: String, through: [String]) { self.first = first; self.second = second; self.through = through }
    }

    public struct Report: Sendable, CustomStringConvertible {
        public var pairs: [Pair] = []
        public var iterations = 0
        public var converged = false
        /// Final max |s − 1| of the last sweep.
        public var lastMaxDeviation: Float = 0
        /// Product of all scales per pair (first layer output channel → cumulative s).
        public var scales: [String: [Float]] = [:]
        public var notes: [String] = []
        public var description: String {
            var lines = pairs.isEmpty ? ["CLE: no equalizable pair"]
                : ["CLE: \(pairs.count) pairs, \(iterations) iterations, \(converged ? "converged" : "not converged") (max |s−1| \(lastMaxDeviation))"]
            lines += pairs.map { "  \($0.first) → \($0.second)" + ($0.through.isEmpty ? "" : " through \($0.through.joined(separator: ", "))") }
            return (lines + notes.map { "  " + $0 }).joined(separator: "\n")
        }
    }

    /// Equalizes `graph` (prepared: BN folded, weights not shared).
    /// - Throws: `OctetGraphError` from the shape dry run, naming the node.
    public static func run(_ graph: Graph, options: Options = Options()) throws -> (graph: Graph, report: Report) {
        var g = graph
        var report = Report()
        if options.relu6 == .relu { replaceReLU6(&g, &report) }
        let shapes = try TensorInfo(graph: g).shapes
        let chains = try findPairs(g, shapes, &report)
        report.pairs = chains.map(\.pair)
        guard !chains.isEmpty else { return (g, report) }
        for c in chains { report.scales[c.pair.first] = [Float](repeating: 1, count: c.first.outChannels) }
        for iter in 1...max(1, options.maxIterations) {
            var maxDev: Float = 0
            for c in chains {
                let s = equalize(&g, c)
                for i in s.indices { report.scales[c.pair.first]![i] *= s[i]; maxDev = max(maxDev, abs(s[i] - 1)) }
            }
            report.iterations = iter
            report.lastMaxDeviation = maxDev
            if maxDev < options.tolerance { report.converged = true; break }
        }
        return (g, report)
    }

    /// A pair with the channel maps of both weights.
    struct Chain {
        var pair: Pair
        var firstIndex: Int, secondIndex: Int
        var first: WeightChannels, second: WeightChannels
    }

    static let layerOps: Set<String> = ["Conv", "ConvTranspose", "Gemm"]
    static let transparentOps: Set<String> = ["Relu", "LeakyRelu", "PRelu", "MaxPool", "AveragePool", "GlobalAveragePool", "Pad"]

    static func findPairs(_ g: Graph, _ shapes: [String: [Int]], _ report: inout Report) throws -> [Chain] {
        var out: [Chain] = []
        for (ai, a) in g.nodes.enumerated() where layerOps.contains(a.opType) {
            guard let wa = weight(a, g), let ca = try WeightChannels(a, weightShape: wa.shape) else { continue }
            var t = a.outputs[0], through: [String] = [], flatten = 1
            while g.useCount(of: t) == 1, let ci = g.consumers(of: t).first {
                let c = g.nodes[ci]
                if layerOps.contains(c.opType) {
                    guard c.inputs[0] == t, let wb = weight(c, g), let cb = try WeightChannels(c, weightShape: wb.shape, flatten: flatten),
                          cb.inChannels == ca.outChannels else { break }
                    out.append(Chain(pair: Pair(first: QuantPlan.key(a), second: QuantPlan.key(c), through: through),
                                     firstIndex: ai, secondIndex: ci, first: ca, second: cb))
                    break
                }
                guard c.inputs[0] == t, let f = passes(c, g, shapes, &report) else { break }
                flatten *= f
                through.append(QuantPlan.key(c))
                t = c.outputs[0]
            }
        }
        return out
    }

    /// Flatten factor (H·W, 1 for channel-wise ops) when `c` commutes with positive per-channel scaling; nil otherwise.
    static func passes(_ c: Node, _ g: Graph, _ shapes: [String: [Int]], _ report: inout Report) -> Int? {
        if transparentOps.contains(c.opType) {
            if c.opType == "Pad" {
                let zero = c.inputs.count < 3 || c.inputs[2].isEmpty || g.scalarConstant(c.inputs[2]) == 0
                return zero && (try? c.string("mode", default: "constant")) == "constant" ? 1 : nil
            }
            if c.opType == "PRelu" { return c.inputs.count > 1 && g.constantFloat(c.inputs[1]) != nil ? 1 : nil }
            return 1
        }
        if c.opType == "Clip", let (lo, hi) = g.clipBounds(c) {
            if lo == 0 && hi == .infinity { return 1 }
            if lo == 0 {
                report.notes.append("chain stops at ReLU6 node \(QuantPlan.key(c)); equalizing through it would change the clip")
            }
            return nil
        }
        if c.opType == "Flatten" || c.opType == "Reshape", let s = shapes[c.inputs[0]], s.count == 4,
           let o = shapes[c.outputs[0]], o == [s[0], s[1] * s[2] * s[3]] {
            return s[2] * s[3]
        }
        return nil
    }

    static func weight(_ n: Node, _ g: Graph) -> Tensor? {
        n.inputs.count > 1 ? g.constantFloat(n.inputs[1]) : nil
    }

    /// One rescaling of a pair; returns the scales s applied.
    static func equalize(_ g: inout Graph, _ c: Chain) -> [Float] {
        let a = g.nodes[c.firstIndex], b = g.nodes[c.secondIndex]
        var wa = g.initializers[a.inputs[1]]!, wb = g.initializers[b.inputs[1]]!
        let r1 = WeightChannels.absMax(wa, c.first.output, channels: c.first.outChannels)
        let r2 = WeightChannels.absMax(wb, c.second.input, channels: c.second.inChannels)
        var s = [Float](repeating: 1, count: r1.count)
        for i in s.indices where r1[i] > 0 && r2[i] > 0 && (r1[i] / r2[i]).isFinite {
            s[i] = (r1[i] / r2[i]).squareRoot()
        }
        WeightChannels.scale(&wa, c.first.output, by: s.map { 1 / $0 })
        WeightChannels.scale(&wb, c.second.input, by: s)
        g.initializers[a.inputs[1]] = wa
        g.initializers[b.inputs[1]] = wb
        if a.inputs.count > 2, !a.inputs[2].isEmpty, var bias = g.initializers[a.inputs[2]] {
            bias.withMutableFloats { p in for i in p.indices { p[i] /= s[i] } }
            g.initializers[a.inputs[2]] = bias
        }
        return s
    }

    /// Clip(0, 6) → Relu, recorded in the report (reference `nndct_relu6_replace = 'relu'`).
    static func replaceReLU6(_ g: inout Graph, _ report: inout Report) {
        for (k, n) in g.nodes.enumerated() where n.opType == "Clip" {
            guard let (lo, hi) = g.clipBounds(n), lo == 0, hi == 6 else { continue }
            g.nodes[k] = Node(name: n.name, opType: "Relu", inputs: [n.inputs[0]], outputs: n.outputs)
            report.notes.append("ReLU6 node \(QuantPlan.key(n)) replaced by Relu (relu6: relu); the float function changes where its input exceeds 6")
        }
    }
}
