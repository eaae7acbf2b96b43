import Foundation
import OctetGraph
import OctetQuant
import OctetTensor
import XCTest
@testable import OctetDPU

/// Graphs where sharing a Concat's fix_pos meets another op's own range: a hard-sigmoid output
/// (fix_pos ≥ 7) concatenated with a wider tensor, and x · x of small values concatenated with
/// large ones (the product shift fp_a + fp_b − fp_out must stay within −24…24). The constraint
/// pass settles, the program compiles, and the emulator matches the quantizer's integer evaluation.
final class ConstraintConflictTests: XCTestCase {
    func values(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
        var s = seed
        let n = shape.reduce(1, *)
        return Tensor(shape: shape, floats: (0..<n).map { _ in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return scale * (Float(s >> 40) / Float(1 << 24) * 4 - 2)
        })
    }

    func info(_ name: String, _ shape: [Int]) -> ValueInfo { ValueInfo(name: name, dtype: .float32, dims: shape.map { .fixed($0) }) }

    func deployAndCompare(_ g: Graph, scale: Float = 1, file: StaticString = #filePath, line: UInt = #line) throws -> QuantizedModel {
        let q = try Calibrator(model: try Model(graph: g)).calibrate(["x": values([8, 2, 4, 4], seed: 3, scale: scale)])
        XCTAssertTrue(q.isDPUDeployable, file: file, line: line)
        let program = try Compiler.compile(q.quantizedGraph)
        let x = values([1, 2, 4, 4], seed: 11, scale: 1.5 * scale)
        XCTAssertEqual(try Emulator(program: program).run(["x": x]).outputs["y"], try q.run(["x": x])["y"], file: file, line: line)
        return q
    }

    func testHardSigmoidOutputInAConcatKeepsItsFixPos() throws {
        let g = Graph(name: "hs_concat", nodes: [
            Node(name: "hs", opType: "HardSigmoid", inputs: ["x"], outputs: ["h"], attributes: ["alpha": .float(1.0 / 6), "beta": .float(0.5)]),
            Node(name: "conv", opType: "Conv", inputs: ["h", "W"], outputs: ["c"], attributes: ["kernel_shape": .ints([1, 1])]),
            Node(name: "cat", opType: "Concat", inputs: ["c", "h"], outputs: ["y"], attributes: ["axis": .int(1)]),
        ], initializers: ["W": Tensor(shape: [2, 2, 1, 1], floats: [4, 4, 4, 4])],
        inputs: [info("x", [1, 2, 4, 4])], outputs: [info("y", [1, 4, 4, 4])])
        let q = try deployAndCompare(g)
        let fp = q.annotations.tensors.compactMapValues(\.fixPos)
        XCTAssertGreaterThanOrEqual(fp["h"] ?? 0, 7)   // the hard-sigmoid's range
        XCTAssertLessThan(fp["y"] ?? 99, 7)             // c (up to 8) needs a coarser one; the Concat requantizes h
    }

    /// Concat(x, 30·x) where x also feeds another conv: x keeps its own fix_pos (the other conv
    /// reads it at full precision) and the Concat requantizes it to the coarser output fix_pos.
    /// The emulator matches the integer evaluation on both outputs.
    func testConcatInputReadElsewhereKeepsItsFixPos() throws {
        let g = Graph(name: "concat_shared_input", nodes: [
            Node(name: "big", opType: "Conv", inputs: ["x", "Wb"], outputs: ["b"], attributes: ["kernel_shape": .ints([1, 1])]),
            Node(name: "cat", opType: "Concat", inputs: ["x", "b"], outputs: ["y"], attributes: ["axis": .int(1)]),
            Node(name: "other", opType: "Conv", inputs: ["x", "Wo"], outputs: ["z"], attributes: ["kernel_shape": .ints([1, 1])]),
        ], initializers: ["Wb": Tensor(shape: [2, 2, 1, 1], floats: [30, 0, 0, 30]),
                          "Wo": Tensor(shape: [2, 2, 1, 1], floats: [1, -0.5, 0.25, 0.75])],
        inputs: [info("x", [1, 2, 4, 4])], outputs: [info("y", [1, 4, 4, 4]), info("z", [1, 2, 4, 4])])
        let q = try deployAndCompare(g)
        let x = values([1, 2, 4, 4], seed: 11, scale: 1.5)
        XCTAssertEqual(try Emulator(program: try Compiler.compile(q.quantizedGraph)).run(["x": x]).outputs["z"], try q.run(["x": x])["z"])
        let fp = q.annotations.tensors.compactMapValues(\.fixPos)
        XCTAssertEqual(fp["x"], 6)                    // |x| < 2 on the calibration data
        XCTAssertLessThanOrEqual(fp["y"] ?? 99, 1)    // 30·x reaches 60
        XCTAssertFalse(q.annotations.adjustments.contains { $0.rule == "concat" && $0.tensor == "x" })
    }

