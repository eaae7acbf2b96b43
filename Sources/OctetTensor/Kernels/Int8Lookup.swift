import CKernels

/// Code-to-code tables: any elementwise int8 → int8 function (requantization, activations,
/// hard-sigmoid, hard-swish) is a 256-entry table.
extension Int8Kernels {
    /// `y[i] = table[x[i] + 128]`. - Parameters: `x` int8 of any shape; `table` 256 codes, entry
    /// c + 128 for code c. AVX-512 VBMI (`vpermi2b`) where the CPU has it. Twin: `lookupReference`.
    public static func lookup(_ x: Tensor, table: [Int8]) -> Tensor {
        precondition(table.count == 256 && x.dtype == .int8, "lookup: int8 tensor and 256-entry table")
        // the C kernel indexes by bit pattern: 0...127, then −128...−1
        let byPattern = (0..<256).map { table[Int(Int8(truncatingIfNeeded: $0)) + 128] }
        var y = x
        byPattern.withUnsafeBufferPointer { t in
            y.withMutableInt8s { p in if p.count > 0 { octet_i8_lut(p.baseAddress!, p.baseAddress!, p.count, t.baseAddress!) } }
        }
        return y
    }

    /// Scalar twin of `lookup`.
    public static func lookupReference(_ x: Tensor, table: [Int8]) -> Tensor {
        Tensor(shape: x.shape, int8s: x.int8s.map { table[Int($0) + 128] })
    }
}
