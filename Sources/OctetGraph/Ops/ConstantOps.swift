import OctetTensor

/// Constant, ConstantOfShape, Cast, Identity, Dropout (inference) and Range
/// (ONNX operator specs). Bool tensors are stored as uint8 0/1.
enum ConstantOps {
    static let kernels: [String: OpKernel] = [
        "Constant": { n, _, _ in [try constant(n)] },
        "ConstantOfShape": { n, i, _ in [try constantOfShape(n, i)] },
        "Cast": { n, i, _ in [try cast(n, i)] },
        "Identity": { n, i, _ in [try n.required(i, 0)] },
        "Dropout": { n, i, _ in try dropout(n, i) },
        "Range": { n, i, _ in [try range(n, i)] },
    ]

    /// `Constant` from `value` (tensor), `value_float`, `value_floats`, `value_int` or `value_ints`.
    static func constant(_ node: Node) throws -> Tensor {
        if let t = try node.tensor("value") { return t }
        if let v = try node.float("value_float") { return Tensor(scalar: v) }
        if let v = try node.floats("value_floats") { return Tensor(shape: [v.count], floats: v) }
        if let v = try node.int("value_int") { return Tensor(shape: [], int64s: [Int64(v)]) }
        if let v = try node.ints("value_ints") { return Tensor(shape: [v.count], int64s: v.map { Int64($0) }) }
        let kinds = node.attributes.keys.sorted().joined(separator: ", ")
        throw node.fail("unsupported Constant attribute (\(kinds.isEmpty ? "none" : kinds)); supported: value, value_float(s), value_int(s)")
    }

    /// `ConstantOfShape(shape)` filled with the one-element `value` tensor (default float 0).
    static func constantOfShape(_ node: Node, _ inputs: [Tensor?]) throws -> Tensor {
        let shape = ShapeOps.intList(try node.required(inputs, 0))
        guard shape.allSatisfy({ $0 >= 0 }) else { throw node.fail("negative dimension in shape \(shape)") }
        try node.requireOutputSize(shape)
        let value = try node.tensor("value") ?? Tensor(shape: [1], floats: [0])
        guard value.count == 1 else {
            throw OctetGraphError.badAttribute(node: node.label, attribute: "value", reason: "must hold exactly one element")
        }
        let tables = shape.map { Array(repeating: 0, count: $0) }
        return AxisGather(tables: tables).apply(try value.reshaped([]))
    }

    /// ONNX `TensorProto.DataType` codes that `Cast` supports, and their dtypes.
    static let castTargets: [Int: DType] = [1: .float32, 2: .uint8, 3: .int8, 6: .int32, 7: .int64, 9: .uint8]

    /// `Cast` to `to` (float32, uint8, int8, int32, int64, or bool stored as uint8 0/1).
    /// Float → integer truncates toward zero; NaN becomes 0 and infinities saturate.
    static func cast(_ node: Node, _ inputs: [Tensor?]) throws -> Tensor {
        let x = try node.required(inputs, 0)
        guard let to = try node.int("to") else {
            throw OctetGraphError.badAttribute(node: node.label, attribute: "to", reason: "required attribute is missing")
        }
        guard let target = castTargets[to] else {
            throw OctetGraphError.badAttribute(node: node.label, attribute: "to",
                                               reason: "unsupported target type \(to) (supported: float, uint8, int8, int32, int64, bool)")
        }
        if to == 9 {
            if case .float32(let v) = x.storage { return Tensor(shape: x.shape, uint8s: v.map { $0 != 0 ? 1 : 0 }) }
            return Tensor(shape: x.shape, uint8s: x.asInt64Array().map { $0 != 0 ? 1 : 0 })
        }
        if case .float32(let v) = x.storage, target != .float32 {
            let ints = v.map { f -> Int64 in f.isNaN ? 0 : Int64(Swift.min(Swift.max(f, -9.2e18), 9.2e18)) }
            return Tensor(shape: x.shape, int64s: ints).converted(to: target)
        }
        return x.converted(to: target)
    }

    /// `Dropout` at inference: the input unchanged, plus an all-true mask when requested.
    static func dropout(_ node: Node, _ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try node.required(inputs, 0)
        guard node.outputs.count > 1 else { return [x] }
        return [x, Tensor(shape: x.shape, uint8s: Array(repeating: 1, count: x.count))]
    }

    /// `Range(start, limit, delta)`: `max(ceil((limit - start) / delta), 0)` elements
    /// `start + i·delta`, in the inputs' dtype (float32, int64 or int32).
    static func range(_ node: Node, _ inputs: [Tensor?]) throws -> Tensor {
        let s = try node.required(inputs, 0), l = try node.required(inputs, 1), d = try node.required(inputs, 2)
        guard s.count == 1, l.count == 1, d.count == 1, s.dtype == l.dtype, s.dtype == d.dtype else {
            throw node.fail("start, limit and delta must be scalars of one dtype")
        }
        if case .float32(let a) = s.storage {
            let start = a[0], limit = l.floats[0], delta = d.floats[0]
            let steps = (Double(limit - start) / Double(delta)).rounded(.up)
            guard steps.isFinite, steps < 1e9 else { throw node.fail("invalid range \(start)..<\(limit) step \(delta)") }
            let n = Swift.max(Int(steps), 0)
            return Tensor(shape: [n], floats: (0..<n).map { start + Float($0) * delta })
        }
        let start = s.asInt64Array()[0], limit = l.asInt64Array()[0], delta = d.asInt64Array()[0]
        guard delta != 0 else { throw node.fail("delta must not be 0") }
        // Element count ceil((limit − start) / delta) in 128-bit arithmetic (the span of two int64s
        // need not fit in one), then the usual output-size limit.
        let span = Int128(limit) - Int128(start), d128 = Int128(delta)
        let count = span == 0 || (span > 0) != (d128 > 0) ? Int128(0) : (span + d128 - (d128 > 0 ? 1 : -1)) / d128
        guard count <= Int128(Node.maxOutputElements) else {
            throw node.fail("range \(start)..<\(limit) step \(delta) has \(count) elements, more than \(Node.maxOutputElements)")
        }
        let n = Int(count)
        let values = (0..<n).map { start &+ Int64($0) &* delta }  // within [start, limit): wrapping is exact
        return Tensor(shape: [n], int64s: values).converted(to: s.dtype)
    }
}
