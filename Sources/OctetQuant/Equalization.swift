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
/// says so; `.calibrated` keeps it and equalizes through it channel by channel where that is exact
/// on the calibration data: s·clip(x/s, 0, hi) = clip(x, 0, hi) for every observed x iff the
/// channel's maximum m satisfies m ≤ hi and m/s ≤ hi. So a channel whose input reaches the clip
/// keeps s = 1, the others get s ≥ m/hi (m is updated after each rescaling). `clipHeadroom` h
/// replaces hi by hi/h in both conditions, so inputs up to h × the calibration maximum keep the function.
/// Per channel i: s_i = √(r1_i / r2_i), r1 = max |W1 output channel i|,
/// r2 = max |W2 input channel i|; W1 row /= s, b1 /= s, W2 column *= s; s = 1 where r1 / r2 is 0,
/// not finite or subnormal, or b1 / s would overflow. A first layer whose bias is not one value per
/// output channel ends no pair.
/// All pairs are swept until max |s − 1| < `tolerance` or `maxIterations` sweeps.
public enum CrossLayerEqualization {
    public enum ReLU6Policy: String, Sendable, Codable, CaseIterable {
        /// End the chain at Clip(0, hi).
        case stop
        /// Replace Clip(0, 6) by Relu (vai_q_pytorch's default); changes the float function above 6.
        case relu
        /// Keep the clip; equalize the channels that never reach it on the calibration data (needs feeds).
        case calibrated
    }

