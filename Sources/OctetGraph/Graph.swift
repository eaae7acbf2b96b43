import OctetTensor

/// A dimension of a graph input/output: fixed or named (symbolic, e.g. "batch").
public enum Dim: Sendable, Equatable, CustomStringConvertible {
    case fixed(Int)
    case symbolic(String)
    public var description: String {
        switch self {
        case .fixed(let v): return String(v)
        case .symbolic(let s): return s.isEmpty ? "?" : s
        }
    }
    public var value: Int? { if case .fixed(let v) = self { return v }; return nil }
}

/// Name, element type and shape of a graph input or output.
public struct ValueInfo: Sendable, Equatable {
    public var name: String
    public var dtype: DType
    public var dims: [Dim]
    /// The ONNX element type when Octet computes it as another `dtype` (e.g. "float64", "float16"
    /// held as float32; "bool" as uint8), for reports; nil when they are the same.
    public var declaredType: String?
    public init(name: String, dtype: DType, dims: [Dim], declaredType: String? = nil) {
        self.name = name; self.dtype = dtype; self.dims = dims; self.declaredType = declaredType
    }
    /// "float32", or "float32 (declared float64)".
    public var typeDescription: String { declaredType.map { "\(dtype) (declared \($0))" } ?? "\(dtype)" }
    /// Shape when every dimension is fixed.
    public var shape: [Int]? {
        let v = dims.compactMap(\.value)
        return v.count == dims.count ? v : nil
    }
}

/// A computation graph with ONNX operator names; nodes are kept in topological order.
public struct Graph: Sendable, Equatable {
    public var name: String
    public var nodes: [Node]
    /// Constant tensors (ONNX initializers and folded `Constant` nodes), by tensor name.
    public var initializers: [String: Tensor]
    public var inputs: [ValueInfo]
    public var outputs: [ValueInfo]
    /// Default-domain opset version the model was exported with.
    public var opset: Int
    public var irVersion: Int
    /// Files the initializers were read from (ONNX external data), besides the model file.
    public var externalDataFiles: [String] = []

    public init(name: String = "graph", nodes: [Node], initializers: [String: Tensor] = [:],
                inputs: [ValueInfo], outputs: [ValueInfo], opset: Int = 13, irVersion: Int = 8) {
        self.name = name
        self.nodes = nodes
        self.initializers = initializers
        self.inputs = inputs
        self.outputs = outputs
        self.opset = opset
        self.irVersion = irVersion
    }

    /// The node producing `tensor`, if any.
    public func producer(of tensor: String) -> Node? { nodes.first { $0.outputs.contains(tensor) } }

    /// Indices of nodes reading `tensor`, plus whether a graph output exposes it.
    public func consumers(of tensor: String) -> [Int] {
        nodes.indices.filter { nodes[$0].inputs.contains(tensor) }
    }

    /// Number of elements in all initializers that feed compute nodes (weights, biases).
    public var parameterCount: Int { initializers.values.filter { $0.dtype == .float32 }.reduce(0) { $0 + $1.count } }

    /// Histogram of op types, most frequent first.
    public var opHistogram: [(op: String, count: Int)] {
        var h: [String: Int] = [:]
        for n in nodes { h[n.opType, default: 0] += 1 }
        return h.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}
