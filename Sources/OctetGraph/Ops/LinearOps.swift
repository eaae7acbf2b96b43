import OctetTensor

/// Gemm, MatMul and BatchNormalization (inference) per the ONNX operator spec.
enum LinearOps {
    static let kernels: [String: OpKernel] = [
        "Gemm": gemm, "MatMul": matMul, "BatchNormalization": batchNorm,
    ]

    /// Y = alpha · A' · B' + beta · C, C unidirectionally broadcast to [M, N].
    static func gemm(_ node: Node, _ inputs: [Tensor?], _ opset: Int) throws -> [Tensor] {
        let a = try node.requiredFloat(inputs, 0)
        let b = try node.requiredFloat(inputs, 1)
        guard a.rank == 2, b.rank == 2 else {
            throw node.fail("Gemm needs 2-D inputs (ONNX Gemm; a Flatten before it makes A 2-D), got \(a.shape) and \(b.shape)")
        }
        let transA = try node.int("transA", default: 0) != 0, transB = try node.int("transB", default: 0) != 0
        let alpha = try node.float("alpha", default: 1), beta = try node.float("beta", default: 1)
        let m = transA ? a.shape[1] : a.shape[0], k = transA ? a.shape[0] : a.shape[1]
        let n = transB ? b.shape[0] : b.shape[1], kb = transB ? b.shape[1] : b.shape[0]
        guard k == kb else { throw node.fail("inner dimensions differ: A \(a.shape)\(transA ? "ᵀ" : ""), B \(b.shape)\(transB ? "ᵀ" : "")") }
        var y = [Float](repeating: 0, count: m * n)
        var cBeta: Float = 0
        if let c = node.optional(inputs, 2), beta != 0 {
            try broadcastInto(&y, rows: m, cols: n, c, node)
            cBeta = beta
        }
        a.withFloats { ap in b.withFloats { bp in y.withUnsafeMutableBufferPointer { yp in
            GemmFloat.gemm(m: m, n: n, k: k, a: ap.baseAddress!, transA: transA, b: bp.baseAddress!, transB: transB,
                           c: yp.baseAddress!, alpha: alpha, beta: cBeta)
        } } }
        return [Tensor(shape: [m, n], floats: y)]
    }

    /// Copies C ([N], [1,N], [M,1], [M,N] or scalar) broadcast into y [M, N].
    private static func broadcastInto(_ y: inout [Float], rows m: Int, cols n: Int, _ c: Tensor, _ node: Node) throws {
        let cs = c.shape.count >= 2 ? Array(c.shape.suffix(2)) : c.shape.count == 1 ? [1, c.shape[0]] : [1, 1]
        guard (cs[0] == 1 || cs[0] == m) && (cs[1] == 1 || cs[1] == n) else {
            throw node.fail("C of shape \(c.shape) cannot broadcast to [\(m), \(n)]")
        }
        let cf = c.asFloatArray()
        for i in 0..<m { for j in 0..<n { y[i * n + j] = cf[(cs[0] == 1 ? 0 : i) * cs[1] + (cs[1] == 1 ? 0 : j)] } }
    }

    /// NumPy matmul: 1-D promotion and broadcast batch dimensions.
    static func matMul(_ node: Node, _ inputs: [Tensor?], _ opset: Int) throws -> [Tensor] {
        let a0 = try node.requiredFloat(inputs, 0), b0 = try node.requiredFloat(inputs, 1)
        guard a0.rank >= 1, b0.rank >= 1 else { throw node.fail("MatMul inputs must have rank ≥ 1") }
        let a = a0.rank == 1 ? try a0.reshaped([1, a0.count]) : a0
        let b = b0.rank == 1 ? try b0.reshaped([b0.count, 1]) : b0
        let m = a.shape[a.rank - 2], k = a.shape[a.rank - 1], kb = b.shape[b.rank - 2], n = b.shape[b.rank - 1]
        guard k == kb else { throw node.fail("inner dimensions differ: \(a0.shape) × \(b0.shape)") }
        let batchShape = try Shape.broadcast(Array(a.shape.dropLast(2)), Array(b.shape.dropLast(2)))
        let batches = Tensor.elementCount(batchShape)
        let aBatch = Array(a.shape.dropLast(2)), bBatch = Array(b.shape.dropLast(2))
        var y = [Float](repeating: 0, count: batches * m * n)
        a.withFloats { ap in b.withFloats { bp in y.withUnsafeMutableBufferPointer { yp in
            for bi in 0..<batches {
                let ai = broadcastIndex(bi, batchShape, aBatch), bj = broadcastIndex(bi, batchShape, bBatch)
                GemmFloat.gemm(m: m, n: n, k: k, a: ap.baseAddress! + ai * m * k, transA: false,
                               b: bp.baseAddress! + bj * k * n, transB: false, c: yp.baseAddress! + bi * m * n)
            }
        } } }
        var shape = batchShape
        if a0.rank > 1 { shape.append(m) }
        if b0.rank > 1 { shape.append(n) }
        return [Tensor(shape: shape, floats: y)]
    }

    /// Flat index into a tensor of `shape` (right-aligned, broadcast) for flat index `i` of `full`.
    static func broadcastIndex(_ i: Int, _ full: [Int], _ shape: [Int]) -> Int {
        var rem = i, idx = 0, mul = 1
        for d in stride(from: full.count - 1, through: 0, by: -1) {
            let coord = rem % full[d]; rem /= full[d]
            let sd = d - (full.count - shape.count)
            if sd >= 0 {
                if shape[sd] != 1 { idx += coord * mul }
                mul *= shape[sd]
            }
        }
        return idx
    }

    /// y = (x − mean) / sqrt(var + epsilon) · scale + B, per channel (axis 1).
    static func batchNorm(_ node: Node, _ inputs: [Tensor?], _ opset: Int) throws -> [Tensor] {
        let x = try node.requiredFloat(inputs, 0)
        guard x.rank >= 2 else { throw node.fail("input must have rank ≥ 2") }
        if try node.int("training_mode", default: 0) != 0 { throw node.fail("training_mode=1 is not supported (inference only)") }
        let c = x.shape[1]
        let params = try (1...4).map { try node.requiredFloat(inputs, $0) }
        guard params.allSatisfy({ $0.count == c }) else { throw node.fail("scale/B/mean/var must have \(c) elements") }
        let eps = try node.float("epsilon", default: 1e-5)
        let (mul, add) = BatchNormFolding.affine(scale: params[0].floats, bias: params[1].floats,
                                                 mean: params[2].floats, variance: params[3].floats, epsilon: eps)
        var y = x
        if x.count == 0 { return [y] }
        let plane = x.count / (x.shape[0] * c)
        y.withMutableFloats { p in
            for n in 0..<x.shape[0] { for ch in 0..<c {
                let base = p.baseAddress! + (n * c + ch) * plane
                let m = mul[ch], a = add[ch]
                for i in 0..<plane { base[i] = base[i] * m + a }
            } }
        }
        return [y]
    }
}

/// BatchNormalization as a per-channel affine map: y = x · mul + add with
/// mul = scale / sqrt(var + ε), add = B − mean · mul (used by the executor and BN folding).
public enum BatchNormFolding {
    public static func affine(scale: [Float], bias: [Float], mean: [Float], variance: [Float], epsilon: Float) -> (mul: [Float], add: [Float]) {
        var mul = [Float](repeating: 0, count: scale.count), add = mul
        for i in 0..<scale.count {
            mul[i] = scale[i] / (variance[i] + epsilon).squareRoot()
            add[i] = bias[i] - mean[i] * mul[i]
        }
        return (mul, add)
    }
}
