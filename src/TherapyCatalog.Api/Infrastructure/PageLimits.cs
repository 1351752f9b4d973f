using System.Globalization;

namespace TherapyCatalog.Api.Infrastructure;

/// <summary>
/// How many items a page of one list may hold. Every list reads its <c>limit</c> through
/// <see cref="Take"/>, so a bad value gets the same 400 everywhere; as endpoint metadata
/// (<c>.WithMetadata(limits)</c>) it also describes the parameter in the OpenAPI document.
/// </summary>
public sealed record PageLimits(int Default, int Max)
{
    /// <summary>The page size <paramref name="limit"/> asks for, or the default; a bad value is added to <paramref name="errors"/>.</summary>
    public int Take(string? limit, IDictionary<string, string[]> errors)
    {
        if (limit is null)
        {
            return Default;
        }

        if (int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out var take) && take >= 1 && take <= Max)
        {
            return take;
        }

        errors["limit"] = [$"'limit' must be a whole number from 1 to {Max}."];
        return Default;
    }
}
