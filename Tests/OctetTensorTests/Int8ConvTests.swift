import XCTest
@testable import OctetTensor

final class Int8ConvTests: XCTestCase {
    private func geometry(_ x: [Int], oc: Int, k: (Int, Int), s: (Int, Int) = (1, 1), pads: [Int] = [0, 0, 0, 0],
                          d: (Int, Int) = (1, 1), groups: Int = 1) -> ConvGeometry {
        ConvGeometry(batch: x[0], inChannels: x[1], inH: x[2], inW: x[3], outChannels: oc, kernelH: k.0, kernelW: k.1,
                     strideH: s.0, strideW: s.1, padTop: pads[0], padLeft: pads[1], padBottom: pads[2], padRight: pads[3],
                     dilationH: d.0, dilationW: d.1, groups: groups)
    }

    /// Fast (1 and 2 threads) against the reference on one configuration.
    private func assertMatches(_ g: ConvGeometry, _ rq: Int8Requant, rng: inout SeededRNG, bias: Bool = true,
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let x = rng.tensor([g.batch, g.inChannels, g.inH, g.inW])
        let w = rng.tensor([g.outChannels, g.inChannelsPerGroup, g.kernelH, g.kernelW])
        let b = bias ? rng.tensor([g.outChannels]) : nil
        let ref = try Int8Kernels.conv2dReference(x, weight: w, bias: b, geometry: g, requant: rq)
        let saved = Int8GemmISA.current
        defer { Int8GemmISA.current = saved }
        for isa in Int8GemmISA.supportedForTests { for threads in [1, 2] {
            Int8GemmISA.current = isa
            let fast = try Int8Kernels.conv2d(x, weight: w, bias: b, geometry: g, requant: rq, threads: threads)
            XCTAssertEqual(fast, ref, "\(g) \(rq) \(isa) threads \(threads)", file: file, line: line)
        } }
    }

    private func randomRequant(_ rng: inout SeededRNG, reduction: Int) throws -> Int8Requant {
        // shift_cut around log2 of the accumulator spread so outputs land inside and outside [−128, 127].
        let base = Int(log2(Double(max(reduction, 1)) * 4096).rounded()) - 7
        return try Int8Requant(shiftCut: min(16, max(0, base + Int.random(in: -2...2, using: &rng))),
                               shiftBias: Int.random(in: -6...10, using: &rng), accFixPos: Int.random(in: 8...16, using: &rng),
                               activation: Int8Activation.allCases.randomElement(using: &rng)!)
    }

    func testHandWorked3x3() throws {
        // x = [10 −20 30; −40 50 −60; 70 −80 90], w = [1 2 1; 0 −1 0; −2 3 4], bias 3 with shift_bias 2, shift_cut 3.
        // No padding: acc = 10 − 40 + 30 + 0 − 50 + 0 − 140 − 240 + 360 = −70; v = −70 + 3·4 = −58;
        // out = (−58 + 4) >> 3 = floor(−6.75) = −7 (real −7.25 rounds half-up to −7).
        // LeakyReLU: (−58·26 + 2^10) >> 11 = (−1508 + 1024) >> 11 = −1 (real −0.736 → −1). ReLU: 0.
        let x = Tensor(shape: [1, 1, 3, 3], int8s: [10, -20, 30, -40, 50, -60, 70, -80, 90])
        let w = Tensor(shape: [1, 1, 3, 3], int8s: [1, 2, 1, 0, -1, 0, -2, 3, 4])
        let b = Tensor(shape: [1], int8s: [3])
        let g = geometry([1, 1, 3, 3], oc: 1, k: (3, 3))
        for (act, expected): (Int8Activation, Int8) in [(.none, -7), (.leakyRelu, -1), (.relu, 0)] {
            let rq = try Int8Requant(shiftCut: 3, shiftBias: 2, accFixPos: 6, activation: act)
            for threads in [1, 2] {
                XCTAssertEqual(try Int8Kernels.conv2d(x, weight: w, bias: b, geometry: g, requant: rq, threads: threads).int8s,
                               [expected])
            }
            XCTAssertEqual(try Int8Kernels.conv2dReference(x, weight: w, bias: b, geometry: g, requant: rq).int8s, [expected])
        }
        // Pad 1: centre as above; corner (0, 0) sees x[0][0]·w[1][1] + x[0][1]·w[1][2] + x[1][0]·w[2][1] + x[1][1]·w[2][2]
        // = −10 + 0 − 120 + 200 = 70; v = 82; (82 + 4) >> 3 = 10 (real 10.25).
        let padded = geometry([1, 1, 3, 3], oc: 1, k: (3, 3), pads: [1, 1, 1, 1])
        let y = try Int8Kernels.conv2d(x, weight: w, bias: b, geometry: padded, requant: try Int8Requant(shiftCut: 3, shiftBias: 2))
        XCTAssertEqual(y.shape, [1, 1, 3, 3])
        XCTAssertEqual(y.int8s[4], -7)
        XCTAssertEqual(y.int8s[0], 10)
    }

