// The service runs on Linux only (libcurl, Unix file modes, fsync of directories).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
