import CKernels

/// Instruction set used by the INT8 GEMM (convolutions via im2col, fully connected layers).
/// Both are exact int8·int8 → int32 and bit-identical (tested against the scalar twins).
public enum Int8GemmISA: String, Sendable, CaseIterable {
    /// Operands sign-extended to int16, `vpmaddwd` + `vpaddd` (2 MACs per lane per step).
    case avx2
    /// `vpdpbusd` (AVX512-VNNI on 256-bit registers) on activations offset to u8 (x XOR 0x80) and
    /// s8 weights, 4 MACs per lane per step; the offset's `128 · Σw` is subtracted per row.
    case avx512vnni

    /// Whether this CPU can run it.
    public var isSupported: Bool { self == .avx2 || octet_i8_vnni_supported() != 0 }

    /// The fastest supported one.
    public static let best: Int8GemmISA = octet_i8_vnni_supported() != 0 ? .avx512vnni : .avx2

    nonisolated(unsafe) private static var _current = best
    /// The instruction set kernels use (default `best`). Setting an unsupported one keeps AVX2.
    public static var current: Int8GemmISA {
        get { _current }
        set { _current = newValue.isSupported ? newValue : .avx2 }
    }
}

/// An A operand (M×K int8, row-major) packed once for many `Int8PackedB` panels.
final class Int8PackedA {
    let isa: Int8GemmISA, rows: Int, k: Int
    let storage: UnsafeMutableRawPointer
    /// AVX2 row stride in int16 (`kpad` = K rounded up to even).
    var kpad: Int { (k + 1) / 2 * 2 }

    init(_ a: UnsafePointer<Int8>, ld: Int, rows: Int, k: Int, isa: Int8GemmISA = .current) {
        self.isa = isa; self.rows = rows; self.k = k
        switch isa {
        case .avx512vnni:
            storage = .allocate(byteCount: max(1, octet_i8_vnni_pack_a_size(rows, k)), alignment: 64)
            octet_i8_vnni_pack_a(a, ld, rows, k, storage)
        case .avx2:
            let kp = (k + 1) / 2 * 2
            storage = .allocate(byteCount: max(1, rows * kp * 2), alignment: 64)
            let d = storage.bindMemory(to: Int16.self, capacity: max(1, rows * kp))
            for r in 0..<rows {
                let s = a + r * ld, dr = d + r * kp
                for p in 0..<k { dr[p] = Int16(s[p]) }
                for p in k..<kp { dr[p] = 0 }
            }
        }
    }
    deinit { storage.deallocate() }

    /// `c[r][n] = Σ_p a[row0 + r][p] · b[p][n]` for r < `count`, n < `b.columns` (overwrites c,
    /// row stride `ldc`).
    func multiply(rows row0: Int, count: Int, by b: Int8PackedB, into c: UnsafeMutablePointer<Int32>, ldc: Int) {
        precondition(b.isa == isa && b.k == k)
        switch isa {
        case .avx512vnni:
            octet_i8_vnni_gemm(storage, rows, row0, count, k, b.storage, b.columns, c, ldc)
        case .avx2:
            let a = storage.assumingMemoryBound(to: Int16.self) + row0 * kpad
            octet_i8_gemm_packed(a, kpad, count, kpad, b.storage.assumingMemoryBound(to: Int16.self), b.columns, c, ldc, 0)
        }
    }
}

/// A B operand (K×N int8 row-major, N ≤ `capacity` columns) packed into panels; reusable.
final class Int8PackedB {
    let isa: Int8GemmISA, k: Int, capacity: Int
    private(set) var columns = 0
    let storage: UnsafeMutableRawPointer

    init(k: Int, capacity: Int, isa: Int8GemmISA = .current) {
        self.isa = isa; self.k = k; self.capacity = capacity
        let bytes = isa == .avx512vnni ? octet_i8_vnni_pack_b_size(k, capacity)
                                       : (capacity + 15) / 16 * ((k + 1) / 2) * 64
        storage = .allocate(byteCount: max(1, bytes), alignment: 64)
    }
    deinit { storage.deallocate() }

    /// Packs rows 0..<k of `src` (row stride `ld`, `columns` ≤ capacity valid columns).
    func pack(_ src: UnsafePointer<Int8>, ld: Int, columns: Int) {
        precondition(columns <= capacity)
        self.columns = columns
        switch isa {
        case .avx512vnni: octet_i8_vnni_pack_b(src, ld, k, columns, storage)
        case .avx2: octet_i8_pack_b(src, ld, k, columns, storage.assumingMemoryBound(to: Int16.self))
        }
    }
}
