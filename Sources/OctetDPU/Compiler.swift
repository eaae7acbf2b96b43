import OctetGraph
import OctetTensor

/// Options of `Compiler.compile`.
public struct CompileOptions: Sendable {
    /// Nodes that must run on the DPU: compiling fails, naming the rule, if the target cannot hold one.
    public var forceDPU: Set<String>
    public init(forceDPU: Set<String> = []) { self.forceDPU = forceDPU }
}

/// Compiles a quantized graph into a `Program` for one target.
///
/// 1. Checks the graph is DPU-deployable (8-bit signed per-tensor power-of-two everywhere).
/// 2. Runs the `Inspector` for the target: device per node, partition.
/// 3. Quantizes weights, biases and constant operands to int8 codes at their fix_pos with the
///    quantizer's weight rounding (config `weight_round`, default `std_round`; reference-quantizer §3.2).
/// 4. Emits one `Instruction` per node with its shifts, and checks every DPU instruction's shifts
///    against the hardware ranges (reference-quantizer §4.1, §4.2, §4.4).
public enum Compiler {
    /// - Throws: `OctetDPUError.notDeployable`, `.unsupportedOnDPU` (a forced node the target rejects),
    ///   `.shiftOutOfRange`, `.missingFixPos`, each naming the node.
    public static func compile(_ q: QuantizedGraph, target: DPUTarget = .default,
                               options: CompileOptions = CompileOptions()) throws -> Program {
        try checkDeployable(q.annotations)
        let inspection = try Inspector.inspect(q, target: target)
        for name in options.forceDPU.sorted() {
            guard let n = inspection.node(name) else { throw OctetDPUError.notDeployable("no node named '\(name)' to force onto the DPU") }
            if let r = n.reason { throw OctetDPUError.unsupportedOnDPU(node: name, rule: r) }
        }
        let fixPos = q.annotations.tensors.compactMapValues(\.fixPos)
        let constants = try quantizeConstants(q)
        var instructions: [Instruction] = []
        for (i, n) in q.graph.nodes.enumerated() {
            var ins = try instruction(q, i, n, fixPos)
            ins.device = inspection.nodes[i].device
            ins.reason = inspection.nodes[i].reason
            if ins.device == .dpu { try ShiftLimits.check(ins, q.graph.nodes[i], fixPos) }
            instructions.append(ins)
        }
        let subgraphs = partition(q.graph, instructions, inspection)
        let batch = q.graph.inputs.first?.shape?.first ?? 1
        return Program(target: target.name, graph: q.graph, fixPos: fixPos, constants: constants,
                       instructions: instructions, subgraphs: subgraphs, batchSize: max(batch, 1))
    }

    static func checkDeployable(_ a: QuantAnnotations) throws {
        for (name, p) in a.tensors.sorted(by: { $0.key < $1.key }) where !p.isDPUDeployable {
            throw OctetDPUError.notDeployable("tensor '\(name)' has \(p); the DPU needs 8-bit signed per-tensor power-of-two")
        }
        if let n = a.nodes.first(where: { $0.kind == .excluded }) {
            throw OctetDPUError.notDeployable("node \(n.node) was excluded from quantization")
        }
    }

    /// int8 codes of every quantized initializer (weights, biases, constant Add/Mul/Concat operands).
    static func quantizeConstants(_ q: QuantizedGraph) throws -> [String: Tensor] {
        let rounding = try RoundingMode.parse(q.annotations.config["weight_round"] ?? RoundingMode.halfAwayFromZero.rawValue)
        var out: [String: Tensor] = [:]
        for (name, p) in q.annotations.tensors {
            guard let t = q.graph.constantFloat(name), let fp = p.fixPos else { continue }
            out[name] = Tensor(shape: t.shape, int8s: try QuantMath.quantizeToInt8(t.floats, fixPos: fp, range: p.range, rounding: rounding))
        }
        return out
    }

