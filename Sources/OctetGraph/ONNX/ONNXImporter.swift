import Foundation
import OctetTensor
import SwiftProtobuf

/// Loads ONNX models (IR versions 3–10, default-domain opsets 7–21) into a `Graph`.
///
/// Initializers and `Constant` nodes become `Graph.initializers`; initializers that also
/// appear as graph inputs (IR < 4 style) are treated as constants. Nodes are sorted
/// topologically. Source: ONNX IR spec (onnx/docs/IR.md).
public enum ONNXImporter {
    public static let supportedIRVersions = 3...10
    public static let supportedOpsets = 7...21

    /// - Throws: `OctetGraphError.fileNotFound`, `.notONNX` for unreadable or truncated
    ///   files, `.badModel` for structural problems (unsupported IR version or opset, bad tensors).
    public static func load(path: String) throws -> Graph {
        guard FileManager.default.fileExists(atPath: path) else { throw OctetGraphError.fileNotFound(path) }
        let data = try InputFile.read(path)
        // Octet's own other formats, named rather than reported as broken protobuf.
        let magics: [([UInt8], String)] = [(Array("OCTPROG\0".utf8), "an Octet DPU program (.octprog; `octet dump` runs it)"),
                                           ([0x93] + Array("NUMPY".utf8), "a NumPy array (.npy)"), ([0x50, 0x4B, 0x03, 0x04], "a zip archive (.npz)")]
        for (magic, what) in magics where data.starts(with: magic) {
            throw OctetGraphError.notONNX(path: path, reason: "it is \(what)")
        }
        let model: Onnx_ModelProto
        do {
            model = try Onnx_ModelProto(serializedBytes: data)
        } catch {
            throw OctetGraphError.notONNX(path: path, reason: "protobuf decoding failed (\(error)); the file is truncated or not an ONNX model")
        }
        guard model.hasGraph, !model.graph.node.isEmpty else {
            throw OctetGraphError.notONNX(path: path, reason: "no graph or no nodes")
        }
        let baseDir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try convert(model, baseDir: baseDir, path: path)
    }

    static func convert(_ model: Onnx_ModelProto, baseDir: String?, path: String) throws -> Graph {
        let ir = Int(model.irVersion)
        guard supportedIRVersions.contains(ir) else {
            throw OctetGraphError.badModel("\(path): IR version \(ir) is not supported (supported \(supportedIRVersions))")
        }
        let defaults = model.opsetImport.filter { $0.domain.isEmpty || $0.domain == "ai.onnx" }
        guard defaults.count <= 1 else {
            throw OctetGraphError.badModel("\(path): the default domain is imported \(defaults.count) times (opsets \(defaults.map { String($0.version) }.joined(separator: ", ")))")
        }
        let opset = Int(defaults.first?.version ?? 0)
        guard supportedOpsets.contains(opset) else {
            throw OctetGraphError.badModel("\(path): default-domain opset \(opset) is not supported (supported \(supportedOpsets))")
        }
        let external = ONNXTensor.ExternalData(baseDir: baseDir)
        var g = try convertGraph(model.graph, external: external, outerScope: [])
        for n in g.nodes where n.domain.isEmpty || n.domain == "ai.onnx" {
            if let since = OpRegistry.introducedIn[n.opType], since > opset {
                throw OctetGraphError.badModel("\(path): node \(n.name): \(n.opType) is an ONNX operator from opset \(since); the model declares opset \(opset)")
            }
        }
        try checkDropouts(g)
        g.opset = opset
        g.irVersion = ir
        g.externalDataFiles = external.files
        return g
    }

