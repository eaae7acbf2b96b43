import OctetTensor

/// A `Tensor` as a script value: arithmetic broadcasts, `t[i]` indexes the first axes,
/// `for row in t` walks the first axis.
public final class TensorValue: OperandObject, IndexableObject, IterableObject, LengthObject {
    public let tensor: Tensor

    public init(_ tensor: Tensor) { self.tensor = tensor }

    public var typeName: String { "Tensor" }
    public var length: Int? { tensor.rank == 0 ? nil : tensor.shape[0] }

    /// Converts a Tensor object, a number or a nested list of numbers to a tensor.
    public static func coerce(_ v: Value) throws -> Tensor? {
        switch v {
        case .object(let t as TensorValue): return t.tensor
        case .int, .real: return Tensor(scalar: Float(v.number!))
        case .list:
            var shape: [Int] = [], values: [Float] = []
            guard try flatten(v, depth: 0, shape: &shape, into: &values, leaf: { $0.number.map(Float.init) }) else { return nil }
            return Tensor(shape: shape, floats: values)
        default: return nil
        }
    }

    /// An int64 tensor, exactly, when `v` is an integer or a nested list of integers only; nil
    /// otherwise (reals go through `coerce`).
    static func coerceIntegers(_ v: Value) throws -> Tensor? {
        if case .int(let i) = v { return Tensor(shape: [], int64s: [Int64(i)]) }
        guard case .list = v else { return nil }
        var shape: [Int] = [], values: [Int64] = []
        guard try flatten(v, depth: 0, shape: &shape, into: &values, leaf: { if case .int(let i) = $0 { return Int64(i) }; return nil }) else {
            return nil
        }
        return Tensor(shape: shape, int64s: values)
    }

    /// Deepest list nesting `coerce` accepts (far above any tensor rank in practice);
    /// it also stops lists that contain themselves.
    static let maxNesting = 64

    /// Appends `leaf` of each number of `v` to `out`, recording the list lengths per depth in
    /// `shape`; false when a leaf is not accepted. Throws for ragged lists and for nesting deeper
    /// than `maxNesting` (cyclic lists).
    private static func flatten<T>(_ v: Value, depth: Int, shape: inout [Int], into out: inout [T], leaf: (Value) -> T?) throws -> Bool {
        guard depth <= maxNesting else {
            throw BindingError.message("nested list is more than \(maxNesting) levels deep (or contains itself): cannot make a tensor")
        }
        switch v {
        case .int, .real:
            if depth != shape.count { throw BindingError.message("ragged nested list: cannot make a tensor") }
            guard let x = leaf(v) else { return false }
            out.append(x)
            return true
        case .list(let l):
            if depth == shape.count { shape.append(l.items.count) } else if depth > shape.count || shape[depth] != l.items.count {
                throw BindingError.message("ragged nested list: cannot make a tensor")
            }
            for item in l.items { guard try flatten(item, depth: depth + 1, shape: &shape, into: &out, leaf: leaf) else { return false } }
            return true
        default: return false
        }
    }

    /// A number for a rank-0 tensor (int for integer dtypes), else a tensor value.
    static func wrap(_ t: Tensor) -> Value {
        if t.rank == 0 { return scalar(t, 0) }
        return .object(TensorValue(t))
    }

    static func scalar(_ t: Tensor, _ i: Int) -> Value {
        switch t.storage {
        case .float32(let a): return .real(Double(a[i].description) ?? Double(a[i]))
        case .int8(let a): return .int(Int(a[i]))
        case .uint8(let a): return .int(Int(a[i]))
        case .int32(let a): return .int(Int(a[i]))
        case .int64(let a): return .int(Int(a[i]))
        }
    }

    public var summary: String {
        let header = "Tensor \(tensor.dtype) \(tensor.shape)"
        if tensor.count <= 64 { return header + "\n" + TensorValue.nested(tensor) }
        let x = tensor.asFloatArray()
        let mean = x.reduce(0.0) { $0 + Double($1) } / Double(x.count)
        let variance = x.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(x.count)
        return header + "  min \(Format.fixed(Double(x.min()!), 4))  max \(Format.fixed(Double(x.max()!), 4))"
            + "  mean \(Format.fixed(mean, 4))  std \(Format.fixed(variance.squareRoot(), 4))"
    }

