import OctetGraph
import OctetTensor
import OctetTestSupport
import XCTest

/// Float parity with onnxruntime on the real models in ../shared: every output on every
/// eval sample within 1e-4 of the output's max magnitude (ONNX Runtime 1.31 references).
final class SharedModelParityTests: XCTestCase {
    func testEveryModelMatchesOnnxruntime() throws {
        KernelConfig.threads = 2
        var report: [String] = []
        for sm in try SharedModels.require() {
            let model = try Model.load(path: sm.modelPath)
            let x = try sm.input("eval")
            let outs = try model.run([sm.inputName: x])
            for (name, ref) in try sm.referenceOutputs() {
                let got = try XCTUnwrap(outs[name], "\(sm.name): missing output \(name)")
                XCTAssertEqual(got.shape, ref.shape, "\(sm.name)/\(name)")
                let r = relativeError(got.floats, ref.floats)
                report.append("\(sm.name)/\(name): worst relative error \(String(format: "%.2e", r)) over \(x.shape[0]) samples")
                XCTAssertLessThanOrEqual(r, 1e-4, "\(sm.name)/\(name)")
            }
        }
        print(report.joined(separator: "\n"))
    }

    /// max |a − b| / max |b|.
    func relativeError(_ a: [Float], _ b: [Float]) -> Float {
        var maxDiff: Float = 0, maxRef: Float = 0
        for i in 0..<min(a.count, b.count) {
            maxDiff = max(maxDiff, abs(a[i] - b[i]))
            maxRef = max(maxRef, abs(b[i]))
        }
        return maxDiff / max(maxRef, 1e-30)
    }
}
