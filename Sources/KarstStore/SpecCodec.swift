import KarstCore
import KarstJSON
import KarstProtocol
import KarstWire

/// A job spec as the `jobs.spec` column holds it: the control protocol's `JobSpec` JSON, written
/// and read by the wire type generated from the IDL through `WireMapping` (no field list of its
/// own). Written once at submission; read back at recovery.
package enum SpecCodec {
    package static func encode(_ s: JobSpec) -> String {
        var w = JSONWriter(capacity: 256)
        WireMapping.spec(s).write(to: &w)
        return String(decoding: w.bytes, as: UTF8.self)
    }

    struct Corrupt: Error, CustomStringConvertible {
        var description: String
    }

    /// The JSON object a `spec` column holds.
    static func object(_ text: String) throws -> JSONObject {
        var utf8 = text
        let value = try utf8.withUTF8 { try JSONParser.parse($0) }
        guard case .object(let o) = value else { throw Corrupt(description: "spec is not an object") }
        return o
    }

    /// Reads a stored spec (recovery decodes a million of these).
    package static func decode(_ text: String) throws -> JobSpec {
        let o = try object(text)
        do {
            return try WireMapping.spec(try WireJobSpec(object: o, path: WirePath("spec"), strict: false), path: "spec")
        } catch {
            throw Corrupt(description: "\(error)")
        }
    }
}
