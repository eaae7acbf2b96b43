import OctetTensor

/// Class-index labels given to `dataset(x, labels:)` and `accuracy(logits, labels)`: a list, or an
/// integer or real tensor. Integers stay exact (no float32 round trip); a real must be a whole
/// number.
enum ClassLabels {
    /// - Returns: nil when `v` is neither a list nor a tensor.
    /// - Throws: `BindingError.message` naming the first label that is not an integer.
    static func parse(_ v: Value) throws -> [Int]? {
        if case .list(let items) = v, items.items.allSatisfy({ $0.number != nil }) {  // a flat list, item by item
            return try items.items.enumerated().map { i, item in
                if case .int(let k) = item { return k }
                guard let r = item.number, let k = whole(r) else { throw notInteger(Format.repr(item), i) }
                return k
            }
        }
        guard let t = try TensorValue.coerceIntegers(v) ?? TensorValue.coerce(v) else { return nil }  // nested: [N, 1]
        if t.dtype != .float32 { return t.asInt64Array().map { Int($0) } }
        return try t.asFloatArray().enumerated().map { i, r in
            guard let k = whole(Double(r)) else { throw notInteger(Format.real(Double(r)), i) }
            return k
        }
    }

    private static func whole(_ r: Double) -> Int? { r == r.rounded() && r >= -0x1p63 && r < 0x1p63 ? Int(r) : nil }

    private static func notInteger(_ shown: String, _ i: Int) -> BindingError {
        BindingError.message("label \(shown) at index \(i) is not an integer")
    }
}
