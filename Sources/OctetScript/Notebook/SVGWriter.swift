import Foundation

/// Writes `Plot`s as small standalone SVG documents. Output depends only on the plot's
/// data (coordinates printed with 2 decimals), so notebooks are reproducible.
public enum SVGWriter {
    static let width = 640.0, height = 360.0
    static let left = 60.0, right = 20.0, top = 40.0, bottom = 50.0
    static let palette = ["#4878a8", "#e07b39", "#5a9e5a", "#c44e52", "#8172b2", "#937860"]

    public static func render(_ plot: Plot) -> String {
        var body = ""
        switch plot.kind {
        case .bar(let labels, let values): body = bars(labels, values)
        case .histogram(let values, let bins, let markers): body = histogram(values, bins, markers)
        case .line(let series): body = lines(series)
        }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" "
        svg += "viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\" font-size=\"11\">\n"
        svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        svg += text(width / 2, 22, plot.title, anchor: "middle", size: 14)
        svg += text(width / 2, height - 10, plot.xLabel, anchor: "middle")
        if !plot.yLabel.isEmpty {
            svg += "<text x=\"14\" y=\"\(n(height / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 14 \(n(height / 2)))\">\(escape(plot.yLabel))</text>\n"
        }
        return svg + body + "</svg>\n"
    }

    static func n(_ x: Double) -> String { Format.fixed(x, 2) }

    /// XML text: markup characters as entities; control characters, which XML 1.0 forbids (NUL
    /// made the SVG unreadable), as spaces.
    static func escape(_ s: String) -> String {
        Escaping.escaped(s.unicodeScalars) { u in
            switch u {
            case "&": return "&amp;"
            case "<": return "&lt;"
            case ">": return "&gt;"
            case "\"": return "&quot;"
            case _ where u.properties.generalCategory == .control: return " "
            default: return nil
            }
        }
    }

    static func text(_ x: Double, _ y: Double, _ s: String, anchor: String = "start", size: Int = 11) -> String {
        guard !s.isEmpty else { return "" }
        return "<text x=\"\(n(x))\" y=\"\(n(y))\" text-anchor=\"\(anchor)\" font-size=\"\(size)\">\(escape(s))</text>\n"
    }

    /// Maps data ranges to the plot area and draws axes with 5 y ticks.
    struct Frame {
        var x0: Double, x1: Double, y0: Double, y1: Double
        func px(_ x: Double) -> Double { left + Plot.fraction(x, x0, x1) * (width - left - right) }
        func py(_ y: Double) -> Double { height - bottom - Plot.fraction(y, y0, y1) * (height - top - bottom) }

        func axes() -> String {
            var s = "<line x1=\"\(n(left))\" y1=\"\(n(height - bottom))\" x2=\"\(n(width - right))\" y2=\"\(n(height - bottom))\" stroke=\"black\"/>\n"
            s += "<line x1=\"\(n(left))\" y1=\"\(n(top))\" x2=\"\(n(left))\" y2=\"\(n(height - bottom))\" stroke=\"black\"/>\n"
            for i in 0...4 {
                let v = Plot.interpolate(y0, y1, Double(i) / 4)
                s += text(left - 6, py(v) + 4, tick(v), anchor: "end")
            }
            return s
        }
    }

    static func tick(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e6 { return String(Int(v)) }
        return abs(v) >= 0.01 && abs(v) < 1e5 ? Format.fixed(v, 2) : String(format: "%.2e", v)
    }

    static func finite(_ xs: [Double]) -> [Double] { xs.filter(\.isFinite) }

    static func bars(_ labels: [String], _ values: [Double]) -> String {
        let vs = finite(values)
        let f = Frame(x0: 0, x1: Double(max(values.count, 1)), y0: min(0, vs.min() ?? 0), y1: max(vs.max() ?? 1, 0) == 0 ? 1 : max(vs.max() ?? 1, 0))
        var s = f.axes()
        let slot = (width - left - right) / Double(max(values.count, 1))
        for (i, v) in values.enumerated() {
            let x = f.px(Double(i)) + slot * 0.1
            if v.isFinite {
                let (ya, yb) = (f.py(max(v, 0)), f.py(min(v, 0)))
                s += "<rect x=\"\(n(x))\" y=\"\(n(ya))\" width=\"\(n(slot * 0.8))\" height=\"\(n(yb - ya))\" fill=\"\(palette[0])\"/>\n"
            } else {  // no bar to draw: the value is written where it would stand
                s += text(x + slot * 0.4, f.py(0) - 4, Format.real(v), anchor: "middle", size: 10)
            }
            if i < labels.count { s += text(x + slot * 0.4, height - bottom + 14, labels[i], anchor: "middle") }
        }
        return s
    }

