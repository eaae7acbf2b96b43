import OctetTensor

/// Recognises the decomposed hard-swish exporters emit, `Div(Mul(x, Clip(Add(x, 3), 0, 6)), 6)`
/// (or `Mul(…, 1/6)`, or `Mul(x, HardSigmoid(x; 1/6, 1/2))`), and replaces it by one ONNX HardSwish node (`x · max(0, min(1, x/6 + 1/2))`,
/// the same function) so it is quantized as the DPU's hard-swish (reference-quantizer §4.2).
public enum HardSwishFusion {
    public static func run(_ graph: Graph) -> Graph {
        var g = graph
        var k = 0
        while k < g.nodes.count {
            if let match = matchTail(g, k) {
                let tail = g.nodes[k]
                let remove = Set(match.removed)
                let x = match.x
                g.nodes[k] = Node(name: tail.name, opType: "HardSwish", inputs: [x], outputs: [tail.outputs[0]])
                let before = g.nodes.count
                g.nodes = g.nodes.enumerated().filter { !remove.contains($0.offset) }.map(\.element)
                k -= remove.filter { $0 < k }.count
                _ = before
            }
            k += 1
        }
        return g
    }

    /// For a Div-by-6 or Mul-by-1/6 node at `k`, the shared input x and the indices of the
    /// Add, Clip and Mul nodes to remove.
    static func matchTail(_ g: Graph, _ k: Int) -> (x: String, removed: [Int])? {
        let tail = g.nodes[k]
        guard tail.inputs.count == 2 else { return nil }
        if let m = matchHardSigmoidProduct(g, k) { return m }
        let isDiv6 = tail.opType == "Div" && g.scalarConstant(tail.inputs[1]).map { $0 == 6 } == true
        let isMul6 = tail.opType == "Mul" && g.scalarConstant(tail.inputs[1]).map { abs($0 - 1 / 6) < 1e-6 } == true
        guard isDiv6 || isMul6 else { return nil }
        let m = tail.inputs[0]
        guard g.useCount(of: m) == 1, let mi = g.producerIndex(of: m), g.nodes[mi].opType == "Mul" else { return nil }
        let mul = g.nodes[mi]
        for (xi, ci) in [(0, 1), (1, 0)] {
            let x = mul.inputs[xi], cl = mul.inputs[ci]
            guard g.useCount(of: cl) == 1, let clipI = g.producerIndex(of: cl), g.nodes[clipI].opType == "Clip",
                  let (lo, hi) = g.clipBounds(g.nodes[clipI]), lo == 0, hi == 6 else { continue }
            let a = g.nodes[clipI].inputs[0]
            guard g.useCount(of: a) == 1, let addI = g.producerIndex(of: a), g.nodes[addI].opType == "Add" else { continue }
            let add = g.nodes[addI]
            let three = add.inputs[0] == x ? add.inputs[1] : add.inputs[1] == x ? add.inputs[0] : ""
            guard !three.isEmpty, g.scalarConstant(three) == 3 else { continue }
            return (x, [addI, clipI, mi])
        }
        return nil
    }

    /// `Mul(x, HardSigmoid(x; alpha 1/6, beta 1/2))` at `k` (as `ONNXExporter` writes HardSwish for
    /// opset < 14): x and the HardSigmoid node's index.
    static func matchHardSigmoidProduct(_ g: Graph, _ k: Int) -> (x: String, removed: [Int])? {
        let tail = g.nodes[k]
        guard tail.opType == "Mul", tail.domain.isEmpty else { return nil }
        for (xi, hi) in [(0, 1), (1, 0)] {
            let x = tail.inputs[xi], h = tail.inputs[hi]
            guard g.useCount(of: h) == 1, let si = g.producerIndex(of: h) else { continue }
            let hs = g.nodes[si]
            guard hs.opType == "HardSigmoid", hs.domain.isEmpty, hs.inputs.first == x,
                  let alpha = try? hs.float("alpha", default: 0.2), let beta = try? hs.float("beta", default: 0.5),
                  abs(alpha - 1 / 6) < 1e-6, beta == 0.5 else { continue }
            return (x, [si])
        }
        return nil
    }
}
