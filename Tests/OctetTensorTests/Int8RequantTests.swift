import XCTest
@testable import OctetTensor

/// SplitMix64: a seeded, reproducible generator for the INT8 kernel tests.
struct SeededRNG: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func int8s(_ n: Int) -> [Int8] { (0..<n).map { _ in Int8.random(in: .min ... .max, using: &self) } }
    mutating func tensor(_ shape: [Int]) -> Tensor { Tensor(shape: shape, int8s: int8s(Tensor.elementCount(shape))) }
}

final class Int8RequantTests: XCTestCase {
    /// Real-valued DPU formula (conv2d-fix.cpp with the §4.2 activations), evaluated in Double.
    private func realFormula(_ acc: Int32, bias: Int8, _ rq: Int8Requant) -> Int8 {
        var y = (Double(acc) + Double(bias) * pow(2, Double(rq.shiftBias))) / pow(2, Double(rq.shiftCut))
        switch rq.activation {
        case .none: break
        case .relu: y = max(y, 0)
        case .relu6: y = min(max(y, 0), 6 * pow(2, Double(rq.accFixPos - rq.shiftCut)))
        case .leakyRelu: if y < 0 { y *= 26.0 / 256.0 }
        }
        return Int8(min(max((y + 0.5).rounded(.down), -128), 127))
    }

    func testDpuRoundHalvesGoUp() {
        XCTAssertEqual(dpuRoundShift(3, 1), 2)     // 1.5 → 2
        XCTAssertEqual(dpuRoundShift(-3, 1), -1)   // −1.5 → −1
        XCTAssertEqual(dpuRoundShift(-5, 1), -2)   // −2.5 → −2
        XCTAssertEqual(dpuRoundShift(-7, 2), -2)   // −1.75 → −2
        XCTAssertEqual(dpuRoundShift(7, 0), 7)
        XCTAssertEqual(dpuRoundScale(5, exponent: 3), 40)
    }

    func testRoundingAtExactHalvesForEveryShift() throws {
        for s in 1...16 {
            let rq = try Int8Requant(shiftCut: s)
            let half = Int32(1) << Int32(s - 1)
            XCTAssertEqual(rq.apply(3 * half), 2, "shift \(s)")    // 1.5 → 2
            XCTAssertEqual(rq.apply(-3 * half), -1, "shift \(s)")  // −1.5 → −1
            XCTAssertEqual(rq.apply(half), 1, "shift \(s)")        // 0.5 → 1
            XCTAssertEqual(rq.apply(-half), 0, "shift \(s)")       // −0.5 → 0
        }
        XCTAssertEqual(try Int8Requant(shiftCut: 0).apply(-77), -77)  // shift_cut 0: no rounding
    }

    func testSaturation() throws {
        let rq = try Int8Requant(shiftCut: 2, shiftBias: 3)
        XCTAssertEqual(rq.apply(510), 127)                 // 127.5 → 128 → 127
        XCTAssertEqual(rq.apply(506), 127)                 // 126.5 → 127
        XCTAssertEqual(rq.apply(-514), -128)               // −128.5 → −128
        XCTAssertEqual(rq.apply(Int32.max, bias: 127), 127)
        XCTAssertEqual(rq.apply(Int32.min, bias: -128), -128)
        XCTAssertEqual(rq.apply(4, bias: -128), -128)      // (4 − 1024)/4 = −255 → −128
    }

    func testBiasAlignmentPositiveAndNegativeShift() throws {
        // shift_bias 3: v = acc + 8·b. acc 5, b −2: (5 − 16)/2 = −5.5 → −5.
        XCTAssertEqual(try Int8Requant(shiftCut: 1, shiftBias: 3).apply(5, bias: -2), -5)
        // shift_bias −2: y = (acc + b/4) / 2^1. acc 3, b 2: 3.5/2 = 1.75 → 2. A bias rounded
        // first (2/4 → 1) would also give 2, but acc 1, b 2: 1.5/2 = 0.75 → 1 exactly.
        let rq = try Int8Requant(shiftCut: 1, shiftBias: -2)
        XCTAssertEqual(rq.apply(3, bias: 2), 2)
        XCTAssertEqual(rq.apply(1, bias: 2), 1)
        // acc −1, b 2: (−1 + 0.5)/2 = −0.25 → 0; acc −2, b 2: −0.75 → −1.
        XCTAssertEqual(rq.apply(-1, bias: 2), 0)
        XCTAssertEqual(rq.apply(-2, bias: 2), -1)
    }

