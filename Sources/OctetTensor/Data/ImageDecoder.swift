import CImageIO
import Foundation

/// An 8-bit RGB image, rows top-down, pixels interleaved: `pixels[(y * width + x) * 3 + c]`.
public struct RGBImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let pixels: [UInt8]

    /// - Precondition: `pixels.count == width * height * 3`.
    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * 3, "RGBImage \(width)×\(height) needs \(width * height * 3) bytes")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// Channel `c` (0 = R, 1 = G, 2 = B) of pixel (x, y).
    public subscript(x: Int, y: Int, c: Int) -> UInt8 { pixels[(y * width + x) * 3 + c] }
}

/// JPEG (libjpeg-turbo) and PNG (libpng) decoding to `RGBImage` through the `CImageIO` C target,
/// which catches every library error: a corrupt file throws, it never exits the process.
/// The format is chosen by the file's signature (JPEG `FF D8 FF`, PNG `89 50 4E 47 0D 0A 1A 0A`),
/// not by its extension.
public enum ImageDecoder {
    public enum Format: String, Sendable { case jpeg, png }

    /// File extensions (lower case, without dot) that image folders accept.
    public static let extensions: Set<String> = ["jpg", "jpeg", "png"]

    /// The format named by the first bytes of `bytes`, or nil.
    public static func format(of bytes: UnsafeRawBufferPointer) -> Format? {
        if bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF { return .jpeg }
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        if bytes.count >= 8, (0..<8).allSatisfy({ bytes[$0] == png[$0] }) { return .png }
        return nil
    }

    /// Decodes the JPEG or PNG file at `path`.
    /// - Throws: `OctetTensorError.fileNotFound`; `DatasetError.corruptImage` naming the file for
    ///   unreadable, truncated or non-image content; `DatasetError.unsupportedFile` for CMYK JPEGs
    ///   and images wider or taller than 16384 pixels.
    public static func decode(path: String) throws -> RGBImage {
        try decode(data: try read(path), name: path)
    }

    /// Decodes JPEG or PNG bytes; `name` is used in error messages.
    public static func decode(data: Data, name: String) throws -> RGBImage {
        try data.withUnsafeBytes { raw -> RGBImage in
            let fmt = try formatOrThrow(raw, name: name)
            let (w, h) = try info(raw, format: fmt, name: name)
            var status: Int32 = 0
            var message = [CChar](repeating: 0, count: 256)
            let pixels = [UInt8](unsafeUninitializedCapacity: w * h * 3) { buf, initialized in
                var ow: Int32 = 0, oh: Int32 = 0
                let base = raw.bindMemory(to: UInt8.self).baseAddress
                status = fmt == .jpeg
                    ? octet_jpeg_decode_rgb(base, raw.count, buf.baseAddress, buf.count, &ow, &oh, &message, message.count)
                    : octet_png_decode_rgb(base, raw.count, buf.baseAddress, buf.count, &ow, &oh, &message, message.count)
                if status == 0, Int(ow) != w || Int(oh) != h { status = Int32(OCTET_IMG_CORRUPT) }
                initialized = status == 0 ? w * h * 3 : 0
            }
            try check(status, message, name: name)
            return RGBImage(width: w, height: h, pixels: pixels)
        }
    }

    /// Width and height from the file header, reading at most the first 64 KiB unless the
    /// header lies further in (large EXIF or ICC segments).
    /// - Throws: as `decode(path:)`.
    public static func size(path: String) throws -> (width: Int, height: Int) {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            if !FileManager.default.fileExists(atPath: path) { throw OctetTensorError.fileNotFound(path) }
            throw DatasetError.corruptImage(path: path, reason: "cannot open file")
        }
        defer { try? handle.close() }
        let prefix = (try? handle.read(upToCount: 65536)) ?? Data()
        if let s = try? prefix.withUnsafeBytes({ raw in try info(raw, format: try formatOrThrow(raw, name: path), name: path) }) {
            return s
        }
        let whole = try read(path)
        return try whole.withUnsafeBytes { raw in try info(raw, format: try formatOrThrow(raw, name: path), name: path) }
    }

    private static func read(_ path: String) throws -> Data { try InputFile.read(path) }

    private static func formatOrThrow(_ raw: UnsafeRawBufferPointer, name: String) throws -> Format {
        guard let f = format(of: raw) else {
            let what = raw.isEmpty ? "empty file" : "not a JPEG or PNG file (unknown signature)"
            throw DatasetError.corruptImage(path: name, reason: what)
        }
        return f
    }

    private static func info(_ raw: UnsafeRawBufferPointer, format: Format, name: String) throws -> (Int, Int) {
        var w: Int32 = 0, h: Int32 = 0
        var message = [CChar](repeating: 0, count: 256)
        let base = raw.bindMemory(to: UInt8.self).baseAddress
        let status = format == .jpeg
            ? octet_jpeg_info(base, raw.count, &w, &h, &message, message.count)
            : octet_png_info(base, raw.count, &w, &h, &message, message.count)
        try check(status, message, name: name)
        guard w > 0, h > 0 else { throw DatasetError.corruptImage(path: name, reason: "image has size \(w)×\(h)") }
        return (Int(w), Int(h))
    }

    private static func check(_ status: Int32, _ message: [CChar], name: String) throws {
        if status == Int32(OCTET_IMG_OK) { return }
        let text = message.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        if status == Int32(OCTET_IMG_UNSUPPORTED) || status == Int32(OCTET_IMG_TOO_LARGE) {
            throw DatasetError.unsupportedFile(path: name, reason: text)
        }
        throw DatasetError.corruptImage(path: name, reason: text.isEmpty ? "cannot decode" : text)
    }
}
