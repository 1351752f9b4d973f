using System.Text.RegularExpressions;
using FluentValidation;

namespace TherapyCatalog.Api.Infrastructure;

/// <summary>
/// Anchored patterns are written once, as <c>^…$</c>: the form the database's CHECK constraints
/// (PostgreSQL) and the OpenAPI document (ECMAScript) read, where <c>$</c> is the end of the text.
/// .NET's <c>$</c> also matches before a final <c>\n</c>, so <c>"x\n"</c> passed the validator and
/// then broke the CHECK: here every such pattern is matched with <c>\z</c>, the end of the text.
/// </summary>
public static class TextPattern
{
    /// <summary>The pattern matched against the whole text, exactly as PostgreSQL and ECMAScript match it.</summary>
    public static Regex Whole(string pattern)
    {
        if (!pattern.StartsWith('^') || !pattern.EndsWith('$') || pattern.EndsWith(@"\$", StringComparison.Ordinal))
        {
            throw new ArgumentException($"An anchored pattern is written ^…$: {pattern}", nameof(pattern));
        }

        return new Regex(pattern[..^1] + @"\z", RegexOptions.CultureInvariant | RegexOptions.Compiled);
    }

    /// <summary>FluentValidation's <c>Matches</c>, with the pattern matched as the database matches it.</summary>
    public static IRuleBuilderOptions<T, string?> MatchesWhole<T>(this IRuleBuilder<T, string?> rule, string pattern) =>
        rule.Matches(Whole(pattern));
}
