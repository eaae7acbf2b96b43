import Foundation
import OctetTensor
import SwiftProtobuf

/// Writes a `Graph` as an ONNX `ModelProto` (ONNX IR spec, onnx/docs/IR.md).
///
/// Written: nodes in graph order with every attribute kind (int, float, string, ints, floats,
/// strings, tensor, graph), initializers as little-endian `raw_data`, value infos of the graph
/// inputs and outputs (element type and fixed or symbolic dimensions), one default-domain
/// opset import plus one per custom node domain (version 1). Tensor element types map one to
/// one (float32 → FLOAT, int8 → INT8, uint8 → UINT8, int32 → INT32, int64 → INT64); a BOOL or
/// INT16 tensor read by `ONNXImporter` comes back as UINT8 / INT32.
public enum ONNXExporter {
    public static let producerName = "octet"

    /// The lowest IR version whose opset range includes default-domain `opset` (at least 7).
    public static func minimumIRVersion(opset: Int) -> Int {
        switch opset {
        case ...13: return 7
        case ...18: return 8
        case ...20: return 9
        default: return 10
        }
    }

    /// The serialized model. `opset` defaults to the graph's own, `irVersion` to
    /// `minimumIRVersion(opset:)` (IR 7 for opset 13).
    /// - Throws: `OctetGraphError.badModel` when the protobuf cannot be serialized.
    public static func data(_ graph: Graph, opset: Int? = nil, irVersion: Int? = nil) throws -> Data {
        let model = modelProto(lowered(graph, opset: opset ?? graph.opset), opset: opset, irVersion: irVersion)
        do { return try model.serializedData() } catch {
            throw OctetGraphError.badModel("graph '\(graph.name)': ONNX serialization failed (\(error))")
        }
    }

    /// `graph` with the ops newer than `opset` that Octet's passes make written with older ones:
    /// HardSwish (opset 14; from `HardSwishFusion`) as `x · HardSigmoid(x; 1/6, 1/2)`, the same
    /// function, under fresh tensor and node names.
    public static func lowered(_ graph: Graph, opset: Int) -> Graph {
        guard opset < 14, graph.nodes.contains(where: { $0.opType == "HardSwish" && $0.domain.isEmpty }) else { return graph }
        var g = graph
        var taken = Set(graph.nodes.flatMap { $0.inputs + $0.outputs } + graph.nodes.map(\.name) + graph.initializers.keys)
        func fresh(_ base: String) -> String {
            var name = base, k = 2
            while taken.contains(name) { name = "\(base)_\(k)"; k += 1 }
            taken.insert(name)
            return name
        }
        g.nodes = graph.nodes.flatMap { n -> [Node] in
            guard n.opType == "HardSwish", n.domain.isEmpty else { return [n] }
            let h = fresh("\(n.outputs[0])_hard_sigmoid")
            return [Node(name: fresh("\(n.name)_hard_sigmoid"), opType: "HardSigmoid", inputs: [n.inputs[0]], outputs: [h],
                         attributes: ["alpha": .float(1.0 / 6.0), "beta": .float(0.5)]),
                    Node(name: n.name, opType: "Mul", inputs: [n.inputs[0], h], outputs: [n.outputs[0]])]
        }
        return g
    }

    /// Writes the model to `path` atomically (temporary file + rename).
    /// - Throws: as `data(_:)`, and `OctetTensorError.writeFailed` naming the path.
    public static func write(_ graph: Graph, to path: String, opset: Int? = nil, irVersion: Int? = nil) throws {
        try AtomicFile.write(try data(graph, opset: opset, irVersion: irVersion), to: path)
    }

