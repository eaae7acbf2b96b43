import OctetTensor

/// Static shapes and constant folding for graphs whose inputs have fixed shapes.
///
/// One dry run on zero inputs (on ones when zeros make a node fail, as an integer division by a
/// cast input does) records every tensor's shape; `Shape` nodes then become
/// constants and every node whose inputs are all constant (the Gather/Concat/Cast/
/// Unsqueeze/... chains exported PyTorch and Paddle models compute shapes with) is
/// evaluated once and replaced by its result.
public enum ShapeFolding {
    public struct Prepared {
        public var graph: Graph
        public var shapes: [String: [Int]]
    }

    /// - Throws: `OctetGraphError.symbolicDim` when an input still has a symbolic dimension,
    ///   or the executor's errors naming the node (on zero inputs, said so).
    public static func prepare(_ graph: Graph) throws -> Prepared {
        var shapes: [String: [Int]]
        do {
            shapes = try dryRun(graph, fill: 0)
        } catch let zeros as OctetGraphError {
            guard case .execution(let node, let reason) = zeros else { throw zeros }
            // The tensor shapes do not depend on the values; zeros may fail where data does not.
            do {
                shapes = try dryRun(graph, fill: 1)
            } catch let ones as OctetGraphError where ones.description != zeros.description {
                throw OctetGraphError.execution(node: node, reason: "\(reason) (running the model once on all-zero inputs to find its tensor shapes)")
            }
        }
        let folded = try fold(graph, shapes: shapes)
        return Prepared(graph: folded, shapes: shapes)
    }

    /// Every tensor's shape after one run with each input filled with `fill`.
    static func dryRun(_ graph: Graph, fill: Float) throws -> [String: [Int]] {
        var feeds: [String: Tensor] = [:]
        for input in graph.inputs {
            guard let shape = input.shape else {
                let d = input.dims.first { $0.value == nil }!
                throw OctetGraphError.symbolicDim(input: input.name, dim: d.description)
            }
            feeds[input.name] = fill == 0 ? Tensor(zeros: shape, dtype: input.dtype)
                : Tensor(shape: shape, floats: Array(repeating: fill, count: Tensor.elementCount(shape))).converted(to: input.dtype)
        }
        var shapes: [String: [Int]] = [:]
        for (k, v) in graph.initializers { shapes[k] = v.shape }
        for (k, v) in feeds { shapes[k] = v.shape }
        _ = try Executor(graph: graph).run(feeds) { _, node, outs in
            for (name, t) in zip(node.outputs, outs) { shapes[name] = t.shape }
        }
        return shapes
    }

    /// Replaces Shape nodes by constants and evaluates all-constant nodes.
    static func fold(_ graph: Graph, shapes: [String: [Int]]) throws -> Graph {
        var g = graph
        var kept: [Node] = []
        for node in g.nodes {
            if node.opType == "Shape", let s = shapes[node.inputs[0]] {
                let start = try node.int("start", default: 0), end = try node.int("end", default: s.count)
                let lo = max(0, start < 0 ? start + s.count : start), hi = min(s.count, end < 0 ? end + s.count : end)
                let dims = lo < hi ? Array(s[lo..<hi]) : []
                g.initializers[node.outputs[0]] = Tensor(shape: [dims.count], int64s: dims.map(Int64.init))
                continue
            }
            let constant = !node.inputs.isEmpty && node.inputs.allSatisfy { $0.isEmpty || g.initializers[$0] != nil }
            if constant, let k = OpRegistry.kernels[node.opType], !neverFold.contains(node.opType) {
                let outs = try k(node, node.inputs.map { $0.isEmpty ? nil : g.initializers[$0] }, g.opset)
                for (name, t) in zip(node.outputs, outs) where !name.isEmpty { g.initializers[name] = t }
                continue
            }
            kept.append(node)
        }
        g.nodes = kept
        return removeUnusedInitializers(g)
    }

    /// Ops left in place even with constant inputs (random or large outputs).
    static let neverFold: Set<String> = ["RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike"]

    static func removeUnusedInitializers(_ graph: Graph) -> Graph {
        var g = graph
        var used = Set(g.outputs.map(\.name))
        for n in g.nodes { used.formUnion(n.inputs) }
        g.initializers = g.initializers.filter { used.contains($0.key) }
        return g
    }
}
