// The storage module's settings, read once from flags by StorageModule. To add a setting: a property
// here with its default in the XML doc, a flag in StorageModule.AddFlags, its validation there.
namespace HoodyCurl.Storage;

public sealed record StorageOptions
{
    /// <summary>
    /// The downloads root: always `&lt;--storage-dir&gt;/downloads` (docs/api.md D14). Nothing outside it is
    /// ever served or deleted by the storage routes.
    /// </summary>
    public required string DownloadsDir { get; init; }

    /// <summary>
    /// Largest file one save may write, in bytes (`--max-saved-file-bytes`); a larger body fails the
    /// request with 502 RESPONSE_TOO_LARGE and leaves nothing behind. A request's own `max_filesize`
    /// applies as well. 0 means no limit besides the disk. Default 0.
    /// </summary>
    public long MaxFileBytes { get; init; }
}
