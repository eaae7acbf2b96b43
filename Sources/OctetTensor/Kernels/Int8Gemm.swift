import CKernels

/// INT8 GEMM and fully connected layers (exact int32 accumulation).
extension Int8Kernels {
    /// `c[i][j] = Σ_p a[i][p] · b[p][j]`, exact in int32.
    /// - Parameters: `a` M×K row-major; `b` K×N row-major, or N×K when `bTransposed`; `c` M×N row-major.
    /// - Throws: `OctetTensorError.unsupported` when K > `maxReduction` (the sum could overflow).
    /// Runs on `Int8GemmISA.current` (AVX2 `pmaddwd` or AVX512-VNNI `vpdpbusd`); columns split over threads.
    public static func gemm(a: UnsafePointer<Int8>, b: UnsafePointer<Int8>, c: UnsafeMutablePointer<Int32>,
                            m: Int, n: Int, k: Int, bTransposed: Bool = false,
                            threads: Int = KernelConfig.threads) throws {
        try checkGemm(m: m, n: n, k: k)
        if m == 0 || n == 0 { return }
        if k == 0 { c.update(repeating: 0, count: m * n); return }
        let pa = Int8PackedA(a, ld: k, rows: m, k: k)
        // B as K×N row-major int8 (transpose once when given N×K).
        let bt = bTransposed ? Int8Scratch<Int8>(uninitialized: k * n) : nil
        if let bt { for j in 0..<n { for p in 0..<k { bt.buffer[p * n + j] = b[j * k + p] } } }
        let bkn = bt.map { UnsafePointer($0.buffer) } ?? b
        let blocks = (n + 15) / 16
        let chunk = max(1, (blocks + max(threads, 1) - 1) / max(threads, 1)) * 16
        let items = (n + chunk - 1) / chunk
        let panels = (0..<items).map { _ in Int8PackedB(k: k, capacity: chunk, isa: pa.isa) }
        parallel(items: items, threads: threads) { item, _ in
            let j0 = item * chunk, nc = min(chunk, n - j0)
            panels[item].pack(bkn + j0, ld: n, columns: nc)
            pa.multiply(rows: 0, count: m, by: panels[item], into: c + j0, ldc: n)
        }
    }

    /// Scalar twin of `gemm` (Int64 sums, checked to fit int32).
    public static func gemmReference(a: UnsafePointer<Int8>, b: UnsafePointer<Int8>, c: UnsafeMutablePointer<Int32>,
                                     m: Int, n: Int, k: Int, bTransposed: Bool = false) throws {
        try checkGemm(m: m, n: n, k: k)
        for i in 0..<m {
            for j in 0..<n {
                var s: Int64 = 0
                for p in 0..<k {
                    let bv = bTransposed ? b[j * k + p] : b[p * n + j]
                    s += Int64(a[i * k + p]) * Int64(bv)
                }
                c[i * n + j] = Int32(s)
            }
        }
    }

    /// Fully connected (ONNX Gemm with transB = 1): `y[i][o] = requant(Σ_p x[i][p] · w[o][p], bias[o])`.
    /// - Parameters: `x` int8 [N, K], `weight` int8 [O, K], `bias` int8 [O] or nil.
    /// - Returns: int8 [N, O]. - Throws: on dtype/shape mismatch or K > `maxReduction`.
    public static func fullyConnected(_ x: Tensor, weight: Tensor, bias: Tensor?, requant: Int8Requant,
                                      threads: Int = KernelConfig.threads) throws -> Tensor {
        try fc(x, weight, bias, requant, fast: true, threads: threads)
    }

    /// Scalar twin of `fullyConnected`.
    public static func fullyConnectedReference(_ x: Tensor, weight: Tensor, bias: Tensor?,
                                               requant: Int8Requant) throws -> Tensor {
        try fc(x, weight, bias, requant, fast: false, threads: 1)
    }

    private static func fc(_ x: Tensor, _ w: Tensor, _ bias: Tensor?, _ rq: Int8Requant,
                           fast: Bool, threads: Int) throws -> Tensor {
        guard x.rank == 2, w.rank == 2 else {
            throw OctetTensorError.shapeMismatch("fully connected: input \(x.shape) and weight \(w.shape) must be 2-D")
        }
        let batch = x.shape[0], k = x.shape[1], o = w.shape[0]
        try expect(x, [batch, k], "input", op: "fully connected")
        try expect(w, [o, k], "weight", op: "fully connected")
        if let bias { try expect(bias, [o], "bias", op: "fully connected") }
        var acc = [Int32](repeating: 0, count: o * batch)  // [O, N]
        try x.withInt8s { xb in try w.withInt8s { wb in try acc.withUnsafeMutableBufferPointer { cb in
            if fast {
                try gemm(a: wb.baseAddress!, b: xb.baseAddress!, c: cb.baseAddress!, m: o, n: batch, k: k,
                         bTransposed: true, threads: threads)
            } else {
                try gemmReference(a: wb.baseAddress!, b: xb.baseAddress!, c: cb.baseAddress!, m: o, n: batch, k: k,
                                  bTransposed: true)
            }
        } } }
        let b = bias?.int8s ?? [Int8](repeating: 0, count: o)
        var out = [Int8](repeating: 0, count: batch * o)
        for i in 0..<batch { for j in 0..<o { out[i * o + j] = rq.apply(acc[j * batch + i], bias: b[j]) } }
        return Tensor(shape: [batch, o], int8s: out)
    }

    static func checkGemm(m: Int, n: Int, k: Int) throws {
        guard m >= 0, n >= 0, k >= 0 else { throw OctetTensorError.shapeMismatch("gemm: negative size \(m)x\(k)x\(n)") }
        guard k <= maxReduction else {
            throw OctetTensorError.unsupported("gemm: K = \(k) above \(maxReduction) could overflow int32")
        }
    }
}
