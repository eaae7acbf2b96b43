import OctetGraph
@testable import OctetQuant
import OctetTensor
import XCTest

final class GroupingReportTests: XCTestCase {
    /// x → convA → Relu (ra), x → convB → Clip(0, 6) (rb); Concat(ra, rb) → MaxPool → Flatten.
    /// ra and rb share the Concat output's quantizer; MaxPool and Flatten outputs keep it.
    static func concatGraph() -> Graph {
        Graph(name: "g", nodes: [
            Node(name: "convA", opType: "Conv", inputs: ["x", "wa"], outputs: ["ca"]),
            Node(name: "reluA", opType: "Relu", inputs: ["ca"], outputs: ["ra"]),
            Node(name: "convB", opType: "Conv", inputs: ["x", "wb"], outputs: ["cb"]),
            Node(name: "clipB", opType: "Clip", inputs: ["cb", "zero", "six"], outputs: ["rb"]),
            Node(name: "cat", opType: "Concat", inputs: ["ra", "rb"], outputs: ["c"], attributes: ["axis": .int(1)]),
            Node(name: "pool", opType: "MaxPool", inputs: ["c"], outputs: ["m"], attributes: ["kernel_shape": .ints([2, 2])]),
            Node(name: "flat", opType: "Flatten", inputs: ["m"], outputs: ["y"]),
        ], initializers: ["wa": Tensor(shape: [2, 1, 1, 1], floats: [1, -0.5]), "wb": Tensor(shape: [2, 1, 1, 1], floats: [2, 0.25]),
                          "zero": Tensor(scalar: 0), "six": Tensor(scalar: 6)],
              inputs: [PTQTestGraphs.info("x", [1, 1, 2, 2])], outputs: [PTQTestGraphs.info("y", [1, 4])])
    }

    func testConcatAndPassThroughShareFixPos() throws {
        let x = Tensor(shape: [3, 1, 2, 2], floats: PTQTestGraphs.values(12, seed: 11, lo: -2, hi: 4))
        let q = try Calibrator(model: try Model(graph: Self.concatGraph())).calibrate(["x": x])
        XCTAssertEqual(q.plan.activations.sorted(), ["c", "x"])
        for t in ["ra", "rb", "m", "y"] { XCTAssertEqual(q.annotations.shares[t], "c", t) }
        XCTAssertEqual(q.annotations.nodes[2].activation, .relu6)
        // Integer result equals max-pool of the concatenated group outputs, all at one fix_pos.
        let r = try q.run(["x": x], capture: true)
        let fp = q.annotations.fixPos("c")!
        XCTAssertEqual(r.captured["y"]!.fixPos, fp)
        let c = r.captured["c"]!.codes.int8s, y = r.captured["y"]!.codes.int8s
        for n in 0..<3 { for ch in 0..<4 { XCTAssertEqual(y[n * 4 + ch], c[(n * 4 + ch) * 4..<((n * 4 + ch) * 4 + 4)].max()!) } }
    }

    func testReport() throws {
        let x = Tensor(shape: [4, 1, 2, 2], floats: PTQTestGraphs.values(16, seed: 12, lo: 0, hi: 1))
        let q = try Calibrator(model: try Model(graph: Self.concatGraph())).calibrate(["x": x])
        let report = try QuantReport.make(q, feeds: ["x": x])
        XCTAssertEqual(report.tensors.map(\.tensor).sorted(), ["c", "x"])
        XCTAssertTrue(report.warnings.contains { $0.contains("'x'") && $0.contains("half") })
        XCTAssertEqual(Set(report.sensitivity.map(\.node)), ["convA", "convB", "cat"])
        XCTAssertTrue(report.tensors.allSatisfy { $0.sqnr > 20 })
        XCTAssertEqual(report.sensitivity, report.sensitivity.sorted { $0.sqnr < $1.sqnr })
        XCTAssertTrue(report.table.contains("fix_pos"))
    }
}
