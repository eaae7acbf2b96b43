import CBLAS
import CKernels

/// Float 2-D convolution on NCHW (ONNX Conv semantics: groups, strides, pads, dilations).
///
/// Pointwise convolutions are one SGEMM per sample on the NCHW data itself, depthwise
/// convolutions a direct AVX2 kernel (`octet_f32_dw_plane`) with bias and clamp fused, ungrouped
/// convolutions with a short reduction (IC·KH·KW ≤ 64, a stem) a direct kernel
/// (`octet_f32_conv_direct`), everything else im2col + SGEMM (OpenBLAS). Weights are
/// [OC, IC/groups, KH, KW].
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
            if g.isDepthwise && g.outChannels == g.inChannels {
                depthwise(input, weight, bias, ob, g, clamp: clamp ?? (-.infinity, .infinity))
                initialized = total
                return
            }
            if g.groups == 1 && !g.isPointwise && g.inChannels * g.kernelH * g.kernelW <= Int(OCTET_F32_DIRECT_MAX_TAPS) {
                direct(input, weight, bias, ob, g, clamp: clamp ?? (-.infinity, .infinity))
                initialized = total
                return
            }
            viaGEMM(input, weight, ob, g)
            if bias != nil || clamp != nil {  // one pass: bias and the fused Relu / Clip
                let (lo, hi) = clamp ?? (-.infinity, .infinity)
                for n in 0..<g.batch { for c in 0..<g.outChannels {
                    octet_f32_bias_clamp(ob + (n * g.outChannels + c) * outPlane, outPlane, bias?[c] ?? 0, lo, hi)
                } }
            }
            initialized = total
        }
    }

    private static func viaGEMM(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ g: ConvGeometry) {
        let icg = g.inChannelsPerGroup, ocg = g.outChannelsPerGroup
        let k = icg * g.kernelH * g.kernelW
        let outPlane = g.outH * g.outW, inPlane = g.inH * g.inW
        var cols = g.isPointwise ? [] : [Float](unsafeUninitializedCapacity: k * outPlane) { $1 = k * outPlane }
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
                    let rows = rowsPerSGEMM(outChannels: ocg, outPlane: outPlane, depth: k)
                    for r0 in stride(from: 0, to: ocg, by: rows) {
                        let m = min(rows, ocg - r0)
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(outPlane), Int32(k),
                                    1, wg + r0 * k, Int32(k), b, Int32(outPlane), 0, yg + r0 * outPlane, Int32(outPlane))
                    }
                }
            }
        }
    }

    /// Output channels per SGEMM call. A small output plane (under 64 positions: the 7×7 stages
    /// of an ImageNet network) makes the GEMM mostly the packing of its weights, which OpenBLAS
    /// does on every call; OpenBLAS multiplies small products (about 10⁶ multiply-adds, AVX-512
    /// builds) straight from the operands instead. Such GEMMs are split along the output
    /// channels into products of at most 900 000 multiply-adds: measured with OpenBLAS 0.3.21
    /// on 1152×192 weights and 49 positions, 0.35 → 0.28 ms with the weights out of cache.
    /// The product is the same; OpenBLAS's two paths may sum in a different order (last ulps).
    static func rowsPerSGEMM(outChannels: Int, outPlane: Int, depth: Int) -> Int {
        guard outPlane < 64 else { return outChannels }
        return max(1, min(outChannels, 900_000 / max(1, outPlane * depth)))
    }

    /// Unfolds [C, H, W] into [C·KH·KW, outH·outW] (zero where the window leaves the input):
    /// `octet_f32_im2col`. Every element of `cols` is written.
    public static func im2col(_ x: UnsafePointer<Float>, _ cols: UnsafeMutablePointer<Float>, channels: Int, _ g: ConvGeometry) {
        var geometry = dwGeometry(g)
        octet_f32_im2col(x, channels, &geometry, cols)
    }

    /// Depthwise planes through `octet_f32_dw_plane` (C, AVX2 FMA over the stride-phase rows of
    /// the zero-padded input, 8 output rows × 8 columns per step), bias and clamp applied on the
    /// way out; planes spread over the threads, each thread zeroing its scratch once.
    private static func depthwise(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
                                  _ y: UnsafeMutablePointer<Float>, _ g: ConvGeometry, clamp: (lo: Float, hi: Float)) {
        let planes = g.batch * g.outChannels
        var geometry = dwGeometry(g)
        let scratch = octet_f32_dw_scratch(&geometry), taps = g.kernelH * g.kernelW
        var offsets = [Int](repeating: 0, count: taps)
        octet_f32_dw_offsets(&geometry, &offsets)
        let geo = geometry
        let workers = max(1, min(KernelConfig.threads, planes))
        KernelConfig.parallelFor(workers, threads: workers) { t in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: scratch) { buf in
                offsets.withUnsafeBufferPointer { offsets in
                    withUnsafePointer(to: geo) { gp in
                        octet_f32_dw_scratch_init(gp, buf.baseAddress!)
                        var p = t
                        while p < planes {
                            let c = p % g.outChannels
                            octet_f32_dw_plane(x + p * g.inH * g.inW, w + c * taps, bias?[c] ?? 0, clamp.lo, clamp.hi,
                                               gp, buf.baseAddress!, offsets.baseAddress!, y + p * g.outH * g.outW)
                            p += workers
                        }
                    }
                }
            }
        }
    }

    /// Short-reduction convolutions through `octet_f32_conv_direct` (C, AVX2 FMA over one
    /// stride-phase buffer per input channel, 2 output rows × 8 columns × 4 output channels per
    /// step), bias and clamp applied on the way out; blocks of four output channels spread over
    /// the threads, each thread zeroing its scratch once.
    private static func direct(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
                               _ y: UnsafeMutablePointer<Float>, _ g: ConvGeometry, clamp: (lo: Float, hi: Float)) {
        var geometry = dwGeometry(g)
        let scratch = octet_f32_conv_direct_scratch(&geometry, g.inChannels)
        let blocks = (g.outChannels + 3) / 4, workers = max(1, min(KernelConfig.threads, blocks))
        let geo = geometry, inSample = g.inChannels * g.inH * g.inW, outSample = g.outChannels * g.outH * g.outW
        KernelConfig.parallelFor(workers, threads: workers) { t in
            let oc0 = min(g.outChannels, blocks * t / workers * 4), oc1 = min(g.outChannels, blocks * (t + 1) / workers * 4)
            guard oc0 < oc1 else { return }
            withUnsafeTemporaryAllocation(of: Float.self, capacity: scratch) { buf in
                withUnsafePointer(to: geo) { gp in
                    octet_f32_conv_direct_scratch_init(gp, g.inChannels, buf.baseAddress!)
                    for n in 0..<g.batch {
                        octet_f32_conv_direct(x + n * inSample, g.inChannels, w, bias, oc0, oc1, clamp.lo, clamp.hi,
                                              gp, buf.baseAddress!, y + n * outSample)
                    }
                }
            }
        }
    }

    static func dwGeometry(_ g: ConvGeometry) -> octet_dw_geometry {
        octet_dw_geometry(in_h: g.inH, in_w: g.inW, out_h: g.outH, out_w: g.outW, kernel_h: g.kernelH,
                          kernel_w: g.kernelW, stride_h: g.strideH, stride_w: g.strideW,
                          dilation_h: g.dilationH, dilation_w: g.dilationW, pad_top: g.padTop,
                          pad_left: g.padLeft, pad_bottom: g.padBottom, pad_right: g.padRight, plane_width: 0)
    }

    /// Weight gradient of a depthwise convolution (one input and one output channel per group):
    /// dW[c, ky, kx] += Σ over n, oy, ox of dY[n, c, oy, ox] · x[n, c, oy·sH + ky·dH − padTop, ox·sW + kx·dW − padLeft]
    /// (zero outside the input), by `octet_f32_dw_weight_grad` over the stride-phase rows the
    /// forward reads. Channels spread over the threads (one scratch each); per channel the samples
    /// in order, so the result does not depend on the thread count.
    /// - Parameters: `input` [N, C, H, W], `outputGradient` [N, C, outH, outW], `weightGradient` [C, 1, KH, KW].
    public static func depthwiseWeightGradient(input x: UnsafePointer<Float>, outputGradient dy: UnsafePointer<Float>,
                                               geometry g: ConvGeometry, weightGradient dw: UnsafeMutablePointer<Float>) {
        var geometry = dwGeometry(g)
        let inPlane = g.inH * g.inW, outPlane = g.outH * g.outW, taps = g.kernelH * g.kernelW
        let scratch = octet_f32_dw_scratch(&geometry)
        var offsets = [Int](repeating: 0, count: taps)
        octet_f32_dw_offsets(&geometry, &offsets)
        let geo = geometry, workers = max(1, min(KernelConfig.threads, g.outChannels))
        KernelConfig.parallelFor(workers, threads: workers) { t in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: scratch) { buf in
                offsets.withUnsafeBufferPointer { offsets in
                    withUnsafePointer(to: geo) { gp in
                        octet_f32_dw_scratch_init(gp, buf.baseAddress!)
                        for c in stride(from: t, to: g.outChannels, by: workers) {
                            for n in 0..<g.batch {
                                octet_f32_dw_weight_grad(x + (n * g.inChannels + c) * inPlane, dy + (n * g.outChannels + c) * outPlane,
                                                         gp, buf.baseAddress!, offsets.baseAddress!, dw + c * taps)
                            }
                        }
                    }
                }
            }
        }
    }
}
