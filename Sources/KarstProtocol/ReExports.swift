/// The JSON types are part of the protocol's API: clients of KarstProtocol get them too.
@_exported import KarstJSON
