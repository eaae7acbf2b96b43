/// INT8 pooling and nearest upsampling on NCHW (reference-quantizer.md §4.3, §4.4).
/// `geometry` describes the window (`outChannels` must equal `inChannels`); fast paths hoist
/// the window bounds and run planes on `threads` workers, the `…Reference` twins test every tap.
extension Int8Kernels {
    /// MaxPool (ONNX, with dilations): the max over the window's in-range taps; padding never
    /// wins. A window with no in-range tap gives −128. Output fix position = input's.
    /// - Returns: int8 [N, C, outH, outW]. - Throws: dtype/shape mismatch, bad window.
    public static func maxPool(_ x: Tensor, geometry g: ConvGeometry, threads: Int = KernelConfig.threads) throws -> Tensor {
        try pool(x, g, op: "maxPool", threads: threads) { xp, yp, plane in
            windowLoop(g) { oy, ox, rows, cols in
                var m: Int8 = -128
                for iy in rows { let r = xp + iy * g.inW
                    for ix in cols { m = max(m, r[ix]) } }
                yp[oy * g.outW + ox] = m
            }
        }
    }

    /// Scalar twin of `maxPool`.
    public static func maxPoolReference(_ x: Tensor, geometry g: ConvGeometry) throws -> Tensor {
        try pool(x, g, op: "maxPool", threads: 1) { xp, yp, _ in
            for oy in 0..<g.outH { for ox in 0..<g.outW {
                var m: Int8 = -128
                forEachTap(g, oy, ox) { iy, ix in m = max(m, xp[iy * g.inW + ix]) }
                yp[oy * g.outW + ox] = m
            } }
        }
    }

    /// AveragePool as the DPU computes it (VAI `pool-fix.cpp`): `s = Σ in-range x` (padding adds 0),
    /// `y = saturate_int8(DPU_ROUND(s · multiplier / 2^(shift + fpIn − fpOut)))`, where `multiplier / 2^shift`
    /// ≈ 1/(KH·KW) is chosen by the caller (e.g. 3×3: 7/2^6).
    /// - Throws: dtype/shape mismatch, bad window; `.unsupported` unless multiplier in 1...65535 and the total
    ///   shift in −24...40.
    public static func averagePool(_ x: Tensor, geometry g: ConvGeometry, multiplier: Int, shift: Int,
                                   fpIn: Int, fpOut: Int, threads: Int = KernelConfig.threads) throws -> Tensor {
        let e = try avgExponent(multiplier: multiplier, shift: shift, fpIn: fpIn, fpOut: fpOut)
        let global = g.outH == 1 && g.outW == 1 && g.kernelH >= g.inH && g.kernelW >= g.inW
            && g.padTop == 0 && g.padLeft == 0
        return try pool(x, g, op: "averagePool", threads: threads) { xp, yp, _ in
            if global {  // the window is the whole plane: one contiguous sum
                var s: Int32 = 0
                for i in 0..<(g.inH * g.inW) { s &+= Int32(xp[i]) }
                yp[0] = saturateInt8(dpuRoundScale(Int64(s) * Int64(multiplier), exponent: e))
                return
            }
            windowLoop(g) { oy, ox, rows, cols in
                var s: Int32 = 0
                for iy in rows { let r = xp + iy * g.inW
                    for ix in cols { s &+= Int32(r[ix]) } }
                yp[oy * g.outW + ox] = saturateInt8(dpuRoundScale(Int64(s) * Int64(multiplier), exponent: e))
            }
        }
    }

    /// Scalar twin of `averagePool`.
    public static func averagePoolReference(_ x: Tensor, geometry g: ConvGeometry, multiplier: Int, shift: Int,
                                            fpIn: Int, fpOut: Int) throws -> Tensor {
        let e = try avgExponent(multiplier: multiplier, shift: shift, fpIn: fpIn, fpOut: fpOut)
        return try pool(x, g, op: "averagePool", threads: 1) { xp, yp, _ in
            for oy in 0..<g.outH { for ox in 0..<g.outW {
                var s: Int64 = 0
                forEachTap(g, oy, ox) { iy, ix in s += Int64(xp[iy * g.inW + ix]) }
                yp[oy * g.outW + ox] = saturateInt8(dpuRoundScale(s * Int64(multiplier), exponent: e))
            } }
        }
    }

    /// GlobalAveragePool: `averagePool` with the window = the whole H×W plane. Returns int8 [N, C, 1, 1].
    public static func globalAveragePool(_ x: Tensor, multiplier: Int, shift: Int, fpIn: Int, fpOut: Int,
                                         threads: Int = KernelConfig.threads) throws -> Tensor {
        try averagePool(x, geometry: try globalGeometry(x), multiplier: multiplier, shift: shift,
                        fpIn: fpIn, fpOut: fpOut, threads: threads)
    }

