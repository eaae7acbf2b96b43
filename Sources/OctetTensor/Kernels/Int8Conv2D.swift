import CKernels

/// INT8 2-D convolution, ONNX Conv semantics (groups, strides, pads, dilations) with DPU requantization.
extension Int8Kernels {
    /// `y[n][oc][oy][ox] = requant.apply(acc, bias[oc])` with
    /// `acc = Σ_{ic ∈ group(oc), ky, kx} x[n][ic][oy·sH + ky·dH − padTop][ox·sW + kx·dW − padLeft] · w[oc][ic′][ky][kx]`
    /// (out-of-range input reads 0), exact in int32; see `Int8Requant` for the rounding.
    /// - Parameters: `x` int8 [N, IC, H, W]; `weight` int8 [OC, IC/groups, KH, KW]; `bias` int8 [OC] or nil
    ///   (its fix position enters through `requant.shiftBias`); `threads` 1 or more.
    /// - Returns: int8 [N, OC, outH, outW] (sizes from `geometry`).
    /// - Throws: `OctetTensorError` on dtype/shape mismatch, bad window, or reduction > `maxReduction`.
    /// Depthwise (IC/groups = OC/groups = 1) runs the AVX2 row kernel; all else im2col + the INT8
    /// GEMM (`Int8GemmISA.current`).
    /// Convolutions under `parallelMACs` multiply-accumulates run on one thread.
    public static func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry g: ConvGeometry,
                              requant: Int8Requant, threads: Int = KernelConfig.threads) throws -> Tensor {
        let threads = g.batch * g.macs < parallelMACs ? 1 : threads
        return try convDriver(x, weight, bias, g, requant, op: "conv2d") { xp, wp, bp, yp in
            if g.inChannelsPerGroup == 1 && g.outChannelsPerGroup == 1 {
                depthwise(xp, wp, bp, yp, g, requant, threads: threads)
            } else {
                convViaGemm(xp, wp, bp, yp, g, requant, threads: threads)
            }
        }
    }

    /// Below this many multiply-accumulates a second thread costs more than it saves.
    public static let parallelMACs = 100_000

    /// Scalar twin of `conv2d`: a direct loop nest with Int64 sums.
    public static func conv2dReference(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry g: ConvGeometry,
                                       requant: Int8Requant) throws -> Tensor {
        try convDriver(x, weight, bias, g, requant, op: "conv2d") { xp, wp, bp, yp in
            for n in 0..<g.batch { for oc in 0..<g.outChannels { for oy in 0..<g.outH { for ox in 0..<g.outW {
                let acc = referenceDot(xp, wp, g, n: n, oc: oc, oy: oy, ox: ox)
                yp[((n * g.outChannels + oc) * g.outH + oy) * g.outW + ox] = requant.apply(acc, bias: bp[oc])
            } } } }
        }
    }

    /// Validates, exposes raw pointers (bias as a zero-filled [OC] when absent), builds the output.
    static func convDriver(_ x: Tensor, _ w: Tensor, _ bias: Tensor?, _ g: ConvGeometry, _ rq: Int8Requant, op: String,
                           _ body: (UnsafePointer<Int8>, UnsafePointer<Int8>, UnsafePointer<Int8>,
                                    UnsafeMutablePointer<Int8>) -> Void) throws -> Tensor {
        try checkConv(x, w, bias, g, op: op)
        let b = bias?.int8s ?? [Int8](repeating: 0, count: g.outChannels)
        let count = g.batch * g.outChannels * g.outH * g.outW
        var out = [Int8](unsafeUninitializedCapacity: count) { _, n in n = count }  // body writes every element
        x.withInt8s { xb in w.withInt8s { wb in b.withUnsafeBufferPointer { bb in out.withUnsafeMutableBufferPointer { ob in
            if ob.count > 0 { body(xb.baseAddress!, wb.baseAddress!, bb.baseAddress!, ob.baseAddress!) }
        } } } }
        return Tensor(shape: [g.batch, g.outChannels, g.outH, g.outW], int8s: out)
    }

    static func referenceDot(_ x: UnsafePointer<Int8>, _ w: UnsafePointer<Int8>, _ g: ConvGeometry,
                             n: Int, oc: Int, oy: Int, ox: Int) -> Int32 {
        let icg = g.inChannelsPerGroup, grp = oc / g.outChannelsPerGroup
        var s: Int64 = 0
        for ic in 0..<icg { for ky in 0..<g.kernelH { for kx in 0..<g.kernelW {
            let iy = oy * g.strideH + ky * g.dilationH - g.padTop
            let ix = ox * g.strideW + kx * g.dilationW - g.padLeft
            guard iy >= 0, iy < g.inH, ix >= 0, ix < g.inW else { continue }
            let xv = x[((n * g.inChannels + grp * icg + ic) * g.inH + iy) * g.inW + ix]
            let wv = w[((oc * icg + ic) * g.kernelH + ky) * g.kernelW + kx]
            s += Int64(xv) * Int64(wv)
        } } }
        return Int32(s)
    }

    /// Output pixels per work item (a multiple of 16): the im2col chunk stays near 96 KiB, and
    /// the plane splits into equal chunks, at least two per thread, a multiple of `threads` when threaded.
    static func pixelChunk(pixels: Int, k: Int, outer: Int, threads: Int) -> Int {
        let maxChunk = max(16, 98_304 / max(k, 1) / 16 * 16)
        var chunks = (pixels + maxChunk - 1) / maxChunk
        if threads > 1 {
            chunks = max(chunks, (2 * threads + outer - 1) / outer)
            chunks = (chunks + threads - 1) / threads * threads
        }
        let pc = (pixels + chunks - 1) / chunks
        return max(16, (pc + 15) / 16 * 16)
    }

    static func convViaGemm(_ x: UnsafePointer<Int8>, _ w: UnsafePointer<Int8>, _ bias: UnsafePointer<Int8>,
                            _ y: UnsafeMutablePointer<Int8>, _ g: ConvGeometry, _ rq: Int8Requant, threads: Int) {
        let icg = g.inChannelsPerGroup, ocg = g.outChannelsPerGroup
        let k = icg * g.kernelH * g.kernelW
        let pixels = g.outH * g.outW, inPlane = g.inH * g.inW
        let pointwise = g.isPointwise
        let a = Int8PackedA(w, ld: k, rows: g.outChannels, k: k)
        let pc = pixelChunk(pixels: pixels, k: k, outer: g.batch * g.groups, threads: threads)
        let chunks = (pixels + pc - 1) / pc
        let workers = max(1, min(threads, g.batch * g.groups * chunks))
        let cols = (0..<workers).map { _ in Int8Scratch<Int8>(uninitialized: pointwise ? 0 : k * pc) }
        let panels = (0..<workers).map { _ in Int8PackedB(k: k, capacity: pc, isa: a.isa) }
        let accs = (0..<workers).map { _ in Int8Scratch<Int32>(uninitialized: ocg * pc) }
        let maxAbsAcc = Int64(k) * 16384
        parallel(items: g.batch * g.groups * chunks, threads: workers) { item, t in
            let n = item / (g.groups * chunks), grp = item / chunks % g.groups, p0 = item % chunks * pc
            let np = min(pc, pixels - p0)
            let xg = x + (n * g.inChannels + grp * icg) * inPlane
            let src: UnsafePointer<Int8>, ld: Int
            if pointwise { src = xg + p0; ld = inPlane } else {
                im2colChunk(xg, cols[t].buffer, channels: icg, g, p0: p0, count: np)
                src = UnsafePointer(cols[t].buffer); ld = np
            }
            panels[t].pack(src, ld: ld, columns: np)
            let acc = accs[t].buffer
            a.multiply(rows: grp * ocg, count: ocg, by: panels[t], into: acc, ldc: np)
            for o in 0..<ocg {
                let oc = grp * ocg + o
                rq.requantizeRow(acc + o * np, y + (n * g.outChannels + oc) * pixels + p0, count: np,
                                 bias: bias[oc], maxAbsAcc: maxAbsAcc)
            }
        }
    }

    /// Unfolds output pixels `p0..<p0+count` of one group ([channels, H, W] at `x`) into
    /// `cols` [channels·KH·KW, count], row (c, ky, kx); 0 where the window leaves the input.
    static func im2colChunk(_ x: UnsafePointer<Int8>, _ cols: UnsafeMutablePointer<Int8>, channels: Int,
                            _ g: ConvGeometry, p0: Int, count: Int) {
        var row = cols
        for c in 0..<channels {
            let xc = x + c * g.inH * g.inW
            for ky in 0..<g.kernelH { for kx in 0..<g.kernelW {
                let valid = ConvGeometry.validRange(n: g.inW, out: g.outW, stride: g.strideW, pad: g.padLeft,
                                                    tap: kx, dilation: g.dilationW)
                var p = p0
                while p < p0 + count {
                    let oy = p / g.outW, ox0 = p % g.outW, ox1 = min(g.outW, ox0 + p0 + count - p)
                    let iy = oy * g.strideH + ky * g.dilationH - g.padTop
                    let d = row + (p - p0)
                    if iy < 0 || iy >= g.inH {
                        d.update(repeating: 0, count: ox1 - ox0)
                    } else {
                        gatherRow(xc + iy * g.inW, d, ox0: ox0, ox1: ox1, valid: valid,
                                  offset: kx * g.dilationW - g.padLeft, stride: g.strideW)
                    }
                    p += ox1 - ox0
                }
                row += count
            } }
        }
    }

    /// `d[ox − ox0] = xrow[ox·stride + offset]` for ox in `valid`, 0 elsewhere in `ox0..<ox1`.
    @inline(__always)
    static func gatherRow(_ xrow: UnsafePointer<Int8>, _ d: UnsafeMutablePointer<Int8>, ox0: Int, ox1: Int,
                          valid: Range<Int>, offset: Int, stride: Int) {
        let lo = min(max(valid.lowerBound, ox0), ox1), hi = max(min(valid.upperBound, ox1), lo)
        if lo > ox0 { d.update(repeating: 0, count: lo - ox0) }
        if hi < ox1 { (d + (hi - ox0)).update(repeating: 0, count: ox1 - hi) }
        if stride == 1 {
            (d + (lo - ox0)).update(from: xrow + lo + offset, count: hi - lo)
        } else {
            var s = xrow + lo * stride + offset
            for i in (lo - ox0)..<(hi - ox0) { d[i] = s.pointee; s += stride }
        }
    }
}
