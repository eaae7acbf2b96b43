import OctetGraph
@testable import OctetQuant
import OctetTensor
import OctetTestSupport
import XCTest

/// Preparation passes keep float outputs (relative error ≤ 1e-5) and change the graph as intended.
final class PreparationTests: XCTestCase {
    /// max |a − b| / max |a|.
    static func relativeError(_ a: Tensor, _ b: Tensor) -> Float {
        let x = a.floats, y = b.floats
        let scale = x.map(abs).max() ?? 1
        return zip(x, y).map { abs($0 - $1) }.max()! / max(scale, 1e-30)
    }

    func testBatchNormFoldingPreservesOutputs() throws {
        let g = PTQTestGraphs.bnGraph()
        let x = Tensor(shape: [1, 3, 2, 4], floats: PTQTestGraphs.values(24, seed: 99))
        let before = try Executor(graph: g).run(["x": x])
        let p = try QuantPreparation.prepare(g)
        let after = try Executor(graph: p.graph).run(["x": x])
        for o in ["b4", "y"] { XCTAssertLessThanOrEqual(Self.relativeError(before[o]!, after[o]!), 1e-5, o) }
        let ops = p.graph.nodes.map(\.opType)
        XCTAssertFalse(ops.contains("BatchNormalization"))
        XCTAssertFalse(ops.contains("Dropout"))
        // conv1 absorbed bn1 and bn2 (and got a bias); conv2 kept (its output feeds the Add) and bn3
        // became a depthwise 1×1 Conv; convt and fc absorbed bn4 / bn5.
        let conv1 = p.graph.nodes.first { $0.name == "conv1" }!
        XCTAssertEqual(conv1.outputs, ["b2"])
        XCTAssertEqual(conv1.inputs.count, 3)
        let bn3 = p.graph.nodes.first { $0.name == "bn3" }!
        XCTAssertEqual(bn3.opType, "Conv")
        XCTAssertEqual(try bn3.int("group"), 4)
        XCTAssertEqual(p.graph.nodes.first { $0.name == "convt" }!.outputs, ["b4"])
        XCTAssertEqual(p.graph.nodes.first { $0.name == "fc" }!.outputs, ["y"])
    }

    /// Folded weights by hand: one channel, W = 2, γ = 3, β = 1, μ = 0.5, var = 3, ε = 1:
    /// s = 3/√4 = 1.5, W' = 3, b' = (0 − 0.5)·1.5 + 1 = 0.25.
    func testFoldedValuesByHand() throws {
        let g = Graph(name: "g", nodes: [
            Node(name: "c", opType: "Conv", inputs: ["x", "w"], outputs: ["c"]),
            Node(name: "bn", opType: "BatchNormalization", inputs: ["c", "s", "b", "m", "v"], outputs: ["y"], attributes: ["epsilon": .float(1)]),
        ], initializers: ["w": Tensor(shape: [1, 1, 1, 1], floats: [2]), "s": Tensor(shape: [1], floats: [3]),
                          "b": Tensor(shape: [1], floats: [1]), "m": Tensor(shape: [1], floats: [0.5]), "v": Tensor(shape: [1], floats: [3])],
            inputs: [PTQTestGraphs.info("x", [1, 1, 1, 1])], outputs: [PTQTestGraphs.info("y", [1, 1, 1, 1])])
        let p = try QuantPreparation.prepare(g)
        XCTAssertEqual(p.graph.nodes.count, 1)
        XCTAssertEqual(p.graph.initializers["w"]!.floats, [3])
        XCTAssertEqual(p.graph.initializers[p.graph.nodes[0].inputs[2]]!.floats, [0.25])
    }

    /// A channel whose variance + ε is not positive has no normalization (NaN): folding refuses
    /// it, naming the node and the channel.
    func testNonPositiveVarianceIsRefused() throws {
        let g = Graph(name: "g", nodes: [
            Node(name: "c", opType: "Conv", inputs: ["x", "w"], outputs: ["c"]),
            Node(name: "bn", opType: "BatchNormalization", inputs: ["c", "s", "b", "m", "v"], outputs: ["y"], attributes: ["epsilon": .float(0.5)]),
        ], initializers: ["w": Tensor(shape: [2, 1, 1, 1], floats: [2, 1]), "s": Tensor(shape: [2], floats: [3, 1]),
                          "b": Tensor(shape: [2], floats: [1, 0]), "m": Tensor(shape: [2], floats: [0.5, 0]), "v": Tensor(shape: [2], floats: [3, -1])],
            inputs: [PTQTestGraphs.info("x", [1, 1, 1, 1])], outputs: [PTQTestGraphs.info("y", [1, 2, 1, 1])])
        XCTAssertThrowsError(try QuantPreparation.prepare(g)) { e in
            XCTAssertEqual("\(e)", "node bn (BatchNormalization): channel 1: variance + epsilon = -1.0 + 0.5 is not positive, so the normalization is undefined (NaN)")
        }
    }

