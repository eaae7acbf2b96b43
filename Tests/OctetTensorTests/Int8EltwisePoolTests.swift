import XCTest
@testable import OctetTensor

final class Int8EltwisePoolTests: XCTestCase {
    func testAddByHand() throws {
        // fp 4 and 2 → fp_max 4: v = a + 4b = [300, 25, −31]; fp_out 3: v/2 = [150 → 127, 12.5 → 13, −15.5 → −15].
        let a = Tensor(shape: [3], int8s: [100, -3, 5]), b = Tensor(shape: [3], int8s: [50, 7, -9])
        for r in [try Int8Kernels.add(a, fixPos: 4, b, fixPos: 2, outFixPos: 3),
                  try Int8Kernels.addReference(a, fixPos: 4, b, fixPos: 2, outFixPos: 3)] {
            XCTAssertEqual(r.int8s, [127, 13, -15])
        }
        // fp_out above fp_max: left shift by 1 after aligning, [1 + 2·1, −3 + 2·(−1)]·2 = [6, −10].
        let c = try Int8Kernels.add(Tensor(shape: [2], int8s: [1, -3]), fixPos: 2, Tensor(shape: [2], int8s: [1, -1]),
                                    fixPos: 1, outFixPos: 3)
        XCTAssertEqual(c.int8s, [6, -10])
    }

    func testMulByHand() throws {
        // fp 5 + 6 − 7 = shift 4: [30/16 = 1.875 → 2, −21/16 → −1, 16129/16 → 127, −24/16 = −1.5 → −1, 24/16 → 2].
        let a = Tensor(shape: [5], int8s: [10, -7, 127, -8, 8]), b = Tensor(shape: [5], int8s: [3, 3, 127, 3, 3])
        for r in [try Int8Kernels.mul(a, fixPos: 5, b, fixPos: 6, outFixPos: 7),
                  try Int8Kernels.mulReference(a, fixPos: 5, b, fixPos: 6, outFixPos: 7)] {
            XCTAssertEqual(r.int8s, [2, -1, 127, -1, 2])
        }
        XCTAssertEqual(try Int8Kernels.mul(a, fixPos: 0, b, fixPos: 0, outFixPos: 1).int8s, [60, -42, 127, -48, 48])
    }

    func testEltwiseRandomAndBroadcastMatchReference() throws {
        var rng = SeededRNG(seed: 31)
        let shapes: [([Int], [Int])] = [([2, 3, 5, 7], [2, 3, 5, 7]), ([1, 4, 3, 3], [1, 4, 1, 1]), ([2, 1, 3], [4, 1]),
                                        ([2, 3, 4], [2, 3, 1]), ([5, 6], [1]), ([3, 1, 1], [3, 2, 2])]
        for (sa, sb) in shapes { for _ in 0..<12 {
            let a = rng.tensor(sa), b = rng.tensor(sb)
            let fa = Int.random(in: -2...12, using: &rng), fb = Int.random(in: -2...10, using: &rng)
            let fo = Int.random(in: -2...12, using: &rng)
            XCTAssertEqual(try Int8Kernels.add(a, fixPos: fa, b, fixPos: fb, outFixPos: fo),
                           try Int8Kernels.addReference(a, fixPos: fa, b, fixPos: fb, outFixPos: fo), "\(fa) \(fb) \(fo)")
            XCTAssertEqual(try Int8Kernels.mul(a, fixPos: fa, b, fixPos: fb, outFixPos: fo),
                           try Int8Kernels.mulReference(a, fixPos: fa, b, fixPos: fb, outFixPos: fo), "\(fa) \(fb) \(fo)")
        } }
        // broadcast against a hand value: b = [[10], [20]] added to a row [1, 2] at equal fix positions
        let r = try Int8Kernels.add(Tensor(shape: [1, 2], int8s: [1, 2]), fixPos: 0, Tensor(shape: [2, 1], int8s: [10, 20]),
                                    fixPos: 0, outFixPos: 0)
        XCTAssertEqual(r.shape, [2, 2]); XCTAssertEqual(r.int8s, [11, 12, 21, 22])
        XCTAssertThrowsError(try Int8Kernels.add(rng.tensor([2, 3]), fixPos: 0, rng.tensor([4]), fixPos: 0, outFixPos: 0))
        XCTAssertThrowsError(try Int8Kernels.mul(rng.tensor([2]), fixPos: 20, rng.tensor([2]), fixPos: 20, outFixPos: 0))
    }

    private func window(_ x: [Int], k: Int, s: Int, pads: [Int] = [0, 0, 0, 0], d: Int = 1) -> ConvGeometry {
        ConvGeometry(batch: x[0], inChannels: x[1], inH: x[2], inW: x[3], outChannels: x[1], kernelH: k, kernelW: k,
                     strideH: s, strideW: s, padTop: pads[0], padLeft: pads[1], padBottom: pads[2], padRight: pads[3],
                     dilationH: d, dilationW: d)
    }

