using Microsoft.Net.Http.Headers;

namespace TherapyCatalog.Api.Infrastructure;

/// <summary>Conditional requests (RFC 9110 §13): If-Match for writes, If-None-Match for reads.</summary>
public static class EntityTags
{
    /// <summary>True when the request has no If-Match, or one that names <paramref name="current"/> (or "*"), by strong comparison.</summary>
    public static bool IfMatchAllows(HttpRequest request, string current)
    {
        var header = request.Headers.IfMatch;
        if (header.Count == 0)
        {
            return true;
        }

        return EntityTagHeaderValue.TryParseList(header, out var tags)
               && tags.Any(t => t.Equals(EntityTagHeaderValue.Any) || (!t.IsWeak && t.Tag == current));
    }

    /// <summary>True when If-None-Match names <paramref name="current"/> (or "*"), by weak comparison: the client's copy is current.</summary>
    public static bool IfNoneMatchHits(HttpRequest request, string current)
    {
        var header = request.Headers.IfNoneMatch;
        return header.Count > 0
               && EntityTagHeaderValue.TryParseList(header, out var tags)
               && tags.Any(t => t.Equals(EntityTagHeaderValue.Any) || t.Tag == current);
    }
}
