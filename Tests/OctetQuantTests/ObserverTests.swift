import XCTest
import OctetTensor
@testable import OctetQuant

final class ObserverTests: XCTestCase {
    func t(_ xs: [Float]) -> Tensor { Tensor(shape: [xs.count], floats: xs) }

    func testKindParsing() throws {
        XCTAssertEqual(try ObserverKind(parsing: "Diffs"), .diffs)
        XCTAssertEqual(try ObserverKind(parsing: "entropy"), .entropy)
        XCTAssertThrowsError(try ObserverKind(parsing: "minmax")) { e in
            XCTAssertEqual("\(e)", "unknown observer 'minmax'; accepted: diffs, minmse, maxmin, percentile, mse, entropy")
        }
        XCTAssertTrue(ObserverKind.diffs.isPowerOfTwo)
        XCTAssertTrue(ObserverKind.minmse.isPowerOfTwo)
        XCTAssertEqual((try ObserverKind.minmse.makeObserver(networkInput: true) as? MinMSEObserver)?.scope, 5)
        for kind in ObserverKind.allCases {
            let o = try kind.makeObserver(name: "t", bits: 8)
            XCTAssertEqual(o.kind, kind)
            XCTAssertEqual(o.name, "t")
        }
        let input = try ObserverKind.diffs.makeObserver(networkInput: true) as? DiffsObserver
        XCTAssertEqual(input?.scope, 1)
        XCTAssertThrowsError(try ObserverKind.mse.makeObserver(bits: 40))
        XCTAssertFalse(ObserverKind.mse.isPowerOfTwo)
    }

    func testDiffsPicksCandidateByHand() throws {
        // [2, 1/64, 3/64], half-up: fp0 = 5; SSE fp5 = 2/4096, fp6 = 1/4096 (2 saturates to 127/64),
        // fp7…9 ≥ 1.0157 (see FixPosMathTests) → 6.
        let o = DiffsObserver.activation(name: "conv1")
        try o.observe(t([2.0, 1.0 / 64, 3.0 / 64]))
        XCTAssertEqual(o.lastSearch?.startFixPos, 5)
        XCTAssertEqual(try o.quantParams(), try QuantParams.dpu(fixPos: 6))
        XCTAssertTrue(try o.quantParams().isDPUDeployable)
        // Network input (scope 1) keeps the non-overflow position.
        let input = DiffsObserver.networkInput()
        try input.observe(t([2.0, 1.0 / 64, 3.0 / 64]))
        XCTAssertEqual(try input.quantParams().fixPos, 5)
        XCTAssertEqual(DiffsObserver.weight().rounding, .halfAwayFromZero)
        XCTAssertEqual(DiffsObserver.activation().rounding, .halfUp)
    }

    /// Nine batches of eight 0.3 and one of eight 2.0. diffs: each 0.3-batch picks fp 8
    /// (0.3·256 = 76.8 → 77; fp 9 saturates at 127/512), the 2.0-batch fp 5, so the mode is 8 and
    /// 2.0 saturates to 127/256. minmse scores the whole set from fp0 = 5 (2.0·32 = 64 ≤ 127.5 < 128),
    /// on histogram bin centres (≈ 0.2994 and ≈ 1.9998): fp 5 costs 72·(0.3 − 10/32)² ≈ 0.012,
    /// fp 6 costs 72·(0.3 − 19/64)² + 8·(2.0 − 127/64)² ≈ 2.4e-3, fp 7 saturates 2.0 at 127/128
    /// (8·1.015 ≈ 8.1) → 6.
    func testMinMSEWeighsRareLargeValuesWhereDiffsModeDoesNot() throws {
        let diffs = DiffsObserver.activation(name: "a"), minmse = try MinMSEObserver(name: "a")
        for b in 0..<10 {
            let batch = t(Array(repeating: b == 4 ? 2.0 : 0.3, count: 8))
            try diffs.observe(batch)
            try minmse.observe(batch)
        }
        XCTAssertEqual(try diffs.quantParams().fixPos, 8)
        XCTAssertEqual(try minmse.quantParams().fixPos, 6)
        let scored = try minmse.candidateErrors()
        XCTAssertEqual(scored.map(\.fixPos), [5, 6, 7, 8, 9])
        XCTAssertEqual(scored[0].error, 0.012, accuracy: 0.001)
        XCTAssertEqual(scored[1].error, 2.4e-3, accuracy: 0.3e-3)
        XCTAssertEqual(scored[2].error, 8.1, accuracy: 0.1)
        XCTAssertEqual(minmse.observedMax, 2.0)
        // Scope 1 is pure non-overflow.
        let input = try MinMSEObserver(name: "x", scope: 1)
        try input.observe(t([0.3, 2.0]))
        XCTAssertEqual(try input.quantParams().fixPos, 5)
        XCTAssertThrowsError(try MinMSEObserver(name: "e").quantParams())
        XCTAssertThrowsError(try MinMSEObserver(name: "e", scope: 0))
    }

