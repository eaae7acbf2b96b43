extension DPUTarget {
    /// Smaller configurations of the DPUCZDX8G family, **scaled from B4096 by Octet** (not copied
    /// from a Xilinx prototxt): channel parallel 8 (half of B4096's 16) and pixel parallel 8 (B1024)
    /// or 4 (B512), so 2·pp·8·8 ops/cycle is the B-number; bank widths 8 (= channel parallel) and
    /// weight-bank depths halved to 1024; engine kernel, stride and pad ranges and the supported op
    /// types are those of B4096. Smaller banks and channel parallelism mean tighter `256 · cp`
    /// channel limits and weight-fit checks.
    public static let dpuczdx8gISA1B1024 = scaledFromB4096(name: "DPUCZDX8G_ISA1_B1024", featureCode: 0x0000_5601_0204,
                                                           pixelParallel: 8)
    public static let dpuczdx8gISA1B512 = scaledFromB4096(name: "DPUCZDX8G_ISA1_B512", featureCode: 0x0000_5601_0104,
                                                          pixelParallel: 4)

    private static func scaledFromB4096(name: String, featureCode: UInt64, pixelParallel pp: Int) -> DPUTarget {
        DPUTarget(
            name: name,
            featureCode: featureCode,
            isaVersion: 1,
            banks: [
                Bank(name: "VB0", count: 8, width: 8, depth: 2048),
                Bank(name: "VB1", count: 8, width: 8, depth: 2048),
                Bank(name: "CONVW", count: 8, width: 8, depth: 1024),
                Bank(name: "DWCONVW", count: 1, width: 8, depth: 1024),
                Bank(name: "BIAS", count: 1, width: 8, depth: 1024),
            ],
            loadChannelParallel: 8,
            conv: ConvEngine(inputChannelParallel: 8, outputChannelParallel: 8, pixelParallel: pp,
                             nonlinear: ["relu", "leaky_relu", "relu_six"], kernel: 1...16, stride: 1...8, strideOutH: 1...4),
            alu: ALUEngine(channelParallel: 8, pixelParallel: 4,
                           types: ["dwconv", "prelu", "avg_pool", "max_pool", "leaky_relu", "max_reduce", "dwconv_no_bias",
                                   "hsigmoid", "w16b0"],
                           nonlinear: ["relu", "relu_six"], kernel: 1...256, stride: 1...256, strideOutH: 1...4,
                           padLeft: 0...15, padRight: 0...255, padTop: 0...15, padBottom: 0...255),
            eltwise: EltwiseEngine(channelParallel: 8, pixelParallel: 4, types: ["add", "mult"], nonlinear: ["relu"]),
            leakyReluAlpha: 26.0 / 256.0,
            source: "Octet: DPUCZDX8G_ISA1_B4096 scaled to pixel parallel \(pp), channel parallel 8, half-depth weight banks")
    }
}
