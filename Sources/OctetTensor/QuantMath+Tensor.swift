extension QuantMath {
    /// Fake-quantizes a float32 tensor in place with `params` (per tensor or per channel).
    /// - Throws: `OctetTensorError.dtypeMismatch` for a non-float tensor; `.shapeMismatch` when
    ///   the per-channel axis is out of range or its length differs from the channel count.
    public static func fakeQuantize(_ tensor: inout Tensor, params: QuantParams, rounding: RoundingMode) throws {
        guard tensor.dtype == .float32 else {
            throw OctetTensorError.dtypeMismatch(expected: .float32, got: tensor.dtype, context: "fake quantize")
        }
        let range = params.range
        guard let ch = params.channels else {
            try tensor.withMutableFloats { buf in
                try fakeQuantize(buf, fixPos: params.fixPos, scale: params.scale,
                                 zeroPoint: params.zeroPoint, range: range, rounding: rounding)
            }
            return
        }
        let axis = try Shape.normalizeAxis(ch.axis, rank: tensor.rank)
        let shape = tensor.shape
        guard shape[axis] == ch.scales.count else {
            throw OctetTensorError.shapeMismatch("per-channel axis \(ch.axis) of \(shape) has \(shape[axis]) channels, params have \(ch.scales.count)")
        }
        let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
        try tensor.withMutableFloats { buf in
            for o in 0..<outer {
                for c in 0..<shape[axis] {
                    let start = (o * shape[axis] + c) * inner
                    let block = UnsafeMutableBufferPointer(rebasing: buf[start..<(start + inner)])
                    try fakeQuantize(block, fixPos: ch.fixPos?[c], scale: ch.scales[c],
                                     zeroPoint: ch.zeroPoints[c], range: range, rounding: rounding)
                }
            }
        }
    }

    private static func fakeQuantize(_ buf: UnsafeMutableBufferPointer<Float>, fixPos: Int?,
                                     scale: Float, zeroPoint: Int, range: QuantRange,
                                     rounding: RoundingMode) throws {
        if let fp = fixPos, zeroPoint == 0 {
            fakeQuantize(buf, fixPos: fp, range: range, rounding: rounding)
        } else {
            try fakeQuantize(buf, scale: scale, zeroPoint: zeroPoint, range: range, rounding: rounding)
        }
    }
}
