using M = Hl7.Fhir.Model;

namespace TherapyCatalog.Api.Fhir;

/// <summary>The CapabilityStatement: exactly the interactions and search parameters this server answers.</summary>
public static class FhirCapabilities
{
    /// <summary>When the statement last changed (it is fixed by the code, not by the data).</summary>
    public const string Date = "2026-12-04";

    public static M.CapabilityStatement Statement() => new()
    {
        Url = FhirTerms.CanonicalBase + "/CapabilityStatement/therapy-catalog",
        Name = "TherapyCatalogFhirServer",
        Title = "Therapy Catalog FHIR R4 server",
        Status = M.PublicationStatus.Active,
        Experimental = false,
        Date = Date,
        Publisher = "Therapy Catalog",
        Description = "Approved cell and gene therapy products as read-only MedicationKnowledge resources: read, search, type-level history; the project's classification CodeSystems.",
        Kind = M.CapabilityStatementKind.Instance,
        Implementation = new M.CapabilityStatement.ImplementationComponent { Description = "Therapy Catalog, FHIR R4 view (docs/fhir.md)" },
        FhirVersion = M.FHIRVersion.N4_0_1,
        Format = ["json", FhirResponses.MediaType],
        Rest =
        [
            new M.CapabilityStatement.RestComponent
            {
                Mode = M.CapabilityStatement.RestfulCapabilityMode.Server,
                Documentation = "Read-only. Errors are OperationOutcome resources. Unknown search parameters are ignored (and reported in an OperationOutcome entry) unless the request has Prefer: handling=strict, which makes them a 400.",
                Resource =
                [
                    new M.CapabilityStatement.ResourceComponent
                    {
                        Type = "MedicationKnowledge",
                        Interaction =
                        [
                            Interaction(M.CapabilityStatement.TypeRestfulInteraction.Read),
                            Interaction(M.CapabilityStatement.TypeRestfulInteraction.SearchType),
                            Interaction(M.CapabilityStatement.TypeRestfulInteraction.HistoryType),
                        ],
                        Versioning = M.CapabilityStatement.ResourceVersionPolicy.Versioned,
                        ReadHistory = false,
                        UpdateCreate = false,
                        ConditionalRead = M.CapabilityStatement.ConditionalReadStatus.NotMatch,
                        SearchParam = [.. FhirSearch.Parameters.Select(p => new M.CapabilityStatement.SearchParamComponent
                        {
                            Name = p.Name, Type = p.Type, Definition = p.Definition, Documentation = p.Documentation,
                        })],
                    },
                    new M.CapabilityStatement.ResourceComponent
                    {
                        Type = "CodeSystem",
                        Documentation = "This project's code systems: " + string.Join(", ", FhirTerms.All.Select(s => s.Id)) + ".",
                        Interaction = [Interaction(M.CapabilityStatement.TypeRestfulInteraction.Read)],
                    },
                ],
            },
        ],
    };

    private static M.CapabilityStatement.ResourceInteractionComponent Interaction(M.CapabilityStatement.TypeRestfulInteraction code) =>
        new() { Code = code };
}
