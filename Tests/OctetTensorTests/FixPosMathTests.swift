import XCTest
@testable import OctetTensor

/// Non-overflow and "diffs" fix_pos (reference-quantizer §2.1), worked by hand.
final class FixPosMathTests: XCTestCase {
    func testNonOverflowHalfLSBAllowanceBoundary() {
        // max = 127.5·2^−3 = 15.9375: 15.9375·8 = 127.5 ≤ 127.5 fits, ·16 = 255 does not → fp 3.
        XCTAssertEqual(QuantMath.nonOverflowFixPos(min: 0, max: 15.9375), 3)
        // Slightly above: 15.94·8 = 127.52 > 127.5 → fp 2.
        XCTAssertEqual(QuantMath.nonOverflowFixPos(min: 0, max: 15.94), 2)
        // One ulp above 15.9375 still exceeds 127.5 after scaling (exact test) → fp 2.
        XCTAssertEqual(QuantMath.nonOverflowFixPos(min: 0, max: Float(15.9375).nextUp), 2)
        // Negative side: −128.5·2^−3 = −16.0625 fits at fp 3; −16.07 does not.
        XCTAssertEqual(QuantMath.nonOverflowFixPos(min: -16.0625, max: 1), 3)
        XCTAssertEqual(QuantMath.nonOverflowFixPos(min: -16.07, max: 1), 2)
        // Large range: max 1000 → 1000·2^−3 = 125 ≤ 127.5, 1000·2^−2 = 250 → fp −3.
        XCTAssertEqual(QuantMath.nonOverflowFixPos(min: -1, max: 1000), -3)
        // 16-bit: max 1.0 → 2^15 = 32768 > 32767.5, 2^14 fits → fp 14.
        XCTAssertEqual(QuantMath.nonOverflowFixPos(min: 0, max: 1, range: try! QuantRange(bits: 16)), 14)
    }

    func testDegenerateRangeGives18(){
        XCTAssertEqual(QuantMath.nonOverflowFixPos(min: 0, max: 0), 18)
        // step = 1e−40/127.5 is below FLT_MIN (1.18e−38).
        XCTAssertEqual(QuantMath.nonOverflowFixPos(min: 0, max: Float(1e-40 as Double)), 18)
    }

    func testAllZeroTensorClampsTo12() throws {
        let zeros = [Float](repeating: 0, count: 10)
        try zeros.withUnsafeBufferPointer { buf in
            // Every candidate 18…22 has SSE 0; strict < keeps 18; the clamp gives 12.
            let s = try QuantMath.diffsFixPos(buf, scope: 5, rounding: .halfUp, maxFixPos: 12)
            XCTAssertEqual(s.startFixPos, 18)
            XCTAssertEqual(s.sse, [0, 0, 0, 0, 0])
            XCTAssertEqual(s.fixPos, 12)
            let unclamped = try QuantMath.diffsFixPos(buf, scope: 5, rounding: .halfUp, maxFixPos: 100)
            XCTAssertEqual(unclamped.fixPos, 18)
        }
        XCTAssertEqual(QuantMath.maxFixPos(bits: 8), 12)
        XCTAssertEqual(QuantMath.maxFixPos(bits: 16), 15)
    }

