/// INT8 2-D transposed convolution (ONNX ConvTranspose) with DPU requantization.
extension Int8Kernels {
    /// `y[n][oc][oy][ox] = requant.apply(acc, bias[oc])`, `acc = Σ x[n][ic][iy][ix] · w[ic][oc′][ky][kx]`
    /// over the group's ic and all (iy, ix, ky, kx) with `oy = iy·sH + ky·dH − padTop`,
    /// `ox = ix·sW + kx·dW − padLeft` (ONNX ConvTranspose), exact in int32.
    /// - Parameters: `geometry`: `inChannels`/`inH`/`inW` describe `x` [N, IC, H, W], `outChannels`/`outH`/`outW`
    ///   the output (the caller applies ONNX's `output_padding` / `output_shape` when computing them);
    ///   `weight` int8 [IC, OC/groups, KH, KW]; `bias` int8 [OC] or nil.
    /// - Returns: int8 [N, OC, outH, outW]. - Throws: `OctetTensorError` on dtype/shape mismatch.
    /// Fast path: per group one `gemm` to columns [OC/g·KH·KW, H·W], then col2im in int32.
    public static func convTranspose2d(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry g: ConvGeometry,
                                       requant: Int8Requant, threads: Int = KernelConfig.threads) throws -> Tensor {
        try transposeDriver(x, weight, bias, g, requant) { xp, wp, acc in
            let icg = g.inChannelsPerGroup, ocg = g.outChannelsPerGroup, kk = g.kernelH * g.kernelW
            let inPlane = g.inH * g.inW, rows = ocg * kk
            let wt = Int8Scratch<Int8>(count: rows * icg, zero: 0)
            let cols = Int8Scratch<Int32>(count: rows * inPlane, zero: 0)
            for n in 0..<g.batch { for grp in 0..<g.groups {
                let wg = wp + grp * icg * rows
                for r in 0..<rows { for ic in 0..<icg { wt.buffer[r * icg + ic] = wg[ic * rows + r] } }
                try gemm(a: wt.buffer, b: xp + (n * g.inChannels + grp * icg) * inPlane, c: cols.buffer,
                         m: rows, n: inPlane, k: icg, threads: threads)
                col2im(cols.buffer, acc + (n * g.outChannels + grp * ocg) * g.outH * g.outW, channels: ocg, g)
            } }
        }
    }

    /// Scalar twin of `convTranspose2d`: direct scatter with Int64 accumulators.
    public static func convTranspose2dReference(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry g: ConvGeometry,
                                                requant: Int8Requant) throws -> Tensor {
        try transposeDriver(x, weight, bias, g, requant) { xp, wp, acc in
            let icg = g.inChannelsPerGroup, ocg = g.outChannelsPerGroup
            var sums = [Int64](repeating: 0, count: g.batch * g.outChannels * g.outH * g.outW)
            for n in 0..<g.batch { for ic in 0..<g.inChannels { for iy in 0..<g.inH { for ix in 0..<g.inW {
                let xv = Int64(xp[((n * g.inChannels + ic) * g.inH + iy) * g.inW + ix])
                let grp = ic / icg
                for o in 0..<ocg { for ky in 0..<g.kernelH { for kx in 0..<g.kernelW {
                    let oy = iy * g.strideH + ky * g.dilationH - g.padTop
                    let ox = ix * g.strideW + kx * g.dilationW - g.padLeft
                    guard oy >= 0, oy < g.outH, ox >= 0, ox < g.outW else { continue }
                    let wv = Int64(wp[((ic * ocg + o) * g.kernelH + ky) * g.kernelW + kx])
                    sums[((n * g.outChannels + grp * ocg + o) * g.outH + oy) * g.outW + ox] += xv * wv
                } } }
            } } } }
            for i in 0..<sums.count { acc[i] = Int32(sums[i]) }
        }
    }

    private static func transposeDriver(
        _ x: Tensor, _ w: Tensor, _ bias: Tensor?, _ g: ConvGeometry, _ rq: Int8Requant,
        _ body: (UnsafePointer<Int8>, UnsafePointer<Int8>, UnsafeMutablePointer<Int32>) throws -> Void
    ) throws -> Tensor {
        let op = "convTranspose2d"
        guard g.groups >= 1, g.inChannels % g.groups == 0, g.outChannels % g.groups == 0 else {
            throw OctetTensorError.shapeMismatch("\(op): groups \(g.groups) must divide \(g.inChannels) and \(g.outChannels)")
        }
        try checkWindow(g, op: op)
        try expect(x, [g.batch, g.inChannels, g.inH, g.inW], "input", op: op)
        try expect(w, [g.inChannels, g.outChannelsPerGroup, g.kernelH, g.kernelW], "weight", op: op)
        if let bias { try expect(bias, [g.outChannels], "bias", op: op) }
        guard g.inChannelsPerGroup * g.kernelH * g.kernelW <= maxReduction else {
            throw OctetTensorError.unsupported("\(op): reduction length above \(maxReduction) could overflow int32")
        }
        let plane = g.outH * g.outW
        var acc = [Int32](repeating: 0, count: g.batch * g.outChannels * plane)
        try x.withInt8s { xb in try w.withInt8s { wb in try acc.withUnsafeMutableBufferPointer { ab in
            if ab.count > 0 && xb.count > 0 { try body(xb.baseAddress!, wb.baseAddress!, ab.baseAddress!) }
        } } }
        let b = bias?.int8s ?? [Int8](repeating: 0, count: g.outChannels)
        var out = [Int8](repeating: 0, count: acc.count)
        for i in 0..<acc.count { out[i] = rq.apply(acc[i], bias: b[i / plane % g.outChannels]) }
        return Tensor(shape: [g.batch, g.outChannels, g.outH, g.outW], int8s: out)
    }

    /// Adds columns [channels·KH·KW, inH·inW] into `y` [channels, outH, outW] (ONNX ConvTranspose placement).
    private static func col2im(_ cols: UnsafePointer<Int32>, _ y: UnsafeMutablePointer<Int32>, channels: Int,
                               _ g: ConvGeometry) {
        var row = cols
        for c in 0..<channels {
            let yc = y + c * g.outH * g.outW
            for ky in 0..<g.kernelH { for kx in 0..<g.kernelW {
                for iy in 0..<g.inH {
                    let oy = iy * g.strideH + ky * g.dilationH - g.padTop
                    guard oy >= 0, oy < g.outH else { continue }
                    let yr = yc + oy * g.outW, src = row + iy * g.inW
                    for ix in 0..<g.inW {
                        let ox = ix * g.strideW + kx * g.dilationW - g.padLeft
                        if ox >= 0 && ox < g.outW { yr[ox] &+= src[ix] }
                    }
                }
                row += g.inH * g.inW
            } }
        }
    }
}
