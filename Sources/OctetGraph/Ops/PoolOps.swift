import OctetTensor

/// MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool (ONNX operator spec), 2-D NCHW.
enum PoolOps {
    static let kernels: [String: OpKernel] = [
        "MaxPool": { n, i, _ in try window(n, i, .max) },
        "AveragePool": { n, i, _ in
            try window(n, i, .average(countIncludePad: try n.int("count_include_pad", default: 0) != 0))
        },
        "GlobalAveragePool": { n, i, _ in try global(n, i, max: false) },
        "GlobalMaxPool": { n, i, _ in try global(n, i, max: true) },
    ]

    static func window(_ node: Node, _ inputs: [Tensor?], _ kind: PoolFloat.Kind) throws -> [Tensor] {
        let x = try node.requiredFloat(inputs, 0)
        try node.requireNCHW(x)
        if node.outputs.count > 1 && !node.outputs[1].isEmpty {
            throw node.fail("MaxPool Indices output is not supported")
        }
        // storage_order only orders the Indices output, which is refused above.
        let attrs = try WindowAttributes(node: node, spatial: [x.shape[2], x.shape[3]], kernel: nil, pooling: true)
        let g = attrs.geometry(batch: x.shape[0], channels: x.shape[1], spatial: [x.shape[2], x.shape[3]],
                               outChannels: x.shape[1], groups: x.shape[1])
        guard g.outH > 0, g.outW > 0 else { throw node.fail("window larger than the padded input \(x.shape)") }
        try node.requireOutputSize([g.batch, g.inChannels, g.outH, g.outW])
        let out = x.withFloats { PoolFloat.forward(input: $0.baseAddress!, geometry: g, kind: kind) }
        return [Tensor(shape: [g.batch, g.inChannels, g.outH, g.outW], floats: out)]
    }

    static func global(_ node: Node, _ inputs: [Tensor?], max: Bool) throws -> [Tensor] {
        let x = try node.requiredFloat(inputs, 0)
        guard x.rank >= 3 else { throw node.fail("input must have rank ≥ 3, got \(x.shape)") }
        let planes = x.shape[0] * x.shape[1]
        let size = x.count / Swift.max(planes, 1)
        let out = x.withFloats { PoolFloat.global(input: $0.baseAddress!, planes: planes, planeSize: size, max: max) }
        return [Tensor(shape: [x.shape[0], x.shape[1]] + Array(repeating: 1, count: x.rank - 2), floats: out)]
    }
}
