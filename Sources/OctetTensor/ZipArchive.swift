import CZlib
import Foundation

/// The members of a zip archive, as `.npz` files hold them (numpy `savez`/`savez_compressed`):
/// stored or deflate members, ZIP64 sizes and offsets (PKWARE APPNOTE 6.3.10 §4.3–4.5).
///
/// Each member is inflated with zlib into a buffer of its declared size and checked against its
/// CRC-32, so a corrupt member is an error naming it, never silent garbage and never an endless
/// loop on a deflate stream that does not end. Encrypted members, multi-disk archives and other
/// compression methods throw. Errors: `OctetTensorError.fileNotFound`, `.badFile` naming the path
/// and, where one is at fault, the member.
struct ZipArchive {
    struct Member {
        var name: String
        var flags: UInt16, method: UInt16, crc: UInt32
        var compressedSize: Int, size: Int, headerOffset: Int
    }

    let path: String
    let members: [Member]
    private let bytes: Data

    init(path: String) throws {
        self.path = path
        bytes = try InputFile.read(path)
        members = try Self.centralDirectory(ByteReader(bytes: bytes, path: path))
    }

    /// The member's uncompressed bytes. - Throws: `.badFile` for a corrupt or unsupported member.
    func extract(_ m: Member) throws -> Data {
        func fail(_ why: String) -> OctetTensorError { .badFile(path: path, reason: "member \(m.name) \(why)") }
        if m.flags & 1 != 0 { throw fail("is encrypted") }
        let r = ByteReader(bytes: bytes, path: path)
        guard try r.u32(m.headerOffset) == 0x0403_4B50 else { throw fail("has no local header at offset \(m.headerOffset)") }
        let start = m.headerOffset + 30 + Int(try r.u16(m.headerOffset + 26)) + Int(try r.u16(m.headerOffset + 28))
        guard start <= bytes.count, m.compressedSize <= bytes.count - start else { throw fail("is truncated") }
        guard UInt64(m.size) <= ProcessInfo.processInfo.physicalMemory else {
            throw fail("declares \(m.size) bytes, more than this machine's memory")
        }
        let out: Data
        switch m.method {
        case 0:
            guard m.compressedSize == m.size else { throw fail("is stored with \(m.compressedSize) bytes but declares \(m.size)") }
            out = bytes[bytes.startIndex + start..<bytes.startIndex + start + m.size]  // shares the file's bytes
        case 8: out = try inflate(from: start, m, fail)
        default: throw fail("uses compression method \(m.method); .npz members are stored (0) or deflate (8)")
        }
        let crc = out.withUnsafeBytes { Self.crc32($0) }
        guard crc == m.crc else {
            throw fail(String(format: "fails its CRC-32 check (stored %08x, computed %08x): the file is corrupt", m.crc, crc))
        }
        return out
    }

    // MARK: - Central directory

    private static func centralDirectory(_ r: ByteReader) throws -> [Member] {
        let n = r.bytes.count
        guard n >= 22, let eocd = stride(from: n - 22, through: max(0, n - 22 - 0xFFFF), by: -1)
            .first(where: { (try? r.u32($0)) == 0x0605_4B50 }) else {
            throw OctetTensorError.badFile(path: r.path, reason: "not a zip (.npz) archive")
        }
        guard try r.u16(eocd + 4) == 0, try r.u16(eocd + 6) == 0 else {
            throw OctetTensorError.badFile(path: r.path, reason: "multi-disk zip archives are not supported")
        }
        var count = Int(try r.u16(eocd + 10)), size = Int(try r.u32(eocd + 12)), offset = Int(try r.u32(eocd + 16))
        if eocd >= 20, try r.u32(eocd - 20) == 0x0706_4B50 {  // ZIP64 end of central directory locator
            let z = try r.int64(eocd - 12)
            guard try r.u32(z) == 0x0606_4B50 else { throw r.corrupt("ZIP64 end of central directory") }
            (count, size, offset) = (try r.int64(z + 32), try r.int64(z + 40), try r.int64(z + 48))
        }
        guard offset <= n, size <= n - offset, count <= size / 46 else { throw r.corrupt("central directory") }
        var members: [Member] = [], p = offset
        for i in 0..<count {
            guard p + 46 <= offset + size, try r.u32(p) == 0x0201_4B50 else { throw r.corrupt("central directory entry \(i)") }
            let nameLength = Int(try r.u16(p + 28)), extraLength = Int(try r.u16(p + 30)), commentLength = Int(try r.u16(p + 32))
            guard p + 46 + nameLength + extraLength + commentLength <= offset + size else { throw r.corrupt("central directory entry \(i)") }
            var m = Member(name: String(decoding: try r.slice(p + 46, nameLength), as: UTF8.self),
                           flags: try r.u16(p + 8), method: try r.u16(p + 10), crc: try r.u32(p + 16),
                           compressedSize: Int(try r.u32(p + 20)), size: Int(try r.u32(p + 24)), headerOffset: Int(try r.u32(p + 42)))
            try zip64Fields(r, from: p + 46 + nameLength, length: extraLength, into: &m)
            members.append(m)
            p += 46 + nameLength + extraLength + commentLength
        }
        return members
    }

