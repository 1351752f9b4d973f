using System.Globalization;
using TherapyCatalog.Api.Therapies;
using M = Hl7.Fhir.Model;

namespace TherapyCatalog.Api.Fhir;

/// <summary>
/// One therapy as an R4 MedicationKnowledge (the table in docs/fhir.md). Every member of the JSON
/// representation has a place: a core element where R4 has one, else an extension of this project
/// (<see cref="FhirTerms.ExtensionBase"/>). Built from the stored document alone, so a read and a
/// history entry of the same version are the same resource.
/// </summary>
public static class MedicationKnowledgeMap
{
    public const string SlugExtension = FhirTerms.ExtensionBase + "therapy-slug";
    public const string CreatedExtension = FhirTerms.ExtensionBase + "created";
    public const string VectorDetailExtension = FhirTerms.ExtensionBase + "vector-detail";
    public const string OtherNameExtension = FhirTerms.ExtensionBase + "other-name";
    public const string AdministrationExtension = FhirTerms.ExtensionBase + "patient-journey";
    public const string SourceExtension = FhirTerms.ExtensionBase + "source";
    public const string IndicationExtension = FhirTerms.ExtensionBase + "indication";
    public const string ApprovalExtension = FhirTerms.ExtensionBase + "approval";
    public const string ListPriceExtension = FhirTerms.ExtensionBase + "list-price";
    public const string PackageExtension = FhirTerms.ExtensionBase + "package";

    public static M.MedicationKnowledge From(Therapy t)
    {
        var resource = new M.MedicationKnowledge
        {
            Id = t.Id.ToString(),
            Meta = new M.Meta
            {
                VersionId = t.Version.ToString(CultureInfo.InvariantCulture),
                LastUpdated = t.UpdatedAt,
            },
            Code = new M.CodeableConcept
            {
                Coding = [.. t.Packages.Select(Ndc)],
                Text = t.ProprietaryName,
            },
            Status = FhirTerms.Status(t.Status),
            Manufacturer = new M.ResourceReference { Display = t.Manufacturer },
            Synonym = [.. new[] { t.ProperName }.Concat(t.OtherNames.Select(o => o.Name)).Distinct(StringComparer.Ordinal)],
            IntendedRoute = [Route(t.Route)],
            MedicineClassification = Classifications(t),
            AdministrationGuidelines = [.. t.Indications.Select(Indication)],
            Regulatory = [.. t.Approvals.GroupBy(a => a.Regulator).Select(Regulatory)],
            Cost = t.ListPrice is { } price ? [Cost(price)] : [],
        };
        if (t.Administration.Summary is { } summary)
        {
            resource.PreparationInstruction = summary;
        }

        if (t.Administration.Rems)
        {
            resource.MonitoringProgram = [new M.MedicationKnowledge.MonitoringProgramComponent
            {
                Type = new M.CodeableConcept { Text = "REMS" },
                Name = "Risk Evaluation and Mitigation Strategy",
            }];
        }

        resource.Extension.Add(new M.Extension(SlugExtension, new M.FhirString(t.Slug)));
        resource.Extension.Add(new M.Extension(CreatedExtension, new M.FhirDateTime(t.CreatedAt)));
        if (t.VectorDetail is { } detail)
        {
            resource.Extension.Add(new M.Extension(VectorDetailExtension, new M.FhirString(detail)));
        }

        foreach (var other in t.OtherNames)
        {
            var extension = new M.Extension { Url = OtherNameExtension };
            Add(extension, "name", new M.FhirString(other.Name));
            Add(extension, "kind", new M.Code(other.Kind));
            if (other.Regulator is { } regulator)
            {
                Add(extension, "regulator", new M.FhirString(regulator));
            }

            resource.Extension.Add(extension);
        }

        resource.Extension.Add(PatientJourney(t.Administration));
        foreach (var source in t.Sources)
        {
            resource.Extension.Add(new M.Extension(SourceExtension, new M.RelatedArtifact
            {
                Type = M.RelatedArtifact.RelatedArtifactType.Documentation,
                Url = source,
            }));
        }

        return resource;
    }

    private static M.Coding Ndc(Package package)
    {
        var coding = new M.Coding(FhirTerms.Ndc, package.Ndc);
        if (package.Description is { } description)
        {
            coding.Display = description;
        }

        var extension = new M.Extension { Url = PackageExtension };
        Add(extension, "ndc11", new M.FhirString(package.Ndc11));
        AddSource(extension, package.Source, package.SourceKind);
        coding.Extension.Add(extension);
        return coding;
    }

    private static M.CodeableConcept Route(string route)
    {
        var concept = new M.CodeableConcept { Text = FhirTerms.RouteText(route) };
        if (FhirTerms.SnomedRoutes.TryGetValue(route, out var snomed))
        {
            concept.Coding.Add(new M.Coding(FhirTerms.Snomed, snomed.Code, snomed.Display));
        }

        return concept;
    }

