import CKernels

/// Depthwise INT8 convolution (IC/groups = OC/groups = 1), any kernel, stride, dilation and pads.
///
/// Each input plane is copied into `strideW` zero-padded phase planes: phase φ, column j holds
/// input column `j·sW + φ − padLeft`. Tap (ky, kx) of output column ox then reads phase
/// `(kx·dW) mod sW` at column `ox + (kx·dW) div sW`, so every tap is a contiguous int8 row and
/// `octet_i8_dw_row` (AVX2 `pmaddwd` over tap pairs, unrolled for 3×3 and 5×5) computes a whole
/// output row. Rows above/below the input read a zero row. Twin: `conv2dReference`.
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
        fillPhasePlanes(x, s.planes.buffer, g, lay)
        for p in 0..<(lay.taps + 1) / 2 {
            let w0 = UInt16(bitPattern: Int16(w[2 * p]))
            let w1 = 2 * p + 1 < lay.taps ? UInt16(bitPattern: Int16(w[2 * p + 1])) : 0
            s.wpairs.buffer[p] = Int32(bitPattern: UInt32(w0) | UInt32(w1) << 16)
        }
        let zero = UnsafePointer(s.zeroRow.buffer), planes = UnsafePointer(s.planes.buffer)
        let taps = s.taps.buffer
        let requantizer = Int8RowRequantizer(rq, bias: bias, maxAbsAcc: lay.maxAbsAcc)
        for oy in 0..<g.outH {
            for ky in 0..<g.kernelH {
                let iy = oy * g.strideH + ky * g.dilationH - g.padTop
                let inside = iy >= 0 && iy < g.inH
                let base = inside ? planes + iy * lay.planeWidth : zero
                for kx in 0..<g.kernelW {
                    taps[ky * g.kernelW + kx] = base + (inside ? lay.planeOffset[kx] : lay.columnOffset[kx])
                }
            }
            // rows are written in order; each row's 16-wide overrun lands where the next row goes
            octet_i8_dw_row(taps, s.wpairs.buffer, lay.taps, s.acc.buffer + oy * g.outW, g.outW)
        }
        requantizer.run(s.acc.buffer, y, count: g.outH * g.outW)
    }

    /// Phase φ, row iy, column j = x[iy][j·sW + φ − padLeft], or 0 outside the input.
    private static func fillPhasePlanes(_ x: UnsafePointer<Int8>, _ planes: UnsafeMutablePointer<Int8>,
                                        _ g: ConvGeometry, _ lay: DepthwiseLayout) {
        let pw = lay.planeWidth, s = g.strideW
        for phase in 0..<s {
            // columns j with 0 ≤ j·s + phase − padLeft < inW
            let first = min(pw, max(0, (g.padLeft - phase + s - 1) / s))
            let last = g.inW - 1 + g.padLeft - phase
            let end = last < 0 ? first : min(pw, max(first, last / s + 1))
            for iy in 0..<g.inH {
                let d = planes + (phase * g.inH + iy) * pw, xr = x + iy * g.inW
                d.update(repeating: 0, count: first)
                (d + end).update(repeating: 0, count: pw - end)
                if s == 1 {
                    (d + first).update(from: xr + first - g.padLeft, count: end - first)
                } else {
                    var src = xr + first * s + phase - g.padLeft
                    for j in first..<end { d[j] = src.pointee; src += s }
                }
            }
        }
    }
}

/// Sizes shared by the depthwise workers.
struct DepthwiseLayout {
    let taps: Int
    /// Phase-plane row length: covers 16-wide loads past the last output column plus the largest tap offset.
    let planeWidth: Int
    let maxAbsAcc: Int64
    /// Per kx: column offset `(kx·dW) div sW` inside its phase plane, and that plus the phase plane's start.
    let columnOffset: [Int], planeOffset: [Int]
    init(_ g: ConvGeometry) {
        taps = g.kernelH * g.kernelW
        planeWidth = (g.outW + 15) / 16 * 16 + (g.kernelW - 1) * g.dilationW / g.strideW + 16
        maxAbsAcc = Int64(taps) * 16384
        columnOffset = (0..<g.kernelW).map { $0 * g.dilationW / g.strideW }
        let pw = planeWidth
        planeOffset = (0..<g.kernelW).map { $0 * g.dilationW % g.strideW * g.inH * pw + $0 * g.dilationW / g.strideW }
    }
}

/// Per-worker buffers of the depthwise kernel, allocated once per call.
final class DepthwiseScratch {
    let planes: Int8Scratch<Int8>, zeroRow: Int8Scratch<Int8>
    let taps: Int8Scratch<UnsafePointer<Int8>?>, wpairs: Int8Scratch<Int32>, acc: Int8Scratch<Int32>
    init(_ g: ConvGeometry, _ lay: DepthwiseLayout) {
        planes = Int8Scratch(count: g.strideW * g.inH * lay.planeWidth, zero: 0)
        zeroRow = Int8Scratch(count: lay.planeWidth, zero: 0)
        taps = Int8Scratch(count: lay.taps, zero: nil)
        wpairs = Int8Scratch(count: (lay.taps + 1) / 2, zero: 0)
        acc = Int8Scratch(count: g.outH * g.outW + 16, zero: 0)
    }
}
