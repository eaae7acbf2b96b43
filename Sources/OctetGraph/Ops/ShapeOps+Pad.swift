import OctetTensor

/// `Pad` (ONNX operator spec, opsets 2–19).
extension ShapeOps {
    /// `Pad` with `pads = [x1_begin, x2_begin, …, x1_end, x2_end]` (negative values crop).
    /// Before opset 11 `pads`, `value` and `mode` are attributes; from 11 `pads` and the
    /// optional `constant_value` are inputs; from 18 an optional `axes` input selects the
    /// padded axes. Modes: `constant`, `reflect` (mirror without the edge), `edge`, `wrap`.
    static func pad(_ node: Node, _ inputs: [Tensor?], _ opset: Int) throws -> Tensor {
        let x = try node.required(inputs, 0)
        let mode = try node.string("mode", default: "constant")
        guard ["constant", "reflect", "edge", "wrap"].contains(mode) else {
            throw OctetGraphError.badAttribute(node: node.label, attribute: "mode", reason: "unknown mode '\(mode)'")
        }
        let (begin, end, value) = try padAmounts(node, inputs, opset, x)
        let outShape = try x.shape.indices.map { k -> Int in
            let (a, o1) = x.shape[k].addingReportingOverflow(begin[k]), (b, o2) = a.addingReportingOverflow(end[k])
            guard !o1, !o2 else { throw node.fail("pads \(begin + end) overflow axis \(k)") }
            return b
        }
        if outShape.allSatisfy({ $0 >= 0 }) { try node.requireOutputSize(outShape) }
        let strides = Shape.strides(x.shape)
        var tables: [[Int]] = []
        for k in 0..<x.rank {
            let dim = x.shape[k]
            let outDim = dim + begin[k] + end[k]
            guard outDim >= 0 else { throw node.fail("pads crop axis \(k) of size \(dim) below zero") }
            if mode != "constant" && dim == 0 && outDim > 0 {
                throw node.fail("cannot \(mode)-pad axis \(k) of size 0")
            }
            tables.append(try (0..<outDim).map { i in
                let src = try sourceIndex(i - begin[k], dim: dim, mode: mode, node: node)
                return src < 0 ? -1 : src * strides[k]
            })
        }
        return AxisGather(tables: tables).apply(x, fill: value)
    }

    /// Per-axis begin/end pads and the constant fill value, from attributes or inputs.
    private static func padAmounts(_ node: Node, _ inputs: [Tensor?], _ opset: Int,
                                   _ x: Tensor) throws -> ([Int], [Int], Double) {
        let pads: [Int]
        var value = 0.0
        var axes = Array(0..<x.rank)
        if opset < 11 {
            guard let p = try node.ints("pads") else { throw node.fail("missing pads attribute") }
            pads = p
            value = Double(try node.float("value", default: 0))
        } else {
            pads = intList(try node.required(inputs, 1))
            if let c = node.optional(inputs, 2), c.count > 0 {
                value = c.dtype == .float32 ? Double(c.floats[0]) : Double(c.asInt64Array()[0])
            }
            if let a = node.optional(inputs, 3) {
                axes = try intList(a).map { try axis(node, $0, rank: x.rank, name: "axes") }
            }
        }
        guard pads.count == 2 * axes.count else {
            throw node.fail("pads has \(pads.count) values, expected \(2 * axes.count)")
        }
        var begin = Array(repeating: 0, count: x.rank), end = begin
        for (j, k) in axes.enumerated() {
            begin[k] = pads[j]
            end[k] = pads[j + axes.count]
        }
        return (begin, end, value)
    }

    /// Source index along one axis for padded position `i` (already shifted by the begin pad);
    /// -1 selects the constant fill.
    private static func sourceIndex(_ i: Int, dim: Int, mode: String, node: Node) throws -> Int {
        if i >= 0 && i < dim { return i }
        switch mode {
        case "edge": return i < 0 ? 0 : dim - 1
        case "wrap": return ((i % dim) + dim) % dim
        case "reflect":
            guard dim > 1 else { return 0 }
            let period = 2 * (dim - 1)
            var j = ((i % period) + period) % period
            if j >= dim { j = period - j }
            return j
        default: return -1
        }
    }
}
