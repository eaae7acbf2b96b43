import Dispatch
import Foundation
import XCTest
@testable import OctetTensor

/// The two benchmark shapes (MobileNetV2-style 1×1 96→24 and 3×3 depthwise 144 on 56×56):
/// always checked bit-exact against the reference; with OCTET_BENCH=1 (release build) also timed.
final class Int8KernelBenchTests: XCTestCase {
    private func check(_ g: ConvGeometry, _ name: String) throws {
        var rng = SeededRNG(seed: 41)
        let x = rng.tensor([g.batch, g.inChannels, g.inH, g.inW])
        let w = rng.tensor([g.outChannels, g.inChannelsPerGroup, g.kernelH, g.kernelW]), b = rng.tensor([g.outChannels])
        let rq = try Int8Requant(fpIn: 4, fpWeight: 7, fpBias: 6, fpOut: 3, activation: .relu6)
        let ref = try Int8Kernels.conv2dReference(x, weight: w, bias: b, geometry: g, requant: rq)
        for threads in [1, 2] {
            XCTAssertEqual(try Int8Kernels.conv2d(x, weight: w, bias: b, geometry: g, requant: rq, threads: threads), ref)
        }
        guard ProcessInfo.processInfo.environment["OCTET_BENCH"] != nil else { return }
        for threads in [1, 2] {
            var best = Double.infinity
            for _ in 0..<30 {
                let t0 = DispatchTime.now().uptimeNanoseconds
                _ = try Int8Kernels.conv2d(x, weight: w, bias: b, geometry: g, requant: rq, threads: threads)
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0))
            }
            print(String(format: "%@ threads %d: %.3f ms, %.2f GMAC/s", name, threads, best / 1e6, Double(g.macs) / best))
        }
    }

    func testPointwise96to24On56() throws {
        try check(ConvGeometry(batch: 1, inChannels: 96, inH: 56, inW: 56, outChannels: 24, kernelH: 1, kernelW: 1),
                  "1x1 conv 96->24 56x56")
    }

    func testDepthwise3x3With144ChannelsOn56() throws {
        try check(ConvGeometry(batch: 1, inChannels: 144, inH: 56, inW: 56, outChannels: 144, kernelH: 3, kernelW: 3,
                               padTop: 1, padLeft: 1, padBottom: 1, padRight: 1, groups: 144), "3x3 depthwise 144ch 56x56")
    }
}
