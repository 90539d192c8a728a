// The reference in docs/ cannot drift from the binary: every flag and default of `--help` is in
// docs/flags.md, every metric family of a real /metrics scrape is in docs/metrics.md with its type (and every
// documented family is scraped), and every operation of the OpenAPI document is in docs/api.md.
using System.Text.Json;
using System.Text.RegularExpressions;
using HoodyCurl.E2E.Tests.Harness;

namespace HoodyCurl.E2E.Tests.Host;

public partial class DocsTests
{
    private static string Doc(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "hoody-curl.sln")))
                return File.ReadAllText(Path.Combine(dir.FullName, "docs", name));
        throw new FileNotFoundException($"docs/{name}: no hoody-curl.sln above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex(@"^\s+(--[a-z0-9-]+)[^\n]*?(?:\[default: ([^\]]*)\])?\s*$", RegexOptions.Multiline)]
    private static partial Regex HelpLine();

    [Test]
    public async Task Every_flag_of_help_is_in_docs_flags_with_its_default()
    {
        var (code, stdout, _) = await BinaryRun.RunAsync("--help");
        await Assert.That(code).IsEqualTo(0);
        var rows = Doc("flags.md").Split('\n').Where(l => l.StartsWith("| `--", StringComparison.Ordinal)).ToList();
        var flags = HelpLine().Matches(stdout).Select(m => (Flag: m.Groups[1].Value, Default: m.Groups[2].Success ? m.Groups[2].Value : null))
            .Where(f => f.Flag is not "--help" and not "--version").ToList();
        await Assert.That(flags.Count).IsGreaterThan(40); // the help was parsed, not skipped
        foreach (var (flag, value) in flags)
        {
            var row = rows.FirstOrDefault(r => r.StartsWith($"| `{flag} ", StringComparison.Ordinal) || r.StartsWith($"| `{flag}`", StringComparison.Ordinal));
            await Assert.That(row).IsNotNull().Because($"{flag} is in --help but not in docs/flags.md");
            if (value is not null)
                await Assert.That(row!.Split('|')[2]).Contains($"`{value}`").Because($"{flag} defaults to {value}");
        }
        // And nothing documented is gone from the binary.
        foreach (var row in rows)
        {
            var flag = Regex.Match(row, @"^\| `(--[a-z0-9-]+)").Groups[1].Value;
            await Assert.That(flags.Any(f => f.Flag == flag)).IsTrue().Because($"{flag} is documented but not in --help");
        }
    }

    [Test]
    public async Task Docs_metrics_and_a_real_scrape_list_the_same_families_and_types()
    {
        await using var sidecar = await Sidecar.StartAsync();
        var exposition = await sidecar.Client.GetStringAsync("/metrics");
        var scraped = Regex.Matches(exposition, @"^# TYPE (\S+) (\S+)$", RegexOptions.Multiline)
            .ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
        var documented = Regex.Matches(Doc("metrics.md"), @"^\| `([a-z_:][a-z0-9_:]*)` \| (counter|gauge|histogram) \|", RegexOptions.Multiline)
            .ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
        await Assert.That(scraped.Count).IsGreaterThan(50);
        foreach (var (name, type) in scraped)
        {
            await Assert.That(documented.ContainsKey(name)).IsTrue().Because($"{name} is scraped but not in docs/metrics.md");
            await Assert.That(documented[name]).IsEqualTo(type).Because(name);
        }
        foreach (var name in documented.Keys)
            await Assert.That(scraped.ContainsKey(name)).IsTrue().Because($"{name} is documented but not exposed");
    }

    [Test]
    public async Task Every_openapi_operation_is_in_docs_api()
    {
        await using var sidecar = await Sidecar.StartAsync();
        using var document = JsonDocument.Parse(await sidecar.Client.GetStringAsync("/api/v1/curl/openapi.json"));
        var api = Doc("api.md");
        var operations = 0;
        foreach (var path in document.RootElement.GetProperty("paths").EnumerateObject())
        {
            foreach (var method in path.Value.EnumerateObject())
            {
                operations++;
                var verb = method.Name.ToUpperInvariant();
                // A table row or heading names the route as `VERB /path` (aliases in the same cell count).
                var named = api.Contains($"`{verb} {path.Name}`", StringComparison.Ordinal)
                    || api.Contains($"`{verb} {path.Name}` (alias", StringComparison.Ordinal)
                    || Regex.IsMatch(api, $@"`{verb} [^`]*` \(alias `{Regex.Escape(path.Name)}`\)")
                    || Regex.IsMatch(api, $@"`{verb} [^`]*`, `{verb} {Regex.Escape(path.Name)}`")
                    || Regex.IsMatch(api, $@"\(alias `{verb} {Regex.Escape(path.Name)}`\)");
                await Assert.That(named).IsTrue().Because($"{verb} {path.Name} is served but not in docs/api.md");
            }
        }
        await Assert.That(operations).IsGreaterThan(30);
    }
}
