import OctetTensor

/// ONNX Gemm Y = X·op(W) + b (X [M, K], transA = 0, alpha = beta = 1) with its backward pass: dX = dY·op(W)ᵀ, dW = dYᵀ·X
/// (transB = 1, W [N, K]) or Xᵀ·dY (transB = 0, W [K, N]), dB = Σ dY over rows.
public final class GemmGradient: LayerGradient {
    public let node: Node
    public var weight: Tensor?
    public var bias: Tensor?
    public let transB: Bool
    private var cachedInput: Tensor?

    /// - Throws: `OctetGraphError.execution` for transA ≠ 0, alpha ≠ 1, beta ≠ 1 or a bias that is not [N].
    public init(node: Node, weight: Tensor, bias: Tensor?) throws {
        guard try node.int("transA", default: 0) == 0, try node.float("alpha", default: 1) == 1,
              try node.float("beta", default: 1) == 1, weight.rank == 2 else {
            throw OctetGraphError.execution(node: node.label, reason: "Gemm gradient needs transA = 0, alpha = beta = 1 and a 2-D weight")
        }
        transB = try node.int("transB", default: 0) != 0
        let n = transB ? weight.shape[0] : weight.shape[1]
        if let bias, bias.count != n {
            throw OctetGraphError.execution(node: node.label, reason: "Gemm gradient needs a bias of \(n) elements, got \(bias.shape)")
        }
        self.node = node; self.weight = weight; self.bias = bias
    }

    public func forward(_ x: Tensor) throws -> Tensor {
        guard let w = weight else { throw OctetGraphError.execution(node: node.label, reason: "no weight") }
        let y = try OpRegistry.kernels["Gemm"]!(node, [x, w, bias], 13)[0]
        cachedInput = x
        return y
    }

    public func backward(_ dY: Tensor, inputGradient: Bool) throws -> LayerGradients {
        guard let x = cachedInput, let w = weight else { throw OctetGraphError.execution(node: node.label, reason: "backward before forward") }
        let m = x.shape[0], k = x.shape[1], n = transB ? w.shape[0] : w.shape[1]
        try dY.requireShape([m, n], node, "output gradient")
        var dW = [Float](repeating: 0, count: w.count)
        var dX = inputGradient ? [Float](repeating: 0, count: x.count) : []
        x.withFloats { xp in w.withFloats { wp in dY.withFloats { dp in
            dW.withUnsafeMutableBufferPointer { dwp in
                if transB {
                    GemmFloat.gemm(m: n, n: k, k: m, a: dp.baseAddress!, transA: true, b: xp.baseAddress!, transB: false, c: dwp.baseAddress!)
                } else {
                    GemmFloat.gemm(m: k, n: n, k: m, a: xp.baseAddress!, transA: true, b: dp.baseAddress!, transB: false, c: dwp.baseAddress!)
                }
            }
            guard inputGradient else { return }
            dX.withUnsafeMutableBufferPointer { dxp in
                GemmFloat.gemm(m: m, n: k, k: n, a: dp.baseAddress!, transA: false, b: wp.baseAddress!, transB: !transB, c: dxp.baseAddress!)
            }
        } } }
        let dB = bias.map { b -> Tensor in
            var s = [Float](repeating: 0, count: n)
            dY.withFloats { p in for i in 0..<m { for j in 0..<n { s[j] += p[i * n + j] } } }
            return Tensor(shape: b.shape, floats: s)
        }
        return LayerGradients(input: inputGradient ? Tensor(shape: x.shape, floats: dX) : nil,
                              weight: Tensor(shape: w.shape, floats: dW), bias: dB)
    }
}
