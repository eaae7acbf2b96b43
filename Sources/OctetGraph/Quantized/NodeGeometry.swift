import OctetTensor

/// Window geometry of Conv / ConvTranspose / pooling nodes for the INT8 kernels, resolved the
/// same way the float kernels resolve it (ONNX attributes, auto_pad, ceil_mode).
public enum NodeGeometry {
    /// Conv with input [N, C, H, W] and weight [OC, C/group, KH, KW].
    /// - Throws: `OctetGraphError.badAttribute` / `.execution` naming the node.
    public static func conv(_ node: Node, input x: [Int], weight w: [Int]) throws -> ConvGeometry {
        guard x.count == 4, w.count == 4 else { throw node.fail("Conv needs 4-D input and weight, got \(x) and \(w)") }
        let attrs = try WindowAttributes(node: node, spatial: [x[2], x[3]], kernel: [w[2], w[3]])
        return attrs.geometry(batch: x[0], channels: x[1], spatial: [x[2], x[3]], outChannels: w[0],
                              groups: try node.int("group", default: 1))
    }

    /// ConvTranspose with input [N, C, H, W] and weight [C, OC/group, KH, KW].
    public static func convTranspose(_ node: Node, input x: [Int], weight w: [Int]) throws -> ConvGeometry {
        guard x.count == 4, w.count == 4 else { throw node.fail("ConvTranspose needs 4-D input and weight") }
        let groups = try node.int("group", default: 1)
        let k = try node.ints("kernel_shape") ?? [w[2], w[3]]
        let s = try node.ints("strides") ?? [1, 1], d = try node.ints("dilations") ?? [1, 1]
        let op = try node.ints("output_padding") ?? [0, 0]
        let pads0 = try node.ints("pads") ?? [0, 0, 0, 0]
        let (out, pads) = ConvOps.transposedOutput(input: [x[2], x[3]], kernel: k, strides: s, dilations: d, outputPadding: op,
                                                   pads: pads0, outputShape: try node.ints("output_shape"),
                                                   autoPad: try node.string("auto_pad", default: "NOTSET"))
        return ConvGeometry(batch: x[0], inChannels: x[1], inH: x[2], inW: x[3], outChannels: w[1] * groups,
                            kernelH: k[0], kernelW: k[1], strideH: s[0], strideW: s[1], padTop: pads[0], padLeft: pads[1],
                            padBottom: pads[2], padRight: pads[3], dilationH: d[0], dilationW: d[1], groups: groups,
                            outH: out[0], outW: out[1])
    }

    /// MaxPool / AveragePool window over input [N, C, H, W].
    public static func pool(_ node: Node, input x: [Int]) throws -> ConvGeometry {
        guard x.count == 4 else { throw node.fail("pooling needs a 4-D input, got \(x)") }
        let attrs = try WindowAttributes(node: node, spatial: [x[2], x[3]], kernel: nil)
        return attrs.geometry(batch: x[0], channels: x[1], spatial: [x[2], x[3]], outChannels: x[1], groups: 1)
    }
}
