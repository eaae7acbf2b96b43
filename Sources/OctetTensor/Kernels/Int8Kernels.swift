import Dispatch

/// INT8 kernels of the DPU emulator and the quantizer's integer evaluation.
///
/// Every fast kernel (AVX2 via `CKernels`, threaded) has a plain scalar `…Reference` twin with
/// the same signature; tests check them bit-exact. Data is NCHW int8 with power-of-two fix
/// positions (value = int · 2^−fp); arithmetic follows reference-quantizer.md §4.
/// Products are exact (int8·int8 ≤ 16384) and accumulate exactly in int32.
public enum Int8Kernels {
    /// Longest reduction (IC/groups · KH · KW, or K of a GEMM) whose int32 sum cannot overflow:
    /// 131071 · 16384 < 2^31.
    public static let maxReduction = 131_071

    /// Runs `body(item)` for every item in `0..<items`, spread over `threads` (1 or more)
    /// workers; worker `t` takes items t, t+threads, … . `body` also gets the worker index.
    static func parallel(items: Int, threads: Int, _ body: (_ item: Int, _ worker: Int) -> Void) {
        let workers = max(1, min(threads, items))
        if workers == 1 {
            for i in 0..<items { body(i, 0) }
            return
        }
        DispatchQueue.concurrentPerform(iterations: workers) { t in
            var i = t
            while i < items { body(i, t); i += workers }
        }
    }

    /// Checks dtype and shape of a kernel operand.
    /// - Throws: `OctetTensorError.dtypeMismatch` / `.shapeMismatch` naming `what` and the op.
    static func expect(_ t: Tensor, _ shape: [Int], _ what: String, op: String) throws {
        guard t.dtype == .int8 else {
            throw OctetTensorError.dtypeMismatch(expected: .int8, got: t.dtype, context: "\(op) \(what)")
        }
        guard t.shape == shape else {
            throw OctetTensorError.shapeMismatch("\(op): \(what) has shape \(t.shape), expected \(shape)")
        }
    }

    /// Validates a convolution geometry and its operands (weight [OC, IC/groups, KH, KW], bias [OC]).
    static func checkConv(_ x: Tensor, _ w: Tensor, _ b: Tensor?, _ g: ConvGeometry, op: String) throws {
        guard g.groups >= 1, g.inChannels % g.groups == 0, g.outChannels % g.groups == 0 else {
            throw OctetTensorError.shapeMismatch(
                "\(op): groups \(g.groups) must divide input channels \(g.inChannels) and output channels \(g.outChannels)")
        }
        try checkWindow(g, op: op)
        try expect(x, [g.batch, g.inChannels, g.inH, g.inW], "input", op: op)
        try expect(w, [g.outChannels, g.inChannelsPerGroup, g.kernelH, g.kernelW], "weight", op: op)
        if let b { try expect(b, [g.outChannels], "bias", op: op) }
        guard g.inChannelsPerGroup * g.kernelH * g.kernelW <= maxReduction else {
            throw OctetTensorError.unsupported("\(op): reduction length above \(maxReduction) could overflow int32")
        }
    }

    /// Validates strides, dilations, pads, kernel and output sizes of a window.
    static func checkWindow(_ g: ConvGeometry, op: String) throws {
        guard g.strideH >= 1, g.strideW >= 1, g.dilationH >= 1, g.dilationW >= 1, g.kernelH >= 1, g.kernelW >= 1,
              min(g.padTop, g.padLeft, g.padBottom, g.padRight) >= 0, g.batch >= 0, g.inH >= 1, g.inW >= 1 else {
            throw OctetTensorError.unsupported("\(op): invalid window \(g)")
        }
        guard g.outH >= 1, g.outW >= 1 else {
            throw OctetTensorError.shapeMismatch("\(op): window \(g.kernelH)x\(g.kernelW) leaves no output on \(g.inH)x\(g.inW)")
        }
    }
}

/// A per-worker scratch buffer, allocated once per kernel call (never per element).
final class Int8Scratch<T> {
    let buffer: UnsafeMutablePointer<T>
    let count: Int
    init(count: Int, zero: T) {
        self.count = max(count, 1)
        buffer = .allocate(capacity: self.count)
        buffer.initialize(repeating: zero, count: self.count)
    }
    /// Uninitialised storage for a trivial `T` that the kernel writes before reading.
    init(uninitialized count: Int) {
        self.count = max(count, 1)
        buffer = .allocate(capacity: self.count)
    }
    deinit { buffer.deallocate() }
}
