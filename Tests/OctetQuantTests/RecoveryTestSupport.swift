import Foundation
import OctetGraph
import OctetTensor
import XCTest

/// Small graphs with seeded random weights for the accuracy-recovery tests.
struct TinyNet {
    var nodes: [Node] = []
    var inits: [String: Tensor] = [:]
    var rng: UInt64

    init(seed: UInt64) { rng = seed }

    mutating func uniform() -> Float {
        rng &+= 0x9E3779B97F4A7C15
        var z = rng
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9; z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return Float(Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)) * 2 - 1
    }

    mutating func random(_ shape: [Int], scale: Float = 1) -> Tensor {
        Tensor(shape: shape, floats: (0..<shape.reduce(1, *)).map { _ in uniform() * scale })
    }

    /// Conv with a random (or given) weight and bias; per-channel weight scales vary by `spread`.
    mutating func conv(_ name: String, _ x: String, out: Int, in c: Int, k: Int, group: Int = 1, pad: Int = 0,
                       spread: Float = 1, weight: Tensor? = nil) -> String {
        var w = weight ?? random([out, c / group, k, k])
        if weight == nil, spread != 1 {
            let per = w.count / out
            w.withMutableFloats { p in for i in p.indices { p[i] *= Foundation.pow(spread, Float(i / per) / Float(max(out - 1, 1))) } }
        }
        inits[name + "_w"] = w
        inits[name + "_b"] = random([out], scale: 0.1)
        nodes.append(Node(name: name, opType: "Conv", inputs: [x, name + "_w", name + "_b"], outputs: [name + "_y"],
                          attributes: ["group": .int(group), "pads": .ints([pad, pad, pad, pad]), "kernel_shape": .ints([k, k])]))
        return name + "_y"
    }

    mutating func gemm(_ name: String, _ x: String, out: Int, in k: Int, weight: Tensor? = nil) -> String {
        inits[name + "_w"] = weight ?? random([out, k])
        inits[name + "_b"] = random([out], scale: 0.1)
        nodes.append(Node(name: name, opType: "Gemm", inputs: [x, name + "_w", name + "_b"], outputs: [name + "_y"],
                          attributes: ["transB": .int(1)]))
        return name + "_y"
    }

    mutating func op(_ name: String, _ type: String, _ x: String, _ attrs: [String: Attribute] = [:], extra: [String] = []) -> String {
        nodes.append(Node(name: name, opType: type, inputs: [x] + extra, outputs: [name + "_y"], attributes: attrs))
        return name + "_y"
    }

    mutating func clip(_ name: String, _ x: String, _ lo: Float, _ hi: Float) -> String {
        inits[name + "_lo"] = Tensor(scalar: lo); inits[name + "_hi"] = Tensor(scalar: hi)
        return op(name, "Clip", x, extra: [name + "_lo", name + "_hi"])
    }

    func graph(input shape: [Int], output: String) -> Graph {
        Graph(name: "tiny", nodes: nodes, initializers: inits,
              inputs: [ValueInfo(name: "x", dtype: .float32, dims: shape.map { .fixed($0) })],
              outputs: [ValueInfo(name: output, dtype: .float32, dims: [])])
    }

    mutating func data(_ shape: [Int], scale: Float = 1) -> Tensor { random(shape, scale: scale) }
}

func maxRelativeError(_ a: Tensor, _ b: Tensor) -> Float {
    let x = a.floats, y = b.floats
    let scale = max(x.map { abs($0) }.max() ?? 0, 1e-12)
    return zip(x, y).map { abs($0 - $1) }.max()! / scale
}