    func testAllMinus128SaturatesAndCountsTaps() throws {
        // 64 channels, 3×3, pad 1, x = w = −128: acc = taps · 64 · 16384; shift_cut 16 → taps · 16.
        // Corners 4 taps → 64, edges 6 → 96, interior 9 → 144 → saturates to 127.
        let g = geometry([1, 64, 5, 5], oc: 3, k: (3, 3), pads: [1, 1, 1, 1])
        let x = Tensor(shape: [1, 64, 5, 5], int8s: .init(repeating: -128, count: 64 * 25))
        let w = Tensor(shape: [3, 64, 3, 3], int8s: .init(repeating: -128, count: 3 * 64 * 9))
        let rq = try Int8Requant(shiftCut: 16)
        let plane: [Int8] = [64, 96, 96, 96, 64] + [96, 127, 127, 127, 96] + [96, 127, 127, 127, 96]
            + [96, 127, 127, 127, 96] + [64, 96, 96, 96, 64]
        for threads in [1, 2] {
            let y = try Int8Kernels.conv2d(x, weight: w, bias: nil, geometry: g, requant: rq, threads: threads)
            XCTAssertEqual(y.int8s, plane + plane + plane)
        }
        // Depthwise 5×5 on −128: interior 25 · 16384 = 409600; shift_cut 12 → 100. Negated weights: −100.
        let dg = geometry([1, 4, 9, 9], oc: 4, k: (5, 5), pads: [2, 2, 2, 2], groups: 4)
        let dx = Tensor(shape: [1, 4, 9, 9], int8s: .init(repeating: -128, count: 4 * 81))
        let dw = Tensor(shape: [4, 1, 5, 5], int8s: (0..<100).map { $0 < 50 ? -128 : 127 })
        let dy = try Int8Kernels.conv2d(dx, weight: dw, bias: nil, geometry: dg, requant: try Int8Requant(shiftCut: 12))
        XCTAssertEqual(dy.int8s[4 * 9 + 4], 100)
        XCTAssertEqual(dy.int8s[3 * 81 + 4 * 9 + 4], -99)  // 25 · −16256 / 4096 = −99.2 → −99
        XCTAssertEqual(dy, try Int8Kernels.conv2dReference(dx, weight: dw, bias: nil, geometry: dg, requant: try Int8Requant(shiftCut: 12)))
    }

    func testLongReductionPointwise() throws {
        // 1×1 conv over 4096 channels: x = −128, w = 1 → acc = −524288; shift_cut 16 → −8.
        let g = geometry([1, 4096, 2, 3], oc: 2, k: (1, 1))
        let x = Tensor(shape: [1, 4096, 2, 3], int8s: .init(repeating: -128, count: 4096 * 6))
        let w = Tensor(shape: [2, 4096, 1, 1], int8s: .init(repeating: 1, count: 2 * 4096))
        let y = try Int8Kernels.conv2d(x, weight: w, bias: nil, geometry: g, requant: try Int8Requant(shiftCut: 16), threads: 2)
        XCTAssertEqual(y.int8s, .init(repeating: -8, count: 12))
        var rng = SeededRNG(seed: 21)
        try assertMatches(g, try Int8Requant(shiftCut: 13, shiftBias: 2, activation: .leakyRelu), rng: &rng)
    }

    func testRandomGeneralConvolutions() throws {
        var rng = SeededRNG(seed: 22)
        var ran = 0
        while ran < 60 {
            let groups = [1, 1, 2, 3].randomElement(using: &rng)!
            let ic = groups * Int.random(in: 1...6, using: &rng), oc = groups * Int.random(in: 1...7, using: &rng)
            let k = (Int.random(in: 1...5, using: &rng), Int.random(in: 1...5, using: &rng))
            let pads = (0..<4).map { _ in Int.random(in: 0...2, using: &rng) }
            let g = geometry([Int.random(in: 1...2, using: &rng), ic, Int.random(in: 1...13, using: &rng),
                              Int.random(in: 1...21, using: &rng)], oc: oc, k: k,
                             s: (Int.random(in: 1...3, using: &rng), Int.random(in: 1...3, using: &rng)), pads: pads,
                             d: (Int.random(in: 1...2, using: &rng), Int.random(in: 1...2, using: &rng)), groups: groups)
            guard g.outH >= 1, g.outW >= 1 else { continue }
            try assertMatches(g, try randomRequant(&rng, reduction: ic / groups * k.0 * k.1), rng: &rng, bias: ran % 3 != 0)
            ran += 1
        }
    }

    func testLargerConvolutionsUseBothThreads() throws {
        var rng = SeededRNG(seed: 25)
        let general = geometry([2, 16, 30, 30], oc: 24, k: (3, 3), s: (2, 2), pads: [1, 0, 1, 1], groups: 2)
        let depthwise = geometry([1, 32, 40, 41], oc: 32, k: (5, 5), s: (2, 2), pads: [2, 1, 2, 2], groups: 32)
        for g in [general, depthwise] {
            XCTAssertGreaterThanOrEqual(g.batch * g.macs, Int8Kernels.parallelMACs)
            try assertMatches(g, try Int8Requant(shiftCut: 10, shiftBias: -3, accFixPos: 12, activation: .leakyRelu), rng: &rng)
        }
    }

