import OctetTensor
import Foundation

/// Element-wise ONNX operators with multidirectional broadcasting (ONNX docs/Broadcasting.md).
///
/// Arithmetic (`Add`, `Sub`, `Mul`, `Div`) runs on float32, int64 and int32 (integer
/// arithmetic wraps; integer `Div` truncates toward zero and throws on a zero divisor).
/// Comparisons (`Equal`, `Less`, `Greater`) and `Not` produce bool tensors, stored as
/// uint8 0/1. `Where` treats any non-zero condition element as true.
enum ElementwiseOps {
    static let kernels: [String: OpKernel] = [
        "Add": { n, i, _ in [try arithmetic(n, i, { $0 + $1 }, { $0 &+ $1 })] },
        "Sub": { n, i, _ in [try arithmetic(n, i, { $0 - $1 }, { $0 &- $1 })] },
        "Mul": { n, i, _ in [try arithmetic(n, i, { $0 * $1 }, { $0 &* $1 })] },
        "Div": { n, i, _ in [try divide(n, i)] },
        "Pow": { n, i, _ in [try pow(n, i)] },
        "Min": { n, i, _ in [try variadic(n, i, { Swift.min($0, $1) }, { Swift.min($0, $1) })] },
        "Max": { n, i, _ in [try variadic(n, i, { Swift.max($0, $1) }, { Swift.max($0, $1) })] },
        "Sum": { n, i, _ in [try variadic(n, i, { $0 + $1 }, { $0 &+ $1 })] },
        "Equal": { n, i, _ in [try compare(n, i, { $0 == $1 }, { $0 == $1 })] },
        "Less": { n, i, _ in [try compare(n, i, { $0 < $1 }, { $0 < $1 })] },
        "Greater": { n, i, _ in [try compare(n, i, { $0 > $1 }, { $0 > $1 })] },
        "Where": { n, i, _ in [try whereOp(n, i)] },
        "Not": { n, i, _ in [try not(n, i)] },
        "Sqrt": { n, i, _ in [try unaryFloat(n, i) { $0.squareRoot() }] },
        "Exp": { n, i, _ in [try unaryFloat(n, i) { Foundation.exp($0) }] },
        "Log": { n, i, _ in [try unaryFloat(n, i) { Foundation.log($0) }] },
        "Erf": { n, i, _ in [try unaryFloat(n, i) { Foundation.erf($0) }] },
        "Reciprocal": { n, i, _ in [try unaryFloat(n, i) { 1 / $0 }] },
        "Neg": { n, i, _ in [try unarySigned(n, i, { -$0 }, { 0 &- $0 })] },
        "Abs": { n, i, _ in [try unarySigned(n, i, { Swift.abs($0) }, { $0 < 0 ? 0 &- $0 : $0 })] },
    ]

    /// Two-input arithmetic on matching dtypes (float32, int64, int32). Inlined so that each
    /// table entry gets a loop specialised for its operator.
    @inline(__always)
    static func arithmetic(_ node: Node, _ inputs: [Tensor?], _ f: (Float, Float) -> Float,
                           _ g: (Int64, Int64) -> Int64) throws -> Tensor {
        let a = try node.required(inputs, 0), b = try node.required(inputs, 1)
        return try apply(node, a, b, f, g)
    }

    @inline(__always)
    static func apply(_ node: Node, _ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float,
                      _ g: (Int64, Int64) -> Int64) throws -> Tensor {
        switch (a.storage, b.storage) {
        case (.float32(let x), .float32(let y)):
            let (v, s) = try Broadcast.binary(x, a.shape, y, b.shape, f)
            return Tensor(shape: s, floats: v)
        case (.int64(let x), .int64(let y)):
            let (v, s) = try Broadcast.binary(x, a.shape, y, b.shape, g)
            return Tensor(shape: s, int64s: v)
        case (.int32(let x), .int32(let y)):
            let (v, s) = try Broadcast.binary(x, a.shape, y, b.shape) {
                Int32(truncatingIfNeeded: g(Int64($0), Int64($1)))
            }
            return Tensor(shape: s, int32s: v)
        default:
            throw node.fail("inputs must both be float32, int64 or int32; got \(a.dtype) and \(b.dtype)")
        }
    }

    /// `Div`; integer division truncates toward zero like C (onnxruntime).
    static func divide(_ node: Node, _ inputs: [Tensor?]) throws -> Tensor {
        let a = try node.required(inputs, 0), b = try node.required(inputs, 1)
        if b.dtype == .int64 || b.dtype == .int32, b.asInt64Array().contains(0) {
            throw node.fail("integer division by zero")
        }
        return try apply(node, a, b, { $0 / $1 }, { $0.dividedReportingOverflow(by: $1).partialValue })
    }

