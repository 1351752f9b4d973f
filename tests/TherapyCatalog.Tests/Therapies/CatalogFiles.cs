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
        string[] Regulators, DateOnly[] ApprovalDates);

    public static IReadOnlyList<Product> Products { get; } = Load();

    public static string[] Slugs(Func<Product, bool> where) =>
        [.. Products.Where(p => p.Status == "active" && where(p)).Select(p => p.Slug).Order(StringComparer.Ordinal)];

    private static List<Product> Load() =>
    [
        .. Directory.GetFiles(Path.Combine(PostgresServer.RepositoryRoot, "db", "data", "therapies"), "*.json").Select(file =>
        {
            var t = JsonDocument.Parse(File.ReadAllText(file)).RootElement;
            // Data files leave out members that are null.
            string? S(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v.GetString() : null;
            var approvals = t.GetProperty("approvals").EnumerateArray().ToList();
            var indications = t.GetProperty("indications").EnumerateArray().ToList();
            return new Product(
                S(t, "slug")!, S(t, "status")!, S(t, "modality")!, S(t, "target"), S(t, "manufacturer")!, S(t, "route")!,
                [.. approvals.Concat(indications).Select(e => S(e, "regulator")!).Distinct()],
                [.. approvals.Select(a => S(a, "approvedOn")).OfType<string>().Select(d => DateOnly.Parse(d, System.Globalization.CultureInfo.InvariantCulture))]);
        }),
    ];
}
