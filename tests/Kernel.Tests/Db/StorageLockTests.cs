// StorageLock on real files: the folder is created (0700) when only its last segment is missing, a
// missing parent and a file in its place are refused, and a second holder is refused while the first
// holds it (flock is per open file description, so two opens in one process conflict like two processes).
using HoodyCurl.Kernel;
using HoodyCurl.Kernel.Db;

namespace HoodyCurl.Kernel.Tests.Db;

public class StorageLockTests
{
    [Test]
    public async Task Second_holder_is_refused_until_the_first_lets_go()
    {
        var dir = Path.Combine(Directory.CreateTempSubdirectory("hoody-lock-").FullName, "data");
        try
        {
            string path;
            using (var first = StorageLock.Acquire(dir))
            {
                path = first.FilePath;
                // (No File.ReadAllText here: .NET's own FileStream takes a shared flock and would be refused.)
                var e = Assert.Throws<StartupException>(() => StorageLock.Acquire(dir).Dispose());
                await Assert.That(e!.Message).Contains($"pid {Environment.ProcessId}");
                await Assert.That(e.Where).IsEqualTo(dir);
            }
            await Assert.That(File.ReadAllText(path).Trim()).IsEqualTo(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            using var second = StorageLock.Acquire(dir);
            await Assert.That(File.Exists(second.FilePath)).IsTrue();
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(dir)!, recursive: true);
        }
    }

    [Test]
    public async Task Missing_parent_and_file_in_place_are_refused()
    {
        var parent = Path.Combine(Path.GetTempPath(), "hoody-lock-missing-" + Guid.NewGuid().ToString("N"));
        var missing = Assert.Throws<StartupException>(() => StorageLock.Acquire(Path.Combine(parent, "data")).Dispose());
        await Assert.That(missing!.What).Contains("parent folder does not exist");
        await Assert.That(Directory.Exists(parent)).IsFalse();

        var file = Path.GetTempFileName();
        try
        {
            var notFolder = Assert.Throws<StartupException>(() => StorageLock.Acquire(file).Dispose());
            await Assert.That(notFolder!.What).Contains("is a file");
        }
        finally
        {
            File.Delete(file);
        }
    }
}
