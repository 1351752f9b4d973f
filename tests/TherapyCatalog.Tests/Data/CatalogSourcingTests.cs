using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dapper;
using TherapyCatalog.Tests.Infrastructure;

namespace TherapyCatalog.Tests.Data;

/// <summary>
/// What a curator relies on: every fact says who says so, package codes are consistent, names are
/// unambiguous, and the coverage the catalog claims (FDA's list, other regulators) is there.
/// </summary>
public partial class CatalogSourcingTests(CatalogApiFactory api) : IClassFixture<CatalogApiFactory>
{
    private static readonly string[] SourceKinds = ["regulator", "label", "company", "press"];

    /// <summary>
    /// FDA-licensed products whose BLA number no source found this far states (FDA's own pages for
    /// them were not to be had, and press reports of the decision do not give it). The number stays
    /// null rather than guessed; a product leaves this list when its number is found.
    /// </summary>
    private static readonly string[] FdaApplicationNumberUnpublished =
    [
        "adstiladrin", "amtagvi", "aucatzyl", "casgevy", "clevecord", "encelto", "hpc-cord-blood-bloodworks",
        "hpc-cord-blood-clinimmune", "hpc-cord-blood-md-anderson", "itvisma", "kebilidi", "kresladi", "omisirge", "papzimeos",
        "regenecyte", "ryoncil", "stratagraft", "tecelra", "tregzi", "waskyra", "zevaskyn",
    ];

    /// <summary>Cord-blood licences that the sources found date to a month only (the licence letters were not to be had).</summary>
    private static readonly string[] FdaApprovalDayUnpublished =
    [
        "ducord", "hpc-cord-blood-bloodworks", "hpc-cord-blood-clinimmune", "hpc-cord-blood-md-anderson",
    ];

    /// <summary>Indications no source found states for that product (the class indication of licensed HPC, Cord Blood).</summary>
    private static readonly string[] IndicationUnsourced = ["hpc-cord-blood-bloodworks", "hpc-cord-blood-md-anderson"];

    [Fact]
    public async Task Every_approval_indication_package_and_price_says_who_says_so()
    {
        await using var db = await api.OpenDatabaseAsync();

        var unsourced = (await db.QueryAsync<string>("""
            SELECT t.slug || ' approval ' || a.regulator FROM therapy_approvals a JOIN therapies t ON t.id = a.therapy_id
            WHERE a.source IS NULL OR a.source_kind IS NULL
            UNION ALL
            SELECT t.slug || ' indication ' || i.regulator || ' ' || i.condition_id FROM therapy_indications i JOIN therapies t ON t.id = i.therapy_id
            WHERE (i.source IS NULL OR i.source_kind IS NULL) AND NOT t.slug = ANY(@IndicationUnsourced)
            UNION ALL
            SELECT t.slug || ' package ' || n.ndc FROM therapy_ndcs n JOIN therapies t ON t.id = n.therapy_id
            WHERE n.source IS NULL OR n.source_kind IS NULL
            UNION ALL
            SELECT t.slug || ' list price' FROM therapies t
            WHERE t.list_price_amount IS NOT NULL AND (t.list_price_source IS NULL OR t.list_price_source_kind IS NULL)
            """, new { IndicationUnsourced })).ToList();

        Assert.Empty(unsourced);
    }

