// The service runs on Linux only (libcurl, Unix file modes, tzdata under /usr/share/zoneinfo).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
