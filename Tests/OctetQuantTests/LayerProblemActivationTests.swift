import OctetGraph
@testable import OctetQuant
import OctetTensor
import XCTest

/// The activation a reconstruction problem applies after a group without a fused one: the
/// loss of `LayerProblem` against the mean squared difference of HardSwish / HardSigmoid of the
/// two conv outputs, computed here in Double from the model's own conv outputs.
final class LayerProblemActivationTests: XCTestCase {
    func site(_ t: TinyNet, activation next: String, attrs: [String: Attribute]) throws
        -> (LayerSite, Graph, Tensor, Tensor) {
        var t = t
        let y = t.conv("c", "x", out: 4, in: 3, k: 3, pad: 1)
        let out = t.op("a", next, y, attrs)
        let g = t.graph(input: [2, 3, 5, 5], output: out)
        let x = t.data([2, 3, 5, 5], scale: 3), noise = t.data([2, 3, 5, 5], scale: 0.2)
        var xq = x
        xq.withMutableFloats { p in noise.withFloats { n in for i in p.indices { p[i] += n[i] } } }
        var a = QuantNodeAnnotation(node: "c", opType: "Conv", kind: .conv, device: .dpu)
        a.activation = FusedActivation.none
        let s = LayerSite(index: 0, node: g.nodes[0], annotation: a, floatInput: [x], quantInput: [xq],
                          weightParams: try QuantParams(fixPos: 7), biasParams: nil, graph: g, config: QConfig())
        return (s, g, x, xq)
    }

    /// Mean over all elements of (f(conv(xq)) − f(conv(x)))², the conv run by the model itself.
    func expectedLoss(_ g: Graph, _ x: Tensor, _ xq: Tensor, _ f: (Double) -> Double) throws -> Double {
        var convOnly = g
        convOnly.nodes = [g.nodes[0]]
        convOnly.outputs = [ValueInfo(name: "c_y", dtype: .float32, dims: [])]
        let m = try Model(graph: convOnly, batchSize: 2)
        let a = try m.run(["x": x])["c_y"]!.floats, b = try m.run(["x": xq])["c_y"]!.floats
        return zip(a, b).reduce(0.0) { $0 + (f(Double($1.1)) - f(Double($1.0))) * (f(Double($1.1)) - f(Double($1.0))) } / Double(a.count)
    }

    func testHardSwishAndHardSigmoidFollowingTheGroup() throws {
        let hardSwish = { (v: Double) in v * min(max(v / 6 + 0.5, 0), 1) }
        let cases: [(String, [String: Attribute], (Double) -> Double)] = [
            ("HardSwish", [:], hardSwish),
            ("HardSigmoid", ["alpha": .float(0.25), "beta": .float(0.4)], { min(max(0.25 * $0 + 0.4, 0), 1) }),
        ]
        for (op, attrs, f) in cases {
            let (s, g, x, xq) = try site(TinyNet(seed: 31), activation: op, attrs: attrs)
            let through = try LayerProblem(site: s, graph: g, following: [op])
            let plain = try LayerProblem(site: s, graph: g)
            let w = through.floatWeight, b = through.floatBias
            let got = try through.evaluate(weight: w, bias: b, chunks: [0], gradients: false).loss
            let want = try expectedLoss(g, x, xq, f)
            XCTAssertEqual(got, want, accuracy: want * 1e-4, op)
            let pre = try plain.evaluate(weight: w, bias: b, chunks: [0], gradients: false).loss
            XCTAssertEqual(pre, try expectedLoss(g, x, xq, { $0 }), accuracy: pre * 1e-4, "\(op): not followed")
            XCTAssertGreaterThan(abs(pre - got), want * 0.01, "\(op) changed nothing")
            // The conv output also a graph output: it is read as it is, so it is reconstructed as it is.
            var s2 = s
            s2.graph.outputs.append(ValueInfo(name: "c_y", dtype: .float32, dims: []))
            let asOutput = try LayerProblem(site: s2, graph: s2.graph, following: [op])
            XCTAssertEqual(try asOutput.evaluate(weight: w, bias: b, chunks: [0], gradients: false).loss, pre, "\(op): graph output")
        }
    }
}
