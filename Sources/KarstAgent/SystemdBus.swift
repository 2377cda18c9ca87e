import CSystemd
import Foundation

/// A value sd-bus appends to a message: the few D-Bus types systemd's manager API needs here.
indirect enum BusValue {
    case string(String)
    case bool(Bool)
    case uint64(UInt64)
    case int32(Int32)
    case strings([String])
    /// `ay`.
    case bytes([UInt8])
    /// A variant of `signature` holding `value`.
    case variant(String, BusValue)
    /// An array of `signature`'s elements.
    case array(String, [BusValue])
    /// A struct of `signature`'s fields.
    case structure(String, [BusValue])
}

/// Why a D-Bus call failed: the D-Bus error's name and message, or sd-bus's errno.
struct BusError: Error, CustomStringConvertible {
    var name: String
    var message: String
    var description: String { "\(message) (\(name))" }

    static func errno(_ rc: Int32, _ doing: String) -> BusError {
        BusError(name: "System.Error", message: "\(doing): \(String(cString: strerror(-rc)))")
    }
}

/// A connection to systemd's manager over D-Bus, with libsystemd's sd-bus: method calls on
/// `org.freedesktop.systemd1` built with the non-variadic appenders (Swift cannot call C
/// variadics), unit properties read, and `PropertiesChanged` signals of units collected.
///
/// Not thread-safe (sd-bus is not): one thread uses it, the agent's loop.
final class SystemdBus {
    private let bus: OpaquePointer
    private var slot: OpaquePointer?
    /// Object paths of units whose properties changed since `takeChanged()`.
    private var changed = Set<String>()
    static let destination = "org.freedesktop.systemd1"
    static let managerPath = "/org/freedesktop/systemd1"
    static let manager = "org.freedesktop.systemd1.Manager"
    /// A call's timeout: systemd answers in milliseconds; a manager busy for this long is stuck.
    static let callMicroseconds: UInt64 = 25_000_000

    /// Connects to the system manager, or the calling user's (`user`).
    init(user: Bool) throws {
        var b: OpaquePointer?
        let rc = user ? sd_bus_open_user(&b) : sd_bus_open_system(&b)
        guard rc >= 0, let b else {
            throw BusError.errno(rc, "cannot connect to the \(user ? "user" : "system") bus")
        }
        bus = b
    }

    deinit {
        if let slot { sd_bus_slot_unref(slot) }
        sd_bus_flush_close_unref(bus)
    }

    /// Subscribes to the manager's signals and collects the object paths of units whose
    /// properties change (`takeChanged`).
    func watchUnits() throws {
        let rule = "type='signal',sender='\(Self.destination)',interface='org.freedesktop.DBus.Properties',"
            + "member='PropertiesChanged',path_namespace='\(Self.managerPath)/unit'"
        let me = Unmanaged.passUnretained(self).toOpaque()
        var s: OpaquePointer?
        let rc = sd_bus_add_match(bus, &s, rule, { message, userdata, _ in
            guard let message, let userdata, let path = sd_bus_message_get_path(message) else { return 0 }
            Unmanaged<SystemdBus>.fromOpaque(userdata).takeUnretainedValue().changed.insert(String(cString: path))
            return 0
        }, me)
        guard rc >= 0 else { throw BusError.errno(rc, "cannot watch units' signals") }
        slot = s
        _ = try callManager("Subscribe", [])
    }

    /// Dispatches every message that arrived, and returns the paths of units that changed since
    /// the last call.
    func takeChanged() -> Set<String> {
        while sd_bus_process(bus, nil) > 0 {}
        defer { changed = [] }
        return changed
    }

    /// A unit's object path.
    static func unitPath(_ name: String) -> String {
        var out: UnsafeMutablePointer<CChar>?
        guard sd_bus_path_encode(managerPath + "/unit", name, &out) >= 0, let out else { return "" }
        defer { free(out) }
        return String(cString: out)
    }

    /// Calls a method of the manager; the reply, to be released with `sd_bus_message_unref`.
    @discardableResult
    func callManager(_ member: String, _ arguments: [BusValue]) throws -> OpaquePointer {
        var m: OpaquePointer?
        var rc = sd_bus_message_new_method_call(bus, &m, Self.destination, Self.managerPath, Self.manager, member)
        guard rc >= 0, let m else { throw BusError.errno(rc, "cannot build a call of \(member)") }
        defer { sd_bus_message_unref(m) }
        for a in arguments { try append(m, a) }
        var error = sd_bus_error()
        defer { sd_bus_error_free(&error) }
        var reply: OpaquePointer?
        rc = sd_bus_call(bus, m, Self.callMicroseconds, &error, &reply)
        guard rc >= 0, let reply else {
            if let name = error.name {
                throw BusError(name: String(cString: name), message: error.message.map { String(cString: $0) } ?? "")
            }
            throw BusError.errno(rc, "calling \(member)")
        }
        return reply
    }

