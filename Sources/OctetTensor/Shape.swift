/// Shape helpers shared by kernels: strides, broadcasting, axis normalisation.
public enum Shape {
    /// Row-major strides of `shape` in elements.
    public static func strides(_ shape: [Int]) -> [Int] {
        var s = Array(repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) { s[i] = acc; acc *= shape[i] }
        return s
    }

    /// NumPy/ONNX multidirectional broadcast of two shapes.
    /// - Throws: `OctetTensorError.shapeMismatch` when a pair of dims is neither equal nor 1.
    public static func broadcast(_ a: [Int], _ b: [Int]) throws -> [Int] {
        let n = max(a.count, b.count)
        var out = Array(repeating: 1, count: n)
        for i in 0..<n {
            let da = i < n - a.count ? 1 : a[i - (n - a.count)]
            let db = i < n - b.count ? 1 : b[i - (n - b.count)]
            if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db } else {
                throw OctetTensorError.shapeMismatch("cannot broadcast \(a) with \(b)")
            }
        }
        return out
    }

    /// Maps a possibly negative ONNX axis into `0..<rank`.
    /// - Throws: `OctetTensorError.shapeMismatch` when out of range.
    public static func normalizeAxis(_ axis: Int, rank: Int) throws -> Int {
        let a = axis < 0 ? axis + rank : axis
        guard a >= 0 && a < max(rank, 1) else {
            throw OctetTensorError.shapeMismatch("axis \(axis) out of range for rank \(rank)")
        }
        return a
    }
}
