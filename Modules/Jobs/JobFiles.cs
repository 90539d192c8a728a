// Where job bodies live: <storage-dir>/jobs/{id}/body (mode 0600), written as body.tmp, fsynced and
// renamed (Kernel DurableFile), so a crash never leaves half a body under the real name.
using HoodyCurl.Kernel;
using HoodyCurl.Kernel.Db;

namespace HoodyCurl.Jobs;

internal sealed class JobFiles(string storageDir)
{
    public string Root { get; } = Path.Combine(storageDir, "jobs");

    public string Directory(string jobId) => Path.Combine(Root, jobId);

    public string Body(string jobId) => Path.Combine(Root, jobId, "body");

    public FileStream CreateBodyTemp(string jobId)
    {
        if (!System.IO.Directory.Exists(Root)) DurableFile.CreateDirectory(Root);
        DurableFile.CreateDirectory(Directory(jobId));
        CheckContained(jobId);
        return DurableFile.CreateTemp(Body(jobId));
    }

    /// <summary>
    /// Opens a job's body for reading. Containment like Storage's: neither jobs/ nor jobs/{id} may be a
    /// symlink, and the body itself is opened with O_NOFOLLOW, so a link planted there is refused
    /// (IOException) instead of serving whatever it points to.
    /// </summary>
    public FileStream OpenBody(string jobId)
    {
        CheckContained(jobId);
        return DurableFile.OpenReadNoFollow(Body(jobId));
    }

    private void CheckContained(string jobId)
    {
        if (!Ids.IsUuid(jobId)) throw new IOException($"'{jobId}' is not a job id");
        if (DurableFile.IsLink(Root) || DurableFile.IsLink(Directory(jobId)))
            throw new IOException($"{Directory(jobId)} leaves the jobs folder through a symlink: refused");
    }

    public void Delete(string jobId)
    {
        try
        {
            var dir = Directory(jobId);
            if (System.IO.Directory.Exists(dir)) System.IO.Directory.Delete(dir, recursive: true);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    public static void DeleteQuietly(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>
    /// Start-up clean-up: removes leftover temp files, and folders of jobs the store does not know (a
    /// crash between a retention delete and the folder removal).
    /// </summary>
    public int Sweep(Func<string, bool> jobExists)
    {
        if (!System.IO.Directory.Exists(Root)) return 0;
        var removed = 0;
        foreach (var dir in System.IO.Directory.EnumerateDirectories(Root))
        {
            var id = Path.GetFileName(dir);
            if (!Ids.IsUuid(id)) continue;
            if (!jobExists(id)) { Delete(id); removed++; continue; }
            foreach (var temp in System.IO.Directory.EnumerateFiles(dir, "*.tmp")) { DeleteQuietly(temp); removed++; }
        }
        return removed;
    }
}