    static func histogram(_ values: [Double], _ bins: Int, _ markers: [Plot.Marker]) -> String {
        let vs = finite(values), markers = markers.filter(\.x.isFinite)
        let lo = min(vs.min() ?? 0, markers.map(\.x).min() ?? .infinity)
        let hi = max(vs.max() ?? 1, markers.map(\.x).max() ?? -.infinity)
        let counts = Plot.binCounts(vs, bins: bins, lo: lo, hi: hi)
        // All values equal: an axis one unit wide (relative beyond 2^53, where lo + 1 == lo).
        let f = Frame(x0: lo, x1: hi == lo ? lo + max(1, abs(lo) * 1e-6) : hi, y0: 0, y1: Double(max(counts.max() ?? 1, 1)))
        var s = f.axes()
        for (b, c) in counts.enumerated() where c > 0 {
            let xa = f.px(Plot.interpolate(f.x0, f.x1, Double(b) / Double(bins)))
            let xb = f.px(Plot.interpolate(f.x0, f.x1, Double(b + 1) / Double(bins)))
            s += "<rect x=\"\(n(xa))\" y=\"\(n(f.py(Double(c))))\" width=\"\(n(max(xb - xa - 1, 0.5)))\" height=\"\(n(f.py(0) - f.py(Double(c))))\" fill=\"\(palette[0])\"/>\n"
        }
        s += text(left, height - bottom + 14, tick(f.x0), anchor: "middle") + text(width - right, height - bottom + 14, tick(f.x1), anchor: "middle")
        for (i, m) in markers.enumerated() {
            let x = f.px(m.x), color = palette[(i + 1) % palette.count]
            s += "<line x1=\"\(n(x))\" y1=\"\(n(top))\" x2=\"\(n(x))\" y2=\"\(n(height - bottom))\" stroke=\"\(color)\" stroke-dasharray=\"4 3\"/>\n"
            s += text(x + 3, top + 12 + Double(i) * 12, m.label, size: 10).replacingOccurrences(of: "<text ", with: "<text fill=\"\(color)\" ")
        }
        return s
    }

    static func lines(_ series: [Plot.Series]) -> String {
        let xs = finite(series.flatMap(\.xs)), ys = finite(series.flatMap(\.ys))
        let f = Frame(x0: xs.min() ?? 0, x1: xs.max() ?? 1, y0: min(ys.min() ?? 0, 0), y1: ys.max() ?? 1)
        var s = f.axes()
        s += text(left, height - bottom + 14, tick(f.x0), anchor: "middle") + text(width - right, height - bottom + 14, tick(f.x1), anchor: "middle")
        for (i, line) in series.enumerated() {
            let color = palette[i % palette.count]
            // A NaN or ±∞ point breaks the line, as in matplotlib: one polyline per finite run.
            var runs: [[String]] = [[]]
            for (x, y) in zip(line.xs, line.ys) {
                if x.isFinite && y.isFinite { runs[runs.count - 1].append("\(n(f.px(x))),\(n(f.py(y)))") } else if !runs[runs.count - 1].isEmpty { runs.append([]) }
            }
            for pts in runs where !pts.isEmpty {
                if pts.count == 1 {  // a point alone between breaks: a dot, as a one-point line draws nothing
                    let xy = pts[0].split(separator: ",")
                    s += "<circle cx=\"\(xy[0])\" cy=\"\(xy[1])\" r=\"2.5\" fill=\"\(color)\"/>\n"
                } else {
                    s += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(pts.joined(separator: " "))\"/>\n"
                }
            }
            if !line.name.isEmpty {
                s += text(width - right - 4, top + 12 + Double(i) * 13, line.name, anchor: "end").replacingOccurrences(of: "<text ", with: "<text fill=\"\(color)\" ")
            }
        }
        return s
    }
}
