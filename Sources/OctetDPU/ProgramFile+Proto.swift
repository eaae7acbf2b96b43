import Foundation
import OctetGraph
import OctetTensor

/// `Program` ↔ `Octet_Dpu_ProgramProto`. Every field round-trips exactly (tensors as raw
/// little-endian bytes; dictionaries are protobuf maps).
enum ProgramProtoCoding {
    static func proto(_ p: Program) throws -> Octet_Dpu_ProgramProto {
        var m = Octet_Dpu_ProgramProto()
        m.formatVersion = UInt32(Program.formatVersion)
        m.target = p.target
        m.graph = try graph(p.graph)
        m.fixPos = p.fixPos.mapValues { Int32($0) }
        m.constants = p.constants.mapValues(tensor)
        m.instructions = p.instructions.map(instruction)
        m.subgraphs = p.subgraphs.map { s in
            var o = Octet_Dpu_SubgraphProto()
            o.device = s.device.rawValue; o.instructions = s.instructions.map { Int32($0) }
            o.inputs = s.inputs; o.outputs = s.outputs
            return o
        }
        m.batchSize = UInt32(p.batchSize)
        return m
    }

    static func program(_ m: Octet_Dpu_ProgramProto) throws -> Program {
        let subs = try m.subgraphs.map { s in
            ProgramSubgraph(device: try device(s.device), instructions: s.instructions.map { Int($0) }, inputs: s.inputs, outputs: s.outputs)
        }
        guard (1...Model.maxBatchSize).contains(Int(m.batchSize)) else {
            throw OctetDPUError.inputMismatch("batch size \(m.batchSize) is outside 1...\(Model.maxBatchSize)")
        }
        let g = try graph(m.graph)
        let ins = try m.instructions.map(instruction)
        for i in ins where i.nodeIndex < 0 || i.nodeIndex >= g.nodes.count {
            throw OctetDPUError.inputMismatch("instruction \(i.node) names node index \(i.nodeIndex) of \(g.nodes.count)")
        }
        _ = try DPUTarget.named(m.target)
        let p = Program(target: m.target, graph: g, fixPos: m.fixPos.mapValues { Int($0) },
                        constants: try m.constants.mapValues(tensor), instructions: ins, subgraphs: subs, batchSize: Int(m.batchSize))
        try checkShifts(p)
        return p
    }

    /// The stored shifts must be those the fix positions give (the emulator computes from the fix
    /// positions, so a differing table would describe another program), and a DPU instruction's
    /// shifts must be within the hardware ranges (`ShiftLimits`).
    /// - Throws: `OctetDPUError.inputMismatch` naming the instruction; `.shiftOutOfRange`.
    static func checkShifts(_ p: Program) throws {
        for ins in p.instructions {
            let n = p.graph.nodes[ins.nodeIndex]
            func fp(_ t: String) throws -> Int {
                guard let f = p.fixPos[t] else { throw OctetDPUError.inputMismatch("instruction \(ins.node): tensor '\(t)' has no fix_pos") }
                return f
            }
            func expect(_ name: String, _ stored: Int?, _ computed: Int) throws {
                guard stored == computed else {
                    throw OctetDPUError.inputMismatch("instruction \(ins.node): stored \(name) \(stored.map(String.init) ?? "none") differs from \(computed), which its fix positions give")
                }
            }
            switch ins.kind {
            case .conv, .depthwiseConv, .transposedConv, .fullyConnected:
                guard let w = ins.weight, let out = ins.output, !n.inputs.isEmpty else { continue }
                let acc = try fp(n.inputs[0]) + fp(w)
                try expect("shift_cut", ins.shiftCut, acc - fp(out))
                if let b = ins.bias { try expect("shift_bias", ins.shiftBias, acc - fp(b)) }
            case .add, .mul:
                let f = try n.inputs.map(fp)
                guard let hi = f.max(), let lo = f.min() else { continue }
                try expect("shift_read", ins.shiftRead, hi - lo)
                try expect("shift_write", ins.shiftWrite, lo - fp(ins.output ?? n.outputs[0]))
            default: break
            }
            if ins.device == .dpu { try ShiftLimits.check(ins, n, p.fixPos) }
        }
    }

    static func device(_ s: String) throws -> QuantDevice {
        guard let d = QuantDevice(rawValue: s) else { throw OctetDPUError.inputMismatch("unknown device '\(s)'") }
        return d
    }

    // MARK: Instructions

    static func instruction(_ i: Instruction) -> Octet_Dpu_InstructionProto {
        var o = Octet_Dpu_InstructionProto()
        o.node = i.node; o.nodeIndex = Int32(i.nodeIndex); o.opType = i.opType; o.kind = i.kind.rawValue
        o.device = i.device.rawValue; o.output = i.output ?? ""; o.weight = i.weight ?? ""; o.bias = i.bias ?? ""
        o.activation = i.activation.rawValue; o.reason = i.reason ?? ""
        if let v = i.shiftCut { o.hasShiftCut_p = true; o.shiftCut = Int32(v) }
        if let v = i.shiftBias { o.hasShiftBias_p = true; o.shiftBias = Int32(v) }
        if let m = i.poolMultiplier, let s = i.poolShift { o.hasPool_p = true; o.poolMultiplier = Int32(m); o.poolShift = Int32(s) }
        if let r = i.shiftRead, let w = i.shiftWrite { o.hasShiftsRw_p = true; o.shiftRead = Int32(r); o.shiftWrite = Int32(w) }
        return o
    }