    /// −1 is exact at fix_pos 7 (−128 · 2^−7), so it must not count as clipped there. Forty −1,
    /// twenty 0.30390625 and one 1.01: fp0 = 6 (1.01·128 > 127.5); fp 6 costs the 0.3039 values
    /// 20·(0.3039 − 19/64)² ≈ 1.0e-3, fp 7 only (1.01 − 127/128)² ≈ 3.1e-4 (the 0.3039 values
    /// round to 39/128, −1 is exact), fp 8 saturates −1 at −0.5 → 7. Scoring −1 as if it
    /// saturated at +127 would add 40·(1/128)² ≈ 2.4e-3 to fp 7 and pick 6.
    func testMinMSENegativeValuesSaturateAtQmin() throws {
        let o = try MinMSEObserver(name: "x")
        try o.observe(t(Array(repeating: -1, count: 40) + Array(repeating: 0.30390625, count: 20) + [1.01]))
        XCTAssertEqual(try o.quantParams().fixPos, 7)
        let scored = try o.candidateErrors()
        XCTAssertEqual(scored[0].fixPos, 6)
        XCTAssertEqual(scored[0].error, 1.06e-3, accuracy: 0.05e-3)
        XCTAssertEqual(scored[1].error, 3.2e-4, accuracy: 0.2e-4)
        XCTAssertEqual(o.negatives.total, 40)
    }

    func testAllZeroTensorGives12() throws {
        let o = DiffsObserver.activation()
        try o.observe(Tensor(zeros: [2, 3]))
        XCTAssertEqual(try o.quantParams().fixPos, 12)   // 18 before the clamp
        let o16 = try DiffsObserver(bits: 16)
        try o16.observe(Tensor(zeros: [4]))
        XCTAssertEqual(try o16.quantParams().fixPos, 15)
    }

    func testModeOverBatchesTiesToSmallest() throws {
        // Scope 1: [15.9375] → fp 3 (15.9375·8 = 127.5 fits); [7.96875] → fp 4 (·16 = 127.5).
        let o = DiffsObserver.networkInput(name: "x")
        for xs: [Float] in [[15.9375, -1], [7.96875], [15.9375], [7.96875]] { try o.observe(t(xs)) }
        XCTAssertEqual(o.history.counts, [3: 2, 4: 2])
        XCTAssertEqual(try o.quantParams().fixPos, 3)    // tie 2–2 → smaller
        try o.observe(t([7.96875]))
        XCTAssertEqual(try o.quantParams().fixPos, 4)    // 3 batches vs 2
        XCTAssertEqual(o.batchCount, 5)
        var h = FixPosHistory()
        for fp in [5, 7, 7, 5, 6] { h.add(fp) }
        XCTAssertEqual(h.mode, 5)
        XCTAssertNil(FixPosHistory().mode)
    }

    func testBadInputsThrowClearErrors() throws {
        let o = DiffsObserver.activation(name: "relu3")
        XCTAssertThrowsError(try o.quantParams()) { e in
            XCTAssertEqual(e as? OctetQuantError, .noObservations(observer: "diffs", tensor: "relu3"))
        }
        XCTAssertThrowsError(try o.observe(t([1, .nan, .infinity]))) { e in
            XCTAssertEqual("\(e)", "diffs observer on 'relu3': 2 NaN/Inf values in observed data")
        }
        XCTAssertThrowsError(try o.observe(Tensor(shape: [2], int8s: [1, 2]))) { e in
            XCTAssertEqual(e as? OctetQuantError, .notFloat(observer: "diffs", tensor: "relu3", dtype: .int8))
        }
        XCTAssertThrowsError(try o.observe(Tensor(shape: [0], floats: [])))
        XCTAssertEqual(o.batchCount, 0)
        XCTAssertThrowsError(try DiffsObserver(scope: 0))
        XCTAssertThrowsError(try DiffsObserver(bits: 1))
        for obs in [try PercentileObserver(), try MSEObserver(), try EntropyObserver()] as [Observer] {
            XCTAssertThrowsError(try obs.observe(t([.nan])))
            XCTAssertThrowsError(try obs.quantParams())
        }
    }

