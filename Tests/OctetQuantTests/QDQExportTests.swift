import Foundation
import XCTest
@testable import OctetGraph
@testable import OctetQuant
import OctetTensor
import OctetTestSupport

/// QDQ export of a hand-built quantized conv graph, re-imported into Octet's float executor
/// (QuantizeLinear / DequantizeLinear float kernels) and compared with the integer evaluation.
final class QDQExportTests: XCTestCase {
    /// x [1, 2, 6, 6] → Conv 3×3 + Relu → Conv 1×1 + LeakyRelu(0.1) → GlobalAveragePool → Flatten → Gemm.
    static func floatModel() throws -> Model {
        func t(_ shape: [Int], _ seed: Int) -> Tensor {
            Tensor(shape: shape, floats: (0..<shape.reduce(1, *)).map { Float(sin(Double($0 * 7 + seed))) * 0.6 })
        }
        let nodes = [
            Node(name: "conv1", opType: "Conv", inputs: ["x", "w1", "b1"], outputs: ["c1"],
                 attributes: ["pads": .ints([1, 1, 1, 1]), "kernel_shape": .ints([3, 3])]),
            Node(name: "relu1", opType: "Relu", inputs: ["c1"], outputs: ["r1"]),
            Node(name: "conv2", opType: "Conv", inputs: ["r1", "w2", "b2"], outputs: ["c2"]),
            Node(name: "leaky2", opType: "LeakyRelu", inputs: ["c2"], outputs: ["l2"], attributes: ["alpha": .float(0.1)]),
            Node(name: "gap", opType: "GlobalAveragePool", inputs: ["l2"], outputs: ["g"]),
            Node(name: "flat", opType: "Flatten", inputs: ["g"], outputs: ["f"]),
            Node(name: "fc", opType: "Gemm", inputs: ["f", "fcw", "fcb"], outputs: ["y"], attributes: ["transB": .int(1)]),
        ]
        let g = Graph(name: "qdq_test", nodes: nodes,
                      initializers: ["w1": t([3, 2, 3, 3], 1), "b1": t([3], 2), "w2": t([2, 3, 1, 1], 3), "b2": t([2], 4),
                                     "fcw": t([3, 2], 5), "fcb": t([3], 6)],
                      inputs: [ValueInfo(name: "x", dtype: .float32, dims: [.fixed(1), .fixed(2), .fixed(6), .fixed(6)])],
                      outputs: [ValueInfo(name: "y", dtype: .float32, dims: [.fixed(1), .fixed(3)])])
        return try Model(graph: g)
    }

    static func data(_ n: Int, seed: Int) -> Tensor {
        Tensor(shape: [n, 2, 6, 6], floats: (0..<(n * 72)).map { Float(sin(Double($0) * 1.37 + Double(seed))) * 2.1 })
    }

    func quantized() throws -> QuantizedModel {
        try Calibrator(model: try Self.floatModel()).calibrate(["x": Self.data(8, seed: 0)])
    }

    func testNodeListScalesAndZeroPoints() throws {
        let qm = try quantized()
        XCTAssertEqual(qm.evaluation, .integer)
        let g = try QDQExport.graph(qm)
        let ops = g.nodes.map(\.opType)
        XCTAssertEqual(ops, Array(repeating: "DequantizeLinear", count: 6) + [
            "QuantizeLinear", "DequantizeLinear", "Conv", "Relu", "QuantizeLinear", "DequantizeLinear",
            "Conv", "LeakyRelu", "QuantizeLinear", "DequantizeLinear",
            "GlobalAveragePool", "Mul", "QuantizeLinear", "DequantizeLinear",
            "Flatten", "QuantizeLinear", "DequantizeLinear", "Gemm", "QuantizeLinear", "DequantizeLinear"])
        XCTAssertEqual(g.nodes.first { $0.opType == "LeakyRelu" }?.attributes["alpha"], .float(0.1015625))
        XCTAssertEqual(g.nodes.first { $0.opType == "Relu" }?.name, "relu1")
        for t in ["x", "r1", "l2", "g", "f", "y", "w1", "b1", "w2", "b2", "fcw", "fcb"] {
            let fp = try XCTUnwrap(qm.annotations.fixPos(t), t)
            XCTAssertEqual(g.initializers[QDQExport.scaleName(t)], Tensor(scalar: Float(pow(2.0, Double(-fp)))), t)
            XCTAssertEqual(g.initializers[QDQExport.zeroPointName(t)], Tensor(shape: [], int8s: [0]), t)
        }
        for p in ["w1", "b1", "w2", "b2", "fcw", "fcb"] {
            XCTAssertNil(g.initializers[p], "float \(p) must be replaced by its codes")
            XCTAssertEqual(g.initializers[QDQExport.quantizedName(p)], qm.codes[p], p)
        }
        // GlobalAveragePool over 6×6: the DPU factor N/2^M with k·N/2^M after the float mean.
        let f = try XCTUnwrap(qm.annotations.nodes.first { $0.node == "gap" }?.avgPoolFactor)
        let expected = Float(36 * f[0]) / Float(1 << f[1])
        XCTAssertEqual(g.initializers["gap_dpu_factor"], Tensor(scalar: expected))
        XCTAssertNotEqual(expected, 1, "36 is not a power of two: the DPU mean is not exact")
    }

