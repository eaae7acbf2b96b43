import OctetTensor
import Foundation

/// Softmax and LogSoftmax (ONNX operator specs).
extension ReduceOps {
    /// Before opset 13 the input is coerced to 2-D `[prod(d[..<axis]), prod(d[axis...])]`
    /// (axis default 1) and each row is normalised; from opset 13 the normalisation runs along
    /// the single `axis` (default -1). Uses the max-subtracted form `exp(x - max) / Σ exp(x - max)`.
    static func softmax(_ node: Node, _ inputs: [Tensor?], _ opset: Int, log: Bool) throws -> Tensor {
        var x = try node.requiredFloat(inputs, 0)
        let r = Swift.max(x.rank, 1)
        let k = try ShapeOps.axis(node, try node.int("axis", default: opset < 13 ? 1 : -1), rank: r)
        let shape = x.rank == 0 ? [1] : x.shape
        let outer = shape[..<k].reduce(1, *)
        let (dim, inner) = opset < 13 ? (shape[k...].reduce(1, *), 1) : (shape[k], shape[(k + 1)...].reduce(1, *))
        guard dim > 0 else { return x }
        x.withMutableFloats { p in
            for o in 0..<outer {
                for i in 0..<inner {
                    normalize(p.baseAddress! + o * dim * inner + i, count: dim, stride: inner, log: log)
                }
            }
        }
        return x
    }

    /// In-place (log-)softmax of `count` elements spaced `stride` apart.
    @inline(__always)
    private static func normalize(_ p: UnsafeMutablePointer<Float>, count: Int, stride: Int, log: Bool) {
        var m = -Float.infinity
        for j in 0..<count { m = Swift.max(m, p[j * stride]) }
        var sum: Float = 0
        if log {
            for j in 0..<count { sum += Foundation.exp(p[j * stride] - m) }
            let l = Foundation.log(sum)
            for j in 0..<count { p[j * stride] = p[j * stride] - m - l }
        } else {
            for j in 0..<count { let e = Foundation.exp(p[j * stride] - m); p[j * stride] = e; sum += e }
            let s = 1 / sum
            for j in 0..<count { p[j * stride] *= s }
        }
    }
}
