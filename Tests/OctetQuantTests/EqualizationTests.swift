import OctetGraph
import OctetQuant
import OctetTensor
import OctetTestSupport
import XCTest

/// Cross-layer equalization (Nagel et al. 2019 §4.1): hand-worked scales, unchanged float outputs.
final class EqualizationTests: XCTestCase {
    /// Two 1×1 convs through Relu. W1 rows max |·| = [4, 1], W2 columns = [1, 4]:
    /// s = [√(4/1), √(1/4)] = [2, 0.5]; W1 = [[4, 2], [1, 0.5]] / s = [[2, 1], [2, 1]], b1 = [2, 1] / s = [1, 2],
    /// W2 = [[1, 4]] · s = [[2, 2]]. The second sweep finds s = 1: converged after 2 iterations.
    func testHandWorkedScales() throws {
        var t = TinyNet(seed: 1)
        var y = t.conv("c1", "x", out: 2, in: 2, k: 1, weight: Tensor(shape: [2, 2, 1, 1], floats: [4, 2, 1, 0.5]))
        t.inits["c1_b"] = Tensor(shape: [2], floats: [2, 1])
        y = t.op("r", "Relu", y)
        y = t.conv("c2", y, out: 1, in: 2, k: 1, weight: Tensor(shape: [1, 2, 1, 1], floats: [1, 4]))
        let (g, report) = try CrossLayerEqualization.run(t.graph(input: [1, 2, 3, 3], output: y))
        XCTAssertEqual(report.pairs, [.init(first: "c1", second: "c2", through: ["r"])])
        XCTAssertEqual(report.scales["c1"], [2, 0.5])
        XCTAssertEqual(report.iterations, 2)
        XCTAssertTrue(report.converged)
        XCTAssertEqual(g.initializers["c1_w"]!.floats, [2, 1, 2, 1])
        XCTAssertEqual(g.initializers["c1_b"]!.floats, [1, 2])
        XCTAssertEqual(g.initializers["c2_w"]!.floats, [2, 2])
    }

