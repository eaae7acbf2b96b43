/// INT8 nearest-neighbour upsampling by integer factors (ONNX Resize / Upsample, mode "nearest",
/// scales [1, 1, scaleH, scaleW]): `y[n][c][oy][ox] = x[n][c][oy / scaleH][ox / scaleW]`.
/// A pure copy: the output keeps the input's fix position.
extension Int8Kernels {
    /// - Returns: int8 [N, C, H·scaleH, W·scaleW].
    /// - Throws: `.shapeMismatch` unless `x` is int8 NCHW; `.unsupported` unless both scales are ≥ 1.
    public static func upsampleNearest(_ x: Tensor, scaleH: Int, scaleW: Int) throws -> Tensor {
        let (n, c, h, w) = try upsampleCheck(x, scaleH, scaleW)
        let ow = w * scaleW
        var out = [Int8](repeating: 0, count: n * c * h * scaleH * ow)
        x.withInt8s { xb in out.withUnsafeMutableBufferPointer { ob in
            guard let xp = xb.baseAddress, let yp = ob.baseAddress else { return }
            for plane in 0..<n * c { for iy in 0..<h {
                let src = xp + (plane * h + iy) * w
                let first = yp + (plane * h + iy) * scaleH * ow
                var d = first
                for ix in 0..<w { d.update(repeating: src[ix], count: scaleW); d += scaleW }
                for r in 1..<max(scaleH, 1) { (first + r * ow).update(from: first, count: ow) }
            } }
        } }
        return Tensor(shape: [n, c, h * scaleH, ow], int8s: out)
    }

    /// Scalar twin of `upsampleNearest`.
    public static func upsampleNearestReference(_ x: Tensor, scaleH: Int, scaleW: Int) throws -> Tensor {
        let (n, c, h, w) = try upsampleCheck(x, scaleH, scaleW)
        let v = x.int8s, oh = h * scaleH, ow = w * scaleW
        var out = [Int8](repeating: 0, count: n * c * oh * ow)
        for plane in 0..<n * c { for oy in 0..<oh { for ox in 0..<ow {
            out[(plane * oh + oy) * ow + ox] = v[(plane * h + oy / scaleH) * w + ox / scaleW]
        } } }
        return Tensor(shape: [n, c, oh, ow], int8s: out)
    }

    private static func upsampleCheck(_ x: Tensor, _ sh: Int, _ sw: Int) throws -> (Int, Int, Int, Int) {
        guard x.dtype == .int8 else {
            throw OctetTensorError.dtypeMismatch(expected: .int8, got: x.dtype, context: "upsampleNearest input")
        }
        guard x.rank == 4 else { throw OctetTensorError.shapeMismatch("upsampleNearest: input \(x.shape) is not NCHW") }
        guard sh >= 1, sw >= 1 else {
            throw OctetTensorError.unsupported("upsampleNearest: scales \(sh)x\(sw) must be integers >= 1")
        }
        return (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    }
}
