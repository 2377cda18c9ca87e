/// A Varlink error reply: a fully qualified name and its parameters.
public struct VarlinkError: Error, Hashable, Sendable, CustomStringConvertible {
    public var name: String
    public var parameters: JSONObject

    public init(_ name: String, _ parameters: JSONObject = [:]) {
        self.name = name
        self.parameters = parameters
    }

    public var description: String {
        parameters.isEmpty ? name : "\(name) \(String(decoding: JSONValue.object(parameters).encoded, as: UTF8.self))"
    }

    // org.varlink.service — the standard errors.
    public static func interfaceNotFound(_ interface: String) -> VarlinkError {
        VarlinkError("org.varlink.service.InterfaceNotFound", ["interface": .string(interface)])
    }
    public static func methodNotFound(_ method: String) -> VarlinkError {
        VarlinkError("org.varlink.service.MethodNotFound", ["method": .string(method)])
    }
    public static func methodNotImplemented(_ method: String) -> VarlinkError {
        VarlinkError("org.varlink.service.MethodNotImplemented", ["method": .string(method)])
    }
    public static func invalidParameter(_ parameter: String) -> VarlinkError {
        VarlinkError("org.varlink.service.InvalidParameter", ["parameter": .string(parameter)])
    }
    public static let permissionDenied = VarlinkError("org.varlink.service.PermissionDenied")
    public static let expectedMore = VarlinkError("org.varlink.service.ExpectedMore")

    /// `io.karst.Scheduler.OutOfRange`: a call parameter outside its stated bound; `reason`
    /// states the bound (job spec fields are `InvalidJob` instead).
    public static func outOfRange(_ parameter: String, _ reason: String) -> VarlinkError {
        VarlinkError("io.karst.Scheduler.OutOfRange", ["parameter": .string(parameter), "reason": .string(reason)])
    }

    // io.karst.Protocol — connection-level errors.
    public static func frameTooLarge(limit: Int) -> VarlinkError {
        VarlinkError("io.karst.Protocol.FrameTooLarge", ["limit": .number(Double(limit))])
    }
    public static func invalidMessage(_ reason: String) -> VarlinkError {
        VarlinkError("io.karst.Protocol.InvalidMessage", ["reason": .string(reason)])
    }
    public static func tooManyConnections(limit: Int) -> VarlinkError {
        VarlinkError("io.karst.Protocol.TooManyConnections", ["limit": .number(Double(limit))])
    }
    public static func slowConsumer(behind: Int) -> VarlinkError {
        VarlinkError("io.karst.Protocol.SlowConsumer", ["behind": .number(Double(behind))])
    }
}
