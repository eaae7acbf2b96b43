import Foundation

/// NumPy `.npy` (format 1.0–3.0) and `.npz` reading and `.npy` writing.
///
/// Supported dtypes: `<f4`, `|i1`, `|u1`, `<i4`, `<i8` in C order. Anything else —
/// Fortran order, big-endian, other dtypes, truncated data — throws `OctetTensorError.badFile`.
/// Source: numpy `numpy/lib/format.py` (NEP 1).
public enum NPY {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]

    /// Reads one array from a `.npy` file.
    public static func read(path: String) throws -> Tensor {
        try decode(try InputFile.read(path), name: path)
    }

    /// Reads every array of a `.npz` archive, keyed by name without the `.npy` suffix, as numpy's
    /// `NpzFile` keys them: a member named exactly `key` wins over `key.npy`; members that are not
    /// `.npy` data (no magic; numpy gives them as raw bytes) are left out.
    /// - Throws: `OctetTensorError.fileNotFound`; `.badFile` for a folder, a file that is not a zip
    ///   archive, a member name given twice, a corrupt member (CRC-32, size or deflate stream;
    ///   `ZipArchive`) or a bad `.npy`.
    public static func readArchive(path: String) throws -> [String: Tensor] {
        let archive = try ZipArchive(path: path)
        var out: [String: Tensor] = [:], bare: Set<String> = [], seen: Set<String> = []
        for member in archive.members where !member.name.hasSuffix("/") {
            guard seen.insert(member.name).inserted else {
                throw OctetTensorError.badFile(path: path, reason: "member \(member.name) appears twice (which one is the array is ambiguous)")
            }
            let bytes = try archive.extract(member)
            guard bytes.starts(with: magic) else { continue }
            var key = member.name
            if key.hasSuffix(".npy") {
                key.removeLast(4)
                if bare.contains(key) { continue }
            } else {
                bare.insert(key)
            }
            out[key] = try decode(bytes, name: "\(path):\(member.name)")
        }
        return out
    }

    /// Decodes `.npy` bytes; `name` is used in error messages.
    public static func decode(_ data: Data, name: String) throws -> Tensor {
        try data.withUnsafeBytes { try decode(raw: $0, name: name) }  // no copy of the bytes besides the tensor
    }

    private static func decode(raw bytes: UnsafeRawBufferPointer, name: String) throws -> Tensor {
        guard bytes.count >= 10, bytes.prefix(6).elementsEqual(magic) else {
            if bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) || bytes.starts(with: [0x50, 0x4B, 0x05, 0x06]) {  // a zip (np.savez), or an empty one
                throw OctetTensorError.badFile(path: name, reason: "is an .npz archive, not a .npy file")
            }
            throw OctetTensorError.badFile(path: name, reason: "not a .npy file (bad magic)")
        }
        let major = bytes[6]
        let headerLen: Int
        let headerStart: Int
        if major == 1 {
            headerLen = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        } else if major == 2 || major == 3 {
            guard bytes.count >= 12 else { throw OctetTensorError.badFile(path: name, reason: "truncated header") }
            headerLen = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        } else {
            throw OctetTensorError.badFile(path: name, reason: "unsupported .npy version \(major)")
        }
        guard bytes.count >= headerStart + headerLen else {
            throw OctetTensorError.badFile(path: name, reason: "truncated header")
        }
        let header = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[headerStart..<headerStart + headerLen]), as: UTF8.self)
        let (descr, fortran, shape) = try parseHeader(header, name: name)
        if fortran { throw OctetTensorError.badFile(path: name, reason: "Fortran-order arrays are not supported; save with C order") }
        let n = Tensor.elementCount(shape)
        let body = headerStart + headerLen
        let dtype = try dtypeFor(descr, name: name)
        guard let size = Tensor.checkedByteCount(shape, bytesPerElement: dtype.byteSize) else {
            throw OctetTensorError.badFile(path: name, reason: "shape \(shape) is too large")
        }
        guard bytes.count - body >= size else {
            throw OctetTensorError.badFile(path: name, reason: "truncated data: expected \(size) bytes for shape \(shape), found \(bytes.count - body)")
        }
        let p = bytes.baseAddress!.advanced(by: body)
        switch dtype {
        case .float32: return Tensor(shape: shape, floats: load(p, n, Float.self))
        case .int8: return Tensor(shape: shape, int8s: load(p, n, Int8.self))
        case .uint8: return Tensor(shape: shape, uint8s: load(p, n, UInt8.self))
        case .int32: return Tensor(shape: shape, int32s: load(p, n, Int32.self))
        case .int64: return Tensor(shape: shape, int64s: load(p, n, Int64.self))
        }
    }

    private static func load<T>(_ p: UnsafeRawPointer, _ n: Int, _: T.Type) -> [T] {
        [T](unsafeUninitializedCapacity: n) { buf, initialized in
            if n > 0 { memcpy(buf.baseAddress!, p, n * MemoryLayout<T>.stride) }
            initialized = n
        }
    }

    private static func dtypeFor(_ descr: String, name: String) throws -> DType {
        switch descr {
        case "<f4": return .float32
        case "|i1", "<i1", "i1": return .int8
        case "|u1", "<u1", "u1", "|b1": return .uint8
        case "<i4": return .int32
        case "<i8": return .int64
        default:
            throw OctetTensorError.badFile(path: name, reason: "unsupported dtype '\(descr)' (supported: float32, int8, uint8, int32, int64, little-endian)")
        }
    }

    /// Parses the header dictionary `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`
    /// (NumPy format 1.0–3.0): exactly these three keys, a simple dtype string, a tuple of sizes.
    private static func parseHeader(_ h: String, name: String) throws -> (String, Bool, [Int]) {
        func bad(_ reason: String) -> OctetTensorError { .badFile(path: name, reason: reason) }
        var rest = Substring(h.trimmingCharacters(in: .whitespacesAndNewlines))
        guard rest.first == "{", rest.last == "}" else { throw bad("header is not a dictionary") }
        rest = rest.dropFirst().dropLast()
        var fields: [String: Substring] = [:]
        while true {
            rest = rest.drop(while: \.isWhitespace)
            if rest.isEmpty { break }
            guard rest.first == "'", let close = rest.dropFirst().firstIndex(of: "'") else { throw bad("header key is not a quoted string") }
            let key = String(rest[rest.index(after: rest.startIndex)..<close])
            rest = rest[rest.index(after: close)...].drop(while: \.isWhitespace)
            guard rest.first == ":" else { throw bad("header key '\(key)' has no value") }
            rest = rest.dropFirst().drop(while: \.isWhitespace)
            let closer: Character? = rest.first == "'" ? "'" : rest.first == "(" ? ")" : rest.first == "[" ? "]" : nil
            let valueEnd: Substring.Index
            if let closer {
                guard let c = rest.dropFirst().firstIndex(of: closer) else { throw bad("header value of '\(key)' is not closed") }
                valueEnd = rest.index(after: c)
            } else {
                valueEnd = rest.firstIndex(of: ",") ?? rest.endIndex
            }
            guard ["descr", "fortran_order", "shape"].contains(key) else { throw bad("unexpected header key '\(key)'") }
            guard fields[key] == nil else { throw bad("header key '\(key)' is given twice") }
            fields[key] = rest[..<valueEnd].trimmingCharacters(in: .whitespaces)[...]
            rest = rest[valueEnd...].drop(while: \.isWhitespace)
            if rest.first == "," { rest = rest.dropFirst() } else if !rest.isEmpty { throw bad("header entries are not separated by commas") }
        }
        guard let d = fields["descr"] else { throw bad("header has no 'descr'") }
        guard d.first == "'", d.last == "'", d.count >= 2 else {
            throw bad(d.first == "[" ? "structured dtype \(d) is not supported (one plain dtype per array)" : "header 'descr' \(d) is not a dtype string")
        }
        let descr = String(d.dropFirst().dropLast())
        guard let f = fields["fortran_order"] else { throw bad("header has no 'fortran_order'") }
        guard f == "True" || f == "False" else { throw bad("header 'fortran_order' is \(f), not True or False") }
        guard let s = fields["shape"], s.first == "(", s.last == ")" else { throw bad("header has no 'shape'") }
        let dims = s.dropFirst().dropLast().split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var shape: [Int] = []
        for d in dims {
            guard let v = Int(d), v >= 0 else { throw bad("bad shape entry '\(d)'") }
            shape.append(v)
        }
        return (descr, f == "True", shape)
    }

    /// Encodes a tensor as `.npy` bytes: version 1.0, or 2.0 (4-byte header length) when the
    /// header exceeds 65 535 bytes (ranks beyond about 20 000), as NumPy does.
    public static func encode(_ t: Tensor) -> Data {
        let descr: String
        switch t.dtype {
        case .float32: descr = "<f4"
        case .int8: descr = "|i1"
        case .uint8: descr = "|u1"
        case .int32: descr = "<i4"
        case .int64: descr = "<i8"
        }
        let shapeText = t.shape.isEmpty ? "()" : t.shape.count == 1 ? "(\(t.shape[0]),)" : "(" + t.shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        let v1 = 10 + header.utf8.count + 1 + 63 <= 10 + Int(UInt16.max)
        let prefix = v1 ? 10 : 12
        let total = prefix + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - total % 64) % 64) + "\n"
        let len = header.utf8.count
        var data = Data(magic + (v1 ? [1, 0] : [2, 0]))
        data.append(contentsOf: (0..<(v1 ? 2 : 4)).map { UInt8(truncatingIfNeeded: len >> (8 * $0)) })
        data.append(contentsOf: Array(header.utf8))
        switch t.storage {
        case .float32(let a): a.withUnsafeBytes { data.append(contentsOf: $0) }
        case .int8(let a): a.withUnsafeBytes { data.append(contentsOf: $0) }
        case .uint8(let a): a.withUnsafeBytes { data.append(contentsOf: $0) }
        case .int32(let a): a.withUnsafeBytes { data.append(contentsOf: $0) }
        case .int64(let a): a.withUnsafeBytes { data.append(contentsOf: $0) }
        }
        return data
    }

    /// Writes a `.npy` file atomically.
    public static func write(_ t: Tensor, path: String) throws {
        try AtomicFile.write(encode(t), to: path)
    }
}