    func testPoolsByHand() throws {
        let x = Tensor(shape: [1, 1, 4, 4], int8s: [1, -5, 3, 2, 4, 0, -128, -7, 9, 9, 10, 11, -1, 100, 12, -3])
        let g = window([1, 1, 4, 4], k: 2, s: 2)
        XCTAssertEqual(try Int8Kernels.maxPool(x, geometry: g).int8s, [4, 3, 100, 12])
        XCTAssertEqual(try Int8Kernels.maxPoolReference(x, geometry: g).int8s, [4, 3, 100, 12])
        // 2×2 average with N = 1, M = 2 (exact 1/4), fp_in = fp_out: [0/4, −130/4 = −32.5 → −32, 117/4 = 29.25 → 29, 30/4 = 7.5 → 8]
        XCTAssertEqual(try Int8Kernels.averagePool(x, geometry: g, multiplier: 1, shift: 2, fpIn: 3, fpOut: 3).int8s,
                       [0, -32, 29, 8])
        // 3×3 DPU average: all 10 → 90 · 7 / 64 = 9.84 → 10; fp_out = fp_in + 1 doubles: 19.69 → 20.
        let tens = Tensor(shape: [1, 1, 3, 3], int8s: .init(repeating: 10, count: 9))
        let g3 = window([1, 1, 3, 3], k: 3, s: 1)
        XCTAssertEqual(try Int8Kernels.averagePool(tens, geometry: g3, multiplier: 7, shift: 6, fpIn: 2, fpOut: 2).int8s, [10])
        XCTAssertEqual(try Int8Kernels.averagePool(tens, geometry: g3, multiplier: 7, shift: 6, fpIn: 2, fpOut: 3).int8s, [20])
        // global average of [1, 2, 3, 4] = 2.5 → 3 and of the negatives −2.5 → −2 (half up).
        let planes = Tensor(shape: [1, 2, 2, 2], int8s: [1, 2, 3, 4, -1, -2, -3, -4])
        XCTAssertEqual(try Int8Kernels.globalAveragePool(planes, multiplier: 1, shift: 2, fpIn: 0, fpOut: 0).int8s, [3, -2])
        XCTAssertEqual(try Int8Kernels.globalAveragePoolReference(planes, multiplier: 1, shift: 2, fpIn: 0, fpOut: 0).int8s, [3, -2])
    }

    func testPoolsRandomMatchReference() throws {
        var rng = SeededRNG(seed: 32)
        for trial in 0..<40 {
            let k = Int.random(in: 1...4, using: &rng), s = Int.random(in: 1...3, using: &rng), d = trial % 5 == 4 ? 2 : 1
            let pads = (0..<4).map { _ in Int.random(in: 0...(k - 1), using: &rng) }
            let shape = [Int.random(in: 1...2, using: &rng), Int.random(in: 1...5, using: &rng),
                         Int.random(in: k...20, using: &rng), Int.random(in: k...20, using: &rng)]
            let g = window(shape, k: k, s: s, pads: pads, d: d)
            guard g.outH >= 1, g.outW >= 1 else { continue }
            let x = rng.tensor(shape)
            for threads in [1, 2] {
                XCTAssertEqual(try Int8Kernels.maxPool(x, geometry: g, threads: threads),
                               try Int8Kernels.maxPoolReference(x, geometry: g), "\(g)")
                XCTAssertEqual(try Int8Kernels.averagePool(x, geometry: g, multiplier: 21, shift: 10, fpIn: 4, fpOut: 6, threads: threads),
                               try Int8Kernels.averagePoolReference(x, geometry: g, multiplier: 21, shift: 10, fpIn: 4, fpOut: 6))
            }
        }
        let big = rng.tensor([2, 8, 14, 14])
        XCTAssertEqual(try Int8Kernels.globalAveragePool(big, multiplier: 21, shift: 12, fpIn: 3, fpOut: 5),
                       try Int8Kernels.globalAveragePoolReference(big, multiplier: 21, shift: 12, fpIn: 3, fpOut: 5))
    }

    func testUpsampleNearest() throws {
        let x = Tensor(shape: [1, 1, 2, 2], int8s: [1, 2, 3, 4])
        let y = try Int8Kernels.upsampleNearest(x, scaleH: 2, scaleW: 3)
        XCTAssertEqual(y.shape, [1, 1, 4, 6])
        XCTAssertEqual(y.int8s, [1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4])
        var rng = SeededRNG(seed: 33)
        let r = rng.tensor([2, 3, 5, 7])
        XCTAssertEqual(try Int8Kernels.upsampleNearest(r, scaleH: 3, scaleW: 2),
                       try Int8Kernels.upsampleNearestReference(r, scaleH: 3, scaleW: 2))
        XCTAssertThrowsError(try Int8Kernels.upsampleNearest(r, scaleH: 0, scaleW: 2))
    }

    /// Every code through a random table, 64-byte blocks and a tail, against the scalar twin.
    func testLookupMatchesReference() throws {
        var rng = SeededRNG(seed: 35)
        let table = rng.int8s(256)
        for n in [0, 1, 63, 64, 65, 256, 1000] {
            let x = Tensor(shape: [n], int8s: (0..<n).map { Int8(truncatingIfNeeded: $0 * 37 + 11) })
            XCTAssertEqual(Int8Kernels.lookup(x, table: table), Int8Kernels.lookupReference(x, table: table), "n \(n)")
        }
        let all = Tensor(shape: [256], int8s: (-128...127).map { Int8($0) })
        XCTAssertEqual(Int8Kernels.lookup(all, table: table).int8s, table)
    }

    /// Global average pooling (the whole-plane fast path) against the reference.
    func testGlobalAveragePoolMatchesReference() throws {
        var rng = SeededRNG(seed: 36)
        for (h, w) in [(1, 1), (7, 7), (13, 29), (56, 56)] {
            let x = rng.tensor([2, 3, h, w])
            let fpIn = Int.random(in: 0...7, using: &rng), fpOut = Int.random(in: 0...7, using: &rng)
            XCTAssertEqual(try Int8Kernels.globalAveragePool(x, multiplier: 21, shift: 10, fpIn: fpIn, fpOut: fpOut),
                           try Int8Kernels.globalAveragePoolReference(x, multiplier: 21, shift: 10, fpIn: fpIn, fpOut: fpOut))
        }
    }
}
