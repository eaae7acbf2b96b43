import Foundation
import OctetGraph
import OctetTensor
import XCTest

/// The embedded default model (tutorials/data) in the float engine: onnxruntime scores
/// 487/500 = 97.4 % on digits_test.npz (scripts/make-default-model prints it).
final class DefaultModelTests: XCTestCase {
    static var dataDir: String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("tutorials/data").path
    }

    func testFloatAccuracyMatchesOnnxruntime() throws {
        let model = try Model.load(path: "\(Self.dataDir)/digits_cnn.onnx")
        XCTAssertEqual(model.graph.inputs[0].dims.first, .fixed(1))
        let test = try NPY.readArchive(path: "\(Self.dataDir)/digits_test.npz")
        let images = try XCTUnwrap(test["images"]), labels = try XCTUnwrap(test["labels"])
        XCTAssertEqual(images.shape, [500, 1, 28, 28])
        let logits = try model.run(images)
        let acc = try Accuracy.topK(logits: logits, labels: labels.asInt64Array().map { Int($0) })
        XCTAssertEqual(Int((acc * 500).rounded()), 487)
    }
}
