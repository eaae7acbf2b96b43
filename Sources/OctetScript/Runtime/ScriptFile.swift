import Foundation

/// Reads script files (`octet run`, `import`, `:load`) as UTF-8 text, naming why one cannot be.
public enum ScriptFile {
    public enum Failure: Error, CustomStringConvertible, Equatable {
        case missing
        case folder
        case unreadable(String)
        /// Not valid UTF-8; `offset` is the first byte that is not.
        case notUTF8(offset: Int)

        public var description: String {
            switch self {
            case .missing: return "no such file"
            case .folder: return "it is a folder"
            case .unreadable(let why): return "cannot read it (\(why))"
            case .notUTF8(let o): return "not UTF-8 text (invalid byte at offset \(o))"
            }
        }
    }

    /// - Throws: `Failure`.
    public static func read(_ path: String) throws -> String {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw Failure.missing }
        if isDir.boolValue { throw Failure.folder }
        let data: Data  // read to the end through a handle, so a pipe (/dev/stdin) works too
        guard let handle = FileHandle(forReadingAtPath: path) else { throw Failure.unreadable(String(cString: strerror(errno))) }
        defer { try? handle.close() }
        do { data = try handle.readToEnd() ?? Data() } catch { throw Failure.unreadable("\(error.localizedDescription)") }
        guard let text = String(data: data, encoding: .utf8) else { throw Failure.notUTF8(offset: firstInvalidByte(data)) }
        return text
    }

    /// Offset of the first byte that does not continue a valid UTF-8 sequence.
    static func firstInvalidByte(_ data: Data) -> Int {
        let bytes = [UInt8](data)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            let n = b < 0x80 ? 1 : b >> 5 == 0b110 ? 2 : b >> 4 == 0b1110 ? 3 : b >> 3 == 0b11110 ? 4 : 0
            guard n > 0, i + n <= bytes.count, bytes[(i + 1)..<(i + n)].allSatisfy({ $0 >> 6 == 0b10 }) else { return i }
            i += n
        }
        return bytes.count
    }
}