    private static List<M.MedicationKnowledge.MedicineClassificationComponent> Classifications(Therapy t)
    {
        var list = new List<M.MedicationKnowledge.MedicineClassificationComponent>();
        foreach (var system in FhirTerms.Classifications)
        {
            if (FhirTerms.ClassificationValue(t, system) is not { } value)
            {
                continue;
            }

            var concept = system.Concepts.First(c => c.Code == value);
            list.Add(new M.MedicationKnowledge.MedicineClassificationComponent
            {
                Type = ClassificationType(system.Id),
                Classification = [new M.CodeableConcept(system.Url, value, concept.Display, concept.Display)],
            });
        }

        if (t.Target is { } target)
        {
            list.Add(new M.MedicationKnowledge.MedicineClassificationComponent
            {
                Type = ClassificationType("target"),
                Classification = [new M.CodeableConcept { Text = target }],
            });
        }

        return list;
    }

    private static M.CodeableConcept ClassificationType(string code)
    {
        var display = FhirTerms.ClassificationType.Concepts.First(c => c.Code == code).Display;
        return new M.CodeableConcept(FhirTerms.ClassificationType.Url, code, display, display);
    }

    private static M.MedicationKnowledge.AdministrationGuidelinesComponent Indication(Indication indication)
    {
        var concept = new M.CodeableConcept { Text = indication.Condition };
        if (indication.Icd10 is { } icd10)
        {
            concept.Coding.Add(new M.Coding(FhirTerms.Icd10Cm, icd10, indication.Condition));
        }

        var component = new M.MedicationKnowledge.AdministrationGuidelinesComponent { Indication = concept };
        var extension = new M.Extension { Url = IndicationExtension };
        Add(extension, "condition-id", new M.FhirString(indication.ConditionId));
        if (indication.Population is { } population)
        {
            Add(extension, "population", new M.FhirString(population));
        }

        Add(extension, "regulator", new M.FhirString(indication.Regulator));
        if (indication.ApprovedOn is { } on)
        {
            Add(extension, "approved-on", new M.Date(on.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)));
        }

        AddSource(extension, indication.Source, indication.SourceKind);
        component.Extension.Add(extension);
        return component;
    }

    private static M.MedicationKnowledge.RegulatoryComponent Regulatory(IGrouping<string, Approval> approvals)
    {
        var component = new M.MedicationKnowledge.RegulatoryComponent
        {
            RegulatoryAuthority = new M.ResourceReference { Display = approvals.Key },
        };
        foreach (var approval in approvals)
        {
            var extension = new M.Extension { Url = ApprovalExtension };
            if (approval.ApplicationNumber is { } number)
            {
                Add(extension, "application-number", new M.FhirString(number));
            }

            if (approval.ApprovedOn is { } on)
            {
                Add(extension, "approved-on", new M.Date(on.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)));
            }

            Add(extension, "status", new M.Code(approval.Status));
            AddSource(extension, approval.Source, approval.SourceKind);
            component.Extension.Add(extension);
        }

        return component;
    }

    private static M.MedicationKnowledge.CostComponent Cost(ListPrice price)
    {
        var cost = new M.MedicationKnowledge.CostComponent
        {
            Type = new M.CodeableConcept { Text = "list price" },
            Cost = new M.Money { Value = price.Amount },
        };
        if (Enum.TryParse<M.Money.Currencies>(price.Currency, out var currency))
        {
            cost.Cost.Currency = currency;
        }

        if (price.Source is { } source)
        {
            cost.Source = source;
        }

        var extension = new M.Extension { Url = ListPriceExtension };
        if (price.Year is { } year)
        {
            Add(extension, "year", new M.Integer(year));
        }

        if (price.SourceKind is { } kind)
        {
            Add(extension, "source-kind", new M.Code(kind));
        }

        if (extension.Extension.Count > 0)
        {
            cost.Extension.Add(extension);
        }

        return cost;
    }

    private static M.Extension PatientJourney(Administration administration)
    {
        var extension = new M.Extension { Url = AdministrationExtension };
        if (administration.InfusionMinutes is { } minutes)
        {
            Add(extension, "infusion-duration", new M.Duration
            {
                Value = minutes, Unit = "min", System = "http://unitsofmeasure.org", Code = "min",
            });
        }

        Add(extension, "requires-leukapheresis", new M.FhirBoolean(administration.RequiresLeukapheresis));
        Add(extension, "requires-lymphodepletion", new M.FhirBoolean(administration.RequiresLymphodepletion));
        Add(extension, "rems", new M.FhirBoolean(administration.Rems));
        return extension;
    }

    private static void Add(M.Extension extension, string url, M.DataType value) => extension.Extension.Add(new M.Extension(url, value));

    private static void AddSource(M.Extension extension, string? source, string? kind)
    {
        if (source is not null)
        {
            Add(extension, "source", new M.FhirUri(source));
        }

        if (kind is not null)
        {
            Add(extension, "source-kind", new M.Code(kind));
        }
    }
}