    func testMaxMinSchemes() throws {
        // Power of two: per batch non-overflow, mode: [3.9] → fp 5 (3.9·32 = 124.8; ·64 > 127.5),
        // [1.0] → fp 6 (64 ≤ 127.5 < 128), [3.0] → fp 5 → mode 5.
        let p2 = try MaxMinObserver()
        for xs: [Float] in [[3.9], [1.0], [3.0]] { try p2.observe(t(xs)) }
        XCTAssertEqual(try p2.quantParams().fixPos, 5)
        // Symmetric over all batches: max|x| = 3 → scale 3/127.
        let sym = try MaxMinObserver(scheme: .symmetric)
        try sym.observe(t([-3, 0.5]))
        try sym.observe(t([1.27]))
        XCTAssertEqual(try sym.quantParams().scale, 3.0 / 127)
        XCTAssertEqual(try sym.quantParams().zeroPoint, 0)
        // Asymmetric uint8 over [−1, 3]: scale 4/255; zp = 0 − round(−1/(4/255)) = round(63.75) = 64.
        let asym = try MaxMinObserver(scheme: .asymmetric, signed: false)
        try asym.observe(t([-1, 0.5]))
        try asym.observe(t([2, 3]))
        let q = try asym.quantParams()
        XCTAssertEqual(q.scale, 4.0 / 255)
        XCTAssertEqual(q.zeroPoint, 64)
        XCTAssertThrowsError(try MaxMinObserver(scheme: .powerOfTwo, signed: false))
    }

    func testPercentileOnUniformData() throws {
        // |x| = 1…10000, 2048 bins over [0, 10000], width 4.8828125.
        // 99 %: need 9900 values. Bin 2027 = [9897.46, 9902.34) holds 9898…9902, cumulative 9902 ≥ 9900;
        // bin 2026 ends at 9897.46 with 9897 < 9900. amax = 2028·4.8828125 = 9902.34375.
        let values = (1...10000).map { Float($0) * ($0 % 2 == 0 ? 1 : -1) }
        let one = try PercentileObserver(percentile: 99)
        try one.observe(t(values))
        XCTAssertEqual(try one.amax(), 9902.34375)
        XCTAssertEqual(try one.quantParams().scale, 9902.34375 / 127)
        // Two batches (1…5000 then 5001…10000): the range doubles from 5000 to 10000 and bins
        // merge pairwise exactly, so the histogram equals the one-batch histogram except for the
        // first batch's maximum 5000: it sat in the last bin of [0, 5000] (2047 → merged 1023),
        // while one batch puts it at 5000/4.8828125 = 1024.
        let two = try PercentileObserver(percentile: 99)
        try two.observe(t(Array(values[0..<5000])))
        XCTAssertEqual(two.histogram.upperBound, 5000)
        try two.observe(t(Array(values[5000...])))
        XCTAssertEqual(two.histogram.upperBound, 10000)
        let diff = (0..<2048).filter { two.histogram.counts[$0] != one.histogram.counts[$0] }
        XCTAssertEqual(diff, [1023, 1024])
        XCTAssertEqual(two.histogram.counts[1023] - one.histogram.counts[1023], 1)
        XCTAssertEqual(two.histogram.total, 10000)
        XCTAssertEqual(try two.amax(), 9902.34375)
        // Default 99.99 %: 9999 values needed; 9999 is in the last bin → amax 10000.
        let dflt = try PercentileObserver()
        try dflt.observe(t(values))
        XCTAssertEqual(try dflt.amax(), 10000)
        XCTAssertThrowsError(try PercentileObserver(percentile: 0))
    }

    func testHistogramGrowsFromZeros() throws {
        let o = try PercentileObserver(binCount: 8)
        try o.observe(Tensor(zeros: [5]))
        XCTAssertEqual(o.histogram.upperBound, 0)
        try o.observe(t([8, 1]))        // range [0, 8]: 1 → bin 1, 8 → bin 7; zeros stay in bin 0
        XCTAssertEqual(o.histogram.counts, [5, 1, 0, 0, 0, 0, 0, 1])
        try o.observe(t([20]))          // 8 → 16 → 32 (k = 2): bins merge by 4; 20 → bin 5
        XCTAssertEqual(o.histogram.upperBound, 32)
        XCTAssertEqual(o.histogram.counts, [6, 1, 0, 0, 0, 1, 0, 0])
    }