    /// The ZIP64 extra field (id 1) holds, in this order, the size, compressed size and header
    /// offset that the fixed fields mark 0xFFFFFFFF (APPNOTE §4.5.3).
    private static func zip64Fields(_ r: ByteReader, from start: Int, length: Int, into m: inout Member) throws {
        var q = start
        while q + 4 <= start + length {
            let id = try r.u16(q), fieldLength = Int(try r.u16(q + 2))
            if id == 1 {
                var f = q + 4
                for keyPath in [\Member.size, \Member.compressedSize, \Member.headerOffset] where m[keyPath: keyPath] == 0xFFFF_FFFF {
                    guard f + 8 <= q + 4 + fieldLength else { throw r.corrupt("ZIP64 field of member \(m.name)") }
                    m[keyPath: keyPath] = try r.int64(f)
                    f += 8
                }
            }
            q += 4 + fieldLength
        }
    }

    // MARK: - zlib

    /// Raw deflate (RFC 1951) inflated into exactly `m.size` bytes, reading no further than its
    /// compressed bytes; fewer or more bytes out is an error. A stream whose compressed bytes end
    /// without a final block is accepted when it gave all `m.size` bytes, as numpy accepts it.
    private func inflate(from start: Int, _ m: Member, _ fail: (String) -> OctetTensorError) throws -> Data {
        var out = Data(count: m.size)
        var stream = z_stream()
        guard inflateInit2_(&stream, -MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw fail("cannot be inflated: zlib did not initialise")
        }
        defer { inflateEnd(&stream) }
        let spare = UnsafeMutablePointer<Bytef>.allocate(capacity: 1)  // zlib needs an output pointer even for 0 bytes
        defer { spare.deallocate() }
        let status: String? = bytes.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst -> String? in
                var inLeft = m.compressedSize, outLeft = m.size
                stream.next_in = UnsafeMutablePointer(mutating: src.baseAddress!.advanced(by: start).assumingMemoryBound(to: Bytef.self))
                stream.next_out = m.size > 0 ? dst.baseAddress!.assumingMemoryBound(to: Bytef.self) : spare
                while true {
                    if stream.avail_in == 0 { stream.avail_in = uInt(min(inLeft, Int(UInt32.max))); inLeft -= Int(stream.avail_in) }
                    if stream.avail_out == 0 { stream.avail_out = uInt(min(outLeft, Int(UInt32.max))); outLeft -= Int(stream.avail_out) }
                    let r = CZlib.inflate(&stream, Z_NO_FLUSH)
                    switch r {
                    case Z_STREAM_END:
                        return stream.total_out == m.size ? nil : "inflates to \(stream.total_out) bytes but declares \(m.size)"
                    case Z_OK: continue
                    case Z_BUF_ERROR where stream.avail_in == 0 && inLeft == 0:  // no final block: numpy accepts all bytes
                        return stream.total_out == m.size ? nil
                            : "ends after \(stream.total_out) of its \(m.size) bytes: the file is truncated or corrupt"
                    case Z_BUF_ERROR: return "inflates to more than the \(m.size) bytes it declares"
                    default: return "is corrupt: \(stream.msg.map { String(cString: $0) } ?? "zlib error \(r)")"
                    }
                }
            }
        }
        if let status { throw fail(status) }
        return out
    }

    static func crc32(_ p: UnsafeRawBufferPointer) -> UInt32 {
        var crc = CZlib.crc32(0, nil, 0), o = 0
        while o < p.count {
            let len = min(p.count - o, Int(UInt32.max))
            crc = CZlib.crc32(crc, p.baseAddress!.advanced(by: o).assumingMemoryBound(to: Bytef.self), uInt(len))
            o += len
        }
        return UInt32(crc)
    }
}

/// Bounds-checked little-endian reads of a file's bytes; an offset out of range is `.badFile`.
private struct ByteReader {
    let bytes: Data, path: String

    func corrupt(_ what: String) -> OctetTensorError { .badFile(path: path, reason: "corrupt zip archive: bad \(what)") }

    func slice(_ o: Int, _ n: Int) throws -> Data {
        guard o >= 0, n >= 0, o <= bytes.count, n <= bytes.count - o else {
            throw OctetTensorError.badFile(path: path, reason: "corrupt zip archive: a record runs past the end of the file")
        }
        return bytes.subdata(in: bytes.startIndex + o..<bytes.startIndex + o + n)
    }

    func uint(_ o: Int, _ n: Int) throws -> UInt64 {
        try slice(o, n).reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }
    func u16(_ o: Int) throws -> UInt16 { UInt16(try uint(o, 2)) }
    func u32(_ o: Int) throws -> UInt32 { UInt32(try uint(o, 4)) }
    /// A ZIP64 size or offset, refused above 2^62 (no file is that large).
    func int64(_ o: Int) throws -> Int {
        let v = try uint(o, 8)
        guard v < 1 << 62 else { throw corrupt("64-bit size or offset \(v)") }
        return Int(v)
    }
}
