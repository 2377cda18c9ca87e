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
        ServiceInterface.InterfaceNotFound(interface: interface).varlinkError
    }
    public static func methodNotFound(_ method: String) -> VarlinkError {
        ServiceInterface.MethodNotFound(method: method).varlinkError
    }
    public static func methodNotImplemented(_ method: String) -> VarlinkError {
        ServiceInterface.MethodNotImplemented(method: method).varlinkError
    }
    public static func invalidParameter(_ parameter: String) -> VarlinkError {
        ServiceInterface.InvalidParameter(parameter: parameter).varlinkError
    }
    public static let permissionDenied = ServiceInterface.PermissionDenied().varlinkError
    public static let expectedMore = ServiceInterface.ExpectedMore().varlinkError

    /// `io.karst.Scheduler.OutOfRange`: a call parameter outside its stated bound; `reason`
    /// states the bound (job spec fields are `InvalidJob` instead).
    public static func outOfRange(_ parameter: String, _ reason: String) -> VarlinkError {
        SchedulerInterface.OutOfRange(parameter: parameter, reason: reason).varlinkError
    }

    // io.karst.Protocol — connection-level errors.
    public static func frameTooLarge(limit: Int) -> VarlinkError { ProtocolInterface.FrameTooLarge(limit: limit).varlinkError }
    public static func invalidMessage(_ reason: String) -> VarlinkError {
        ProtocolInterface.InvalidMessage(reason: reason).varlinkError
    }
    public static func tooManyConnections(limit: Int) -> VarlinkError {
        ProtocolInterface.TooManyConnections(limit: limit).varlinkError
    }
    public static func slowConsumer(behind: Int) -> VarlinkError { ProtocolInterface.SlowConsumer(behind: behind).varlinkError }
}
