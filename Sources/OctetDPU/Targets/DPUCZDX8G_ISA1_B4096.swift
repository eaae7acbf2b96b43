extension DPUTarget {
    /// DPUCZDX8G_ISA1_B4096 (Zynq UltraScale+ MPSoC DPU, 4096 ops/cycle), verbatim from
    /// Vitis AI `src/vai_runtime/target_factory/targets/DPUCZDX8G_ISA1_B4096.prototxt`
    /// (reference-quantizer §9.2); conv pad and channel limits from UG1414 "Currently Supported Operators".
    public static let dpuczdx8gISA1B4096 = DPUTarget(
        name: "DPUCZDX8G_ISA1_B4096",
        featureCode: 0x0000_5601_0407,
        isaVersion: 1,
        banks: [
            Bank(name: "VB0", count: 8, width: 16, depth: 2048),
            Bank(name: "VB1", count: 8, width: 16, depth: 2048),
            Bank(name: "CONVW", count: 16, width: 16, depth: 2048),
            Bank(name: "DWCONVW", count: 1, width: 16, depth: 2048),
            Bank(name: "BIAS", count: 1, width: 16, depth: 2048),
        ],
        loadChannelParallel: 16,
        conv: ConvEngine(inputChannelParallel: 16, outputChannelParallel: 16, pixelParallel: 8,
                         nonlinear: ["relu", "leaky_relu", "relu_six"], kernel: 1...16, stride: 1...8, strideOutH: 1...4),
        alu: ALUEngine(channelParallel: 16, pixelParallel: 4,
                       types: ["dwconv", "prelu", "avg_pool", "max_pool", "leaky_relu", "max_reduce", "dwconv_no_bias",
                               "hsigmoid", "w16b0"],
                       nonlinear: ["relu", "relu_six"], kernel: 1...256, stride: 1...256, strideOutH: 1...4,
                       padLeft: 0...15, padRight: 0...255, padTop: 0...15, padBottom: 0...255),
        eltwise: EltwiseEngine(channelParallel: 16, pixelParallel: 4, types: ["add", "mult"], nonlinear: ["relu"]),
        leakyReluAlpha: 26.0 / 256.0,
        source: "Vitis AI target_factory DPUCZDX8G_ISA1_B4096.prototxt; UG1414 supported operators")
}
