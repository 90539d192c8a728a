// What the doors need from the storage module (DESIGN.md: Kernel <- Storage <- Requests, Jobs): put a
// response body, or an already durable file, under downloads/ with its three index paths
// (docs/api.md D14, docs/api.md (Storage)). Either the whole file appears under all three paths, or nothing
// appears under any real name.
using System.IO.Pipelines;
using HoodyCurl.Kernel.Errors;

namespace HoodyCurl.Storage;

public interface IFileStore
{
    /// <summary>
    /// Streams <paramref name="body"/> to a temp file under downloads/.partial, fsyncs it and renames it
    /// to by-job/{id}/{savePath or the name derived from <paramref name="sourceUrl"/>}, then hard-links
    /// by-domain/{host}/{id} and by-date/{YYYY-MM-DD}/{id}. Never holds the body in memory.
    /// Throws <see cref="ApiErrorException"/>: 400 for a bad save path, 502 RESPONSE_TOO_LARGE past
    /// <paramref name="maxBytes"/> or --max-saved-file-bytes, 500 STORAGE_ERROR for a disk error; the
    /// pipe's own exception when the transfer failed mid-body; <see cref="OperationCanceledException"/>
    /// when cancelled. In every failure case nothing is left under a real name. The caller keeps
    /// ownership of <paramref name="body"/> (it is not completed here).
    /// </summary>
    /// <param name="id">A lowercase UUID: the job id, or the sync request id (storage-only UUID).</param>
    Task<StoredFile> SaveAsync(string id, string? savePath, string sourceUrl, PipeReader body, long? maxBytes, CancellationToken ct);

    /// <summary>
    /// Files an already durable file (e.g. a finished job's body) under the same three paths: hard links
    /// when it lives on the same file system, else a durable copy. The source file is left in place.
    /// Same errors as <see cref="SaveAsync"/>.
    /// </summary>
    Task<StoredFile> ImportAsync(string id, string? savePath, string sourceUrl, string existingFile, CancellationToken ct);
}

/// <summary>
/// A saved file. <see cref="Paths"/> are relative to the downloads root, forward slashes, in the order
/// by-job, by-domain, by-date.
/// </summary>
public sealed record StoredFile(string Id, IReadOnlyList<string> Paths, long Size, DateTimeOffset CreatedAt);

/// <summary>The storage module's path rules as other modules may apply them (request validation checks save_path up front).</summary>
public static class StorageRules
{
    /// <summary>
    /// Why <paramref name="savePath"/> is not an acceptable save_path (docs/api.md (Storage): not empty, relative, no
    /// `.`/`..` or empty components, no backslash or control characters, components of at most 255 bytes),
    /// or null when it is. The one copy of the rule: saving applies it again.
    /// </summary>
    public static string? SavePathProblem(string savePath) => StoragePaths.SavePathProblem(savePath);
}
