using Dapper;
using TherapyCatalog.Api.Conditions;
using TherapyCatalog.Tests.Infrastructure;

namespace TherapyCatalog.Tests.Conditions;

/// <summary>
/// The matcher splits what was typed into words with <see cref="ConditionMatcher.WordSeparator"/>,
/// and the vocabulary (migration 0002, <c>condition_words</c>) was split with
/// <c>[^[:alnum:]]+</c>: the two must cut every text at the same places, or a typed word would
/// never equal a vocabulary word it should.
/// </summary>
public class WordSeparatorTests(CatalogApiFactory api) : IClassFixture<CatalogApiFactory>
{
    private static readonly string[] Tricky =
    [
        "non_hodgkin lymphoma", "b-cell", "sjögren's syndrome", "ÉPIDERMOLYSE bulleuse", "straße", "lymphoma (DLBCL)",
        "type 2", "c83.3", "a__b", "  leading and trailing  ", "tab\there", "ünïcödé—dash", "数字 3", "x", "_", "",
    ];

    [Fact]
    public async Task The_separator_splits_every_term_and_tricky_text_like_the_vocabulary_does()
    {
        await using var db = await api.OpenDatabaseAsync();
        var terms = (await db.QueryAsync<string>("SELECT term_lower FROM condition_terms")).ToList();
        Assert.NotEmpty(terms);

        var differing = (await db.QueryAsync<string>("""
            SELECT t FROM unnest(@Texts::text[]) AS t
            WHERE regexp_split_to_array(t, @Separator) IS DISTINCT FROM regexp_split_to_array(t, '[^[:alnum:]]+')
            """, new { Texts = terms.Concat(Tricky).ToArray(), Separator = ConditionMatcher.WordSeparator })).ToList();

        Assert.Empty(differing);
    }

    [Fact]
    public async Task A_separator_that_keeps_underscores_would_be_caught()
    {
        await using var db = await api.OpenDatabaseAsync();
        var differs = await db.ExecuteScalarAsync<bool>(
            "SELECT regexp_split_to_array(@Text, '\\W+') IS DISTINCT FROM regexp_split_to_array(@Text, '[^[:alnum:]]+')",
            new { Text = "non_hodgkin lymphoma" });

        Assert.True(differs);
    }
}