    func testMSEByHand() throws {
        // 3-bit signed (qmax 3), 8 bins over [0, 8] (width 1), candidates i = 4…7 (amax = centre i).
        // Data: 0.5 ×3 (bin 0), 1.5 ×3 (bin 1), 8.0 (bin 7, centre 7.5).
        // Error Σ count·(q(c) − c)², q at scale amax/3, half-even:
        //   i=4 amax 4.5 s 1.5:    0.5→0 (.25·3) ; 1.5→1.5 (0)        ; 7.5→3·1.5=4.5 (9)  = 9.75
        //   i=5 amax 5.5 s 1.8333: .75          ; 1.5→1.8333 (.1111·3); 7.5→5.5 (4)       = 5.0833
        //   i=6 amax 6.5 s 2.1667: .75          ; 1.5→2.1667 (.4444·3); 7.5→6.5 (1)       = 3.0833
        //   i=7 amax 7.5 s 2.5:    .75          ; 1.5→2.5 (1·3)       ; 7.5→7.5 (0)       = 3.75
        // → amax 6.5, scale 6.5/3.
        let o = try MSEObserver(bits: 3, binCount: 8, startBin: 4, stride: 1)
        try o.observe(t([0.5, 0.5, 0.5, 1.5, -1.5, 1.5, 8.0]))
        let errs = o.candidateErrors().map(\.error)
        let want = [9.75, 0.75 + 3.0 / 9 + 4, 0.75 + 12.0 / 9 + 1, 3.75]
        for (a, b) in zip(errs, want) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        XCTAssertEqual(try o.amax(), 6.5)
        XCTAssertEqual(try o.quantParams().scale, 6.5 / 3, accuracy: 1e-7)
    }

    func testEntropyByHand() throws {
        // 2-bit signed → 2 levels; 8 bins over [0, 8]; candidates i = 4, 6, 8.
        // Counts [10, 4, 2, 2, 1, 0, 0, 1]; bin 0 is replaced by bin 1 → [4, 4, 2, 2, 1, 0, 0, 1].
        // i=4: P = [4, 4, 2, 4] (tail 2 added), Q = [4, 4, 2, 2]:
        //      KL = (5/7)·ln(6/7) + (2/7)·ln(12/7) = 0.0438914
        // i=6: P[5] = 1 (tail) but bin 5 is empty so Q[5] = 0 → KL = ∞
        // i=8: P = bins, Q = [3, 3, 3, 3, 1, 0, 0, 1]: KL = (4/7)·ln(4/3) + (2/7)·ln(2/3) = 0.0485426
        // → i = 4, amax = edge 4 = 4.0 (scipy/pytorch-quantization reference gives the same).
        let o = try EntropyObserver(bits: 2, binCount: 8, startBin: 4, stride: 2)
        var xs = [Float](repeating: 0.5, count: 10)
        xs += [1.5, 1.5, 1.5, 1.5, 2.5, 2.5, 3.5, 3.5, 4.5, 8.0]
        try o.observe(t(xs))
        XCTAssertEqual(o.histogram.counts, [10, 4, 2, 2, 1, 0, 0, 1])
        let d = o.divergences()
        XCTAssertEqual(d.map(\.bins), [4, 6, 8])
        XCTAssertEqual(d[0].divergence, 5.0 / 7 * log(6.0 / 7) + 2.0 / 7 * log(12.0 / 7), accuracy: 1e-12)
        XCTAssertEqual(d[1].divergence, .infinity)
        XCTAssertEqual(d[2].divergence, 4.0 / 7 * log(4.0 / 3) + 2.0 / 7 * log(2.0 / 3), accuracy: 1e-12)
        XCTAssertEqual(try o.amax(), 4.0)
        XCTAssertEqual(try o.quantParams().scale, 4.0)   // qmax 1
    }

    func testEntropyTiesGoToLastCandidate() {
        // With 4 levels and bins [3, 3, 2, 2, 0, 0, 0, 0] every candidate reproduces P exactly
        // (KL 0 for i = 4, 6, 8), so the last, i = 8, is chosen.
        let bins: [Double] = [3, 3, 2, 2, 0, 0, 0, 0]
        for i in [4, 6, 8] { XCTAssertEqual(EntropyObserver.divergence(bins, keep: i, levels: 4), 0) }
    }

    func testLargeTensorObserveIsConsistent() throws {
        // 1×32×64×64 activations (131 072 elements): the two-thread paths agree with a small copy.
        let n = 32 * 64 * 64
        let xs = (0..<n).map { Float(($0 * 7919) % 4099) * 0.002 - 1.5 }
        let o = DiffsObserver.activation()
        try o.observe(Tensor(shape: [1, 32, 64, 64], floats: xs))
        let direct = try xs.withUnsafeBufferPointer {
            try QuantMath.diffsFixPos($0, scope: 5, rounding: .halfUp, maxFixPos: 12)
        }
        XCTAssertEqual(try o.quantParams().fixPos, direct.fixPos)
        XCTAssertEqual(o.histogram.total, Double(n))
    }
}
