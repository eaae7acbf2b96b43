import OctetTensor

/// ONNX Conv (2-D NCHW, groups, depthwise, strides, pads, dilations) with its backward pass.
///
/// With cols = im2col(x) per sample and group: y = W·cols + b, so dW += dY·colsᵀ, dB = Σ dY over
/// N, H, W, dX = col2im(Wᵀ·dY). Products are OpenBLAS SGEMM (`GemmFloat`); depthwise layers
/// (one input channel per group) use direct loops instead of K = KH·KW GEMMs.
public final class ConvGradient: LayerGradient {
    public let node: Node
    public var weight: Tensor?
    public var bias: Tensor?
    private var cachedInput: Tensor?
    private var geometry: ConvGeometry?

    /// `weight` [OC, C/group, KH, KW], `bias` [OC] or nil.
    public init(node: Node, weight: Tensor, bias: Tensor?) { self.node = node; self.weight = weight; self.bias = bias }

    public func forward(_ x: Tensor) throws -> Tensor {
        guard let w = weight else { throw OctetGraphError.execution(node: node.label, reason: "no weight") }
        var n = node
        n.attributes[Executor.fusedClampAttribute] = nil
        let y = try OpRegistry.kernels["Conv"]!(n, [x, w, bias], 13)[0]
        geometry = try NodeGeometry.conv(node, input: x.shape, weight: w.shape)
        cachedInput = x
        return y
    }

    public func backward(_ dY: Tensor, inputGradient: Bool) throws -> LayerGradients {
        guard let x = cachedInput, let g = geometry, let w = weight else {
            throw OctetGraphError.execution(node: node.label, reason: "backward before forward")
        }
        try dY.requireShape([g.batch, g.outChannels, g.outH, g.outW], node, "output gradient")
        var dW = [Float](repeating: 0, count: w.count)
        var dX = inputGradient ? [Float](repeating: 0, count: x.count) : []
        x.withFloats { xp in w.withFloats { wp in dY.withFloats { dp in dW.withUnsafeMutableBufferPointer { dwp in
            dX.withUnsafeMutableBufferPointer { dxp in
                let dxBase = inputGradient ? dxp.baseAddress : nil
                if g.inChannelsPerGroup == 1 && g.outChannelsPerGroup == 1 {
                    ConvGradient.depthwise(xp.baseAddress!, wp.baseAddress!, dp.baseAddress!, dwp.baseAddress!, dxBase, g)
                } else {
                    ConvGradient.general(xp.baseAddress!, wp.baseAddress!, dp.baseAddress!, dwp.baseAddress!, dxBase, g)
                }
            }
        } } } }
        let dB = bias.map { b in Tensor(shape: b.shape, floats: ConvGradient.channelSums(dY, channels: g.outChannels)) }
        return LayerGradients(input: inputGradient ? Tensor(shape: x.shape, floats: dX) : nil,
                              weight: Tensor(shape: w.shape, floats: dW), bias: dB)
    }

    /// Σ over N and the spatial plane of an NC… tensor, per channel (double accumulation).
    public static func channelSums(_ t: Tensor, channels c: Int) -> [Float] {
        let plane = t.count / max(t.shape[0] * c, 1)
        var s = [Double](repeating: 0, count: c)
        t.withFloats { p in
            for n in 0..<t.shape[0] { for ch in 0..<c {
                let base = p.baseAddress! + (n * c + ch) * plane
                var lanes = SIMD8<Float>(), i = 0
                while i + 8 <= plane {
                    lanes += UnsafeRawPointer(base + i).loadUnaligned(as: SIMD8<Float>.self)
                    i += 8
                }
                var acc = lanes.sum()
                while i < plane { acc += base[i]; i += 1 }
                s[ch] += Double(acc)
            } }
        }
        return s.map { Float($0) }
    }

    static func general(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                        _ dw: UnsafeMutablePointer<Float>, _ dx: UnsafeMutablePointer<Float>?, _ g: ConvGeometry) {
        let icg = g.inChannelsPerGroup, ocg = g.outChannelsPerGroup
        let u = WindowUnfold.conv(g)
        let k = icg * u.rowsPerChannel, p = u.colPlane, inPlane = g.inH * g.inW
        // A 1×1, stride-1, unpadded conv's cols are its input planes: no unfold, dX written directly.
        let pointwise = u.rowsPerChannel == 1 && g.strideH == 1 && g.strideW == 1 && g.padTop == 0 && g.padLeft == 0
            && g.outH == g.inH && g.outW == g.inW
        var cols = [Float](repeating: 0, count: pointwise ? 0 : k * p)
        cols.withUnsafeMutableBufferPointer { cb in
            for n in 0..<g.batch { for grp in 0..<g.groups {
                let xg = x + (n * g.inChannels + grp * icg) * inPlane
                let dyg = dy + (n * g.outChannels + grp * ocg) * p
                let wg = w + grp * ocg * k
                let dxg = dx.map { $0 + (n * g.inChannels + grp * icg) * inPlane }
                if pointwise {
                    GemmFloat.gemm(m: ocg, n: k, k: p, a: dyg, transA: false, b: xg, transB: true, c: dw + grp * ocg * k, beta: 1)
                    if let dxg { GemmFloat.gemm(m: k, n: p, k: ocg, a: wg, transA: true, b: dyg, transB: false, c: dxg) }
                    continue
                }
                let c = cb.baseAddress!
                u.unfold(xg, c, channels: icg)
                GemmFloat.gemm(m: ocg, n: k, k: p, a: dyg, transA: false, b: c, transB: true, c: dw + grp * ocg * k, beta: 1)
                guard let dxg else { continue }
                GemmFloat.gemm(m: k, n: p, k: ocg, a: wg, transA: true, b: dyg, transB: false, c: c)
                u.fold(c, dxg, channels: icg)
            } }
        }
    }

    /// One input and one output channel per group: dW by `Conv2DFloat.depthwiseWeightGradient`,
    /// dX by direct loops per (sample, channel, tap).
    static func depthwise(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                          _ dw: UnsafeMutablePointer<Float>, _ dx: UnsafeMutablePointer<Float>?, _ g: ConvGeometry) {
        Conv2DFloat.depthwiseWeightGradient(input: x, outputGradient: dy, geometry: g, weightGradient: dw)
        guard let dx else { return }
        let kk = g.kernelH * g.kernelW, inPlane = g.inH * g.inW, outPlane = g.outH * g.outW
        for n in 0..<g.batch { for c in 0..<g.outChannels {
            let dyc = dy + (n * g.outChannels + c) * outPlane
            let dxc = dx + (n * g.inChannels + c) * inPlane
            for ky in 0..<g.kernelH { for kx in 0..<g.kernelW {
                let xr = ConvGeometry.validRange(n: g.inW, out: g.outW, stride: g.strideW, pad: g.padLeft, tap: kx, dilation: g.dilationW)
                if xr.isEmpty { continue }
                let wv = w[c * kk + ky * g.kernelW + kx]
                for oy in 0..<g.outH {
                    let iy = oy * g.strideH - g.padTop + ky * g.dilationH
                    if iy < 0 || iy >= g.inH { continue }
                    let off = iy * g.inW - g.padLeft + kx * g.dilationW
                    let dyr = dyc + oy * g.outW
                    for ox in xr { dxc[off + ox * g.strideW] += wv * dyr[ox] }
                }
            } }
        } }
    }
}
