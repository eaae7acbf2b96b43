import CBLAS

/// Float matrix multiply through OpenBLAS `cblas_sgemm` (row-major), or `cblas_sgemv` when
/// one side is a vector (a Gemm at batch 1), which reads the matrix once without packing it.
public enum GemmFloat {
    /// C[M,N] = alpha · op(A) · op(B) + beta · C, where op transposes when asked.
    /// `a` is [M,K] (or [K,M] when `transA`), `b` is [K,N] (or [N,K] when `transB`).
    public static func gemm(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, transA: Bool,
                            b: UnsafePointer<Float>, transB: Bool, c: UnsafeMutablePointer<Float>,
                            alpha: Float = 1, beta: Float = 0) {
        guard m > 0 && n > 0 else { return }
        if k == 0 {
            for i in 0..<(m * n) { c[i] *= beta }
            return
        }
        if m == 1 {  // C[1,N] = op(B)ᵀ-applied to the K-vector a (a is contiguous either way)
            cblas_sgemv(CblasRowMajor, transB ? CblasNoTrans : CblasTrans, Int32(transB ? n : k), Int32(transB ? k : n),
                        alpha, b, Int32(transB ? k : n), a, 1, beta, c, 1)
            return
        }
        if n == 1 {  // C[M,1] = op(A) · b (b is contiguous either way)
            cblas_sgemv(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, Int32(transA ? k : m), Int32(transA ? m : k),
                        alpha, a, Int32(transA ? m : k), b, 1, beta, c, 1)
            return
        }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(transA ? m : k), b, Int32(transB ? k : n),
                    beta, c, Int32(n))
    }

    /// Double-precision GEMM: exact for integer-valued operands whose sums stay below 2^53
    /// (used for exact int8×int8 accumulation in the quantized reference evaluation).
    public static func dgemm(m: Int, n: Int, k: Int, a: UnsafePointer<Double>, b: UnsafePointer<Double>,
                             c: UnsafeMutablePointer<Double>, beta: Double = 0) {
        guard m > 0 && n > 0 && k > 0 else { return }
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1, a, Int32(k),
                    b, Int32(n), beta, c, Int32(n))
    }
}
