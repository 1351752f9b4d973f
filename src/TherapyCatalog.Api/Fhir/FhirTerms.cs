using TherapyCatalog.Api.Therapies;
using M = Hl7.Fhir.Model;

namespace TherapyCatalog.Api.Fhir;

/// <summary>
/// The canonical URLs and code systems of the FHIR view (docs/fhir.md). The canonical base names
/// this project's definitions; it is an identifier, not an address the service must answer at.
/// </summary>
public static class FhirTerms
{
    public const string CanonicalBase = "https://therapy-catalog.org/fhir";
    public const string ExtensionBase = CanonicalBase + "/StructureDefinition/";
    public const string CodeSystemBase = CanonicalBase + "/CodeSystem/";

    public const string Ndc = "http://hl7.org/fhir/sid/ndc";
    public const string Icd10Cm = "http://hl7.org/fhir/sid/icd-10-cm";
    public const string Snomed = "http://snomed.info/sct";

    /// <summary>The kinds of classification (<c>medicineClassification.type</c>).</summary>
    public const string ClassificationTypeId = "classification-type";

    /// <summary>A project code system: its id (and URL tail), title, what it classifies, and its concepts with their definitions.</summary>
    public sealed record ProjectCodeSystem(string Id, string Title, string Description, string? Column, IReadOnlyList<(string Code, string Display, string Definition)> Concepts)
    {
        public string Url => CodeSystemBase + Id;
    }

    public static readonly ProjectCodeSystem Modality = new("modality", "Therapy modality",
        "What the product is: cells, a gene, or cells modified by a gene.", "modality",
        [
            ("cell", "Cell therapy", "Living cells given to the patient, not genetically modified."),
            ("gene", "Gene therapy", "Genetic material (a vector, plasmid or editing system) given to the patient."),
            ("cell-based-gene", "Gene-modified cell therapy", "Cells genetically modified outside the body and given to the patient."),
        ]);

    public static readonly ProjectCodeSystem CellSource = new("cell-source", "Cell source",
        "Whose cells the product is made from.", "cell_source",
        [
            ("autologous", "Autologous", "Made from the patient's own cells."),
            ("allogeneic", "Allogeneic", "Made from another person's cells."),
        ]);

    public static readonly ProjectCodeSystem Delivery = new("delivery", "Delivery",
        "Where the therapeutic modification happens.", "delivery",
        [
            ("in-vivo", "In vivo", "The product acts inside the patient's body."),
            ("ex-vivo", "Ex vivo", "Cells are modified or prepared outside the body, then given."),
        ]);

    public static readonly ProjectCodeSystem Mechanism = new("mechanism", "Mechanism",
        "What the product does to the patient's genes or cells.", "mechanism",
        [
            ("replace", "Replace", "Supplies a working copy of a faulty gene."),
            ("inactivate", "Inactivate", "Switches off a gene or kills target cells."),
            ("introduce", "Introduce", "Introduces a new or modified gene (for example a chimeric antigen receptor)."),
            ("edit", "Edit", "Edits the genome in place."),
        ]);

    public static readonly ProjectCodeSystem Vector = new("vector", "Vector",
        "How the genetic material reaches the cells.", "vector",
        [
            ("aav", "Adeno-associated virus", "An adeno-associated viral vector."),
            ("lentiviral", "Lentiviral", "A lentiviral vector."),
            ("gamma-retroviral", "Gamma-retroviral", "A gamma-retroviral vector."),
            ("adenoviral", "Adenoviral", "An adenoviral vector."),
            ("hsv-1", "Herpes simplex virus 1", "A herpes simplex virus type 1 vector."),
            ("plasmid", "Plasmid", "Plasmid DNA."),
            ("crispr-cas9", "CRISPR-Cas9", "A CRISPR-Cas9 editing system."),
            ("other", "Other", "Another vector."),
        ]);

    public static readonly ProjectCodeSystem ClassificationType = new(ClassificationTypeId, "Classification type",
        "The kinds of classification a MedicationKnowledge of this catalog carries in medicineClassification.", null,
        [
            ("modality", "Modality", "Classified by the code system " + CodeSystemBase + "modality."),
            ("cell-source", "Cell source", "Classified by the code system " + CodeSystemBase + "cell-source."),
            ("delivery", "Delivery", "Classified by the code system " + CodeSystemBase + "delivery."),
            ("mechanism", "Mechanism", "Classified by the code system " + CodeSystemBase + "mechanism."),
            ("vector", "Vector", "Classified by the code system " + CodeSystemBase + "vector."),
            ("target", "Target", "The gene or antigen the product acts on, as text (no code system)."),
        ]);

    /// <summary>The code systems a classification is coded in, in the order medicineClassification lists them.</summary>
    public static readonly ProjectCodeSystem[] Classifications = [Modality, CellSource, Delivery, Mechanism, Vector];

    public static readonly ProjectCodeSystem[] All = [.. Classifications, ClassificationType];

    /// <summary>
    /// SNOMED CT route codes for the routes whose code is certain (the R4 route-codes value set);
    /// every other route is sent as text only rather than with a guessed code.
    /// </summary>
    public static readonly Dictionary<string, (string Code, string Display)> SnomedRoutes = new()
    {
        ["intravenous"] = ("47625008", "Intravenous route"),
        ["topical"] = ("6064005", "Topical route"),
        ["intrathecal"] = ("72607000", "Intrathecal route"),
    };

    public static string RouteText(string route) => route switch
    {
        "oral-mucosal" => "oral mucosal",
        _ => route,
    };

    /// <summary>The CodeSystem resource of a project code system.</summary>
    public static M.CodeSystem ToResource(ProjectCodeSystem system) => new()
    {
        Id = system.Id,
        Url = system.Url,
        Name = string.Concat(system.Title.Split(' ', '-').Select(w => char.ToUpperInvariant(w[0]) + w[1..])),
        Title = system.Title,
        Status = M.PublicationStatus.Active,
        Experimental = false,
        Publisher = "Therapy Catalog",
        Description = system.Description,
        CaseSensitive = true,
        Content = M.CodeSystemContentMode.Complete,
        Count = system.Concepts.Count,
        Concept = [.. system.Concepts.Select(c => new M.CodeSystem.ConceptDefinitionComponent { Code = c.Code, Display = c.Display, Definition = c.Definition })],
    };

    /// <summary>The MedicationKnowledge status of a catalog status: withdrawn products are inactive.</summary>
    public static M.MedicationKnowledge.MedicationKnowledgeStatusCodes Status(string status) =>
        status == "active" ? M.MedicationKnowledge.MedicationKnowledgeStatusCodes.Active : M.MedicationKnowledge.MedicationKnowledgeStatusCodes.Inactive;

    /// <summary>The catalog statuses a FHIR status means.</summary>
    public static string? CatalogStatus(string fhirStatus) => fhirStatus switch
    {
        "active" => "active",
        "inactive" => "withdrawn",
        _ => null,
    };

    public static string? ClassificationValue(Therapy therapy, ProjectCodeSystem system) => system.Id switch
    {
        "modality" => therapy.Modality,
        "cell-source" => therapy.CellSource,
        "delivery" => therapy.Delivery,
        "mechanism" => therapy.Mechanism,
        "vector" => therapy.Vector,
        _ => null,
    };
}
