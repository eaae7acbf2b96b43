import OctetTensor

/// Slice, Split and Concat (ONNX operator specs, opsets 1–18).
extension ShapeOps {
    /// `Concat` along `axis` (required; negative allowed). All inputs share dtype and
    /// every dimension except `axis`.
    static func concat(_ node: Node, _ inputs: [Tensor?]) throws -> Tensor {
        let parts = inputs.compactMap { $0 }
        guard let first = parts.first else { throw node.fail("needs at least one input") }
        guard let a = try node.int("axis") else {
            throw OctetGraphError.badAttribute(node: node.label, attribute: "axis", reason: "required attribute is missing")
        }
        let k = try axis(node, a, rank: first.rank)
        for p in parts {
            guard p.dtype == first.dtype, p.rank == first.rank,
                  p.shape.indices.allSatisfy({ $0 == k || p.shape[$0] == first.shape[$0] }) else {
                throw node.fail("cannot concatenate \(first.dtype)\(first.shape) with \(p.dtype)\(p.shape) on axis \(a)")
            }
        }
        let outer = first.shape[..<k].reduce(1, *)
        let blocks = parts.map { $0.shape[k...].reduce(1, *) }
        var shape = first.shape
        shape[k] = parts.reduce(0) { $0 + $1.shape[k] }
        switch first.storage {
        case .float32: return Tensor(shape: shape, floats: joined(parts.map(\.floats), outer, blocks))
        case .int64: return Tensor(shape: shape, int64s: joined(parts.map(\.int64s), outer, blocks))
        case .int32: return Tensor(shape: shape, int32s: joined(parts.map(\.int32s), outer, blocks))
        case .int8: return Tensor(shape: shape, int8s: joined(parts.map(\.int8s), outer, blocks))
        case .uint8: return Tensor(shape: shape, uint8s: joined(parts.map(\.uint8s), outer, blocks))
        }
    }

    /// Interleaves `outer` blocks: block `o` of array `j` has `blocks[j]` elements.
    private static func joined<T>(_ arrays: [[T]], _ outer: Int, _ blocks: [Int]) -> [T] {
        var out: [T] = []
        out.reserveCapacity(outer * blocks.reduce(0, +))
        for o in 0..<outer {
            for (a, b) in zip(arrays, blocks) { out.append(contentsOf: a[(o * b)..<((o + 1) * b)]) }
        }
        return out
    }

    /// `Split` along `axis`: sizes from the `split` attribute (opset < 13) or input #1
    /// (opset ≥ 13), else `num_outputs` (opset 18; the last chunk may be smaller), else equal parts.
    static func split(_ node: Node, _ inputs: [Tensor?], _ opset: Int) throws -> [Tensor] {
        let x = try node.required(inputs, 0)
        let k = try axis(node, try node.int("axis", default: 0), rank: x.rank)
        let dim = x.shape[k]
        let sizes: [Int]
        if opset < 13, let s = try node.ints("split") {
            sizes = s
        } else if opset >= 13, let t = node.optional(inputs, 1) {
            sizes = intList(t)
        } else if let num = try node.int("num_outputs") {
            guard num > 0, num == node.outputs.count else {
                throw OctetGraphError.badAttribute(node: node.label, attribute: "num_outputs",
                                                   reason: "must equal the node's \(node.outputs.count) outputs, got \(num)")
            }
            let chunk = (dim + num - 1) / num
            sizes = Array(repeating: chunk, count: num - 1) + [dim - chunk * (num - 1)]
        } else {
            let n = node.outputs.count
            guard n > 0, dim % n == 0 else { throw node.fail("cannot split size \(dim) into \(n) equal parts") }
            sizes = Array(repeating: dim / n, count: n)
        }
        guard sizes.count == node.outputs.count else {
            throw node.fail("split sizes \(sizes) give \(sizes.count) parts for \(node.outputs.count) outputs")
        }
        guard sizes.allSatisfy({ (0...dim).contains($0) }), sizes.reduce(0, +) == dim else {
            throw node.fail("split sizes \(sizes) do not sum to dimension \(dim) of axis \(k)")
        }
        let strides = Shape.strides(x.shape)
        var start = 0
        return sizes.map { size in
            var tables = x.shape.indices.map { AxisGather.linear(count: x.shape[$0], stride: strides[$0]) }
            tables[k] = AxisGather.linear(count: size, start: start, stride: strides[k])
            start += size
            return AxisGather(tables: tables).apply(x)
        }
    }

    /// `Slice`: `starts`/`ends`/`axes` attributes before opset 10, inputs
    /// `(data, starts, ends, axes?, steps?)` from opset 10. Negative indices count from the
    /// end; out-of-range values (e.g. INT64_MAX) are clamped; negative steps walk backwards.
    static func slice(_ node: Node, _ inputs: [Tensor?], _ opset: Int) throws -> Tensor {
        let x = try node.required(inputs, 0)
        let starts: [Int], ends: [Int], axes: [Int]?, steps: [Int]?
        if opset < 10 {
            guard let s = try node.ints("starts"), let e = try node.ints("ends") else { throw node.fail("missing starts/ends") }
            starts = s; ends = e; axes = try node.ints("axes"); steps = nil
        } else {
            starts = intList(try node.required(inputs, 1))
            ends = intList(try node.required(inputs, 2))
            axes = node.optional(inputs, 3).map(intList)
            steps = node.optional(inputs, 4).map(intList)
        }
        let axisList = axes ?? Array(0..<starts.count)
        guard ends.count == starts.count, axisList.count == starts.count, steps.map({ $0.count == starts.count }) ?? true else {
            throw node.fail("starts, ends, axes and steps must have the same length")
        }
        let strides = Shape.strides(x.shape)
        var tables = x.shape.indices.map { AxisGather.linear(count: x.shape[$0], stride: strides[$0]) }
        var seen = Set<Int>()
        for j in starts.indices {
            let k = try axis(node, axisList[j], rank: x.rank, name: "axes")
            guard seen.insert(k).inserted else { throw node.fail("axis \(axisList[j]) is repeated") }
            let step = steps?[j] ?? 1
            guard step != 0 else { throw node.fail("slice step must not be 0") }
            let (start, count) = sliceRange(start: starts[j], end: ends[j], step: step, dim: x.shape[k])
            tables[k] = AxisGather.linear(count: count, start: start, step: step, stride: strides[k])
        }
        return AxisGather(tables: tables).apply(x)
    }

    /// Clamped first index and element count of `start:end:step` on a dimension of size `dim`.
    static func sliceRange(start: Int, end: Int, step: Int, dim: Int) -> (start: Int, count: Int) {
        var s = start < 0 ? start + dim : start
        var e = end < 0 ? end + dim : end
        if step > 0 {
            s = Swift.min(Swift.max(s, 0), dim)
            e = Swift.min(Swift.max(e, 0), dim)
            return (s, e > s ? (e - s - 1) / step + 1 : 0)
        }
        s = Swift.min(Swift.max(s, 0), dim - 1)
        e = Swift.min(Swift.max(e, -1), dim - 1)
        // |step| as UInt: −Int.min does not fit in an Int
        return (s, s > e ? Int(UInt(s - e - 1) / step.magnitude) + 1 : 0)
    }
}
