// MARK: - Adding bindings
//
// Octet binds Swift code to the language through ONE explicit name→function table per
// domain (wren's "core + primitives" style). To add a domain (e.g. models):
//
// 1. Create `Sources/OctetScript/Bindings/ModelBindings.swift` with
//
//        enum ModelBindings {
//            static let table = BindingTable(domain: "model", [
//                Builtin("load", ["path"], doc: "Loads an ONNX model from `path`.") { args, interp in
//                    .object(ModelValue(try Graph.load(path: try args.string(0))))
//                },
//                Builtin("quantize", ["model", "calib"],
//                        named: [ParameterSpec("method", .string("diffs")), ParameterSpec("bits", .int(8))],
//                        doc: "Post-training quantization ...") { args, interp in ... },
//            ])
//        }
//
//    Positional parameters come first, named ones carry defaults. The interpreter checks
//    counts and names (unknown named arguments list the accepted ones) before the body
//    runs. In the body read arguments with `args.tensor(0)`, `args.string("method")`,
//    ...; throw `BindingError.argument(i, msg)` / `.named(name, msg)` to point the caret
//    at an argument, or any Error (its description becomes the message at the call).
//    Long work reports through `interp.progress` and checks `interp.cancellation`.
// 2. Add `ModelBindings.table` to `BindingRegistry.tables` (one line).
// 3. Domain values are classes conforming to `DomainObject` (type name, summary,
//    properties, a `methods` BindingTable whose builtins take the receiver first, and an
//    optional notebook rendering). Names must be unique across tables.
// 4. Document each builtin in its `doc:`; `:help name` and docs/language.md show them.

/// The builtins of one domain, by name.
public struct BindingTable {
    public let domain: String
    public let builtins: [Builtin]
    private let byName: [String: Builtin]

    /// - Parameter owner: for method tables, the type name prefixed in messages (`Tensor.sum`).
    public init(domain: String, owner: String? = nil, _ builtins: [Builtin]) {
        self.domain = domain
        self.builtins = builtins
        var map: [String: Builtin] = [:]
        for b in builtins {
            precondition(map[b.name] == nil, "duplicate builtin '\(b.name)' in \(domain) table")
            if let owner { b.owner = owner }
            map[b.name] = b
        }
        byName = map
    }

    public subscript(name: String) -> Builtin? { byName[name] }
    public var names: [String] { builtins.map(\.name) }
}

/// Every domain's global builtins. Adding a domain's table is one line here.
public enum BindingRegistry {
    public static let tables: [BindingTable] = [
        CoreBindings.table,
        TensorBindings.table,
        MetricsBindings.table,
        PlotBindings.table,
        TableBindings.table,
        ModelBindings.table,
        DataBindings.table,
        QuantBindings.table,
        DPUBindings.table,
        EvalBindings.table,
        RecoveryBindings.table,
    ]

    /// The method tables of the value types (`q.report`, `d.mirrored`, …), by type name, for help.
    public static let methodTables: [(type: String, table: BindingTable)] = [
        ("Tensor", TensorBindings.methods), ("Model", ModelBindings.methods), ("Dataset", DataBindings.methods),
        ("QuantizedModel", QuantizedModelMethods.table), ("Report", ReportValue.methodTable),
        ("Observer", ObserverValue.methodTable), ("Program", ProgramValue.methodTable),
        ("list", ValueMethods.list), ("string", ValueMethods.string), ("record", ValueMethods.record),
    ]

    /// Help lines for a method name or a type name: `Type.method(signature)` and its doc for each
    /// type with such a method, or a type's method list; empty when nothing matches.
    public static func methodHelp(_ name: String) -> [String] {
        if let t = methodTables.first(where: { $0.type == name }) {
            return ["\(t.type) methods: " + t.table.names.sorted().joined(separator: ", ") + " (:help \(t.type).NAME for one)"]
        }
        let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
        let (type, method) = parts.count == 2 ? (Optional(parts[0]), parts[1]) : (nil, name)
        return methodTables.filter { type == nil || $0.type == type }.compactMap { t in
            t.table[method].map { b in b.signature + "\n  " + b.doc }
        }
    }
}
