import XCTest
@testable import OctetTensor

final class QuantMathTests: XCTestCase {
    let halves: [Float] = [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5]

    // Expected rows from the definitions in reference-quantizer §3.1:
    // half_up = floor(x + 0.5); std_round = C round (away from zero); half_even = banker's;
    // half_down = ties toward zero.
    func testRoundingModesOnExactHalves() {
        let expected: [RoundingMode: [Float]] = [
            .halfUp: [-2, -1, 0, 1, 2, 3],
            .halfAwayFromZero: [-3, -2, -1, 1, 2, 3],
            .halfEven: [-2, -2, 0, 0, 2, 2],
            .floor: [-3, -2, -1, 0, 1, 2],
            .ceil: [-2, -1, 0, 1, 2, 3],
            .halfDown: [-2, -1, 0, 0, 1, 2],
        ]
        for (mode, want) in expected {
            XCTAssertEqual(halves.map { mode.round($0) }, want, "\(mode)")
        }
    }

    func testRoundingModesOffTies() {
        // Non-ties round to nearest for every "half" mode: 2.4 → 2, −2.6 → −3, 2.6 → 3.
        for mode in [RoundingMode.halfUp, .halfAwayFromZero, .halfEven, .halfDown] {
            XCTAssertEqual([Float(2.4), -2.6, 2.6, -2.4].map { mode.round($0) }, [2, -3, 3, -2], "\(mode)")
        }
        // 0.49999997 = 0.5 − 2^−25: floor(x + 0.5) in Float would give 1 (x + 0.5 rounds to 1.0);
        // the exact tie test gives 0.
        XCTAssertEqual(RoundingMode.halfUp.round(0.49999997), 0)
        XCTAssertEqual(RoundingMode.halfDown.round(-0.50000006), -1)
    }

    func testFastLoopRoundingMatchesScalarRounding() {
        // The buffer loops use SSE2-only rounding after a pre-clamp; compare with `round(_:)` on
        // halves, neighbours of halves, and values beyond the clamp (fp 0, int8 and int16).
        var xs: [Float] = [0, -0.0, 1e9, -1e9, 3e38, -3e38, .infinity, -.infinity]
        for k in -300...300 {
            let h = Float(k) + 0.5
            xs += [h, h.nextUp, h.nextDown, Float(k), Float(k).nextUp, Float(k).nextDown]
        }
        for x in [Float(32767.5), -32768.5, 32767.49, -32768.51, 40000.5] { xs.append(x) }
        let r16 = try! QuantRange(bits: 16)
        for mode in RoundingMode.allCases {
            for range in [QuantRange.int8, r16] {
                var ys = xs
                ys.withUnsafeMutableBufferPointer { QuantMath.fakeQuantize($0, fixPos: 0, range: range, rounding: mode) }
                for (x, y) in zip(xs, ys) {
                    XCTAssertEqual(y, range.clamp(mode.round(x)), "\(mode) \(x)")
                }
            }
        }
    }

    func testNNDCTCodesAndNames() throws {
        XCTAssertEqual(RoundingMode.allCases.map(\.nndctMethod).sorted(), [2, 3, 4, 6, 7, 8])
        for m in RoundingMode.allCases { XCTAssertEqual(RoundingMode(nndctMethod: m.nndctMethod), m) }
        XCTAssertNil(RoundingMode(nndctMethod: 5))
        XCTAssertEqual(try RoundingMode.parse("std_round"), .halfAwayFromZero)
        XCTAssertEqual(try RoundingMode.parse("DPU_ROUND"), .halfUp)
        XCTAssertEqual(try RoundingMode.parse("halfEven"), .halfEven)
        XCTAssertThrowsError(try RoundingMode.parse("stochastic")) { error in
            XCTAssertTrue("\(error)".contains("half_up"), "\(error)")
        }
    }

    func testRanges() throws {
        XCTAssertEqual(try QuantRange(bits: 8), QuantRange.int8)
        XCTAssertEqual(try QuantRange(bits: 8, narrowRange: true).qmin, -127)
        let r4 = try QuantRange(bits: 4)
        XCTAssertEqual([r4.qmin, r4.qmax], [-8, 7])
        let u16 = try QuantRange(bits: 16, signed: false)
        XCTAssertEqual([u16.qmin, u16.qmax], [0, 65535])
        let u8n = try QuantRange(bits: 8, signed: false, narrowRange: true)
        XCTAssertEqual([u8n.qmin, u8n.qmax], [1, 255])
        let b2 = try QuantRange(bits: 2)
        XCTAssertEqual([b2.qmin, b2.qmax], [-2, 1])
        XCTAssertThrowsError(try QuantRange(bits: 1))
        XCTAssertThrowsError(try QuantRange(bits: 17))
        XCTAssertEqual(try QuantRange(qmin: -7, qmax: 7), try QuantRange(bits: 4, narrowRange: true))
        XCTAssertThrowsError(try QuantRange(qmin: 3, qmax: 3))
    }