    /// Conv → Relu → MaxPool → depthwise → LeakyRelu → Conv → PRelu → Conv → Flatten → Gemm, with
    /// per-channel weight ranges spread over 100×: outputs equal to 1e-5, ranges equalized.
    func testChainKeepsFloatOutputs() throws {
        var t = TinyNet(seed: 2)
        var y = t.conv("c1", "x", out: 4, in: 3, k: 3, pad: 1, spread: 100)
        y = t.op("r1", "Relu", y)
        y = t.op("mp", "MaxPool", y, ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2])])
        y = t.conv("dw", y, out: 4, in: 4, k: 3, group: 4, pad: 1, spread: 0.01)
        y = t.op("lr", "LeakyRelu", y, ["alpha": .float(0.1)])
        y = t.conv("pw", y, out: 5, in: 4, k: 1, spread: 50)
        t.inits["slope"] = t.random([5, 1, 1], scale: 0.3)
        y = t.op("pr", "PRelu", y, extra: ["slope"])
        y = t.conv("c3", y, out: 3, in: 5, k: 1)
        y = t.op("fl", "Flatten", y)
        y = t.gemm("fc", y, out: 2, in: 3 * 4 * 4)
        let g0 = t.graph(input: [2, 3, 8, 8], output: y)
        let (g1, report) = try CrossLayerEqualization.run(g0)
        XCTAssertEqual(report.pairs.map { "\($0.first)>\($0.second)" }, ["c1>dw", "dw>pw", "pw>c3", "c3>fc"])
        let x = t.data([2, 3, 8, 8])
        let a = try Executor(graph: g0).run(["x": x])[y]!, b = try Executor(graph: g1).run(["x": x])[y]!
        XCTAssertLessThanOrEqual(maxRelativeError(a, b), 1e-5)
        // c1 output channel i: weights [4, 3, 3, 3] rows; dw input channel i: its own 3×3 filter.
        let w = g1.initializers["c1_w"]!.floats, w2 = g1.initializers["dw_w"]!.floats
        let r1 = (0..<4).map { i in w[(i * 27)..<((i + 1) * 27)].map { abs($0) }.max()! }
        let r2 = (0..<4).map { i in w2[(i * 9)..<((i + 1) * 9)].map { abs($0) }.max()! }
        for i in 0..<4 { XCTAssertEqual(r1[i], r2[i], accuracy: 5e-3 * r1[i]) }
    }

    /// 1×1 conv (W1 = [[4], [0.5]], no bias) → ReLU6 → 1×1 conv (W2 = [[0.5, 200]]), x ∈ {0, 0.5, 1, 2}.
    /// Channel 0 reaches 8 > 6 on the data: s = 1. Channel 1 reaches 1: √(0.5/200) = 0.05 is below
    /// m/6 = 1/6, so s = 1/6: W1 row 1 = 3, W2 column 1 = 200/6, and the channel now reaches 6. The
    /// second sweep wants √(3/33.3) = 0.3 < 6/6 = 1 → s = 1: converged. Outputs are unchanged on the data.
    func testCalibratedReLU6ScalesOnlyChannelsBelowTheClip() throws {
        var t = TinyNet(seed: 1)
        var y = t.conv("c1", "x", out: 2, in: 1, k: 1, weight: Tensor(shape: [2, 1, 1, 1], floats: [4, 0.5]))
        t.inits["c1_b"] = Tensor(shape: [2], floats: [0, 0])
        y = t.clip("r6", y, 0, 6)
        y = t.conv("c2", y, out: 1, in: 2, k: 1, weight: Tensor(shape: [1, 2, 1, 1], floats: [0.5, 200]))
        let g0 = t.graph(input: [4, 1, 1, 1], output: y)
        let x = Tensor(shape: [4, 1, 1, 1], floats: [0, 0.5, 1, 2])
        var o = CrossLayerEqualization.Options(); o.relu6 = .calibrated; o.clipHeadroom = 1
        let (g1, report) = try CrossLayerEqualization.run(g0, options: o, feeds: ["x": x], batchSize: 4)
        XCTAssertEqual(report.pairs, [.init(first: "c1", second: "c2", through: ["r6"])])
        XCTAssertEqual(report.iterations, 2)
        XCTAssertEqual(g1.initializers["c1_w"]!.floats[0], 4)
        XCTAssertEqual(g1.initializers["c1_w"]!.floats[1], 3, accuracy: 1e-5)
        XCTAssertEqual(g1.initializers["c2_w"]!.floats[1], 200.0 / 6, accuracy: 1e-3)
        XCTAssertTrue(report.notes.contains { $0.contains("1 of 2 channels reach 6.0") }, "\(report.notes)")
        let a = try Executor(graph: g0).run(["x": x])[y]!, b = try Executor(graph: g1).run(["x": x])[y]!
        XCTAssertLessThanOrEqual(maxRelativeError(a, b), 1e-6)
        // The default stops at the clip; calibrated without data is refused.
        XCTAssertEqual(try CrossLayerEqualization.run(g0).report.pairs, [])
        XCTAssertThrowsError(try CrossLayerEqualization.run(g0, options: o)) {
            XCTAssertEqual("\($0)", "relu6: 'calibrated' needs calibration data")
        }
        // Headroom 4: channel 1 (maximum 1 ≤ 6/4) may only shrink to 6/4, s = 4·1/6 = 2/3: W1 row 1 = 0.75.
        o.clipHeadroom = 4
        let h = try CrossLayerEqualization.run(g0, options: o, feeds: ["x": x], batchSize: 4).graph
        XCTAssertEqual(h.initializers["c1_w"]!.floats[1], 0.75, accuracy: 1e-5)
        XCTAssertLessThanOrEqual(maxRelativeError(a, try Executor(graph: h).run(["x": x])[y]!), 1e-6)
    }

    func testReLU6StopsOrIsReplacedWithReport() throws {
        var t = TinyNet(seed: 3)
        var y = t.conv("c1", "x", out: 3, in: 2, k: 1, spread: 20)
        y = t.clip("r6", y, 0, 6)
        y = t.conv("c2", y, out: 2, in: 3, k: 1)
        let g0 = t.graph(input: [1, 2, 4, 4], output: y)
        let (g1, stop) = try CrossLayerEqualization.run(g0)
        XCTAssertTrue(stop.pairs.isEmpty)
        XCTAssertEqual(g1, g0)
        XCTAssertTrue(stop.notes.contains("chain stops at ReLU6 node r6; equalizing through it would change the clip"), "\(stop.notes)")
        var o = CrossLayerEqualization.Options(); o.relu6 = .relu
        let (g2, replaced) = try CrossLayerEqualization.run(g0, options: o)
        XCTAssertEqual(replaced.pairs.count, 1)
        XCTAssertEqual(g2.nodes[1].opType, "Relu")
        XCTAssertTrue(replaced.notes.contains { $0.hasPrefix("ReLU6 node r6 replaced by Relu") })
    }

    func testNoPairReportsAndDoesNothing() throws {
        var t = TinyNet(seed: 4)
        let a = t.conv("c1", "x", out: 2, in: 1, k: 3)
        let b = t.op("r", "Relu", a)
        let c = t.conv("c2", b, out: 2, in: 2, k: 1)
        let d = t.op("add", "Add", c, extra: [b])   // b has two consumers: a branch
        let g0 = t.graph(input: [1, 1, 5, 5], output: d)
        let (g1, r) = try CrossLayerEqualization.run(g0)
        XCTAssertTrue(r.pairs.isEmpty)
        XCTAssertEqual(r.description, "CLE: no equalizable pair")
        XCTAssertEqual(g1, g0)
    }

    func testZeroWeightChannelKeepsScaleOne() throws {
        var t = TinyNet(seed: 5)
        var y = t.conv("c1", "x", out: 2, in: 2, k: 1, weight: Tensor(shape: [2, 2, 1, 1], floats: [0, 0, 3, 1]))
        y = t.op("r", "Relu", y)
        y = t.conv("c2", y, out: 2, in: 2, k: 1, weight: Tensor(shape: [2, 2, 1, 1], floats: [1, 0, 2, 0]))
        let (g, r) = try CrossLayerEqualization.run(t.graph(input: [1, 2, 2, 2], output: y))
        XCTAssertEqual(r.scales["c1"], [1, 1])   // channel 0: r1 = 0; channel 1: r2 = 0
        XCTAssertFalse(g.initializers.values.contains { $0.floats.contains { !$0.isFinite } })
    }

    /// r1 / r2 below the smallest normal float (channel 0: 3e-38 / 4 → 7.5e-39, subnormal) keeps
    /// s = 1, so no weight or bias is divided by a scale that is 0 or near it; channel 1 is
    /// equalized as usual (√(1/4) = 0.5). The float outputs stay finite and unchanged.
    func testUnderflowingRatioKeepsScaleOne() throws {
        var t = TinyNet(seed: 6)
        var y = t.conv("c1", "x", out: 2, in: 1, k: 1, weight: Tensor(shape: [2, 1, 1, 1], floats: [3e-38, 1]))
        y = t.op("r", "Relu", y)
        y = t.conv("c2", y, out: 1, in: 2, k: 1, weight: Tensor(shape: [1, 2, 1, 1], floats: [4, 4]))
        let g0 = t.graph(input: [1, 1, 2, 2], output: y)
        let (g1, r) = try CrossLayerEqualization.run(g0)
        XCTAssertEqual(r.scales["c1"], [1, 0.5])
        XCTAssertFalse(g1.initializers.values.contains { $0.floats.contains { !$0.isFinite } })
        let x = Tensor(shape: [1, 1, 2, 2], floats: [1, -2, 3, 0.5])
        let a = try Executor(graph: g0).run(["x": x])[y]!, b = try Executor(graph: g1).run(["x": x])[y]!
        XCTAssertLessThanOrEqual(maxRelativeError(a, b), 1e-6)
    }

    /// A Gemm whose C broadcasts one value over its outputs (ONNX Gemm: C unidirectionally
    /// broadcastable to [M, N]) is prepared with the bias vector [N] = C × beta, so CLE scales
    /// every output's bias and the float function is kept; a bias of another length ends no pair.
    func testBroadcastGemmBiasIsExpandedBeforeEqualization() throws {
        var t = TinyNet(seed: 7)
        var y = t.gemm("g1", "x", out: 3, in: 2, weight: Tensor(shape: [3, 2], floats: [4, 1, 0.5, 0.25, 2, 1]))
        t.inits["g1_b"] = Tensor(shape: [1], floats: [0.5])
        t.nodes[0].attributes["beta"] = .float(2)
        y = t.op("r", "Relu", y)
        y = t.gemm("g2", y, out: 2, in: 3)
        let g0 = t.graph(input: [2, 2], output: y)
        let prepared = try QuantPreparation.prepare(g0).graph
        XCTAssertEqual(prepared.initializers["g1_b"]!, Tensor(shape: [3], floats: [1, 1, 1]))
        let (g1, r) = try CrossLayerEqualization.run(prepared)
        XCTAssertEqual(r.pairs.map(\.first), ["g1"])
        let x = Tensor(shape: [2, 2], floats: [1, -0.5, 0.25, 2])
        let a = try Executor(graph: g0).run(["x": x])[y]!, b = try Executor(graph: g1).run(["x": x])[y]!
        XCTAssertLessThanOrEqual(maxRelativeError(a, b), 1e-5)
        // Unprepared, the [1] bias cannot be scaled per output: no pair.
        XCTAssertTrue(try CrossLayerEqualization.run(g0).report.pairs.isEmpty)
    }

    /// c1 → c2 → c3 through Relus with c2 excluded from quantization (by name, then by op type for
    /// every Conv): no pair touches it, so its weights and bias stay bit-identical, and high-bias
    /// absorption pairs nothing either.
    func testExcludedLayersAreInNoPair() throws {
        var t = TinyNet(seed: 8)
        var y = t.conv("c1", "x", out: 3, in: 2, k: 1, spread: 20)
        y = t.op("r1", "Relu", y)
        y = t.conv("c2", y, out: 3, in: 3, k: 1, spread: 20)
        y = t.op("r2", "Relu", y)
        y = t.conv("c3", y, out: 2, in: 3, k: 1)
        let g0 = t.graph(input: [1, 2, 2, 2], output: y)
        XCTAssertEqual(try CrossLayerEqualization.run(g0).report.pairs.count, 2)
        var o = CrossLayerEqualization.Options()
        o.quantization.excludedNodes = ["c2"]
        let (g1, r) = try CrossLayerEqualization.run(g0, options: o)
        XCTAssertTrue(r.pairs.isEmpty)
        XCTAssertEqual(r.description, "CLE: no equalizable pair\n  excluded from quantization, so in no pair: c2")
        XCTAssertEqual(g1.initializers["c2_w"], g0.initializers["c2_w"])
        XCTAssertEqual(g1.initializers["c2_b"], g0.initializers["c2_b"])
        let feeds = ["x": t.data([4, 2, 2, 2])]
        XCTAssertTrue(try HighBiasAbsorption.run(g0, feeds: feeds, batchSize: 1, quantization: o.quantization).report.absorbed.isEmpty)
        o.quantization = QConfig()
        o.quantization.excludedOpTypes = ["Conv"]
        XCTAssertTrue(try CrossLayerEqualization.run(g0, options: o).report.pairs.isEmpty)
    }

    /// Real models with ReLU / PRelu chains: the prepared float outputs are unchanged (≤ 1e-5 relative).
    func testSharedModelsUnchanged() throws {
        for name in ["lenet_digits8", "mtcnn_pnet"] {
            let sm = try SharedModels.require(name)
            let model = try Model.load(path: sm.modelPath)
            let prepared = try QuantPreparation.prepare(model.graph).graph
            let (eq, report) = try CrossLayerEqualization.run(prepared)
            XCTAssertFalse(report.pairs.isEmpty, name)
            print(name, report)
            let x = TensorBatch.slice(try sm.input("eval"), start: 0, count: model.batchSize, padTo: model.batchSize)
            let a = try Executor(graph: prepared).run([sm.inputName: x]), b = try Executor(graph: eq).run([sm.inputName: x])
            for o in sm.outputNames { XCTAssertLessThanOrEqual(maxRelativeError(a[o]!, b[o]!), 1e-5, "\(name) \(o)") }
        }
    }
}

