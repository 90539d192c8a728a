// The service runs on Linux only (libcurl, Unix file modes).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