    /// Half-up QuantizeLinear (the DPU's rounding) through an executor hook.
    static func halfUpHook(_ g: Graph) -> Executor.NodeHook {
        var values: [String: Tensor] = g.initializers
        return { _, node, outs in
            if node.opType == "QuantizeLinear", let x = values[node.inputs[0]], let s = values[node.inputs[1]]?.floats.first {
                outs[0] = Tensor(shape: x.shape, int8s: x.floats.map { Int8(max(-128, min(127, ($0 / s + 0.5).rounded(.down)))) })
            }
            for (n, t) in zip(node.outputs, outs) { values[n] = t }
        }
    }

    func testReimportedQDQModelReproducesTheIntegerEvaluation() throws {
        let qm = try quantized()
        let path = Scratch.path("qdq.onnx")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try QDQExport.write(qm, to: path)
        let exported = try ONNXImporter.load(path: path)
        XCTAssertEqual(exported.opset, 13)
        let reloaded = try Model(graph: exported)
        let x = Self.data(20, seed: 5)
        let octet = try qm.run(["x": x])["y"]!
        var exactHalfUp = 0, identicalHalfEven = 0
        for i in 0..<20 {
            let xi = TensorBatch.slice(x, start: i, count: 1, padTo: 1)
            let want = TensorBatch.slice(octet, start: i, count: 1, padTo: 1)
            var ties = 0
            var seen: [String: Tensor] = exported.initializers
            let plain = try reloaded.run(["x": xi]) { _, node, outs in
                if node.opType == "QuantizeLinear", let v = seen[node.inputs[0]], let s = seen[node.inputs[1]]?.floats.first {
                    ties += v.floats.filter { ($0 / s) - ($0 / s).rounded(.down) == 0.5 }.count
                }
                for (n, t) in zip(node.outputs, outs) { seen[n] = t }
            }["y"]!
            if plain == want { identicalHalfEven += 1 } else { XCTAssertGreaterThan(ties, 0, "sample \(i) differs without a .5 tie") }
            let halfUp = try reloaded.run(["x": xi], hook: Self.halfUpHook(reloaded.graph))["y"]!
            if halfUp == want { exactHalfUp += 1 }
        }
        XCTAssertEqual(exactHalfUp, 20, "with half-up QuantizeLinear the QDQ graph is the integer evaluation")
        XCTAssertGreaterThan(identicalHalfEven, 0)
    }

