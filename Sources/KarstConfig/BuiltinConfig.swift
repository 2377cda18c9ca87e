/// The built-in configuration: the text of `Config/karstd.toml`, byte for byte.
///
/// SwiftPM compiles the file in at build time (`.embedInCode` in Package.swift, through the
/// symlink `Resources/karstd.toml` beside this file), so the daemon carries its default topology
/// without reading a file, and editing `Config/karstd.toml` takes effect on the next build.
public enum BuiltinConfig {
    /// The TOML text.
    public static let text = String(decoding: PackageResources.karstd_toml, as: UTF8.self)
}
