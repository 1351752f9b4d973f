using System.Text.Json;
using System.Text.RegularExpressions;
using FluentValidation;
using FluentValidation.Results;

namespace TherapyCatalog.Api.Infrastructure;

public static partial class Validation
{
    public static IServiceCollection AddCatalogValidation(this IServiceCollection services)
    {
        // Messages and error keys name members as clients write them: 'cellSource', not 'Cell Source'.
        ValidatorOptions.Global.DisplayNameResolver = (_, member, _) => member is null ? null : JsonNamingPolicy.CamelCase.ConvertName(member.Name);
        return services;
    }

    /// <summary>A 400 problem whose <c>errors</c> are keyed by JSON path (<c>indications[0].icd10</c>).</summary>
    public static IResult Problem(IEnumerable<ValidationFailure> failures) =>
        TypedResults.ValidationProblem(
            failures.GroupBy(f => ClientPath(f.PropertyName))
                .ToDictionary(g => g.Key, g => g.Select(f => f.ErrorMessage).Distinct().ToArray()),
            title: "The request body is invalid",
            detail: "See 'errors' for what is wrong, by JSON path.");

    public static IResult Problem(string path, string message) => Problem([new ValidationFailure(path, message)]);

    /// <summary><c>Indications[0].ConditionId</c> → <c>indications[0].conditionId</c>.</summary>
    public static string ClientPath(string propertyPath) =>
        string.IsNullOrEmpty(propertyPath) ? "$" : Segment().Replace(propertyPath, m => m.Groups[1].Value + char.ToLowerInvariant(m.Groups[2].Value[0]));

    [GeneratedRegex(@"(^|\.)([A-Z])")]
    private static partial Regex Segment();
}
