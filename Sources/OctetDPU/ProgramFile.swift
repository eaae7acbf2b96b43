import Foundation
import OctetTensor
import SwiftProtobuf

/// The `.octprog` program file: a 24-byte header then one protobuf `ProgramProto`
/// (schema: Sources/OctetDPU/Schema/program.proto).
///
/// Header: magic "OCTPROG\0" (8 bytes), format version (uint32 LE), payload length (uint64 LE),
/// CRC-32 of the payload (uint32 LE, IEEE polynomial as zlib). The header lets a reader tell a
/// foreign, wrong-version, truncated or corrupted file apart before parsing.
public enum ProgramFile {
    public static let magic = Data("OCTPROG\0".utf8)
    public static let headerSize = 24

    /// Serializes `program` (header + payload).
    /// - Throws: `OctetDPUError.corruptFile` if protobuf encoding fails.
    public static func encode(_ program: Program) throws -> Data {
        var options = BinaryEncodingOptions()
        options.useDeterministicOrdering = true  // map fields sorted: the same program gives the same bytes
        let payload: Data = try ProgramProtoCoding.proto(program).serializedBytes(options: options)
        var d = magic
        d.appendLE(UInt32(Program.formatVersion))
        d.appendLE(UInt64(payload.count))
        d.appendLE(CRC32.checksum(payload))
        d.append(payload)
        return d
    }

    /// Writes atomically (`AtomicFile`): a reader never sees a half-written program.
    /// - Throws: `OctetTensorError.writeFailed` naming the path.
    public static func save(_ program: Program, to path: String) throws {
        try AtomicFile.write(try encode(program), to: path)
    }

    /// Reads a program; with `target`, also checks it was compiled for that target.
    /// - Throws: `OctetDPUError.corruptFile` (not a program file, bad checksum, bad payload),
    ///   `.truncatedFile`, `.unsupportedVersion`, `.targetMismatch`; `OctetTensorError.fileNotFound`, `.badFile`
    ///   (a folder, an unreadable file).
    public static func load(path: String, target: DPUTarget? = nil) throws -> Program {
        let program = try decode(try InputFile.read(path), path: path)
        if let t = target, t.name != program.target { throw OctetDPUError.targetMismatch(program: program.target, expected: t.name) }
        return program
    }

    /// Parses bytes read from `path` (named in errors).
    public static func decode(_ data: Data, path: String) throws -> Program {
        guard data.count >= headerSize, data.prefix(8) == magic else {
            // An ONNX ModelProto starts with its ir_version field (tag 0x08).
            let onnx = data.first == 0x08 ? "; it looks like an ONNX model, which `octet deploy` compiles into a program" : ""
            throw OctetDPUError.corruptFile(path: path, reason: data.count < 8 || data.prefix(8) != magic
                ? "missing the OCTPROG magic (not an Octet program\(onnx))" : "header shorter than \(headerSize) bytes")
        }
        let version = Int(data.readLE(UInt32.self, at: 8))
        guard version == Program.formatVersion else {
            throw OctetDPUError.unsupportedVersion(path: path, found: version, supported: Program.formatVersion)
        }
        let announced = data.readLE(UInt64.self, at: 12), crc = data.readLE(UInt32.self, at: 20)
        let payload = data.subdata(in: (data.startIndex + headerSize)..<data.endIndex)
        guard announced <= UInt64(Int.max) else {
            throw OctetDPUError.corruptFile(path: path, reason: "announced payload length \(announced) bytes is impossible (the file holds \(payload.count))")
        }
        let length = Int(announced)
        guard payload.count >= length else { throw OctetDPUError.truncatedFile(path: path, expected: length, found: payload.count) }
        guard payload.count == length else {
            throw OctetDPUError.corruptFile(path: path, reason: "\(payload.count - length) bytes after the announced payload")
        }
        guard CRC32.checksum(payload) == crc else { throw OctetDPUError.corruptFile(path: path, reason: "payload checksum mismatch") }
        let proto: Octet_Dpu_ProgramProto
        do { proto = try Octet_Dpu_ProgramProto(serializedBytes: payload) } catch {
            throw OctetDPUError.corruptFile(path: path, reason: "payload does not parse: \(error)")
        }
        guard Int(proto.formatVersion) == Program.formatVersion else {
            throw OctetDPUError.unsupportedVersion(path: path, found: Int(proto.formatVersion), supported: Program.formatVersion)
        }
        let program: Program
        do { program = try ProgramProtoCoding.program(proto) } catch let e as OctetDPUError {
            throw OctetDPUError.corruptFile(path: path, reason: e.description)
        }
        // The emulator reads a node's first input and output (both of Add / Mul) unchecked.
        for n in program.graph.nodes {
            let need = ["Add", "Mul"].contains(n.opType) ? 2 : 1
            guard n.inputs.count >= need, !n.outputs.isEmpty else {
                throw OctetDPUError.corruptFile(path: path, reason: "node \(n.name) (\(n.opType)) has \(n.inputs.count) inputs and \(n.outputs.count) outputs")
            }
        }
        return program
    }
}

/// CRC-32 (IEEE 802.3 polynomial 0xEDB88320, reflected; as zlib's `crc32`).
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { i -> UInt32 in
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ data: Data) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        data.withUnsafeBytes { (p: UnsafeRawBufferPointer) in
            for b in p { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        }
        return c ^ 0xFFFF_FFFF
    }
}

extension Data {
    mutating func appendLE<T: FixedWidthInteger>(_ v: T) {
        Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) }
    }

    func readLE<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        var v = T.zero
        Swift.withUnsafeMutableBytes(of: &v) { dst in
            self.withUnsafeBytes { src in dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[offset..<(offset + MemoryLayout<T>.size)])) }
        }
        return T(littleEndian: v)
    }
}
