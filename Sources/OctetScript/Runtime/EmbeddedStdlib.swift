/// Octet-language library files importable as `import "stdlib/<name>"` without a file
/// on disk. A file with the same relative path next to the importing script wins.
///
/// The texts live in `stdlib/*.octet`; `scripts/embed-stdlib` regenerates
/// `EmbeddedStdlib+Files.swift` from them (a test fails when it is stale).
public enum EmbeddedStdlib {
    public static var files: [String: String] = generated
}
