/// A chart value: bar chart, histogram (with vertical markers) or line chart.
/// Notebooks write it as an SVG file beside the Markdown; the REPL prints a summary.
public final class Plot: DomainObject {
    public struct Marker: Equatable {
        public var x: Double
        public var label: String
    }

    public struct Series: Equatable {
        public var name: String
        public var xs: [Double]
        public var ys: [Double]
    }

    public enum Kind: Equatable {
        case bar(labels: [String], values: [Double])
        case histogram(values: [Double], bins: Int, markers: [Marker])
        case line([Series])
    }

    public let kind: Kind
    public let title: String
    public let xLabel: String
    public let yLabel: String

    public init(_ kind: Kind, title: String, xLabel: String = "", yLabel: String = "") {
        self.kind = kind
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
    }

    public var typeName: String { "Plot" }

    public var summary: String {
        let name = title.isEmpty ? "" : " '\(title)'"
        switch kind {
        case .bar(let labels, _): return "Plot: bar chart\(name), \(labels.count) bars"
        case .histogram(let v, let bins, let markers):
            return "Plot: histogram\(name), \(v.count) values in \(bins) bins" + (markers.isEmpty ? "" : ", \(markers.count) markers")
        case .line(let series): return "Plot: line chart\(name), \(series.count) series"
        }
    }

    public var propertyNames: [String] { ["title"] }

    public func property(_ name: String) throws -> Value? {
        name == "title" ? .string(title) : nil
    }

    public func render(in notebook: RenderContext) throws -> RichRendering? {
        .svg(SVGWriter.render(self), title: title.isEmpty ? "plot" : title)
    }

    /// Histogram counts of `values` in `bins` equal-width bins over [lo, hi].
    public static func binCounts(_ values: [Double], bins: Int, lo: Double, hi: Double) -> [Int] {
        var counts = [Int](repeating: 0, count: bins)
        for v in values where v.isFinite {
            let t = Swift.min(Swift.max(fraction(v, lo, hi), 0), 1)
            counts[Swift.min(Int(t * Double(bins)), bins - 1)] += 1
        }
        return counts
    }

    /// (v − a) / (b − a), computed on halves so that no difference of finite values overflows
    /// (a = −1e308, b = 1e308); 0 when a == b or any operand is not finite.
    static func fraction(_ v: Double, _ a: Double, _ b: Double) -> Double {
        let span = b / 2 - a / 2, t = (v / 2 - a / 2) / span
        return span == 0 || !t.isFinite ? 0 : t
    }

    /// a + (b − a)·t without overflow for finite a, b and t in [0, 1].
    static func interpolate(_ a: Double, _ b: Double, _ t: Double) -> Double { a * (1 - t) + b * t }
}
