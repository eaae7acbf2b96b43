import OctetTensor

/// Graph rewrites run before quantization (reference-quantizer §5): Dropout/Identity removal,
/// copies of weights shared between nodes, constant bias Adds folded into the Conv/Gemm bias,
/// MatMul with a constant weight as Gemm, and the decomposed hard-swish `x·clip(x+3, 0, 6)/6`
/// as one HardSwish node. Each pass keeps float outputs unchanged (up to float rounding).
public enum GraphCleanup {
    /// Removes Dropout (inference: identity) and Identity nodes, rewiring their consumers.
    /// A node whose output is a graph output is kept.
    public static func removeIdentities(_ graph: Graph) -> Graph {
        var g = graph
        var k = 0
        while k < g.nodes.count {
            let n = g.nodes[k]
            let extraUsed = n.outputs.dropFirst().contains { !$0.isEmpty && g.useCount(of: $0) > 0 }
            if (n.opType == "Dropout" || n.opType == "Identity"), !extraUsed,
               !g.outputs.contains(where: { $0.name == n.outputs[0] }), !n.inputs[0].isEmpty {
                g.nodes.remove(at: k)
                g.renameUses(of: n.outputs[0], to: n.inputs[0])
                continue
            }
            k += 1
        }
        return g
    }

    /// Gives every Conv / ConvTranspose / Gemm / MatMul its own copy of a weight or bias that
    /// several inputs read (vai_q_pytorch `DecoupleSharedParamsInConv`).
    public static func decoupleSharedWeights(_ graph: Graph) -> Graph {
        var g = graph
        let layers: Set<String> = ["Conv", "ConvTranspose", "Gemm", "MatMul"]
        for k in g.nodes.indices where layers.contains(g.nodes[k].opType) {
            for j in 1..<min(3, g.nodes[k].inputs.count) {
                let name = g.nodes[k].inputs[j]
                guard !name.isEmpty, let t = g.initializers[name], g.useCount(of: name) > 1 else { continue }
                let copy = g.freshName("\(name)_\(g.nodes[k].name.isEmpty ? "copy" : g.nodes[k].name)")
                g.initializers[copy] = t
                g.nodes[k].inputs[j] = copy
            }
        }
        return g
    }

    /// MatMul(x, W) with a constant 2-D W and a 2-D x → Gemm(x, Wᵀ, transB = 1).
    public static func matMulToGemm(_ graph: Graph, shapes: [String: [Int]]) -> Graph {
        var g = graph
        for k in g.nodes.indices where g.nodes[k].opType == "MatMul" {
            let n = g.nodes[k]
            guard let w = g.constantFloat(n.inputs[1]), w.rank == 2, shapes[n.inputs[0]]?.count == 2,
                  g.useCount(of: n.inputs[1]) == 1 else { continue }
            g.initializers[n.inputs[1]] = transpose2D(w)
            g.nodes[k] = Node(name: n.name, opType: "Gemm", inputs: n.inputs, outputs: n.outputs, attributes: ["transB": .int(1)])
        }
        return g
    }

    /// Gemm with constant B and C: transB → 1, alpha and beta folded into B and C, and a C that
    /// broadcasts along the rows (shape [], [1], [1, 1], [N] or [1, N]; ONNX Gemm) made the bias
    /// vector [N]. A C with one value per row ([M, 1], [M, N]) is not a bias; that Gemm is left as it is.
    public static func normalizeGemm(_ graph: Graph) throws -> Graph {
        var g = graph
        for k in g.nodes.indices where g.nodes[k].opType == "Gemm" {
            var n = g.nodes[k]
            guard try n.int("transA", default: 0) == 0, var w = g.constantFloat(n.inputs[1]), w.rank == 2,
                  g.useCount(of: n.inputs[1]) == 1 else { continue }
            let alpha = try n.float("alpha", default: 1), beta = try n.float("beta", default: 1)
            if try n.int("transB", default: 0) == 0 { w = transpose2D(w) }
            if alpha != 1 { w.withMutableFloats { p in for i in p.indices { p[i] *= alpha } } }
            if n.inputs.count > 2, !n.inputs[2].isEmpty {
                let outputs = w.shape[0]
                guard let c = g.constantFloat(n.inputs[2]), g.useCount(of: n.inputs[2]) == 1,
                      c.count == 1 || c.shape == [outputs] || c.shape == [1, outputs] else { continue }
                let values = c.count == 1 ? [Float](repeating: c.floats[0], count: outputs) : c.floats
                g.initializers[n.inputs[2]] = Tensor(shape: [outputs], floats: values.map { $0 * beta })
            }
            g.initializers[n.inputs[1]] = w
            n.attributes = ["transB": .int(1)]
            g.nodes[k] = n
        }
        return g
    }

    /// Conv / Gemm followed by Add of a per-output-channel constant (shape [C], [C,1,1], [1,C,1,1]
    /// for Conv; [C] or [1,C] for Gemm) folds the constant into the bias.
    public static func foldBiasAdd(_ graph: Graph) -> Graph {
        var g = graph
        var k = 0
        while k < g.nodes.count {
            let add = g.nodes[k]
            k += 1
            guard add.opType == "Add", add.inputs.count == 2 else { continue }
            for (xi, ci) in [(0, 1), (1, 0)] {
                let x = add.inputs[xi]
                guard let c = g.constantFloat(add.inputs[ci]), let pi = g.producerIndex(of: x), g.useCount(of: x) == 1 else { continue }
                let prod = g.nodes[pi]
                guard prod.opType == "Conv" || (prod.opType == "Gemm" && (try? prod.int("transB", default: 0)) == 1
                                                 && (try? prod.float("alpha", default: 1)) == 1),
                      let w = g.constantFloat(prod.inputs[1]), isChannelVector(c.shape, channels: w.shape[0], conv: prod.opType == "Conv")
                else { continue }
                var bias = [Float](repeating: 0, count: w.shape[0])
                if prod.inputs.count > 2, !prod.inputs[2].isEmpty {
                    guard let b = g.constantFloat(prod.inputs[2]), g.useCount(of: prod.inputs[2]) == 1 else { continue }
                    bias = b.floats
                }
                let cf = c.floats
                for i in bias.indices { bias[i] += cf[i] }
                let name = prod.inputs.count > 2 && !prod.inputs[2].isEmpty ? prod.inputs[2] : g.freshName("\(prod.name.isEmpty ? x : prod.name)_bias")
                g.initializers[name] = Tensor(shape: [bias.count], floats: bias)
                var folded = prod
                if folded.inputs.count < 3 { folded.inputs.append(name) } else { folded.inputs[2] = name }
                folded.outputs[0] = add.outputs[0]
                g.nodes[pi] = folded
                g.nodes.remove(at: k - 1)
                k -= 1
                break
            }
        }
        return g
    }

    static func isChannelVector(_ s: [Int], channels c: Int, conv: Bool) -> Bool {
        let trimmed = Array(s.drop { $0 == 1 })
        if conv { return trimmed == [c, 1, 1] || trimmed == [c] && s.count == 1 || (trimmed == [c, 1, 1] && s.count <= 4) }
        return trimmed == [c] && s.count <= 2
    }

    static func transpose2D(_ w: Tensor) -> Tensor {
        let r = w.shape[0], c = w.shape[1], src = w.floats
        var out = [Float](repeating: 0, count: src.count)
        for i in 0..<r { for j in 0..<c { out[j * r + i] = src[i * c + j] } }
        return Tensor(shape: [c, r], floats: out)
    }
}
