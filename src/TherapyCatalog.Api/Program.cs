using TherapyCatalog.Api.Health;
using TherapyCatalog.Api.Infrastructure;
using TherapyCatalog.Api.Sync;
using TherapyCatalog.Api.Therapies;

var builder = WebApplication.CreateBuilder(args);

builder.Services.ConfigureHttpJsonOptions(options => CatalogJson.Configure(options.SerializerOptions));
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddCatalogDatabase(builder.Configuration);
builder.Services.AddSingleton(OpaqueCursor.FromConfiguration(builder.Configuration));
builder.Services.AddCatalogProblemDetails();
builder.Services.AddCatalogHealthChecks();
builder.Services.AddCatalogOpenApi();
builder.Services.AddSync();

var app = builder.Build();

if (args.Contains("--migrate-only") || app.Configuration.GetValue("Catalog:MigrateOnStartup", true))
{
    await CatalogMigrator.MigrateWhenReachableAsync(
        CatalogDatabase.ConnectionString(app.Configuration), TimeProvider.System,
        app.Logger, TimeSpan.FromSeconds(app.Configuration.GetValue("Catalog:MigrationPatienceSeconds", 30)));
    if (args.Contains("--migrate-only"))
    {
        return;
    }
}

app.UseCatalogProblemDetails();
app.UseCatalogOpenApi();
app.MapHealth();
app.MapTherapies();
app.MapSync();

app.Run();

/// <summary>The entry point, visible to the tests' WebApplicationFactory.</summary>
public partial class Program;