    func testPowerOfTwoScalarsSaturate() {
        // fp 3: 1.3·8 = 10.4 → 10 → 1.25.
        XCTAssertEqual(QuantMath.quantize(1.3, fixPos: 3, rounding: .halfUp), 10)
        XCTAssertEqual(QuantMath.fakeQuantize(1.3, fixPos: 3, rounding: .halfUp), 1.25)
        // 16.0·8 = 128 → saturates to 127 (not −128); −17·8 = −136 → −128.
        XCTAssertEqual(QuantMath.quantize(16.0, fixPos: 3, rounding: .halfUp), 127)
        XCTAssertEqual(QuantMath.quantize(-17.0, fixPos: 3, rounding: .halfUp), -128)
        XCTAssertEqual(QuantMath.fakeQuantize(1e30, fixPos: 3, rounding: .halfUp), 127.0 / 8)
        XCTAssertEqual(QuantMath.quantize(.infinity, fixPos: 0, rounding: .halfEven), 127)
        XCTAssertEqual(QuantMath.quantize(-.infinity, fixPos: 0, rounding: .halfEven), -128)
        // −15.9375·8 = −127.5: half-up → −127, half-away → −128.
        XCTAssertEqual(QuantMath.quantize(-15.9375, fixPos: 3, rounding: .halfUp), -127)
        XCTAssertEqual(QuantMath.quantize(-15.9375, fixPos: 3, rounding: .halfAwayFromZero), -128)
        // Negative fix_pos: 300 at fp −2 → 75 → 300.
        XCTAssertEqual(QuantMath.fakeQuantize(300, fixPos: -2, rounding: .halfUp), 300)
        XCTAssertEqual(QuantMath.dequantize(-128, fixPos: 7), -1)
    }

    func testInt8BufferSaturatesNeverWraps() throws {
        let xs: [Float] = [1000, -1000, 127.49, 127.5, -128.5, -128.51, 0.5, -0.5]
        // fp 0, half-up: 1000 → 127; −1000 → −128; 127.49 → 127; 127.5 → 128 → 127;
        // −128.5 → −128; −128.51 → −129 → −128; 0.5 → 1; −0.5 → 0.
        XCTAssertEqual(try QuantMath.quantizeToInt8(xs, fixPos: 0, rounding: .halfUp),
                       [127, -128, 127, 127, -128, -128, 1, 0])
        XCTAssertEqual(QuantMath.dequantize([127, -128, 3], fixPos: 2), [31.75, -32, 0.75])
        let r16 = try QuantRange(bits: 16)
        XCTAssertThrowsError(try QuantMath.quantizeToInt8(xs, fixPos: 0, range: r16, rounding: .halfUp))
    }

    func testAffineMatchesONNXQuantizeLinearExample() throws {
        // ONNX QuantizeLinear spec example: x = [0, 2, 3, 1000, −254, −1000], scale 2, zp 128 (uint8)
        // → y = [128, 129, 130, 255, 1, 0]  (3/2 = 1.5 rounds half-to-even to 2).
        let x: [Float] = [0, 2, 3, 1000, -254, -1000]
        var y = [UInt8](repeating: 0, count: x.count)
        let u8 = try QuantRange(bits: 8, signed: false)
        try x.withUnsafeBufferPointer { src in
            try y.withUnsafeMutableBufferPointer { dst in
                try QuantMath.quantize(src, into: dst, scale: 2, zeroPoint: 128, range: u8, rounding: .halfEven)
            }
        }
        XCTAssertEqual(y, [128, 129, 130, 255, 1, 0])
        var back = [Float](repeating: 0, count: y.count)
        try y.withUnsafeBufferPointer { src in
            try back.withUnsafeMutableBufferPointer { try QuantMath.dequantize(src, into: $0, scale: 2, zeroPoint: 128) }
        }
        XCTAssertEqual(back, [0, 2, 4, 254, -254, -256])
        XCTAssertEqual(QuantMath.fakeQuantize(3, scale: 2, zeroPoint: 128, range: u8, rounding: .halfEven), 4)
        var buf: [Float] = [0.26]
        XCTAssertThrowsError(try buf.withUnsafeMutableBufferPointer {
            try QuantMath.fakeQuantize($0, scale: 0, zeroPoint: 0, range: .int8, rounding: .halfUp)
        })
    }

