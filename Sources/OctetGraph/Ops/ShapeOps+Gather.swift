import OctetTensor

/// Transpose, Gather, Expand and Tile (ONNX operator specs).
extension ShapeOps {
    /// `Transpose` by `perm` (default: reversed axes).
    static func transpose(_ node: Node, _ inputs: [Tensor?]) throws -> Tensor {
        let x = try node.required(inputs, 0)
        let perm = try node.ints("perm") ?? Array((0..<x.rank).reversed())
        guard perm.sorted() == Array(0..<x.rank) else {
            throw OctetGraphError.badAttribute(node: node.label, attribute: "perm",
                                               reason: "\(perm) is not a permutation of 0..<\(x.rank)")
        }
        let strides = Shape.strides(x.shape)
        return AxisGather(tables: perm.map { AxisGather.linear(count: x.shape[$0], stride: strides[$0]) }).apply(x)
    }

    /// `Gather(data, indices)` on `axis` (default 0): output shape
    /// `data.shape[..<axis] + indices.shape + data.shape[axis+1...]`; negative indices count from the end.
    static func gather(_ node: Node, _ inputs: [Tensor?]) throws -> Tensor {
        let data = try node.required(inputs, 0), idx = try node.required(inputs, 1)
        guard data.rank >= 1 else { throw node.fail("data must have rank >= 1") }
        guard idx.dtype == .int64 || idx.dtype == .int32 else { throw node.fail("indices must be int32 or int64, got \(idx.dtype)") }
        let k = try axis(node, try node.int("axis", default: 0), rank: data.rank)
        let dim = data.shape[k]
        let strides = Shape.strides(data.shape)
        var picked: [Int] = []
        picked.reserveCapacity(idx.count)
        for i in intList(idx) {
            let j = i < 0 ? i + dim : i
            guard j >= 0 && j < dim else { throw node.fail("index \(i) is out of range for axis size \(dim)") }
            picked.append(j * strides[k])
        }
        var tables = data.shape.indices.map { AxisGather.linear(count: data.shape[$0], stride: strides[$0]) }
        tables[k] = picked
        let shape = Array(data.shape[..<k]) + idx.shape + Array(data.shape[(k + 1)...])
        return try AxisGather(tables: tables).apply(data).reshaped(shape)
    }

    /// `Expand(input, shape)`: bidirectional broadcast of the input to `shape`.
    static func expand(_ node: Node, _ inputs: [Tensor?]) throws -> Tensor {
        let x = try node.required(inputs, 0)
        let target = intList(try node.required(inputs, 1))
        guard target.allSatisfy({ $0 >= 0 }) else { throw node.fail("negative dimension in shape \(target)") }
        let out = try Shape.broadcast(x.shape, target)
        try node.requireOutputSize(out)
        let padded = Array(repeating: 1, count: out.count - x.rank) + x.shape
        let strides = Shape.strides(padded)
        let tables = out.indices.map { k in
            padded[k] == 1 ? Array(repeating: 0, count: out[k]) : AxisGather.linear(count: out[k], stride: strides[k])
        }
        return AxisGather(tables: tables).apply(x)
    }

    /// `Tile(input, repeats)`: repeats axis `k` `repeats[k]` times.
    static func tile(_ node: Node, _ inputs: [Tensor?]) throws -> Tensor {
        let x = try node.required(inputs, 0)
        let repeats = intList(try node.required(inputs, 1))
        guard repeats.count == x.rank, repeats.allSatisfy({ $0 >= 0 }) else {
            throw node.fail("repeats \(repeats) must have one non-negative value per input axis (rank \(x.rank))")
        }
        let out = try x.shape.indices.map { k -> Int in
            let (n, overflow) = repeats[k].multipliedReportingOverflow(by: x.shape[k])
            guard !overflow else { throw node.fail("repeats \(repeats) overflow axis \(k)") }
            return n
        }
        try node.requireOutputSize(out)
        let strides = Shape.strides(x.shape)
        let tables = x.shape.indices.map { k in
            (0..<(repeats[k] * x.shape[k])).map { ($0 % x.shape[k]) * strides[k] }
        }
        return AxisGather(tables: tables).apply(x)
    }
}
