import OctetGraph
import OctetTensor

/// The DPU fix_pos constraint pass run after calibration (reference-quantizer §4.1, §4.2, §4.4),
/// built on `FixPosRules`: Concat inputs/output share one fix_pos; Add/Mul shift_read / shift_write
/// and the Mul product shift; hard-sigmoid (fp_in ≥ 0, fp_out ≥ 7); hard-swish (fp_in ≥ 0,
/// fp_out ≤ fp_in + 7); optional pool alignment; then Conv/Gemm shift_cut ∈ [0, 16] and shift_bias.
/// Rounds repeat until nothing moves, since lowering a conv's fp_out changes the next conv's fp_in.
/// Where sharing would break an op's own range (a hard-sigmoid output in a Concat), the alignment
/// keeps that tensor in its range (`bounds()`) and the Concat requantizes it; so too a Concat
/// input that other nodes read (`readBeyond`), which keeps its own fix_pos. Every change is
/// recorded.
struct ConstraintPass {
    let graph: Graph
    let plan: QuantPlan
    let alignPool: Bool
    /// fix_pos of canonical activation quantizers and parameters.
    var fixPos: [String: Int]
    var adjustments: [FixPosAdjustment] = []
    /// `ConstraintPass.bounds(graph, plan)`.
    let bounds: [String: ClosedRange<Int>]

    init(graph: Graph, plan: QuantPlan, fixPos: [String: Int], alignPool: Bool) {
        self.graph = graph; self.plan = plan; self.fixPos = fixPos; self.alignPool = alignPool
        bounds = ConstraintPass.bounds(graph, plan)
    }

    /// Canonical name of an activation tensor or the parameter itself.
    func key(_ t: String) -> String { plan.canonical[t] ?? t }
    func position(_ t: String) -> TensorFixPos { TensorFixPos(key(t), fixPos[key(t)] ?? 0) }

    /// The accumulator fix_pos fp_in + fp_w of every Conv / Gemm must lie in
    /// `Int8Requant.accumulatorFixPos` (the integer pipeline's shifts); a tensor calibrated on
    /// values of 1e30 or 1e-30 does not. - Throws: `OctetQuantError.fixPosOutOfRange` naming the
    /// node, both fix positions and the input's observed range.
    func checkAccumulatorRange(_ ranges: [String: (min: Float, max: Float)]) throws {
        for (i, n) in graph.nodes.enumerated() where plan.nodes[i].kind == .conv {
            guard let w = plan.nodes[i].weight, let fw = fixPos[w], let fin = fixPos[key(n.inputs[0])] else { continue }
            guard !Int8Requant.accumulatorFixPos.contains(fin + fw) else { continue }
            let seen = ranges[key(n.inputs[0])].map { " (its calibration data span [\($0.min), \($0.max)])" } ?? ""
            throw OctetQuantError.fixPosOutOfRange(
                node: plan.nodes[i].node,
                detail: "input fix_pos \(fin)\(seen) + weight fix_pos \(fw) = \(fin + fw) is outside the "
                    + "\(Int8Requant.accumulatorFixPos) the integer pipeline can shift; "
                    + (abs(fw) > abs(fin) ? "check the scale of weight '\(w)'" : "check the calibration data's scale"))
        }
    }

    mutating func run() {
        for _ in 0..<16 {
            let before = adjustments.count
            for (i, n) in graph.nodes.enumerated() { apply(plan.nodes[i], n) }
            if adjustments.count == before { break }
        }
    }