extension EqualizationTests {
    /// effnet_lite0 (ReLU6 throughout): `.calibrated` equalizes through the clips. The float outputs
    /// are unchanged on calibration samples (the clip bound holds there). With the default headroom 2
    /// the evaluation samples change only where one exceeds twice a channel's calibration maximum
    /// (measured: 41 dB output SQNR against the original on the 100 evaluation images; 28 dB with headroom 1).
    func testCalibratedReLU6OnEffnetKeepsFloatOutputs() throws {
        let sm = try SharedModels.require("effnet_lite0")
        let model = try Model.load(path: sm.modelPath)
        let prepared = try QuantPreparation.prepare(model.graph).graph
        let calib = try sm.input("calib")
        var o = CrossLayerEqualization.Options(); o.relu6 = .calibrated
        let (eq, report) = try CrossLayerEqualization.run(prepared, options: o, feeds: [sm.inputName: calib], batchSize: model.batchSize)
        XCTAssertEqual(report.pairs.count, 35)
        let exec0 = try Executor(graph: prepared), exec1 = try Executor(graph: eq)
        for i in [0, 7, 15] {
            let x = TensorBatch.slice(calib, start: i, count: 1, padTo: 1)
            let a = try exec0.run([sm.inputName: x])["logits"]!, b = try exec1.run([sm.inputName: x])["logits"]!
            XCTAssertLessThanOrEqual(maxRelativeError(a, b), 1e-5, "calibration sample \(i)")
        }
        var worst: Float = 0
        for i in 0..<8 {
            let x = TensorBatch.slice(try sm.input("eval"), start: i, count: 1, padTo: 1)
            worst = max(worst, maxRelativeError(try exec0.run([sm.inputName: x])["logits"]!, try exec1.run([sm.inputName: x])["logits"]!))
        }
        print("effnet_lite0 calibrated CLE: worst relative output change on 8 evaluation samples \(worst)")
        XCTAssertLessThanOrEqual(worst, 0.02)
    }
}

