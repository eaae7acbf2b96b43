import OctetGraph
import OctetTensor

/// Hand-built graphs for the PTQ tests.
enum PTQTestGraphs {
    static func info(_ name: String, _ shape: [Int]) -> ValueInfo {
        ValueInfo(name: name, dtype: .float32, dims: shape.map { .fixed($0) })
    }

    /// x [1,1,2,2] → Conv(2×2, w = [0.5, 0.25, −0.125, 1], b = 0.1) → y [1,1,1,1], optionally then `activation`.
    static func oneConv(activation: String? = nil, alpha: Float = 0.1) -> Graph {
        var nodes = [Node(name: "conv", opType: "Conv", inputs: ["x", "w", "b"], outputs: ["c"],
                          attributes: ["kernel_shape": .ints([2, 2])])]
        var out = "c"
        if let a = activation {
            nodes.append(Node(name: "act", opType: a, inputs: ["c"], outputs: ["y"],
                              attributes: a == "LeakyRelu" ? ["alpha": .float(alpha)] : [:]))
            out = "y"
        }
        return Graph(name: "one_conv", nodes: nodes,
                     initializers: ["w": Tensor(shape: [1, 1, 2, 2], floats: [0.5, 0.25, -0.125, 1.0]),
                                    "b": Tensor(shape: [1], floats: [0.1])],
                     inputs: [info("x", [1, 1, 2, 2])], outputs: [info(out, [1, 1, 1, 1])])
    }

    static let oneConvInput = Tensor(shape: [1, 1, 2, 2], floats: [0.5, -0.25, 0.75, 1.0])

    /// Deterministic pseudo-random floats in [lo, hi).
    static func values(_ n: Int, seed: UInt64, lo: Float = -1, hi: Float = 1) -> [Float] {
        var s = seed &* 6364136223846793005 &+ 1442695040888963407
        return (0..<n).map { _ in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return lo + (hi - lo) * Float(s >> 40) / Float(1 << 24)
        }
    }

    static func bnParams(_ prefix: String, _ c: Int, seed: UInt64) -> [String: Tensor] {
        ["\(prefix)_s": Tensor(shape: [c], floats: values(c, seed: seed, lo: 0.5, hi: 1.5)),
         "\(prefix)_b": Tensor(shape: [c], floats: values(c, seed: seed + 1)),
         "\(prefix)_m": Tensor(shape: [c], floats: values(c, seed: seed + 2)),
         "\(prefix)_v": Tensor(shape: [c], floats: values(c, seed: seed + 3, lo: 0.2, hi: 2))]
    }

    static func bn(_ prefix: String, _ x: String, _ y: String) -> Node {
        Node(name: prefix, opType: "BatchNormalization", inputs: [x, "\(prefix)_s", "\(prefix)_b", "\(prefix)_m", "\(prefix)_v"],
             outputs: [y], attributes: ["epsilon": .float(1e-3)])
    }

    /// Conv(3→4, 3×3, no bias) → BN → BN → Relu; a second branch Conv → BN whose conv output also
    /// feeds an Add (not foldable); ConvTranspose → BN; Dropout; a Gemm → BN head.
    static func bnGraph() -> Graph {
        var ini: [String: Tensor] = [
            "w1": Tensor(shape: [4, 3, 3, 3], floats: values(108, seed: 1)),
            "w2": Tensor(shape: [4, 4, 1, 1], floats: values(16, seed: 2)),
            "wt": Tensor(shape: [4, 2, 2, 2], floats: values(32, seed: 3)),
            "wg": Tensor(shape: [5, 32], floats: values(160, seed: 4)), "bg": Tensor(shape: [5], floats: values(5, seed: 5)),
        ]
        for (p, c, s) in [("bn1", 4, 10), ("bn2", 4, 20), ("bn3", 4, 30), ("bn4", 2, 40), ("bn5", 5, 50)] {
            ini.merge(bnParams(p, c, seed: UInt64(s))) { a, _ in a }
        }
        let nodes = [
            Node(name: "conv1", opType: "Conv", inputs: ["x", "w1"], outputs: ["c1"], attributes: ["pads": .ints([1, 1, 1, 1])]),
            bn("bn1", "c1", "b1"), bn("bn2", "b1", "b2"),
            Node(name: "relu1", opType: "Relu", inputs: ["b2"], outputs: ["r1"]),
            Node(name: "drop", opType: "Dropout", inputs: ["r1"], outputs: ["d1"]),
            Node(name: "conv2", opType: "Conv", inputs: ["d1", "w2"], outputs: ["c2"]),
            bn("bn3", "c2", "b3"),
            Node(name: "add", opType: "Add", inputs: ["b3", "c2"], outputs: ["a"]),
            Node(name: "convt", opType: "ConvTranspose", inputs: ["a", "wt"], outputs: ["t"], attributes: ["strides": .ints([2, 2])]),
            bn("bn4", "t", "b4"),
            Node(name: "flat", opType: "Flatten", inputs: ["a"], outputs: ["f"]),
            Node(name: "fc", opType: "Gemm", inputs: ["f", "wg", "bg"], outputs: ["g"], attributes: ["transB": .int(1)]),
            bn("bn5", "g", "y"),
        ]
        return Graph(name: "bn_graph", nodes: nodes, initializers: ini, inputs: [info("x", [1, 3, 2, 4])],
                     outputs: [info("b4", [1, 2, 4, 8]), info("y", [1, 5])])
    }
}
