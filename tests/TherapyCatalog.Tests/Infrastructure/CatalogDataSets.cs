using TherapyCatalog.Api.Conditions;
using TherapyCatalog.Api.Infrastructure;
using TherapyCatalog.Api.Therapies;

namespace TherapyCatalog.Tests.Infrastructure;

/// <summary>The catalog's data sets, in the order Program registers them, for tests that migrate a database themselves.</summary>
public static class CatalogDataSets
{
    public static IReadOnlyList<ICatalogDataSet> All { get; } = [new ConditionData(), new TherapyData(TimeProvider.System)];
}
