/// Geometry of a 2-D convolution or pooling window over NCHW data.
///
/// Output size per ONNX Conv: `out = floor((in + padBegin + padEnd − dil·(k−1) − 1) / stride) + 1`.
public struct ConvGeometry: Sendable, Equatable {
    public var batch: Int, inChannels: Int, inH: Int, inW: Int
    public var outChannels: Int, kernelH: Int, kernelW: Int
    public var strideH: Int, strideW: Int
    public var padTop: Int, padLeft: Int, padBottom: Int, padRight: Int
    public var dilationH: Int, dilationW: Int
    public var groups: Int
    public var outH: Int, outW: Int

    public init(batch: Int, inChannels: Int, inH: Int, inW: Int, outChannels: Int, kernelH: Int, kernelW: Int,
                strideH: Int = 1, strideW: Int = 1, padTop: Int = 0, padLeft: Int = 0, padBottom: Int = 0, padRight: Int = 0,
                dilationH: Int = 1, dilationW: Int = 1, groups: Int = 1, outH: Int? = nil, outW: Int? = nil) {
        self.batch = batch; self.inChannels = inChannels; self.inH = inH; self.inW = inW
        self.outChannels = outChannels; self.kernelH = kernelH; self.kernelW = kernelW
        self.strideH = strideH; self.strideW = strideW
        self.padTop = padTop; self.padLeft = padLeft; self.padBottom = padBottom; self.padRight = padRight
        self.dilationH = dilationH; self.dilationW = dilationW; self.groups = groups
        self.outH = outH ?? (inH + padTop + padBottom - dilationH * (kernelH - 1) - 1) / strideH + 1
        self.outW = outW ?? (inW + padLeft + padRight - dilationW * (kernelW - 1) - 1) / strideW + 1
    }

    public var inChannelsPerGroup: Int { inChannels / groups }
    public var outChannelsPerGroup: Int { outChannels / groups }
    /// Depthwise: one input and one output channel per group.
    public var isDepthwise: Bool { groups == inChannels && groups == outChannels && groups > 1 }
    public var isPointwise: Bool {
        kernelH == 1 && kernelW == 1 && strideH == 1 && strideW == 1
            && padTop == 0 && padLeft == 0 && padBottom == 0 && padRight == 0
    }
    /// Multiply-accumulates per sample.
    public var macs: Int { outChannels * outH * outW * inChannelsPerGroup * kernelH * kernelW }

    /// For output column `o` and kernel tap `k`, the range of output columns whose input
    /// column `o·s − pad + k·d` lies inside `0..<n`.
    @inlinable
    public static func validRange(n: Int, out: Int, stride s: Int, pad: Int, tap k: Int, dilation d: Int) -> Range<Int> {
        let off = k * d - pad
        // o*s + off >= 0  →  o >= ceil(-off / s)
        let lo = off >= 0 ? 0 : (-off + s - 1) / s
        // o*s + off <= n-1  →  o <= floor((n-1-off)/s)
        let hiIncl = n - 1 - off < 0 ? -1 : (n - 1 - off) / s
        let hi = min(out, hiIncl + 1)
        return lo < hi ? lo..<hi : 0..<0
    }
}