    func testDepthwiseSpecialisedAndGeneric() throws {
        var rng = SeededRNG(seed: 23)
        for k in [3, 5, 2, 7] { for s in [1, 2] { for trial in 0..<4 {
            let c = [1, 5, 16, 33][trial]
            let pads = (0..<4).map { _ in Int.random(in: 0...(k / 2 + 1), using: &rng) }
            let d = trial == 3 ? 2 : 1
            let g = geometry([1 + trial % 2, c, Int.random(in: k...40, using: &rng), Int.random(in: k...45, using: &rng)],
                             oc: c, k: (k, k), s: (s, s), pads: pads, d: (d, d), groups: c)
            guard g.outH >= 1, g.outW >= 1 else { continue }
            try assertMatches(g, try randomRequant(&rng, reduction: k * k), rng: &rng)
        } } }
        // channel multiplier 2 (not the depthwise kernel) and stride 3
        try assertMatches(geometry([1, 4, 11, 12], oc: 8, k: (3, 3), s: (3, 3), pads: [1, 1, 1, 1], groups: 4),
                          try Int8Requant(shiftCut: 6, activation: .relu6), rng: &rng)
    }

    func testConvTransposeByHandAndRandom() throws {
        // Stride 2, 2×2 identity-diagonal kernel: each x value lands on the diagonal of its 2×2 output block.
        let x = Tensor(shape: [1, 1, 2, 2], int8s: [1, 2, 3, 4])
        let w = Tensor(shape: [1, 1, 2, 2], int8s: [1, 0, 0, 1])
        var g = geometry([1, 1, 2, 2], oc: 1, k: (2, 2), s: (2, 2))
        g.outH = 4; g.outW = 4
        let expected: [Int8] = [1, 0, 2, 0, 0, 1, 0, 2, 3, 0, 4, 0, 0, 3, 0, 4]
        let rq = try Int8Requant(shiftCut: 0)
        XCTAssertEqual(try Int8Kernels.convTranspose2d(x, weight: w, bias: nil, geometry: g, requant: rq).int8s, expected)
        XCTAssertEqual(try Int8Kernels.convTranspose2dReference(x, weight: w, bias: nil, geometry: g, requant: rq).int8s, expected)
        var rng = SeededRNG(seed: 24)
        for trial in 0..<20 {
            let groups = trial % 3 == 2 ? 2 : 1
            let ic = groups * Int.random(in: 1...5, using: &rng), oc = groups * Int.random(in: 1...4, using: &rng)
            let k = Int.random(in: 1...4, using: &rng), s = Int.random(in: 1...3, using: &rng), dl = Int.random(in: 1...2, using: &rng)
            let h = Int.random(in: 1...9, using: &rng), wd = Int.random(in: 1...9, using: &rng)
            let pads = (0..<4).map { _ in Int.random(in: 0...(k - 1), using: &rng) }
            var tg = geometry([1, ic, h, wd], oc: oc, k: (k, k), s: (s, s), pads: pads, d: (dl, dl), groups: groups)
            let outPad = Int.random(in: 0..<s, using: &rng)
            tg.outH = s * (h - 1) + outPad + (k - 1) * dl + 1 - pads[0] - pads[2]
            tg.outW = s * (wd - 1) + (k - 1) * dl + 1 - pads[1] - pads[3]
            guard tg.outH >= 1, tg.outW >= 1 else { continue }
            let tx = rng.tensor([1, ic, h, wd]), tw = rng.tensor([ic, oc / groups, k, k]), tb = rng.tensor([oc])
            let trq = try randomRequant(&rng, reduction: ic / groups * k * k)
            XCTAssertEqual(try Int8Kernels.convTranspose2d(tx, weight: tw, bias: tb, geometry: tg, requant: trq, threads: 2),
                           try Int8Kernels.convTranspose2dReference(tx, weight: tw, bias: tb, geometry: tg, requant: trq), "\(tg)")
        }
    }

    func testRejectsMismatchedOperands() throws {
        let g = geometry([1, 2, 4, 4], oc: 3, k: (3, 3))
        let rq = try Int8Requant(shiftCut: 4)
        let x = Tensor(shape: [1, 2, 4, 4], int8s: .init(repeating: 1, count: 32))
        XCTAssertThrowsError(try Int8Kernels.conv2d(x, weight: Tensor(shape: [3, 1, 3, 3], int8s: .init(repeating: 1, count: 27)),
                                                    bias: nil, geometry: g, requant: rq))
        let w = Tensor(shape: [3, 2, 3, 3], int8s: .init(repeating: 1, count: 54))
        XCTAssertThrowsError(try Int8Kernels.conv2d(x, weight: w, bias: Tensor(shape: [2], int8s: [0, 0]), geometry: g, requant: rq))
        XCTAssertThrowsError(try Int8Kernels.conv2d(x.converted(to: .float32), weight: w, bias: nil, geometry: g, requant: rq))
        XCTAssertThrowsError(try Int8Kernels.conv2d(x, weight: w, bias: nil,
                                                    geometry: geometry([1, 2, 4, 4], oc: 3, k: (5, 5)), requant: rq))
    }
}
