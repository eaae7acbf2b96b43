import CKernels

/// Depthwise INT8 convolution (IC/groups = OC/groups = 1), any kernel, stride, dilation and pads.
///
/// `octet_i8_dw_plane` (C). Stride 1: the zero-padded plane is read as one long row (tap (ky, kx)
/// at offset ky·dH·Wp + kx·dW, Wp the padded width) and one row call covers the whole plane; the
/// Wp − outW extra columns per row are dropped after requantization. Other strides: each input
/// plane is copied into `strideW` zero-padded phase planes: phase
/// φ, column j holds input column `j·sW + φ − padLeft`. Tap (ky, kx) of output column ox then
/// reads phase `(kx·dW) mod sW` at column `ox + (kx·dW) div sW`, so every tap is a contiguous
/// int8 row and `octet_i8_dw_row` (AVX2 `pmaddwd` over tap pairs, unrolled for 3×3 and 5×5)
/// computes a whole output row. Rows above/below the input read a zero row. Twin: `conv2dReference`.
extension Int8Kernels {
    static func depthwise(_ x: UnsafePointer<Int8>, _ w: UnsafePointer<Int8>, _ bias: UnsafePointer<Int8>,
                          _ y: UnsafeMutablePointer<Int8>, _ g: ConvGeometry, _ rq: Int8Requant, threads: Int) {
        let planes = g.batch * g.outChannels
        let workers = max(1, min(threads, planes))
        let lay = DepthwiseLayout(g)
        let scratch = (0..<workers).map { _ in DepthwiseScratch(g, lay) }
        parallel(items: planes, threads: workers) { item, t in
            let c = item % g.outChannels
            depthwisePlane(x + item * g.inH * g.inW, w + c * lay.taps, bias[c],
                           y + item * g.outH * g.outW, g, lay, scratch[t], rq)
        }
    }

    private static func depthwisePlane(_ x: UnsafePointer<Int8>, _ w: UnsafePointer<Int8>, _ bias: Int8,
                                       _ y: UnsafeMutablePointer<Int8>, _ g: ConvGeometry, _ lay: DepthwiseLayout,
                                       _ s: DepthwiseScratch, _ rq: Int8Requant) {
        var geometry = lay.c
        let stride = s.taps.buffer.withMemoryRebound(to: UnsafePointer<Int8>?.self, capacity: lay.taps) { taps in
            octet_i8_dw_plane(x, w, &geometry, s.planes.buffer, s.zeroRow.buffer, taps, s.wpairs.buffer, s.acc.buffer)
        }
        let requantizer = Int8RowRequantizer(rq, bias: bias, maxAbsAcc: lay.maxAbsAcc)
        if stride == g.outW { return requantizer.run(s.acc.buffer, y, count: g.outH * g.outW) }
        requantizer.run(s.acc.buffer, s.rows.buffer, count: g.outH * stride)
        for oy in 0..<g.outH { (y + oy * g.outW).update(from: s.rows.buffer + oy * stride, count: g.outW) }
    }
}

/// Sizes shared by the depthwise workers.
struct DepthwiseLayout {
    let taps: Int
    /// Phase-plane row length: covers 16-wide loads past the last output column plus the largest tap offset.
    let planeWidth: Int
    let maxAbsAcc: Int64
    /// The geometry as the C plane kernel takes it.
    let c: octet_dw_geometry
    /// Scratch sizes: input planes (bytes) and accumulator row length (the padded width for stride 1).
    let planeBytes: Int, accRow: Int
    init(_ g: ConvGeometry) {
        taps = g.kernelH * g.kernelW
        planeWidth = (g.outW + 15) / 16 * 16 + (g.kernelW - 1) * g.dilationW / g.strideW + 16
        maxAbsAcc = Int64(taps) * 16384
        var c = octet_dw_geometry(in_h: g.inH, in_w: g.inW, out_h: g.outH, out_w: g.outW, kernel_h: g.kernelH,
                                  kernel_w: g.kernelW, stride_h: g.strideH, stride_w: g.strideW,
                                  dilation_h: g.dilationH, dilation_w: g.dilationW, pad_top: g.padTop,
                                  pad_left: g.padLeft, pad_bottom: g.padBottom, pad_right: g.padRight,
                                  plane_width: planeWidth)
        self.c = c
        planeBytes = max(g.strideW * g.inH * planeWidth, octet_i8_dw_flat_plane_size(&c))
        accRow = max(g.outW, g.padLeft + g.inW + g.padRight)
    }
}

/// Per-worker buffers of the depthwise kernel, allocated once per call (the kernel writes every
/// element it reads, except the zero row).
final class DepthwiseScratch {
    let planes: Int8Scratch<Int8>, zeroRow: Int8Scratch<Int8>
    let taps: Int8Scratch<UnsafePointer<Int8>?>, wpairs: Int8Scratch<Int32>, acc: Int8Scratch<Int32>
    /// Requantized rows at the accumulator's row stride, before the padded columns are dropped.
    let rows: Int8Scratch<Int8>
    init(_ g: ConvGeometry, _ lay: DepthwiseLayout) {
        planes = Int8Scratch(uninitialized: lay.planeBytes)
        zeroRow = Int8Scratch(count: lay.planeWidth, zero: 0)
        taps = Int8Scratch(uninitialized: lay.taps)
        wpairs = Int8Scratch(uninitialized: (lay.taps + 1) / 2)
        acc = Int8Scratch(uninitialized: g.outH * lay.accRow + 16)
        rows = Int8Scratch(uninitialized: g.outH * lay.accRow)
    }
}
