// The service runs on Linux only (Unix file modes, fsync, rename semantics).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