    static func modelProto(_ g: Graph, opset: Int?, irVersion: Int?) -> Onnx_ModelProto {
        var m = Onnx_ModelProto()
        let ops = opset ?? g.opset
        m.irVersion = Int64(irVersion ?? minimumIRVersion(opset: ops))
        m.producerName = producerName
        var def = Onnx_OperatorSetIdProto()
        def.domain = ""
        def.version = Int64(ops)
        m.opsetImport = [def]
        for domain in Set(allNodes(g).map(\.domain)).subtracting(["", "ai.onnx"]).sorted() {
            var o = Onnx_OperatorSetIdProto()
            o.domain = domain
            o.version = 1
            m.opsetImport.append(o)
        }
        m.graph = graphProto(g)
        return m
    }

    /// Nodes of `g` and of every subgraph attribute.
    static func allNodes(_ g: Graph) -> [Node] {
        g.nodes + g.nodes.flatMap { n in n.attributes.values.flatMap { a -> [Node] in
            if case .graph(let sub) = a { return allNodes(sub) }
            return []
        } }
    }

    static func graphProto(_ g: Graph) -> Onnx_GraphProto {
        var p = Onnx_GraphProto()
        p.name = g.name
        p.node = g.nodes.map(nodeProto)
        p.initializer = g.initializers.keys.sorted().map { tensorProto(g.initializers[$0]!, name: $0) }
        p.input = g.inputs.map(valueInfoProto)
        p.output = g.outputs.map(valueInfoProto)
        return p
    }

    static func nodeProto(_ n: Node) -> Onnx_NodeProto {
        var p = Onnx_NodeProto()
        p.name = n.name
        p.opType = n.opType
        p.domain = n.domain
        p.input = n.inputs
        p.output = n.outputs
        p.attribute = n.attributes.keys.sorted().map { attributeProto(n.attributes[$0]!, name: $0) }
        return p
    }

    static func attributeProto(_ a: Attribute, name: String) -> Onnx_AttributeProto {
        var p = Onnx_AttributeProto()
        p.name = name
        switch a {
        case .int(let v): p.type = .int; p.i = Int64(v)
        case .float(let v): p.type = .float; p.f = v
        case .string(let v): p.type = .string; p.s = Data(v.utf8)
        case .ints(let v): p.type = .ints; p.ints = v.map(Int64.init)
        case .floats(let v): p.type = .floats; p.floats = v
        case .strings(let v): p.type = .strings; p.strings = v.map { Data($0.utf8) }
        case .tensor(let t): p.type = .tensor; p.t = tensorProto(t, name: "")
        case .graph(let sub): p.type = .graph; p.g = graphProto(sub)
        }
        return p
    }

    /// A tensor with its data as little-endian `raw_data`.
    public static func tensorProto(_ t: Tensor, name: String) -> Onnx_TensorProto {
        var p = Onnx_TensorProto()
        p.name = name
        p.dims = t.shape.map(Int64.init)
        p.dataType = Int32(onnxType(t.dtype).rawValue)
        switch t.storage {
        case .float32(let v): p.rawData = bytes(v)
        case .int8(let v): p.rawData = bytes(v)
        case .uint8(let v): p.rawData = bytes(v)
        case .int32(let v): p.rawData = bytes(v)
        case .int64(let v): p.rawData = bytes(v)
        }
        return p
    }

    static func bytes<T>(_ v: [T]) -> Data { v.withUnsafeBufferPointer { Data(buffer: $0) } }

    static func onnxType(_ d: DType) -> Onnx_TensorProto.DataType {
        switch d {
        case .float32: return .float
        case .int8: return .int8
        case .uint8: return .uint8
        case .int32: return .int32
        case .int64: return .int64
        }
    }

    static func valueInfoProto(_ v: ValueInfo) -> Onnx_ValueInfoProto {
        var p = Onnx_ValueInfoProto()
        p.name = v.name
        p.type.tensorType.elemType = Int32(onnxType(v.dtype).rawValue)
        p.type.tensorType.shape.dim = v.dims.map { d in
            var dim = Onnx_TensorShapeProto.Dimension()
            switch d {
            case .fixed(let x): dim.dimValue = Int64(x)
            case .symbolic(let s): if !s.isEmpty { dim.dimParam = s }
            }
            return dim
        }
        return p
    }
}
