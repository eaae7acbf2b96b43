import XCTest
@testable import OctetTensor

/// The float window kernels against direct loops: depthwise convolution and the short-reduction
/// direct convolution (C kernels over stride-phase rows) in Double over strides 1–3, dilations,
/// asymmetric pads and fused clamps, and im2col against its index formula.
final class Conv2DFloatWindowTests: XCTestCase {
    /// Grouped convolution in Double: y[n, o] = b[o] + Σ over the input channels c of o's group and
    /// the window of x[n, c, …] · w[o, c − group start, ky, kx] (zero outside the input), clamped.
    private func reference(_ x: [Float], _ w: [Float], _ b: [Float]?, _ g: ConvGeometry, lo: Float, hi: Float) -> [Float] {
        let icg = g.inChannelsPerGroup, ocg = g.outChannelsPerGroup
        var y = [Float](repeating: 0, count: g.batch * g.outChannels * g.outH * g.outW)
        for n in 0..<g.batch { for o in 0..<g.outChannels { for oy in 0..<g.outH { for ox in 0..<g.outW {
            var s = Double(b?[o] ?? 0)
            for j in 0..<icg { for ky in 0..<g.kernelH { for kx in 0..<g.kernelW {
                let iy = oy * g.strideH + ky * g.dilationH - g.padTop, ix = ox * g.strideW + kx * g.dilationW - g.padLeft
                guard iy >= 0, iy < g.inH, ix >= 0, ix < g.inW else { continue }
                let c = o / ocg * icg + j
                s += Double(x[((n * g.inChannels + c) * g.inH + iy) * g.inW + ix])
                    * Double(w[((o * icg + j) * g.kernelH + ky) * g.kernelW + kx])
            } } }
            y[((n * g.outChannels + o) * g.outH + oy) * g.outW + ox] = min(max(Float(s), lo), hi)
        } } } }
        return y
    }

