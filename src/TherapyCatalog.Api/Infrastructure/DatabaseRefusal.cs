using System.Text.Json;
using Npgsql;

namespace TherapyCatalog.Api.Infrastructure;

/// <summary>
/// The database refusing a value the validator let through: a CHECK, a foreign key, a unique key, a
/// value out of a column's range or form. The validator and the CHECKs share their rules
/// (<see cref="TextPattern"/>), so this is the last line, not the usual path: the write is rolled
/// back and the client gets a 400 (or 409 for a duplicate) naming the member, never a 500.
/// </summary>
public sealed record DatabaseRefusal(int Status, string Member, string Message)
{
    public static DatabaseRefusal? Of(Exception exception) => exception switch
    {
        PostgresException pg => Of(pg),
        _ when exception.InnerException is { } inner => Of(inner),
        _ => null,
    };

    private static DatabaseRefusal? Of(PostgresException pg)
    {
        var member = MemberOf(pg);
        return pg.SqlState switch
        {
            PostgresErrorCodes.UniqueViolation => new(StatusCodes.Status409Conflict, member,
                $"'{member}' must be unique: another record already has this value."),
            PostgresErrorCodes.CheckViolation or PostgresErrorCodes.NotNullViolation or PostgresErrorCodes.ForeignKeyViolation => new(StatusCodes.Status400BadRequest, member,
                $"The catalog does not accept this value of '{member}' ({pg.ConstraintName ?? pg.SqlState})."),
            // Class 22, data exceptions: a number past a column's precision, a NUL in text, a date out of range.
            var state when state.StartsWith("22", StringComparison.Ordinal) => new(StatusCodes.Status400BadRequest, member,
                $"A value is outside what the catalog can store: {pg.MessageText}."),
            _ => null,
        };
    }

    /// <summary>The member a refusal is about, from the column or the constraint's name (<c>therapies_list_price_amount_check</c> → <c>listPriceAmount</c>).</summary>
    private static string MemberOf(PostgresException pg)
    {
        var column = pg.ColumnName;
        if (column is null && pg.ConstraintName is { } constraint && pg.TableName is { } table
            && constraint.StartsWith(table + "_", StringComparison.Ordinal))
        {
            var rest = constraint[(table.Length + 1)..];
            foreach (var suffix in new[] { "_check", "_key", "_fkey" })
            {
                if (rest.EndsWith(suffix, StringComparison.Ordinal))
                {
                    column = rest[..^suffix.Length];
                    break;
                }
            }
        }

        return column is null ? "$" : JsonNamingPolicy.CamelCase.ConvertName(
            string.Concat(column.Split('_', StringSplitOptions.RemoveEmptyEntries).Select(w => char.ToUpperInvariant(w[0]) + w[1..])));
    }
}