    func testLargeBufferFakeQuantizeMatchesScalar() {
        // 200 000 elements: exercises the multi-chunk (two-thread) path.
        let n = 200_003
        var xs = (0..<n).map { Float($0 % 1000) * 0.0371 - 18.5 }
        for i in stride(from: 3, to: n, by: 11) { xs[i] = (Float(i % 301) - 150.5) / 8 }  // exact ties at fix_pos 3
        xs[17] = .nan
        for mode in RoundingMode.allCases {
            var ys = xs
            ys.withUnsafeMutableBufferPointer { QuantMath.fakeQuantize($0, fixPos: 3, rounding: mode) }
            for i in 0..<n where ys[i] != QuantMath.fakeQuantize(xs[i], fixPos: 3, rounding: mode) {
                XCTFail("\(mode) x \(xs[i]): vector \(ys[i]) scalar \(QuantMath.fakeQuantize(xs[i], fixPos: 3, rounding: mode))")
                break
            }
            ys[17] = 0
            XCTAssertEqual(ys.max(), 127.0 / 8)
            XCTAssertEqual(ys.min(), -16)   // −18.5·8 = −148 saturates to −128 → −16
        }
    }

    func testFakeQuantizeTensorPerChannel() throws {
        // Shape [2, 3]: channel 0 at fp 1 (step 0.5), channel 1 at fp 2 (step 0.25), axis 0.
        var t = Tensor(shape: [2, 3], floats: [0.3, 0.8, -0.7, 0.3, 0.8, -0.7])
        let p = try QuantParams(axis: 0, fixPos: [1, 2])
        try QuantMath.fakeQuantize(&t, params: p, rounding: .halfUp)
        // ch0: 0.6 → 1 → 0.5; 1.6 → 2 → 1.0; −1.4 → −1 → −0.5.
        // ch1: 1.2 → 1 → 0.25; 3.2 → 3 → 0.75; −2.8 → −3 → −0.75.
        XCTAssertEqual(t.floats, [0.5, 1.0, -0.5, 0.25, 0.75, -0.75])
        var bad = Tensor(shape: [3, 2], floats: [0, 0, 0, 0, 0, 0])
        XCTAssertThrowsError(try QuantMath.fakeQuantize(&bad, params: p, rounding: .halfUp))
    }
}

/// The vector calibration statistics (`octet_f32_range`, `octet_f32_fixpos_sse`) against scalar
/// computations built from the scalar `QuantMath.fakeQuantize(_: Float, …)`.
final class CalibrationStatisticsTests: XCTestCase {
    private func values(_ n: Int, seed: UInt64) -> [Float] {
        var rng = SeededRNG(seed: seed)
        var v = (0..<n).map { _ in Float.random(in: -9...7, using: &rng) }
        for i in stride(from: 5, to: n, by: 97) { v[i] = (Float(Int.random(in: -300...300, using: &rng)) + 0.5) / 16 }  // ties at fp 4
        return v
    }

    func testSumSquaredErrorsMatchesScalarForEveryRoundingMode() throws {
        for n in [1, 7, 8, 4096, 4100, 70_001] {
            let v = values(n, seed: UInt64(n))
            for mode in RoundingMode.allCases {
                let fps = [2, 3, 4, 5, 6, 7, 8, 9, 10]  // more than one pass of the kernel's 8 candidates
                let got = v.withUnsafeBufferPointer { QuantMath.sumSquaredErrors($0, fixPositions: fps, rounding: mode) }
                for (k, fp) in fps.enumerated() {
                    let q = v.map { QuantMath.fakeQuantize($0, fixPos: fp, rounding: mode) }  // scalar path
                    let want = zip(v, q).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }
                    XCTAssertEqual(got[k], want, accuracy: max(1e-9, want * 1e-5), "n \(n) \(mode) fp \(fp)")
                }
                let serial = v.withUnsafeBufferPointer {
                    QuantMath.sumSquaredErrors($0, fixPositions: fps, rounding: mode, parallel: false)
                }
                XCTAssertEqual(serial, got, "chunking, not threads, fixes the sums")
            }
        }
    }

    func testRangeStatisticsCountsNonFiniteAndIgnoresThem() {
        var v = values(1003, seed: 9)
        v[10] = .nan; v[500] = .infinity; v[1002] = -.infinity; v[3] = -50; v[999] = 40
        let st = v.withUnsafeBufferPointer { QuantMath.rangeStatistics($0) }
        XCTAssertEqual(st.nonFinite, 3)
        XCTAssertEqual(st.min, -50); XCTAssertEqual(st.max, 40)
        let empty = [Float]().withUnsafeBufferPointer { QuantMath.rangeStatistics($0) }
        XCTAssertEqual(empty, RangeStatistics(min: .infinity, max: -.infinity, nonFinite: 0))
        let nans = [Float](repeating: .nan, count: 20).withUnsafeBufferPointer { QuantMath.rangeStatistics($0) }
        XCTAssertEqual(nans.nonFinite, 20); XCTAssertEqual(nans.min, .infinity)
    }
}