    static func instruction(_ q: QuantizedGraph, _ i: Int, _ n: Node, _ fp: [String: Int]) throws -> Instruction {
        let a = q.annotations.nodes[i]
        var ins = Instruction(node: Inspector.nodeKey(n), nodeIndex: i, opType: n.opType, kind: .float, device: a.device)
        ins.output = a.output
        ins.activation = a.activation ?? .none
        func need(_ t: String) throws -> Int {
            guard let f = fp[t] else { throw OctetDPUError.missingFixPos(tensor: t, node: ins.node) }
            return f
        }
        switch a.kind {
        case .conv:
            ins.kind = try convKind(q.graph, n)
            ins.weight = a.weight; ins.bias = a.bias
            guard let w = a.weight, let out = a.output else { throw OctetDPUError.notDeployable("\(ins.node): conv without weight or output") }
            let acc = try need(n.inputs[0]) + need(w)
            ins.shiftCut = acc - (try need(out))
            ins.shiftBias = try a.bias.map { acc - (try need($0)) }
        case .fused: ins.kind = .fused; ins.output = nil
        case .add, .mul:
            ins.kind = a.kind == .add ? .add : .mul
            let fins = try n.inputs.map(need)
            ins.shiftRead = fins.max()! - fins.min()!
            ins.shiftWrite = fins.min()! - (try need(a.output ?? n.outputs[0]))
        case .concat: ins.kind = .concat
        case .passThrough:
            ins.kind = n.opType == "MaxPool" && n.outputs.count == 1 ? .maxPool
                : ["Resize", "Upsample"].contains(n.opType) ? .upsample : .move
        case .averagePool:
            ins.kind = .avgPool
            guard let f = a.avgPoolFactor, f.count == 2 else { throw OctetDPUError.notDeployable("\(ins.node): average pool without its N/2^M factor") }
            ins.poolMultiplier = f[0]; ins.poolShift = f[1]
        case .activation: ins.kind = .activation
        case .hardSigmoid: ins.kind = .hardSigmoid
        case .hardSwish: ins.kind = .hardSwish
        case .float, .excluded, .nonFloat: ins.kind = .float
        }
        return ins
    }

    static func convKind(_ g: Graph, _ n: Node) throws -> InstructionKind {
        switch n.opType {
        case "Conv":
            guard let w = g.initializers[n.inputs[1]] else { return .conv }
            let groups = try n.int("group", default: 1)
            return groups > 1 && w.shape[1] == 1 && w.shape[0] == groups ? .depthwiseConv : .conv
        case "ConvTranspose": return .transposedConv
        default: return .fullyConnected
        }
    }

    /// Subgraphs from the inspection, with their boundary tensors.
    static func partition(_ g: Graph, _ ins: [Instruction], _ inspection: Inspection) -> [ProgramSubgraph] {
        var subs = inspection.subgraphs.map { ProgramSubgraph(device: $0.device, instructions: [], inputs: [], outputs: []) }
        var owner: [String: Int] = [:]
        for (i, node) in inspection.nodes.enumerated() {
            guard let s = node.subgraph else { continue }
            subs[s].instructions.append(i)
            for t in g.nodes[i].outputs { owner[t] = s }
        }
        let graphOutputs = Set(g.outputs.map(\.name))
        for (i, node) in inspection.nodes.enumerated() {
            guard let s = node.subgraph else { continue }
            for t in g.nodes[i].inputs where !t.isEmpty && g.initializers[t] == nil && owner[t] != s {
                if !subs[s].inputs.contains(t) { subs[s].inputs.append(t) }
                if let o = owner[t], !subs[o].outputs.contains(t) { subs[o].outputs.append(t) }
            }
            for t in g.nodes[i].outputs where graphOutputs.contains(t) && !subs[s].outputs.contains(t) { subs[s].outputs.append(t) }
        }
        _ = ins
        return subs
    }
}
