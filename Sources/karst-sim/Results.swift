import KarstSim

/// Sends summaries where the options say: tables or JSON on standard output, HTML to a file.
enum Results {
    static func emit(_ summaries: [ReplaySummary], trace: String, output: OutputOptions) throws {
        if output.json {
            try Streams.write(JSONReport(summaries, trace: trace).text, to: nil)
        } else {
            try Streams.write("Trace: \(trace)\n" + TextReport(summaries).text, to: nil)
        }
        if let path = output.report {
            try Streams.write(HTMLReport(summaries, trace: trace).html, to: path)
            Streams.error("karst-sim: report written to \(path)")
        }
    }
}
