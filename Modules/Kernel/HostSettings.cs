// The flags every module may need: where the sidecar listens and where it keeps its data. The host
// adds them to the command line; modules read the validated record.
using System.CommandLine;
using System.Net;
using HoodyCurl.Kernel.Flags;

namespace HoodyCurl.Kernel;

public sealed record HostSettings
{
    /// <summary>--listen: address:port to serve on; port 0 picks a free one. Default 127.0.0.1:8080.</summary>
    public required IPEndPoint Listen { get; init; }
    /// <summary>--storage-dir: root of the database, downloads, job bodies and cache. Default ./hoody-data.</summary>
    public required string StorageDir { get; init; }
    /// <summary>--shutdown-timeout-secs: how long in-flight work may drain on shutdown. Default 30.</summary>
    public int ShutdownTimeoutSecs { get; init; } = 30;
    /// <summary>--log-level: trace, debug, information, warning, error, none. Default information.</summary>
    public string LogLevel { get; init; } = "information";
    /// <summary>--log-format: text (one line per entry) or json (one JSON object per line). Default text.</summary>
    public string LogFormat { get; init; } = "text";

    public static readonly Option<string> ListenFlag = new("--listen")
    {
        Description = "Address and port to serve on, e.g. 127.0.0.1:8080, 0.0.0.0:8080 or [::1]:8080; port 0 picks a free port (logged at start-up)",
        DefaultValueFactory = _ => "127.0.0.1:8080",
    };
    public static readonly Option<string> StorageDirFlag = new("--storage-dir")
    {
        Description = "Folder for the SQLite database, downloads, job bodies and cache",
        DefaultValueFactory = _ => "./hoody-data",
    };
    public static readonly Option<int> ShutdownTimeoutFlag = new("--shutdown-timeout-secs")
    {
        Description = "Seconds in-flight requests and jobs may take to drain on shutdown",
        DefaultValueFactory = _ => 30,
    };
    public static readonly Option<string> LogLevelFlag = new("--log-level")
    {
        Description = "Log level for every category (the sidecar's own and the web server's): trace, debug, information, warning, error, none",
        DefaultValueFactory = _ => "information",
    };
    public static readonly Option<string> LogFormatFlag = new("--log-format")
    {
        Description = "Log format: text (one line per entry) or json (one JSON object per line, for log shippers)",
        DefaultValueFactory = _ => "text",
    };

    /// <summary>
    /// The endpoint the host really listens on when --listen asked for port 0 (the kernel's choice). Set
    /// once by the host right after binding, before the modules read their flags.
    /// </summary>
    public static IPEndPoint? BoundListen { get; set; }

    public static void AddFlags(Command command)
    {
        command.Options.Add(ListenFlag);
        command.Options.Add(StorageDirFlag);
        command.Options.Add(ShutdownTimeoutFlag);
        command.Options.Add(LogLevelFlag);
        command.Options.Add(LogFormatFlag);
    }

    public static HostSettings FromFlags(ParseResult flags)
    {
        var listenText = flags.GetValue(ListenFlag)!;
        if (!TryParseEndpoint(listenText, out var listen))
            throw new FlagException("--listen", $"'{listenText}' is not an address:port (e.g. 127.0.0.1:8080 or [::1]:8080)");
        var storage = flags.GetValue(StorageDirFlag)!;
        if (string.IsNullOrWhiteSpace(storage)) throw new FlagException("--storage-dir", "must not be empty");
        var shutdown = flags.GetValue(ShutdownTimeoutFlag);
        if (shutdown < 0) throw new FlagException("--shutdown-timeout-secs", "must be zero or more");
        var level = flags.GetValue(LogLevelFlag)!.ToLowerInvariant();
        if (level is not ("trace" or "debug" or "information" or "warning" or "error" or "none"))
            throw new FlagException("--log-level", $"'{level}' is not one of trace, debug, information, warning, error, none");
        if (listen!.Port == 0 && BoundListen is { } bound && bound.Address.Equals(listen.Address)) listen = bound;
        var format = flags.GetValue(LogFormatFlag)!.ToLowerInvariant();
        if (format is not ("text" or "json")) throw new FlagException("--log-format", $"'{format}' is not one of text, json");
        return new HostSettings { LogFormat = format, Listen = listen, StorageDir = Path.GetFullPath(storage), ShutdownTimeoutSecs = shutdown, LogLevel = level };
    }

    public static bool TryParseEndpoint(string text, out IPEndPoint? endpoint)
    {
        endpoint = null;
        if (text.StartsWith("localhost:", StringComparison.OrdinalIgnoreCase)) text = "127.0.0.1" + text[9..];
        return IPEndPoint.TryParse(text, out endpoint) && endpoint.Port is >= 0 and <= 65535 && text.Contains(':', StringComparison.Ordinal)
            && (endpoint.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? text.LastIndexOf(':') > 0 : text.Contains(']', StringComparison.Ordinal));
    }
}