    /// `--ties half-up`: an Add of 2^−17·scale before each activation QuantizeLinear makes the
    /// standard (half-to-even) QuantizeLinear round exact ties up, so the file reproduces the
    /// integer evaluation bit for bit; inputs are placed on exact ties to make the plain export differ.
    func testHalfUpTiesExportReproducesTheIntegerEvaluationWithStandardQuantizeLinear() throws {
        let qm = try quantized()
        let g = try QDQExport.graph(qm, ties: .halfUp)
        let quantizeInputs = g.nodes.filter { $0.opType == "QuantizeLinear" }.map { $0.inputs[0] }
        XCTAssertEqual(quantizeInputs.count, 6)
        for input in quantizeInputs {
            let t = String(input.dropLast("_half_up".count))
            XCTAssertEqual(input, QDQExport.nudgedName(t))
            let add = try XCTUnwrap(g.nodes.first { $0.outputs == [input] }, t)
            XCTAssertEqual(add.opType, "Add")
            let fp = try XCTUnwrap(qm.annotations.fixPos(t), t)
            XCTAssertEqual(g.initializers[QDQExport.nudgeName(t)], Tensor(scalar: Float(pow(2.0, Double(-fp - 17)))), t)
        }
        let reloaded = try Model(graph: g), plain = try Model(graph: try QDQExport.graph(qm))
        let fpIn = try XCTUnwrap(qm.annotations.fixPos("x"))
        let step = Float(pow(2.0, Double(-fpIn)))
        var x = Self.data(20, seed: 11)
        x = Tensor(shape: x.shape, floats: x.floats.map { (($0 / step).rounded(.down) + 0.5) * step })
        let octet = try qm.run(["x": x])["y"]!
        var plainDiffers = 0
        for i in 0..<20 {
            let xi = TensorBatch.slice(x, start: i, count: 1, padTo: 1)
            let want = TensorBatch.slice(octet, start: i, count: 1, padTo: 1)
            XCTAssertEqual(try reloaded.run(["x": xi])["y"], want, "sample \(i)")
            if try plain.run(["x": xi])["y"] != want { plainDiffers += 1 }
        }
        XCTAssertGreaterThan(plainDiffers, 0, "every input is a tie: half to even must differ somewhere")
    }

    /// A model whose own names are the ones the export adds (a bias called `w1_scale`, an
    /// activation `w2_quantized`, an output `c1_float`, a node `l2_QuantizeLinear`) gets fresh
    /// names, and the file still is the integer evaluation bit for bit.
    func testNamesTheModelAlreadyUsesAreNotReused() throws {
        let original = try Self.floatModel().graph
        let renamed = ["b1": "w1_scale", "r1": "w2_quantized", "c1": "r1_float", "b2": "x_half_up_nudge", "g": "gap_dpu_factor"]
        var g = original
        g.nodes = g.nodes.map { n in
            var m = n
            if n.name == "leaky2" { m.name = "l2_QuantizeLinear" }
            m.inputs = n.inputs.map { renamed[$0] ?? $0 }
            m.outputs = n.outputs.map { renamed[$0] ?? $0 }
            return m
        }
        g.initializers = Dictionary(uniqueKeysWithValues: g.initializers.map { (renamed[$0.key] ?? $0.key, $0.value) })
        let qm = try Calibrator(model: try Model(graph: g)).calibrate(["x": Self.data(8, seed: 0)])
        let qdq = try QDQExport.graph(qm, ties: .halfUp)
        let written = qdq.nodes.flatMap(\.outputs)
        XCTAssertEqual(Set(written).count, written.count, "a tensor written twice")
        XCTAssertTrue(Set(written).isDisjoint(with: qdq.initializers.keys), "an initializer overwritten by a node")
        XCTAssertEqual(Set(qdq.nodes.map(\.name)).count, qdq.nodes.count, "two nodes of one name")
        XCTAssertTrue(qdq.nodes.contains { $0.name == "l2_QuantizeLinear_2" && $0.opType == "QuantizeLinear" })
        XCTAssertEqual(qdq.initializers["w1_scale_2"], Tensor(scalar: Float(pow(2.0, Double(-(try XCTUnwrap(qm.annotations.fixPos("w1"))))))))
        let reloaded = try Model(graph: qdq)
        let x = Self.data(20, seed: 5), want = try qm.run(["x": x])["y"]!
        for i in 0..<20 {
            XCTAssertEqual(try reloaded.run(["x": TensorBatch.slice(x, start: i, count: 1, padTo: 1)])["y"],
                           TensorBatch.slice(want, start: i, count: 1, padTo: 1), "sample \(i)")
        }
    }

