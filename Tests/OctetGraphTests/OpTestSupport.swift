import XCTest
import OctetTensor
@testable import OctetGraph

/// Runs one node through `Executor` on a hand-built graph. A `nil` input becomes an
/// omitted optional input (empty name). Returns the node's outputs in order.
func runOp(_ op: String, _ inputs: [Tensor?], attributes: [String: Attribute] = [:], opset: Int = 13,
           outputs: Int = 1) throws -> [Tensor] {
    var names: [String] = []
    var infos: [ValueInfo] = []
    var feeds: [String: Tensor] = [:]
    for (i, t) in inputs.enumerated() {
        guard let t else { names.append(""); continue }
        let name = "x\(i)"
        names.append(name)
        infos.append(ValueInfo(name: name, dtype: t.dtype, dims: t.shape.map { .fixed($0) }))
        feeds[name] = t
    }
    let outs = (0..<outputs).map { "y\($0)" }
    let node = Node(name: "n", opType: op, inputs: names, outputs: outs, attributes: attributes)
    let graph = Graph(nodes: [node], inputs: infos,
                      outputs: outs.map { ValueInfo(name: $0, dtype: .float32, dims: []) }, opset: opset)
    let result = try Executor(graph: graph).run(feeds)
    return outs.map { result[$0]! }
}

/// `runOp` for single-output nodes.
func run1(_ op: String, _ inputs: [Tensor?], _ attributes: [String: Attribute] = [:], opset: Int = 13) throws -> Tensor {
    try runOp(op, inputs, attributes: attributes, opset: opset)[0]
}

func floats(_ shape: [Int], _ v: [Float]) -> Tensor { Tensor(shape: shape, floats: v) }
func int64s(_ v: [Int64]) -> Tensor { Tensor(shape: [v.count], int64s: v) }

/// Asserts shape and float values agree within `tol`.
func assertClose(_ t: Tensor, _ shape: [Int], _ expected: [Float], tol: Float = 1e-6,
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(t.shape, shape, "shape", file: file, line: line)
    XCTAssertEqual(t.dtype, .float32, "dtype", file: file, line: line)
    guard t.dtype == .float32, t.count == expected.count else {
        XCTFail("got \(t.count) elements, expected \(expected.count)", file: file, line: line); return
    }
    for (i, (a, b)) in zip(t.floats, expected).enumerated() where !(abs(a - b) <= tol) {
        XCTFail("element \(i): got \(a), expected \(b)", file: file, line: line)
        return
    }
}

/// Asserts that running the op throws an `OctetGraphError` whose message contains `fragment`.
func assertOpThrows(_ fragment: String, file: StaticString = #filePath, line: UInt = #line,
                    _ body: () throws -> Any) {
    do {
        _ = try body()
        XCTFail("expected an error containing '\(fragment)'", file: file, line: line)
    } catch let e as OctetGraphError {
        XCTAssertTrue(e.description.contains(fragment), "'\(e.description)' lacks '\(fragment)'", file: file, line: line)
    } catch {
        XCTFail("unexpected error \(error)", file: file, line: line)
    }
}
