import OctetTensor

/// Bilinear sampling for Resize/Upsample `linear` mode.
extension ResizeOps {
    /// Two source indices and the weight of the second, per output coordinate of one axis.
    struct LinearTaps {
        var i0: [Int] = [], i1: [Int] = [], w1: [Float] = []

        init(_ p: AxisPlan, coordMode: String) {
            for i in 0..<p.outSize {
                let x = Swift.min(Swift.max(sourceCoordinate(i, p, mode: coordMode), 0), Float(p.inSize - 1))
                let a = Swift.min(Int(x), p.inSize - 1)
                i0.append(a)
                i1.append(Swift.min(a + 1, p.inSize - 1))
                w1.append(x - Float(a))
            }
        }
    }

    /// Bilinear interpolation over the last two axes; all other axes must keep their size.
    /// a·(1 − w) + b·w, as onnxruntime weights the taps; a tap of weight 0 is left out, so an
    /// infinite value there does not turn the result into NaN (∞ · 0).
    @inline(__always) static func mix(_ a: Float, _ b: Float, _ w: Float) -> Float {
        w == 0 ? a : w == 1 ? b : a * (1 - w) + b * w
    }

    static func bilinear(_ node: Node, _ x: Tensor, _ plans: [AxisPlan], coordMode: String) throws -> Tensor {
        guard x.dtype == .float32 else { throw node.fail("linear mode needs float32 input, got \(x.dtype)") }
        guard x.rank >= 2, plans.dropLast(2).allSatisfy({ $0.outSize == $0.inSize && $0.scale == 1 }) else {
            throw node.fail("linear mode supports resizing only the last two axes (bilinear on NCHW)")
        }
        let ph = plans[x.rank - 2], pw = plans[x.rank - 1]
        let ty = LinearTaps(ph, coordMode: coordMode), tx = LinearTaps(pw, coordMode: coordMode)
        let planes = x.shape.dropLast(2).reduce(1, *)
        let (ih, iw, oh, ow) = (ph.inSize, pw.inSize, ph.outSize, pw.outSize)
        var out = [Float](repeating: 0, count: planes * oh * ow)
        x.withFloats { src in
            out.withUnsafeMutableBufferPointer { dst in
                for c in 0..<planes {
                    let s = src.baseAddress! + c * ih * iw, d = dst.baseAddress! + c * oh * ow
                    for y in 0..<oh {
                        let r0 = s + ty.i0[y] * iw, r1 = s + ty.i1[y] * iw, wy = ty.w1[y]
                        for xo in 0..<ow {
                            let a = tx.i0[xo], b = tx.i1[xo], wx = tx.w1[xo]
                            let top = mix(r0[a], r0[b], wx), bottom = mix(r1[a], r1[b], wx)
                            d[y * ow + xo] = mix(top, bottom, wy)
                        }
                    }
                }
            }
        }
        return Tensor(shape: Array(x.shape.dropLast(2)) + [oh, ow], floats: out)
    }
}