    /// Dropout runs as inference (identity): `training_mode` (opset ≥ 12) must be absent or a
    /// constant false, and `ratio` in [0, 1) (ONNX Dropout).
    /// - Throws: `.badAttribute` naming the node.
    static func checkDropouts(_ g: Graph) throws {
        for n in g.nodes where n.opType == "Dropout" && (n.domain.isEmpty || n.domain == "ai.onnx") {
            if n.inputs.count > 2, !n.inputs[2].isEmpty {
                guard let t = g.initializers[n.inputs[2]], t.count == 1, t.asFloatArray()[0] == 0 else {
                    throw OctetGraphError.badAttribute(node: n.label, attribute: "training_mode",
                                                       reason: "must be a constant false: Octet runs inference (training-mode Dropout is random)")
                }
            }
            let ratio: Float?  // an input from opset 12 (checked when constant), an attribute before
            if n.inputs.count > 1, !n.inputs[1].isEmpty {
                ratio = g.initializers[n.inputs[1]].flatMap { $0.count == 1 ? $0.asFloatArray().first : nil }
            } else {
                ratio = try n.float("ratio", default: 0.5)
            }
            if let ratio, !(0..<1).contains(ratio) {
                throw OctetGraphError.badAttribute(node: n.label, attribute: "ratio", reason: "\(ratio) is outside [0, 1)")
            }
        }
    }

    /// `pg` as a `Graph`; `outerScope` holds the names a subgraph (If / Loop body) may read from
    /// the graphs around it (ONNX IR: lexical scoping).
    static func convertGraph(_ pg: Onnx_GraphProto, external: ONNXTensor.ExternalData, outerScope: Set<String>) throws -> Graph {
        var initializers: [String: Tensor] = [:]
        for t in pg.initializer {
            guard initializers[t.name] == nil else {
                throw OctetGraphError.badModel("initializer '\(t.name)' is given twice (ONNX names each tensor once)")
            }
            initializers[t.name] = try ONNXTensor.decode(t, external: external)
        }
        let scope = outerScope.union(pg.initializer.map(\.name)).union(pg.input.map(\.name)).union(pg.node.flatMap(\.output))
        var nodes: [Node] = []
        // An unnamed node is called <op>_<index> (then _2, _3, … past a name the model uses).
        var names = Set(pg.node.map(\.name).filter { !$0.isEmpty })
        for (i, pn) in pg.node.enumerated() {
            var name = pn.name
            if name.isEmpty {
                let base = "\(pn.opType)_\(i)"
                name = base
                var k = 2
                while names.contains(name) { name = "\(base)_\(k)"; k += 1 }
                names.insert(name)
            }
            // Every ONNX operator has at least one output; the executors index it unchecked.
            guard !pn.output.isEmpty, pn.output.contains(where: { !$0.isEmpty }) else {
                throw OctetGraphError.badModel("node \(name) (\(pn.opType)) has no outputs")
            }
            var attrs: [String: Attribute] = [:]
            for a in pn.attribute {
                guard attrs[a.name] == nil else {
                    throw OctetGraphError.badAttribute(node: name, attribute: a.name, reason: "given twice")
                }
                attrs[a.name] = try attribute(a, node: name, external: external, scope: scope)
            }
            let node = Node(name: name, opType: pn.opType, domain: pn.domain, inputs: pn.input,
                            outputs: pn.output, attributes: attrs)
            if node.opType == "Constant", node.domain.isEmpty, let out = node.outputs.first {
                initializers[out] = try constantValue(node)
            } else {
                nodes.append(node)
            }
        }
        let inputs = try pg.input.filter { initializers[$0.name] == nil }.map(valueInfo)
        let outputs = try pg.output.map(valueInfo)
        let sorted = try topologicalSort(nodes, available: Set(initializers.keys).union(inputs.map(\.name)).union(outerScope))
        return Graph(name: pg.name, nodes: sorted, initializers: initializers, inputs: inputs, outputs: outputs)
    }

    /// The tensor a `Constant` node produces (value, value_float(s), value_int(s)).
    static func constantValue(_ n: Node) throws -> Tensor {
        if let t = try n.tensor("value") { return t }
        if let v = try n.float("value_float") { return Tensor(scalar: v) }
        if let v = try n.floats("value_floats") { return Tensor(shape: [v.count], floats: v) }
        if let v = try n.int("value_int") { return Tensor(shape: [], int64s: [Int64(v)]) }
        if let v = try n.ints("value_ints") { return Tensor(shape: [v.count], int64s: v.map(Int64.init)) }
        throw OctetGraphError.badAttribute(node: n.label, attribute: "value", reason: "Constant has no supported value attribute")
    }

