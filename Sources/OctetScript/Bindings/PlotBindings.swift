import OctetTensor

/// Chart builtins producing `Plot` values (rendered as SVG in notebooks).
enum PlotBindings {
    static let labels = [ParameterSpec("title", .string("")), ParameterSpec("xlabel", .string("")), ParameterSpec("ylabel", .string(""))]

    /// Numbers from a list of numbers or a tensor.
    static func numbers(_ a: Arguments, _ i: Int) throws -> [Double] {
        if case .object(let t as TensorValue) = a[i] { return t.tensor.asFloatArray().map(Double.init) }
        return try a.list(i).map { v in
            guard let x = v.number else { throw a.fail(i, "argument \(i + 1) must hold numbers, found \(v.typeName)") }
            return x
        }
    }

    static func titled(_ kind: Plot.Kind, _ a: Arguments) throws -> Value {
        .object(Plot(kind, title: try a.string("title"), xLabel: try a.string("xlabel"), yLabel: try a.string("ylabel")))
    }

    static let table = BindingTable(domain: "plot", [
        Builtin("bar_chart", ["labels", "values"], named: labels,
                doc: "A bar chart of `values` (list or tensor) labelled by `labels` (list of strings); a NaN or ±∞ value is written where its bar would stand.") { a, _ in
            let values = try numbers(a, 1)
            let names = try a.list(0).map(Format.display)
            guard names.count == values.count else { throw a.fail(0, "\(names.count) labels for \(values.count) values") }
            return try titled(.bar(labels: names, values: values), a)
        },
        Builtin("histogram", ["values"], named: [ParameterSpec("bins", .int(30)), ParameterSpec("markers", .null)] + labels,
                doc: "A histogram of `values` in `bins` equal bins (NaN and ±∞ values are left out); `markers` is a record {label: x} of vertical lines (e.g. clipping thresholds).") { a, _ in
            let bins = try a.int("bins")
            guard (1...1000).contains(bins) else { throw BindingError.named("bins", "bins must be in 1...1000") }
            var markers: [Plot.Marker] = []
            switch a["markers"] {
            case .null: break
            case .record(let r):
                for (k, v) in r.pairs {
                    guard let x = v.number else { throw BindingError.named("markers", "marker '\(k)' must be a number") }
                    markers.append(Plot.Marker(x: x, label: k))
                }
            default: throw BindingError.named("markers", "markers must be a record like {clip: 2.5}")
            }
            return try titled(.histogram(values: try numbers(a, 0), bins: bins, markers: markers), a)
        },
        Builtin("line_chart", ["xs", "ys"], named: [ParameterSpec("names", .null)] + labels,
                doc: "A line chart of ys against xs; ys may be a list of series (then `names` labels them). A NaN or ±∞ point breaks the line.") { a, _ in
            let xs = try numbers(a, 0)
            var series: [Plot.Series] = []
            if case .list(let l) = a[1], let first = l.items.first, first.number == nil {
                let given: [String]
                switch a["names"] {
                case .null: given = []
                case .list(let n): given = n.items.map(Format.display)
                case let v: throw BindingError.named("names", "names must be a list of strings, found \(v.typeName)")
                }
                for (i, item) in l.items.enumerated() {
                    let ys: [Double]
                    switch item {
                    case .object(let t as TensorValue): ys = t.tensor.asFloatArray().map(Double.init)
                    case .list(let s):
                        ys = try s.items.map { v in
                            guard let x = v.number else { throw a.fail(1, "series \(i + 1) must hold numbers, found \(v.typeName)") }
                            return x
                        }
                    default: throw a.fail(1, "series \(i + 1) must be a list of numbers or a tensor, found \(item.typeName)")
                    }
                    series.append(Plot.Series(name: i < given.count ? given[i] : "", xs: xs, ys: ys))
                }
            } else {
                series = [Plot.Series(name: "", xs: xs, ys: try numbers(a, 1))]
            }
            for s in series where s.ys.count != xs.count {
                throw a.fail(1, "series has \(s.ys.count) values for \(xs.count) xs")
            }
            return try titled(.line(series), a)
        },
    ])
}