    /// A hard-sigmoid whose only consumer is the Concat keeps its own quantizer: shared, the
    /// other member's shift_cut (fp ≤ 5 here, inputs up to 255) and the hard-sigmoid (≥ 7) undid
    /// each other.
    func testHardSigmoidOnlyFeedingAConcatHasItsOwnQuantizer() throws {
        let g = Graph(name: "hs_only_concat", nodes: [
            Node(name: "ca", opType: "Conv", inputs: ["x", "Wa"], outputs: ["a"], attributes: ["kernel_shape": .ints([1, 1])]),
            Node(name: "hs", opType: "HardSigmoid", inputs: ["a"], outputs: ["h"], attributes: ["alpha": .float(1.0 / 6), "beta": .float(0.5)]),
            Node(name: "cb", opType: "Conv", inputs: ["x", "Wb"], outputs: ["b"], attributes: ["kernel_shape": .ints([1, 1])]),
            Node(name: "cat", opType: "Concat", inputs: ["h", "b"], outputs: ["y"], attributes: ["axis": .int(1)]),
        ], initializers: ["Wa": Tensor(shape: [2, 2, 1, 1], floats: [0.5, -0.25, 0.75, 1]),
                          "Wb": Tensor(shape: [2, 2, 1, 1], floats: [1, -0.5, 0.25, 0.8])],
        inputs: [info("x", [1, 2, 4, 4])], outputs: [info("y", [1, 4, 4, 4])])
        let q = try deployAndCompare(g, scale: 120)
        XCTAssertNotEqual(q.plan.canonical["h"], q.plan.canonical["y"] ?? "y")
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(q.annotations.tensors["h"]?.fixPos), 7)
    }

    /// x · x of values near 1e6 into a hard-sigmoid (input ≥ 0): the factors rise instead.
    func testSquareOfHugeValuesIntoAHardSigmoid() throws {
        let g = Graph(name: "mul_hs", nodes: [
            Node(name: "sq", opType: "Mul", inputs: ["x", "x"], outputs: ["m"]),
            Node(name: "hs", opType: "HardSigmoid", inputs: ["m"], outputs: ["h"], attributes: ["alpha": .float(1.0 / 6), "beta": .float(0.5)]),
            Node(name: "c", opType: "Conv", inputs: ["h", "W"], outputs: ["y"], attributes: ["kernel_shape": .ints([1, 1])]),
        ], initializers: ["W": Tensor(shape: [2, 2, 1, 1], floats: [1, 0.5, -0.5, 1])],
        inputs: [info("x", [1, 2, 4, 4])], outputs: [info("y", [1, 2, 4, 4])])
        let q = try deployAndCompare(g, scale: 1e6)
        XCTAssertTrue(q.annotations.adjustments.contains { $0.rule == "mul_shift" && $0.tensor == "x" })
    }

    func testSquareOfSmallValuesInAConcatLowersTheFactors() throws {
        let g = Graph(name: "mul_concat", nodes: [
            Node(name: "ca", opType: "Conv", inputs: ["x", "Wa"], outputs: ["a"], attributes: ["kernel_shape": .ints([1, 1])]),
            Node(name: "sq", opType: "Mul", inputs: ["a", "a"], outputs: ["s"]),
            Node(name: "cb", opType: "Conv", inputs: ["x", "Wb"], outputs: ["b"], attributes: ["kernel_shape": .ints([1, 1])]),
            Node(name: "cat", opType: "Concat", inputs: ["s", "b"], outputs: ["y"], attributes: ["axis": .int(1)]),
        ], initializers: ["Wa": Tensor(shape: [2, 2, 1, 1], floats: [Float](repeating: 1e-3, count: 4)),
                          "Wb": Tensor(shape: [2, 2, 1, 1], floats: [Float](repeating: 200, count: 4))],
        inputs: [info("x", [1, 2, 4, 4])], outputs: [info("y", [1, 4, 4, 4])])
        let q = try deployAndCompare(g)
        let fp = q.annotations.tensors.compactMapValues(\.fixPos)
        let a = try XCTUnwrap(fp["a"]), y = try XCTUnwrap(fp[q.plan.canonical["s"] ?? "s"])
        XCTAssertLessThanOrEqual(2 * a - y, 24)
        XCTAssertTrue(q.annotations.adjustments.contains { $0.rule == "mul_shift" && $0.tensor == "a" })
    }
}