    public struct Options: Sendable {
        public var relu6: ReLU6Policy = .stop
        public var maxIterations = 20
        public var tolerance: Float = 1e-3
        /// `.calibrated`: a channel is equalized only while its calibration maximum stays ≤ hi / headroom
        /// before and after scaling, so inputs up to `headroom` × the calibrated maximum keep the function.
        public var clipHeadroom: Float = 2
        /// Layers this configuration keeps in float (`QConfig.excludes`) are left as they are: they
        /// start and end no pair.
        public var quantization = QConfig()
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
                : ["CLE: \(pairs.count) pair\(pairs.count == 1 ? "" : "s"), \(iterations) iteration\(iterations == 1 ? "" : "s"), \(converged ? "converged" : "not converged") (max |s−1| \(lastMaxDeviation))"]
            lines += pairs.map { "  \($0.first) → \($0.second)" + ($0.through.isEmpty ? "" : " through \($0.through.joined(separator: ", "))") }
            return (lines + notes.map { "  " + $0 }).joined(separator: "\n")
        }
    }

    /// Equalizes `graph` (prepared: BN folded, weights not shared). `feeds` (calibration inputs
    /// [N, …]) and `batchSize` (the graph's batch dimension) are needed by `relu6: .calibrated`.
    /// - Throws: `RecoveryError.invalidOption` for `.calibrated` without feeds; `OctetGraphError`
    ///   from the shape dry run or the calibration run, naming the node.
    public static func run(_ graph: Graph, options: Options = Options(), feeds: [String: Tensor]? = nil,
                           batchSize: Int = 1) throws -> (graph: Graph, report: Report) {
        var g = graph
        var report = Report()
        if options.relu6 == .relu { replaceReLU6(&g, &report) }
        let shapes = try TensorInfo(graph: g).shapes
        let chains = try findPairs(g, shapes, &report, relu6: options.relu6, excluded: options.quantization.excludes)
        report.pairs = chains.map(\.pair)
        guard !chains.isEmpty else { return (g, report) }
        var bounds = try clipBounds(chains, g, options: options, feeds: feeds, batchSize: batchSize, &report)
        for c in chains { report.scales[c.pair.first] = [Float](repeating: 1, count: c.first.outChannels) }
        for iter in 1...max(1, options.maxIterations) {
            var maxDev: Float = 0
            for (k, c) in chains.enumerated() {
                let s = equalize(&g, c, bounds: &bounds[k])
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
        /// Clip(0, hi) nodes passed (`relu6: .calibrated`): the clip's input tensor and hi.
        var clips: [(input: String, hi: Float)] = []
    }

    /// The per-channel calibration maxima of each chain's clip inputs (`relu6: .calibrated`).
    struct ClipBound { var hi: Float; var max: [Float] }

    static func clipBounds(_ chains: [Chain], _ g: Graph, options: Options, feeds: [String: Tensor]?, batchSize: Int,
                           _ report: inout Report) throws -> [[ClipBound]] {
        let tensors = chains.flatMap { $0.clips.map(\.input) }
        guard !tensors.isEmpty else { return chains.map { _ in [] } }
        guard let feeds else {
            throw RecoveryError.invalidOption(name: "relu6", reason: "'calibrated' needs calibration data")
        }
        guard options.clipHeadroom >= 1, options.clipHeadroom.isFinite else {
            throw RecoveryError.invalidOption(name: "clip headroom", reason: "must be a finite number ≥ 1, got \(options.clipHeadroom)")
        }
        let ranges = try ChannelStatistics.ranges(g, tensors: tensors, feeds: feeds, batchSize: batchSize)
        return chains.map { c in
            c.clips.map { clip in
                let m = ranges[clip.input]!.max
                let hi = clip.hi / options.clipHeadroom
                let reaching = m.filter { $0 > hi }.count
                report.notes.append("clip \(clip.input) (hi \(clip.hi)): \(reaching) of \(m.count) channels reach \(hi) on the calibration data and keep s = 1")
                return ClipBound(hi: hi, max: m)
            }
        }
    }

    static let layerOps: Set<String> = ["Conv", "ConvTranspose", "Gemm"]
    static let transparentOps: Set<String> = ["Relu", "LeakyRelu", "PRelu", "MaxPool", "AveragePool", "GlobalAveragePool", "Pad"]

    /// Pairs of layers joined through channel-wise ops; `excluded` layers (kept in float) are in none.
    static func findPairs(_ g: Graph, _ shapes: [String: [Int]], _ report: inout Report, relu6: ReLU6Policy = .stop,
                          excluded: (Node) -> Bool = { _ in false }) throws -> [Chain] {
        var out: [Chain] = []
        let kept = g.nodes.filter { layerOps.contains($0.opType) && excluded($0) }.map(QuantPlan.key)
        if !kept.isEmpty { report.notes.append("excluded from quantization, so in no pair: " + kept.joined(separator: ", ")) }
        for (ai, a) in g.nodes.enumerated() where layerOps.contains(a.opType) && !excluded(a) {
            guard let wa = weight(a, g), let ca = try WeightChannels(a, weightShape: wa.shape),
                  biasCount(a, g).map({ $0 == ca.outChannels }) ?? true else { continue }
            var t = a.outputs[0], through: [String] = [], flatten = 1, clips: [(input: String, hi: Float)] = []
            while g.useCount(of: t) == 1, let ci = g.consumers(of: t).first {
                let c = g.nodes[ci]
                if layerOps.contains(c.opType) {
                    guard c.inputs[0] == t, !excluded(c), let wb = weight(c, g), let cb = try WeightChannels(c, weightShape: wb.shape, flatten: flatten),
                          cb.inChannels == ca.outChannels else { break }
                    out.append(Chain(pair: Pair(first: QuantPlan.key(a), second: QuantPlan.key(c), through: through),
                                     firstIndex: ai, secondIndex: ci, first: ca, second: cb, clips: clips))
                    break
                }
                if relu6 == .calibrated, flatten == 1, c.inputs[0] == t, c.opType == "Clip", let (lo, hi) = g.clipBounds(c),
                   lo == 0, hi > 0, hi.isFinite, (shapes[t]?.count ?? 0) >= 2 {
                    clips.append((t, hi))
                    through.append(QuantPlan.key(c))
                    t = c.outputs[0]
                    continue
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

    /// The number of values of `n`'s bias initializer (0 for a bias computed in the graph); nil without a bias.
    static func biasCount(_ n: Node, _ g: Graph) -> Int? {
        n.inputs.count > 2 && !n.inputs[2].isEmpty ? g.initializers[n.inputs[2]]?.count ?? 0 : nil
    }

    static func weight(_ n: Node, _ g: Graph) -> Tensor? {
        n.inputs.count > 1 ? g.constantFloat(n.inputs[1]) : nil
    }

    /// One rescaling of a pair; returns the scales s applied. `bounds` (the chain's clips) limit s
    /// per channel and are divided by it.
    static func equalize(_ g: inout Graph, _ c: Chain, bounds: inout [ClipBound]) -> [Float] {
        let a = g.nodes[c.firstIndex], b = g.nodes[c.secondIndex]
        var wa = g.initializers[a.inputs[1]]!, wb = g.initializers[b.inputs[1]]!
        let r1 = WeightChannels.absMax(wa, c.first.output, channels: c.first.outChannels)
        let r2 = WeightChannels.absMax(wb, c.second.input, channels: c.second.inChannels)
        var s = [Float](repeating: 1, count: r1.count)
        let bias = a.inputs.count > 2 && !a.inputs[2].isEmpty ? g.initializers[a.inputs[2]] : nil
        let b1 = bias?.floats
        for i in s.indices where (r1[i] / r2[i]).isNormal {
            let si = (r1[i] / r2[i]).squareRoot()
            if let b1, !(b1[i] / si).isFinite { continue }
            s[i] = si
        }
        for bound in bounds {
            for i in s.indices where i < bound.max.count {
                s[i] = bound.max[i] > bound.hi ? 1 : max(s[i], bound.max[i] / bound.hi)
            }
        }
        for k in bounds.indices { for i in bounds[k].max.indices where i < s.count { bounds[k].max[i] /= s[i] } }
        WeightChannels.scale(&wa, c.first.output, by: s.map { 1 / $0 })
        WeightChannels.scale(&wb, c.second.input, by: s)
        g.initializers[a.inputs[1]] = wa
        g.initializers[b.inputs[1]] = wb
        if var bias {
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
