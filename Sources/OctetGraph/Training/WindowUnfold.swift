import OctetTensor

/// im2col / col2im over one group of planes, for the conv backward passes.
///
/// `unfold`: cols[c·KH·KW + ky·KW + kx, oy·outW + ox] = src[c, oy·s − pad + ky·d, ox·s − pad + kx·d]
/// (0 outside the source plane). `fold` is its adjoint: the same index map, scatter-added.
/// A conv uses them with (source = input, cols plane = output); a transposed conv with the roles
/// of its input and output swapped, since its forward is the adjoint of a conv.
struct WindowUnfold {
    var srcH: Int, srcW: Int, colH: Int, colW: Int
    var kernelH: Int, kernelW: Int, strideH: Int, strideW: Int
    var padTop: Int, padLeft: Int, dilationH: Int, dilationW: Int

    /// Source = conv input, cols plane = conv output.
    static func conv(_ g: ConvGeometry) -> WindowUnfold {
        WindowUnfold(srcH: g.inH, srcW: g.inW, colH: g.outH, colW: g.outW, kernelH: g.kernelH, kernelW: g.kernelW,
                     strideH: g.strideH, strideW: g.strideW, padTop: g.padTop, padLeft: g.padLeft,
                     dilationH: g.dilationH, dilationW: g.dilationW)
    }

    /// Source = transposed-conv output, cols plane = its input.
    static func transposed(_ g: ConvGeometry) -> WindowUnfold {
        WindowUnfold(srcH: g.outH, srcW: g.outW, colH: g.inH, colW: g.inW, kernelH: g.kernelH, kernelW: g.kernelW,
                     strideH: g.strideH, strideW: g.strideW, padTop: g.padTop, padLeft: g.padLeft,
                     dilationH: g.dilationH, dilationW: g.dilationW)
    }

    var rowsPerChannel: Int { kernelH * kernelW }
    var colPlane: Int { colH * colW }

    func unfold(_ src: UnsafePointer<Float>, _ cols: UnsafeMutablePointer<Float>, channels: Int) {
        let g = ConvGeometry(batch: 1, inChannels: channels, inH: srcH, inW: srcW, outChannels: channels,
                             kernelH: kernelH, kernelW: kernelW, strideH: strideH, strideW: strideW,
                             padTop: padTop, padLeft: padLeft, dilationH: dilationH, dilationW: dilationW,
                             outH: colH, outW: colW)
        Conv2DFloat.im2col(src, cols, channels: channels, g)
    }

    func fold(_ cols: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, channels: Int) {
        visit(channels) { row, oy, xr, dstRow in
            guard let dstRow else { return }
            let s = cols + row * colPlane + oy * colW
            for ox in xr { dst[dstRow + ox * strideW] += s[ox] }
        }
    }

    /// Calls `body(row, oy, valid ox range, flat source offset of ox = 0 or nil when the row is outside)`.
    private func visit(_ channels: Int, _ body: (Int, Int, Range<Int>, Int?) -> Void) {
        var row = 0
        for c in 0..<channels {
            for ky in 0..<kernelH { for kx in 0..<kernelW {
                let xr = ConvGeometry.validRange(n: srcW, out: colW, stride: strideW, pad: padLeft, tap: kx, dilation: dilationW)
                for oy in 0..<colH {
                    let iy = oy * strideH - padTop + ky * dilationH
                    let inside = iy >= 0 && iy < srcH && !xr.isEmpty
                    body(row, oy, inside ? xr : 0..<0, inside ? (c * srcH + iy) * srcW - padLeft + kx * dilationW : nil)
                }
                row += 1
            } }
        }
    }
}