    /// An AveragePool with ceil_mode = 1 whose last windows reach past the input: the DPU divides
    /// them by the full 3×3, ONNX AveragePool (count_include_pad = 1) by the part inside, so the
    /// export widens the pads instead; the re-imported file must match the integer evaluation.
    /// An output the model leaves unshaped is written with its rank.
    func testCeilModeAveragePoolExportMatchesTheIntegerEvaluation() throws {
        let nodes = [
            Node(name: "conv", opType: "Conv", inputs: ["x", "w", "b"], outputs: ["c"]),
            Node(name: "pool", opType: "AveragePool", inputs: ["c"], outputs: ["y"],
                 attributes: ["kernel_shape": .ints([3, 3]), "strides": .ints([2, 2]), "ceil_mode": .int(1)]),
        ]
        let g = Graph(name: "ceil_pool", nodes: nodes,
                      initializers: ["w": Tensor(shape: [2, 2, 1, 1], floats: [0.7, -0.4, 0.3, 0.9]), "b": Tensor(shape: [2], floats: [0.1, -0.2])],
                      inputs: [ValueInfo(name: "x", dtype: .float32, dims: [.fixed(1), .fixed(2), .fixed(6), .fixed(6)])],
                      outputs: [ValueInfo(name: "y", dtype: .float32, dims: [])])
        let qm = try Calibrator(model: try Model(graph: g)).calibrate(["x": Self.data(8, seed: 0)])
        let exported = try QDQExport.graph(qm, ties: .halfUp)
        // The source leaves y unshaped: the file declares its rank, not rank 0, and its batch axis.
        XCTAssertEqual(exported.outputs[0].dims, [.symbolic("N"), .fixed(2), .fixed(3), .fixed(3)])
        let pool = try XCTUnwrap(exported.nodes.first { $0.opType == "AveragePool" })
        XCTAssertEqual(try pool.ints("pads"), [0, 0, 1, 1])
        XCTAssertEqual(try pool.int("ceil_mode", default: 0), 0)
        let x = Self.data(4, seed: 3)
        let want = try qm.run(["x": x])["y"]!
        XCTAssertEqual(try Model(graph: exported).run(["x": x])["y"], want)
    }

    func testPerChannelConfigurationExportsPerAxisScales() throws {
        var config = QConfig()
        config.perChannel = true
        let qm = try Calibrator(model: try Self.floatModel(), config: config).calibrate(["x": Self.data(8, seed: 0)])
        let g = try QDQExport.graph(qm)
        let dq = try XCTUnwrap(g.nodes.first { $0.name == "w1_DequantizeLinear" })
        XCTAssertEqual(dq.attributes["axis"], .int(0))
        let q = try XCTUnwrap(qm.annotations.tensors["w1"]?.channels)
        XCTAssertEqual(g.initializers[QDQExport.scaleName("w1")], Tensor(shape: [3], floats: q.scales))
        XCTAssertEqual(g.initializers[QDQExport.zeroPointName("w1")], Tensor(shape: [3], int8s: [0, 0, 0]))
        // The dequantized evaluation equals the QDQ model up to .5 ties of activations.
        let reloaded = try Model(graph: g)
        let x = Self.data(1, seed: 9)
        let a = try qm.run(["x": x])["y"]!, b = try reloaded.run(["x": x], hook: Self.halfUpHook(reloaded.graph))["y"]!
        XCTAssertEqual(a, b)
    }

    /// A 16-bit bias is written as a float initializer holding code · 2^−fix_pos, with no int32
    /// DequantizeLinear (onnxruntime's QLinearConv fusion would read int32 codes at
    /// x_scale · w_scale); 16-bit weights stay int32 codes behind their DequantizeLinear.
    func testWideBiasIsWrittenAsItsDequantizedFloatValues() throws {
        var config = QConfig()
        try config.set("bias_bits", "16")
        try config.set("weight_bits", "16")
        let qm = try Calibrator(model: try Self.floatModel(), config: config).calibrate(["x": Self.data(8, seed: 0)])
        let g = try QDQExport.graph(qm)
        for b in ["b1", "b2", "fcb"] {
            let fp = try XCTUnwrap(qm.annotations.fixPos(b), b)
            let float = try XCTUnwrap(qm.graph.initializers[b], b).floats
            let expected = float.map { Float(($0 * Float(pow(2.0, Double(fp)))).rounded()) * Float(pow(2.0, Double(-fp))) }
            XCTAssertEqual(g.initializers[b], Tensor(shape: [expected.count], floats: expected), b)
            XCTAssertNil(g.initializers[QDQExport.quantizedName(b)], b)
            XCTAssertFalse(g.nodes.contains { $0.outputs == [b] }, "\(b) has no DequantizeLinear")
        }
        XCTAssertEqual(g.initializers[QDQExport.quantizedName("w1")]?.dtype, .int32)
        let reloaded = try Model(graph: g)
        let x = Self.data(1, seed: 9)
        XCTAssertEqual(try qm.run(["x": x])["y"]!, try reloaded.run(["x": x], hook: Self.halfUpHook(reloaded.graph))["y"]!)
    }
}
