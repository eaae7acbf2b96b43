import Foundation
@testable import OctetGraph
import OctetTensor
import OctetTestSupport

/// Builds small ONNX ModelProtos in Swift and writes them to temporary files, for
/// importer and error-path tests.
enum ModelBuilder {
    static func tensor(_ name: String, _ shape: [Int], _ values: [Float]) -> Onnx_TensorProto {
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = shape.map(Int64.init)
        t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        t.floatData = values
        return t
    }

    static func valueInfo(_ name: String, _ dims: [Any], elem: Onnx_TensorProto.DataType = .float) -> Onnx_ValueInfoProto {
        var v = Onnx_ValueInfoProto()
        v.name = name
        v.type.tensorType.elemType = Int32(elem.rawValue)
        v.type.tensorType.shape.dim = dims.map { d in
            var dim = Onnx_TensorShapeProto.Dimension()
            if let i = d as? Int { dim.dimValue = Int64(i) } else { dim.dimParam = d as! String }
            return dim
        }
        return v
    }

    static func node(_ op: String, _ inputs: [String], _ outputs: [String], name: String = "", attrs: [Onnx_AttributeProto] = []) -> Onnx_NodeProto {
        var n = Onnx_NodeProto()
        n.opType = op; n.input = inputs; n.output = outputs; n.name = name.isEmpty ? "\(op)_0" : name
        n.attribute = attrs
        return n
    }

    static func int(_ name: String, _ v: Int) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name; a.type = .int; a.i = Int64(v)
        return a
    }

    static func ints(_ name: String, _ v: [Int]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name; a.type = .ints; a.ints = v.map(Int64.init)
        return a
    }

    static func model(nodes: [Onnx_NodeProto], inputs: [Onnx_ValueInfoProto], outputs: [Onnx_ValueInfoProto],
                      initializers: [Onnx_TensorProto] = [], opset: Int64 = 13, ir: Int64 = 7) -> Onnx_ModelProto {
        var m = Onnx_ModelProto()
        m.irVersion = ir
        var o = Onnx_OperatorSetIdProto()
        o.version = opset
        m.opsetImport = [o]
        m.graph.name = "test"
        m.graph.node = nodes
        m.graph.input = inputs
        m.graph.output = outputs
        m.graph.initializer = initializers
        return m
    }

    /// Writes `m` to a fresh temporary file and returns its path.
    static func write(_ m: Onnx_ModelProto, name: String = "model.onnx") throws -> String {
        let dir = Scratch.directory("model")
        let path = dir.appendingPathComponent(name).path
        try m.serializedData().write(to: URL(fileURLWithPath: path))
        return path
    }

    /// x [N?, 2] → Relu → y, with the given leading dimension.
    static func reluModel(batch: Any = 1) -> Onnx_ModelProto {
        model(nodes: [node("Relu", ["x"], ["y"])], inputs: [valueInfo("x", [batch, 2])], outputs: [valueInfo("y", [batch, 2])])
    }
}
