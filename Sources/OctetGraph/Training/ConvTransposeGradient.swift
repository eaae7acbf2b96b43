import OctetTensor

/// ONNX ConvTranspose (2-D NCHW, groups) with its backward pass.
///
/// Forward per sample and group: y = col2im(Wᵀ·x) + b with W [C/group, OC/group·KH·KW]. The
/// backward uses dcols = im2col(dY) over the same window map: dW += x·dcolsᵀ, dX = W·dcols,
/// dB = Σ dY over N, H, W.
public final class ConvTransposeGradient: LayerGradient {
    public let node: Node
    public var weight: Tensor?
    public var bias: Tensor?
    private var cachedInput: Tensor?
    private var geometry: ConvGeometry?

    /// `weight` [C, OC/group, KH, KW], `bias` [OC] or nil.
    public init(node: Node, weight: Tensor, bias: Tensor?) { self.node = node; self.weight = weight; self.bias = bias }

    public func forward(_ x: Tensor) throws -> Tensor {
        guard let w = weight else { throw OctetGraphError.execution(node: node.label, reason: "no weight") }
        let y = try OpRegistry.kernels["ConvTranspose"]!(node, [x, w, bias], 13)[0]
        geometry = try NodeGeometry.convTranspose(node, input: x.shape, weight: w.shape)
        cachedInput = x
        return y
    }

    public func backward(_ dY: Tensor, inputGradient: Bool) throws -> LayerGradients {
        guard let x = cachedInput, let g = geometry, let w = weight else {
            throw OctetGraphError.execution(node: node.label, reason: "backward before forward")
        }
        try dY.requireShape([g.batch, g.outChannels, g.outH, g.outW], node, "output gradient")
        let icg = g.inChannelsPerGroup, ocg = g.outChannelsPerGroup
        let u = WindowUnfold.transposed(g)
        let rows = ocg * u.rowsPerChannel, inPlane = g.inH * g.inW, outPlane = g.outH * g.outW
        var dW = [Float](repeating: 0, count: w.count)
        var dX = inputGradient ? [Float](repeating: 0, count: x.count) : []
        var cols = [Float](repeating: 0, count: rows * inPlane)
        x.withFloats { xp in w.withFloats { wp in dY.withFloats { dp in
            dW.withUnsafeMutableBufferPointer { dwp in dX.withUnsafeMutableBufferPointer { dxp in cols.withUnsafeMutableBufferPointer { cb in
                for n in 0..<g.batch { for grp in 0..<g.groups {
                    let xg = xp.baseAddress! + (n * g.inChannels + grp * icg) * inPlane
                    let wg = wp.baseAddress! + grp * icg * rows
                    u.unfold(dp.baseAddress! + (n * g.outChannels + grp * ocg) * outPlane, cb.baseAddress!, channels: ocg)
                    GemmFloat.gemm(m: icg, n: rows, k: inPlane, a: xg, transA: false, b: cb.baseAddress!, transB: true,
                                   c: dwp.baseAddress! + grp * icg * rows, beta: 1)
                    if inputGradient {
                        GemmFloat.gemm(m: icg, n: inPlane, k: rows, a: wg, transA: false, b: cb.baseAddress!, transB: false,
                                       c: dxp.baseAddress! + (n * g.inChannels + grp * icg) * inPlane)
                    }
                } }
            } } }
        } } }
        let dB = bias.map { b in Tensor(shape: b.shape, floats: ConvGradient.channelSums(dY, channels: g.outChannels)) }
        return LayerGradients(input: inputGradient ? Tensor(shape: x.shape, floats: dX) : nil,
                              weight: Tensor(shape: w.shape, floats: dW), bias: dB)
    }
}
