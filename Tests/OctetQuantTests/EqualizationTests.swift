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