    func testDiffsCandidateChoiceByHand() throws {
        // x = [2.0, 1/64, 3/64], half-up, int8. Non-overflow: 2·2^fp ≤ 127.5 → fp0 = 5.
        // fp 5 (step 1/32): 2 → 64 exact; 1/64·32 = 0.5 → 1 (err −1/64); 3/64·32 = 1.5 → 2 (err −1/64)
        //   SSE = 2/4096 = 0.00048828125
        // fp 6 (step 1/64): 2 → 128 → 127 (err 1/64); 1/64 → 1, 3/64 → 3 exact
        //   SSE = 1/4096 = 0.000244140625   ← minimum
        // fp 7: 2 → 256 → 127 → 0.9921875 (err 1.0078125); SSE = 1.0078125² = 1.01571655...
        // fp 8: 127/256 = 0.49609375 (err 1.50390625);       SSE = 2.26173400878...
        // fp 9: 127/512 = 0.248046875 (err 1.751953125);     SSE = 3.06933975219...
        let x: [Float] = [2.0, 1.0 / 64, 3.0 / 64]
        try x.withUnsafeBufferPointer { buf in
            let s = try QuantMath.diffsFixPos(buf, scope: 5, rounding: .halfUp, maxFixPos: 12)
            XCTAssertEqual(s.startFixPos, 5)
            XCTAssertEqual(s.fixPos, 6)
            let want = [2.0 / 4096, 1.0 / 4096, 1.0078125 * 1.0078125,
                        1.50390625 * 1.50390625, 1.751953125 * 1.751953125]
            for (a, b) in zip(s.sse, want) { XCTAssertEqual(a, b, accuracy: 1e-12) }
            // Scope 1 (network inputs): pure non-overflow.
            XCTAssertEqual(try QuantMath.diffsFixPos(buf, scope: 1, rounding: .halfUp, maxFixPos: 12).fixPos, 5)
            // A clamp below the winner: maxFixPos 4 gives 4.
            XCTAssertEqual(try QuantMath.diffsFixPos(buf, scope: 5, rounding: .halfUp, maxFixPos: 4).fixPos, 4)
        }
    }

    func testRoundingModeChangesTheChoice() throws {
        // Same x with half-even at fp 5: 0.5 → 0 (err 1/64), 1.5 → 2 (err −1/64): SSE still 2/4096.
        // With floor at fp 5: 0.5 → 0, 1.5 → 1: errors 1/64, 1/64 → 2/4096; fp 6 still wins.
        let x: [Float] = [2.0, 1.0 / 64, 3.0 / 64]
        try x.withUnsafeBufferPointer { buf in
            for mode in [RoundingMode.halfEven, .floor] {
                let s = try QuantMath.diffsFixPos(buf, scope: 5, rounding: mode, maxFixPos: 12)
                XCTAssertEqual(s.sse[0], 2.0 / 4096, accuracy: 1e-12)
                XCTAssertEqual(s.fixPos, 6)
            }
        }
    }

    func testNonFiniteAndEmptyThrow() throws {
        let bad: [Float] = [1, .nan, 2]
        try bad.withUnsafeBufferPointer { buf in
            XCTAssertEqual(QuantMath.rangeStatistics(buf).nonFinite, 1)
            XCTAssertThrowsError(try QuantMath.diffsFixPos(buf, scope: 5, rounding: .halfUp, maxFixPos: 12))
        }
        try [Float]().withUnsafeBufferPointer { buf in
            XCTAssertThrowsError(try QuantMath.diffsFixPos(buf, scope: 5, rounding: .halfUp, maxFixPos: 12))
        }
    }

    func testStatisticsAndSSEOnLargeBufferAreChunkIndependent() {
        // 300 001 elements spread over several chunks: min/max and SSE equal a plain loop.
        let n = 300_001
        let xs = (0..<n).map { Float(($0 * 7919) % 10007) * 0.001 - 5 }
        xs.withUnsafeBufferPointer { buf in
            let st = QuantMath.rangeStatistics(buf)
            XCTAssertEqual(st.min, xs.min())
            XCTAssertEqual(st.max, xs.max())
            let sse = QuantMath.sumSquaredErrors(buf, fixPositions: [4], rounding: .halfUp)[0]
            var plain = 0.0
            for x in xs {
                let e = x - QuantMath.fakeQuantize(x, fixPos: 4, rounding: .halfUp)
                plain += Double(e * e)
            }
            // blocks of 4096 are summed in Float (as the reference quantizer's float32 sums), then in Double
            XCTAssertEqual(sse, plain, accuracy: plain * 1e-6)
        }
    }
}