/// High-bias absorption (Nagel et al. 2019 §4.1, data-driven: c = max(0, calibration minimum)).
final class HighBiasAbsorptionTests: XCTestCase {
    /// c1: y = x + b with b = [5, −1] (1×1 identity weights), x ∈ {1, 2} → pre-activation minima [6, 0]:
    /// c = [6, 0]; b1 = [5 − 6, −1] = [−1, −1]; c2 (W2 = [[1, 2]], b2 = 0.5) gains 1·6 + 2·0: b2 = 6.5.
    func testHandWorkedShiftAndUnchangedOutputs() throws {
        var t = TinyNet(seed: 4)
        var y = t.conv("c1", "x", out: 2, in: 2, k: 1, weight: Tensor(shape: [2, 2, 1, 1], floats: [1, 0, 0, 1]))
        t.inits["c1_b"] = Tensor(shape: [2], floats: [5, -1])
        y = t.op("r", "Relu", y)
        y = t.conv("c2", y, out: 1, in: 2, k: 1, weight: Tensor(shape: [1, 2, 1, 1], floats: [1, 2]))
        t.inits["c2_b"] = Tensor(shape: [1], floats: [0.5])
        let g0 = t.graph(input: [1, 2, 2, 2], output: y)
        let x = Tensor(shape: [3, 2, 2, 2], floats: (0..<24).map { Float($0 % 2 + 1) })
        let (g1, report) = try HighBiasAbsorption.run(g0, feeds: ["x": x], batchSize: 1)
        XCTAssertEqual(report.absorbed, [.init(first: "c1", second: "c2", channels: 1, meanShift: 3)])
        XCTAssertEqual(g1.initializers["c1_b"]!.floats, [-1, -1])
        XCTAssertEqual(g1.initializers["c2_b"]!.floats, [6.5])
        let a = try Model(graph: g0, batchSize: 1).run(["x": x])[y]!, b = try Model(graph: g1, batchSize: 1).run(["x": x])[y]!
        XCTAssertEqual(a.floats, b.floats)
    }

