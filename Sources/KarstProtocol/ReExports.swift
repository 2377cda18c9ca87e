/// The JSON types are part of the protocol's API: clients of KarstProtocol get them too.
@_exported import KarstJSON
/// So is the IDL's parsed form (interface descriptions are served and checked against it).
@_exported import KarstIDL
