/// Float 2-D transposed convolution on NCHW (ONNX ConvTranspose): GEMM to columns, then col2im.
///
/// Weights are [C, OC/groups, KH, KW]. Output size per ONNX:
/// `out = stride·(in − 1) + output_padding + ((k − 1)·dil + 1) − padBegin − padEnd`.
public enum ConvTransposeFloat {
    /// `g` describes the transposed conv: `inChannels`/`inH`/`inW` are the input, `outChannels`,
    /// `outH`, `outW` the output; pads are subtracted from the full output.
    public static func forward(input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                               geometry g: ConvGeometry) -> [Float] {
        let icg = g.inChannelsPerGroup, ocg = g.outChannelsPerGroup
        let kk = g.kernelH * g.kernelW
        let inPlane = g.inH * g.inW, outPlane = g.outH * g.outW
        var out = [Float](repeating: 0, count: g.batch * g.outChannels * outPlane)
        var cols = [Float](repeating: 0, count: ocg * kk * inPlane)
        out.withUnsafeMutableBufferPointer { o in
            cols.withUnsafeMutableBufferPointer { cb in
                for n in 0..<g.batch {
                    for grp in 0..<g.groups {
                        let xg = input + (n * g.inChannels + grp * icg) * inPlane
                        let wg = weight + grp * icg * ocg * kk
                        // cols[ocg·kk, inPlane] = Wgᵀ[ocg·kk, icg] · X[icg, inPlane]
                        GemmFloat.gemm(m: ocg * kk, n: inPlane, k: icg, a: wg, transA: true, b: xg, transB: false, c: cb.baseAddress!)
                        let yg = o.baseAddress! + (n * g.outChannels + grp * ocg) * outPlane
                        col2im(cb.baseAddress!, yg, channels: ocg, g)
                    }
                    if let b = bias {
                        for c in 0..<g.outChannels {
                            let p = o.baseAddress! + (n * g.outChannels + c) * outPlane
                            for i in 0..<outPlane { p[i] += b[c] }
                        }
                    }
                }
            }
        }
        return out
    }

    private static func col2im(_ cols: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, channels: Int, _ g: ConvGeometry) {
        var row = 0
        for c in 0..<channels {
            let yc = y + c * g.outH * g.outW
            for ky in 0..<g.kernelH { for kx in 0..<g.kernelW {
                let src = cols + row * g.inH * g.inW
                for iy in 0..<g.inH {
                    let oy = iy * g.strideH - g.padTop + ky * g.dilationH
                    if oy < 0 || oy >= g.outH { continue }
                    for ix in 0..<g.inW {
                        let ox = ix * g.strideW - g.padLeft + kx * g.dilationW
                        if ox >= 0 && ox < g.outW { yc[oy * g.outW + ox] += src[iy * g.inW + ix] }
                    }
                }
                row += 1
            } }
        }
    }
}
