import XCTest
@testable import OctetTensor

final class Int8GemmTests: XCTestCase {
    /// The reference, or the fast GEMM on every instruction set this CPU supports (asserted equal).
    private func runGemm(_ a: [Int8], _ b: [Int8], m: Int, n: Int, k: Int, bT: Bool, threads: Int,
                         reference: Bool = false) throws -> [Int32] {
        if reference { return try runGemm(a, b, m: m, n: n, k: k, bT: bT, threads: threads, isa: nil) }
        let results = try Int8GemmISA.supportedForTests.map { try runGemm(a, b, m: m, n: n, k: k, bT: bT, threads: threads, isa: $0) }
        for (isa, r) in zip(Int8GemmISA.supportedForTests, results) { XCTAssertEqual(r, results[0], "\(isa) vs avx2") }
        return results[0]
    }

    private func runGemm(_ a: [Int8], _ b: [Int8], m: Int, n: Int, k: Int, bT: Bool, threads: Int,
                         isa: Int8GemmISA?) throws -> [Int32] {
        let reference = isa == nil
        let saved = Int8GemmISA.current
        defer { Int8GemmISA.current = saved }
        if let isa { Int8GemmISA.current = isa }
        var c = [Int32](repeating: -1, count: m * n)
        try a.withUnsafeBufferPointer { pa in try b.withUnsafeBufferPointer { pb in try c.withUnsafeMutableBufferPointer { pc in
            if reference {
                try Int8Kernels.gemmReference(a: pa.baseAddress!, b: pb.baseAddress!, c: pc.baseAddress!, m: m, n: n, k: k,
                                              bTransposed: bT)
            } else {
                try Int8Kernels.gemm(a: pa.baseAddress!, b: pb.baseAddress!, c: pc.baseAddress!, m: m, n: n, k: k,
                                     bTransposed: bT, threads: threads)
            }
        } } }
        return c
    }

    func testInstructionSets() throws {
        XCTAssertEqual(Int8GemmISA.supportedForTests.first, .avx2)
        if !Int8GemmISA.avx512vnni.isSupported {
            print("note: this CPU has no AVX512-VNNI; only the AVX2 GEMM path is checked")
        }
        let saved = Int8GemmISA.current
        defer { Int8GemmISA.current = saved }
        Int8GemmISA.current = .avx512vnni
        XCTAssertEqual(Int8GemmISA.current, Int8GemmISA.avx512vnni.isSupported ? .avx512vnni : .avx2)
    }

    func testHandWorked2x3x2() throws {
        // [1 2 3; −4 5 −6] · [7 8; 9 10; 11 12] = [7+18+33, 8+20+36; −28+45−66, −32+50−72] = [58 64; −49 −54]
        let c = try runGemm([1, 2, 3, -4, 5, -6], [7, 8, 9, 10, 11, 12], m: 2, n: 2, k: 3, bT: false, threads: 1)
        XCTAssertEqual(c, [58, 64, -49, -54])
    }

    func testRandomShapesMatchReference() throws {
        var rng = SeededRNG(seed: 11)
        for trial in 0..<40 {
            let m = Int.random(in: 1...29, using: &rng), n = Int.random(in: 1...70, using: &rng)
            let k = Int.random(in: 1...300, using: &rng), bT = trial % 2 == 1
            let a = rng.int8s(m * k), b = rng.int8s(k * n)
            let ref = try runGemm(a, b, m: m, n: n, k: k, bT: bT, threads: 1, reference: true)
            for threads in [1, 2] {
                XCTAssertEqual(try runGemm(a, b, m: m, n: n, k: k, bT: bT, threads: threads), ref,
                               "m \(m) n \(n) k \(k) bT \(bT) threads \(threads)")
            }
        }
    }