    /// `Pow`: float32 base; the exponent may be float32 or an integer type.
    static func pow(_ node: Node, _ inputs: [Tensor?]) throws -> Tensor {
        let a = try node.requiredFloat(inputs, 0), b = try node.required(inputs, 1)
        let e = b.dtype == .float32 ? b : b.converted(to: .float32)
        let (v, s) = try Broadcast.binary(a.floats, a.shape, e.floats, e.shape) { x, y -> Float in
            y == 2 ? x * x : (y == 1 ? x : Foundation.pow(x, y))
        }
        return Tensor(shape: s, floats: v)
    }

    /// `Min`, `Max`, `Sum`: folds one or more inputs pairwise with broadcasting.
    @inline(__always)
    static func variadic(_ node: Node, _ inputs: [Tensor?], _ f: (Float, Float) -> Float,
                         _ g: (Int64, Int64) -> Int64) throws -> Tensor {
        let present = inputs.compactMap { $0 }
        guard var acc = present.first else { throw node.fail("needs at least one input") }
        for t in present.dropFirst() { acc = try apply(node, acc, t, f, g) }
        return acc
    }

    /// Comparison producing a bool (uint8 0/1) tensor; inputs must share a dtype.
    static func compare(_ node: Node, _ inputs: [Tensor?], _ f: (Float, Float) -> Bool,
                        _ g: (Int64, Int64) -> Bool) throws -> Tensor {
        let a = try node.required(inputs, 0), b = try node.required(inputs, 1)
        guard a.dtype == b.dtype else { throw node.fail("input types differ: \(a.dtype) and \(b.dtype)") }
        if case .float32(let x) = a.storage, case .float32(let y) = b.storage {
            let (v, s) = try Broadcast.binary(x, a.shape, y, b.shape) { f($0, $1) ? UInt8(1) : 0 }
            return Tensor(shape: s, uint8s: v)
        }
        let (v, s) = try Broadcast.binary(a.asInt64Array(), a.shape, b.asInt64Array(), b.shape) {
            g($0, $1) ? UInt8(1) : 0
        }
        return Tensor(shape: s, uint8s: v)
    }

    /// `Not` on a bool (uint8) tensor.
    static func not(_ node: Node, _ inputs: [Tensor?]) throws -> Tensor {
        let x = try node.required(inputs, 0)
        guard case .uint8(let v) = x.storage else { throw node.fail("input must be bool, got \(x.dtype)") }
        return Tensor(shape: x.shape, uint8s: v.map { $0 == 0 ? 1 : 0 })
    }

    /// `Where(condition, X, Y)` with three-way broadcasting; X and Y must share a dtype.
    static func whereOp(_ node: Node, _ inputs: [Tensor?]) throws -> Tensor {
        let c = try node.required(inputs, 0), x = try node.required(inputs, 1), y = try node.required(inputs, 2)
        guard x.dtype == y.dtype else { throw node.fail("X and Y types differ: \(x.dtype) and \(y.dtype)") }
        let plan = try BroadcastPlan([c.shape, x.shape, y.shape])
        let cond = c.asInt64Array()
        func select<T>(_ xs: [T], _ ys: [T]) -> [T] {
            var out: [T] = []
            out.reserveCapacity(plan.count)
            plan.forEachOffsets { _, o in out.append(cond[o[0]] != 0 ? xs[o[1]] : ys[o[2]]) }
            return out
        }
        let s = plan.outShape
        switch (x.storage, y.storage) {
        case (.float32(let a), .float32(let b)): return Tensor(shape: s, floats: select(a, b))
        case (.int64(let a), .int64(let b)): return Tensor(shape: s, int64s: select(a, b))
        case (.int32(let a), .int32(let b)): return Tensor(shape: s, int32s: select(a, b))
        case (.int8(let a), .int8(let b)): return Tensor(shape: s, int8s: select(a, b))
        case (.uint8(let a), .uint8(let b)): return Tensor(shape: s, uint8s: select(a, b))
        default: throw node.fail("unsupported X/Y types \(x.dtype)")
        }
    }

    /// Float32 unary map.
    @inline(__always)
    static func unaryFloat(_ node: Node, _ inputs: [Tensor?], _ f: (Float) -> Float) throws -> Tensor {
        var x = try node.requiredFloat(inputs, 0)
        x.withMutableFloats { p in for i in 0..<p.count { p[i] = f(p[i]) } }
        return x
    }

    /// Unary map for float32 and signed integer tensors (`Neg`, `Abs`).
    static func unarySigned(_ node: Node, _ inputs: [Tensor?], _ f: (Float) -> Float,
                            _ g: (Int64) -> Int64) throws -> Tensor {
        let x = try node.required(inputs, 0)
        switch x.storage {
        case .float32: return try unaryFloat(node, inputs, f)
        case .int64(let v): return Tensor(shape: x.shape, int64s: v.map(g))
        case .int32(let v): return Tensor(shape: x.shape, int32s: v.map { Int32(truncatingIfNeeded: g(Int64($0))) })
        case .int8(let v): return Tensor(shape: x.shape, int8s: v.map { Int8(truncatingIfNeeded: g(Int64($0))) })
        case .uint8: throw node.fail("input must be signed, got uint8")
        }
    }
}
