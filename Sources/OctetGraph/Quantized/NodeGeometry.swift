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
        try ConvOps.transposedGeometry(node, input: x, weight: w)
    }

    /// MaxPool / AveragePool window over input [N, C, H, W].
    public static func pool(_ node: Node, input x: [Int]) throws -> ConvGeometry {
        guard x.count == 4 else { throw node.fail("pooling needs a 4-D input, got \(x)") }
        let attrs = try WindowAttributes(node: node, spatial: [x[2], x[3]], kernel: nil, pooling: true)
        return attrs.geometry(batch: x[0], channels: x[1], spatial: [x[2], x[3]], outChannels: x[1], groups: 1)
    }
}