    func testAllMinus128LongReductionIsExact() throws {
        // K = 4096 products of −128·−128 = 16384: every entry is 4096 · 16384 = 67108864.
        let m = 7, n = 19, k = 4096
        let a = [Int8](repeating: -128, count: m * k), b = [Int8](repeating: -128, count: k * n)
        for threads in [1, 2] {
            XCTAssertEqual(try runGemm(a, b, m: m, n: n, k: k, bT: false, threads: threads),
                           [Int32](repeating: 67_108_864, count: m * n))
        }
        // 127 · −128 alternating with −128 · −128: 2048 · (−16256 + 16384) = 262144.
        let a2 = (0..<k).map { Int8($0 % 2 == 0 ? 127 : -128) }
        XCTAssertEqual(try runGemm(a2, [Int8](repeating: -128, count: k), m: 1, n: 1, k: k, bT: false, threads: 1), [262_144])
    }

    /// K = maxReduction = 131071: the exact sums fit int32 (127·−128·K = −2130690176 and
    /// −128·−128·K = 2147467264) while the VNNI path's offset sums Σ(x+128)·w and 128·Σw do not;
    /// int32 wrap-around must cancel exactly.
    func testMaxReductionExtremesAreExact() throws {
        let k = Int8Kernels.maxReduction, n = 17
        let a = [Int8](repeating: -128, count: k)
        XCTAssertEqual(try runGemm(a, [Int8](repeating: 127, count: k * n), m: 1, n: n, k: k, bT: false, threads: 1),
                       [Int32](repeating: -2_130_690_176, count: n))
        XCTAssertEqual(try runGemm(a, [Int8](repeating: -128, count: k * n), m: 1, n: n, k: k, bT: false, threads: 2),
                       [Int32](repeating: 2_147_467_264, count: n))
    }

    func testLongRandomReduction() throws {
        var rng = SeededRNG(seed: 12)
        let m = 13, n = 33, k = 4096
        let a = rng.int8s(m * k), b = rng.int8s(k * n)
        XCTAssertEqual(try runGemm(a, b, m: m, n: n, k: k, bT: false, threads: 2),
                       try runGemm(a, b, m: m, n: n, k: k, bT: false, threads: 1, reference: true))
    }

    func testFullyConnectedByHandAndRandom() throws {
        // y0 = 1+2+3 = 6 → 6/2 = 3; y1 = −1 + 6 + bias 1 = 6 → 3; y2 = −6 + 0 → −3.
        let x = Tensor(shape: [1, 3], int8s: [1, 2, 3])
        let w = Tensor(shape: [3, 3], int8s: [1, 1, 1, -1, 0, 2, -2, -2, 0])
        let b = Tensor(shape: [3], int8s: [0, 1, 0])
        let rq = try Int8Requant(shiftCut: 1)
        XCTAssertEqual(try Int8Kernels.fullyConnected(x, weight: w, bias: b, requant: rq, threads: 1).int8s, [3, 3, -3])
        var rng = SeededRNG(seed: 13)
        for act in Int8Activation.allCases {
            let rq = try Int8Requant(shiftCut: 9, shiftBias: 4, accFixPos: 12, activation: act)
            let x = rng.tensor([3, 200]), w = rng.tensor([37, 200]), b = rng.tensor([37])
            let fast = try Int8Kernels.fullyConnected(x, weight: w, bias: b, requant: rq, threads: 2)
            XCTAssertEqual(fast, try Int8Kernels.fullyConnectedReference(x, weight: w, bias: b, requant: rq))
            XCTAssertEqual(fast.shape, [3, 37])
        }
    }

    func testRejectsBadInput() throws {
        let rq = try Int8Requant(shiftCut: 0)
        XCTAssertThrowsError(try Int8Kernels.fullyConnected(Tensor(shape: [1, 3], int8s: [1, 2, 3]),
                                                            weight: Tensor(shape: [2, 4], int8s: .init(repeating: 0, count: 8)),
                                                            bias: nil, requant: rq))
        XCTAssertThrowsError(try Int8Kernels.fullyConnected(Tensor(shape: [1, 2], floats: [1, 2]),
                                                            weight: Tensor(shape: [1, 2], int8s: [1, 1]), bias: nil, requant: rq))
        XCTAssertThrowsError(try runGemm([1], [1], m: 1, n: 1, k: Int8Kernels.maxReduction + 1, bT: false, threads: 1))
    }
}

extension Int8GemmISA {
    /// AVX2 first, then AVX512-VNNI where this CPU has it.
    static var supportedForTests: [Int8GemmISA] { allCases.filter(\.isSupported) }
}
