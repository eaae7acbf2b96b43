import OctetGraph
@testable import OctetQuant
import OctetTensor
import XCTest

/// Fix_pos candidates scored through a consuming PRelu (`score_through_prelu`): negative values'
/// squared errors weighted by slope², worked by hand.
final class PReluScoringTests: XCTestCase {
    /// [1, 2, 1, 2]: channel 0 = [−3.3, 1.3], channel 1 = [0.6, −0.9]; negative weights [1/16, 4].
    /// Half-up: fp 0 rounds to −3, 1, 1, −1: 0.09/16 + 0.09 + 0.16 + 0.01·4 = 0.295625.
    /// fp 1 (halves): −3.5, 1.5, 0.5, −1.0: 0.04/16 + 0.04 + 0.01 + 0.01·4 = 0.0925.
    func testWeightedSumOfSquaredErrorsByHand() throws {
        let x: [Float] = [-3.3, 1.3, 0.6, -0.9]
        let w = try NegativeErrorWeights(perChannel: [1.0 / 16, 4])
        let sse = x.withUnsafeBufferPointer {
            QuantMath.sumSquaredErrors($0, shape: [1, 2, 1, 2], negativeWeights: w, fixPositions: [0, 1], rounding: .halfUp)
        }
        XCTAssertEqual(sse[0], 0.295625, accuracy: 1e-6)
        XCTAssertEqual(sse[1], 0.0925, accuracy: 1e-6)
        // One weight applies to every channel: weight 1 is the plain SSE.
        let one = try NegativeErrorWeights(perChannel: [1])
        let plain = x.withUnsafeBufferPointer { QuantMath.sumSquaredErrors($0, fixPositions: [0, 1], rounding: .halfUp) }
        let same = x.withUnsafeBufferPointer {
            QuantMath.sumSquaredErrors($0, shape: [1, 2, 1, 2], negativeWeights: one, fixPositions: [0, 1], rounding: .halfUp)
        }
        XCTAssertEqual(same[0], plain[0], accuracy: 1e-6)
        XCTAssertEqual(same[1], plain[1], accuracy: 1e-6)
        XCTAssertThrowsError(try NegativeErrorWeights(perChannel: [-1]))
        // Three weights for two channels: observing is an error, not a crash.
        let three = try NegativeErrorWeights(perChannel: [1, 2, 3])
        XCTAssertThrowsError(try DiffsObserver(negativeWeights: three).observe(Tensor(shape: [1, 2, 1, 2], floats: x)))
        XCTAssertThrowsError(try MinMSEObserver(negativeWeights: three).observe(Tensor(shape: [1, 2, 1, 2], floats: x)))
        XCTAssertThrowsError(try NegativeErrorWeights(perChannel: []))
    }

    /// Two −7.9 and two 0.3. fp0 = 4 (7.9·16 = 126.4 ≤ 128.5). Plain: fp 5 saturates −7.9 at −4,
    /// so fp 4 wins (error 2·0.025² + 2·0.0125² ≈ 1.6e-3). With the negatives weighted 1e-6:
    /// fp 4 ≈ 3.1e-4 (the positives: 0.3 → 0.3125), fp 5 ≈ 3.0e-5 + 3.1e-4, fp 6 ≈ 2·5.9²·1e-6 +
    /// 2·(0.3 − 19/64)² ≈ 8.9e-5, fp 7 ≈ 1.15e-4, fp 8 ≈ 1.1e-4: fp 6 for diffs and minmse.
    func testObserversPickTheFixPosThePReluOutputNeeds() throws {
        let x = Tensor(shape: [1, 1, 2, 2], floats: [-7.9, -7.9, 0.3, 0.3])
        let w = try NegativeErrorWeights(perChannel: [1e-6])
        for (plain, weighted) in [
            (DiffsObserver.activation() as Observer, try DiffsObserver(negativeWeights: w) as Observer),
            (try MinMSEObserver(), try MinMSEObserver(negativeWeights: w)),
            (try ObserverKind.diffs.makeObserver(), try ObserverKind.diffs.makeObserver(negativeWeights: w)),
            (try ObserverKind.minmse.makeObserver(), try ObserverKind.minmse.makeObserver(negativeWeights: w)),
        ] {
            try plain.observe(x); try weighted.observe(x)
            XCTAssertEqual(try plain.quantParams().fixPos, 4, "\(plain.kind)")
            XCTAssertEqual(try weighted.quantParams().fixPos, 6, "\(weighted.kind)")
        }
    }

    /// ONNX PRelu broadcasts the slope to X from the right: [C, 1, 1] and [1, C, 1, 1] vary along
    /// axis 1 of NCHW, [C] along the last axis (axis 1 only for [N, C]).
    func testPReluSlopeLayouts() {
        func w(_ shape: [Int], _ v: [Float], rank: Int) -> [Float]? {
            NegativeErrorWeights.prelu(slope: Tensor(shape: shape, floats: v), inputRank: rank)?.perChannel
        }
        XCTAssertEqual(w([1], [0.5], rank: 4), [0.25])
        XCTAssertEqual(w([], [-0.5], rank: 4), [0.25])
        XCTAssertEqual(w([2, 1, 1], [0.5, 2], rank: 4), [0.25, 4])
        XCTAssertEqual(w([1, 2, 1, 1], [0.5, 2], rank: 4), [0.25, 4])
        XCTAssertEqual(w([2], [0.5, 2], rank: 2), [0.25, 4])
        XCTAssertNil(w([2], [0.5, 2], rank: 4))          // varies along W
        XCTAssertNil(w([2, 2, 1], [1, 2, 3, 4], rank: 4))  // varies along H too
        XCTAssertNil(w([1], [.nan], rank: 4))
    }

    /// Conv → PRelu → Conv: the conv output is weighted by slope² only with the option, and only
    /// while every reader is that PRelu.
    func testCalibratorWeightsTensorsReadOnlyByPRelu() throws {
        func model(extraReader: Bool) throws -> Model {
            var t = TinyNet(seed: 4)
            let c = t.conv("c1", "x", out: 2, in: 3, k: 3, pad: 1)
            t.inits["slope"] = Tensor(shape: [2, 1, 1], floats: [0.25, 0.5])
            var y = t.op("p", "PRelu", c, extra: ["slope"])
            if extraReader { y = t.op("add", "Add", y, extra: [c]) }
            y = t.conv("c2", y, out: 2, in: 2, k: 1)
            return try Model(graph: t.graph(input: [1, 3, 4, 4], output: y), batchSize: 1)
        }
        var on = QConfig(); on.scoreThroughPRelu = true
        let weights = try Calibrator(model: try model(extraReader: false), config: on).preluErrorWeights()
        XCTAssertEqual(weights.mapValues(\.perChannel), ["c1_y": [0.0625, 0.25]])
        XCTAssertEqual(try Calibrator(model: try model(extraReader: false)).preluErrorWeights().count, 0)
        XCTAssertEqual(try Calibrator(model: try model(extraReader: true), config: on).preluErrorWeights().count, 0)
        XCTAssertEqual(try QConfig(options: ["score_through_prelu": "true"]).scoreThroughPRelu, true)
        XCTAssertTrue(on.isDPUDeployable)
    }
}