    [Fact]
    public async Task Every_source_is_an_https_or_http_url_and_every_kind_is_known()
    {
        var therapies = await ExportAsync();

        var facts = therapies.SelectMany(t =>
            t.GetProperty("approvals").EnumerateArray()
                .Concat(t.GetProperty("indications").EnumerateArray())
                .Concat(t.GetProperty("packages").EnumerateArray())
                .Concat(t.GetProperty("listPrice").ValueKind == JsonValueKind.Object ? [t.GetProperty("listPrice")] : [])
                .Select(f => (Slug: t.GetProperty("slug").GetString()!, Fact: f)))
            .Where(f => f.Fact.GetProperty("source").ValueKind != JsonValueKind.Null || !IndicationUnsourced.Contains(f.Slug))
            .ToList();
        var badUrls = facts.Select(f => (f.Slug, Url: f.Fact.GetProperty("source").GetString()))
            .Concat(therapies.SelectMany(t => t.GetProperty("sources").EnumerateArray().Select(s => (t.GetProperty("slug").GetString()!, Url: s.GetString()))))
            .Where(s => s.Url is null || !Url().IsMatch(s.Url) || !Uri.TryCreate(s.Url, UriKind.Absolute, out _))
            .ToList();
        var badKinds = facts.Where(f => !SourceKinds.Contains(f.Fact.GetProperty("sourceKind").GetString())).Select(f => f.Slug).ToList();

        Assert.True(facts.Count > 300, $"only {facts.Count} facts");
        Assert.Empty(badUrls);
        Assert.Empty(badKinds);
    }

    [Fact]
    public async Task Every_ndc11_is_the_5_4_2_form_of_its_ndc()
    {
        var packages = (await ExportAsync()).SelectMany(t => t.GetProperty("packages").EnumerateArray()).ToList();

        var wrong = packages
            .Select(p => (Ndc: p.GetProperty("ndc").GetString()!, Ndc11: p.GetProperty("ndc11").GetString()!))
            .Where(p => p.Ndc11 != ElevenDigit(p.Ndc))
            .ToList();

        Assert.True(packages.Count >= 20, $"only {packages.Count} packages");
        Assert.Empty(wrong);
    }

    [Fact]
    public async Task Ndcs_are_the_packages_codes()
    {
        var therapies = await ExportAsync();

        var disagreeing = therapies
            .Where(t => !t.GetProperty("ndcs").EnumerateArray().Select(n => n.GetString())
                .SequenceEqual(t.GetProperty("packages").EnumerateArray().Select(p => p.GetProperty("ndc").GetString())))
            .Select(t => t.GetProperty("slug").GetString())
            .ToList();

        Assert.Empty(disagreeing);
    }

    [Fact]
    public async Task No_two_products_share_a_name_or_other_name()
    {
        var therapies = await ExportAsync();

        var shared = therapies
            .SelectMany(t => t.GetProperty("otherNames").EnumerateArray().Select(o => o.GetProperty("name").GetString()!)
                .Append(t.GetProperty("proprietaryName").GetString()!)
                .Select(name => (Name: name.ToLowerInvariant(), Slug: t.GetProperty("slug").GetString())))
            .GroupBy(n => n.Name)
            .Where(g => g.Select(n => n.Slug).Distinct().Count() > 1)
            .Select(g => $"{g.Key}: {string.Join(", ", g.Select(n => n.Slug).Distinct())}")
            .ToList();

        Assert.Empty(shared);
    }

    [Fact]
    public async Task Every_fda_licensed_product_has_its_approval_date_and_application_number()
    {
        await using var db = await api.OpenDatabaseAsync();

        var approvals = (await db.QueryAsync<(string Slug, DateTime? ApprovedOn, string? Number)>("""
            SELECT t.slug, a.approved_on, a.application_number
            FROM therapy_approvals a JOIN therapies t ON t.id = a.therapy_id
            WHERE a.regulator = 'FDA'
            """)).ToList();

        Assert.True(approvals.Count >= 49, $"{approvals.Count} FDA approvals"); // FDA's list through 2026-11 (docs/data.md)
        var undated = approvals.Where(a => a.ApprovedOn is null && !FdaApprovalDayUnpublished.Contains(a.Slug)).Select(a => a.Slug).ToList();
        var unnumbered = approvals.Where(a => a.Number is null && !FdaApplicationNumberUnpublished.Contains(a.Slug)).Select(a => a.Slug).ToList();
        var malformed = approvals.Where(a => a.Number is not null && !Bla().IsMatch(a.Number)).Select(a => $"{a.Slug}: {a.Number}").ToList();
        var foundSince = FdaApplicationNumberUnpublished.Where(slug => approvals.Any(a => a.Slug == slug && a.Number is not null))
            .Concat(FdaApprovalDayUnpublished.Where(slug => approvals.Any(a => a.Slug == slug && a.ApprovedOn is not null)))
            .ToList();

        Assert.Empty(undated);
        Assert.Empty(unnumbered);
        Assert.Empty(malformed);
        Assert.Empty(foundSince);
    }

