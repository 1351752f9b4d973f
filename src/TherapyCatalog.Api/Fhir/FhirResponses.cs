using System.Text;
using Hl7.Fhir.Serialization;
using M = Hl7.Fhir.Model;

namespace TherapyCatalog.Api.Fhir;

/// <summary>Resources leave as <c>application/fhir+json</c>, written by the Firely SDK; every error is an OperationOutcome.</summary>
public static class FhirResponses
{
    public const string MediaType = "application/fhir+json";
    public const string ContentType = MediaType + "; charset=utf-8";

    /// <summary>The <c>_format</c> values answered (all mean FHIR JSON).</summary>
    public static readonly string[] Formats = ["json", "application/json", MediaType];

    private static readonly FhirJsonSerializer Serializer = new();

    public static string Serialize(M.Base resource) => Serializer.SerializeToString(resource);

    public static IResult Resource(M.Resource resource, int status = StatusCodes.Status200OK) =>
        Results.Text(Serialize(resource), ContentType, Encoding.UTF8, status);

    public static M.OperationOutcome Outcome(M.OperationOutcome.IssueSeverity severity, M.OperationOutcome.IssueType code, string diagnostics) => new()
    {
        Issue = [new M.OperationOutcome.IssueComponent { Severity = severity, Code = code, Diagnostics = diagnostics }],
    };

    public static IResult Error(int status, M.OperationOutcome.IssueType code, string diagnostics) =>
        Resource(Outcome(M.OperationOutcome.IssueSeverity.Error, code, diagnostics), status);

    public static IResult NotFound(string diagnostics) => Error(StatusCodes.Status404NotFound, M.OperationOutcome.IssueType.NotFound, diagnostics);

    /// <summary>An unsupported <c>_format</c> is a 406; no <c>_format</c> is FHIR JSON.</summary>
    public static IResult? CheckFormat(HttpRequest request)
    {
        var format = request.Query["_format"];
        return format.Count == 0 || format.All(f => Formats.Contains(f?.Split(';')[0].Trim(), StringComparer.OrdinalIgnoreCase))
            ? null
            : Error(StatusCodes.Status406NotAcceptable, M.OperationOutcome.IssueType.NotSupported,
                $"_format '{format}' is not supported: this server answers FHIR JSON only ({string.Join(", ", Formats)}).");
    }
}
