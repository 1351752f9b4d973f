using System.Diagnostics;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;

namespace TherapyCatalog.Api.Infrastructure;

/// <summary>
/// Every failure leaves as an RFC 9457 problem document from here: handler results, unhandled
/// exceptions and bare status codes (404 for an unknown route, 405, 415 ...) alike.
/// </summary>
public static class Problems
{
    public const int RetryAfterSeconds = 2;

    public static IServiceCollection AddCatalogProblemDetails(this IServiceCollection services)
    {
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            var problem = context.ProblemDetails;
            problem.Detail ??= problem.Status is { } status ? DefaultDetail(status) : null;
            problem.Type ??= problem.Status switch
            {
                StatusCodes.Status429TooManyRequests => "https://www.rfc-editor.org/rfc/rfc6585#section-4",
                _ => "about:blank",
            };
            problem.Extensions["traceId"] = Activity.Current?.Id ?? context.HttpContext.TraceIdentifier;
        });
        services.AddExceptionHandler<ProblemExceptionHandler>();
        return services;
    }

    public static IApplicationBuilder UseCatalogProblemDetails(this IApplicationBuilder app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        return app;
    }

    private static string DefaultDetail(int status) => status switch
    {
        StatusCodes.Status400BadRequest => "The request is malformed.",
        StatusCodes.Status404NotFound => "Nothing exists at this address. See /swagger for the API.",
        StatusCodes.Status405MethodNotAllowed => "This address does not accept that HTTP method.",
        StatusCodes.Status406NotAcceptable => "The representation asked for in Accept is not available.",
        StatusCodes.Status413PayloadTooLarge => "The request body is larger than the service accepts.",
        StatusCodes.Status415UnsupportedMediaType => "The request body's Content-Type is not accepted here.",
        StatusCodes.Status500InternalServerError => "The service failed to answer. The failure is logged under the traceId.",
        StatusCodes.Status503ServiceUnavailable => "The catalog database cannot be reached. Retry shortly.",
        _ => ReasonPhrases.GetReasonPhrase(status),
    };

    /// <summary>Maps exceptions to problems: database outages to 503, bad requests to their 4xx.</summary>
    private sealed class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
    {
        public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
        {
            int status;
            if (exception is BadHttpRequestException badRequest)
            {
                status = badRequest.StatusCode;
            }
            else if (CatalogDatabase.IsUnavailable(exception))
            {
                logger.LogWarning("Database unavailable: {Message}", exception.Message);
                status = StatusCodes.Status503ServiceUnavailable;
                context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
            else
            {
                // Handled exceptions are not logged by the middleware (.NET 10): this is the one place they are.
                logger.LogError(exception, "Unhandled exception answering {Method} {Path}", context.Request.Method, context.Request.Path);
                status = StatusCodes.Status500InternalServerError;
            }

            context.Response.StatusCode = status;
            return await problems.TryWriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = new ProblemDetails
                {
                    Status = status,
                    Title = ReasonPhrases.GetReasonPhrase(status),
                    // A bad request's message says what was wrong with it; nothing else is shown.
                    Detail = exception is BadHttpRequestException ? exception.Message : null,
                },
            });
        }
    }
}
