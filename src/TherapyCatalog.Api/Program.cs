using Microsoft.Extensions.Options;
using TherapyCatalog.Api.ApiKeys;
using TherapyCatalog.Api.Conditions;
using TherapyCatalog.Api.Fhir;
using TherapyCatalog.Api.Health;
using TherapyCatalog.Api.Infrastructure;
using TherapyCatalog.Api.Sync;
using TherapyCatalog.Api.Therapies;

var builder = WebApplication.CreateBuilder(args);
builder.WebHost.ConfigureCatalogKestrel();

builder.Services.AddCatalogOptions(builder.Configuration, builder.Environment);
builder.Services.ConfigureHttpJsonOptions(options => CatalogJson.Configure(options.SerializerOptions));
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddCatalogDatabase(builder.Configuration);
builder.Services.AddDatabaseGate();
builder.Services.AddSingleton(sp => OpaqueCursor.FromOptions(sp.GetRequiredService<IOptions<CatalogOptions>>().Value));
builder.Services.AddCatalogProblemDetails();
builder.Services.AddCatalogForwardedHeaders();
builder.Services.AddCatalogValidation();
builder.Services.AddCatalogApiKeys();
builder.Services.AddCatalogCors();
builder.Services.AddCatalogRateLimits();
builder.Services.AddCatalogResponseCache();
builder.Services.AddCatalogHealthChecks();
builder.Services.AddCatalogOpenApi();
builder.Services.AddCatalogMetrics(builder.Configuration);
builder.Services.AddChangeSignal();
// Features; their data files load in this order (conditions before the therapies that name them).
builder.Services.AddConditions();
builder.Services.AddTherapies();
builder.Services.AddSync();

var app = builder.Build();

// Migrations and catalog data (and, with --migrate-only, nothing else), then the bootstrap API key.
if (await app.PrepareDatabaseAsync(args) == DatabasePreparation.MigrateOnly)
{
    return;
}

app.UseCatalogProblemDetails();
app.UseCatalogHardening();
app.UseCatalogOpenApi();
app.UseCatalogCors();
// Authentication before the limits, so a write quota belongs to the key that authenticated.
app.UseAuthentication();
app.UseCatalogRateLimits();
app.UseAuthorization();
app.UseCatalogResponseCache();
app.MapHealth();
app.MapCatalogMetrics();
app.MapTherapies();
app.MapConditions();
app.MapSync();
app.MapApiKeys();
app.UseFhir();

app.Run();

/// <summary>The entry point, visible to the tests' WebApplicationFactory.</summary>
public partial class Program;