    /// Gemm's C by shape (ONNX Gemm, C broadcast to [M, N]; here M = N = 2, W = I, x = [[1, 2], [3, 4]]):
    /// [], [1], [1, 1], [N] and [1, N] add the same value to every row and become the bias [N];
    /// [N, 1] adds one value per row and is left as it is. Outputs are unchanged either way.
    func testGemmBiasShapes() throws {
        let x = Tensor(shape: [2, 2], floats: [1, 2, 3, 4])
        for (shape, values, bias) in [([Int](), [Float(5)], [Float(5), 5]), ([1], [5], [5, 5]), ([1, 1], [5], [5, 5]),
                                      ([2], [5, 6], [5, 6]), ([1, 2], [5, 6], [5, 6]), ([2, 1], [5, 6], nil)] {
            let g = Graph(name: "g", nodes: [Node(name: "fc", opType: "Gemm", inputs: ["x", "w", "c"], outputs: ["y"])],
                          initializers: ["w": Tensor(shape: [2, 2], floats: [1, 0, 0, 1]), "c": Tensor(shape: shape, floats: values)],
                          inputs: [PTQTestGraphs.info("x", [2, 2])], outputs: [PTQTestGraphs.info("y", [2, 2])])
            let p = try QuantPreparation.prepare(g)
            if let bias {
                XCTAssertEqual(p.graph.initializers["c"], Tensor(shape: [2], floats: bias), "\(shape)")
            } else {
                XCTAssertEqual(p.graph.initializers["c"]?.shape, shape)
            }
            let added: [Float] = bias.map { $0 + $0 } ?? [5, 5, 6, 6]   // C as broadcast over the two rows
            XCTAssertEqual(try Executor(graph: p.graph).run(["x": x])["y"]!.floats, zip([1, 2, 3, 4], added).map { $0 + $1 }, "\(shape)")
        }
    }

    func testSharedWeightsAreCopiedBeforeFolding() throws {
        var ini = PTQTestGraphs.bnParams("bn", 2, seed: 7)
        ini["w"] = Tensor(shape: [2, 2, 1, 1], floats: [1, 2, 3, 4])
        let g = Graph(name: "g", nodes: [
            Node(name: "c1", opType: "Conv", inputs: ["x", "w"], outputs: ["c1"]), PTQTestGraphs.bn("bn", "c1", "b1"),
            Node(name: "c2", opType: "Conv", inputs: ["b1", "w"], outputs: ["y"]),
        ], initializers: ini, inputs: [PTQTestGraphs.info("x", [1, 2, 2, 2])], outputs: [PTQTestGraphs.info("y", [1, 2, 2, 2])])
        let x = Tensor(shape: [1, 2, 2, 2], floats: PTQTestGraphs.values(8, seed: 3))
        let p = try QuantPreparation.prepare(g)
        XCTAssertNotEqual(p.graph.nodes[0].inputs[1], p.graph.nodes[1].inputs[1])
        XCTAssertLessThanOrEqual(Self.relativeError(try Executor(graph: g).run(["x": x])["y"]!,
                                                    try Executor(graph: p.graph).run(["x": x])["y"]!), 1e-5)
    }

    func testHardSwishPatternBecomesOneNode() throws {
        let g = Graph(name: "g", nodes: [
            Node(name: "a", opType: "Add", inputs: ["x", "three"], outputs: ["a"]),
            Node(name: "c", opType: "Clip", inputs: ["a", "zero", "six"], outputs: ["c"]),
            Node(name: "m", opType: "Mul", inputs: ["x", "c"], outputs: ["m"]),
            Node(name: "d", opType: "Div", inputs: ["m", "six"], outputs: ["y"]),
        ], initializers: ["three": Tensor(scalar: 3), "zero": Tensor(scalar: 0), "six": Tensor(scalar: 6)],
            inputs: [PTQTestGraphs.info("x", [1, 8])], outputs: [PTQTestGraphs.info("y", [1, 8])])
        let p = try QuantPreparation.prepare(g)
        XCTAssertEqual(p.graph.nodes.map(\.opType), ["HardSwish"])
        let x = Tensor(shape: [1, 8], floats: [-4, -3, -1.5, 0, 0.5, 2, 3, 5])
        XCTAssertLessThanOrEqual(Self.relativeError(try Executor(graph: g).run(["x": x])["y"]!,
                                                    try Executor(graph: p.graph).run(["x": x])["y"]!), 1e-6)
    }

    /// ppocr_cls: all 35 BatchNormalization nodes disappear; outputs on 8 eval samples unchanged.
    func testPPOCRFolding() throws {
        let sm = try SharedModels.require("ppocr_cls")
        let model = try Model.load(path: sm.modelPath)
        XCTAssertEqual(model.graph.nodes.filter { $0.opType == "BatchNormalization" }.count, 35)
        let p = try QuantPreparation.prepare(model.graph)
        XCTAssertEqual(p.graph.nodes.filter { $0.opType == "BatchNormalization" }.count, 0)
        let x = TensorBatch.slice(try sm.input("eval"), start: 0, count: 8, padTo: 8)
        let exec = try Executor(graph: p.graph)
        for i in 0..<8 {
            let xi = TensorBatch.slice(x, start: i, count: 1, padTo: 1)
            let a = try model.run([sm.inputName: xi]), b = try exec.run([sm.inputName: xi])
            for o in sm.outputNames { XCTAssertLessThanOrEqual(Self.relativeError(a[o]!, b[o]!), 1e-5, "sample \(i)") }
        }
    }
}
