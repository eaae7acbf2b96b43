import CBLAS

/// Float 2-D convolution on NCHW (ONNX Conv semantics: groups, strides, pads, dilations).
///
/// Pointwise convolutions are one SGEMM per sample on the NCHW data itself, depthwise
/// convolutions use a direct loop vectorised along output columns, everything else uses
/// im2col + SGEMM (OpenBLAS). Weights are [OC, IC/groups, KH, KW].
public enum Conv2DFloat {
    /// - Parameters: `input` [N, C, H, W], `weight` [OC, C/groups, KH, KW], `bias` [OC] or nil;
    ///   `clamp` optionally applies min/max to the result (a fused Relu or Clip).
    /// - Returns: [N, OC, outH, outW].
    public static func forward(input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                               geometry g: ConvGeometry, clamp: (lo: Float, hi: Float)? = nil) -> [Float] {
        let outPlane = g.outH * g.outW
        let total = g.batch * g.outChannels * outPlane
        return [Float](unsafeUninitializedCapacity: total) { o, initialized in
            let ob = o.baseAddress!
            for n in 0..<g.batch { for c in 0..<g.outChannels {
                (ob + (n * g.outChannels + c) * outPlane).initialize(repeating: bias?[c] ?? 0, count: outPlane)
            } }
            if g.isDepthwise && g.outChannels == g.inChannels {
                depthwise(input, weight, ob, g)
            } else {
                viaGEMM(input, weight, ob, g)
            }
            if let (lo, hi) = clamp {
                for i in 0..<total { ob[i] = Swift.min(Swift.max(ob[i], lo), hi) }
            }
            initialized = total
        }
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
    ///
    /// The zero-padded input is split into stride phases (one plane per (row, column)
    /// residue), so every kernel tap reads contiguous values. Eight outputs of a row are
    /// accumulated in one SIMD register over all taps and stored once.
    static func depthwisePlane(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ g: ConvGeometry) {
        let sH = g.strideH, sW = g.strideW
        let spanH = (g.outH - 1) * sH + (g.kernelH - 1) * g.dilationH + 1
        let spanW = (g.outW - 1) * sW + (g.kernelW - 1) * g.dilationW + 1
        let ow8 = (g.outW + 7) & ~7
        let ph = (spanH + sH - 1) / sH
        let pw = max((spanW + sW - 1) / sW, ow8 + (g.kernelW - 1) * g.dilationW / sW)
        let phaseSize = ph * pw, phases = sH * sW
        let taps = g.kernelH * g.kernelW
        withUnsafeTemporaryAllocation(of: Float.self, capacity: phases * phaseSize + 8) { buf in
            let base = buf.baseAddress!
            base.initialize(repeating: 0, count: phases * phaseSize + 8)
            scatterPhases(x, base, g, spanH: spanH, spanW: spanW, pw: pw, phaseSize: phaseSize)
            withUnsafeTemporaryAllocation(of: Int.self, capacity: taps) { offsets in
                for ky in 0..<g.kernelH { for kx in 0..<g.kernelW {
                    let ty = ky * g.dilationH, tx = kx * g.dilationW
                    offsets[ky * g.kernelW + kx] = ((ty % sH) * sW + tx % sW) * phaseSize + (ty / sH) * pw + tx / sW
                } }
                let off = offsets.baseAddress!
                withUnsafeTemporaryAllocation(of: Float.self, capacity: ow8) { rowBuf in
                    let tmp = UnsafeMutableRawPointer(rowBuf.baseAddress!)
                    for oy in 0..<g.outH {
                        let row = UnsafeRawPointer(base + oy * pw)
                        var ox = 0
                        while ox + 32 <= ow8 {  // four independent accumulators hide FMA latency
                            var a0 = SIMD8<Float>(repeating: 0), a1 = a0, a2 = a0, a3 = a0
                            for t in 0..<taps {
                                let p = row + (ox + off[t]) * 4, wv = SIMD8<Float>(repeating: w[t])
                                a0.addProduct(p.loadUnaligned(as: SIMD8<Float>.self), wv)
                                a1.addProduct((p + 32).loadUnaligned(as: SIMD8<Float>.self), wv)
                                a2.addProduct((p + 64).loadUnaligned(as: SIMD8<Float>.self), wv)
                                a3.addProduct((p + 96).loadUnaligned(as: SIMD8<Float>.self), wv)
                            }
                            (tmp + ox * 4).storeBytes(of: a0, as: SIMD8<Float>.self)
                            (tmp + ox * 4 + 32).storeBytes(of: a1, as: SIMD8<Float>.self)
                            (tmp + ox * 4 + 64).storeBytes(of: a2, as: SIMD8<Float>.self)
                            (tmp + ox * 4 + 96).storeBytes(of: a3, as: SIMD8<Float>.self)
                            ox += 32
                        }
                        for ox in stride(from: ox, to: ow8, by: 8) {
                            var acc = SIMD8<Float>(repeating: 0)
                            for t in 0..<taps {
                                let v = (row + (ox + off[t]) * 4).loadUnaligned(as: SIMD8<Float>.self)
                                acc.addProduct(v, SIMD8(repeating: w[t]))
                            }
                            (tmp + ox * 4).storeBytes(of: acc, as: SIMD8<Float>.self)
                        }
                        let dst = y + oy * g.outW, src = rowBuf.baseAddress!
                        for ox in 0..<g.outW { dst[ox] += src[ox] }
                    }
                }
            }
        }
    }

    /// Copies [inH, inW] into its zero-padded stride-phase planes of width `pw`.
    private static func scatterPhases(_ x: UnsafePointer<Float>, _ base: UnsafeMutablePointer<Float>, _ g: ConvGeometry,
                                      spanH: Int, spanW: Int, pw: Int, phaseSize: Int) {
        let sH = g.strideH, sW = g.strideW
        let colsUsed = min(g.inW, spanW - g.padLeft)
        for iy in 0..<g.inH {
            let py = iy + g.padTop
            if py >= spanH { break }
            let row = base + ((py % sH) * sW) * phaseSize + (py / sH) * pw
            let src = x + iy * g.inW
            if sW == 1 {
                if colsUsed > 0 { (row + g.padLeft).update(from: src, count: colsUsed) }
                continue
            }
            if sW == 2 && colsUsed >= 16 {
                deinterleave(src, row, colsUsed: colsUsed, padLeft: g.padLeft, phaseSize: phaseSize)
                continue
            }
            for phase in 0..<sW {
                let ix0 = ((phase - g.padLeft) % sW + sW) % sW
                if ix0 >= colsUsed { continue }
                let dst = row + phase * phaseSize + (ix0 + g.padLeft) / sW
                var j = 0
                for ix in stride(from: ix0, to: colsUsed, by: sW) { dst[j] = src[ix]; j += 1 }
            }
        }
    }

    /// Stride 2: even padded columns go to phase 0, odd ones to phase 1, 16 at a time.
    private static func deinterleave(_ src: UnsafePointer<Float>, _ row: UnsafeMutablePointer<Float>, colsUsed: Int,
                                     padLeft: Int, phaseSize: Int) {
        // padded column px = ix + padLeft → phase px % 2, index px / 2
        var ix = 0
        if padLeft % 2 == 1 {  // ix 0 lands in phase 1; handle it alone so the rest pairs up
            row[phaseSize + padLeft / 2] = src[0]
            ix = 1
        }
        while ix + 16 <= colsUsed {
            let v = UnsafeRawPointer(src + ix).loadUnaligned(as: SIMD16<Float>.self)
            let px = ix + padLeft  // even
            UnsafeMutableRawPointer(row + px / 2).storeBytes(of: v.evenHalf, as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(row + phaseSize + px / 2).storeBytes(of: v.oddHalf, as: SIMD8<Float>.self)
            ix += 16
        }
        while ix < colsUsed {
            let px = ix + padLeft
            row[(px % 2) * phaseSize + px / 2] = src[ix]
            ix += 1
        }
    }
}
