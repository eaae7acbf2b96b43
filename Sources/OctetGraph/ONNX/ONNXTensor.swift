import Foundation
import OctetTensor

/// Conversion of ONNX `TensorProto` (initializers, Constant values) to `Tensor`.
///
/// Supported element types: FLOAT, DOUBLE and FLOAT16 (converted to float32), INT8, UINT8,
/// BOOL (as uint8), INT32, INT16 (as int32), INT64. Data may be inline (typed fields or
/// `raw_data`) or external (`data_location = EXTERNAL`, file relative to the model).
enum ONNXTensor {
    static func decode(_ p: Onnx_TensorProto, external: ExternalData) throws -> Tensor {
        let shape = p.dims.map { Int($0) }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw OctetGraphError.badModel("tensor '\(p.name)' has a negative dimension \(shape)") }
        guard Tensor.checkedByteCount(shape, bytesPerElement: 8) != nil else {
            throw OctetGraphError.badModel("tensor '\(p.name)': shape \(shape) is too large")
        }
        let n = Tensor.elementCount(shape)
        let raw = try rawBytes(p, external: external)
        typealias DT = Onnx_TensorProto.DataType
        guard let dt = DT(rawValue: Int(p.dataType)) else {
            throw OctetGraphError.badModel("tensor '\(p.name)' has unknown data type \(p.dataType)")
        }
        func check(_ count: Int) throws {
            guard count == n else {
                throw OctetGraphError.badModel("tensor '\(p.name)': shape \(shape) needs \(n) elements, data has \(count)")
            }
        }
        switch dt {
        case .float:
            let v: [Float] = raw.map { fromRaw($0, Float.self) } ?? p.floatData
            try check(v.count); return Tensor(shape: shape, floats: v)
        case .double:
            let v: [Double] = raw.map { fromRaw($0, Double.self) } ?? p.doubleData
            try check(v.count); return Tensor(shape: shape, floats: v.map { Float($0) })
        case .float16:
            let bits: [UInt16] = raw.map { fromRaw($0, UInt16.self) } ?? p.int32Data.map { UInt16(truncatingIfNeeded: $0) }
            try check(bits.count); return Tensor(shape: shape, floats: bits.map(halfToFloat))
        case .int8:
            let v: [Int8] = raw.map { fromRaw($0, Int8.self) } ?? p.int32Data.map { Int8(truncatingIfNeeded: $0) }
            try check(v.count); return Tensor(shape: shape, int8s: v)
        case .uint8, .bool:
            let v: [UInt8] = raw.map { fromRaw($0, UInt8.self) } ?? p.int32Data.map { UInt8(truncatingIfNeeded: $0) }
            try check(v.count); return Tensor(shape: shape, uint8s: v)
        case .int16:
            let v: [Int32] = raw.map { fromRaw($0, Int16.self).map(Int32.init) } ?? p.int32Data
            try check(v.count); return Tensor(shape: shape, int32s: v)
        case .int32:
            let v: [Int32] = raw.map { fromRaw($0, Int32.self) } ?? p.int32Data
            try check(v.count); return Tensor(shape: shape, int32s: v)
        case .int64:
            let v: [Int64] = raw.map { fromRaw($0, Int64.self) } ?? p.int64Data
            try check(v.count); return Tensor(shape: shape, int64s: v)
        default:
            throw OctetGraphError.badModel("tensor '\(p.name)' has unsupported data type \(dt)")
        }
    }

    /// Inline `raw_data`, external bytes, or nil when the typed fields hold the data.
    private static func rawBytes(_ p: Onnx_TensorProto, external: ExternalData) throws -> Data? {
        if p.dataLocation == .external {
            var loc = "", offset = 0, length: Int? = nil
            for e in p.externalData {
                switch e.key {
                case "location": loc = e.value
                case "offset", "length":
                    guard let v = Int(e.value), v >= 0 else {
                        throw OctetGraphError.badModel("tensor '\(p.name)': external data \(e.key) '\(e.value)' is not a non-negative integer")
                    }
                    if e.key == "offset" { offset = v } else { length = v }
                default: break
                }
            }
            let path = try external.resolve(loc, tensor: p.name)
            var info = stat()
            guard stat(path, &info) == 0 else {
                throw OctetGraphError.badModel("tensor '\(p.name)': external data file '\(path)' not found")
            }
            guard info.st_mode & S_IFMT == S_IFREG else {  // a folder or a FIFO would fail or block the read
                throw OctetGraphError.badModel("tensor '\(p.name)': external data '\(path)' is not a regular file")
            }
            guard let fh = FileHandle(forReadingAtPath: path) else {
                throw OctetGraphError.badModel("tensor '\(p.name)': external data file '\(path)' cannot be read")
            }
            defer { try? fh.close() }
            let data: Data
            do {
                try fh.seek(toOffset: UInt64(offset))
                data = try (length.map { try fh.read(upToCount: $0) } ?? fh.readToEnd()) ?? Data()
            } catch {
                throw OctetGraphError.badModel("tensor '\(p.name)': external data file '\(path)': \(error.localizedDescription)")
            }
            if let l = length, data.count != l {
                throw OctetGraphError.badModel("tensor '\(p.name)': external data file '\(path)' is truncated")
            }
            return data
        }
        guard p.hasRawData else { return nil }
        let typed = [("float_data", p.floatData.count), ("int32_data", p.int32Data.count), ("int64_data", p.int64Data.count),
                     ("double_data", p.doubleData.count), ("uint64_data", p.uint64Data.count)].filter { $0.1 > 0 }
        if let (field, _) = typed.first {
            throw OctetGraphError.badModel("tensor '\(p.name)': both raw_data and \(field) hold values (ONNX: one of them)")
        }
        return p.rawData
    }

    /// The folder external tensor data is read from (the model's), and the files read from it.
    ///
    /// ONNX external data (onnx/docs/ExternalData.md): `location` is relative to the model's
    /// folder; absolute paths, `..` components and symbolic links leading out of the folder are
    /// refused (as onnxruntime refuses them), so a model reads only beside itself.
    final class ExternalData {
        let baseDir: String?
        /// Every file a tensor was read from, in first-read order.
        private(set) var files: [String] = []

        init(baseDir: String?) { self.baseDir = baseDir }

        /// - Throws: `.badModel` naming the tensor for an empty, absolute or up-level location, or
        ///   one whose links lead out of the model's folder.
        func resolve(_ location: String, tensor: String) throws -> String {
            let parts = location.split(separator: "/", omittingEmptySubsequences: false)
            let folder = URL(fileURLWithPath: baseDir ?? ".")
            let path = folder.appendingPathComponent(location).path
            let real = URL(fileURLWithPath: path).resolvingSymlinksInPath().path, realFolder = folder.resolvingSymlinksInPath().path
            guard !location.isEmpty, !location.hasPrefix("/"), !parts.contains(".."),
                  real.hasPrefix(realFolder.hasSuffix("/") ? realFolder : realFolder + "/") else {
                throw OctetGraphError.badModel("tensor '\(tensor)': external data location '\(location)' must be a path inside the model's folder")
            }
            if !files.contains(path) { files.append(path) }
            return path
        }
    }

    private static func fromRaw<T>(_ d: Data, _: T.Type) -> [T] {
        let n = d.count / MemoryLayout<T>.stride
        return [T](unsafeUninitializedCapacity: n) { buf, count in
            d.withUnsafeBytes { raw in
                if n > 0 { memcpy(buf.baseAddress!, raw.baseAddress!, n * MemoryLayout<T>.stride) }
            }
            count = n
        }
    }

    /// IEEE 754 binary16 → binary32.
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h >> 15) << 31
        let exp = Int((h >> 10) & 0x1f)
        let frac = UInt32(h & 0x3ff)
        if exp == 0 {
            let v = Float(frac) * pow(2, -24)
            return sign != 0 ? -v : v
        }
        if exp == 31 { return Float(bitPattern: sign | 0x7f80_0000 | (frac << 13)) }
        return Float(bitPattern: sign | UInt32(exp + 112) << 23 | (frac << 13))
    }

    static func dtype(fromONNX t: Int32) -> DType? {
        switch Onnx_TensorProto.DataType(rawValue: Int(t)) {
        case .float, .double, .float16: return .float32
        case .int8: return .int8
        case .uint8, .bool: return .uint8
        case .int32, .int16: return .int32
        case .int64: return .int64
        default: return nil
        }
    }
}
