import XCTest
import OctetTensor
@testable import OctetGraph

/// The executor's unhooked plan: Conv → Relu / Clip fused into one Conv with a clamp, and the
/// timing callback seeing exactly the nodes that run.
final class ExecutorPlanTests: XCTestCase {
    private func info(_ name: String, _ shape: [Int]) -> ValueInfo {
        ValueInfo(name: name, dtype: .float32, dims: shape.map { .fixed($0) })
    }

    /// x [1,1,1,3] → Conv 1×1 (w = 2, b = −1) → Clip(0, 3) → Add(x): y = clamp(2x − 1, 0, 3) + x.
    private func graph() -> Graph {
        Graph(nodes: [Node(name: "conv", opType: "Conv", inputs: ["x", "w", "b"], outputs: ["c"]),
                      Node(name: "clip", opType: "Clip", inputs: ["c", "lo", "hi"], outputs: ["r"]),
                      Node(name: "add", opType: "Add", inputs: ["r", "x"], outputs: ["y"])],
              initializers: ["w": Tensor(shape: [1, 1, 1, 1], floats: [2]), "b": Tensor(shape: [1], floats: [-1]),
                             "lo": Tensor(scalar: 0), "hi": Tensor(scalar: 3)],
              inputs: [info("x", [1, 1, 1, 3])], outputs: [info("y", [1, 1, 1, 3])])
    }

    func testFusedPlanComputesTheSameAndTimesOnlyWhatRuns() throws {
        let x = Tensor(shape: [1, 1, 1, 3], floats: [-1, 1, 4])
        let executor = try Executor(graph: graph())
        var timed: [(Int, String, Bool)] = []
        let fused = try executor.run(["x": x], timing: { i, node, _ in
            timed.append((i, node.opType, node.attributes[Executor.fusedClampAttribute] != nil))
        })
        // clamp(-3, 0, 3) + -1 = -1; clamp(1) + 1 = 2; clamp(7) + 4 = 7
        XCTAssertEqual(fused["y"]?.floats, [-1, 2, 7])
        XCTAssertEqual(timed.map(\.0), [0, 2], "the Clip is absorbed into the Conv")
        XCTAssertEqual(timed.map(\.1), ["Conv", "Add"])
        XCTAssertEqual(timed.first?.2, true)

        var hooked: [String] = []
        let unfused = try executor.run(["x": x], hook: { _, node, _ in hooked.append(node.opType) })
        XCTAssertEqual(unfused["y"]?.floats, [-1, 2, 7])
        XCTAssertEqual(hooked, ["Conv", "Clip", "Add"], "hooked runs see every node")
    }
}
