using System.Data;
using System.Globalization;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using TherapyCatalog.Api.Infrastructure;
using TherapyCatalog.Api.Sync;
using M = Hl7.Fhir.Model;

namespace TherapyCatalog.Api.Fhir;

/// <summary>
/// <c>GET /fhir/r4/MedicationKnowledge/_history</c>: the change feed of <c>GET /v1/changes</c> (its
/// very query, see <see cref="ChangesApi"/>) as a type-level history Bundle, oldest change first.
/// Every page, an empty one too, has a <c>next</c> link carrying the feed position, which only moves
/// past transactions that have ended: a poller that always follows the last <c>next</c> link never
/// misses a late commit. <c>_since</c> leaves out changes made before an instant, for a first call.
/// </summary>
public static class FhirHistory
{
    public static readonly PageLimits Limits = new(Default: 100, Max: 1000);



    public static async Task<IResult> History(
        NpgsqlDataSource dataSource, OpaqueCursor cursors, IOptions<CatalogOptions> options, HttpContext http, CancellationToken ct)
    {
        var query = http.Request.Query;
        var strict = http.Request.Headers["Prefer"].Any(p => p?.Replace(" ", "", StringComparison.Ordinal).Contains("handling=strict", StringComparison.OrdinalIgnoreCase) == true);
        string[] known = ["_since", "_count", "_cursor", "_format"];
        if (strict && query.Keys.FirstOrDefault(k => !known.Contains(k)) is { } unknown)
        {
            return FhirResponses.Error(StatusCodes.Status400BadRequest, M.OperationOutcome.IssueType.NotSupported,
                $"Unknown parameter '{unknown}' (Prefer: handling=strict). Supported: {string.Join(", ", known)}.");
        }

        var errors = new Dictionary<string, string[]>();
        var take = Limits.Take(query["_count"].FirstOrDefault(), errors);
        if (errors.Count > 0)
        {
            return FhirResponses.Error(StatusCodes.Status400BadRequest, M.OperationOutcome.IssueType.Invalid,
                $"_count must be a whole number from 1 to {Limits.Max}.");
        }

        DateTimeOffset? since = null;
        if (query["_since"].FirstOrDefault() is { } sinceText)
        {
            if (!DateTimeOffset.TryParse(sinceText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed) || !sinceText.Contains('T', StringComparison.Ordinal))
            {
                return FhirResponses.Error(StatusCodes.Status400BadRequest, M.OperationOutcome.IssueType.Invalid,
                    $"_since '{sinceText}' is not a FHIR instant (e.g. 2026-12-01T00:00:00Z).");
            }

            since = parsed;
        }

        var position = ChangeFeedPosition.Start;
        if (query["_cursor"].FirstOrDefault() is { } cursorText)
        {
            if (ChangeFeedPosition.Decode(cursors, cursorText) is not { } decoded)
            {
                return FhirResponses.Error(StatusCodes.Status400BadRequest, M.OperationOutcome.IssueType.Invalid,
                    "_cursor is not one this server handed out (in a next link), unaltered.");
            }

            position = decoded;
        }

        IReadOnlyList<ChangesApi.ChangeRow> rows;
        ChangeFeedPosition next;
        await using (var db = await dataSource.OpenConnectionAsync(ct))
        {
            // The JSON feed's own page read: one snapshot for the page and its next position.
            (rows, next) = await ChangesApi.ReadPageAsync(db, position, take, ct);
        }

        var publicBase = options.Value.PublicBaseUrl;
        var bundle = new M.Bundle { Type = M.Bundle.BundleType.History, Meta = new M.Meta { LastUpdated = DateTimeOffset.UtcNow } };
        bundle.Link.Add(new M.Bundle.LinkComponent { Relation = "self", Url = FhirApi.Link(publicBase, "MedicationKnowledge/_history" + http.Request.QueryString.Value) });
        var nextQuery = new List<string>();
        if (since is not null)
        {
            nextQuery.Add("_since=" + Uri.EscapeDataString(query["_since"].ToString()));
        }

        if (query["_count"].Count > 0)
        {
            nextQuery.Add("_count=" + take.ToString(CultureInfo.InvariantCulture));
        }

        nextQuery.Add("_cursor=" + Uri.EscapeDataString(next.Encode(cursors)));
        bundle.Link.Add(new M.Bundle.LinkComponent { Relation = "next", Url = FhirApi.Link(publicBase, "MedicationKnowledge/_history?" + string.Join("&", nextQuery)) });

        foreach (var row in rows)
        {
            var changedAt = new DateTimeOffset(DateTime.SpecifyKind(row.ChangedAt, DateTimeKind.Utc));
            if (since is { } from && changedAt < from)
            {
                continue;
            }

            var id = row.TherapyId.ToString();
            var version = row.Version.ToString(CultureInfo.InvariantCulture);
            var deleted = row.Kind == "delete";
            bundle.Entry.Add(new M.Bundle.EntryComponent
            {
                FullUrl = FhirApi.Link(publicBase, "MedicationKnowledge/" + id),
                Resource = deleted ? null : MedicationKnowledgeMap.From(FhirApi.Parse(row.Document)),
                Request = new M.Bundle.RequestComponent
                {
                    Method = deleted ? M.Bundle.HTTPVerb.DELETE : M.Bundle.HTTPVerb.PUT,
                    Url = "MedicationKnowledge/" + id,
                },
                Response = new M.Bundle.ResponseComponent
                {
                    Status = deleted ? "204" : row.Version == 1 ? "201" : "200",
                    Etag = $"W/\"{version}\"",
                    LastModified = changedAt,
                },
            });
        }

        return FhirResponses.Resource(bundle);
    }
}