    [Fact]
    public async Task At_least_twenty_products_are_approved_only_outside_the_us()
    {
        await using var db = await api.OpenDatabaseAsync();

        var elsewhere = (await db.QueryAsync<(string Slug, string[] Regulators)>("""
            SELECT t.slug, t.regulators FROM therapies t
            WHERE NOT ('FDA' = ANY(t.regulators)) AND t.deleted_at IS NULL
            """)).ToList();

        Assert.True(elsewhere.Count >= 20, $"{elsewhere.Count}: {string.Join(", ", elsewhere.Select(e => e.Slug))}");
        foreach (var regulator in new[] { "EMA", "PMDA", "NMPA", "MFDS", "CDSCO", "MINZDRAV" })
        {
            Assert.Contains(elsewhere, e => e.Regulators.Contains(regulator));
        }
    }

    [Fact]
    public async Task Every_other_name_finds_its_product()
    {
        var therapies = await ExportAsync();
        var client = api.CreateClient();
        var names = therapies
            .Where(t => t.GetProperty("status").GetString() == "active")
            .SelectMany(t => t.GetProperty("otherNames").EnumerateArray()
                .Select(o => (Name: o.GetProperty("name").GetString()!, Slug: t.GetProperty("slug").GetString()!)))
            .ToList();

        var missed = new List<string>();
        foreach (var (name, slug) in names)
        {
            var page = await client.GetFromJsonAsync<JsonElement>($"/v1/therapies?q={Uri.EscapeDataString(name)}&limit=100");
            if (!page.GetProperty("items").EnumerateArray().Any(i => i.GetProperty("slug").GetString() == slug))
            {
                missed.Add($"{name} -> {slug}");
            }
        }

        Assert.True(names.Count >= 40, $"only {names.Count} other names");
        Assert.Empty(missed);
    }

    [Theory]
    [InlineData("Lenmeldy", "libmeldy")]   // the US brand of Libmeldy
    [InlineData("Upstaza", "kebilidi")]    // the EU brand of Kebilidi
    [InlineData("Durveqtix", "beqvez")]    // the EU brand of Beqvez
    [InlineData("CTL019", "kymriah")]      // a code name trial-minded users type
    public async Task A_regional_brand_or_code_name_finds_the_product_first(string name, string slug)
    {
        var page = await api.CreateClient().GetFromJsonAsync<JsonElement>($"/v1/therapies?q={name}&status=any");

        Assert.Equal(slug, page.GetProperty("items")[0].GetProperty("slug").GetString());
    }

    /// <summary>The hyphenated 10-digit NDC in the 5-4-2 billing form, by the segment that is short.</summary>
    private static string ElevenDigit(string ndc)
    {
        var parts = ndc.Split('-');
        return (parts[0].Length, parts[1].Length, parts[2].Length) switch
        {
            (4, 4, 2) => $"0{parts[0]}-{parts[1]}-{parts[2]}",
            (5, 3, 2) => $"{parts[0]}-0{parts[1]}-{parts[2]}",
            (5, 4, 1) => $"{parts[0]}-{parts[1]}-0{parts[2]}",
            _ => "not a 10-digit NDC",
        };
    }

    private async Task<List<JsonElement>> ExportAsync()
    {
        var body = await api.CreateClient().GetStringAsync("/v1/export");
        return [.. body.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement)];
    }

    [GeneratedRegex(@"^https?://[^\s]+$")]
    private static partial Regex Url();

    [GeneratedRegex(@"^BLA \d{6}$")]
    private static partial Regex Bla();
}