    static func valueInfo(_ v: Onnx_ValueInfoProto) throws -> ValueInfo {
        let tt = v.type.tensorType
        let dtype = ONNXTensor.dtype(fromONNX: tt.elemType) ?? .float32
        let dims: [Dim] = tt.shape.dim.map { d in
            switch d.value {
            case .dimValue(let x)? where x >= 0: return .fixed(Int(x))
            case .dimValue?: return .symbolic("")  // a negative size (some exporters write -1) is unknown
            case .dimParam(let s)?: return .symbolic(s)
            case nil: return .symbolic("")
            }
        }
        let declared: String? = switch Onnx_TensorProto.DataType(rawValue: Int(tt.elemType)) {
        case .double: "float64"
        case .float16: "float16"
        case .bool: "bool"
        case .int16: "int16"
        default: nil
        }
        return ValueInfo(name: v.name, dtype: dtype, dims: dims, declaredType: declared)
    }

    static func attribute(_ a: Onnx_AttributeProto, node: String, external: ONNXTensor.ExternalData,
                          scope: Set<String>) throws -> Attribute {
        switch a.type {
        case .float: return .float(a.f)
        case .int: return .int(Int(a.i))
        case .string: return .string(String(decoding: a.s, as: UTF8.self))
        case .floats: return .floats(a.floats)
        case .ints: return .ints(a.ints.map { Int($0) })
        case .strings: return .strings(a.strings.map { String(decoding: $0, as: UTF8.self) })
        case .tensor: return .tensor(try ONNXTensor.decode(a.t, external: external))
        case .graph: return .graph(try convertGraph(a.g, external: external, outerScope: scope))
        default:
            // IR 3 files may omit `type`; infer it from the populated field.
            if a.hasF { return .float(a.f) }
            if a.hasI { return .int(Int(a.i)) }
            if a.hasS { return .string(String(decoding: a.s, as: UTF8.self)) }
            if a.hasT { return .tensor(try ONNXTensor.decode(a.t, external: external)) }
            if !a.ints.isEmpty { return .ints(a.ints.map { Int($0) }) }
            if !a.floats.isEmpty { return .floats(a.floats) }
            throw OctetGraphError.badAttribute(node: node, attribute: a.name, reason: "unsupported attribute type \(a.type)")
        }
    }

    /// Why none of `nodes` can run: following unavailable inputs back through their producers ends
    /// at a tensor nothing produces (`.missingInput`) or comes back to a node (a cycle, `.badModel`).
    static func blocked(_ nodes: [Node], ready: Set<String>) -> OctetGraphError {
        var n = nodes[0], visited: [String] = []
        while true {
            let missing = n.inputs.first { !$0.isEmpty && !ready.contains($0) } ?? "?"
            guard let p = nodes.first(where: { $0.outputs.contains(missing) }) else {
                return .missingInput(node: n.label, tensor: missing)
            }
            if visited.contains(p.label) {
                return .badModel("node \(p.label) depends on its own output through '\(missing)': the graph has a cycle")
            }
            visited.append(n.label)
            n = p
        }
    }

    /// Kahn's algorithm, stable with respect to file order.
    static func topologicalSort(_ nodes: [Node], available: Set<String>) throws -> [Node] {
        var ready = available
        var remaining = nodes
        var out: [Node] = []
        out.reserveCapacity(nodes.count)
        while !remaining.isEmpty {
            var progressed = false
            var next: [Node] = []
            for n in remaining {
                if n.inputs.allSatisfy({ $0.isEmpty || ready.contains($0) }) {
                    out.append(n)
                    ready.formUnion(n.outputs)
                    progressed = true
                } else {
                    next.append(n)
                }
            }
            if !progressed { throw blocked(next, ready: ready) }
            remaining = next
        }
        return out
    }
}
