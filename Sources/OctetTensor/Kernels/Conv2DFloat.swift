import CBLAS

/// Float 2-D convolution on NCHW (ONNX Conv semantics: groups, strides, pads, dilations).
///
/// Pointwise convolutions are one SGEMM per sample on the NCHW data itself, depthwise
/// convolutions use a direct loop vectorised along output columns, everything else uses
/// im2col + SGEMM (OpenBLAS). Weights are [OC, IC/groups, KH, KW].
public enum Conv2DFloat {
    /// - Parameters: `input` [N, C, H, W], `weight` [OC, C/groups, KH, KW], `bias` [OC] or nil.
    /// - Returns: [N, OC, outH, outW].
    public static func forward(input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                               geometry g: ConvGeometry) -> [Float] {
        let outPlane = g.outH * g.outW
        var out = [Float](repeating: 0, count: g.batch * g.outChannels * outPlane)
        out.withUnsafeMutableBufferPointer { o in
            if let b = bias {
                for n in 0..<g.batch { for c in 0..<g.outChannels {
                    let base = o.baseAddress! + (n * g.outChannels + c) * outPlane
                    base.update(repeating: b[c], count: outPlane)
                } }
            }
            if g.isDepthwise && g.outChannels == g.inChannels {
                depthwise(input, weight, o.baseAddress!, g)
            } else {
                viaGEMM(input, weight, o.baseAddress!, g)
            }
        }
        return out
    }

    private static func viaGEMM(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ g: ConvGeometry) {
        let icg = g.inChannelsPerGroup, ocg = g.outChannelsPerGroup
        let k = icg * g.kernelH * g.kernelW
        let outPlane = g.outH * g.outW, inPlane = g.inH * g.inW
        var cols = g.isPointwise ? [] : [Float](repeating: 0, count: k * outPlane)
        cols.withUnsafeMutableBufferPointer { colBuf in
            for n in 0..<g.batch {
                for grp in 0..<g.groups {
                    let xg = x + (n * g.inChannels + grp * icg) * inPlane
                    let b: UnsafePointer<Float>
                    if g.isPointwise { b = xg } else {
                        im2col(xg, colBuf.baseAddress!, channels: icg, g)
                        b = UnsafePointer(colBuf.baseAddress!)
                    }
                    let wg = w + grp * ocg * k
                    let yg = y + (n * g.outChannels + grp * ocg) * outPlane
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(ocg), Int32(outPlane), Int32(k),
                                1, wg, Int32(k), b, Int32(outPlane), 1, yg, Int32(outPlane))
                }
            }
        }
    }

    /// Unfolds [C, H, W] into [C·KH·KW, outH·outW] (zero where the window leaves the input).
    static func im2col(_ x: UnsafePointer<Float>, _ cols: UnsafeMutablePointer<Float>, channels: Int, _ g: ConvGeometry) {
        let outPlane = g.outH * g.outW
        var row = 0
        for c in 0..<channels {
            let xc = x + c * g.inH * g.inW
            for ky in 0..<g.kernelH { for kx in 0..<g.kernelW {
                let dst = cols + row * outPlane
                let xr = ConvGeometry.validRange(n: g.inW, out: g.outW, stride: g.strideW, pad: g.padLeft, tap: kx, dilation: g.dilationW)
                for oy in 0..<g.outH {
                    let iy = oy * g.strideH - g.padTop + ky * g.dilationH
                    let d = dst + oy * g.outW
                    if iy < 0 || iy >= g.inH || xr.isEmpty { d.update(repeating: 0, count: g.outW); continue }
                    if xr.lowerBound > 0 { d.update(repeating: 0, count: xr.lowerBound) }
                    if xr.upperBound < g.outW { (d + xr.upperBound).update(repeating: 0, count: g.outW - xr.upperBound) }
                    let src = xc + iy * g.inW - g.padLeft + kx * g.dilationW
                    if g.strideW == 1 {
                        (d + xr.lowerBound).update(from: src + xr.lowerBound, count: xr.count)
                    } else {
                        for ox in xr { d[ox] = src[ox * g.strideW] }
                    }
                }
                row += 1
            } }
        }
    }

    private static func depthwise(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ g: ConvGeometry) {
        let planes = g.batch * g.outChannels
        KernelConfig.parallelFor(planes) { p in
            let c = p % g.outChannels
            depthwisePlane(x + p * g.inH * g.inW, w + c * g.kernelH * g.kernelW, y + p * g.outH * g.outW, g)
        }
    }

    /// One channel: y[oy, ox] += Σ w[ky, kx] · x[oy·s − pad + ky·d, ox·s − pad + kx·d].
    @inline(__always)
    static func depthwisePlane(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ g: ConvGeometry) {
        for ky in 0..<g.kernelH {
            let yr = ConvGeometry.validRange(n: g.inH, out: g.outH, stride: g.strideH, pad: g.padTop, tap: ky, dilation: g.dilationH)
            for kx in 0..<g.kernelW {
                let xr = ConvGeometry.validRange(n: g.inW, out: g.outW, stride: g.strideW, pad: g.padLeft, tap: kx, dilation: g.dilationW)
                if xr.isEmpty { continue }
                let wv = w[ky * g.kernelW + kx]
                for oy in yr {
                    let iy = oy * g.strideH - g.padTop + ky * g.dilationH
                    let src = x + iy * g.inW - g.padLeft + kx * g.dilationW
                    let dst = y + oy * g.outW
                    if g.strideW == 1 {
                        for ox in xr { dst[ox] += wv * src[ox] }
                    } else if g.strideW == 2 {
                        for ox in xr { dst[ox] += wv * src[ox &* 2] }
                    } else {
                        for ox in xr { dst[ox] += wv * src[ox * g.strideW] }
                    }
                }
            }
        }
    }
}
