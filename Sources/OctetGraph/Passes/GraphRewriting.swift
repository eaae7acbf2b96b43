import OctetTensor

/// Small graph queries and edits shared by the preparation passes.
extension Graph {
    /// Number of node inputs reading `tensor`, plus one when it is a graph output.
    public func useCount(of tensor: String) -> Int {
        var n = outputs.contains { $0.name == tensor } ? 1 : 0
        for node in nodes { for i in node.inputs where i == tensor { n += 1 } }
        return n
    }

    /// Index of the node producing `tensor`.
    public func producerIndex(of tensor: String) -> Int? { nodes.firstIndex { $0.outputs.contains(tensor) } }

    /// The float32 initializer named `tensor`, if any.
    public func constantFloat(_ tensor: String) -> Tensor? {
        guard let t = initializers[tensor], t.dtype == .float32 else { return nil }
        return t
    }

    /// Replaces every read of `old` by `new` (node inputs and graph outputs).
    public mutating func renameUses(of old: String, to new: String) {
        for k in nodes.indices { for j in nodes[k].inputs.indices where nodes[k].inputs[j] == old { nodes[k].inputs[j] = new } }
        for k in outputs.indices where outputs[k].name == old { outputs[k].name = new }
    }

    /// A tensor name not yet used by an initializer, input or node output, starting from `base`.
    public func freshName(_ base: String) -> String {
        var used = Set(initializers.keys).union(inputs.map(\.name))
        for n in nodes { used.formUnion(n.outputs) }
        if !used.contains(base) { return base }
        var k = 1
        while used.contains("\(base)_\(k)") { k += 1 }
        return "\(base)_\(k)"
    }

    /// The constant bounds of a Clip node ([min, max]; attributes before opset 11, inputs after).
    /// Nil when a bound input is not a constant, or when min > max (every output is then max:
    /// a constant, not a clamp to fuse or to quantize as an activation).
    public func clipBounds(_ node: Node) -> (Float, Float)? {
        if opset < 11 {
            guard let lo = try? node.float("min", default: -.infinity),
                  let hi = try? node.float("max", default: .infinity) else { return nil }
            return lo <= hi ? (lo, hi) : nil
        }
        func bound(_ i: Int, _ d: Float) -> Float?? {
            guard i < node.inputs.count, !node.inputs[i].isEmpty else { return .some(d) }
            guard let t = initializers[node.inputs[i]], t.count == 1 else { return .none }
            return .some(t.asFloatArray()[0])
        }
        guard let lo = bound(1, -.infinity), let hi = bound(2, .infinity), lo! <= hi! else { return nil }
        return (lo!, hi!)
    }

    /// The single float value of a scalar (or one-element) constant input, if it is one.
    public func scalarConstant(_ tensor: String) -> Float? {
        guard let t = initializers[tensor], t.count == 1, t.dtype == .float32 else { return nil }
        return t.floats[0]
    }
}

/// Shapes and element types of every tensor of a graph, from one dry run on zero inputs.
public struct TensorInfo: Sendable {
    public var shapes: [String: [Int]]
    public var dtypes: [String: DType]

    /// - Throws: `OctetGraphError.symbolicDim` for an input without a fixed shape, or the
    ///   executor's errors naming the failing node.
    public init(graph: Graph) throws {
        var feeds: [String: Tensor] = [:]
        for input in graph.inputs where graph.initializers[input.name] == nil {
            guard let shape = input.shape else {
                throw OctetGraphError.symbolicDim(input: input.name, dim: input.dims.first { $0.value == nil }!.description)
            }
            feeds[input.name] = Tensor(zeros: shape, dtype: input.dtype)
        }
        var shapes: [String: [Int]] = [:], dtypes: [String: DType] = [:]
        for (k, v) in graph.initializers { shapes[k] = v.shape; dtypes[k] = v.dtype }
        for (k, v) in feeds { shapes[k] = v.shape; dtypes[k] = v.dtype }
        _ = try Executor(graph: graph).run(feeds) { _, node, outs in
            for (name, t) in zip(node.outputs, outs) { shapes[name] = t.shape; dtypes[name] = t.dtype }
        }
        self.shapes = shapes
        self.dtypes = dtypes
    }

    /// Whether `tensor` holds float32 values.
    public func isFloat(_ tensor: String) -> Bool { dtypes[tensor] == .float32 }

    /// Bytes of `tensor` (elements × its dtype's size; 0 for a tensor not recorded).
    public func byteCount(_ tensor: String) -> Int {
        guard let shape = shapes[tensor], let dtype = dtypes[tensor] else { return 0 }
        return shape.reduce(dtype.byteSize, *)
    }
}
