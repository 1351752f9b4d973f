using System.Text.RegularExpressions;

namespace TherapyCatalog.Tests.Infrastructure;

/// <summary>
/// The source layout keeps the architecture the house style describes: Infrastructure/ is plumbing
/// that knows no feature, and no two features depend on each other both ways.
/// </summary>
public partial class LayoutTests
{
    private static readonly string Source = Path.Combine(PostgresServer.RepositoryRoot, "src", "TherapyCatalog.Api");

    /// <summary>Each top folder of the service and the folders its C# files name (by using or by qualified name).</summary>
    private static Dictionary<string, HashSet<string>> Dependencies() =>
        Directory.GetDirectories(Source)
            .Select(Path.GetFileName)
            .Where(folder => folder is not ("bin" or "obj" or "Properties"))
            .ToDictionary(
                folder => folder!,
                folder => Directory.GetFiles(Path.Combine(Source, folder!), "*.cs", SearchOption.AllDirectories)
                    .SelectMany(file => Reference().Matches(File.ReadAllText(file)).Select(m => m.Groups[1].Value))
                    .Where(named => named != folder)
                    .ToHashSet());

    [Fact]
    public void Infrastructure_names_no_feature()
    {
        var infrastructure = Dependencies()["Infrastructure"];

        Assert.Empty(infrastructure);
    }

    [Fact]
    public void No_two_features_depend_on_each_other()
    {
        var dependencies = Dependencies();

        var bothWays = dependencies
            .SelectMany(d => d.Value.Where(other => dependencies.TryGetValue(other, out var back) && back.Contains(d.Key))
                .Select(other => $"{d.Key} <-> {other}"))
            .ToList();

        Assert.True(dependencies.Count >= 5, "the service's feature folders were not found");
        Assert.Empty(bothWays);
    }

    [GeneratedRegex(@"\bTherapyCatalog\.Api\.([A-Z][A-Za-z]+)\b")]
    private static partial Regex Reference();
}
