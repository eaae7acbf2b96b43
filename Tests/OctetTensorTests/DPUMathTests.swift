import XCTest
@testable import OctetTensor

final class DPUMathTests: XCTestCase {
    func testAvgPoolTable() throws {
        // reference-quantizer §4.3 table.
        let rows: [(Int, Int, Int, Int, Float)] = [
            (3, 3, 7, 6, 0.984375),        // 9·7/64
            (5, 5, 10, 8, 0.9765625),      // 25·10/256
            (6, 6, 7, 8, 0.984375),        // 36·7/256
            (7, 7, 21, 10, 1.0048828125),  // 49·21/1024
            (14, 14, 21, 12, 1.0048828125), // 196·21/4096
        ]
        for (kh, kw, n, m, scale) in rows {
            XCTAssertEqual(try DPUMath.avgPoolFactor(kernelH: kh, kernelW: kw), .init(multiplier: n, shift: m))
            XCTAssertEqual(try DPUMath.avgPoolScale(kernelH: kh, kernelW: kw), scale)
        }
        XCTAssertThrowsError(try DPUMath.avgPoolFactor(kernelH: 0, kernelW: 3))
    }

    func testSearchedKernels() throws {
        // 2×2, k = 4: M < ceil(log2 512) = 9. M=0: N=0 (diff 1/4); M=1: N=round(0.5) (diff 1/4, not <);
        // M=2: N=1, exact → 1/4, scale 1.
        XCTAssertEqual(try DPUMath.avgPoolFactor(kernelH: 2, kernelW: 2), .init(multiplier: 1, shift: 2))
        XCTAssertEqual(try DPUMath.avgPoolScale(kernelH: 2, kernelW: 2), 1)
        // 4×4, k = 16: M=4 gives 1/16 exactly.
        XCTAssertEqual(try DPUMath.avgPoolFactor(kernelH: 4, kernelW: 4), .init(multiplier: 1, shift: 4))
        // 10×10, k = 100, 1/k = 0.01, M < ceil(log2 12800) = 14:
        //   M≤5: N=0 (diff 0.01); M=6: 1/64 (0.005625); M=7: 1/128 (0.0021875); M=8: 3/256 (0.00171875);
        //   M=9: 5/512 (0.000234375); M=10,11: 10/1024, 20/2048 (equal, not <);
        //   M=12: 41/4096 = 0.010009765625 (0.000009765625); M=13: 82/8192 (equal).
        //   → N=41, M=12, scale 100·41/4096 = 1.0009765625.
        XCTAssertEqual(try DPUMath.avgPoolFactor(kernelH: 10, kernelW: 10), .init(multiplier: 41, shift: 12))
        XCTAssertEqual(try DPUMath.avgPoolScale(kernelH: 10, kernelW: 10), 1.0009765625)
        // The search alone for 3×3 would give 57/2^9; the table overrides it with 7/2^6.
        XCTAssertEqual(try DPUMath.searchFactor(count: 9), .init(multiplier: 57, shift: 9))
        XCTAssertEqual(try DPUMath.meanFactor(count: 1), .init(multiplier: 1, shift: 0))
        XCTAssertEqual(try DPUMath.meanFactor(count: 64), .init(multiplier: 1, shift: 6))
        XCTAssertThrowsError(try DPUMath.meanFactor(count: 0))
        XCTAssertThrowsError(try DPUMath.searchFactor(count: -1))
    }

    func testLeakyReluAndHardSigmoidConstants() {
        XCTAssertEqual(DPUMath.dpuLeakyReluAlpha, 0.1015625)
        XCTAssertEqual(DPUMath.leakyReluAlpha(0.1), 26.0 / 256)     // 25.6 → 26
        XCTAssertEqual(DPUMath.leakyReluAlpha(0.2), 51.0 / 256)     // 51.2 → 51
        XCTAssertEqual(DPUMath.leakyReluAlpha(0.01), 3.0 / 256)     // 2.56 → 3
        XCTAssertEqual(DPUMath.hardSigmoidSlope, 0.1666870117)
        XCTAssertEqual(Float(6 * DPUMath.hardSigmoidMultiplier) / Float(1 << DPUMath.hardSigmoidShift),
                       DPUMath.hardSigmoidOutputScale)
        XCTAssertEqual(DPUMath.hardSigmoid(-4), 0)
        XCTAssertEqual(DPUMath.hardSigmoid(3), 6 * 2731.0 / 16384)
        XCTAssertEqual(DPUMath.hardSigmoid(0), 3 * 2731.0 / 16384)
    }

    func testDPURoundIsHalfUpInIntegers() {
        // v / 2^shift: 5/2 = 2.5 → 3; −5/2 = −2.5 → −2; 7/4 = 1.75 → 2; −3/4 = −0.75 → −1;
        // −6/4 = −1.5 → −1; −2/4 = −0.5 → 0; 1/4 = 0.25 → 0.
        let cases: [(Int64, Int, Int64)] = [(5, 1, 3), (-5, 1, -2), (7, 2, 2), (-3, 2, -1),
                                            (-6, 2, -1), (-2, 2, 0), (1, 2, 0), (9, 0, 9)]
        for (v, s, want) in cases { XCTAssertEqual(DPUMath.dpuRound(v, shift: s), want, "\(v)/2^\(s)") }
        // Negative shift = left shift: 3·2^2 = 12; saturates at Int64 bounds.
        XCTAssertEqual(DPUMath.dpuRound(3, shift: -2), 12)
        XCTAssertEqual(DPUMath.dpuRound(-3, shift: -70), Int64.min)
        XCTAssertEqual(DPUMath.dpuRound(1 << 40, shift: -30), Int64.max)
        // Extreme right shifts: 2^62 / 2^63 = 0.5 → 1; anything / 2^64 → 0.
        XCTAssertEqual(DPUMath.dpuRound(1 << 62, shift: 63), 1)
        XCTAssertEqual(DPUMath.dpuRound(Int64.min, shift: 63), -1)
        XCTAssertEqual(DPUMath.dpuRound(Int64.min, shift: 64), 0)
        // Matches the float half-up rounding on many rationals.
        for v in Int64(-300)...300 {
            for s in 1...5 {
                let exact = RoundingMode.halfUp.round(Float(v) / Float(1 << s))
                XCTAssertEqual(DPUMath.dpuRound(v, shift: s), Int64(exact))
            }
        }
    }

    func testSaturateAndRequantize() {
        XCTAssertEqual(DPUMath.saturateInt8(1000), 127)
        XCTAssertEqual(DPUMath.saturateInt8(-129), -128)
        XCTAssertEqual(DPUMath.saturateInt8(-5), -5)
        // acc 1000 >> 2 = 250 → 127; acc −515 / 4 = −128.75 → −129 → −128; 513/4 = 128.25 → 127.
        XCTAssertEqual(DPUMath.requantize(1000, shift: 2), 127)
        XCTAssertEqual(DPUMath.requantize(-515, shift: 2), -128)
        XCTAssertEqual(DPUMath.requantize(-510, shift: 2), -127)   // −127.5 → −127
    }
}
