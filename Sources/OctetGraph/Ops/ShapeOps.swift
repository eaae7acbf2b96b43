import OctetTensor

/// Shape and data-movement ONNX operators. Reshape, Flatten, Squeeze, Unsqueeze and Shape
/// are here; Slice/Split/Concat, Transpose/Gather/Expand/Tile and Pad live in the
/// `ShapeOps+*.swift` extensions. Semantics follow the ONNX operator specs per opset.
enum ShapeOps {
    static let kernels: [String: OpKernel] = [
        "Reshape": { n, i, _ in [try reshape(n, i)] },
        "Flatten": { n, i, _ in [try flatten(n, i)] },
        "Squeeze": { n, i, o in [try squeeze(n, i, o)] },
        "Unsqueeze": { n, i, o in [try unsqueeze(n, i, o)] },
        "Shape": { n, i, _ in [try shapeOp(n, i)] },
        "Concat": { n, i, _ in [try concat(n, i)] },
        "Split": { n, i, o in try split(n, i, o) },
        "Slice": { n, i, o in [try slice(n, i, o)] },
        "Transpose": { n, i, _ in [try transpose(n, i)] },
        "Gather": { n, i, _ in [try gather(n, i)] },
        "Expand": { n, i, _ in [try expand(n, i)] },
        "Tile": { n, i, _ in [try tile(n, i)] },
        "Pad": { n, i, o in [try pad(n, i, o)] },
    ]

    /// Integer list held by a shape-like tensor (int64/int32 input such as `axes`, `pads`).
    static func intList(_ t: Tensor) -> [Int] { t.asInt64Array().map { Int($0) } }

    /// Normalises `axis` (may be negative) into `0..<rank`, or throws `badAttribute` naming the node.
    static func axis(_ node: Node, _ axis: Int, rank: Int, name: String = "axis") throws -> Int {
        let a = axis < 0 ? axis + rank : axis
        guard a >= 0 && a < rank else {
            throw OctetGraphError.badAttribute(node: node.label, attribute: name,
                                               reason: "axis \(axis) is out of range for rank \(rank)")
        }
        return a
    }

    /// Axes from the `axes` attribute (before `inputOpset`) or from input #`inputIndex` (from it;
    /// an `axes` attribute there is refused, as onnxruntime does, rather than ignored).
    static func axesArgument(_ node: Node, _ inputs: [Tensor?], opset: Int, inputOpset: Int,
                             inputIndex: Int) throws -> [Int]? {
        if opset < inputOpset { return try node.ints("axes") }
        guard node.attributes["axes"] == nil else {
            throw OctetGraphError.badAttribute(node: node.label, attribute: "axes",
                                               reason: "from opset \(inputOpset) axes is an input, not an attribute (the model's opset is \(opset))")
        }
        return node.optional(inputs, inputIndex).map(intList)
    }

    /// `Reshape`: a 0 copies the input dimension (unless `allowzero`=1), one -1 is inferred.
    static func reshape(_ node: Node, _ inputs: [Tensor?]) throws -> Tensor {
        let x = try node.required(inputs, 0)
        let requested: [Int]
        if let s = node.optional(inputs, 1) { requested = intList(s) } else if let s = try node.ints("shape") {
            requested = s
        } else { throw node.fail("missing shape input") }
        let allowZero = try node.int("allowzero", default: 0) != 0
        var shape = requested
        var inferred: Int?
        for (k, d) in requested.enumerated() {
            if d == 0 && !allowZero {
                guard k < x.rank else { throw node.fail("shape \(requested): 0 at axis \(k) but input rank is \(x.rank)") }
                shape[k] = x.shape[k]
            } else if d == -1 {
                guard inferred == nil else { throw node.fail("shape \(requested) has more than one -1") }
                inferred = k
            } else if d < 0 {
                throw node.fail("shape \(requested) has invalid dimension \(d)")
            }
        }
        if let k = inferred {
            let known = shape.enumerated().filter { $0.offset != k }.reduce(1) { $0 * $1.element }
            guard known > 0, x.count % known == 0 else {
                throw node.fail("cannot reshape \(x.shape) to \(requested)")
            }
            shape[k] = x.count / known
        }
        guard Tensor.elementCount(shape) == x.count else { throw node.fail("cannot reshape \(x.shape) to \(requested)") }
        return try x.reshaped(shape)
    }

    /// `Flatten` to 2-D `[prod(d[..<axis]), prod(d[axis...])]`; `axis` in `[-r, r]`, default 1.
    static func flatten(_ node: Node, _ inputs: [Tensor?]) throws -> Tensor {
        let x = try node.required(inputs, 0)
        let a = try node.int("axis", default: 1)
        let axis = a < 0 ? a + x.rank : a
        guard axis >= 0 && axis <= x.rank else {
            throw OctetGraphError.badAttribute(node: node.label, attribute: "axis",
                                               reason: "axis \(a) is out of range for rank \(x.rank)")
        }
        let outer = x.shape[..<axis].reduce(1, *)
        return try x.reshaped([outer, x.shape[axis...].reduce(1, *)])
    }

    /// `Squeeze`: drops the listed size-1 axes, or every size-1 axis when none are given.
    static func squeeze(_ node: Node, _ inputs: [Tensor?], _ opset: Int) throws -> Tensor {
        let x = try node.required(inputs, 0)
        let given = try axesArgument(node, inputs, opset: opset, inputOpset: 13, inputIndex: 1)
        var drop = Set<Int>()
        if let given {
            for a in given {
                let k = try axis(node, a, rank: x.rank, name: "axes")
                guard x.shape[k] == 1 else { throw node.fail("cannot squeeze axis \(a) of size \(x.shape[k])") }
                drop.insert(k)
            }
        } else {
            drop = Set(x.shape.indices.filter { x.shape[$0] == 1 })
        }
        return try x.reshaped(x.shape.indices.filter { !drop.contains($0) }.map { x.shape[$0] })
    }

    /// `Unsqueeze`: inserts size-1 axes at `axes`, which index the output rank.
    static func unsqueeze(_ node: Node, _ inputs: [Tensor?], _ opset: Int) throws -> Tensor {
        let x = try node.required(inputs, 0)
        guard let given = try axesArgument(node, inputs, opset: opset, inputOpset: 13, inputIndex: 1) else {
            throw node.fail("missing axes")
        }
        let rank = x.rank + given.count
        let axes = Set(try given.map { try axis(node, $0, rank: rank, name: "axes") })
        guard axes.count == given.count else { throw node.fail("duplicate axes \(given)") }
        var shape: [Int] = []
        var next = 0
        for k in 0..<rank {
            if axes.contains(k) { shape.append(1) } else { shape.append(x.shape[next]); next += 1 }
        }
        return try x.reshaped(shape)
    }

    /// `Shape`: int64 dims of the input, sliced by `start`/`end` (opset 15; clamped like Slice).
    static func shapeOp(_ node: Node, _ inputs: [Tensor?]) throws -> Tensor {
        let x = try node.required(inputs, 0)
        let r = x.rank
        func clampIndex(_ v: Int) -> Int { Swift.min(Swift.max(v < 0 ? v + r : v, 0), r) }
        let start = clampIndex(try node.int("start", default: 0))
        let end = clampIndex(try node.int("end") ?? r)
        let dims = start < end ? Array(x.shape[start..<end]) : []
        return Tensor(shape: [dims.count], int64s: dims.map { Int64($0) })
    }
}
