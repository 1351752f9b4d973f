using System.Collections;
using System.Text.Json;
using TherapyCatalog.Api.Sync;
using TherapyCatalog.Api.Therapies;

namespace TherapyCatalog.Tests.Sync;

/// <summary>
/// The CSV export carries every member of the therapy resource: the members are read from the
/// <see cref="Therapy"/> record itself, so a member added there and forgotten in the CSV fails here.
/// </summary>
public class CatalogCsvTests
{
    /// <summary>Members the CSV leaves out on purpose: the condition's name is the record that <c>conditionId</c> names.</summary>
    private static readonly string[] DerivedMembers = ["indications.condition"];

    [Fact]
    public void Every_member_of_a_therapy_has_a_csv_column()
    {
        var columns = CatalogCsv.Header.TrimEnd('\r', '\n').Split(',');

        var missing = Members(typeof(Therapy), prefix: "")
            .Where(member => !DerivedMembers.Contains(member))
            .Where(member => !columns.Any(column => Covers(column, member)))
            .ToList();

        Assert.Empty(missing);
    }

    /// <summary>Dotted JSON paths of a type's members: objects are walked into, lists of objects name their items' members.</summary>
    private static IEnumerable<string> Members(Type type, string prefix) =>
        type.GetProperties().SelectMany(property =>
        {
            var name = prefix + JsonNamingPolicy.CamelCase.ConvertName(property.Name);
            var itemType = property.PropertyType.IsGenericType && typeof(IEnumerable).IsAssignableFrom(property.PropertyType)
                ? property.PropertyType.GetGenericArguments()[0]
                : null;
            var inner = itemType ?? Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            return IsRecord(inner) ? Members(inner, name + ".") : [name];
        });

    private static bool IsRecord(Type type) => type.Namespace == typeof(Therapy).Namespace && type.IsClass;

    /// <summary><c>listPrice.amount</c> is <c>listPriceAmount</c>; <c>indications.regulator</c> is inside <c>indications[...|regulator|...]</c>.</summary>
    private static bool Covers(string column, string member)
    {
        var parts = member.Split('.');
        if (parts.Length == 1)
        {
            return column == member;
        }

        var bracket = column.IndexOf('[', StringComparison.Ordinal);
        return bracket > 0
            ? column[..bracket] == parts[0] && column[(bracket + 1)..^1].Split('|').Contains(parts[1])
            : column == parts[0] + char.ToUpperInvariant(parts[1][0]) + parts[1][1..];
    }
}