    /// Calls a method of the manager whose reply does not matter.
    func command(_ member: String, _ arguments: [BusValue]) throws {
        sd_bus_message_unref(try callManager(member, arguments))
    }

    /// A string property of an object of the manager.
    func string(_ path: String, _ interface: String, _ property: String) throws -> String {
        var error = sd_bus_error()
        defer { sd_bus_error_free(&error) }
        var out: UnsafeMutablePointer<CChar>?
        let rc = sd_bus_get_property_string(bus, Self.destination, path, interface, property, &error, &out)
        guard rc >= 0, let out else { throw Self.failure(error, rc, property) }
        defer { free(out) }
        return String(cString: out)
    }

    /// An `i` property of an object of the manager.
    func int32(_ path: String, _ interface: String, _ property: String) throws -> Int32 {
        var error = sd_bus_error()
        defer { sd_bus_error_free(&error) }
        var value: Int32 = 0
        let rc = sd_bus_get_property_trivial(bus, Self.destination, path, interface, property, &error, CChar(UInt8(ascii: "i")), &value)
        guard rc >= 0 else { throw Self.failure(error, rc, property) }
        return value
    }

    /// The id of the job queued for a unit (its `Job` property, `(uo)`); 0 when none is.
    func pendingJob(_ path: String) throws -> UInt32 {
        var error = sd_bus_error()
        defer { sd_bus_error_free(&error) }
        var reply: OpaquePointer?
        var rc = sd_bus_get_property(bus, Self.destination, path, "org.freedesktop.systemd1.Unit", "Job", &error, &reply, "(uo)")
        guard rc >= 0, let reply else { throw Self.failure(error, rc, "Job") }
        defer { sd_bus_message_unref(reply) }
        var id: UInt32 = 0
        rc = sd_bus_message_enter_container(reply, Self.code("r"), "uo")
        if rc > 0 { rc = sd_bus_message_read_basic(reply, Self.code("u"), &id) }
        guard rc >= 0 else { throw BusError.errno(rc, "reading Job") }
        return id
    }

    private static func failure(_ error: sd_bus_error, _ rc: Int32, _ what: String) -> BusError {
        if let name = error.name {
            return BusError(name: String(cString: name), message: error.message.map { String(cString: $0) } ?? "")
        }
        return BusError.errno(rc, "reading \(what)")
    }

    private static func code(_ c: Character) -> CChar { CChar(c.asciiValue!) }

    private func check(_ rc: Int32) throws {
        if rc < 0 { throw BusError.errno(rc, "cannot build a D-Bus message") }
    }

    /// Appends one value (containers recursively).
    private func append(_ m: OpaquePointer, _ value: BusValue) throws {
        switch value {
        case .string(let s):
            try check(s.withCString { sd_bus_message_append_basic(m, Self.code("s"), $0) })
        case .bool(let b):
            var v: Int32 = b ? 1 : 0
            try check(sd_bus_message_append_basic(m, Self.code("b"), &v))
        case .uint64(let u):
            var v = u
            try check(sd_bus_message_append_basic(m, Self.code("t"), &v))
        case .int32(let i):
            var v = i
            try check(sd_bus_message_append_basic(m, Self.code("i"), &v))
        case .strings(let list):
            try append(m, .array("s", list.map { .string($0) }))
        case .bytes(let bytes):
            try check(bytes.withUnsafeBytes { sd_bus_message_append_array(m, Self.code("y"), $0.baseAddress, $0.count) })
        case .variant(let signature, let inner):
            try check(sd_bus_message_open_container(m, Self.code("v"), signature))
            try append(m, inner)
            try check(sd_bus_message_close_container(m))
        case .array(let signature, let items):
            try check(sd_bus_message_open_container(m, Self.code("a"), signature))
            for item in items { try append(m, item) }
            try check(sd_bus_message_close_container(m))
        case .structure(let signature, let fields):
            try check(sd_bus_message_open_container(m, Self.code("r"), signature))
            for field in fields { try append(m, field) }
            try check(sd_bus_message_close_container(m))
        }
    }
}
