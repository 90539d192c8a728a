// The wire shapes of the storage API (docs/api.md (Storage)), source-generated (no reflection in the AOT binary).
using System.Text.Json.Serialization;

namespace HoodyCurl.Storage.Endpoints;

/// <summary>One item of GET /storage: a stored path, its size and origin.</summary>
internal sealed record StoredFileView(string Path, long Size, string CreatedAt, string JobId, string Url);

/// <summary>The DELETE answer: the path asked for and every path of the file that went with it.</summary>
internal sealed record FileDeletedView(string Message, string Path, string JobId, IReadOnlyList<string> Paths);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(StoredFileView))]
[JsonSerializable(typeof(FileDeletedView))]
internal sealed partial class StorageJsonContext : JsonSerializerContext;