    static func instruction(_ o: Octet_Dpu_InstructionProto) throws -> Instruction {
        guard let kind = InstructionKind(rawValue: o.kind) else { throw OctetDPUError.inputMismatch("unknown instruction kind '\(o.kind)'") }
        guard let act = FusedActivation(rawValue: o.activation) else { throw OctetDPUError.inputMismatch("unknown activation '\(o.activation)'") }
        var i = Instruction(node: o.node, nodeIndex: Int(o.nodeIndex), opType: o.opType, kind: kind, device: try device(o.device))
        func opt(_ s: String) -> String? { s.isEmpty ? nil : s }
        i.output = opt(o.output); i.weight = opt(o.weight); i.bias = opt(o.bias); i.reason = opt(o.reason)
        i.activation = act
        if o.hasShiftCut_p { i.shiftCut = Int(o.shiftCut) }
        if o.hasShiftBias_p { i.shiftBias = Int(o.shiftBias) }
        if o.hasPool_p { i.poolMultiplier = Int(o.poolMultiplier); i.poolShift = Int(o.poolShift) }
        if o.hasShiftsRw_p { i.shiftRead = Int(o.shiftRead); i.shiftWrite = Int(o.shiftWrite) }
        return i
    }

    // MARK: Graph

    static func graph(_ g: Graph) throws -> Octet_Dpu_GraphProto {
        var o = Octet_Dpu_GraphProto()
        o.name = g.name; o.opset = Int64(g.opset); o.irVersion = Int64(g.irVersion)
        o.nodes = try g.nodes.map(node)
        o.initializers = g.initializers.mapValues(tensor)
        o.inputs = g.inputs.map(valueInfo); o.outputs = g.outputs.map(valueInfo)
        return o
    }

    static func graph(_ o: Octet_Dpu_GraphProto) throws -> Graph {
        Graph(name: o.name, nodes: try o.nodes.map(node), initializers: try o.initializers.mapValues(tensor),
              inputs: try o.inputs.map(valueInfo), outputs: try o.outputs.map(valueInfo), opset: Int(o.opset), irVersion: Int(o.irVersion))
    }

    static func node(_ n: Node) throws -> Octet_Dpu_NodeProto {
        var o = Octet_Dpu_NodeProto()
        o.name = n.name; o.opType = n.opType; o.domain = n.domain; o.inputs = n.inputs; o.outputs = n.outputs
        o.attributes = try n.attributes.mapValues(attribute)
        return o
    }

    static func node(_ o: Octet_Dpu_NodeProto) throws -> Node {
        Node(name: o.name, opType: o.opType, domain: o.domain, inputs: o.inputs, outputs: o.outputs,
             attributes: try o.attributes.mapValues(attribute))
    }

    static func attribute(_ a: Attribute) throws -> Octet_Dpu_AttributeProto {
        var o = Octet_Dpu_AttributeProto()
        switch a {
        case .int(let v): o.value = .i(Int64(v))
        case .float(let v): o.value = .f(v)
        case .string(let v): o.value = .s(v)
        case .ints(let v): var l = Octet_Dpu_AttributeProto.Ints(); l.values = v.map { Int64($0) }; o.value = .ints(l)
        case .floats(let v): var l = Octet_Dpu_AttributeProto.Floats(); l.values = v; o.value = .floats(l)
        case .strings(let v): var l = Octet_Dpu_AttributeProto.Strings(); l.values = v; o.value = .strings(l)
        case .tensor(let t): o.value = .tensor(tensor(t))
        case .graph(let g): o.value = .graph(try graph(g))
        }
        return o
    }

    static func attribute(_ o: Octet_Dpu_AttributeProto) throws -> Attribute {
        switch o.value {
        case .i(let v): return .int(Int(v))
        case .f(let v): return .float(v)
        case .s(let v): return .string(v)
        case .ints(let l): return .ints(l.values.map { Int($0) })
        case .floats(let l): return .floats(l.values)
        case .strings(let l): return .strings(l.values)
        case .tensor(let t): return .tensor(try tensor(t))
        case .graph(let g): return .graph(try graph(g))
        case nil: throw OctetDPUError.inputMismatch("attribute without a value")
        }
    }

    static func valueInfo(_ v: ValueInfo) -> Octet_Dpu_ValueInfoProto {
        var o = Octet_Dpu_ValueInfoProto()
        o.name = v.name; o.dtype = dtype(v.dtype)
        o.dims = v.dims.map { Int64($0.value ?? -1) }
        o.dimNames = v.dims.map { if case .symbolic(let s) = $0 { return s }; return "" }
        return o
    }

    static func valueInfo(_ o: Octet_Dpu_ValueInfoProto) throws -> ValueInfo {
        let dims: [Dim] = o.dims.indices.map { i in o.dims[i] >= 0 ? .fixed(Int(o.dims[i])) : .symbolic(i < o.dimNames.count ? o.dimNames[i] : "") }
        return ValueInfo(name: o.name, dtype: try dtype(o.dtype), dims: dims)
    }
}
