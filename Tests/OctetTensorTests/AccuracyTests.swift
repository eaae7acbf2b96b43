import OctetTensor
import XCTest

final class AccuracyTests: XCTestCase {
    // logits rows: [0.1, 0.7, 0.2] → class 1; [0.5, 0.3, 0.2] → class 0; [0.2, 0.3, 0.5] → class 2
    let logits = Tensor(shape: [3, 3], floats: [0.1, 0.7, 0.2, 0.5, 0.3, 0.2, 0.2, 0.3, 0.5])

    func testTop1AndTop2ByHand() throws {
        // labels 1, 1, 2: top-1 hits rows 0 and 2 → 2/3; row 1's label (0.3) is 2nd largest → top-2 3/3
        XCTAssertEqual(try Accuracy.topK(logits: logits, labels: [1, 1, 2], k: 1), 2.0 / 3.0, accuracy: 1e-12)
        XCTAssertEqual(try Accuracy.topK(logits: logits, labels: [1, 1, 2], k: 2), 1.0, accuracy: 1e-12)
        XCTAssertEqual(try Accuracy.topK(logits: logits, labels: [1, 1, 2], k: 3), 1.0, accuracy: 1e-12)
        // k beyond the classes would count every label: refused.
        XCTAssertThrowsError(try Accuracy.topK(logits: logits, labels: [1, 1, 2], k: 4)) {
            XCTAssertTrue("\($0)".contains("top-4 accuracy needs at least 4 classes, the logits have 3"), "\($0)")
        }
    }

    /// A collapsed model (every logit 0) is right only where the label is class 0, as arg-max
    /// would say: 1 of the labels [0, 5, 9] → 1/3, not 3/3. Top-2 ties go to indices 0 and 1.
    func testTiesGoToTheLowerClassIndex() throws {
        let zeros = Tensor(shape: [3, 10], floats: Array(repeating: 0, count: 30))
        XCTAssertEqual(try Accuracy.topK(logits: zeros, labels: [0, 5, 9], k: 1), 1.0 / 3.0, accuracy: 1e-12)
        XCTAssertEqual(try Accuracy.topK(logits: zeros, labels: [1, 5, 9], k: 2), 1.0 / 3.0, accuracy: 1e-12)
        // [0.5, 0.9, 0.9]: class 1 wins the tie, class 2 is second.
        let tie = Tensor(shape: [1, 3], floats: [0.5, 0.9, 0.9])
        XCTAssertEqual(try Accuracy.topK(logits: tie, labels: [1], k: 1), 1)
        XCTAssertEqual(try Accuracy.topK(logits: tie, labels: [2], k: 1), 0)
        XCTAssertEqual(try Accuracy.topK(logits: tie, labels: [2], k: 2), 1)
    }

    func testAgreement() throws {
        let other = Tensor(shape: [3, 3], floats: [0, 1, 0, 0, 0, 1, 0, 0, 1])  // argmax 1, 2, 2
        XCTAssertEqual(try Accuracy.top1Agreement(logits, other), 2.0 / 3.0, accuracy: 1e-12)
    }

    func testBadLabelsAndNaNRows() {
        XCTAssertThrowsError(try Accuracy.topK(logits: logits, labels: [1, 3, 2], k: 1)) {
            XCTAssertEqual("\($0)", "shape mismatch: label 3 of sample 1 is not a class index in 0..<3")
        }
        XCTAssertThrowsError(try Accuracy.topK(logits: logits, labels: [-1, 0, 0], k: 1))
        let nan = Tensor(shape: [2, 2], floats: [.nan, .nan, 1, 0])  // row 0 all NaN: wrong; row 1 label 0: right
        XCTAssertEqual(try Accuracy.topK(logits: nan, labels: [0, 0], k: 1), 0.5, accuracy: 1e-12)
    }

    func testShapeErrors() {
        XCTAssertThrowsError(try Accuracy.topK(logits: logits, labels: [1, 2], k: 1))
        XCTAssertThrowsError(try Accuracy.top1Agreement(logits, Tensor(shape: [1, 3], floats: [0, 0, 0])))
        // A segmentation map [N, C, H, W] has no one class per sample.
        let map = Tensor(shape: [1, 2, 2, 2], floats: [0, 1, 0, 1, 1, 0, 1, 0])
        XCTAssertThrowsError(try Accuracy.top1Agreement(map, map)) {
            XCTAssertEqual("\($0)", "shape mismatch: agreement needs logits [N, classes] of equal shapes; got [1, 2, 2, 2] and [1, 2, 2, 2]")
        }
    }
}
