using System.Text.Json;
using TherapyCatalog.Tests.Infrastructure;

namespace TherapyCatalog.Tests.Therapies;

/// <summary>
/// The seeded therapies as db/data/therapies/*.json states them: an oracle for filter tests,
/// independent of the SQL under test.
/// </summary>
public static class CatalogFiles
{
    public sealed record Product(
        string Slug, string Status, string Modality, string? Target, string Manufacturer, string Route,
        string[] Regulators, DateOnly[] ApprovalDates, string? Vector, string? Mechanism, string? VectorDetail, string[] ConditionIds);

    public static IReadOnlyList<Product> Products { get; } = Load();

    /// <summary>Each condition's parents, as db/data/conditions/*.json states them.</summary>
    public static IReadOnlyDictionary<string, string[]> ConditionParents { get; } = LoadConditionParents();

    /// <summary>The conditions and every condition below them in the hierarchy (a DAG: a condition may have several parents).</summary>
    public static HashSet<string> WithDescendants(IEnumerable<string> conditions)
    {
        var reached = new HashSet<string>(conditions);
        for (var grew = true; grew;)
        {
            grew = false;
            foreach (var (id, parents) in ConditionParents)
            {
                if (!reached.Contains(id) && parents.Any(reached.Contains))
                {
                    grew = reached.Add(id);
                }
            }
        }

        return reached;
    }

    /// <summary>The active products indicated for these conditions or one of their subtypes: what a condition query may return.</summary>
    public static string[] IndicatedFor(IEnumerable<string> conditions)
    {
        var reached = WithDescendants(conditions);
        return Slugs(p => p.ConditionIds.Any(reached.Contains));
    }

    private static Dictionary<string, string[]> LoadConditionParents() =>
        Directory.GetFiles(Path.Combine(PostgresServer.RepositoryRoot, "db", "data", "conditions"), "*.json")
            .SelectMany(f => JsonDocument.Parse(File.ReadAllText(f)).RootElement.EnumerateArray().Select(c => c.Clone()))
            .ToDictionary(
                c => c.GetProperty("id").GetString()!,
                c => c.GetProperty("parents").EnumerateArray().Select(p => p.GetString()!).ToArray());

    public static string[] Slugs(Func<Product, bool> where) =>
        [.. Products.Where(p => p.Status == "active" && where(p)).Select(p => p.Slug).Order(StringComparer.Ordinal)];

    private static List<Product> Load() =>
    [
        .. Directory.GetFiles(Path.Combine(PostgresServer.RepositoryRoot, "db", "data", "therapies"), "*.json").Select(file =>
        {
            var t = JsonDocument.Parse(File.ReadAllText(file)).RootElement;
            // Data files leave out what is null.
            string? S(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v.GetString() : null;
            var approvals = t.GetProperty("approvals").EnumerateArray().ToList();
            var indications = t.GetProperty("indications").EnumerateArray().ToList();
            return new Product(
                S(t, "slug")!, S(t, "status")!, S(t, "modality")!, S(t, "target"), S(t, "manufacturer")!, S(t, "route")!,
                [.. approvals.Concat(indications).Select(e => S(e, "regulator")!).Distinct()],
                [.. approvals.Select(a => S(a, "approvedOn")).OfType<string>().Select(d => DateOnly.Parse(d, System.Globalization.CultureInfo.InvariantCulture))],
                S(t, "vector"), S(t, "mechanism"), S(t, "vectorDetail"), [.. indications.Select(i => S(i, "conditionId")!).Distinct()]);
        }),
    ];
}