    /// A chain through Relu, MaxPool, GlobalAveragePool and Flatten into a Gemm without bias keeps
    /// its outputs on the calibration data; a padded second conv and a ReLU6 are skipped with a reason.
    func testChainsAndSkips() throws {
        var t = TinyNet(seed: 5)
        var y = t.conv("c1", "x", out: 4, in: 3, k: 3, pad: 1)
        t.inits["c1_b"] = Tensor(shape: [4], floats: [3, 4, -2, 5])
        y = t.op("r1", "Relu", y)
        y = t.conv("c2", y, out: 4, in: 4, k: 3, pad: 1)              // padded: skipped
        y = t.op("r2", "Relu", y)
        y = t.op("mp", "MaxPool", y, ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2])])
        var w3 = t.random([5, 4, 1, 1])
        w3.withMutableFloats { p in for i in p.indices { p[i] = abs(p[i]) } }   // non-negative: pre-activations ≥ bias > 0
        y = t.conv("c3", y, out: 5, in: 4, k: 1, weight: w3)
        t.inits["c3_b"] = Tensor(shape: [5], floats: [4, 3, 6, 2, 5])
        y = t.op("r3", "Relu", y)
        y = t.op("gap", "GlobalAveragePool", y)
        y = t.op("fl", "Flatten", y)
        let fc = Node(name: "fc", opType: "Gemm", inputs: [y, "fc_w"], outputs: ["fc_y"], attributes: ["transB": .int(1)])
        t.inits["fc_w"] = t.random([2, 5])
        t.nodes.append(fc)
        let g0 = t.graph(input: [2, 3, 6, 6], output: "fc_y")
        let x = t.data([6, 3, 6, 6])
        let (g1, report) = try HighBiasAbsorption.run(g0, feeds: ["x": x], batchSize: 2)
        XCTAssertTrue(report.skipped.contains { $0.hasPrefix("c1 → c2: second layer pads") }, "\(report)")
        XCTAssertEqual(report.absorbed.last?.second, "fc", "\(report)")
        XCTAssertEqual(report.absorbed.last?.channels, 5)
        XCTAssertNotNil(g1.initializers["fc_y_absorbed_bias"])
        let a = try Model(graph: g0, batchSize: 2).run(["x": x])["fc_y"]!, b = try Model(graph: g1, batchSize: 2).run(["x": x])["fc_y"]!
        XCTAssertLessThanOrEqual(maxRelativeError(a, b), 1e-5)
    }

    func testEmptyCalibrationSetIsAnError() throws {
        var t = TinyNet(seed: 6)
        var y = t.conv("c1", "x", out: 2, in: 2, k: 1)
        y = t.op("r", "Relu", y)
        y = t.conv("c2", y, out: 1, in: 2, k: 1)
        XCTAssertThrowsError(try HighBiasAbsorption.run(t.graph(input: [1, 2, 2, 2], output: y),
                                                        feeds: ["x": Tensor(shape: [0, 2, 2, 2], floats: [])], batchSize: 1))
    }
}
