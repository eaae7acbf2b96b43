import ArgumentParser
import Foundation

/// Shared CLI plumbing: domain errors become one `error:` line on stderr and exit code 1.
enum CLI {
    static func guarded<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as ExitCode { throw e } catch let e as CleanExit { throw e } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