    func testActivationsByHand() throws {
        // fp_in 5, fp_w 5, fp_out 4: shift_cut 6, ReLU6 clamp 6·2^10 = 6144 → output 96.
        let relu6 = try Int8Requant(fpIn: 5, fpWeight: 5, fpBias: nil, fpOut: 4, activation: .relu6)
        XCTAssertEqual(relu6.shiftCut, 6)
        XCTAssertEqual(relu6.apply(7000), 96)
        XCTAssertEqual(relu6.apply(6144), 96)
        XCTAssertEqual(relu6.apply(6100), 95)    // 95.31
        XCTAssertEqual(relu6.apply(-500), 0)
        // fp_in + fp_w = −2, fp_out −2: clamp at 1.5 (fractional) → DPU_ROUND(1.5) = 2.
        let frac = try Int8Requant(shiftCut: 0, accFixPos: -2, activation: .relu6)
        XCTAssertEqual(frac.apply(1), 1)
        XCTAssertEqual(frac.apply(2), 2)
        XCTAssertEqual(frac.apply(100), 2)
        let relu = try Int8Requant(shiftCut: 2, activation: .relu)
        XCTAssertEqual(relu.apply(-9), 0)
        XCTAssertEqual(relu.apply(10), 3)      // 2.5 → 3
        // LeakyReLU 26/256: −100 / 2^2 = −25 → −25·26/256 = −2.539 → −3; (−2600 + 512) >> 10 = −3.
        let leaky = try Int8Requant(shiftCut: 2, activation: .leakyRelu)
        XCTAssertEqual(leaky.apply(-100), -3)
        XCTAssertEqual(leaky.apply(-1280), -32)  // −320·26/256 = −32.5 → half-up −32
        XCTAssertEqual(leaky.apply(100), 25)
    }

    func testIntegerDefinitionMatchesRealFormula() throws {
        var rng = SeededRNG(seed: 1)
        for _ in 0..<4000 {
            let act = Int8Activation.allCases.randomElement(using: &rng)!
            let rq = try Int8Requant(shiftCut: Int.random(in: 0...16, using: &rng), shiftBias: Int.random(in: -16...16, using: &rng),
                                     accFixPos: Int.random(in: -4...20, using: &rng), activation: act)
            let acc = Int32.random(in: -(1 << 22)...(1 << 22), using: &rng)
            let b = Int8.random(in: .min ... .max, using: &rng)
            XCTAssertEqual(rq.apply(acc, bias: b), realFormula(acc, bias: b, rq), "\(rq) acc \(acc) bias \(b)")
        }
    }

    func testVectorRowMatchesScalar() throws {
        var rng = SeededRNG(seed: 2)
        var vectorised = 0
        for act in Int8Activation.allCases { for sc in [0, 1, 5, 16] { for sb in [-8, -1, 0, 3, 16] {
            let rq = try Int8Requant(shiftCut: sc, shiftBias: sb, accFixPos: sc + 3, activation: act)
            let maxAcc: Int64 = 9 * 16384
            let n = 101
            var acc = (0..<n).map { _ in Int32.random(in: -Int32(maxAcc)...Int32(maxAcc), using: &rng) }
            acc[0] = Int32(maxAcc); acc[1] = -Int32(maxAcc); acc[2] = 0; acc[3] = 3 << max(sc - 1, 0)
            for bias: Int8 in [-128, 127, Int8.random(in: .min ... .max, using: &rng)] {
                if rq.int32Params(bias: bias, maxAbsAcc: maxAcc) != nil { vectorised += 1 }
                var out = [Int8](repeating: 0, count: n)
                rq.requantizeRow(acc, &out, count: n, bias: bias, maxAbsAcc: maxAcc)
                XCTAssertEqual(out, acc.map { rq.apply($0, bias: bias) }, "\(rq) bias \(bias)")
            }
        } } }
        XCTAssertGreaterThan(vectorised, 200)  // of 240 cases; only the largest leaky shifts need Int64
    }

    func testLargeAccumulatorsTakeInt64Path() throws {
        let rq = try Int8Requant(shiftCut: 16, shiftBias: -8, activation: .leakyRelu)
        let maxAcc = Int64(Int8Kernels.maxReduction) * 16384
        XCTAssertNil(rq.int32Params(bias: 5, maxAbsAcc: maxAcc))
        let acc: [Int32] = [Int32(maxAcc), -Int32(maxAcc), 123_456_789, -98_765_432]
        var out = [Int8](repeating: 0, count: 4)
        rq.requantizeRow(acc, &out, count: 4, bias: 5, maxAbsAcc: maxAcc)
        XCTAssertEqual(out, acc.map { realFormula($0, bias: 5, rq) })
    }

    func testRejectsOutOfRangeShifts() {
        XCTAssertThrowsError(try Int8Requant(shiftCut: 17))
        XCTAssertThrowsError(try Int8Requant(shiftCut: -1))
        XCTAssertThrowsError(try Int8Requant(shiftCut: 3, shiftBias: 25))
        XCTAssertThrowsError(try Int8Requant(fpIn: 0, fpWeight: 0, fpBias: nil, fpOut: 2))  // shift_cut −2
    }
}
