using System.Text.Json;
using Firely.Fhir.Validation;
using Hl7.Fhir.Model;
using Hl7.Fhir.Rest;
using Hl7.Fhir.Serialization;
using Hl7.Fhir.Specification.Source;
using Hl7.Fhir.Specification.Terminology;
using TherapyCatalog.Tests.Infrastructure;

namespace TherapyCatalog.Tests.Fhir;

/// <summary>The Firely stack the FHIR tests judge the server with: a strict parser, the R4 base-profile validator, a FhirClient over the test server.</summary>
internal static class FhirKit
{
    public const string Base = "/fhir/r4";

    private static readonly FhirJsonDeserializer Strict = FhirJsonDeserializer.STRICT;

    private static readonly Lazy<Validator> R4Validator = new(() =>
    {
        var resolver = new CachedResolver(ZipSource.CreateValidationSource());
        return new Validator(resolver.AsAsync(), new LocalTerminologyService(resolver.AsAsync()));
    });

    /// <summary>Parses FHIR JSON strictly: any unknown member, wrong type or bad value throws.</summary>
    public static T Parse<T>(string json) where T : Resource => (T)Strict.DeserializeResource(json);

    /// <summary>The validator's issues of severity error or fatal, as text.</summary>
    public static List<string> Errors(Resource resource)
    {
        OperationOutcome outcome;
        lock (R4Validator)
        {
            outcome = R4Validator.Value.Validate(resource);
        }

        return [.. outcome.Issue
            .Where(i => i.Severity is OperationOutcome.IssueSeverity.Error or OperationOutcome.IssueSeverity.Fatal)
            .Select(i => $"{i.Severity} {i.Code} at {string.Join(",", i.Expression)}: {i.Details?.Text ?? i.Diagnostics}")];
    }

    /// <summary>A FhirClient that talks to the in-memory test server.</summary>
    public static FhirClient Client(CatalogApiFactory api) =>
        new(new Uri(api.Server.BaseAddress, Base + "/"), new FhirClientSettings { PreferredFormat = ResourceFormat.Json, VerifyFhirVersion = false },
            api.Server.CreateHandler());

    /// <summary>Kymriah's id and NDCs as its data file states them.</summary>
    public static (string Id, string[] Ndcs) Kymriah()
    {
        using var file = JsonDocument.Parse(File.ReadAllText(Path.Combine(PostgresServer.RepositoryRoot, "db", "data", "therapies", "kymriah.json")));
        var root = file.RootElement;
        var ndcs = root.TryGetProperty("packages", out var packages)
            ? packages.EnumerateArray().Select(p => p.GetProperty("ndc").GetString()!).ToArray()
            : root.GetProperty("ndcs").EnumerateArray().Select(n => n.GetString()!).ToArray();
        return (root.GetProperty("id").GetString()!, ndcs);
    }
}