    /// `Conv2DFloat.forward` at 1 and 2 threads within 1e-4 of the Double reference.
    func assertMatchesReference(_ x: [Float], _ w: [Float], _ b: [Float]?, _ g: ConvGeometry, clamp: (lo: Float, hi: Float)?,
                                file: StaticString = #filePath, line: UInt = #line) {
        let want = reference(x, w, b, g, lo: clamp?.lo ?? -.infinity, hi: clamp?.hi ?? .infinity)
        for threads in [1, 2] {
            let saved = KernelConfig.threads
            KernelConfig.threads = threads
            defer { KernelConfig.threads = saved }
            let got = x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in
                let run = { (bp: UnsafePointer<Float>?) in
                    Conv2DFloat.forward(input: xp.baseAddress!, weight: wp.baseAddress!, bias: bp, geometry: g, clamp: clamp)
                }
                return b.map { b in b.withUnsafeBufferPointer { run($0.baseAddress!) } } ?? run(nil)
            } }
            XCTAssertEqual(got.count, want.count, file: file, line: line)
            let worst = zip(got, want).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThan(worst, 1e-4, "\(g) threads \(threads)", file: file, line: line)
        }
    }

    /// A depthwise geometry: kernel 1, 2, 3, 5 or 7, stride 1–3, dilation 2 on every fifth draw,
    /// pads up to k/2 + 1, batch 1 or 2.
    private func randomDepthwise(_ rng: inout SeededRNG, _ ran: Int, channels: ClosedRange<Int>, height: ClosedRange<Int>,
                                 width: ClosedRange<Int>) -> ConvGeometry {
        let k = [1, 3, 5, 2, 7].randomElement(using: &rng)!, s = Int.random(in: 1...3, using: &rng)
        let d = ran % 5 == 4 ? 2 : 1, c = Int.random(in: channels, using: &rng)
        let pads = (0..<4).map { _ in Int.random(in: 0...(k / 2 + 1), using: &rng) }
        return ConvGeometry(batch: 1 + ran % 2, inChannels: c, inH: Int.random(in: height, using: &rng),
                            inW: Int.random(in: width, using: &rng), outChannels: c, kernelH: k, kernelW: k,
                            strideH: s, strideW: s, padTop: pads[0], padLeft: pads[1], padBottom: pads[2],
                            padRight: pads[3], dilationH: d, dilationW: d, groups: c)
    }

    func testRandomGeometriesMatchDirectLoop() throws {
        var rng = SeededRNG(seed: 51)
        var ran = 0
        while ran < 80 {
            let g = randomDepthwise(&rng, ran, channels: 1...9, height: 1...30, width: 1...41)
            let c = g.inChannels, k = g.kernelH
            guard g.outH >= 1, g.outW >= 1, g.isDepthwise || c == 1 else { continue }
            let x = (0..<(g.batch * c * g.inH * g.inW)).map { _ in Float.random(in: -2...2, using: &rng) }
            let w = (0..<(c * k * k)).map { _ in Float.random(in: -1...1, using: &rng) }
            let b = (0..<c).map { _ in Float.random(in: -1...1, using: &rng) }
            let clamp: (lo: Float, hi: Float)? = ran % 3 == 0 ? (0, 1.5) : nil
            assertMatchesReference(x, w, b, g, clamp: clamp)
            ran += 1
        }
    }

    /// `depthwiseWeightGradient` against a Double sum over random geometries (kernels 1–7, so 1 to
    /// 49 taps in groups of nine, strides 1–3, dilations, rows wider than 512 outputs), added to the
    /// gradient already there, and identical at 1 and 2 threads.
    func testDepthwiseWeightGradientMatchesDirectSum() {
        var rng = SeededRNG(seed: 57)
        var ran = 0
        while ran < 60 {
            let wide = ran % 10 == 9
            let g = randomDepthwise(&rng, ran, channels: 1...5, height: wide ? 1...4 : 1...40, width: wide ? 1030...1300 : 1...70)
            let c = g.inChannels, k = g.kernelH, s = g.strideH, d = g.dilationH
            guard g.outH >= 1, g.outW >= 1 else { continue }
            let x = (0..<(g.batch * c * g.inH * g.inW)).map { _ in Float.random(in: -2...2, using: &rng) }
            let dy = (0..<(g.batch * c * g.outH * g.outW)).map { _ in Float.random(in: -1...1, using: &rng) }
            let start = (0..<(c * k * k)).map { _ in Float.random(in: -1...1, using: &rng) }
            var want = start.map(Double.init), scale = [Double](repeating: 0, count: start.count)
            for n in 0..<g.batch { for ch in 0..<c { for oy in 0..<g.outH { for ox in 0..<g.outW {
                let e = Double(dy[((n * c + ch) * g.outH + oy) * g.outW + ox])
                for ky in 0..<k { for kx in 0..<k {
                    let iy = oy * s + ky * d - g.padTop, ix = ox * s + kx * d - g.padLeft
                    guard iy >= 0, iy < g.inH, ix >= 0, ix < g.inW else { continue }
                    let v = e * Double(x[((n * c + ch) * g.inH + iy) * g.inW + ix])
                    want[(ch * k + ky) * k + kx] += v
                    scale[(ch * k + ky) * k + kx] += abs(v)
                } }
            } } } }
            var results: [[Float]] = []
            for threads in [1, 2] {
                let saved = KernelConfig.threads
                KernelConfig.threads = threads
                defer { KernelConfig.threads = saved }
                var dw = start
                x.withUnsafeBufferPointer { xp in dy.withUnsafeBufferPointer { dp in dw.withUnsafeMutableBufferPointer { wp in
                    Conv2DFloat.depthwiseWeightGradient(input: xp.baseAddress!, outputGradient: dp.baseAddress!, geometry: g,
                                                        weightGradient: wp.baseAddress!)
                } } }
                results.append(dw)
            }
            XCTAssertEqual(results[0], results[1], "\(g): thread count changed the result")
            for i in want.indices {
                XCTAssertEqual(Double(results[0][i]), want[i], accuracy: 1e-6 * (scale[i] + abs(Double(start[i])) + 1), "\(g) tap \(i)")
            }
            ran += 1
        }
    }

    /// `im2col` against the index formula, over strides 1–3 (the stride-2 path gathers eight at a
    /// time), dilations and pads wider than the kernel reach.
    func testIm2colMatchesIndexFormula() {
        var rng = SeededRNG(seed: 7)
        for run in 0..<60 {
            let k = [1, 2, 3, 5].randomElement(using: &rng)!, s = 1 + run % 3, d = run % 4 == 3 ? 2 : 1
            let c = Int.random(in: 1...3, using: &rng)
            let pads = (0..<4).map { _ in Int.random(in: 0...(k + 1), using: &rng) }
            let g = ConvGeometry(batch: 1, inChannels: c, inH: Int.random(in: 1...13, using: &rng),
                                 inW: Int.random(in: 1...45, using: &rng), outChannels: 1, kernelH: k, kernelW: k,
                                 strideH: s, strideW: s, padTop: pads[0], padLeft: pads[1], padBottom: pads[2],
                                 padRight: pads[3], dilationH: d, dilationW: d)
            guard g.outH >= 1, g.outW >= 1 else { continue }
            let x = (0..<(c * g.inH * g.inW)).map { _ in Float.random(in: -2...2, using: &rng) }
            let plane = g.outH * g.outW
            var cols = [Float](repeating: .nan, count: c * k * k * plane)
            x.withUnsafeBufferPointer { xp in cols.withUnsafeMutableBufferPointer { cp in
                Conv2DFloat.im2col(xp.baseAddress!, cp.baseAddress!, channels: c, g)
            } }
            for ch in 0..<c { for ky in 0..<k { for kx in 0..<k { for oy in 0..<g.outH { for ox in 0..<g.outW {
                let iy = oy * s - g.padTop + ky * d, ix = ox * s - g.padLeft + kx * d
                let want: Float = iy >= 0 && iy < g.inH && ix >= 0 && ix < g.inW ? x[(ch * g.inH + iy) * g.inW + ix] : 0
                let got = cols[((ch * k + ky) * k + kx) * plane + oy * g.outW + ox]
                if got != want { XCTFail("\(g) c \(ch) tap (\(ky),\(kx)) at (\(oy),\(ox)): \(got) vs \(want)"); return }
            } } } } }
        }
    }

    /// Ungrouped convolutions with IC·KH·KW ≤ 64 (the direct kernel: blocks of four output channels
    /// and their remainders, two rows at a time and the odd last row, one phase buffer per input
    /// channel) and one just above the bound (im2col + SGEMM), with and without bias and clamp.
    func testShortReductionConvolutionsMatchDirectLoop() throws {
        var rng = SeededRNG(seed: 77)
        var ran = 0
        while ran < 60 {
            let k = [2, 3, 5].randomElement(using: &rng)!, s = Int.random(in: 1...3, using: &rng)
            let d = ran % 5 == 4 ? 2 : 1
            let ic = ran == 59 ? 8 : Int.random(in: 1...(64 / (k * k)), using: &rng)  // 8·3·3 = 72: the GEMM path
            let kk = ran == 59 ? 3 : k
            let pads = (0..<4).map { _ in Int.random(in: 0...(kk / 2 + 1), using: &rng) }
            let g = ConvGeometry(batch: 1 + ran % 2, inChannels: ic, inH: Int.random(in: 1...25, using: &rng),
                                 inW: Int.random(in: 1...37, using: &rng), outChannels: Int.random(in: 1...11, using: &rng),
                                 kernelH: kk, kernelW: kk, strideH: s, strideW: s, padTop: pads[0], padLeft: pads[1],
                                 padBottom: pads[2], padRight: pads[3], dilationH: d, dilationW: d)
            guard g.outH >= 1, g.outW >= 1 else { continue }
            let x = (0..<(g.batch * ic * g.inH * g.inW)).map { _ in Float.random(in: -2...2, using: &rng) }
            let w = (0..<(g.outChannels * ic * kk * kk)).map { _ in Float.random(in: -1...1, using: &rng) }
            let b: [Float]? = ran % 4 == 1 ? nil : (0..<g.outChannels).map { _ in Float.random(in: -1...1, using: &rng) }
            let clamp: (lo: Float, hi: Float)? = ran % 3 == 0 ? (0, 1.5) : nil
            assertMatchesReference(x, w, b, g, clamp: clamp)
            ran += 1
        }
    }

    /// A pointwise convolution on a 7×7 plane whose GEMM is split along the output channels
    /// (40 channels, 49 · 600 multiply-adds per channel: calls of 30 and 10 channels).
    func testSmallPlaneGEMMSplitAlongOutputChannels() {
        let g = ConvGeometry(batch: 2, inChannels: 600, inH: 7, inW: 7, outChannels: 40, kernelH: 1, kernelW: 1,
                             strideH: 1, strideW: 1, padTop: 0, padLeft: 0, padBottom: 0, padRight: 0,
                             dilationH: 1, dilationW: 1)
        XCTAssertEqual(Conv2DFloat.rowsPerSGEMM(outChannels: 40, outPlane: 49, depth: 600), 30)
        XCTAssertEqual(Conv2DFloat.rowsPerSGEMM(outChannels: 40, outPlane: 64, depth: 600), 40)
        var rng = SeededRNG(seed: 5)
        let x = (0..<(2 * 600 * 49)).map { _ in Float.random(in: -1...1, using: &rng) }
        let w = (0..<(40 * 600)).map { _ in Float.random(in: -0.1...0.1, using: &rng) }
        let b = (0..<40).map { _ in Float.random(in: -1...1, using: &rng) }
        let want = reference(x, w, b, g, lo: 0, hi: 6)
        let got = x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in b.withUnsafeBufferPointer { bp in
            Conv2DFloat.forward(input: xp.baseAddress!, weight: wp.baseAddress!, bias: bp.baseAddress!, geometry: g, clamp: (0, 6))
        } } }
        XCTAssertLessThan(zip(got, want).map { abs($0 - $1) }.max() ?? 1, 1e-4)
    }
}
