import OctetTensor
import XCTest

/// `TensorBatch.join`: a tensor inside a graph, computed chunk by chunk (chunks of 2, the last padded).
final class TensorBatchTests: XCTestCase {
    func testBatchFirstChunksAreCutToTheirSamplesAndConcatenated() throws {
        let parts = [Tensor(shape: [2, 1], floats: [1, 2]), Tensor(shape: [2, 1], floats: [3, 0])]   // the last row is padding
        XCTAssertEqual(try TensorBatch.join(parts, name: "t", samples: 3, batchSize: 2), Tensor(shape: [3, 1], floats: [1, 2, 3]))
        XCTAssertEqual(try TensorBatch.join([Tensor(shape: [2, 1], floats: [5, 0])], name: "t", samples: 1, batchSize: 2),
                       Tensor(shape: [1, 1], floats: [5]))
    }

    func testAConstantComesOutOnceAndAOneBatchRunAsComputed() throws {
        let k = Tensor(shape: [3], floats: [1, 2, 3])
        XCTAssertEqual(try TensorBatch.join([k, k, k], name: "k", samples: 5, batchSize: 2), k)
        let whole = Tensor(shape: [3, 2], floats: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(try TensorBatch.join([whole], name: "t", samples: 2, batchSize: 2), whole)
    }

    /// Batch not on axis 0 ([3, 2] for a batch of 2): only a run of one batch computes it.
    func testATensorWithoutTheBatchOnAxisZeroIsRefusedWhenChunked() {
        let a = Tensor(shape: [3, 2], floats: [1, 2, 3, 4, 5, 6]), b = Tensor(shape: [3, 2], floats: [7, 0, 8, 0, 9, 0])
        XCTAssertThrowsError(try TensorBatch.join([a, b], name: "tr", samples: 3, batchSize: 2)) { e in
            XCTAssertEqual("\(e)", "unsupported: tensor 'tr' [3, 2] does not have the batch on axis 0, so it is computed only for a batch of exactly 2 samples, not 3; run 2 at a time")
        }
        XCTAssertThrowsError(try TensorBatch.join([b], name: "tr", samples: 1, batchSize: 2))   // one padded chunk
    }
}
