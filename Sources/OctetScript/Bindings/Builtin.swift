/// A parameter of a builtin: positional ones without a default are required; named
/// ones always have a default (`nil` when absent means the script's `nil`).
public struct ParameterSpec {
    public var name: String
    public var defaultValue: Value?

    public init(_ name: String, _ defaultValue: Value? = nil) {
        self.name = name
        self.defaultValue = defaultValue
    }
}

public typealias BuiltinBody = (Arguments, Interpreter) throws -> Value

/// A function implemented in Swift: name, parameters, documentation and body.
///
/// Methods of a type are builtins whose first positional parameter is the receiver
/// (`self`); `owner` names the type for messages (`Tensor.sum`).
public final class Builtin {
    public let name: String
    public let positional: [ParameterSpec]
    public let named: [ParameterSpec]
    /// Extra positional arguments are accepted (and passed in `Arguments.values`).
    public let variadic: Bool
    public let doc: String
    public let body: BuiltinBody
    public internal(set) var owner: String?

    public init(_ name: String, _ positional: [ParameterSpec] = [], named: [ParameterSpec] = [],
                variadic: Bool = false, doc: String, body: @escaping BuiltinBody) {
        self.name = name
        self.positional = positional
        self.named = named
        self.variadic = variadic
        self.doc = doc
        self.body = body
    }

    /// Convenience: positional names are required parameters.
    public convenience init(_ name: String, _ params: [String], named: [ParameterSpec] = [], variadic: Bool = false,
                            doc: String, body: @escaping BuiltinBody) {
        self.init(name, params.map { ParameterSpec($0) }, named: named, variadic: variadic, doc: doc, body: body)
    }

    public var displayName: String { owner.map { "\($0).\(name)" } ?? name }

    /// `name(a, b, key: default)` as shown by `:help`. Methods omit the receiver.
    public var signature: String {
        var parts = positional.dropFirst(owner == nil ? 0 : 1).map { p -> String in
            p.defaultValue.map { "\(p.name) = \(Format.repr($0))" } ?? p.name
        }
        if variadic { parts.append("...") }
        parts += named.map { "\($0.name): \(Format.repr($0.defaultValue ?? .null))" }
        return "\(displayName)(\(parts.joined(separator: ", ")))"
    }
}
