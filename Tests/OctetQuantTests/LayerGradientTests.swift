import OctetGraph
import OctetTensor
import XCTest

/// Finite-difference checks of every `LayerGradient`: loss L = Σ Y·R for a fixed random R, so
/// dL/dY = R; each analytic gradient is compared with central differences (float32, ε = 1e-2,
/// the loss accumulated in Double), relative error ‖g − g_fd‖ / ‖g_fd‖ < 1e-2.
final class LayerGradientTests: XCTestCase {
    struct RNG { var s: UInt64; mutating func next() -> Float {
        s &+= 0x9E3779B97F4A7C15; var z = s
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9; z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return Float(Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)) * 2 - 1
    } }

    func random(_ shape: [Int], _ r: inout RNG) -> Tensor {
        Tensor(shape: shape, floats: (0..<shape.reduce(1, *)).map { _ in r.next() })
    }

    func loss(_ layer: LayerGradient, _ x: Tensor, _ r: Tensor) throws -> Double {
        let y = try layer.forward(x).floats, rv = r.floats
        return zip(y, rv).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }

    func relativeError(_ a: [Float], _ b: [Double]) -> Double {
        var num = 0.0, den = 0.0
        for i in a.indices { num += (Double(a[i]) - b[i]) * (Double(a[i]) - b[i]); den += b[i] * b[i] }
        return (num / max(den, 1e-30)).squareRoot()
    }

    /// Central differences of the loss with respect to every element of `t` (set through `set`).
    func numeric(_ t: Tensor, _ set: (Tensor) -> Void, _ f: () throws -> Double) rethrows -> [Double] {
        let eps: Float = 1e-2
        var out = [Double](repeating: 0, count: t.count)
        for i in 0..<t.count {
            var p = t, m = t
            p.withMutableFloats { $0[i] += eps }; m.withMutableFloats { $0[i] -= eps }
            set(p); let lp = try f()
            set(m); let lm = try f()
            out[i] = (lp - lm) / Double(2 * eps)
        }
        set(t)
        return out
    }

    func check(_ layer: LayerGradient, input shape: [Int], seed: UInt64, file: StaticString = #filePath, line: UInt = #line) throws {
        var rng = RNG(s: seed)
        var x = random(shape, &rng)
        let y = try layer.forward(x)
        let r = random(y.shape, &rng)
        _ = try layer.forward(x)
        let g = try layer.backward(r, inputGradient: true)
        let dx = try numeric(x, { x = $0 }) { try loss(layer, x, r) }
        XCTAssertLessThan(relativeError(g.input!.floats, dx), 1e-2, "dX", file: file, line: line)
        if let w = layer.weight {
            let dw = try numeric(w, { layer.weight = $0 }) { try loss(layer, x, r) }
            XCTAssertLessThan(relativeError(g.weight!.floats, dw), 1e-2, "dW", file: file, line: line)
        }
        if let b = layer.bias {
            let db = try numeric(b, { layer.bias = $0 }) { try loss(layer, x, r) }
            XCTAssertLessThan(relativeError(g.bias!.floats, db), 1e-2, "dB", file: file, line: line)
        }
    }

    func conv(_ attrs: [String: Attribute], w: [Int], seed: UInt64) -> ConvGradient {
        var rng = RNG(s: seed)
        let node = Node(name: "c", opType: "Conv", inputs: ["x", "w", "b"], outputs: ["y"], attributes: attrs)
        return ConvGradient(node: node, weight: random(w, &rng), bias: random([w[0]], &rng))
    }

    func testConvGeneralStridePadDilation() throws {
        let l = conv(["strides": .ints([2, 1]), "pads": .ints([1, 0, 1, 2]), "dilations": .ints([1, 2])], w: [4, 3, 3, 2], seed: 1)
        try check(l, input: [2, 3, 7, 6], seed: 11)
    }

    func testConvGroups() throws {
        try check(conv(["group": .int(2), "pads": .ints([1, 1, 1, 1])], w: [4, 2, 3, 3], seed: 2), input: [2, 4, 5, 5], seed: 12)
    }

    func testConvDepthwise() throws {
        let l = conv(["group": .int(3), "strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1])], w: [3, 1, 3, 3], seed: 3)
        try check(l, input: [2, 3, 6, 7], seed: 13)
    }

    func testConvDepthwiseStrideOneDilatedAsymmetricPads() throws {
        let l = conv(["group": .int(3), "dilations": .ints([2, 1]), "pads": .ints([0, 2, 1, 0])], w: [3, 1, 3, 2], seed: 21)
        try check(l, input: [2, 3, 6, 7], seed: 22)
    }

    func testConvDepthwiseStrideThree() throws {
        let l = conv(["group": .int(2), "strides": .ints([3, 3]), "pads": .ints([1, 1, 1, 1])], w: [2, 1, 3, 3], seed: 23)
        try check(l, input: [1, 2, 8, 10], seed: 24)
    }

    func testConvPointwiseGroups() throws {
        try check(conv(["group": .int(2)], w: [6, 2, 1, 1], seed: 25), input: [2, 4, 3, 3], seed: 26)
    }

    func testConvDepthwiseChannelMultiplier() throws {
        try check(conv(["group": .int(2)], w: [4, 1, 2, 2], seed: 4), input: [1, 2, 4, 4], seed: 14)
    }

    func testConvPointwise() throws {
        try check(conv([:], w: [5, 3, 1, 1], seed: 5), input: [2, 3, 3, 4], seed: 15)
    }

    func testConvTranspose() throws {
        var rng = RNG(s: 6)
        let node = Node(name: "t", opType: "ConvTranspose", inputs: ["x", "w", "b"], outputs: ["y"],
                        attributes: ["strides": .ints([2, 2]), "pads": .ints([1, 0, 0, 1]), "group": .int(2)])
        let l = ConvTransposeGradient(node: node, weight: random([4, 3, 3, 3], &rng), bias: random([6], &rng))
        try check(l, input: [2, 4, 3, 4], seed: 16)
    }

    func testGemmBothLayouts() throws {
        var rng = RNG(s: 7)
        for transB in [0, 1] {
            let node = Node(name: "g", opType: "Gemm", inputs: ["x", "w", "b"], outputs: ["y"], attributes: ["transB": .int(transB)])
            let l = try GemmGradient(node: node, weight: random(transB == 1 ? [5, 6] : [6, 5], &rng), bias: random([5], &rng))
            try check(l, input: [3, 6], seed: 17 + UInt64(transB))
        }
    }

    func testActivations() throws {
        // Inputs away from the kinks (|x| ≥ 0.05 from 0 and from the clip bounds) so differences are smooth.
        for kind: ActivationGradient.Kind in [.clamp(lo: 0, hi: .infinity), .clamp(lo: 0, hi: 0.5), .leaky(alpha: 0.1)] {
            let l = ActivationGradient(node: Node(name: "a", opType: "Relu", inputs: ["x"], outputs: ["y"]), kind: kind)
            var x = Tensor(shape: [40], floats: (0..<40).map { Float($0) * 0.05 - 0.975 })
            let r = Tensor(shape: [40], floats: (0..<40).map { Float(($0 * 7) % 11) - 5 })
            _ = try l.forward(x)
            let g = try l.backward(r, inputGradient: true)
            let fd = try numeric(x, { x = $0 }) { try loss(l, x, r) }
            XCTAssertLessThan(relativeError(g.input!.floats, fd), 1e-2, "\(kind)")
        }
    }

    func testHardSwishAndHardSigmoid() throws {
        // Inputs spread over −4.9 … 4.9, away from the kinks at ±3 (HardSwish) and ±2.5 (HardSigmoid).
        let xs = (0..<40).map { Float($0) * 0.25 - 4.875 }
        for kind: ActivationGradient.Kind in [.hardSwish, .hardSigmoid(alpha: 0.2, beta: 0.5)] {
            let op = kind == .hardSwish ? "HardSwish" : "HardSigmoid"
            let node = Node(name: "a", opType: op, inputs: ["x"], outputs: ["y"])
            let l = try XCTUnwrap(try Differentiable.layer(for: node, in: Graph(name: "g", nodes: [node], initializers: [:],
                                                                                 inputs: [], outputs: [])) as? ActivationGradient)
            XCTAssertEqual(l.kind, kind)
            var x = Tensor(shape: [40], floats: xs)
            let r = Tensor(shape: [40], floats: (0..<40).map { Float(($0 * 7) % 11) - 5 })
            _ = try l.forward(x)
            let g = try l.backward(r, inputGradient: true)
            let fd = try numeric(x, { x = $0 }) { try loss(l, x, r) }
            XCTAssertLessThan(relativeError(g.input!.floats, fd), 1e-2, op)
        }
    }

    func testHandWorkedDepthwiseWeightGradient() throws {
        // 1 channel, 2×2 input, 1×1 kernel w = 3: y = 3x, dW = Σ dY·x, dX = 3·dY, dB = Σ dY.
        let node = Node(name: "d", opType: "Conv", inputs: ["x", "w", "b"], outputs: ["y"], attributes: ["group": .int(1)])
        let l = ConvGradient(node: node, weight: Tensor(shape: [1, 1, 1, 1], floats: [3]), bias: Tensor(shape: [1], floats: [0]))
        _ = try l.forward(Tensor(shape: [1, 1, 2, 2], floats: [1, 2, 3, 4]))
        let g = try l.backward(Tensor(shape: [1, 1, 2, 2], floats: [1, 0, -1, 2]), inputGradient: true)
        XCTAssertEqual(g.weight!.floats, [6])   // 1·1 + 0·2 − 1·3 + 2·4
        XCTAssertEqual(g.bias!.floats, [2])
        XCTAssertEqual(g.input!.floats, [3, 0, -3, 6])
    }

    func testBackwardBeforeForwardThrows() {
        let l = conv([:], w: [1, 1, 1, 1], seed: 9)
        XCTAssertThrowsError(try l.backward(Tensor(shape: [1, 1, 1, 1], floats: [1]), inputGradient: false))
    }
}
