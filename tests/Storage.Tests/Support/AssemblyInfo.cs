// The service runs on Linux only (libcurl, Unix file modes, fsync of directories, hard links).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