    /// Scalar twin of `globalAveragePool`.
    public static func globalAveragePoolReference(_ x: Tensor, multiplier: Int, shift: Int, fpIn: Int,
                                                  fpOut: Int) throws -> Tensor {
        try averagePoolReference(x, geometry: try globalGeometry(x), multiplier: multiplier, shift: shift,
                                 fpIn: fpIn, fpOut: fpOut)
    }

    private static func globalGeometry(_ x: Tensor) throws -> ConvGeometry {
        guard x.rank == 4 else { throw OctetTensorError.shapeMismatch("globalAveragePool: input \(x.shape) is not NCHW") }
        return ConvGeometry(batch: x.shape[0], inChannels: x.shape[1], inH: x.shape[2], inW: x.shape[3],
                            outChannels: x.shape[1], kernelH: x.shape[2], kernelW: x.shape[3])
    }

    private static func avgExponent(multiplier: Int, shift: Int, fpIn: Int, fpOut: Int) throws -> Int {
        let e = fpOut - fpIn - shift
        guard (1...65535).contains(multiplier), (-40...24).contains(e) else {
            throw OctetTensorError.unsupported(
                "averagePool: multiplier \(multiplier) / 2^(\(shift) + \(fpIn) - \(fpOut)) outside the supported range")
        }
        return e
    }

    /// Validates, then runs `body(inPlane, outPlane, planeIndex)` for every N·C plane on `threads` workers.
    private static func pool(_ x: Tensor, _ g: ConvGeometry, op: String, threads: Int,
                             _ body: @escaping (UnsafePointer<Int8>, UnsafeMutablePointer<Int8>, Int) -> Void) throws -> Tensor {
        guard g.outChannels == g.inChannels else {
            throw OctetTensorError.shapeMismatch("\(op): output channels \(g.outChannels) != input channels \(g.inChannels)")
        }
        try checkWindow(g, op: op)
        try expect(x, [g.batch, g.inChannels, g.inH, g.inW], "input", op: op)
        let planes = g.batch * g.inChannels, inPlane = g.inH * g.inW, outPlane = g.outH * g.outW
        var out = [Int8](repeating: 0, count: planes * outPlane)
        x.withInt8s { xb in out.withUnsafeMutableBufferPointer { ob in
            guard let xp = xb.baseAddress, let yp = ob.baseAddress else { return }
            parallel(items: planes, threads: planes * outPlane >= 65_536 ? threads : 1) { p, _ in
                body(xp + p * inPlane, yp + p * outPlane, p)
            }
        } }
        return Tensor(shape: [g.batch, g.inChannels, g.outH, g.outW], int8s: out)
    }

    /// Calls `f(oy, ox, rows, cols)` with the in-range input rows and columns of each window
    /// (strided ranges; dilation included).
    @inline(__always)
    static func windowLoop(_ g: ConvGeometry, _ f: (Int, Int, StrideTo<Int>, StrideTo<Int>) -> Void) {
        for oy in 0..<g.outH {
            let rows = tapRange(o: oy, stride: g.strideH, pad: g.padTop, k: g.kernelH, d: g.dilationH, n: g.inH)
            for ox in 0..<g.outW {
                f(oy, ox, rows, tapRange(o: ox, stride: g.strideW, pad: g.padLeft, k: g.kernelW, d: g.dilationW, n: g.inW))
            }
        }
    }

    /// Input indices `o·s − pad + t·d` (t < k) that lie in `0..<n`, as a strided range.
    @inline(__always)
    static func tapRange(o: Int, stride s: Int, pad: Int, k: Int, d: Int, n: Int) -> StrideTo<Int> {
        let start = o * s - pad
        let tFirst = start >= 0 ? 0 : (-start + d - 1) / d
        let tEnd = start > n - 1 ? 0 : min(k, (n - 1 - start) / d + 1)
        let lo = start + tFirst * d
        return Swift.stride(from: lo, to: tFirst < tEnd ? start + tEnd * d : lo, by: d)
    }

    static func forEachTap(_ g: ConvGeometry, _ oy: Int, _ ox: Int, _ f: (Int, Int) -> Void) {
        for ky in 0..<g.kernelH { for kx in 0..<g.kernelW {
            let iy = oy * g.strideH + ky * g.dilationH - g.padTop, ix = ox * g.strideW + kx * g.dilationW - g.padLeft
            if iy >= 0 && iy < g.inH && ix >= 0 && ix < g.inW { f(iy, ix) }
        } }
    }
}
