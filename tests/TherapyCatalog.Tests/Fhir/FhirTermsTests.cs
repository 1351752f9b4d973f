using TherapyCatalog.Api.Fhir;
using TherapyCatalog.Api.Therapies;

namespace TherapyCatalog.Tests.Fhir;

/// <summary>The project's FHIR code systems hold exactly the JSON API's vocabularies, so neither can gain a value the other lacks.</summary>
public class FhirTermsTests
{
    public static TheoryData<string, string[]> Vocabularies => new()
    {
        { FhirTerms.Modality.Id, TherapyVocabulary.Modalities },
        { FhirTerms.CellSource.Id, TherapyVocabulary.CellSources },
        { FhirTerms.Delivery.Id, TherapyVocabulary.Deliveries },
        { FhirTerms.Mechanism.Id, TherapyVocabulary.Mechanisms },
        { FhirTerms.Vector.Id, TherapyVocabulary.Vectors },
    };

    [Theory]
    [MemberData(nameof(Vocabularies))]
    public void A_code_system_has_the_codes_of_its_vocabulary(string codeSystem, string[] vocabulary)
    {
        var system = Assert.Single(FhirTerms.Classifications, s => s.Id == codeSystem);

        Assert.Equal(vocabulary.Order(StringComparer.Ordinal), system.Concepts.Select(c => c.Code).Order(StringComparer.Ordinal));
    }
}
