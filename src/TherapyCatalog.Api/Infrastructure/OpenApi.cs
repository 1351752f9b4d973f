using Microsoft.OpenApi;

namespace TherapyCatalog.Api.Infrastructure;

public static class OpenApi
{
    public const string DocumentPath = "/openapi/v1.json";

    public static IServiceCollection AddCatalogOpenApi(this IServiceCollection services)
    {
        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen(options =>
        {
            options.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "Therapy Catalog",
                Version = "v1",
                Description = "The catalog of approved cell and gene therapy products: classification, indications per regulator, approvals, prices where public, and the sources of every fact.",
            });
        });
        return services;
    }

    public static IApplicationBuilder UseCatalogOpenApi(this IApplicationBuilder app)
    {
        app.UseSwagger(options => options.RouteTemplate = "openapi/{documentName}.json");
        app.UseSwaggerUI(options =>
        {
            options.RoutePrefix = "swagger";
            options.SwaggerEndpoint(DocumentPath, "Therapy Catalog v1");
            options.DocumentTitle = "Therapy Catalog API";
        });
        return app;
    }
}
