/// Float max and average pooling on NCHW (ONNX MaxPool / AveragePool / GlobalAveragePool).
public enum PoolFloat {
    public enum Kind: Sendable { case max, average(countIncludePad: Bool) }

    /// `g.outChannels` must equal `g.inChannels`; `outH`/`outW` already include ceil_mode.
    /// Windows clipped at the right/bottom edge beyond the padding (ceil_mode) never count
    /// the missing elements, as in onnxruntime.
    public static func forward(input: UnsafePointer<Float>, geometry g: ConvGeometry, kind: Kind) -> [Float] {
        let outPlane = g.outH * g.outW, inPlane = g.inH * g.inW
        var out = [Float](repeating: 0, count: g.batch * g.inChannels * outPlane)
        out.withUnsafeMutableBufferPointer { o in
            let ob = o.baseAddress!
            KernelConfig.parallelFor(g.batch * g.inChannels) { p in
                plane(input + p * inPlane, ob + p * outPlane, g, kind)
            }
        }
        return out
    }

    @inline(__always)
    private static func plane(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ g: ConvGeometry, _ kind: Kind) {
        for oy in 0..<g.outH {
            let y0 = oy * g.strideH - g.padTop
            for ox in 0..<g.outW {
                let x0 = ox * g.strideW - g.padLeft
                var acc: Float = 0, best = -Float.infinity, n = 0
                for ky in 0..<g.kernelH {
                    let iy = y0 + ky * g.dilationH
                    if iy < 0 || iy >= g.inH { continue }
                    for kx in 0..<g.kernelW {
                        let ix = x0 + kx * g.dilationW
                        if ix < 0 || ix >= g.inW { continue }
                        let v = x[iy * g.inW + ix]
                        acc += v; n += 1
                        if v > best { best = v }
                    }
                }
                switch kind {
                case .max: y[oy * g.outW + ox] = best
                case .average(let include):
                    var count = n
                    if include {
                        // the window's taps inside the padded extent (not beyond it)
                        count = taps(from: y0, kernel: g.kernelH, dilation: g.dilationH, end: g.inH + g.padBottom)
                            * taps(from: x0, kernel: g.kernelW, dilation: g.dilationW, end: g.inW + g.padRight)
                    }
                    y[oy * g.outW + ox] = count > 0 ? acc / Float(count) : 0
                }
            }
        }
    }

    /// Taps start, start + dilation, … (kernel of them) below `end`.
    @inline(__always)
    private static func taps(from start: Int, kernel: Int, dilation: Int, end: Int) -> Int {
        start >= end ? 0 : min(kernel, (end - start + dilation - 1) / dilation)
    }

    /// Mean (or max) over each H×W plane: [N, C, H, W] → [N, C, 1, 1].
    public static func global(input: UnsafePointer<Float>, planes: Int, planeSize: Int, max: Bool) -> [Float] {
        var out = [Float](repeating: 0, count: planes)
        for p in 0..<planes {
            let x = input + p * planeSize
            if max {
                var b = -Float.infinity
                for i in 0..<planeSize where x[i] > b { b = x[i] }
                out[p] = b
            } else {
                var s: Float = 0
                for i in 0..<planeSize { s += x[i] }
                out[p] = s / Float(planeSize)
            }
        }
        return out
    }
}
