import XCTest
import OctetTensor
@testable import OctetGraph

/// Runs every single-node model in `Fixtures/ops` (written by `scripts/make-op-fixtures`)
/// through `ONNXImporter` and `Executor`, and compares with onnxruntime's outputs: float
/// outputs within 1e-5 × max |reference|, integer and bool outputs exactly.
final class OpFixtureTests: XCTestCase {
    struct Case { let name, family, op: String; let opset: Int }

    static let root: URL = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/ops")

    static let cases: [Case] = {
        guard let text = try? String(contentsOf: root.appendingPathComponent("cases.tsv"), encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: "\t").map(String.init)
            return f.count == 4 ? Case(name: f[0], family: f[1], op: f[2], opset: Int(f[3]) ?? 0) : nil
        }
    }()

    func testElementwise() throws { try runFamily("elementwise", minimum: 50) }
    func testShape() throws { try runFamily("shape", minimum: 45) }
    func testReduce() throws { try runFamily("reduce", minimum: 30) }
    func testResize() throws { try runFamily("resize", minimum: 30) }
    func testConstant() throws { try runFamily("constant", minimum: 15) }
    func testConv() throws { try runFamily("conv", minimum: 12) }
    func testLinear() throws { try runFamily("linear", minimum: 12) }
    func testActivation() throws { try runFamily("activation", minimum: 14) }
    func testPool() throws { try runFamily("pool", minimum: 10) }

    /// Runs every case of `family`; each failing case is reported by name.
    private func runFamily(_ family: String, minimum: Int) throws {
        let selected = Self.cases.filter { $0.family == family }
        XCTAssertGreaterThanOrEqual(selected.count, minimum, "fixtures missing: run scripts/make-op-fixtures")
        for c in selected {
            do {
                try check(c)
            } catch {
                XCTFail("\(c.name) [\(c.op), opset \(c.opset)]: \(error)")
            }
        }
    }

    private func check(_ c: Case) throws {
        let dir = Self.root.appendingPathComponent(c.name)
        let graph = try ONNXImporter.load(path: dir.appendingPathComponent("model.onnx").path)
        XCTAssertEqual(graph.opset, c.opset, c.name)
        var feeds: [String: Tensor] = [:]
        for (i, input) in graph.inputs.enumerated() {
            feeds[input.name] = try NPY.read(path: dir.appendingPathComponent("in_\(i).npy").path)
        }
        let result = try Executor(graph: graph).run(feeds)
        for (i, output) in graph.outputs.enumerated() {
            let expected = try NPY.read(path: dir.appendingPathComponent("out_\(i).npy").path)
            guard let got = result[output.name] else { XCTFail("\(c.name): output \(i) missing"); continue }
            compare(got, expected, "\(c.name) [\(c.op), opset \(c.opset)] output \(i)")
        }
    }

    private func compare(_ got: Tensor, _ expected: Tensor, _ label: String) {
        guard got.shape == expected.shape else {
            XCTFail("\(label): shape \(got.shape), expected \(expected.shape)"); return
        }
        guard expected.dtype == .float32 else {
            XCTAssertEqual(got.dtype, expected.dtype, "\(label): dtype")
            XCTAssertEqual(got.asInt64Array(), expected.asInt64Array(), "\(label): values")
            return
        }
        guard got.dtype == .float32 else { XCTFail("\(label): dtype \(got.dtype), expected float32"); return }
        let ref = expected.floats, out = got.floats
        let scale = max(ref.filter(\.isFinite).map { abs($0) }.max() ?? 0, Float.leastNormalMagnitude)
        var worst = (index: -1, error: Float(0))
        for i in ref.indices {
            if !ref[i].isFinite || !out[i].isFinite {  // NaN and ±inf must match exactly
                if !(ref[i] == out[i] || (ref[i].isNaN && out[i].isNaN)) { worst = (i, .infinity) }
                continue
            }
            let e = abs(out[i] - ref[i]) / scale
            if !(e <= worst.error) { worst = (i, e.isNaN ? .infinity : e) }
        }
        if worst.error > 1e-5 {
            XCTFail("\(label): element \(worst.index) = \(out[worst.index]), expected \(ref[worst.index]) (relative error \(worst.error))")
        }
    }
}
