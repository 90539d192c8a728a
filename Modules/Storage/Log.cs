// Source-generated log messages of the storage module (ids, relative paths and sizes; never a URL's query).
using Microsoft.Extensions.Logging;

namespace HoodyCurl.Storage;

internal static partial class Log
{
    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "stored {Id}: {Path} ({Size} bytes)")]
    public static partial void Stored(ILogger logger, string id, string path, long size);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "storing {Id} failed: {Reason}")]
    public static partial void StoreFailed(ILogger logger, string id, string reason, Exception? exception);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Information, Message = "deleted {Id} ({Path} and its mirrors)")]
    public static partial void Deleted(ILogger logger, string id, string path);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "refused {Path}: it resolves outside its place in the downloads root (symlink?)")]
    public static partial void Escaped(ILogger logger, string path);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Warning, Message = "could not remove {Path}: {Reason}")]
    public static partial void RemoveFailed(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Information, Message = "storage recovery: rolled back {Files} unfinished saves/deletes, removed {Partials} partial files")]
    public static partial void Recovered(ILogger logger, int files, int partials);
}
