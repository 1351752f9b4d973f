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

    /// <summary>
    /// The <c>^…$</c> form of an expression <see cref="Whole"/> made (<c>^…\z</c>), as the OpenAPI
    /// document writes it; any other expression as it is.
    /// </summary>
    public static string Anchored(string expression) =>
        expression.StartsWith('^') && expression.EndsWith(@"\z", StringComparison.Ordinal) ? expression[..^2] + "$" : expression;

    /// <summary>FluentValidation's <c>Matches</c>, with the pattern matched as the database matches it.</summary>
    public static IRuleBuilderOptions<T, string?> MatchesWhole<T>(this IRuleBuilder<T, string?> rule, string pattern) =>
        rule.Matches(Whole(pattern));
}