    private mutating func apply(_ a: QuantNodeAnnotation, _ n: Node) {
        let inputs = n.inputs.filter { !$0.isEmpty && (plan.canonical[$0] != nil || plan.parameters[$0] != nil) }
        switch a.kind {
        case .conv:
            guard let w = a.weight, let out = a.output else { return }
            let c = ConvFixPos(input: position(n.inputs[0]), weight: position(w), bias: a.bias.map(position), output: position(out))
            let r = FixPosRules.conv(c)
            commit(r.positions.weight); commit(r.positions.output)
            if let b = r.positions.bias { commit(b) }
            adjustments += r.adjustments
        case .add:
            guard let out = a.output else { return }
            commitOp(FixPosRules.eltwise(OpFixPos(inputs: inputs.map(position), output: position(out))))
        case .mul:
            guard let out = a.output else { return }
            commitOp(FixPosRules.mul(OpFixPos(inputs: inputs.map(position), output: position(out)), outputFloor: bounds[key(out)]?.lowerBound))
        case .concat:
            guard let out = a.output, inputs.contains(where: { key($0) != key(out) }) else { return }
            var b = bounds
            for t in inputs where key(t) != key(out) && readBeyond(t, concat: n) {
                let own = fixPos[key(t)] ?? 0, old = b[key(t)]
                b[key(t)] = max(own, old?.lowerBound ?? own)...(old?.upperBound ?? Int.max / 4)
            }
            commitOp(FixPosRules.concat(OpFixPos(inputs: inputs.map(position), output: position(out)), bounds: b))
        case .averagePool where alignPool:
            guard let out = a.output else { return }
            commitOp(FixPosRules.pool(OpFixPos(inputs: [position(n.inputs[0])], output: position(out)), bounds: bounds))
        case .hardSigmoid:
            guard let out = a.output else { return }
            commitOp(FixPosRules.hardSigmoid(OpFixPos(inputs: [position(n.inputs[0])], output: position(out))))
        case .hardSwish:
            guard let out = a.output else { return }
            commitOp(FixPosRules.hardSwish(OpFixPos(inputs: [position(n.inputs[0])], output: position(out))))
        default:
            return
        }
    }

    /// Whether the quantizer of the Concat input `t` is read by another node than `concat` (pass-
    /// throughs that carry the same quantizer into it aside), or is a graph output. Such an input
    /// keeps its fix_pos, and the Concat requantizes it, as vai_q_pytorch's default flow does
    /// (reference-quantizer §1.2: only a producer whose only child is the Concat shares its fp);
    /// lowering it would coarsen what the other readers see.
    func readBeyond(_ t: String, concat: Node) -> Bool {
        let k = key(t)
        let members = Set(plan.canonical.filter { $0.value == k }.map(\.key) + [k])
        if graph.outputs.contains(where: { members.contains($0.name) }) { return true }
        for m in members {
            for j in graph.consumers(of: m) where graph.nodes[j].outputs != concat.outputs {
                let c = graph.nodes[j]
                if plan.nodes[j].kind == .passThrough, c.outputs.allSatisfy({ members.contains($0) }) { continue }
                return true
            }
        }
        return false
    }

    /// The fix_pos range each tensor's own ops allow, by canonical name: a hard-sigmoid's input
    /// ≥ 0 and output ≥ 7, a hard-swish's input ≥ 0. Alignment (Concat, pool) keeps a tensor
    /// inside them.
    static func bounds(_ graph: Graph, _ plan: QuantPlan) -> [String: ClosedRange<Int>] {
        var b: [String: ClosedRange<Int>] = [:]
        func atLeast(_ t: String, _ v: Int) {
            let k = plan.canonical[t] ?? t
            b[k] = max(v, b[k]?.lowerBound ?? v)...(Int.max / 4)
        }
        for (i, n) in graph.nodes.enumerated() {
            switch plan.nodes[i].kind {
            case .hardSigmoid:
                atLeast(n.inputs[0], 0)
                if let out = plan.nodes[i].output { atLeast(out, 7) }
            case .hardSwish: atLeast(n.inputs[0], 0)
            default: continue
            }
        }
        return b
    }

    private mutating func commitOp(_ r: Adjusted<OpFixPos>) {
        for t in r.positions.inputs { commit(t) }
        commit(r.positions.output)
        adjustments += r.adjustments
    }

    private mutating func commit(_ t: TensorFixPos) { fixPos[t.name] = t.fixPos }
}