    /// NumPy-like nested brackets; float32 elements use Float's shortest form.
    static func nested(_ t: Tensor) -> String {
        let items: [String] = (0..<t.count).map { i in
            if case .float32(let a) = t.storage { return a[i].description }
            return Format.display(scalar(t, i))
        }
        if t.rank == 0 { return items[0] }
        func level(_ d: Int, _ start: Int, _ indent: String) -> String {
            let n = t.shape[d]
            let inner = t.shape[(d + 1)...].reduce(1, *)
            if d == t.rank - 1 { return "[" + items[start..<start + n].joined(separator: ", ") + "]" }
            let rows = (0..<n).map { level(d + 1, start + $0 * inner, indent + " ") }
            return "[" + rows.joined(separator: ",\n" + indent + " ") + "]"
        }
        return level(0, 0, "")
    }

    public func binary(_ op: BinaryOp, _ other: Value, selfOnLeft: Bool) throws -> Value? {
        guard let o = try TensorValue.coerce(other) else { return nil }
        let (a, b) = selfOnLeft ? (tensor, o) : (o, tensor)
        let f: (Float, Float) -> Float
        switch op {
        case .add: f = (+)
        case .subtract: f = (-)
        case .multiply: f = (*)
        case .divide: f = (/)
        default: return nil
        }
        return .object(TensorValue(try TensorMath.binary(a, b, f)))
    }

    public func negated() throws -> Value? {
        .object(TensorValue(try TensorMath.binary(Tensor(scalar: 0), tensor, -)))
    }

    public func index(_ indices: [Value]) throws -> Value {
        var picks: [TensorMath.Pick] = []
        for v in indices {
            switch v {
            case .int(let i): picks.append(.at(i))
            case .range(let r) where r.step == 1: picks.append(.slice(r.lower, r.upper))
            case .range(let r): throw BindingError.message("tensor index ranges take step 1, got \(Format.repr(.range(r)))")
            default: throw BindingError.message("tensor index must be an integer or a range, got \(v.typeName)")
            }
        }
        return TensorValue.wrap(try TensorMath.select(tensor, picks))
    }

    public func elements() throws -> [Value] {
        guard tensor.rank > 0 else { throw BindingError.message("cannot iterate over a rank-0 tensor") }
        try Limits.checkList(tensor.shape[0])
        return try (0..<tensor.shape[0]).map { try index([.int($0)]) }
    }

    public var propertyNames: [String] { ["shape", "dtype", "rank", "size", "T"] }

    public func property(_ name: String) throws -> Value? {
        switch name {
        case "shape": return .list(ListObject(tensor.shape.map { .int($0) }))
        case "dtype": return .string(tensor.dtype.rawValue)
        case "rank": return .int(tensor.rank)
        case "size": return .int(tensor.count)
        case "T": return .object(TensorValue(try TensorMath.transpose(tensor, nil)))
        default: return nil
        }
    }

    public var methods: BindingTable { TensorBindings.methods }

    public func render(in notebook: RenderContext) throws -> RichRendering? {
        guard tensor.rank == 2, tensor.shape[0] <= 20, tensor.shape[1] <= 12 else { return nil }
        let cols = tensor.shape[1]
        var md = "| | " + (0..<cols).map(String.init).joined(separator: " | ") + " |\n"
        md += "|---|" + String(repeating: "---|", count: cols) + "\n"
        for r in 0..<tensor.shape[0] {
            md += "| **\(r)** | " + (0..<cols).map { Format.display(TensorValue.scalar(tensor, r * cols + $0)) }.joined(separator: " | ") + " |\n"
        }
        return .markdown("Tensor \(tensor.dtype) \(tensor.shape)\n\n" + md)
    }
}
